//! What should become of one task's records, and the exact changes that get it there.

use std::collections::BTreeSet;

use crate::plan::records::{Change, RecordSet};

/// What should become of one task's records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskIntent {
    /// The task runs: it should have exactly these sets.
    Publish(Vec<RecordSet>),
    /// The task is draining or gone: it should have none.
    Withdraw,
}

impl TaskIntent {
    /// The intent's name in logs and reports.
    pub fn verb(&self) -> &'static str {
        match self {
            TaskIntent::Publish(_) => "publish",
            TaskIntent::Withdraw => "withdraw",
        }
    }

    /// The sets the task should hold.
    pub fn wanted(&self) -> &[RecordSet] {
        match self {
            TaskIntent::Publish(sets) => sets,
            TaskIntent::Withdraw => &[],
        }
    }
}

/// The exact changes that take one task from what the zone holds to what it should hold:
/// DELETE of each held set that is not wanted as it is, CREATE of each wanted set that is
/// not held as it is. Changes come in record-key order, and a set that changes appears
/// as its DELETE directly followed by its CREATE, so the pair can never be split apart.
pub fn task_changes(held: &[RecordSet], intent: &TaskIntent) -> Vec<Change> {
    let held_set: BTreeSet<&RecordSet> = held.iter().collect();
    let wanted_set: BTreeSet<&RecordSet> = intent.wanted().iter().collect();
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
