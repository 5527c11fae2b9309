//! What becomes of an event on the SQS path once the invocation is done with it, decided
//! in one place: done; looked at again after a delay; or parked.
//!
//! A failure a retry may fix (`TaskError::is_retryable`) is looked at again: a task not
//! healthy yet after HEALTH_RECHECK_SECONDS, anything else after a backoff that doubles
//! with each attempt. With a retry queue (RETRY_QUEUE_URL, the template's FIFO design)
//! the event waits there, with `DelaySeconds`, and comes back through the event queue:
//! the one consumer of the FIFO queue is the zone's only writer, and its queue never
//! waits behind a task that is not healthy yet. Messages that arrive from the retry queue
//! are only relayed back. Without a retry queue the message is reported in
//! `batchItemFailures`, its visibility first shortened when the event queue is known
//! (EVENT_QUEUE_URL). An event re-checked too often is parked in the dead-letter queue.

use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use aws_sdk_sqs::types::MessageAttributeValue;
use tracing::{error, info, warn};

use crate::input::payload::{Invocation, QueuedMessage, ATTEMPT_ATTRIBUTE};
use crate::run::deployment::Deployment;
use crate::run::report::EventOutcome;

/// Re-checks of a task waiting for health, at most (its checks settle within an hour at
/// ECS's largest settings, and the health gate itself gives up past that).
const MAX_HEALTH_RECHECKS: u32 = 400;
/// Re-checks of any other failure, at most: with the backoff, about an hour and a half.
const MAX_RECHECKS: u32 = 12;
/// The first backoff, doubled with each attempt, up to SQS's largest delay.
const FIRST_BACKOFF: Duration = Duration::from_secs(10);
const MAX_DELAY: Duration = Duration::from_secs(900);
/// The message group of the FIFO event queue: one group, one writer.
pub const MESSAGE_GROUP: &str = "ecs-srv";

/// What to do next with a failed event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Look at it again after this long.
    After(Duration),
    /// Re-checked too often: park it for a person.
    GiveUp,
}

/// When to look again at an event that failed this way on its `attempt`th re-check.
pub fn retry(awaiting_health: bool, attempt: u32, health_recheck: Duration) -> Retry {
    if awaiting_health {
        return match attempt < MAX_HEALTH_RECHECKS {
            true => Retry::After(health_recheck),
            false => Retry::GiveUp,
        };
    }
    if attempt >= MAX_RECHECKS {
        return Retry::GiveUp;
    }
    let backoff = FIRST_BACKOFF.saturating_mul(2u32.saturating_pow(attempt));
    Retry::After(backoff.min(MAX_DELAY))
}

