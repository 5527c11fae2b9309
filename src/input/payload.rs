//! The payloads an invocation can carry, sorted into events before anything acts on them:
//! one EventBridge event (a direct invocation), an SQS batch whose bodies are EventBridge
//! events, EventBridge's scheduled event, and (for replay) a JSON array or
//! newline-delimited JSON of events. An event that cannot be read is kept with the reason,
//! named by where it came from, so that one bad event never blocks the good ones around it.

use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::Value;

use crate::input::event::{
    parse_task_event, parse_task_event_value, EventError, EventLabel, TaskEvent,
};
use crate::input::packed::{is_packed, PackedEvent, PackedMessage, PACKED_KEY};

/// One input event, parsed or not, with where it came from.
#[derive(Debug)]
pub struct EventInput {
    /// An SQS message id, or `file:index` in a replay.
    pub source: String,
    /// The parsed event, or why it could not be parsed.
    pub parsed: Result<TaskEvent, EventError>,
    /// The SQS message that carried it, on the SQS path.
    pub message: Option<QueuedMessage>,
}

/// What the SQS path knows of the message that carried an event: enough to re-check it
/// later (send its body again) or to set its visibility.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedMessage {
    /// The queue's ARN (`eventSourceARN`).
    pub queue_arn: String,
    /// The receipt handle of this delivery.
    pub receipt_handle: String,
    /// The body as it came.
    pub body: String,
    /// How many times ecs-srv has re-checked the event (message attribute
    /// `ecs-srv-attempt`; 0 for an event straight from EventBridge).
    pub attempt: u32,
}

/// The message attribute that counts an event's re-checks.
pub const ATTEMPT_ATTRIBUTE: &str = "ecs-srv-attempt";

impl QueuedMessage {
    /// The queue's name, the last part of its ARN.
    pub fn queue_name(&self) -> &str {
        self.queue_arn.rsplit(':').next().unwrap_or_default()
    }
}

/// How the events of an invocation arrived, which decides how failures are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// EventBridge invoked the function with one event (or a replay gave a list).
    Direct,
    /// An SQS event source delivered a batch of messages.
    Sqs,
}

/// The events of one invocation, ready for the event path.
#[derive(Debug)]
pub struct Invocation {
    /// How they arrived.
    pub delivery: Delivery,
    /// Each event, parsed or with the reason it was refused.
    pub inputs: Vec<EventInput>,
    /// The SQS messages that carried EventBridge's scheduled event: a reconcile is asked.
    pub scheduled: Vec<String>,
}

/// Why a whole payload was refused: nothing in it could be attributed to an event.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// An SQS-shaped payload that does not match the SQS event format.
    #[error("payload looks like an SQS event but is not one: {0}")]
    BadSqsEvent(String),
    /// Neither an event, an SQS batch, nor a list of them.
    #[error(
        "payload is a JSON {0}; expected an EventBridge event, an SQS event or an array of them"
    )]
    Unrecognised(&'static str),
}

/// Sorts a payload into events. `origin` names it in sources (`file.json`, `lambda`).
pub fn read_payload(payload: Value, origin: &str) -> Result<Invocation, PayloadError> {
    match payload {
        Value::Object(ref object) if object.contains_key("Records") => sqs_batch(payload, origin),
        Value::Object(_) if is_packed(&payload) => {
            let mut invocation = Invocation {
                delivery: Delivery::Direct,
                inputs: Vec::new(),
                scheduled: Vec::new(),
            };
            unpack(payload, origin, None, &mut invocation);
            Ok(invocation)
        }
        Value::Object(_) => Ok(Invocation {
            delivery: Delivery::Direct,
            inputs: vec![EventInput {
                source: origin.to_owned(),
                parsed: parse_task_event_value(payload),
                message: None,
            }],
            scheduled: Vec::new(),
        }),
        Value::Array(items) => Ok(Invocation {
            delivery: Delivery::Direct,
            inputs: listed(items, origin),
            scheduled: Vec::new(),
        }),
        Value::Null => Err(PayloadError::Unrecognised("null")),
        Value::Bool(_) => Err(PayloadError::Unrecognised("boolean")),
        Value::Number(_) => Err(PayloadError::Unrecognised("number")),
        Value::String(_) => Err(PayloadError::Unrecognised("string")),
    }
}

