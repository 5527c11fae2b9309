//! Whole SRV sets, pure: per service and port, one simple-routing SRV record set that holds
//! every running task, for clients that want all targets at once (HAProxy
//! `server-template`, Prometheus `dns_sd`, srv-proxy) instead of Route 53's one weighted
//! pick per query.
//!
//! A whole set is derived state: it is always rebuilt from the owned routed SRV sets of its
//! sibling name (see [`ZoneNaming::whole_set_name`]) in the zone as it stands after the
//! task changes, and written by compare-and-swap (the DELETE names the set as read).

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::batch::TaskChanges;
use crate::plan::naming::{branch_name, branch_of, tree_root, ZoneNaming, MAX_BRANCHES};
use crate::plan::records::{Change, RecordSet, RecordType, Routing};
use crate::plan::zone::{routed_srv_names, ZoneSnapshot};

/// Route 53 allows at most this many values in one record set.
pub const MAX_SET_VALUES: usize = 400;
/// Characters of values one whole set (or shard) may hold. A swap sends the set twice (its
/// DELETE and its CREATE), and a ChangeBatch holds 32,000 characters, so a larger simple set
/// could never be changed again.
pub const MAX_SET_CHARS: usize = 16_000;
/// Compare-and-swap attempts before giving up until the next invocation or reconcile.
pub const MAX_SWAP_ATTEMPTS: u32 = 3;

/// Why a whole SRV set cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("whole SRV set {name} would hold {count} values, more than {MAX_BRANCHES} shards hold; the weighted name keeps working; split the service to keep whole sets")]
pub struct SetTooLarge {
    /// The set's name.
    pub name: String,
    /// How many values it would hold.
    pub count: usize,
}

/// A whole set too large for one record set, served as shards.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ShardedSet {
    /// The whole set's name, `_P._tcp._all.S.Z`.
    pub name: String,
    /// Targets in all its shards.
    pub targets: usize,
    /// How many shards (`_bK._P._tcp._all.S.Z`) hold them.
    pub shards: usize,
}

impl std::fmt::Display for ShardedSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "whole SRV set {} holds {} targets, more than one record set can ({MAX_SET_VALUES} values, {MAX_SET_CHARS} characters): it answers one of its {} shards per query, drawn by size; clients that need every target at once read the shards {}",
            self.name,
            self.targets,
            self.shards,
            (0..self.shards)
                .map(|k| branch_name(&self.name, k))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Which whole sets a write brings in line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WholeSetScope {
    /// Those of the SRV names the task changes touched (the event path).
    Touched,
    /// Every one in the zone (the reconcile repairs sets it did not touch, too).
    All,
}

/// The whole-set changes that follow `task_changes` on `before`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WholeSetPlan {
    /// Swap units, in order, each to go in one ChangeBatch: a set's DELETE with its CREATE,
    /// or the move between one set and its shards.
    pub units: Vec<TaskChanges>,
    /// Whole sets served as shards after these changes.
    pub sharded: Vec<ShardedSet>,
    /// Sets that cannot be written; every other set is in `units`.
    pub too_large: Vec<SetTooLarge>,
}

impl WholeSetPlan {
    /// Every change, in order.
    pub fn changes(&self) -> Vec<Change> {
        self.units
            .iter()
            .flat_map(|unit| unit.changes.iter().cloned())
            .collect()
    }
}

/// Plans the whole sets that follow `task_changes`, made to the zone `before`, given the
/// zone `after` them. The writer passes the zone as it stands after the batches Route 53
/// accepted; the dry run passes `before` with every planned change folded in.
pub fn plan_whole_sets(
    naming: &ZoneNaming,
    scope: WholeSetScope,
    before: &ZoneSnapshot,
    task_changes: &[Change],
    after: &ZoneSnapshot,
) -> WholeSetPlan {
    let mut names = routed_srv_names(task_changes.iter().map(Change::record_set));
    if scope == WholeSetScope::All {
        names.extend(routed_srv_names(
            before.owned_sets().chain(after.owned_sets()),
        ));
        // A set whose every task is gone is repaired (deleted) too.
        names.extend(
            after
                .whole_sets
                .keys()
                .filter_map(|name| naming.routed_srv_name(name)),
        );
    }
    swaps_for(naming, &names, after)
}

