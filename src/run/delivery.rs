//! What becomes of an event on the SQS path once the invocation is done with it, decided
//! in one place: done; looked at again after a delay; or parked.
//!
//! A failure a retry may fix (`TaskError::is_retryable`) is looked at again: a task not
//! healthy yet after HEALTH_RECHECK_SECONDS, anything else after a backoff that doubles
//! with each attempt. With an inbox (INBOX_QUEUE_URL, the template's design) the events
//! due after the same delay go back to the inbox together, packed into one message with
//! `DelaySeconds`, and the packer sends them on into the work queue with the events of the
//! moment: the work queue's one writer never waits for a task that is not healthy yet,
//! and a hundred waiting tasks cost one message, not a hundred. Without an inbox the
//! message is reported in `batchItemFailures`, its visibility first shortened when the
//! event queue is known (EVENT_QUEUE_URL). An event re-checked too often is parked in the
//! dead-letter queue, packed as well, so that a redrive into the inbox brings it back.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use tracing::{error, info, warn};

use crate::aws::sqs::send_packed;
use crate::input::packed::{pack, Packable, PackedBody, PackedEvent, MAX_MESSAGE_BYTES};
use crate::input::payload::{Invocation, QueuedMessage};
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

/// Runs an SQS batch: the events (and a reconcile when a message asks for one), then what
/// becomes of each retryable failure; the answer names the messages the queue must deliver
/// again.
pub async fn answer_batch(deployment: &Deployment, invocation: Invocation) -> SqsBatchResponse {
    let calls_before = deployment.clients.calls.snapshot();
    let mut order: Vec<String> = Vec::new();
    for input in &invocation.inputs {
        if order.last() != Some(&input.source) {
            order.push(input.source.clone());
        }
    }
    let fifo = invocation
        .inputs
        .iter()
        .find_map(|input| input.message.as_ref())
        .is_some_and(|message| message.queue_name().ends_with(".fifo"));
    let messages: Vec<Option<QueuedMessage>> = invocation
        .inputs
        .iter()
        .map(|input| input.message.clone())
        .collect();
    let mut report = crate::run::events::process(deployment, invocation.inputs).await;
    report.log_failures();
    // The report has one outcome per input, in input order.
    let again = look_again(deployment, messages.iter().zip(&report.events)).await;
    // The invocation's calls, re-checks included, in its one metric line.
    report.api_calls = deployment.clients.calls.since(&calls_before);
    crate::run::metrics::Metrics::of_events(&report).emit();
    if !invocation.scheduled.is_empty() {
        crate::run::schedule::reconcile_from_queue(deployment).await;
    }
    batch_response(delivered_again(&order, &again, fifo))
}

/// The answer that asks SQS to deliver these messages again (and deletes the others).
pub fn batch_response(ids: impl IntoIterator<Item = String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = ids
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// The messages to report, in batch order. On a FIFO queue, every message after the first
/// reported one too, as the Lambda guide asks: a later message must not be deleted ahead of
/// an earlier one that comes back.
pub fn delivered_again(order: &[String], again: &BTreeSet<String>, fifo: bool) -> Vec<String> {
    let first = order.iter().position(|id| again.contains(id));
    order
        .iter()
        .enumerate()
        .filter(|(index, id)| again.contains(*id) || (fifo && first.is_some_and(|f| index > &f)))
        .map(|(_, id)| id.clone())
        .collect()
}

/// A retryable failure on its way back: the event and the message that carried it.
struct Waiting<'a> {
    message: &'a QueuedMessage,
    outcome: &'a EventOutcome,
}

