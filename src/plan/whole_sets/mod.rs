//! Whole SRV sets, pure: per service and port, one simple-routing SRV record set that holds
//! every running task, for clients that want all targets at once (HAProxy
//! `server-template`, Prometheus `dns_sd`, srv-proxy) instead of Route 53's one weighted
//! pick per query.
//!
//! A whole set is derived state: it is always rebuilt from the owned routed SRV sets of its
//! sibling name (see [`ZoneNaming::whole_set_name`]) in the zone as it stands after the
//! task changes, and written by compare-and-swap (the DELETE names the set as read). Past
//! one record set it is split into [`shards`].

mod shards;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::batch::BatchLimits;
use crate::plan::ledger::{ConflictError, NameLedger};
use crate::plan::naming::ZoneNaming;
use crate::plan::records::{Change, RecordSet, RecordType, Routing};
use crate::plan::tree::names::{branch_name, branch_of, tree_root, MAX_BRANCHES};
use crate::plan::unit::{Unit, UnitKind};
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

/// The whole-set changes that follow some task changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WholeSetPlan {
    /// Swap units, in order, each to go in one ChangeBatch: a set's DELETE with its CREATE,
    /// or the move between one set and its shards.
    pub units: Vec<Unit>,
    /// Whole sets served as shards after these changes.
    pub sharded: Vec<ShardedSet>,
    /// Sets that cannot be written; every other set is in `units`.
    pub too_large: Vec<SetTooLarge>,
    /// Units left out because somebody else's records stand where they would write (a
    /// CNAME, or an SRV set that is not a whole set of ours): Route 53 would refuse them.
    pub refused: Vec<ConflictError>,
}

impl WholeSetPlan {
    /// Every change, in order.
    #[cfg(test)]
    pub fn changes(&self) -> Vec<Change> {
        self.units
            .iter()
            .flat_map(|unit| unit.changes.iter().cloned())
            .collect()
    }
}

/// The routed SRV names whose whole sets follow `task_changes`: the names they touch, and
/// with [`WholeSetScope::All`] every routed SRV name of `zone` and every whole set's.
pub fn followed_names(
    naming: &ZoneNaming,
    scope: WholeSetScope,
    zone: &ZoneSnapshot,
    task_changes: &[Change],
) -> BTreeSet<String> {
    let mut names = routed_srv_names(task_changes.iter().map(Change::record_set));
    if scope == WholeSetScope::All {
        names.extend(routed_srv_names(zone.owned_sets()));
        // A set whose every task is gone is repaired (deleted) too.
        names.extend(
            zone.whole_sets
                .keys()
                .filter_map(|name| naming.routed_srv_name(name)),
        );
    }
    names
}

/// The changes that make the whole sets of `names` (routed SRV names) match the owned
/// sets of `zone`: nothing where they match, a CREATE for a new set, a DELETE for an
/// emptied one, and DELETE-then-CREATE where the set changed. Past one record set
/// ([`MAX_SET_VALUES`] values and [`MAX_SET_CHARS`] characters) a set is served as shards;
/// the shards are created before the one set is deleted, so the name never answers empty,
/// and they fold back into one set once half a set holds them all.
pub fn plan_whole_sets(
    naming: &ZoneNaming,
    names: &BTreeSet<String>,
    zone: &ZoneSnapshot,
) -> WholeSetPlan {
    let mut plan = WholeSetPlan::default();
    for routed_name in names {
        if let Some(name) = naming.whole_set_name(routed_name) {
            WholeSet::read(zone, routed_name, name).plan_into(&mut plan);
        }
    }
    admit_through_ledger(&mut plan, NameLedger::new(zone, naming.identity()));
    plan
}

/// Holds the whole-set units to the same rules as a task's: the name ledger refuses a
/// unit that Route 53 would refuse beside somebody else's records, so that no batch is sent
/// only to fail, and the refusal says what to do.
fn admit_through_ledger(plan: &mut WholeSetPlan, mut ledger: NameLedger) {
    let units = std::mem::take(&mut plan.units);
    for unit in units {
        match ledger.admit(None, &unit.changes) {
            Ok(()) => plan.units.push(unit),
            Err(refusal) => plan.refused.push(refusal),
        }
    }
}

/// One whole set: what its routed name's members say it should hold, and what the zone
/// holds of it.
struct WholeSet<'a> {
    name: String,
    values: Vec<String>,
    ttl: u32,
    held_one: Option<&'a RecordSet>,
    held_shards: BTreeMap<usize, &'a RecordSet>,
}

