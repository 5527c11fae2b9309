//! The packer: the SQS path's second function, from the same binary, told only where to
//! send (PACK_INTO_QUEUE_URL).
//!
//! EventBridge puts every task event on the inbox, a standard queue whose event source
//! mapping gathers them for a batching window; the writer puts its re-checks there too,
//! with their delay. The packer keeps the newest event of each task (the writer's own rule,
//! [`crate::input::packed::newest_per_task`]), packs the whole events into as few messages
//! as SQS takes, and sends them into the work queue: a FIFO queue of one message group,
//! which the writer reads ten messages at a time, one batch at a time. A deploy's events
//! thus reach the one writer in a few large batches rather than many small ones.
//!
//! The packer judges nothing else: an event the writer would refuse is passed on for the
//! writer to refuse and count, and a scheduled event that reached the inbox becomes a
//! packed message's reconcile request. It calls SQS alone. The inbox messages whose events
//! could not be sent come back in `batchItemFailures`; a duplicate in the work queue is
//! harmless (the writer keeps the newest news of a task, and content-based deduplication
//! drops an identical message within five minutes).

use std::collections::BTreeSet;
use std::time::Duration;

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing::{error, info};

use crate::aws::sqs::send_packed;
use crate::input::packed::{newest_per_task, pack, Packable, PackedEvent, MAX_MESSAGE_BYTES};
use crate::input::payload::{read_payload, Delivery, Invocation};
use crate::run::delivery::batch_response;

/// The one message group of the work queue: one group, one batch at a time, one writer.
pub const MESSAGE_GROUP: &str = "ecs-srv";

/// What the packer needs: SQS, and the work queue.
#[derive(Clone, Debug)]
pub struct Packer {
    /// The SQS client.
    pub sqs: aws_sdk_sqs::Client,
    /// The work queue's URL (FIFO).
    pub work_queue_url: String,
}

/// The packer's Lambda handler: an SQS batch from the inbox in, packed messages out.
pub async fn handle(event: LambdaEvent<Value>, packer: &Packer) -> Result<Value, Diagnostic> {
    let invocation = read_payload(event.payload, &event.context.request_id)?;
    if invocation.delivery != Delivery::Sqs {
        return Err(Diagnostic {
            error_type: "NotAnSqsBatch".to_owned(),
            error_message: "the packer reads SQS batches from its inbox; send task events to the inbox, or invoke the writer".to_owned(),
        });
    }
    let response = pack_batch(packer, invocation).await;
    Ok(serde_json::to_value(response).unwrap_or(Value::Null))
}

/// Packs one batch and sends it on; the answer names the inbox messages to deliver again.
async fn pack_batch(
    packer: &Packer,
    invocation: Invocation,
) -> aws_lambda_events::event::sqs::SqsBatchResponse {
    let received = invocation.inputs.len();
    let mut candidates = Vec::new();
    let mut refused = Vec::new();
    for input in &invocation.inputs {
        let Some(message) = &input.message else {
            if let Err(err) = &input.parsed {
                error!(message = %input.source, error = %err, "event refused; there is nothing to pass on");
            }
            continue;
        };
        let event = serde_json::from_str::<Value>(&message.body)
            .unwrap_or_else(|_| Value::String(message.body.clone()));
        let packable = Packable {
            event: PackedEvent {
                attempt: message.attempt,
                event,
            },
            sources: BTreeSet::from([input.source.clone()]),
        };
        match &input.parsed {
            Ok(parsed) => candidates.push((&parsed.detail, packable)),
            Err(_) => refused.push(packable),
        }
    }
    let mut events = newest_per_task(candidates);
    let newest = events.len();
    events.extend(refused);
    let reconcile: BTreeSet<String> = invocation.scheduled.into_iter().collect();
    let bodies = pack(events, reconcile, MAX_MESSAGE_BYTES);
    let packed_messages = bodies.len();
    let again = send_packed(
        &packer.sqs,
        &packer.work_queue_url,
        bodies,
        Duration::ZERO,
        Some(MESSAGE_GROUP),
        "packed events to the work queue",
    )
    .await;
    info!(
        events = received,
        newest,
        packed_messages,
        returned = again.len(),
        "inbox events packed into the work queue"
    );
    batch_response(again)
}
