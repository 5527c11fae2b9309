//! The zone as ecs-srv sees it: every listed record set, sorted by who owns it (the one
//! rule, [`ownership`]), and kept true as changes apply.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::naming::ZoneNaming;
use crate::plan::ownership::{ownership, Ownership};
use crate::plan::records::{
    Change, ForeignPolicy, ForeignRecord, NameKey, RecordSet, RecordType, Routing,
};

/// What one read of the zone returned, before ownership is decided: the sets of the
/// shapes ecs-srv writes, and the rest described just enough to stay out of their way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZoneListing {
    /// A, AAAA and SRV sets with plain values and simple, weighted or multivalue routing,
    /// and weighted or latency aliases to names in the zone itself.
    pub sets: Vec<RecordSet>,
    /// Everything else (other types, aliases, other routing policies).
    pub others: Vec<ForeignRecord>,
}

/// How much of the zone a view holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Every record set (a reconcile reads the whole zone).
    Zone,
    /// The subtrees of these service names (`S.Z` and every name under it): all an
    /// invocation's tasks can touch, so its cost follows its tasks, not the zone.
    Subtrees(BTreeSet<String>),
}

impl Coverage {
    /// Whether a view of `self` holds everything a view of `needed` would.
    pub fn covers(&self, needed: &Coverage) -> bool {
        match (self, needed) {
            (Coverage::Zone, _) => true,
            (Coverage::Subtrees(_), Coverage::Zone) => false,
            (Coverage::Subtrees(held), Coverage::Subtrees(wanted)) => wanted.is_subset(held),
        }
    }

    /// What `needed` asks for beyond `self`.
    pub fn missing(&self, needed: &Coverage) -> Coverage {
        match (self, needed) {
            (Coverage::Subtrees(held), Coverage::Subtrees(wanted)) => {
                Coverage::Subtrees(wanted.difference(held).cloned().collect())
            }
            (_, needed) => needed.clone(),
        }
    }

    /// Both together.
    pub fn union(&self, other: &Coverage) -> Coverage {
        match (self, other) {
            (Coverage::Subtrees(a), Coverage::Subtrees(b)) => {
                Coverage::Subtrees(a.union(b).cloned().collect())
            }
            _ => Coverage::Zone,
        }
    }
}

/// The zone, split into the sets ecs-srv owns (by task), its whole SRV sets, and the rest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ZoneSnapshot {
    /// Owned sets, by task id, sorted.
    pub owned: BTreeMap<String, Vec<RecordSet>>,
    /// Whole SRV sets ecs-srv keeps, by name.
    pub whole_sets: BTreeMap<String, RecordSet>,
    /// The aliases of this deployment's trees, by root name and type, sorted.
    pub branches: BTreeMap<NameKey, Vec<RecordSet>>,
    /// This deployment's latency aliases at shared names (REGIONAL_NAMES), by name and type.
    pub latency: BTreeMap<NameKey, RecordSet>,
    /// Everything else in the zone.
    pub foreign: Vec<ForeignRecord>,
}

impl ZoneSnapshot {
    /// Sorts a listing by owner.
    pub fn from_listing(naming: &ZoneNaming, listing: ZoneListing) -> Self {
        let mut snapshot = ZoneSnapshot {
            foreign: listing.others,
            ..ZoneSnapshot::default()
        };
        for set in listing.sets {
            snapshot.insert(naming, set);
        }
        for sets in snapshot.owned.values_mut() {
            // A listing that repeats a set (moto re-lists a page it cannot resume inside)
            // must not count it twice.
            sets.sort();
            sets.dedup();
        }
        // Nor may subtrees read one inside the other.
        let mut seen = BTreeSet::new();
        snapshot
            .foreign
            .retain(|record| seen.insert(record.clone()));
        snapshot.leave_other_deployments_whole_sets(naming);
        snapshot
    }

