//! The SQS path, simplified for the scale tests: batches of `SqsBatchSize` (10) events, one
//! `ecs_srv::run::events::process` per batch, and every event the invocation reports as
//! retryable delivered again after the ones already waiting, as a re-check sent back through
//! the inbox comes back behind the events of the moment, until it has come back
//! [`MAX_RECEIVE_COUNT`] times and counts as dead-lettered. The template's packer puts
//! hundreds of events in each of a batch's ten messages; ten events a batch gives these tests
//! more invocations, each merging fewer tasks, which is the harder case for the zone's limits.
//! (The delivery simulation, `tests/it/delivery`, models the template's queues as they are.)
//!
//! A message that keeps failing (a name at Route 53's 100 weighted sets) would be tried
//! for an hour; delivering stops instead once every waiting message has failed since the
//! last one that went through, and the ones left are the refused tasks. They stay queued,
//! so a later phase (old tasks draining) gives them their chance, as SQS would.

use std::collections::{BTreeSet, VecDeque};

use ecs_srv::run::deployment::Deployment;
use ecs_srv::run::report::InvocationReport;
use serde_json::{json, Value};

use crate::simulated::inputs;

/// The template's `SqsBatchSize` default (`BatchSize: !Ref SqsBatchSize`), here in events.
pub const SQS_BATCH_SIZE: usize = 10;
/// How often an event may come back before it counts as dead-lettered: more than any
/// re-check count the writer allows, so that only a task that can never be published is left.
pub const MAX_RECEIVE_COUNT: u32 = 120;
/// Invocations one delivery run may take at most: far above what any scenario needs.
const MAX_INVOCATIONS: usize = 20_000;

#[derive(Debug)]
struct Message {
    event: Value,
    receives: u32,
}

/// Counts over a delivery run.
#[derive(Clone, Debug, Default)]
pub struct Delivered {
    /// Lambda invocations (SQS batches).
    pub invocations: usize,
    /// Messages handed to an invocation, redeliveries included.
    pub deliveries: usize,
    /// Deliveries whose event failed (then redelivered, dead-lettered or dropped).
    pub failed: usize,
    /// Failures the publisher called permanent (not redelivered).
    pub permanent: usize,
    /// Messages that reached the dead-letter queue.
    pub dead_lettered: usize,
    /// Invocations whose report named a whole SRV set it could not bring in line.
    pub whole_set_error_invocations: usize,
    /// The first error of the run, as the publisher worded it.
    pub first_error: Option<String>,
    /// The first whole SRV set problem of the run.
    pub first_whole_set_error: Option<String>,
    /// Whether the run ended by itself (queue empty, or every message left failed since
    /// the last success) rather than at the invocation bound.
    pub settled: bool,
    /// Messages still waiting at the end: their tasks were refused.
    pub left: usize,
    /// The tasks of those messages.
    pub refused_tasks: BTreeSet<String>,
}

impl Delivered {
    /// The counts as JSON, for the figures.
    pub fn figures(&self) -> Value {
        json!({
            "invocations": self.invocations,
            "deliveries": self.deliveries,
            "failed_deliveries": self.failed,
            "permanent_failures": self.permanent,
            "dead_lettered": self.dead_lettered,
            "whole_set_error_invocations": self.whole_set_error_invocations,
            "first_error": self.first_error,
            "first_whole_set_error": self.first_whole_set_error,
            "settled": self.settled,
            "refused_tasks": self.refused_tasks.len(),
        })
    }
}

/// The queue of events on their way to the writer.
#[derive(Debug, Default)]
pub struct SqsQueue {
    waiting: VecDeque<Message>,
}

fn task_id(event: &Value) -> String {
    event["detail"]["taskArn"]
        .as_str()
        .and_then(|arn| arn.rsplit('/').next())
        .unwrap_or_default()
        .to_owned()
}

impl SqsQueue {
    /// Queues events, in order, behind those waiting.
    pub fn send(&mut self, events: Vec<Value>) {
        self.waiting.extend(
            events
                .into_iter()
                .map(|event| Message { event, receives: 0 }),
        );
    }

    /// Delivers batches until the queue is empty or stalls; `after` runs after each
    /// invocation.
    pub async fn deliver(
        &mut self,
        publisher: &Deployment,
        mut after: impl FnMut(&InvocationReport),
    ) -> Delivered {
        let mut run = Delivered::default();
        // Deliveries that failed since the last one that went through. The queue is
        // first in, first out, so once it reaches the queue's length every waiting
        // message has failed since then, and nothing is left that could change.
        let mut failed_since_success = 0;
        while !self.waiting.is_empty() && failed_since_success < self.waiting.len() {
            if run.invocations == MAX_INVOCATIONS {
                run.left = self.waiting.len();
                run.refused_tasks = self.waiting.iter().map(|m| task_id(&m.event)).collect();
                return run;
            }
            let take = SQS_BATCH_SIZE.min(self.waiting.len());
            let batch: Vec<Message> = self.waiting.drain(..take).collect();
            let report = ecs_srv::run::events::process(
                publisher,
                inputs(batch.iter().map(|m| m.event.clone())),
            )
            .await;
            after(&report);
            run.invocations += 1;
            if let Some(problem) = report.name_errors.first() {
                run.whole_set_error_invocations += 1;
                run.first_whole_set_error
                    .get_or_insert_with(|| problem.clone());
            }
            assert_eq!(
                report.events.len(),
                batch.len(),
                "one outcome per message, in order"
            );
            for (mut message, outcome) in batch.into_iter().zip(&report.events) {
                run.deliveries += 1;
                message.receives += 1;
                let Some(error) = &outcome.error else {
                    failed_since_success = 0;
                    continue;
                };
                run.failed += 1;
                run.first_error.get_or_insert_with(|| error.clone());
                if !outcome.retryable {
                    run.permanent += 1;
                } else if message.receives >= MAX_RECEIVE_COUNT {
                    run.dead_lettered += 1;
                } else {
                    failed_since_success += 1;
                    self.waiting.push_back(message);
                }
            }
        }
        run.settled = true;
        run.left = self.waiting.len();
        run.refused_tasks = self.waiting.iter().map(|m| task_id(&m.event)).collect();
        run
    }
}
