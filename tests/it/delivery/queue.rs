//! An SQS queue as the SQS developer guide describes it, in virtual time: standard or FIFO,
//! the visibility timeout, `DelaySeconds`, `ChangeMessageVisibility`, the redrive to a
//! dead-letter queue at `maxReceiveCount`, and a FIFO queue's message groups and
//! deduplication.
//!
//! - A received message stays in the queue, invisible until its visibility timeout runs out
//!   (or the timeout its receipt handle set), then it can be received again; each receive
//!   adds one to its receive count and hands out a new receipt handle.
//! - A receive that would take a message past `maxReceiveCount` moves it to the dead-letter
//!   queue instead ("Using dead-letter queues").
//! - A FIFO queue hands out a group's messages in order, and none of a group while one of
//!   its messages is in flight; it takes no per-message `DelaySeconds`, and drops a message
//!   whose deduplication id (explicit, or the body's SHA-256 with content-based
//!   deduplication) was sent within the last 5 minutes, still answering it as sent.
//! - Deleting with a receipt handle older than the message's latest receive succeeds and
//!   deletes nothing ("DeleteMessage"); changing the visibility of a message not in flight
//!   fails with `MessageNotInflight`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// SQS's deduplication interval for FIFO queues.
const DEDUPLICATION_INTERVAL: Duration = Duration::from_secs(300);
/// The longest `DelaySeconds` and the longest visibility timeout SQS takes.
const MAX_DELAY: Duration = Duration::from_secs(900);
const MAX_VISIBILITY: Duration = Duration::from_secs(43_200);

/// What kind of queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueKind {
    /// At-least-once, best-effort order.
    Standard,
    /// In order per message group, exactly-once within the deduplication interval.
    Fifo {
        /// Deduplication by the body's hash when no id is given (EventBridge's SQS target
        /// requires it on a FIFO queue).
        content_based_deduplication: bool,
    },
}

/// A queue's settings.
#[derive(Clone, Debug)]
pub struct QueueSpec {
    /// Its name (the URL and ARN end with it).
    pub name: String,
    /// Standard or FIFO.
    pub kind: QueueKind,
    /// VisibilityTimeout.
    pub visibility_timeout: Duration,
    /// The redrive policy's maxReceiveCount, when the queue has a dead-letter queue.
    pub max_receive_count: Option<u32>,
}

/// One message as sent.
#[derive(Clone, Debug, Default)]
pub struct Outgoing {
    /// The body.
    pub body: String,
    /// DelaySeconds.
    pub delay: Duration,
    /// MessageGroupId.
    pub group: Option<String>,
    /// MessageDeduplicationId.
    pub deduplication_id: Option<String>,
    /// Number-typed message attributes, by name.
    pub attributes: BTreeMap<String, String>,
}

/// A message in the queue.
#[derive(Clone, Debug)]
pub struct Message {
    /// The message id.
    pub id: String,
    /// The body.
    pub body: String,
    /// MessageGroupId.
    pub group: Option<String>,
    /// Message attributes (Number), by name.
    pub attributes: BTreeMap<String, String>,
    /// When it was sent.
    pub sent_at: Duration,
    /// When it can next be received.
    pub visible_at: Duration,
    /// ApproximateReceiveCount.
    pub receive_count: u32,
    /// The latest receipt handle, while the message has been received.
    pub receipt: Option<String>,
    /// Whether a receive made it invisible (rather than DelaySeconds).
    received: bool,
}

impl Message {
    fn in_flight(&self, now: Duration) -> bool {
        self.received && self.visible_at > now
    }
}

/// Why SQS refused a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqsError {
    /// The error code.
    pub code: &'static str,
    /// The message.
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> SqsError {
    SqsError {
        code,
        message: message.into(),
    }
}

/// A queue.
#[derive(Debug)]
pub struct Queue {
    /// Its settings.
    pub spec: QueueSpec,
    messages: BTreeMap<u64, Message>,
    next: u64,
    receipts: u64,
    deduplication: HashMap<String, Duration>,
    /// Messages dropped as duplicates within the deduplication interval.
    pub deduplicated: usize,
}

impl Queue {
    /// An empty queue.
    pub fn new(spec: QueueSpec) -> Self {
        Queue {
            spec,
            messages: BTreeMap::new(),
            next: 0,
            receipts: 0,
            deduplication: HashMap::new(),
            deduplicated: 0,
        }
    }

    fn fifo(&self) -> Option<bool> {
        match self.spec.kind {
            QueueKind::Standard => None,
            QueueKind::Fifo {
                content_based_deduplication,
            } => Some(content_based_deduplication),
        }
    }