    /// A whole set has no mark of its own (it is a simple set), so it belongs to the
    /// deployment whose tasks hold its routed name: one whose routed name holds the marked
    /// sets of another deployment (another owner, region, account or cluster) is theirs,
    /// and this deployment never rewrites or deletes it. A whole set whose routed name holds
    /// nobody's sets is an orphan any owner may remove.
    fn leave_other_deployments_whole_sets(&mut self, naming: &ZoneNaming) {
        let others: BTreeSet<&str> = self
            .foreign
            .iter()
            .filter(|record| {
                record
                    .set_identifier
                    .as_deref()
                    .and_then(crate::plan::naming::marks::parse_mark)
                    .is_some_and(|mark| mark.task_id().is_some())
            })
            .map(|record| crate::plan::tree::names::tree_root(&record.name))
            .collect();
        let theirs: Vec<String> = self
            .whole_sets
            .keys()
            .filter(|name| {
                naming
                    .routed_srv_name(name)
                    .is_some_and(|routed| others.contains(routed.as_str()))
            })
            .cloned()
            .collect();
        for name in theirs {
            if let Some(set) = self.whole_sets.remove(&name) {
                self.foreign.push(ForeignRecord::of(&set));
            }
        }
    }

    fn insert(&mut self, naming: &ZoneNaming, set: RecordSet) {
        match ownership(naming, &set) {
            Ownership::Task(task) => self.owned.entry(task).or_default().push(set),
            Ownership::WholeSet => {
                self.whole_sets.insert(set.name.clone(), set);
            }
            Ownership::Branch => {
                let aliases = self.branches.entry(set.name_key()).or_default();
                aliases.push(set);
                aliases.sort();
                aliases.dedup();
            }
            Ownership::Latency => {
                self.latency.insert(set.name_key(), set);
            }
            Ownership::Foreign => self.foreign.push(ForeignRecord::of(&set)),
        }
    }

    /// Adds the view of other, disjoint parts of the zone (other subtrees).
    pub fn merge(&mut self, other: ZoneSnapshot) {
        for (task, sets) in other.owned {
            let held = self.owned.entry(task).or_default();
            held.extend(sets);
            held.sort();
            held.dedup();
        }
        self.whole_sets.extend(other.whole_sets);
        self.branches.extend(other.branches);
        self.latency.extend(other.latency);
        self.foreign.extend(other.foreign);
    }

    /// The zone as it is once `changes` are applied.
    pub fn with_changes(&self, naming: &ZoneNaming, changes: &[Change]) -> ZoneSnapshot {
        let mut after = self.clone();
        after.apply_changes(naming, changes);
        after
    }

    /// Applies `changes` as Route 53 does. Changes of sets that are not ours never occur
    /// (the planner writes only owned sets), and are ignored if they do. A weighted set
    /// written with a TTL gives that TTL to every weighted set of its name and type, as
    /// Route 53 keeps one TTL per weighted group; the view follows, so that the exact
    /// DELETEs planned from it stay exact after a RECORD_TTL change.
    pub fn apply_changes(&mut self, naming: &ZoneNaming, changes: &[Change]) {
        for change in changes {
            let set = change.record_set();
            match (ownership(naming, set), change) {
                (Ownership::Task(task), Change::Delete(old)) => {
                    if let Some(sets) = self.owned.get_mut(&task) {
                        sets.retain(|held| held != old);
                    }
                }
                (Ownership::Task(task), Change::Create(new)) => {
                    if matches!(new.routing, Routing::Weighted { .. }) {
                        self.share_weighted_ttl(new);
                    }
                    let sets = self.owned.entry(task).or_default();
                    sets.push(new.clone());
                    sets.sort();
                }
                (Ownership::WholeSet, Change::Delete(old)) => {
                    if self.whole_sets.get(&old.name) == Some(old) {
                        self.whole_sets.remove(&old.name);
                    }
                }
                (Ownership::WholeSet, Change::Create(new)) => {
                    self.whole_sets.insert(new.name.clone(), new.clone());
                }
                (Ownership::Branch, Change::Delete(old)) => {
                    if let Some(aliases) = self.branches.get_mut(&old.name_key()) {
                        aliases.retain(|held| held != old);
                    }
                }
                (Ownership::Branch, Change::Create(new)) => {
                    let aliases = self.branches.entry(new.name_key()).or_default();
                    aliases.push(new.clone());
                    aliases.sort();
                }
                (Ownership::Latency, Change::Delete(old)) => {
                    if self.latency.get(&old.name_key()) == Some(old) {
                        self.latency.remove(&old.name_key());
                    }
                }
                (Ownership::Latency, Change::Create(new)) => {
                    self.latency.insert(new.name_key(), new.clone());
                }
                (Ownership::Foreign, _) => {}
            }
        }
        self.owned.retain(|_, sets| !sets.is_empty());
        self.branches.retain(|_, aliases| !aliases.is_empty());
    }

