//! What a service's names answer: the task targets a client can reach from
//! `_P._tcp.S.Z` SRV and `S.Z` A, over a view of the zone that follows every accepted
//! ChangeBatch. The answers come from the DNS front's rules (`support::answers`), the one
//! reading of Route 53 the tests share: the union over every pick (sets of weight zero
//! beside heavier ones are never picked), trees of weighted aliases followed to their
//! leaves.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_route53::types::{Change, ChangeAction, ResourceRecordSet};

use crate::support::answers::{leaf_values, AnswerIndex};
use crate::support::strict_zone::{normalise_name, Outcome, StrictZone};

type NameType = (String, String);

/// The zone's sets by name and type, brought up to date batch by batch from the zone's
/// call log, with the answer rules' index of them kept in step.
#[derive(Debug, Default)]
pub struct ZoneView {
    sets: HashMap<NameType, BTreeMap<Option<String>, ResourceRecordSet>>,
    answers: AnswerIndex,
    len: usize,
    seen_calls: usize,
}

impl ZoneView {
    /// The zone as it stands; later batches are folded in by [`Self::follow`].
    pub fn of(zone: &StrictZone) -> Self {
        let mut view = ZoneView {
            answers: AnswerIndex::new(&zone.zone_id),
            ..ZoneView::default()
        };
        for set in zone.record_sets() {
            view.insert(set);
        }
        view.seen_calls = zone.calls.len();
        view
    }

    /// Record sets in the view.
    pub fn len(&self) -> usize {
        self.len
    }

    fn key(set: &ResourceRecordSet) -> (NameType, Option<String>) {
        (
            (normalise_name(set.name()), set.r#type().as_str().to_owned()),
            set.set_identifier().map(str::to_owned),
        )
    }

    fn insert(&mut self, set: ResourceRecordSet) {
        self.answers.insert(&set);
        let (name_type, id) = Self::key(&set);
        if self
            .sets
            .entry(name_type)
            .or_default()
            .insert(id, set)
            .is_none()
        {
            self.len += 1;
        }
    }

    fn apply(&mut self, change: &Change) {
        let Some(set) = change.resource_record_set() else {
            return;
        };
        match change.action() {
            ChangeAction::Delete => {
                self.answers.remove(set);
                let (name_type, id) = Self::key(set);
                let group = self.sets.get_mut(&name_type);
                if group.and_then(|g| g.remove(&id)).is_some() {
                    self.len -= 1;
                }
            }
            _ => self.insert(set.clone()),
        }
    }

    /// Folds in every batch the zone accepted since the view last looked, calling
    /// `after_batch` after each one; returns how many there were.
    pub fn follow(&mut self, zone: &StrictZone, mut after_batch: impl FnMut(&ZoneView)) -> usize {
        self.follow_calls(zone, |_, view| after_batch(view))
    }

    /// As [`Self::follow`], telling `after_batch` the index of the batch's call in the
    /// zone's log.
    pub fn follow_calls(
        &mut self,
        zone: &StrictZone,
        mut after_batch: impl FnMut(usize, &ZoneView),
    ) -> usize {
        let mut batches = 0;
        let start = self.seen_calls;
        for (index, call) in zone.calls.iter().enumerate().skip(start) {
            if call.operation == "ChangeResourceRecordSets" && call.outcome == Outcome::Ok {
                for change in &call.changes {
                    self.apply(change);
                }
                batches += 1;
                after_batch(index, self);
            }
        }
        self.seen_calls = zone.calls.len();
        batches
    }

    /// The sets of one name and type.
    fn at(&self, name: &str, record_type: &str) -> impl Iterator<Item = &ResourceRecordSet> {
        self.sets
            .get(&(normalise_name(name), record_type.to_owned()))
            .into_iter()
            .flat_map(BTreeMap::values)
    }

    /// Whether a name holds a set of this type.
    pub fn holds(&self, name: &str, record_type: &str) -> bool {
        self.at(name, record_type).next().is_some()
    }

    /// Sets at `name` or below it: a service's whole subtree.
    pub fn sets_under(&self, name: &str) -> usize {
        let name = normalise_name(name);
        let below = format!(".{name}");
        self.sets
            .iter()
            .filter(|((held, _), _)| *held == name || held.ends_with(&below))
            .map(|(_, group)| group.len())
            .sum()
    }

    /// Whether the view holds the same sets as the zone: names, types, SetIdentifiers,
    /// weights, values and alias targets (TTLs aside: Route 53 evens out a weighted
    /// group's TTL by itself).
    pub fn matches(&self, zone: &StrictZone) -> bool {
        let in_zone = zone.record_sets();
        in_zone.len() == self.len
            && in_zone.iter().all(|set| {
                let ((name, kind), id) = Self::key(set);
                self.sets
                    .get(&(name, kind))
                    .and_then(|group| group.get(&id))
                    .is_some_and(|held| {
                        held.resource_records() == set.resource_records()
                            && held.alias_target() == set.alias_target()
                            && held.weight() == set.weight()
                    })
            })
    }
}

/// The task targets a service's shared names answer with.
#[derive(Debug, Default)]
pub struct Answer {
    /// SRV targets (`T.S.Z.`) reachable from `_P._tcp.S.Z`.
    pub srv_targets: BTreeSet<String>,
    /// A values reachable from `S.Z`, one per leaf set and value: one per task (bridge
    /// tasks on one host share an address, so addresses would undercount).
    pub a_leaves: usize,
}

impl Answer {
    /// Tasks both names answer with at least: the smaller of the two counts.
    pub fn tasks(&self) -> usize {
        self.srv_targets.len().min(self.a_leaves)
    }
}

/// What `_P._tcp.S.Z` SRV and `S.Z` A answer with in `view`.
pub fn answer(view: &ZoneView, srv_name: &str, a_name: &str) -> Answer {
    let srv_targets = view
        .answers
        .shares(srv_name, "SRV")
        .iter()
        .flat_map(leaf_values)
        .filter_map(|value| value.rsplit(' ').next().map(normalise_name))
        .collect();
    let a_leaves = view
        .answers
        .shares(a_name, "A")
        .iter()
        .map(|leaf| leaf_values(leaf).len())
        .sum();
    Answer {
        srv_targets,
        a_leaves,
    }
}

/// The names of service `service` in the simulated zone, port label `port`.
#[derive(Clone, Debug)]
pub struct ServiceNames {
    /// `_P._tcp.S.Z.`
    pub srv: String,
    /// `S.Z.`
    pub a: String,
}

impl ServiceNames {
    /// The names of `service`'s container `port`.
    pub fn of(service: &str, port: &str) -> Self {
        let apex = crate::simulated::APEX;
        ServiceNames {
            srv: format!("_{port}._tcp.{service}.{apex}"),
            a: format!("{service}.{apex}"),
        }
    }

