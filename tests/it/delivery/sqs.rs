//! The function's SQS client, answered by the run's queues: `SendMessage`,
//! `SendMessageBatch` and `ChangeMessageVisibility` act on [`super::queue`] at the virtual
//! moment the function sends them, and SQS's refusals come back as SQS words them.
//!
//! The technique of the strict Route 53 model: each rule's matcher keeps the typed input
//! of the request in flight, and an input-free generator answers from it, so a retried
//! request is answered too. A request SQS refuses is matched by a first rule that holds
//! the refusal; the second rule applies the request.

use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_sqs::operation::change_message_visibility::{
    ChangeMessageVisibilityError, ChangeMessageVisibilityInput, ChangeMessageVisibilityOutput,
};
use aws_sdk_sqs::operation::send_message::{SendMessageError, SendMessageInput, SendMessageOutput};
use aws_sdk_sqs::operation::send_message_batch::{SendMessageBatchInput, SendMessageBatchOutput};
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, MessageAttributeValue, SendMessageBatchResultEntry,
};
use aws_smithy_mocks::{mock, Rule};
use aws_smithy_types::error::ErrorMetadata;

use super::clock::Clock;
use super::queue::{Outgoing, SqsError};
use super::sim::Queues;

/// What the function asked of SQS, for the figures.
#[derive(Debug, Default)]
pub struct SqsLedger {
    /// Messages sent, by queue name.
    pub sent: std::collections::BTreeMap<String, usize>,
    /// Visibility changes made.
    pub visibility_changes: usize,
    /// Requests (or batch entries) SQS refused, with the refusal.
    pub refused: Vec<String>,
}

/// The SQS side of a run.
#[derive(Clone, Debug)]
pub struct SqsWorld {
    /// The queues.
    pub queues: Arc<Mutex<Queues>>,
    /// The clock.
    pub clock: Clock,
    /// What was asked.
    pub ledger: Arc<Mutex<SqsLedger>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn metadata(error: &SqsError) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code(error.code)
        .message(error.message.clone())
        .build()
}

fn attributes(
    attributes: Option<&std::collections::HashMap<String, MessageAttributeValue>>,
) -> std::collections::BTreeMap<String, String> {
    attributes
        .into_iter()
        .flatten()
        .filter_map(|(name, value)| Some((name.clone(), value.string_value()?.to_owned())))
        .collect()
}

fn delay(seconds: Option<i32>) -> std::time::Duration {
    std::time::Duration::from_secs(u64::try_from(seconds.unwrap_or(0)).unwrap_or(u64::MAX))
}

impl SqsWorld {
    /// Sends one message to the queue named by `url`, at the clock's now.
    fn send(&self, url: &str, message: Outgoing) -> Result<String, SqsError> {
        let name = url.rsplit('/').next().unwrap_or_default();
        let mut queues = lock(&self.queues);
        let Some(queue) = queues.list.iter_mut().find(|q| q.spec.name == name) else {
            return Err(SqsError {
                code: "AWS.SimpleQueueService.NonExistentQueue",
                message: format!("The specified queue does not exist: {url}"),
            });
        };
        let sent = queue.send(message, self.clock.now());
        let mut ledger = lock(&self.ledger);
        match &sent {
            Ok(_) => *ledger.sent.entry(name.to_owned()).or_default() += 1,
            Err(refusal) => ledger
                .refused
                .push(format!("{}: {}", refusal.code, refusal.message)),
        }
        sent
    }

    fn send_message(&self, input: &SendMessageInput) -> Result<String, SqsError> {
        let message = Outgoing {
            body: input.message_body().unwrap_or_default().to_owned(),
            delay: delay(input.delay_seconds()),
            group: input.message_group_id().map(str::to_owned),
            deduplication_id: input.message_deduplication_id().map(str::to_owned),
            attributes: attributes(input.message_attributes()),
        };
        self.send(input.queue_url().unwrap_or_default(), message)
    }

    fn send_batch(&self, input: &SendMessageBatchInput) -> SendMessageBatchOutput {
        let url = input.queue_url().unwrap_or_default();
        // Both lists are required, empty or not.
        let mut output = SendMessageBatchOutput::builder()
            .set_successful(Some(Vec::new()))
            .set_failed(Some(Vec::new()));
        for entry in input.entries() {
            let message = Outgoing {
                body: entry.message_body().to_owned(),
                delay: delay(entry.delay_seconds()),
                group: entry.message_group_id().map(str::to_owned),
                deduplication_id: entry.message_deduplication_id().map(str::to_owned),
                attributes: attributes(entry.message_attributes()),
            };
            output = match self.send(url, message) {
                Ok(id) => output.successful(
                    SendMessageBatchResultEntry::builder()
                        .id(entry.id())
                        .message_id(id)
                        .md5_of_message_body("")
                        .build()
                        .expect("id, message id and digest are set"),
                ),
                Err(refusal) => output.failed(
                    BatchResultErrorEntry::builder()
                        .id(entry.id())
                        .sender_fault(true)
                        .code(refusal.code)
                        .message(refusal.message)
                        .build()
                        .expect("id, fault and code are set"),
                ),
            };
        }
        output.build().expect("the lists are set")
    }