/// Runs an SQS batch: relays what came from the retry queue, runs the events (and a
/// reconcile when a message asks for one), and decides for each retryable failure; the
/// answer names the messages the event queue must deliver again.
pub async fn answer_batch(deployment: &Deployment, invocation: Invocation) -> SqsBatchResponse {
    let calls_before = deployment.clients.calls.snapshot();
    let mut again: Vec<String> = Vec::new();
    let (relayed, inputs): (Vec<_>, Vec<_>) = invocation.inputs.into_iter().partition(|input| {
        input
            .message
            .as_ref()
            .is_some_and(|message| from_retry_queue(deployment, message))
    });
    for input in &relayed {
        let message = input.message.as_ref().expect("partitioned on a message");
        if !relay(deployment, message, &input.source).await {
            again.push(input.source.clone());
        }
    }
    let messages: Vec<Option<QueuedMessage>> =
        inputs.iter().map(|input| input.message.clone()).collect();
    let mut report = crate::run::events::process(deployment, inputs).await;
    report.log_failures();
    // The report has one outcome per input, in input order.
    for (message, outcome) in messages.iter().zip(&report.events) {
        let retryable = outcome.error.is_some() && outcome.retryable;
        if retryable && !look_again(deployment, outcome, message.as_ref()).await {
            again.push(outcome.source.clone());
        }
    }
    // The invocation's calls, relays and re-checks included, in its one metric line.
    report.api_calls = deployment.clients.calls.since(&calls_before);
    crate::run::metrics::Metrics::of_events(&report).emit();
    if !invocation.scheduled.is_empty() {
        crate::run::schedule::reconcile_from_queue(deployment).await;
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = again
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// Whether the message came from the retry queue, to be relayed back, not processed.
pub fn from_retry_queue(deployment: &Deployment, message: &QueuedMessage) -> bool {
    let retry_url = &deployment.settings.retry_queue_url;
    !retry_url.is_empty() && retry_url.rsplit('/').next() == Some(message.queue_name())
}

/// Sends a message from the retry queue back into the event queue; `false` when it could
/// not be (report it, so that SQS delivers it again).
pub async fn relay(deployment: &Deployment, message: &QueuedMessage, source: &str) -> bool {
    let settings = &deployment.settings;
    let mut request = deployment
        .clients
        .sqs
        .send_message()
        .queue_url(&settings.event_queue_url)
        .message_body(&message.body)
        .message_attributes(ATTEMPT_ATTRIBUTE, attempt_value(message.attempt));
    if settings.event_queue_url.ends_with(".fifo") {
        request = request
            .message_group_id(MESSAGE_GROUP)
            .message_deduplication_id(format!("{source}-{}", message.attempt));
    }
    match request.send().await {
        Ok(_) => true,
        Err(err) => {
            warn!(message = source, error = %aws_sdk_sqs::error::DisplayErrorContext(&err), "could not relay a re-check to the event queue; SQS delivers it again");
            false
        }
    }
}

/// Handles one failed event that a retry may fix; `false` when the event queue must
/// deliver it again (report it in `batchItemFailures`).
pub async fn look_again(
    deployment: &Deployment,
    outcome: &EventOutcome,
    message: Option<&QueuedMessage>,
) -> bool {
    let Some(message) = message else {
        return false;
    };
    let settings = &deployment.settings;
    let awaiting_health = matches!(outcome.error_kind.as_deref(), Some("NotHealthyYet"));
    let recheck = Duration::from_secs(settings.health_recheck_seconds);
    match retry(awaiting_health, message.attempt, recheck) {
        Retry::After(delay) if !settings.retry_queue_url.is_empty() => {
            delay_on_retry_queue(deployment, message, delay, &outcome.source).await
        }
        Retry::After(delay) => {
            shorten_visibility(deployment, message, delay, &outcome.source).await;
            false
        }
        Retry::GiveUp => park(deployment, message, outcome).await,
    }
}

async fn delay_on_retry_queue(
    deployment: &Deployment,
    message: &QueuedMessage,
    delay: Duration,
    source: &str,
) -> bool {
    let sent = deployment
        .clients
        .sqs
        .send_message()
        .queue_url(&deployment.settings.retry_queue_url)
        .message_body(&message.body)
        .delay_seconds(delay.as_secs() as i32)
        .message_attributes(ATTEMPT_ATTRIBUTE, attempt_value(message.attempt + 1))
        .send()
        .await;
    match sent {
        Ok(_) => {
            info!(
                message = source,
                attempt = message.attempt + 1,
                delay_secs = delay.as_secs(),
                "looked at again later, through the retry queue"
            );
            true
        }
        Err(err) => {
            warn!(message = source, error = %aws_sdk_sqs::error::DisplayErrorContext(&err), "could not delay the event on the retry queue; the event queue delivers it again");
            false
        }
    }
}

/// Makes the message visible again after `delay` rather than the queue's visibility
/// timeout (which must be long: six times the function's timeout).
async fn shorten_visibility(
    deployment: &Deployment,
    message: &QueuedMessage,
    delay: Duration,
    source: &str,
) {
    let queue = &deployment.settings.event_queue_url;
    if queue.is_empty() {
        return;
    }
    let changed = deployment
        .clients
        .sqs
        .change_message_visibility()
        .queue_url(queue)
        .receipt_handle(&message.receipt_handle)
        .visibility_timeout(delay.as_secs() as i32)
        .send()
        .await;
    if let Err(err) = changed {
        warn!(message = source, error = %aws_sdk_sqs::error::DisplayErrorContext(&err), "could not shorten the message's visibility; it comes back after the queue's timeout");
    }
}

/// Parks an event re-checked too often in the dead-letter queue; `false` when there is
/// none (or it failed), so the event queue's own redrive takes over.
async fn park(deployment: &Deployment, message: &QueuedMessage, outcome: &EventOutcome) -> bool {
    let reason = outcome.error.as_deref().unwrap_or_default();
    error!(message = %outcome.source, task = outcome.task_id.as_deref().unwrap_or("-"), attempts = message.attempt, error = reason, "event re-checked too often; parked in the dead-letter queue");
    let queue = &deployment.settings.dead_letter_queue_url;
    if queue.is_empty() {
        return false;
    }
    deployment
        .clients
        .sqs
        .send_message()
        .queue_url(queue)
        .message_body(&message.body)
        .message_attributes(ATTEMPT_ATTRIBUTE, attempt_value(message.attempt))
        .send()
        .await
        .is_ok()
}

fn attempt_value(attempt: u32) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("Number")
        .string_value(attempt.to_string())
        .build()
        .expect("a data type is given")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_waits_come_back_soon_and_other_failures_back_off() {
        let recheck = Duration::from_secs(10);
        assert_eq!(retry(true, 0, recheck), Retry::After(recheck));
        assert_eq!(
            retry(true, 50, recheck),
            Retry::After(recheck),
            "a health wait never backs off"
        );
        assert_eq!(retry(true, MAX_HEALTH_RECHECKS, recheck), Retry::GiveUp);
        assert_eq!(
            retry(false, 0, recheck),
            Retry::After(Duration::from_secs(10))
        );
        assert_eq!(
            retry(false, 3, recheck),
            Retry::After(Duration::from_secs(80))
        );
        assert_eq!(
            retry(false, 9, recheck),
            Retry::After(MAX_DELAY),
            "SQS delays 15 minutes at most"
        );
        assert_eq!(retry(false, MAX_RECHECKS, recheck), Retry::GiveUp);
    }
}
