//! An SQS event source mapping, as the Lambda developer guide describes it:
//!
//! - Standard queue ("Configuring scaling behavior for SQS event source mappings"): pollers
//!   start at five concurrent batches and, while messages wait, add up to 300 a minute
//!   (five a second here), up to 1,250; they do not look at the function's reserved
//!   concurrency. `ScalingConfig.MaximumConcurrency` caps the batches in hand (gathering or
//!   invoking).
//! - A poller gathers a batch until it holds `BatchSize` messages or its batching window
//!   has passed since it began; the next window begins when its invocation ends. Messages
//!   are invisible from the moment they are received, so the visibility timeout runs
//!   through the window.
//! - An invocation beyond reserved concurrency is throttled. Lambda retries it with backoff
//!   (1 s doubling to 8 s here: the guide gives no figures) and lowers the mapping's
//!   concurrency (one poller per throttle here), until the visibility timeout of the
//!   batch's messages runs out; then it lets them go ("Handling errors for an SQS event
//!   source": the messages reappear and are received again, one more receive counted).
//! - After the invocation, the messages it did not report in `batchItemFailures` are
//!   deleted; the reported ones (all of them when the invocation failed or timed out) come
//!   back when their visibility timeout ends, which `ChangeMessageVisibility` may have
//!   moved.
//! - FIFO queue: the same pollers, but the queue hands out a message group's messages only
//!   while none of the group is in flight, so one group is one batch at a time, in order;
//!   batches of at most 10 and no window. The guide asks a function on a FIFO queue to stop
//!   at its first failure and report it with everything after it; a report that leaves out
//!   a message after a failed one lets that message be deleted ahead of the failed one, and
//!   is counted here as an ordering breach.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};

use super::clock::TaskId;
use super::function::{Function, Invoker, Outcome};
use super::queue::{Message, Queue, QueueKind};

/// Batches a standard queue's mapping starts with.
const START_POLLERS: usize = 5;
/// The most batches a mapping handles at once.
const MAX_POLLERS: usize = 1_250;
/// Pollers added per second of waiting messages (300 a minute).
const SCALE_STEP: usize = 5;
/// The first and the longest wait before a throttled invocation is tried again.
const FIRST_THROTTLE_BACKOFF: Duration = Duration::from_secs(1);
const LONGEST_THROTTLE_BACKOFF: Duration = Duration::from_secs(8);

/// Which of a design's functions a mapping invokes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consumer {
    /// The function that writes the zone.
    Writer,
    /// The packer (`--pack-into-queue-url`).
    Packer,
}

/// A mapping's settings.
#[derive(Clone, Debug)]
pub struct MappingSpec {
    /// The queue it reads (its index among the run's queues).
    pub queue: usize,
    /// The function it invokes.
    pub function: Consumer,
    /// BatchSize.
    pub batch_size: usize,
    /// MaximumBatchingWindowInSeconds.
    pub window: Duration,
    /// ScalingConfig.MaximumConcurrency.
    pub maximum_concurrency: Option<usize>,
}

#[derive(Debug)]
enum State {
    Gathering {
        since: Duration,
    },
    Invoking {
        task: TaskId,
    },
    Throttled {
        retry_at: Duration,
        backoff: Duration,
    },
}

#[derive(Debug)]
struct Batch {
    messages: Vec<Message>,
    state: State,
}

/// Counts over a run.
#[derive(Clone, Debug, Default)]
pub struct MappingCounts {
    /// Invocations started.
    pub invocations: usize,
    /// Invocation attempts throttled.
    pub throttled: usize,
    /// Batches let go after throttling until their visibility timeout.
    pub released: usize,
    /// Messages handed to invocations, again or not.
    pub deliveries: usize,
    /// Messages an invocation reported (or failed) and that came back.
    pub returned: usize,
    /// FIFO batches whose report left out a message after a failed one.
    pub ordering_breaches: usize,
    /// The highest receive count of a message handed to an invocation.
    pub max_receive_count: u32,
}

