//! Why a task could not be brought in line, typed from the look-up to the write, and the
//! one rule that says whether trying again later can help.
//!
//! The rule decides what the trigger sees: on the SQS path only retryable failures go
//! back to the queue (a permanent one is logged once, at error level, and its message is
//! let go instead of being redelivered for days into the dead-letter queue); on the direct
//! path the invocation fails only for retryable failures, so Lambda's retries are spent on
//! what retries can fix.

use crate::aws::ecs::LookupError;
use crate::aws::route53::Route53Error;
use crate::plan::batch::OversizedChange;
use crate::plan::ledger::ConflictError;
use crate::plan::naming::NameTooLong;
use crate::plan::task::health::HealthStatus;
use crate::plan::task::ResolveError;

/// Why one task's records were not brought to what they should be. Nothing of the task
/// was half-written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// DescribeTasks could not be asked whether the task still runs.
    #[error("not published, the running state could not be confirmed: {0}")]
    Unconfirmed(LookupError),
    /// The event says RUNNING, but ECS's own view has not caught up yet.
    #[error("not published yet: the event (version {event_version}) says RUNNING but DescribeTasks still says {described} (version {described_version}); retry later")]
    EcsLagging {
        /// The event's `detail.version`.
        event_version: u64,
        /// `lastStatus/desiredStatus` as DescribeTasks reports them.
        described: String,
        /// DescribeTasks' version of the task.
        described_version: u64,
    },
    /// A look-up publishing needs (task definition, container instance, EC2 host) failed.
    #[error(transparent)]
    Lookup(LookupError),
    /// The task's address or ports cannot be worked out.
    #[error(transparent)]
    Resolve(ResolveError),
    /// A record name would be longer than DNS allows.
    #[error(transparent)]
    Name(NameTooLong),
    /// The zone holds something in the way, or a name is full.
    #[error(transparent)]
    Conflict(ConflictError),
    /// One change alone passes a ChangeBatch's limits.
    #[error(transparent)]
    Oversized(OversizedChange),
    /// The zone could not be read, so nothing could be planned.
    #[error("not written, the zone could not be read: {0}")]
    ZoneUnreadable(Route53Error),
    /// Route 53 refused or did not take the task's changes.
    #[error(transparent)]
    Route53(Route53Error),
    /// The task was published, but the check that it had not stopped meanwhile failed.
    #[error("published, but not re-checked after the write: {0}")]
    NotRechecked(LookupError),
    /// The task runs, but its health checks have not passed yet. Retryable on purpose:
    /// the redelivered event is the re-check (see `health.rs` and docs/health-gate.md).
    #[error("not published yet: the task runs but its health is {status} ({waited}s since it started; its health checks settle within {bound_secs}s); re-checked when the event is delivered again")]
    NotHealthyYet {
        /// What ECS reports.
        status: HealthStatus,
        /// Seconds since `startedAt`, or `?` when ECS did not say.
        waited: String,
        /// Start period + interval × retries of its slowest health check.
        bound_secs: u64,
    },
    /// Still no health verdict past the settle bound: re-checking further only spends
    /// calls; the reconcile publishes the task once ECS reports it HEALTHY.
    #[error("not published: the task's health is still {status} {waited_secs}s after it started, past the {bound_secs}s its health checks should take; re-checks stop here and the reconcile publishes it once ECS reports it HEALTHY")]
    HealthUnsettled {
        /// What ECS reports.
        status: HealthStatus,
        /// Seconds since `startedAt`.
        waited_secs: u64,
        /// Start period + interval × retries of its slowest health check.
        bound_secs: u64,
    },
    /// The event's cluster lies in another region or account than this deployment: the
    /// event was routed to the wrong function.
    #[error("the task's cluster {cluster} is not where this deployment runs (another region or account); each region and account needs its own stack")]
    NotServed {
        /// The cluster's ARN.
        cluster: String,
    },
    /// The task stopped while it was being published, and the withdrawal failed.
    #[error("stopped while it was published, and not withdrawn: {0}")]
    StoppedMeanwhile(Box<TaskError>),
}

impl TaskError {
    /// Whether the same work may succeed later without anybody changing the setup: ECS
    /// catching up, a throttled or unreachable API, a full name freeing a slot. Bad labels,
    /// foreign records in the way and names that are too long stay as they are until a
    /// person acts, so retrying them only fills the queue.
    pub fn is_retryable(&self) -> bool {
        match self {
            TaskError::Unconfirmed(_)
            | TaskError::EcsLagging { .. }
            | TaskError::NotRechecked(_)
            | TaskError::NotHealthyYet { .. } => true,
            TaskError::Lookup(err) => err.is_retryable(),
            TaskError::Resolve(err) => err.is_retryable(),
            TaskError::Conflict(err) => err.is_retryable(),
            TaskError::ZoneUnreadable(err) | TaskError::Route53(err) => err.is_retryable(),
            TaskError::StoppedMeanwhile(err) => err.is_retryable(),
            TaskError::Name(_)
            | TaskError::Oversized(_)
            | TaskError::HealthUnsettled { .. }
            | TaskError::NotServed { .. } => false,
        }
    }

    /// A short, stable name of the kind of failure, for logs and the Lambda error type.
    pub fn kind(&self) -> &'static str {
        match self {
            TaskError::Unconfirmed(_) => "Unconfirmed",
            TaskError::EcsLagging { .. } => "EcsLagging",
            TaskError::Lookup(_) => "Lookup",
            TaskError::Resolve(_) => "Resolve",
            TaskError::Name(_) => "NameTooLong",
            TaskError::Conflict(_) => "Conflict",
            TaskError::Oversized(_) => "Oversized",
            TaskError::ZoneUnreadable(_) => "ZoneUnreadable",
            TaskError::Route53(_) => "Route53",
            TaskError::NotRechecked(_) => "NotRechecked",
            TaskError::StoppedMeanwhile(_) => "StoppedMeanwhile",
            TaskError::NotHealthyYet { .. } => "NotHealthyYet",
            TaskError::HealthUnsettled { .. } => "HealthUnsettled",
            TaskError::NotServed { .. } => "NotServed",
        }
    }

    /// The kind of failure as the metrics count it: a refusal by its conflict's kind
    /// (`Conflict:OtherCluster`), anything else by [`Self::kind`].
    pub fn metric_kind(&self) -> String {
        match self {
            TaskError::Conflict(conflict) => format!("Conflict:{}", conflict.kind()),
            TaskError::StoppedMeanwhile(inner) => inner.metric_kind(),
            other => other.kind().to_owned(),
        }
    }

    /// Whether the task is only waiting for a health verdict: nothing is wrong with it,
    /// so the reconcile does not count it as a failure.
    pub fn is_awaiting_health(&self) -> bool {
        matches!(
            self,
            TaskError::NotHealthyYet { .. } | TaskError::HealthUnsettled { .. }
        )
    }
}
