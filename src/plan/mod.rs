//! The heart of ecs-srv, and pure: what each task should hold against what the zone
//! holds, exact changes out.
//!
//! How the parts fit: a [`zone::ZoneSnapshot`] holds the zone sorted by the one
//! [`ownership`] rule; [`desired`] turns a running task ([`task`]) into the record sets
//! it should have, named by [`naming`]; [`plan_changes`] compares each task's
//! [`TaskIntent`] with the snapshot, places shared sets on their names or the branches of
//! their [`tree`], moves names between routing policies ([`migrate`]), checks every name
//! against Route 53's rules ([`ledger`]) and yields typed [`unit`](mod@unit)s of exact changes; the
//! whole SRV sets follow from the zone after them ([`whole_sets`]); [`batch`] packs units
//! into ChangeBatches. The event path, the reconcile, its dry run, `status` and `purge`
//! all plan here and differ only in where the intents come from and whether the changes
//! are sent.
//!
//! Changes are exact by construction. A set that must change is deleted with the content
//! the zone holds and created anew in the same batch, so a concurrent writer makes the
//! batch fail instead of being overwritten. A withdrawal deletes what the zone holds for
//! the task, never what an event says it should hold.

pub(crate) mod aliases;
pub mod batch;
pub mod desired;
pub(crate) mod intent;
pub(crate) mod ledger;
pub(crate) mod migrate;
pub mod naming;
pub mod ownership;
pub mod records;
pub(crate) mod regional;
pub mod task;
pub mod tree;
pub mod unit;
pub(crate) mod whole_sets;
pub mod zone;

use std::collections::{BTreeMap, BTreeSet};

pub use intent::{task_changes, TaskIntent};

use crate::plan::ledger::{ConflictError, NameLedger};
use crate::plan::naming::ZoneNaming;
use crate::plan::records::RecordSet;
use crate::plan::unit::{Unit, UnitKind};
use crate::plan::zone::ZoneSnapshot;

/// The planned changes of one invocation or reconcile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Units with changes to send, in order: names that become trees or change routing
    /// policy first, then the tasks.
    pub units: Vec<Unit>,
    /// Tasks whose records already match what they should be.
    pub unchanged: Vec<String>,
    /// Units that cannot be written to this zone, with the reason.
    pub refused: BTreeMap<UnitKind, ConflictError>,
    /// One-off tasks kept out of shared names that a service's tasks hold, with those
    /// names: they are published under their own task name only.
    pub confined: BTreeMap<String, Vec<String>>,
    /// The zone as it stands once every unit applies.
    pub after: ZoneSnapshot,
}

impl Plan {
    /// Every planned change, in order.
    pub fn changes(&self) -> Vec<crate::plan::records::Change> {
        self.units
            .iter()
            .flat_map(|unit| unit.changes.iter().cloned())
            .collect()
    }
}

/// Plans every task against one snapshot. Units are admitted in order against Route 53's
/// per-name rules and ecs-srv's own (one cluster per name, one deployment per task, no
/// one-off task in a service's name), counted over the zone and every unit admitted
/// before, so that a batch of them can never be refused for a quota that the plan could
/// have seen. Each task is planned against the zone as the units before it leave it (a
/// weighted set written with a new TTL changes its whole group's TTL), so that every
/// DELETE stays exact when the batch applies in order.
pub fn plan_changes(
    intents: &[(String, TaskIntent)],
    snapshot: &ZoneSnapshot,
    naming: &ZoneNaming,
) -> Plan {
    let mut planner = Planner {
        ledger: NameLedger::new(snapshot, naming.identity()),
        plan: Plan {
            after: snapshot.clone(),
            ..Plan::default()
        },
        naming,
    };
    // Shared sets go where they stand, or to their branch when a name outgrows 100 sets;
    // names that become trees move first, in one unit each.
    let placement = tree::placement::place_tasks(intents, &planner.plan.after);
    for unit in placement.conversions {
        planner.admit(unit);
    }
    let intents = placement.intents;
    // A name moving to another routing policy moves in one unit, before the tasks.
    for unit in migrate::policy_migrations(&intents, &planner.plan.after, naming) {
        planner.admit(unit);
    }
    let mut seen = BTreeSet::new();
    for (task_id, intent) in in_admission_order(&intents) {
        if seen.insert(task_id) {
            planner.plan_task(task_id, intent);
        }
    }
    planner.plan
}

/// Withdrawals first, so that a slot a stopping task frees is there for a new one; then
/// service members, so that a one-off task arriving beside them keeps out.
fn in_admission_order(intents: &[(String, TaskIntent)]) -> Vec<(&String, &TaskIntent)> {
    let rank = |intent: &TaskIntent| match intent {
        TaskIntent::Withdraw => 0,
        TaskIntent::Publish(sets) if !sets.iter().any(is_standalone) => 1,
        TaskIntent::Publish(_) => 2,
    };
    let mut ordered: Vec<(&String, &TaskIntent)> = intents
        .iter()
        .map(|(task, intent)| (task, intent))
        .collect();
    ordered.sort_by_key(|(_, intent)| rank(intent));
    ordered
}

/// The state of one planning run: the plan so far and the ledger that counts it.
struct Planner<'a> {
    ledger: NameLedger,
    plan: Plan,
    naming: &'a ZoneNaming,
}

impl Planner<'_> {
    fn plan_task(&mut self, task_id: &str, intent: &TaskIntent) {
        let intent = self.confine(task_id, intent);
        let changes = task_changes(self.plan.after.task_records(task_id), &intent);
        if changes.is_empty() {
            self.plan.unchanged.push(task_id.to_owned());
        } else {
            self.admit(Unit::task(task_id, changes));
        }
    }

    /// Admits a unit when its names allow it, and folds it into the zone after the plan.
    fn admit(&mut self, unit: Unit) {
        match self.ledger.admit(unit.kind.task_id(), &unit.changes) {
            Ok(()) => {
                self.plan.after.apply_changes(self.naming, &unit.changes);
                self.plan.units.push(unit);
            }
            Err(conflict) => {
                self.plan.refused.insert(unit.kind, conflict);
            }
        }
    }

    /// A one-off task's intent without its shared sets at names a service's tasks hold.
    fn confine(&mut self, task_id: &str, intent: &TaskIntent) -> TaskIntent {
        let TaskIntent::Publish(sets) = intent else {
            return intent.clone();
        };
        let (kept, confined): (Vec<RecordSet>, Vec<RecordSet>) = sets
            .iter()
            .cloned()
            .partition(|set| !(is_standalone(set) && self.ledger.holds_service(set)));
        if !confined.is_empty() {
            self.plan.confined.insert(
                task_id.to_owned(),
                confined.into_iter().map(|set| set.name).collect(),
            );
        }
        TaskIntent::Publish(kept)
    }
}

/// Whether a set is a one-off task's set at a shared name.
fn is_standalone(set: &RecordSet) -> bool {
    set.mark()
        .and_then(|mark| mark.role())
        .is_some_and(|role| role.is_standalone_shared())
}