/// A mapping.
#[derive(Debug)]
pub struct Mapping {
    /// Its settings.
    pub spec: MappingSpec,
    batches: Vec<Batch>,
    pollers: usize,
    scaled_at: Duration,
    throttled_since_scale: bool,
    /// Its counts.
    pub counts: MappingCounts,
}

impl Mapping {
    /// A mapping that has seen no message yet.
    pub fn new(spec: MappingSpec) -> Self {
        Mapping {
            spec,
            batches: Vec::new(),
            pollers: START_POLLERS,
            scaled_at: Duration::ZERO,
            throttled_since_scale: false,
            counts: MappingCounts::default(),
        }
    }

    fn capacity(&self) -> usize {
        let pollers = self.pollers.min(MAX_POLLERS);
        self.spec
            .maximum_concurrency
            .map_or(pollers, |most| pollers.min(most))
    }

    /// Does everything due at `now`: receives, invokes, retries, scales.
    pub fn pump(
        &mut self,
        index: usize,
        queue: &mut Queue,
        function: &mut Function,
        dead: &mut Vec<Message>,
        now: Duration,
    ) {
        let batch_size = match queue.spec.kind {
            QueueKind::Fifo { .. } => self.spec.batch_size.min(10),
            QueueKind::Standard => self.spec.batch_size,
        };
        let window = match queue.spec.kind {
            QueueKind::Fifo { .. } => Duration::ZERO,
            QueueKind::Standard => self.spec.window,
        };
        let visibility = queue.spec.visibility_timeout;
        for batch in &mut self.batches {
            if let State::Gathering { .. } = batch.state {
                let room = batch_size - batch.messages.len();
                batch.messages.extend(queue.receive(room, now, dead));
            }
        }
        while self.batches.len() < self.capacity() {
            let messages = queue.receive(batch_size, now, dead);
            if messages.is_empty() {
                break;
            }
            self.batches.push(Batch {
                messages,
                state: State::Gathering { since: now },
            });
        }
        let mut kept = Vec::new();
        for mut batch in std::mem::take(&mut self.batches) {
            let due = match batch.state {
                State::Gathering { since } => {
                    batch.messages.len() >= batch_size || now >= since + window
                }
                State::Throttled { retry_at, .. } => now >= retry_at,
                State::Invoking { .. } => false,
            };
            if !due {
                kept.push(batch);
                continue;
            }
            let received = batch
                .messages
                .iter()
                .map(|m| m.visible_at - visibility)
                .min()
                .unwrap_or(now);
            if matches!(batch.state, State::Throttled { .. }) && now >= received + visibility {
                self.counts.released += 1;
                continue;
            }
            match function.invoke(
                Invoker::Mapping(index),
                sqs_event(&queue.spec.name, &batch.messages),
            ) {
                Ok(task) => {
                    self.counts.invocations += 1;
                    self.counts.deliveries += batch.messages.len();
                    let most = batch.messages.iter().map(|m| m.receive_count).max();
                    self.counts.max_receive_count =
                        self.counts.max_receive_count.max(most.unwrap_or(0));
                    batch.state = State::Invoking { task };
                }
                Err(_) => {
                    self.counts.throttled += 1;
                    self.throttled_since_scale = true;
                    self.pollers = self.pollers.saturating_sub(1).max(1);
                    let backoff = match batch.state {
                        State::Throttled { backoff, .. } => {
                            (backoff * 2).min(LONGEST_THROTTLE_BACKOFF)
                        }
                        _ => FIRST_THROTTLE_BACKOFF,
                    };
                    batch.state = State::Throttled {
                        retry_at: now + backoff,
                        backoff,
                    };
                }
            }
            kept.push(batch);
        }
        self.batches = kept;
        self.scale(queue, now);
    }

