//! Packed messages: many task events in one SQS message, so that the FIFO work queue's
//! batches of ten carry hundreds of events, and a re-check of many tasks is one message.
//!
//! The packer gathers the inbox's events (EventBridge's, and the writer's re-checks), keeps
//! the newest of each task by the rule the writer keeps ([`TaskStateChange::supersedes`]),
//! and packs the whole EventBridge events, each with how often it was re-checked, into as
//! few messages as fit SQS's limits. The writer reads a packed message as the events it
//! holds ([`crate::input::payload`]), and sends its own re-checks packed the same way. A
//! packed message is plain JSON, so replay reads one as it reads any event file:
//!
//! ```json
//! {"packed": [{"attempt": 0, "event": {"detail-type": "ECS Task State Change", ...}}]}
//! ```
//!
//! With `"reconcile": true` it also asks for a reconcile (a scheduled event that reached
//! the inbox is passed on this way). Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::input::event::TaskStateChange;

/// The largest packed message, in bytes: SQS's message size limit as it long stood (256
/// KiB). SQS takes up to 1 MiB now, but ten messages of 256 KiB still fit the 6 MB an
/// invocation's payload may hold, so the writer's batches are never cut short.
pub const MAX_MESSAGE_BYTES: usize = 262_144;

/// The most entries one SendMessageBatch takes.
pub const MAX_BATCH_ENTRIES: usize = 10;

/// The key that marks a packed message.
pub const PACKED_KEY: &str = "packed";

/// One event in a packed message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackedEvent {
    /// How many times the writer has re-checked the event (0: straight from EventBridge).
    pub attempt: u32,
    /// The whole EventBridge event, as it came.
    pub event: Value,
}

/// A packed message's JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackedMessage {
    /// The events.
    pub packed: Vec<PackedEvent>,
    /// Whether a reconcile is asked for too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reconcile: bool,
}

/// Whether a message body (already parsed) is a packed message.
pub fn is_packed(body: &Value) -> bool {
    body.get(PACKED_KEY).is_some()
}

/// An event on its way into a packed message, with the messages that carried it.
#[derive(Clone, Debug, PartialEq)]
pub struct Packable {
    /// The event and its re-check count.
    pub event: PackedEvent,
    /// The ids of the messages it came in (to report them if it cannot be sent on).
    pub sources: BTreeSet<String>,
}

/// One message ready to send, and the messages whose events it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackedBody {
    /// The JSON body.
    pub body: String,
    /// The ids of the messages it carries events of.
    pub sources: BTreeSet<String>,
}

/// Keeps the newest event of each task by [`TaskStateChange::supersedes`]; of two events
/// that are the same news, the one re-checked more often, so that a duplicate never resets
/// the count that parks an event re-checked too often. `events` pairs each event with its
/// parsed detail; the order of the result is by task id.
pub fn newest_per_task<'a>(
    events: impl IntoIterator<Item = (&'a TaskStateChange, Packable)>,
) -> Vec<Packable> {
    let mut newest: BTreeMap<&str, (&TaskStateChange, Packable)> = BTreeMap::new();
    for (detail, candidate) in events {
        match newest.get_mut(detail.task_id()) {
            None => {
                newest.insert(detail.task_id(), (detail, candidate));
            }
            Some((kept, current)) => {
                let same_news = !detail.supersedes(kept) && !kept.supersedes(detail);
                if detail.supersedes(kept)
                    || (same_news && candidate.event.attempt > current.event.attempt)
                {
                    *kept = detail;
                    *current = candidate;
                }
            }
        }
    }
    newest.into_values().map(|(_, packable)| packable).collect()
}

/// Packs events into as few messages of at most `limit` bytes as their order allows; an
/// event too large for a message of its own still goes alone (SQS may take it, and if not
/// the message that carried it is reported). `reconcile` names the messages that asked for
/// a reconcile: the first message asks for it on their behalf.
pub fn pack(events: Vec<Packable>, reconcile: BTreeSet<String>, limit: usize) -> Vec<PackedBody> {
    let mut bodies = Vec::new();
    let mut entries: Vec<String> = Vec::new();
    let mut sources = reconcile.clone();
    let mut asks = !reconcile.is_empty();
    for packable in events {
        let entry = serde_json::to_string(&packable.event).expect("JSON values serialize");
        let grown = envelope_len(&entries, asks) + entry.len() + usize::from(!entries.is_empty());
        if grown > limit && (!entries.is_empty() || asks) {
            bodies.push(PackedBody {
                body: envelope(&entries, asks),
                sources: std::mem::take(&mut sources),
            });
            entries.clear();
            asks = false;
        }
        entries.push(entry);
        sources.extend(packable.sources);
    }
    if !entries.is_empty() || asks {
        bodies.push(PackedBody {
            body: envelope(&entries, asks),
            sources,
        });
    }
    bodies
}

const OPENING: &str = "{\"packed\":[";
const CLOSING: &str = "]}";
const ASKS_RECONCILE: &str = "],\"reconcile\":true}";

/// The length of the message that holds `entries`.
fn envelope_len(entries: &[String], reconcile: bool) -> usize {
    let closing = if reconcile { ASKS_RECONCILE } else { CLOSING };
    OPENING.len()
        + entries.iter().map(String::len).sum::<usize>()
        + entries.len().saturating_sub(1)
        + closing.len()
}

/// The message that holds `entries` (each a serialized [`PackedEvent`]): the JSON of a
/// [`PackedMessage`], put together from its parts so that its length is known exactly.
fn envelope(entries: &[String], reconcile: bool) -> String {
    let closing = if reconcile { ASKS_RECONCILE } else { CLOSING };
    format!("{OPENING}{}{closing}", entries.join(","))
}

/// Splits messages of `sizes` bytes, in order, into SendMessageBatch requests of at most
/// [`MAX_BATCH_ENTRIES`] entries and `limit` bytes together (SQS counts a batch's bodies
/// together against the one limit).
pub fn send_groups(sizes: &[usize], limit: usize) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, size) in sizes.iter().enumerate() {
        let full = index - start == MAX_BATCH_ENTRIES || bytes + size > limit;
        if index > start && full {
            groups.push(start..index);
            (start, bytes) = (index, 0);
        }
        bytes += size;
    }
    if start < sizes.len() {
        groups.push(start..sizes.len());
    }
    groups
}

#[cfg(test)]
mod tests;