/// Decides for every retryable failure and sends the re-checks and the parked events; the
/// messages the queue must deliver again (those whose events could not be sent on).
async fn look_again<'a>(
    deployment: &Deployment,
    events: impl Iterator<Item = (&'a Option<QueuedMessage>, &'a EventOutcome)>,
) -> BTreeSet<String> {
    let settings = &deployment.settings;
    let recheck = Duration::from_secs(settings.health_recheck_seconds);
    let mut again = BTreeSet::new();
    let mut later: BTreeMap<Duration, Vec<Waiting<'a>>> = BTreeMap::new();
    let mut parked = Vec::new();
    for (message, outcome) in events.filter(|(_, o)| o.error.is_some() && o.retryable) {
        let Some(message) = message else {
            again.insert(outcome.source.clone());
            continue;
        };
        let awaiting_health = matches!(outcome.error_kind.as_deref(), Some("NotHealthyYet"));
        let waiting = Waiting { message, outcome };
        match retry(awaiting_health, message.attempt, recheck) {
            Retry::After(delay) if !settings.inbox_queue_url.is_empty() => {
                later.entry(delay).or_default().push(waiting);
            }
            Retry::After(delay) => {
                shorten_visibility(deployment, message, delay, &outcome.source).await;
                again.insert(outcome.source.clone());
            }
            Retry::GiveUp => parked.push(waiting),
        }
    }
    for (delay, waiting) in later {
        again.extend(send_later(deployment, delay, &waiting).await);
    }
    again.extend(park(deployment, &parked).await);
    again
}

/// The events as packed messages, their re-check counts moved on by `next`.
fn packed(waiting: &[Waiting<'_>], next: u32) -> Vec<PackedBody> {
    let events = waiting.iter().map(|w| Packable {
        event: PackedEvent {
            attempt: w.message.attempt + next,
            event: serde_json::from_str(&w.message.body).unwrap_or(serde_json::Value::Null),
        },
        sources: BTreeSet::from([w.outcome.source.clone()]),
    });
    pack(events.collect(), BTreeSet::new(), MAX_MESSAGE_BYTES)
}

/// Sends events due after `delay` to the inbox, packed; the messages that must come back
/// because their events could not be sent.
async fn send_later(
    deployment: &Deployment,
    delay: Duration,
    waiting: &[Waiting<'_>],
) -> BTreeSet<String> {
    let queue = &deployment.settings.inbox_queue_url;
    let unsent = send_packed(
        &deployment.clients.sqs,
        queue,
        packed(waiting, 1),
        delay,
        None,
        "re-checks to the inbox",
    )
    .await;
    info!(
        events = waiting.len(),
        delay_secs = delay.as_secs(),
        "looked at again later, through the inbox"
    );
    unsent
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

/// Parks events re-checked too often in the dead-letter queue, packed; the messages whose
/// events could not be parked (all of them when there is no such queue), so that the
/// queue's own redrive takes over.
async fn park(deployment: &Deployment, parked: &[Waiting<'_>]) -> BTreeSet<String> {
    for Waiting { message, outcome } in parked {
        let reason = outcome.error.as_deref().unwrap_or_default();
        error!(message = %outcome.source, task = outcome.task_id.as_deref().unwrap_or("-"), attempts = message.attempt, error = reason, "event re-checked too often; parked in the dead-letter queue");
    }
    let queue = &deployment.settings.dead_letter_queue_url;
    if parked.is_empty() {
        return BTreeSet::new();
    }
    if queue.is_empty() {
        return parked.iter().map(|w| w.outcome.source.clone()).collect();
    }
    send_packed(
        &deployment.clients.sqs,
        queue,
        packed(parked, 0),
        Duration::ZERO,
        None,
        "parked events to the dead-letter queue",
    )
    .await
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

    #[test]
    fn a_fifo_batch_returns_everything_from_its_first_failure_on() {
        let order: Vec<String> = ["a", "b", "c", "d"].map(str::to_owned).to_vec();
        let again = BTreeSet::from(["b".to_owned()]);
        assert_eq!(delivered_again(&order, &again, false), ["b"]);
        assert_eq!(delivered_again(&order, &again, true), ["b", "c", "d"]);
        assert!(delivered_again(&order, &BTreeSet::new(), true).is_empty());
    }
}
