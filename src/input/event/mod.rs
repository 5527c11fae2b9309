//! The input side: "ECS Task State Change" events as EventBridge delivers them, directly
//! or in an SQS body, parsed and validated before anything acts on them.
//!
//! Parsing goes through `aws_lambda_events`' [`EventBridgeEvent`] with our own
//! [`TaskStateChange`] as the detail, via `serde_path_to_error` so that an error names the
//! field path (`detail.containers[0].networkBindings[0].hostPort`). The event `id` is read
//! from the raw JSON first, so even an event that fails to deserialize is named by it.
//! Everything here is pure: a refused event has caused no I/O and no DNS change.

mod arn;
mod detail;
mod error;
mod rules;
#[cfg(test)]
mod tests;

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::Serialize;
use serde_json::Value;

pub use detail::{
    Attachment, AttachmentDetail, Container, ContainerNetworkInterface, Lifecycle, NetworkBinding,
    TaskStateChange, TaskStatus, TransportProtocol,
};
pub use error::{EventError, EventLabel};

/// EventBridge's limit on one event (256 KiB); anything larger never came from it.
pub const MAX_EVENT_BYTES: usize = 262_144;

/// The only `detail-type` accepted.
pub const TASK_STATE_CHANGE: &str = "ECS Task State Change";

/// The only `source` accepted.
pub const ECS_SOURCE: &str = "aws.ecs";

/// A whole EventBridge event carrying a task state change, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskEvent {
    /// EventBridge's event id; names the event in logs and errors.
    pub id: String,
    /// The AWS account the event came from; every ARN in `detail` shares it.
    pub account: String,
    /// The region the event came from; every ARN in `detail` shares it.
    pub region: String,
    /// The envelope `time` exactly as sent (RFC 3339), when present.
    pub time: Option<String>,
    /// The task.
    pub detail: TaskStateChange,
}

/// Parses and validates one EventBridge event from raw bytes (a direct invocation or an
/// SQS message body). The size limit is checked before any parsing.
pub fn parse_task_event(raw: &[u8]) -> Result<TaskEvent, EventError> {
    check_size(raw.len())?;
    let value: Value = serde_json::from_slice(raw).map_err(|err| {
        let reason = error::shortened(&err.to_string());
        if reason.starts_with("recursion limit exceeded") {
            EventError::TooDeeplyNested { reason }
        } else {
            EventError::NotJson { reason }
        }
    })?;
    parse_task_event_value(value)
}

/// Parses and validates one EventBridge event that is already JSON, such as an element of
/// an array or an SQS body read by the caller. The size limit applies to its compact form.
pub fn parse_task_event_value(value: Value) -> Result<TaskEvent, EventError> {
    check_size(compact_size(&value))?;
    let Value::Object(envelope) = &value else {
        return Err(EventError::NotAnObject {
            found: json_kind(&value),
        });
    };
    let event = EventLabel::new(string_field(&value, "id"));
    let detail_type = envelope.get("detail-type");
    if detail_type.and_then(Value::as_str) != Some(TASK_STATE_CHANGE) {
        return Err(EventError::WrongDetailType {
            event,
            found: describe(detail_type),
        });
    }
    let source = envelope.get("source");
    if source.and_then(Value::as_str) != Some(ECS_SOURCE) {
        return Err(EventError::WrongSource {
            event,
            found: describe(source),
        });
    }
    if envelope.get("detail").is_none_or(Value::is_null) {
        return Err(EventError::MissingDetail { event });
    }
    let time = string_field(&value, "time");

    let parsed: EventBridgeEvent<TaskStateChange> = serde_path_to_error::deserialize(value)
        .map_err(|err| EventError::Malformed {
            event: event.clone(),
            path: err.path().to_string(),
            reason: error::shortened(&err.inner().to_string()),
        })?;
    let required = |field: &'static str, value: Option<String>| {
        value.ok_or_else(|| EventError::MissingEnvelopeField {
            event: event.clone(),
            field,
        })
    };
    let id = required("id", parsed.id)?;
    let account = required("account", parsed.account)?;
    let region = required("region", parsed.region)?;
    let origin = rules::Origin {
        account: &account,
        region: &region,
    };
    rules::check_task(&parsed.detail, &origin, &event)?;
    Ok(TaskEvent {
        id,
        account,
        region,
        time,
        detail: parsed.detail,
    })
}