    /// SendMessage at `now`: the message id, or the refusal.
    pub fn send(&mut self, message: Outgoing, now: Duration) -> Result<String, SqsError> {
        if message.delay > MAX_DELAY {
            return Err(refuse(
                "InvalidParameterValue",
                "DelaySeconds must be 0 to 900",
            ));
        }
        let id = format!("{}-{:06}", self.spec.name, self.next + 1);
        match self.fifo() {
            None if message.deduplication_id.is_some() => {
                return Err(refuse(
                    "InvalidParameterValue",
                    "MessageDeduplicationId is only valid for a FIFO queue",
                ));
            }
            None => {}
            Some(content_based) => {
                if message.group.is_none() {
                    return Err(refuse(
                        "MissingParameter",
                        "The request must contain the parameter MessageGroupId.",
                    ));
                }
                if !message.delay.is_zero() {
                    return Err(refuse("InvalidParameterValue", "The request include parameter DelaySeconds that is not valid for this queue type (FIFO queues take a queue-level delay only)"));
                }
                let key = match (&message.deduplication_id, content_based) {
                    (Some(id), _) => id.clone(),
                    (None, true) => format!("sha256:{}", body_digest(&message.body)),
                    (None, false) => {
                        return Err(refuse("InvalidParameterValue", "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"));
                    }
                };
                self.deduplication
                    .retain(|_, sent| now.saturating_sub(*sent) < DEDUPLICATION_INTERVAL);
                if self.deduplication.contains_key(&key) {
                    self.deduplicated += 1;
                    return Ok(id);
                }
                self.deduplication.insert(key, now);
            }
        }
        self.next += 1;
        self.messages.insert(
            self.next,
            Message {
                id: id.clone(),
                body: message.body,
                group: message.group,
                attributes: message.attributes,
                sent_at: now,
                visible_at: now + message.delay,
                receive_count: 0,
                receipt: None,
                received: false,
            },
        );
        Ok(id)
    }

    /// The earliest time from `now` on at which a message may be receivable: now when one
    /// is, else when the next invisible message (delayed, or in flight) turns visible.
    pub fn next_visible(&self, now: Duration) -> Option<Duration> {
        if self.receivable(now).next().is_some() {
            return Some(now);
        }
        self.messages
            .values()
            .map(|m| m.visible_at)
            .filter(|at| *at > now)
            .min()
    }

    /// A FIFO message whose group has a message in flight, or an earlier message of its
    /// group still waiting, is not handed out.
    fn blocked(&self, message: &Message, now: Duration) -> bool {
        self.fifo().is_some()
            && self
                .messages
                .values()
                .any(|other| other.group == message.group && other.in_flight(now))
    }

    fn receivable(&self, now: Duration) -> impl Iterator<Item = (&u64, &Message)> {
        let fifo = self.fifo().is_some();
        let mut open_groups: HashMap<Option<String>, bool> = HashMap::new();
        self.messages.iter().filter(move |(_, m)| {
            if !fifo {
                return m.visible_at <= now;
            }
            // In a FIFO queue a group is open until its first message that cannot go now.
            let open = open_groups.entry(m.group.clone()).or_insert_with(|| true);
            if !*open {
                return false;
            }
            if m.visible_at <= now && !self.blocked(m, now) {
                return true;
            }
            *open = false;
            false
        })
    }

    /// ReceiveMessage at `now`: up to `max` messages, each now invisible for the visibility
    /// timeout; messages past maxReceiveCount go to `dead_letters` instead.
    pub fn receive(
        &mut self,
        max: usize,
        now: Duration,
        dead_letters: &mut Vec<Message>,
    ) -> Vec<Message> {
        let keys: Vec<u64> = self.receivable(now).map(|(key, _)| *key).collect();
        let mut received = Vec::new();
        for key in keys {
            if received.len() == max {
                break;
            }
            let Some(message) = self.messages.get_mut(&key) else {
                continue;
            };
            if self
                .spec
                .max_receive_count
                .is_some_and(|most| message.receive_count >= most)
            {
                if let Some(gone) = self.messages.remove(&key) {
                    dead_letters.push(gone);
                }
                continue;
            }
            self.receipts += 1;
            message.receive_count += 1;
            message.receipt = Some(format!("{}#{}", message.id, self.receipts));
            message.received = true;
            message.visible_at = now + self.spec.visibility_timeout;
            received.push(message.clone());
        }
        received
    }

    fn by_receipt(&mut self, receipt: &str) -> Option<(u64, &mut Message)> {
        self.messages
            .iter_mut()
            .find(|(_, m)| m.receipt.as_deref() == Some(receipt))
            .map(|(key, m)| (*key, m))
    }

    /// DeleteMessage (what Lambda does with every message the invocation did not report).
    pub fn delete(&mut self, receipt: &str) {
        if let Some((key, _)) = self.by_receipt(receipt) {
            self.messages.remove(&key);
        }
    }

    /// ChangeMessageVisibility at `now`.
    pub fn change_visibility(
        &mut self,
        receipt: &str,
        timeout: Duration,
        now: Duration,
    ) -> Result<(), SqsError> {
        if timeout > MAX_VISIBILITY {
            return Err(refuse(
                "InvalidParameterValue",
                "VisibilityTimeout must be 0 to 43200",
            ));
        }
        match self.by_receipt(receipt) {
            Some((_, message)) if message.in_flight(now) => {
                message.visible_at = now + timeout;
                Ok(())
            }
            Some(_) => Err(refuse(
                "MessageNotInflight",
                "The message referred to isn't in flight.",
            )),
            None => Err(refuse(
                "ReceiptHandleIsInvalid",
                format!("The receipt handle \"{receipt}\" is not valid."),
            )),
        }
    }

    /// Messages in the queue, in flight or not.
    pub fn len(&self) -> usize {
        self.messages.len()
    }
}

/// The body's deduplication digest (any stable hash serves the model: it only compares).
fn body_digest(body: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    hasher.finish()
}