/// The changes that make the whole sets of `names` (routed SRV names) match the owned
/// sets of `snapshot`: nothing where they match, a CREATE for a new set, a DELETE for an
/// emptied one, and DELETE-then-CREATE where the set changed.
///
/// A whole set holds every target while one record set can ([`MAX_SET_VALUES`] values and
/// [`MAX_SET_CHARS`] characters). Past that it is split into shards `_bK._P._tcp._all.S.Z`,
/// simple sets of the same shape, and `_P._tcp._all.S.Z` becomes the root of a tree whose
/// aliases are weighted by shard size (`tree.rs`): every target stays reachable, one shard
/// per answer. A target keeps its shard; new targets join the smallest shard with room.
/// The shards are created before the one set is deleted, so the name never answers empty,
/// and they fold back into one set once half a set holds them all.
pub fn swaps_for(
    naming: &ZoneNaming,
    names: &BTreeSet<String>,
    snapshot: &ZoneSnapshot,
) -> WholeSetPlan {
    let mut plan = WholeSetPlan::default();
    for routed_name in names {
        let Some(name) = naming.whole_set_name(routed_name) else {
            continue;
        };
        let members: Vec<&RecordSet> = snapshot
            .owned_sets()
            .filter(|set| set.record_type == RecordType::Srv && tree_root(&set.name) == routed_name)
            .collect();
        let mut values: Vec<String> = members
            .iter()
            .flat_map(|set| set.values.iter().cloned())
            .collect();
        values.sort();
        values.dedup();
        let ttl = members.first().map_or(0, |first| first.ttl);
        let held_one = snapshot.whole_sets.get(&name);
        let held_shards: BTreeMap<usize, &RecordSet> = snapshot
            .whole_sets
            .iter()
            .filter_map(|(held, set)| {
                branch_of(held)
                    .filter(|(root, _)| *root == name)
                    .map(|(_, k)| (k, set))
            })
            .collect();
        let chars: usize = values.iter().map(String::len).sum();
        let fits_one = values.len() <= MAX_SET_VALUES && chars <= MAX_SET_CHARS;
        // Folding deletes every shard and creates the one set in one request, so it waits
        // until both fit one (a reconcile may find far fewer targets than the shards hold).
        let shard_values: usize = held_shards.values().map(|set| set.values.len()).sum();
        let shard_chars: usize = held_shards.values().map(|set| set.value_chars()).sum();
        let folds = values.len() <= MAX_SET_VALUES / 2
            && chars <= MAX_SET_CHARS / 2
            && shard_values + values.len() <= crate::plan::batch::BatchLimits::ROUTE53.values
            && shard_chars + chars <= crate::plan::batch::BatchLimits::ROUTE53.value_chars;
        let set_of = |name: String, values: Vec<String>| RecordSet {
            name,
            record_type: RecordType::Srv,
            routing: Routing::Simple,
            ttl,
            values,
            alias: None,
        };
        let unit = |changes: Vec<Change>| TaskChanges {
            task_id: name.clone(),
            changes,
        };
        if values.is_empty() || (fits_one && (held_shards.is_empty() || folds)) {
            // One set (or none): the shards, if any, fold into it in one unit.
            let mut changes: Vec<Change> = held_shards
                .values()
                .map(|s| Change::Delete((*s).clone()))
                .collect();
            let wanted = (!values.is_empty()).then(|| set_of(name.clone(), values));
            match (held_one, wanted) {
                (Some(held), Some(wanted)) if *held == wanted => {}
                (Some(held), Some(wanted)) => {
                    changes.push(Change::Delete(held.clone()));
                    changes.push(Change::Create(wanted));
                }
                (Some(held), None) => changes.push(Change::Delete(held.clone())),
                (None, Some(wanted)) => changes.push(Change::Create(wanted)),
                (None, None) => {}
            }
            if !changes.is_empty() {
                plan.units.push(unit(changes));
            }
            continue;
        }
        let Some(shards) = shard(&values, &held_shards) else {
            plan.too_large.push(SetTooLarge {
                name,
                count: values.len(),
            });
            continue;
        };
        let indexes: BTreeSet<usize> = held_shards.keys().chain(shards.keys()).copied().collect();
        for k in indexes {
            let wanted = shards
                .get(&k)
                .map(|values| set_of(branch_name(&name, k), values.clone()));
            let changes = match (held_shards.get(&k), wanted) {
                (Some(held), Some(wanted)) if **held == wanted => continue,
                (Some(held), Some(wanted)) => {
                    vec![Change::Delete((*held).clone()), Change::Create(wanted)]
                }
                (Some(held), None) => vec![Change::Delete((*held).clone())],
                (None, Some(wanted)) => vec![Change::Create(wanted)],
                (None, None) => continue,
            };
            plan.units.push(TaskChanges {
                task_id: branch_name(&name, k),
                changes,
            });
        }
        if let Some(held) = held_one {
            // Last, once the shards stand: the tree's aliases replace the one set.
            plan.units.push(unit(vec![Change::Delete(held.clone())]));
        }
        plan.sharded.push(ShardedSet {
            name,
            targets: values.len(),
            shards: shards.len(),
        });
    }
    plan
}