impl<'a> WholeSet<'a> {
    fn read(zone: &'a ZoneSnapshot, routed_name: &str, name: String) -> Self {
        let members: Vec<&RecordSet> = zone
            .owned_sets()
            .filter(|set| set.record_type == RecordType::Srv && tree_root(&set.name) == routed_name)
            .collect();
        let mut values: Vec<String> = members
            .iter()
            .flat_map(|set| set.values.iter().cloned())
            .collect();
        values.sort();
        values.dedup();
        let held_shards = zone
            .whole_sets
            .iter()
            .filter_map(|(held, set)| {
                branch_of(held)
                    .filter(|(root, _)| *root == name)
                    .map(|(_, k)| (k, set))
            })
            .collect();
        WholeSet {
            ttl: members.first().map_or(0, |first| first.ttl),
            held_one: zone.whole_sets.get(&name),
            held_shards,
            values,
            name,
        }
    }

    fn set_of(&self, name: String, values: Vec<String>) -> RecordSet {
        RecordSet {
            name,
            record_type: RecordType::Srv,
            routing: Routing::Simple,
            ttl: self.ttl,
            values,
            alias: None,
        }
    }

    /// Whether the values fit one set, and (when shards stand) whether folding them back
    /// fits: folding deletes every shard and creates the one set in one request, so it
    /// waits until half a set holds them all and the whole move fits one request (a
    /// reconcile may find far fewer targets than the shards hold).
    fn stays_one(&self) -> bool {
        let chars: usize = self.values.iter().map(String::len).sum();
        let fits_one = self.values.len() <= MAX_SET_VALUES && chars <= MAX_SET_CHARS;
        if self.values.is_empty() || (fits_one && self.held_shards.is_empty()) {
            return true;
        }
        let limits = BatchLimits::ROUTE53;
        let shard_values: usize = self.held_shards.values().map(|set| set.values.len()).sum();
        let shard_chars: usize = self.held_shards.values().map(|set| set.value_chars()).sum();
        fits_one
            && self.values.len() <= MAX_SET_VALUES / 2
            && chars <= MAX_SET_CHARS / 2
            && shard_values + self.values.len() <= limits.values
            && shard_chars + chars <= limits.value_chars
    }

    fn plan_into(self, plan: &mut WholeSetPlan) {
        if self.stays_one() {
            self.plan_one(plan);
        } else {
            self.plan_shards(plan);
        }
    }

    /// One set (or none): the shards, if any, fold into it in one unit.
    fn plan_one(self, plan: &mut WholeSetPlan) {
        let mut changes: Vec<Change> = self
            .held_shards
            .values()
            .map(|set| Change::Delete((*set).clone()))
            .collect();
        let wanted =
            (!self.values.is_empty()).then(|| self.set_of(self.name.clone(), self.values.clone()));
        changes.extend(swap(self.held_one, wanted));
        if !changes.is_empty() {
            plan.units.push(unit(&self.name, changes));
        }
    }

    fn plan_shards(self, plan: &mut WholeSetPlan) {
        let Some(shards) = shards::shard(&self.values, &self.held_shards) else {
            plan.too_large.push(SetTooLarge {
                name: self.name,
                count: self.values.len(),
            });
            return;
        };
        let indexes: BTreeSet<usize> = self
            .held_shards
            .keys()
            .chain(shards.keys())
            .copied()
            .collect();
        for k in indexes {
            let shard_name = branch_name(&self.name, k);
            let wanted = shards
                .get(&k)
                .map(|values| self.set_of(shard_name.clone(), values.clone()));
            let changes = swap(self.held_shards.get(&k).copied(), wanted);
            if !changes.is_empty() {
                plan.units.push(unit(&shard_name, changes));
            }
        }
        if let Some(held) = self.held_one {
            // Last, once the shards stand: the tree's aliases replace the one set.
            plan.units
                .push(unit(&self.name, vec![Change::Delete(held.clone())]));
        }
        plan.sharded.push(ShardedSet {
            name: self.name,
            targets: self.values.len(),
            shards: shards.len(),
        });
    }
}

/// The exact changes from what is held to what is wanted, by compare-and-swap.
fn swap(held: Option<&RecordSet>, wanted: Option<RecordSet>) -> Vec<Change> {
    match (held, wanted) {
        (Some(held), Some(wanted)) if *held == wanted => Vec::new(),
        (Some(held), Some(wanted)) => vec![Change::Delete(held.clone()), Change::Create(wanted)],
        (Some(held), None) => vec![Change::Delete(held.clone())],
        (None, Some(wanted)) => vec![Change::Create(wanted)],
        (None, None) => Vec::new(),
    }
}

fn unit(name: &str, changes: Vec<Change>) -> Unit {
    Unit {
        kind: UnitKind::WholeSet(name.to_owned()),
        changes,
    }
}
