//! Units of change: the smallest groups of changes that must reach Route 53 in one
//! ChangeBatch, and what each group is for. The batcher never splits a unit that fits a
//! batch, and a failure is reported for the unit it belongs to, by its kind.

use std::fmt;

use crate::plan::records::{Change, NameKey};

/// What a unit of change is for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "unit", content = "of")]
pub enum UnitKind {
    /// One task's own changes, by task id.
    Task(String),
    /// A name outgrowing 100 sets: every member moved into branch `_b0` of its tree.
    TreeConversion(NameKey),
    /// A name moving to another routing policy: every owned set there at once.
    PolicyMove(NameKey),
    /// A whole SRV set (or one of its shards), by name.
    WholeSet(String),
    /// What a purge removes last: records of this deployment no task change reached.
    Purge,
}

impl UnitKind {
    /// The task of a task's unit.
    pub fn task_id(&self) -> Option<&str> {
        match self {
            UnitKind::Task(task_id) => Some(task_id),
            _ => None,
        }
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitKind::Task(task_id) => write!(f, "task {task_id}"),
            UnitKind::TreeConversion(key) => write!(f, "the tree of {key}"),
            UnitKind::PolicyMove(key) => write!(f, "the routing policy of {key}"),
            UnitKind::WholeSet(name) => write!(f, "whole SRV set {name}"),
            UnitKind::Purge => f.write_str("the purge of the records left"),
        }
    }
}

/// A unit and its exact changes, DELETEs before the CREATEs that replace them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// What the changes are for.
    pub kind: UnitKind,
    /// The changes, in the order Route 53 must apply them.
    pub changes: Vec<Change>,
}

impl Unit {
    /// One task's changes.
    pub fn task(task_id: impl Into<String>, changes: Vec<Change>) -> Self {
        Unit {
            kind: UnitKind::Task(task_id.into()),
            changes,
        }
    }
}