/// Splits a whole set's values into shards that each fit one record set: values keep the
/// shard that holds them, and a new value joins the shard with the fewest values that has
/// room, or opens the lowest free one. `None` past [`MAX_BRANCHES`] shards.
fn shard(
    values: &[String],
    held: &BTreeMap<usize, &RecordSet>,
) -> Option<BTreeMap<usize, Vec<String>>> {
    let wanted: BTreeSet<&String> = values.iter().collect();
    let mut shards: BTreeMap<usize, Vec<String>> = held
        .iter()
        .map(|(k, set)| {
            let kept = set.values.iter().filter(|v| wanted.contains(v)).cloned();
            (*k, kept.collect())
        })
        .collect();
    let placed: BTreeSet<String> = shards.values().flatten().cloned().collect();
    for value in values.iter().filter(|v| !placed.contains(*v)) {
        let room = |held: &Vec<String>| {
            held.len() < MAX_SET_VALUES
                && held.iter().map(String::len).sum::<usize>() + value.len() <= MAX_SET_CHARS
        };
        let k = shards
            .iter()
            .filter(|(_, held)| room(held))
            .min_by_key(|(k, held)| (held.len(), **k))
            .map(|(k, _)| *k)
            .or_else(|| (0..MAX_BRANCHES).find(|k| !shards.contains_key(k)))?;
        shards.entry(k).or_default().push(value.clone());
    }
    shards.retain(|_, values| !values.is_empty());
    for values in shards.values_mut() {
        values.sort();
    }
    Some(shards)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APEX: &str = "ecs.internal.";

    fn naming() -> ZoneNaming {
        ZoneNaming::new(APEX, "ecs-srv")
    }

    fn srv(name: &str, routing: Routing, values: &[&str]) -> RecordSet {
        RecordSet {
            name: name.to_owned(),
            record_type: RecordType::Srv,
            routing,
            ttl: 10,
            values: values.iter().map(|v| v.to_string()).collect(),
            alias: None,
        }
    }

    /// Task `task`'s weighted SRV set of the service `web`.
    fn member(task: usize) -> RecordSet {
        let value = format!("1 256 80 {task:032x}.web.ecs.internal.");
        srv(
            "_web._tcp.web.ecs.internal.",
            Routing::Weighted {
                set_identifier: format!("x:{task}"),
                weight: 1,
            },
            &[&value],
        )
    }

    #[test]
    fn set_names_sit_beside_the_weighted_name() {
        let naming = naming();
        assert_eq!(
            naming
                .whole_set_name("_web._tcp.web.ecs.internal.")
                .as_deref(),
            Some("_web._tcp._all.web.ecs.internal.")
        );
        assert_eq!(
            naming
                .routed_srv_name("_web._tcp._all.web.ecs.internal.")
                .as_deref(),
            Some("_web._tcp.web.ecs.internal.")
        );
        assert_eq!(naming.whole_set_name("web.ecs.internal."), None);
        assert_eq!(naming.whole_set_name("_web._tcp.web.other.zone."), None);
    }

    #[test]
    fn only_sets_aimed_at_the_services_tasks_are_ours() {
        let naming = naming();
        let values = |v: &str| vec![v.to_owned()];
        assert!(naming.is_whole_set(
            "_web._tcp._all.web.ecs.internal.",
            &values("1 1 80 abc.web.ecs.internal.")
        ));
        assert!(!naming.is_whole_set(
            "_web._tcp._all.web.ecs.internal.",
            &values("1 1 80 db.example.com.")
        ));
        assert!(!naming.is_whole_set(
            "_web._tcp.web.ecs.internal.",
            &values("1 1 80 abc.web.ecs.internal.")
        ));
    }

    #[test]
    fn swaps_follow_the_weighted_sets() {
        let naming = naming();
        let weighted = |task: &str, value: &str| {
            srv(
                "_web._tcp.web.ecs.internal.",
                Routing::Weighted {
                    set_identifier: format!("ecs-srv:{task}:srv:0"),
                    weight: 1,
                },
                &[value],
            )
        };
        let mut snapshot = ZoneSnapshot::default();
        snapshot.owned.insert(
            "a".into(),
            vec![weighted("a", "1 1 80 a.web.ecs.internal.")],
        );
        snapshot.owned.insert(
            "b".into(),
            vec![weighted("b", "1 1 81 b.web.ecs.internal.")],
        );
        let names = BTreeSet::from(["_web._tcp.web.ecs.internal.".to_owned()]);
        let created = swaps_for(&naming, &names, &snapshot).changes();
        assert_eq!(created.len(), 1);
        let Change::Create(set) = &created[0] else {
            panic!("{created:?}")
        };
        assert_eq!(set.values.len(), 2);

        snapshot.whole_sets.insert(set.name.clone(), set.clone());
        assert!(
            swaps_for(&naming, &names, &snapshot).changes().is_empty(),
            "nothing when it matches"
        );

        snapshot.owned.remove("b");
        let swapped = swaps_for(&naming, &names, &snapshot).changes();
        assert!(
            matches!(&swapped[..], [Change::Delete(old), Change::Create(new)] if old.values.len() == 2 && new.values.len() == 1)
        );

        snapshot.owned.clear();
        assert!(matches!(
            &swaps_for(&naming, &names, &snapshot).changes()[..],
            [Change::Delete(_)]
        ));
        let all = plan_whole_sets(&naming, WholeSetScope::All, &snapshot, &[], &snapshot);
        assert!(
            matches!(&all.changes()[..], [Change::Delete(_)]),
            "a reconcile deletes a whole set whose tasks are all gone: {all:?}"
        );
    }

    #[test]
    fn a_set_past_one_record_set_is_sharded_and_targets_keep_their_shard() {
        let naming = naming();
        let mut snapshot = ZoneSnapshot::default();
        for task in 0..MAX_SET_VALUES {
            snapshot
                .owned
                .insert(format!("t{task}"), vec![member(task)]);
        }
        let names = BTreeSet::from(["_web._tcp.web.ecs.internal.".to_owned()]);
        let plan = swaps_for(&naming, &names, &snapshot);
        assert!(plan.too_large.is_empty());
        let shards: Vec<RecordSet> = plan
            .changes()
            .into_iter()
            .filter_map(|c| match c {
                Change::Create(set) => Some(set),
                Change::Delete(_) => None,
            })
            .collect();
        assert!(
            shards.len() >= 2,
            "400 targets of 58 characters need two shards"
        );
        for shard in &shards {
            assert!(shard.value_chars() <= MAX_SET_CHARS && shard.values.len() <= MAX_SET_VALUES);
            assert_eq!(
                naming.routed_srv_name(&shard.name).as_deref(),
                Some("_web._tcp.web.ecs.internal.")
            );
            assert!(naming.is_whole_set(&shard.name, &shard.values));
        }
        assert_eq!(plan.sharded[0].targets, MAX_SET_VALUES);
        assert!(plan.sharded[0]
            .to_string()
            .contains("_b1._web._tcp._all.web.ecs.internal."));
        for shard in &shards {
            snapshot
                .whole_sets
                .insert(shard.name.clone(), shard.clone());
        }
        snapshot.owned.insert("new".into(), vec![member(9_999)]);
        let next = swaps_for(&naming, &names, &snapshot);
        assert!(
            matches!(&next.changes()[..], [Change::Delete(old), Change::Create(new)] if old.name == new.name && new.values.len() == old.values.len() + 1),
            "one new target changes one shard: {:?}",
            next.changes()
        );
    }

    #[test]
    fn shards_fold_back_only_when_the_fold_fits_one_request() {
        let naming = naming();
        let names = BTreeSet::from(["_web._tcp.web.ecs.internal.".to_owned()]);
        let mut snapshot = ZoneSnapshot::default();
        for task in 0..1_000 {
            snapshot
                .owned
                .insert(format!("t{task}"), vec![member(task)]);
        }
        for set in swaps_for(&naming, &names, &snapshot)
            .changes()
            .into_iter()
            .filter_map(|c| match c {
                Change::Create(set) => Some(set),
                Change::Delete(_) => None,
            })
        {
            snapshot.whole_sets.insert(set.name.clone(), set);
        }
        // A reconcile finds 10 of the 1,000: folding would delete 58,000 characters of
        // shards and create the set in one request, which no request holds.
        snapshot.owned.retain(|task, _| task.len() == 2);
        let plan = swaps_for(&naming, &names, &snapshot);
        for unit in &plan.units {
            let chars: usize = unit
                .changes
                .iter()
                .map(|c| c.record_set().value_chars())
                .sum();
            assert!(
                chars <= 32_000,
                "every unit fits a request: {chars} in {}",
                unit.task_id
            );
        }
        assert!(!plan.sharded.is_empty(), "the shards shrink first");
        for change in plan.changes() {
            if let Change::Create(set) = change {
                snapshot.whole_sets.insert(set.name.clone(), set);
            } else if let Change::Delete(set) = change {
                snapshot.whole_sets.remove(&set.name);
            }
        }
        let next = swaps_for(&naming, &names, &snapshot);
        assert!(next.sharded.is_empty(), "then they fold: {next:?}");
    }
}