fn check_size(size: usize) -> Result<(), EventError> {
    if size > MAX_EVENT_BYTES {
        return Err(EventError::TooLarge {
            size,
            limit: MAX_EVENT_BYTES,
        });
    }
    Ok(())
}

/// The size of `value` written as compact JSON, counted without building the string.
fn compact_size(value: &Value) -> usize {
    struct ByteCounter(usize);
    impl io::Write for ByteCounter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut counter = ByteCounter(0);
    // Writing a Value to a sink that never fails cannot fail; if it somehow did, the
    // count so far is still a lower bound, and serde checks the rest.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

fn string_field(value: &Value, field: &str) -> Option<String> {
    value.get(field).and_then(Value::as_str).map(str::to_owned)
}

/// Quotes an envelope string for an error, or says what stood there instead.
fn describe(value: Option<&Value>) -> String {
    match value {
        None => "(missing)".to_owned(),
        Some(Value::String(text)) => error::quoted(text),
        Some(other) => format!("(a JSON {})", json_kind(other)),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl TaskStateChange {
    /// The task id: the last `/` segment of the task ARN. Parsing has checked it is 1–64
    /// characters of `a-z 0-9 -`, so it is usable as a DNS label as is.
    pub fn task_id(&self) -> &str {
        self.task_arn
            .rsplit('/')
            .next()
            .unwrap_or(self.task_arn.as_str())
    }

    /// The awsvpc address: the ENI attachment's `privateIPv4Address`, else the first
    /// container network interface's `privateIpv4Address`. `None` in bridge and host mode.
    pub fn eni_private_ipv4(&self) -> Option<Ipv4Addr> {
        self.eni_address(rules::ENI_ADDRESS_DETAIL, |interface| {
            interface.private_ipv4_address
        })
    }

    /// The awsvpc IPv6 address of a dual-stack or IPv6-only task: the ENI attachment's
    /// `ipv6Address` detail, else the first container network interface's `ipv6Address`.
    /// A value that is not an IPv6 address is no address (the IPv4 one may still serve).
    pub fn eni_ipv6(&self) -> Option<Ipv6Addr> {
        self.eni_address(rules::ENI_IPV6_DETAIL, |interface| {
            interface.ipv6_address.as_deref()?.parse().ok()
        })
    }

    /// An ENI address: the ENI attachment's detail `name` when it parses, else the first
    /// that `of_interface` finds on the containers' network interfaces.
    fn eni_address<T: std::str::FromStr>(
        &self,
        name: &str,
        of_interface: impl Fn(&detail::ContainerNetworkInterface) -> Option<T>,
    ) -> Option<T> {
        let from_eni = self
            .attachments
            .iter()
            .filter(|attachment| rules::is_eni(attachment))
            .flat_map(|attachment| &attachment.details)
            .filter(|detail| detail.name == name)
            .find_map(|detail| detail.value.parse().ok());
        from_eni.or_else(|| {
            self.containers
                .iter()
                .flat_map(|container| &container.network_interfaces)
                .find_map(of_interface)
        })
    }

    /// The task's statuses, which decide between publishing and withdrawing.
    pub fn lifecycle(&self) -> Lifecycle {
        Lifecycle {
            last: self.last_status,
            desired: self.desired_status,
        }
    }

    /// See [`Lifecycle::wants_withdrawal`].
    pub fn wants_withdrawal(&self) -> bool {
        self.lifecycle().wants_withdrawal()
    }

    /// See [`Lifecycle::wants_publication`].
    pub fn wants_publication(&self) -> bool {
        self.lifecycle().wants_publication()
    }

    /// Whether this is newer news of the task than `current`: a higher version, or at the
    /// same version a later status (a duplicate with the same status changes nothing). The
    /// one rule by which both the packer and the writer keep the newest event of a task.
    pub fn supersedes(&self, current: &TaskStateChange) -> bool {
        (self.version, self.last_status, self.desired_status)
            > (current.version, current.last_status, current.desired_status)
    }
}
