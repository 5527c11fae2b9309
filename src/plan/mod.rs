//! The heart of ecs-srv, and pure: what each task should hold against what the zone
//! holds, exact changes out. The event path, the reconcile and its dry run all call
//! [`plan_changes`] on a [`ZoneSnapshot`]; they differ only in where the intents come from
//! and whether the changes are sent.
//!
//! Changes are exact by construction. A set that must change is deleted with the content
//! the zone holds and created anew in the same batch, so a concurrent writer makes the
//! batch fail instead of being overwritten. A withdrawal deletes what the zone holds for
//! the task, never what an event says it should hold.

pub mod batch;
pub mod desired;
pub mod ledger;
pub mod migrate;
pub mod naming;
pub mod records;
pub mod task;
pub mod tree;
pub mod whole_sets;
pub mod zone;

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::batch::TaskChanges;
use crate::plan::ledger::{ConflictError, NameLedger};
use crate::plan::naming::ZoneNaming;
use crate::plan::records::{Change, RecordSet};
use crate::plan::zone::ZoneSnapshot;

/// What should become of one task's records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskIntent {
    /// The task runs: it should have exactly these sets.
    Publish(Vec<RecordSet>),
    /// The task is draining or gone: it should have none.
    Withdraw,
}

/// The exact changes that take one task from what the zone holds to what it should hold:
/// DELETE of each held set that is not wanted as it is, CREATE of each wanted set that is
/// not held as it is. Changes come in record-key order, and a set that changes appears
/// as its DELETE directly followed by its CREATE, so the pair can never be split apart.
pub fn task_changes(held: &[RecordSet], intent: &TaskIntent) -> Vec<Change> {
    let wanted: &[RecordSet] = match intent {
        TaskIntent::Publish(sets) => sets,
        TaskIntent::Withdraw => &[],
    };
    let held_set: BTreeSet<&RecordSet> = held.iter().collect();
    let wanted_set: BTreeSet<&RecordSet> = wanted.iter().collect();
    let mut changes: Vec<Change> = held_set
        .difference(&wanted_set)
        .map(|set| Change::Delete((*set).clone()))
        .chain(
            wanted_set
                .difference(&held_set)
                .map(|set| Change::Create((*set).clone())),
        )
        .collect();
    changes.sort_by_key(|change| {
        (
            change.record_set().key(),
            matches!(change, Change::Create(_)),
        )
    });
    changes
}

impl TaskIntent {
    /// The intent's name in logs and reports.
    pub fn verb(&self) -> &'static str {
        match self {
            TaskIntent::Publish(_) => "publish",
            TaskIntent::Withdraw => "withdraw",
        }
    }
}

/// The planned changes of one invocation or reconcile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Tasks with changes to send, in intent order.
    pub tasks: Vec<TaskChanges>,
    /// Tasks whose records already match what they should be.
    pub unchanged: Vec<String>,
    /// Tasks that cannot be written to this zone, with the reason.
    pub refused: BTreeMap<String, ConflictError>,
    /// One-off tasks kept out of shared names that a service's tasks hold, with those
    /// names: they are published under their own task name only.
    pub confined: BTreeMap<String, Vec<String>>,
}

impl Plan {
    /// Every planned change, in order.
    pub fn changes(&self) -> Vec<Change> {
        self.tasks
            .iter()
            .flat_map(|t| t.changes.iter().cloned())
            .collect()
    }
}

