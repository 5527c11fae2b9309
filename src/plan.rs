//! The heart of ecs-srv, and pure: what each task should hold against what the zone
//! holds, exact changes out. The event path, the reconcile and its dry run all call
//! [`plan_changes`] on a [`ZoneSnapshot`]; they differ only in where the intents come from
//! and whether the changes are sent.
//!
//! Changes are exact by construction. A set that must change is deleted with the content
//! the zone holds and created anew in the same batch, so a concurrent writer makes the
//! batch fail instead of being overwritten. A withdrawal deletes what the zone holds for
//! the task, never what an event says it should hold.

use std::collections::{BTreeMap, BTreeSet};

use crate::batch::TaskChanges;
use crate::ledger::{ConflictError, NameLedger};
use crate::records::{Change, RecordSet};
use crate::zone::ZoneSnapshot;

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
/// per-name rules, counted over the zone and every task admitted before, so that a batch
/// of them can never be refused for a quota that the plan could have seen.
pub fn plan_changes(intents: &[(String, TaskIntent)], snapshot: &ZoneSnapshot) -> Plan {
    let mut ledger = NameLedger::new(snapshot);
    let mut plan = Plan::default();
    // Withdrawals first: a slot that a stopping task frees is then there for a new one.
    let ordered = intents
        .iter()
        .filter(|(_, intent)| *intent == TaskIntent::Withdraw)
        .chain(
            intents
                .iter()
                .filter(|(_, intent)| *intent != TaskIntent::Withdraw),
        );
    let mut seen = BTreeSet::new();
    for (task_id, intent) in ordered {
        if !seen.insert(task_id) {
            continue;
        }
        let changes = task_changes(snapshot.task_records(task_id), intent);
        if changes.is_empty() {
            plan.unchanged.push(task_id.clone());
            continue;
        }
        match ledger.admit(&changes) {
            Ok(()) => plan.tasks.push(TaskChanges {
                task_id: task_id.clone(),
                changes,
            }),
            Err(conflict) => {
                plan.refused.insert(task_id.clone(), conflict);
            }
        }
    }
    plan
}