    fn scale(&mut self, queue: &Queue, now: Duration) {
        if queue.len() == 0 {
            self.pollers = START_POLLERS;
            self.scaled_at = now;
            self.throttled_since_scale = false;
            return;
        }
        if now >= self.scaled_at + Duration::from_secs(1) {
            if !self.throttled_since_scale && queue.next_visible(now) == Some(now) {
                self.pollers = (self.pollers + SCALE_STEP).min(MAX_POLLERS);
            }
            self.scaled_at = now;
            self.throttled_since_scale = false;
        }
    }

    /// The next time after `now` that this mapping has something to do, besides the end of
    /// its invocations.
    pub fn next_due(&self, queue: &Queue, now: Duration) -> Option<Duration> {
        let mut due: Vec<Duration> = self
            .batches
            .iter()
            .filter_map(|batch| match batch.state {
                State::Gathering { since } => Some(since + self.spec.window),
                State::Throttled { retry_at, .. } => Some(retry_at),
                State::Invoking { .. } => None,
            })
            .collect();
        due.extend(queue.next_visible(now).filter(|at| *at > now));
        if queue.len() > 0 {
            due.push(self.scaled_at + Duration::from_secs(1));
        }
        due.into_iter().filter(|at| *at > now).min()
    }

    /// Settles the batch of a finished invocation: deletes what it did not report.
    pub fn finish(&mut self, task: TaskId, outcome: &Outcome, queue: &mut Queue) {
        let Some(position) = self
            .batches
            .iter()
            .position(|b| matches!(b.state, State::Invoking { task: t } if t == task))
        else {
            return;
        };
        let batch = self.batches.remove(position);
        let reported: BTreeSet<String> = match outcome {
            Outcome::Answered(answer) => answer["batchItemFailures"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|failure| failure["itemIdentifier"].as_str().map(str::to_owned))
                .collect(),
            Outcome::Failed(_) | Outcome::TimedOut => {
                batch.messages.iter().map(|m| m.id.clone()).collect()
            }
        };
        let mut failed_before = false;
        let mut breach = false;
        for message in &batch.messages {
            if reported.contains(&message.id) {
                self.counts.returned += 1;
                failed_before = true;
            } else {
                breach |= failed_before;
                if let Some(receipt) = &message.receipt {
                    queue.delete(receipt);
                }
            }
        }
        if breach && matches!(queue.spec.kind, QueueKind::Fifo { .. }) {
            self.counts.ordering_breaches += 1;
        }
    }
}

/// The SQS event Lambda hands the function for a batch.
pub fn sqs_event(queue: &str, messages: &[Message]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let mut attributes = json!({
                "ApproximateReceiveCount": m.receive_count.to_string(),
                "SentTimestamp": m.sent_at.as_millis().to_string(),
                "ApproximateFirstReceiveTimestamp": m.sent_at.as_millis().to_string(),
            });
            if let Some(group) = &m.group {
                attributes["MessageGroupId"] = json!(group);
            }
            let message_attributes: serde_json::Map<String, Value> = m
                .attributes
                .iter()
                .map(|(name, value)| {
                    (name.clone(), json!({ "stringValue": value, "dataType": "Number", "stringListValues": [], "binaryListValues": [] }))
                })
                .collect();
            json!({
                "messageId": m.id,
                "receiptHandle": m.receipt,
                "body": m.body,
                "attributes": attributes,
                "messageAttributes": message_attributes,
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn(queue),
                "awsRegion": crate::simulated::tasks::REGION,
            })
        })
        .collect();
    json!({ "Records": records })
}

/// A queue's ARN in the simulated account.
pub fn queue_arn(queue: &str) -> String {
    format!(
        "arn:aws:sqs:{}:{}:{queue}",
        crate::simulated::tasks::REGION,
        crate::simulated::tasks::ACCOUNT
    )
}

/// A queue's URL in the simulated account.
pub fn queue_url(queue: &str) -> String {
    format!(
        "https://sqs.{}.amazonaws.com/{}/{queue}",
        crate::simulated::tasks::REGION,
        crate::simulated::tasks::ACCOUNT
    )
}