    fn change_visibility(&self, input: &ChangeMessageVisibilityInput) -> Result<(), SqsError> {
        let url = input.queue_url().unwrap_or_default();
        let name = url.rsplit('/').next().unwrap_or_default();
        let now = self.clock.now();
        let mut queues = lock(&self.queues);
        let changed = match queues.list.iter_mut().find(|q| q.spec.name == name) {
            Some(queue) => queue.change_visibility(
                input.receipt_handle().unwrap_or_default(),
                delay(input.visibility_timeout()),
                now,
            ),
            None => Err(SqsError {
                code: "AWS.SimpleQueueService.NonExistentQueue",
                message: format!("The specified queue does not exist: {url}"),
            }),
        };
        let mut ledger = lock(&self.ledger);
        match &changed {
            Ok(()) => ledger.visibility_changes += 1,
            Err(refusal) => ledger
                .refused
                .push(format!("{}: {}", refusal.code, refusal.message)),
        }
        changed
    }
}

/// A pair of rules for one operation: the first answers SQS's refusal, the second the
/// request applied. `$apply` runs once per request, in the matcher, at the virtual moment
/// the function sends it.
macro_rules! applied_rules {
    ($operation:expr, $world:expr, $apply:expr, $ok:expr, $error:expr) => {{
        let outcome = Arc::new(Mutex::new(None));
        let (refused, accepted) = (Arc::clone(&outcome), Arc::clone(&outcome));
        let (apply_world, keep) = ($world.clone(), Arc::clone(&outcome));
        let decide = Arc::new(Mutex::new(None::<bool>));
        let (decide_refused, decide_accepted) = (Arc::clone(&decide), Arc::clone(&decide));
        vec![
            mock!($operation)
                .match_requests(move |input| {
                    #[allow(clippy::redundant_closure_call)]
                    let result = ($apply)(&apply_world, input);
                    let is_refused = result.is_err();
                    *lock(&keep) = Some(result);
                    *lock(&decide_refused) = Some(is_refused);
                    is_refused
                })
                .sequence()
                .error(move || {
                    let refusal = lock(&refused)
                        .clone()
                        .and_then(Result::err)
                        .expect("the matcher kept the refusal");
                    #[allow(clippy::redundant_closure_call)]
                    ($error)(metadata(&refusal))
                })
                .repeatedly()
                .build(),
            mock!($operation)
                .match_requests(move |_| lock(&decide_accepted).take() == Some(false))
                .sequence()
                .output(move || {
                    let result = lock(&accepted).clone().and_then(Result::ok);
                    #[allow(clippy::redundant_closure_call)]
                    ($ok)(result.expect("the matcher kept the answer"))
                })
                .repeatedly()
                .build(),
        ]
    }};
}

/// The rules that put the run's queues behind an SQS client.
pub fn sqs_rules(world: &SqsWorld) -> Vec<Rule> {
    let mut rules = applied_rules!(
        aws_sdk_sqs::Client::send_message,
        world,
        |world: &SqsWorld, input: &SendMessageInput| world.send_message(input),
        |id: String| SendMessageOutput::builder()
            .message_id(id)
            .md5_of_message_body("")
            .build(),
        SendMessageError::generic
    );
    rules.extend(applied_rules!(
        aws_sdk_sqs::Client::change_message_visibility,
        world,
        |world: &SqsWorld, input: &ChangeMessageVisibilityInput| world.change_visibility(input),
        |(): ()| ChangeMessageVisibilityOutput::builder().build(),
        ChangeMessageVisibilityError::generic
    ));
    let batch_world = world.clone();
    let kept = Arc::new(Mutex::new(None));
    let answer = Arc::clone(&kept);
    rules.push(
        mock!(aws_sdk_sqs::Client::send_message_batch)
            .match_requests(move |input| {
                *lock(&kept) = Some(batch_world.send_batch(input));
                true
            })
            .sequence()
            .output(move || lock(&answer).clone().expect("the matcher kept the answer"))
            .repeatedly()
            .build(),
    );
    rules
}
