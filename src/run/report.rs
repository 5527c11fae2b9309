//! What an invocation did, per event and per ChangeBatch: the replay's JSON summary, the
//! Lambda's answer, and the test suite's view of a run.

use std::collections::BTreeMap;

use crate::plan::records::Change;

/// What became of one task in an invocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Its records were brought to what it runs.
    Publish,
    /// Its records were removed.
    Withdraw,
    /// Nothing to do: not running yet, filtered out, or superseded by a later event.
    Ignore,
}

/// The outcome of one input event.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EventOutcome {
    /// Where the event came from: an SQS message id, or `file:index` in a replay.
    pub source: String,
    /// EventBridge's id, when the event could be read that far.
    pub event_id: Option<String>,
    /// The task, when the event could be read that far.
    pub task_id: Option<String>,
    /// What was decided for the task.
    pub decision: Decision,
    /// Why it failed, if it did. A failed event changed nothing of its task.
    pub error: Option<String>,
    /// Whether the failure may pass if the event is delivered again. A permanent failure
    /// (bad input, a foreign record in the way) is reported, not redelivered.
    pub retryable: bool,
}

impl EventOutcome {
    /// An event that failed before a task could be decided.
    pub fn failed(
        source: String,
        event_id: Option<&str>,
        error: &dyn std::fmt::Display,
        retryable: bool,
    ) -> Self {
        EventOutcome {
            source,
            event_id: event_id.map(str::to_owned),
            task_id: None,
            decision: Decision::Ignore,
            error: Some(error.to_string()),
            retryable,
        }
    }
}

/// One ChangeBatch that Route 53 accepted.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AppliedBatch {
    /// Route 53's change id.
    pub change_id: String,
    /// The tasks it served.
    pub task_ids: Vec<String>,
    /// Its changes, in order.
    pub changes: Vec<Change>,
}

/// Everything one invocation did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct InvocationReport {
    /// One entry per input event, in input order.
    pub events: Vec<EventOutcome>,
    /// The batches sent, in order.
    pub batches: Vec<AppliedBatch>,
    /// Why whole SRV sets (`SRV_SETS=on`) were not brought in line, one line per problem.
    pub whole_set_errors: Vec<String>,
    /// Whole SRV sets left served as shards: more targets than one record set holds.
    pub sharded_whole_sets: Vec<crate::plan::whole_sets::ShardedSet>,
    /// AWS requests this invocation made, by `Service.Operation`.
    pub api_calls: BTreeMap<String, u64>,
}

impl InvocationReport {
    /// Whether any event failed.
    pub fn has_failures(&self) -> bool {
        self.events.iter().any(|e| e.error.is_some())
    }

    /// The sources of the events that failed and may pass when delivered again, for
    /// SQS's batchItemFailures.
    pub fn retryable_sources(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter(|e| e.error.is_some() && e.retryable)
            .map(|e| e.source.as_str())
            .collect()
    }

    /// The events that failed for good: reported, never redelivered.
    pub fn permanent_failures(&self) -> impl Iterator<Item = &EventOutcome> {
        self.events
            .iter()
            .filter(|e| e.error.is_some() && !e.retryable)
    }

    /// How many changes were applied in all.
    pub fn change_count(&self) -> usize {
        self.batches.iter().map(|b| b.changes.len()).sum()
    }
}
