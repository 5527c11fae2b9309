//! What a run did, per event and per ChangeBatch: the replay's JSON summary, the
//! Lambda's answer, the metrics, and the test suite's view of a run.

use std::collections::BTreeMap;

use tracing::error;

pub use crate::apply::AppliedBatch;
use crate::plan::whole_sets::ShardedSet;

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
    /// The kind of failure (`NotHealthyYet`, `Conflict:OtherCluster`, ...), for metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// Whether the failure may pass if the event is delivered again. A permanent failure
    /// (bad input, a foreign record in the way) is reported, not redelivered.
    pub retryable: bool,
    /// Whether a ChangeBatch of this invocation changed the task's records.
    pub written: bool,
    /// Milliseconds from the event's `time` to the ChangeBatch that changed its task's
    /// records, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_ms: Option<u64>,
    /// For a task the health gate held: at most this many milliseconds passed between ECS
    /// reporting it HEALTHY and its records (the time since it was last seen waiting).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthy_lag_ms: Option<u64>,
}

impl EventOutcome {
    /// An event that failed before a task could be decided.
    pub fn failed(
        source: String,
        event_id: Option<&str>,
        error: &dyn std::fmt::Display,
        kind: &str,
    ) -> Self {
        EventOutcome {
            source,
            event_id: event_id.map(str::to_owned),
            task_id: None,
            decision: Decision::Ignore,
            error: Some(error.to_string()),
            error_kind: Some(kind.to_owned()),
            retryable: false,
            written: false,
            lag_ms: None,
            healthy_lag_ms: None,
        }
    }
}

/// Everything one invocation did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct InvocationReport {
    /// One entry per input event, in input order.
    pub events: Vec<EventOutcome>,
    /// The batches sent, in order.
    pub batches: Vec<AppliedBatch>,
    /// Why names that are no one task's (whole SRV sets, trees, routing-policy moves) were
    /// not brought in line, one line per problem.
    pub name_errors: Vec<String>,
    /// Whole SRV sets left served as shards: more targets than one record set holds.
    pub sharded_whole_sets: Vec<ShardedSet>,
    /// AWS requests this invocation made, by `Service.Operation`.
    pub api_calls: BTreeMap<String, u64>,
    /// Tasks running but waiting for ECS to report them healthy.
    pub awaiting_health: usize,
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

    /// Logs each permanent failure once, at error level: it is reported, not redelivered, so
    /// that it is not retried for days and parked in a dead-letter queue beside real outages.
    pub fn log_failures(&self) {
        for failure in self.permanent_failures() {
            error!(
                source = %failure.source,
                event = failure.event_id.as_deref().unwrap_or("-"),
                task = failure.task_id.as_deref().unwrap_or("-"),
                error = failure.error.as_deref().unwrap_or_default(),
                "event failed permanently; it will not be retried"
            );
        }
        for problem in &self.name_errors {
            error!(error = %problem, "name not brought in line");
        }
    }

    /// How many changes were applied in all.
    pub fn change_count(&self) -> usize {
        self.batches.iter().map(|b| b.changes.len()).sum()
    }
}