/// Plans every task against one snapshot. Tasks are admitted in order against Route 53's
/// per-name rules and ecs-srv's own (one cluster per name, one deployment per task, no
/// one-off task in a service's name), counted over the zone and every task admitted
/// before, so that a batch of them can never be refused for a quota that the plan could
/// have seen. Each task is planned against the zone as the tasks before it leave it (a
/// weighted set written with a new TTL changes its whole group's TTL), so that every
/// DELETE stays exact when the batch applies in order.
pub fn plan_changes(
    intents: &[(String, TaskIntent)],
    snapshot: &ZoneSnapshot,
    naming: &ZoneNaming,
) -> Plan {
    let mut ledger = NameLedger::new(snapshot, naming.owner());
    let mut view = snapshot.clone();
    let mut plan = Plan::default();
    // Shared sets go where they stand, or to their branch when a name outgrows 100 sets;
    // names that become trees move first, in one unit each.
    let placement = crate::plan::tree::placement::place_tasks(intents, &view, naming);
    let intents = placement.intents.as_slice();
    for unit in placement.conversions {
        admit_unit(unit, &mut ledger, &mut view, &mut plan, naming);
    }
    // Withdrawals first, so that a slot a stopping task frees is there for a new one;
    // then service members, so that a one-off task arriving beside them keeps out.
    let rank = |intent: &TaskIntent| match intent {
        TaskIntent::Withdraw => 0,
        TaskIntent::Publish(sets) if !sets.iter().any(is_standalone) => 1,
        TaskIntent::Publish(_) => 2,
    };
    // A name moving to another routing policy moves in one unit, before the tasks.
    let wanted = intents.iter().map(|(task_id, intent)| match intent {
        TaskIntent::Publish(sets) => (task_id.as_str(), Some(sets.as_slice())),
        TaskIntent::Withdraw => (task_id.as_str(), None),
    });
    for unit in crate::plan::migrate::policy_migrations(wanted, &view, naming) {
        admit_unit(unit, &mut ledger, &mut view, &mut plan, naming);
    }
    let mut ordered: Vec<&(String, TaskIntent)> = intents.iter().collect();
    ordered.sort_by_key(|(_, intent)| rank(intent));
    let mut seen = BTreeSet::new();
    for (task_id, intent) in ordered {
        if !seen.insert(task_id) {
            continue;
        }
        let intent = confine(task_id, intent, &ledger, &mut plan);
        let changes = task_changes(view.task_records(task_id), &intent);
        if changes.is_empty() {
            plan.unchanged.push(task_id.clone());
            continue;
        }
        match ledger.admit(task_id, &changes) {
            Ok(()) => {
                view.apply_changes(naming, &changes);
                plan.tasks.push(TaskChanges {
                    task_id: task_id.clone(),
                    changes,
                })
            }
            Err(conflict) => {
                plan.refused.insert(task_id.clone(), conflict);
            }
        }
    }
    plan
}

/// Admits a unit that is not one task's (a name's move to a tree or to another policy).
fn admit_unit(
    unit: TaskChanges,
    ledger: &mut NameLedger,
    view: &mut ZoneSnapshot,
    plan: &mut Plan,
    naming: &ZoneNaming,
) {
    match ledger.admit(&unit.task_id, &unit.changes) {
        Ok(()) => {
            view.apply_changes(naming, &unit.changes);
            plan.tasks.push(unit);
        }
        Err(conflict) => {
            plan.refused.insert(unit.task_id.clone(), conflict);
        }
    }
}

/// Whether a set is a one-off task's set at a shared name.
fn is_standalone(set: &RecordSet) -> bool {
    set.routing
        .set_identifier()
        .and_then(crate::plan::naming::parse_mark)
        .is_some_and(|mark| mark.role.is_shared_name() && !mark.role.is_service_member())
}

/// A one-off task's intent without its shared sets at names a service's tasks hold.
fn confine(task_id: &str, intent: &TaskIntent, ledger: &NameLedger, plan: &mut Plan) -> TaskIntent {
    let TaskIntent::Publish(sets) = intent else {
        return intent.clone();
    };
    let (kept, confined): (Vec<RecordSet>, Vec<RecordSet>) = sets
        .iter()
        .cloned()
        .partition(|set| !(is_standalone(set) && ledger.holds_service(set)));
    if !confined.is_empty() {
        plan.confined.insert(
            task_id.to_owned(),
            confined.into_iter().map(|set| set.name).collect(),
        );
    }
    TaskIntent::Publish(kept)
}