/// An SQS batch: each message body one event, or a packed message of many (each named by
/// its message's id), or EventBridge's scheduled event.
fn sqs_batch(payload: Value, origin: &str) -> Result<Invocation, PayloadError> {
    let sqs: SqsEvent =
        serde_json::from_value(payload).map_err(|e| PayloadError::BadSqsEvent(e.to_string()))?;
    let mut invocation = Invocation {
        delivery: Delivery::Sqs,
        inputs: Vec::new(),
        scheduled: Vec::new(),
    };
    for (index, message) in sqs.records.into_iter().enumerate() {
        let source = message
            .message_id
            .clone()
            .unwrap_or_else(|| format!("{origin}:{index}"));
        let Some(body) = message.body.clone() else {
            invocation.inputs.push(EventInput {
                source,
                parsed: Err(EventError::NotJson {
                    reason: "the SQS message has no body".to_owned(),
                }),
                message: None,
            });
            continue;
        };
        let value = serde_json::from_str::<Value>(&body).ok();
        if value.as_ref().is_some_and(is_scheduled_event) {
            invocation.scheduled.push(source);
            continue;
        }
        let carried = queued(message, String::new());
        match value.filter(is_packed) {
            Some(packed) => unpack(packed, &source, carried, &mut invocation),
            None => invocation.inputs.push(EventInput {
                parsed: parse_task_event(body.as_bytes()),
                message: carried.map(|queued| QueuedMessage { body, ..queued }),
                source,
            }),
        }
    }
    Ok(invocation)
}

/// The events of a packed message, each with the count of its re-checks and its own body;
/// an entry that is not an event with a count is refused on its own.
fn unpack(
    packed: Value,
    source: &str,
    carried: Option<QueuedMessage>,
    invocation: &mut Invocation,
) {
    let entries = match serde_json::from_value::<PackedMessage>(packed) {
        Ok(message) => {
            if message.reconcile {
                invocation.scheduled.push(source.to_owned());
            }
            message.packed.into_iter().map(Ok).collect()
        }
        Err(err) => vec![Err(malformed(PACKED_KEY, err))],
    };
    for entry in entries {
        let (parsed, message) = match entry {
            Ok(PackedEvent { attempt, event }) => {
                let message = carried.clone().map(|queued| QueuedMessage {
                    body: event.to_string(),
                    attempt,
                    ..queued
                });
                (parse_task_event_value(event), message)
            }
            Err(err) => (Err(err), None),
        };
        invocation.inputs.push(EventInput {
            source: source.to_owned(),
            parsed,
            message,
        });
    }
}

fn malformed(path: &str, err: serde_json::Error) -> EventError {
    EventError::Malformed {
        event: EventLabel::new(None),
        path: path.to_owned(),
        reason: format!(
            "a packed message's entries are each an event with its attempt count: {err}"
        ),
    }
}

/// What the SQS path keeps of a message, when it says where it came from.
fn queued(
    message: aws_lambda_events::event::sqs::SqsMessage,
    body: String,
) -> Option<QueuedMessage> {
    let attempt = message
        .message_attributes
        .get(ATTEMPT_ATTRIBUTE)
        .and_then(|attribute| attribute.string_value.as_deref())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    Some(QueuedMessage {
        queue_arn: message.event_source_arn?,
        receipt_handle: message.receipt_handle?,
        body,
        attempt,
    })
}

/// A list of payloads (a replay's file): each element's events, named `origin:index`.
fn listed(items: Vec<Value>, origin: &str) -> Vec<EventInput> {
    let mut inputs = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let source = format!("{origin}:{index}");
        match read_payload(item, &source) {
            Ok(nested) => inputs.extend(nested.inputs),
            Err(err) => inputs.push(EventInput {
                source,
                parsed: Err(EventError::NotJson {
                    reason: err.to_string(),
                }),
                message: None,
            }),
        }
    }
    inputs
}

/// Whether a payload is EventBridge's scheduled event, which asks for a reconcile.
pub fn is_scheduled_event(payload: &Value) -> bool {
    payload.get("source").and_then(Value::as_str) == Some("aws.events")
        && payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
}

/// Reads a file's text as one JSON document, or else as newline-delimited JSON (each
/// non-blank line a document, gathered into an array). Text that is neither comes back
/// as a JSON string, which the payload reader refuses with a clear message.
pub fn payload_from_text(text: &str) -> Value {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return value;
    }
    let lines: Result<Vec<Value>, _> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(serde_json::from_str::<Value>)
        .collect();
    match lines {
        Ok(values) if !values.is_empty() => Value::Array(values),
        _ => Value::String(text.chars().take(80).collect()),
    }
}