    fn share_weighted_ttl(&mut self, written: &RecordSet) {
        for sets in self.owned.values_mut() {
            let mut rewritten = false;
            for held in sets.iter_mut() {
                let same_group = held.name == written.name
                    && held.record_type == written.record_type
                    && held.alias.is_none()
                    && matches!(held.routing, Routing::Weighted { .. });
                if same_group && held.ttl != written.ttl {
                    held.ttl = written.ttl;
                    rewritten = true;
                }
            }
            if rewritten {
                sets.sort();
            }
        }
    }

    /// The owned sets of one task, empty when it has none.
    pub fn task_records(&self, task_id: &str) -> &[RecordSet] {
        self.owned
            .get(task_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Every owned task set, of every task.
    pub fn owned_sets(&self) -> impl Iterator<Item = &RecordSet> {
        self.owned.values().flatten()
    }

    /// How many record sets the zone holds in all.
    pub fn set_count(&self) -> usize {
        self.owned.values().map(Vec::len).sum::<usize>()
            + self.whole_sets.len()
            + self.branches.values().map(Vec::len).sum::<usize>()
            + self.latency.len()
            + self.foreign.len()
    }
}

/// The routed (weighted or multivalue) SRV names among some record sets: the names whose
/// whole sets follow them.
pub fn routed_srv_names<'a>(sets: impl IntoIterator<Item = &'a RecordSet>) -> BTreeSet<String> {
    sets.into_iter()
        .filter(|set| {
            set.record_type == RecordType::Srv && set.routing.is_routed() && set.alias.is_none()
        })
        .map(|set| crate::plan::tree::names::tree_root(&set.name).to_owned())
        .collect()
}

/// The tasks whose sets some changes create, by ownership.
pub fn created_for_tasks(naming: &ZoneNaming, changes: &[Change]) -> BTreeSet<String> {
    changes
        .iter()
        .filter_map(|change| match change {
            Change::Create(set) => match ownership(naming, set) {
                Ownership::Task(task) => Some(task),
                _ => None,
            },
            Change::Delete(_) => None,
        })
        .collect()
}

impl ForeignRecord {
    /// Describes a set of a type ecs-srv knows that turned out not to be ours.
    pub fn of(set: &RecordSet) -> Self {
        ForeignRecord {
            name: set.name.clone(),
            record_type: set.record_type.as_str().to_owned(),
            set_identifier: set.routing.set_identifier().map(str::to_owned),
            policy: match set.routing {
                Routing::Simple => ForeignPolicy::Simple,
                Routing::Weighted { .. } => ForeignPolicy::Weighted,
                Routing::Multivalue { .. } => ForeignPolicy::Multivalue,
                Routing::Latency { .. } => ForeignPolicy::Latency,
            },
            ttl: set.alias.is_none().then_some(set.ttl),
            region: match &set.routing {
                Routing::Latency { region, .. } => Some(region.clone()),
                _ => None,
            },
        }
    }
}
