//! What one pass of the apply pipeline did: the batches Route 53 took, the failures of
//! each unit, and the zone as it stands afterwards.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::error::TaskError;
use crate::plan::records::Change;
use crate::plan::whole_sets::ShardedSet;
use crate::plan::zone::ZoneSnapshot;

/// One ChangeBatch that Route 53 accepted (or, on a dry run, that would have been sent).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AppliedBatch {
    /// Route 53's change id (`dry-run` on a dry run).
    pub change_id: String,
    /// The tasks it served.
    pub task_ids: Vec<String>,
    /// Its changes, in order.
    pub changes: Vec<Change>,
    /// When Route 53 answered: the end of the lag from an event to its records.
    #[serde(skip)]
    pub applied_at: SystemTime,
}

/// What the apply pipeline did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Tasks whose changes failed, with the reason. Every other task is done.
    pub failed: BTreeMap<String, TaskError>,
    /// Batches sent, in order.
    pub batches: Vec<AppliedBatch>,
    /// The zone as it stands after the write, when it is known: the view the write
    /// started from (or re-read after a refusal) with every accepted batch folded in.
    pub zone_after: Option<ZoneSnapshot>,
    /// Why names that are no one task's (whole SRV sets, trees, routing-policy moves)
    /// were not brought in line, one line per problem. The task records are written all
    /// the same.
    pub name_errors: Vec<String>,
    /// Whole SRV sets left served as shards (too many targets for one set).
    pub sharded_whole_sets: Vec<ShardedSet>,
    /// One-off tasks kept out of shared names a service holds, with those names.
    pub confined: BTreeMap<String, Vec<String>>,
}

impl Applied {
    /// Every change sent, in order.
    pub fn changes(&self) -> Vec<Change> {
        self.batches
            .iter()
            .flat_map(|batch| batch.changes.iter().cloned())
            .collect()
    }

    /// Adds what a later pass did (the re-check's withdrawals).
    pub fn absorb(&mut self, later: Applied) {
        self.batches.extend(later.batches);
        self.name_errors.extend(later.name_errors);
        self.zone_after = later.zone_after;
    }
}