    /// A task's own name, `T.S.Z.`, the SRV target.
    pub fn task_name(&self, task_id: &str) -> String {
        format!("{task_id}.{}", self.a)
    }

    /// What the names answer with in `view`.
    pub fn answer(&self, view: &ZoneView) -> Answer {
        answer(view, &self.srv, &self.a)
    }
}

/// The resolver on a hand-built tree, as the core may write it past 100 tasks: weighted
/// aliases at the shared names, each to a child name of weighted sets; a child behind a
/// weight of zero is not answered while others weigh more.
#[test]
fn the_resolver_follows_a_tree_of_weighted_aliases() {
    use aws_sdk_route53::types::{AliasTarget, RrType};

    use crate::simulated::{empty_zone, record_set, ZONE_ID};

    let names = ServiceNames::of("web", "app");
    let alias = |name: &str, id: &str, weight: i64, child: &str| {
        let target = AliasTarget::builder()
            .hosted_zone_id(ZONE_ID)
            .dns_name(child)
            .evaluate_target_health(false)
            .build()
            .expect("an alias target");
        ResourceRecordSet::builder()
            .name(name)
            .r#type(if name == names.srv {
                RrType::Srv
            } else {
                RrType::A
            })
            .set_identifier(id)
            .weight(weight)
            .alias_target(target)
            .build()
            .expect("an alias set")
    };
    let mut sets = Vec::new();
    for (branch, weight) in [(0, 1), (1, 1), (2, 0)] {
        for shared in [&names.srv, &names.a] {
            let child = format!("_b{branch}.{shared}");
            sets.push(alias(shared, &format!("tree-{branch}"), weight, &child));
            for leaf in 0..3 {
                let task = format!("t{branch}{leaf}");
                let (kind, value) = if shared == &names.srv {
                    (
                        RrType::Srv,
                        format!("1 256 8080 {}", names.task_name(&task)),
                    )
                } else {
                    (RrType::A, format!("10.0.{branch}.{leaf}"))
                };
                sets.push(
                    record_set(&child, kind, 10, &[&value])
                        .set_identifier(task)
                        .weight(1)
                        .build()
                        .expect("a leaf"),
                );
            }
        }
    }
    let zone = empty_zone();
    zone.lock().unwrap().seed(sets);
    let answer = names.answer(&ZoneView::of(&zone.lock().unwrap()));
    assert_eq!(
        answer.srv_targets.len(),
        6,
        "two branches of three: {answer:?}"
    );
    assert_eq!(answer.a_leaves, 6);
    assert!(
        !answer.srv_targets.contains(&names.task_name("t20")),
        "weight 0 is not answered"
    );
}
