//! Why an event was refused, worded for the operator who reads it in CloudWatch.
//!
//! Every message names the event (by its EventBridge `id` when the input had one), the
//! field path, and what would have been accepted. Values from the input are quoted,
//! escaped and shortened, so a hostile event cannot forge or flood a log line.

use std::fmt;

/// How many characters of an input value an error message repeats.
const SHOWN_CHARS: usize = 80;

/// Names an event in a message: its EventBridge `id`, or a note that it had none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLabel(Option<String>);

impl EventLabel {
    /// Labels the event with `id`, the envelope's `id` as far as it could be read.
    pub(crate) fn new(id: Option<String>) -> Self {
        Self(id)
    }

    /// The event's id, when the input had a string `id`.
    pub fn id(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl fmt::Display for EventLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(id) => write!(f, "event {}", quoted(id)),
            None => f.write_str("event without an id"),
        }
    }
}

/// Quotes an input value for a message: Rust string escaping, cut to [`SHOWN_CHARS`].
pub(crate) fn quoted(value: &str) -> String {
    let total = value.chars().count();
    if total <= SHOWN_CHARS {
        return format!("{value:?}");
    }
    let head: String = value.chars().take(SHOWN_CHARS).collect();
    format!("{head:?}… ({total} characters)")
}

/// Shortens a serde message, which may repeat a whole input string.
pub(crate) fn shortened(message: &str) -> String {
    const MAX_CHARS: usize = 300;
    if message.chars().count() <= MAX_CHARS {
        return message.to_owned();
    }
    let head: String = message.chars().take(MAX_CHARS).collect();
    format!("{head}…")
}

/// Why an input is not an acceptable "ECS Task State Change" event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Refused before parsing, so a huge input costs nothing.
    #[error(
        "event of {size} bytes is larger than EventBridge's limit of {limit} bytes; \
         it was refused unread"
    )]
    TooLarge {
        /// The input's size in bytes.
        size: usize,
        /// [`super::MAX_EVENT_BYTES`].
        limit: usize,
    },
    /// The input does not parse as JSON at all.
    #[error("input is not JSON ({reason}); expected one EventBridge event as a JSON object")]
    NotJson {
        /// serde_json's account of where it failed.
        reason: String,
    },
    /// Nesting past serde_json's recursion limit, a stack-exhaustion attempt.
    #[error(
        "input nests arrays or objects more than 128 levels deep ({reason}); \
         an ECS task event is never nested that deep"
    )]
    TooDeeplyNested {
        /// serde_json's account of where it stopped.
        reason: String,
    },
    /// Valid JSON, but not an object.
    #[error("input is a JSON {found}, not an object; expected one EventBridge event")]
    NotAnObject {
        /// `array`, `string`, `number`, `boolean` or `null`.
        found: &'static str,
    },
    /// Some other EventBridge event, sent here by a too-wide rule.
    #[error("{event} has detail-type {found}; only \"ECS Task State Change\" events are accepted")]
    WrongDetailType {
        /// The event.
        event: EventLabel,
        /// The quoted detail-type, or a note that it was missing.
        found: String,
    },
    /// An event from another source, perhaps a spoof on a custom bus.
    #[error("{event} has source {found}; only events from \"aws.ecs\" are accepted")]
    WrongSource {
        /// The event.
        event: EventLabel,
        /// The quoted source, or a note that it was missing.
        found: String,
    },
    /// No `detail` (or `detail: null`).
    #[error(
        "{event} has no `detail`; an ECS Task State Change event carries the task \
         in a `detail` object"
    )]
    MissingDetail {
        /// The event.
        event: EventLabel,
    },
    /// An envelope field EventBridge always sets is absent.
    #[error(
        "{event} has no `{field}`; EventBridge sets it on every event, \
         so this input did not come from EventBridge"
    )]
    MissingEnvelopeField {
        /// The event.
        event: EventLabel,
        /// `id`, `account` or `region`.
        field: &'static str,
    },
    /// A field is missing, of the wrong type, or out of its range.
    #[error("{event} is malformed at {path}: {reason}")]
    Malformed {
        /// The event.
        event: EventLabel,
        /// The field path, such as `detail.containers[0].networkBindings[0].hostPort`.
        path: String,
        /// What serde found and what it expected.
        reason: String,
    },
    /// `detail.containers` is `[]`.
    #[error(
        "{event} has an empty detail.containers; a task state change lists at least \
         one container"
    )]
    NoContainers {
        /// The event.
        event: EventLabel,
    },
    /// A well-typed value that breaks an ECS naming or format rule.
    #[error("{event} has {path} = {found}; expected {expected}")]
    InvalidValue {
        /// The event.
        event: EventLabel,
        /// The field path.
        path: String,
        /// The quoted value.
        found: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// An ARN of another account or region than the event came from.
    #[error(
        "{event}: {arn_kind} {part} {found} ({path}) does not match the event's {part} \
         {expected}; only resources of the event's own account and region are accepted"
    )]
    ForeignArn {
        /// The event.
        event: EventLabel,
        /// The field path, such as `detail.taskArn`.
        path: &'static str,
        /// `task ARN`, `cluster ARN`, …
        arn_kind: &'static str,
        /// `account` or `region`.
        part: &'static str,
        /// The ARN's account or region, quoted.
        found: String,
        /// The envelope's account or region, quoted.
        expected: String,
    },
    /// The task ARN and the cluster ARN name different clusters.
    #[error(
        "{event}: detail.taskArn names cluster {task_cluster} but detail.clusterArn \
         names cluster {cluster}; both must name the same cluster"
    )]
    ClusterMismatch {
        /// The event.
        event: EventLabel,
        /// The cluster segment of the task ARN, quoted.
        task_cluster: String,
        /// The cluster name of the cluster ARN, quoted.
        cluster: String,
    },
}

impl EventError {
    /// The refused event's EventBridge id, when it could be read; for per-event reports.
    pub fn event_id(&self) -> Option<&str> {
        match self {
            Self::TooLarge { .. }
            | Self::NotJson { .. }
            | Self::TooDeeplyNested { .. }
            | Self::NotAnObject { .. } => None,
            Self::WrongDetailType { event, .. }
            | Self::WrongSource { event, .. }
            | Self::MissingDetail { event }
            | Self::MissingEnvelopeField { event, .. }
            | Self::Malformed { event, .. }
            | Self::NoContainers { event }
            | Self::InvalidValue { event, .. }
            | Self::ForeignArn { event, .. }
            | Self::ClusterMismatch { event, .. } => event.id(),
        }
    }
}
