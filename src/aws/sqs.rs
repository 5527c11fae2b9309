//! Sending messages: packed events into the work queue (the packer), re-checks into the
//! inbox with their delay and parked events into the dead-letter queue (the writer). Which
//! messages go where is the callers' decision; this sends them in as few SendMessageBatch
//! requests as SQS's limits allow and says which SQS took.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use tracing::warn;

use crate::input::packed::{send_groups, PackedBody, MAX_MESSAGE_BYTES};

/// One message to send.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Outgoing {
    /// The body.
    pub body: String,
    /// DelaySeconds (standard queues only; zero for a FIFO queue).
    pub delay: Duration,
    /// MessageGroupId (FIFO queues only); the queue deduplicates by content.
    pub group: Option<&'static str>,
}

/// Sends `messages` to `queue_url`; for each, in order, `Ok` when SQS took it or why not.
async fn send_all(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    messages: &[Outgoing],
) -> Vec<Result<(), String>> {
    let sizes: Vec<usize> = messages.iter().map(|m| m.body.len()).collect();
    let mut sent = vec![Ok(()); messages.len()];
    for group in send_groups(&sizes, MAX_MESSAGE_BYTES) {
        let entries: Vec<SendMessageBatchRequestEntry> = group
            .clone()
            .map(|index| entry(index, &messages[index]))
            .collect();
        let answer = client
            .send_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await;
        match answer {
            Ok(output) => {
                for failed in output.failed() {
                    if let Ok(index) = failed.id().parse::<usize>() {
                        let reason = failed.message().unwrap_or_default();
                        sent[index] = Err(format!("{}: {reason}", failed.code()));
                    }
                }
            }
            Err(err) => {
                let reason = aws_sdk_sqs::error::DisplayErrorContext(&err).to_string();
                for index in group {
                    sent[index] = Err(reason.clone());
                }
            }
        }
    }
    sent
}

/// Sends packed messages to `queue_url`, each after `delay` and in `group`; the ids of the
/// received messages whose events SQS did not take (each body names the messages it
/// carries), for the caller to have delivered again. `what` names the messages in the log.
pub async fn send_packed(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    bodies: Vec<PackedBody>,
    delay: Duration,
    group: Option<&'static str>,
    what: &str,
) -> BTreeSet<String> {
    let (outgoing, sources): (Vec<Outgoing>, Vec<BTreeSet<String>>) = bodies
        .into_iter()
        .map(|body| {
            let message = Outgoing {
                body: body.body,
                delay,
                group,
            };
            (message, body.sources)
        })
        .unzip();
    let sent = send_all(client, queue_url, &outgoing).await;
    let mut unsent = BTreeSet::new();
    for (result, sources) in sent.into_iter().zip(sources) {
        if let Err(reason) = result {
            warn!(messages = ?sources, error = %reason, "could not send {what}; the queue delivers those events again");
            unsent.extend(sources);
        }
    }
    unsent
}

/// The batch entry of message `index`, named by its index.
fn entry(index: usize, message: &Outgoing) -> SendMessageBatchRequestEntry {
    let mut entry = SendMessageBatchRequestEntry::builder()
        .id(index.to_string())
        .message_body(&message.body);
    if !message.delay.is_zero() {
        entry = entry.delay_seconds(i32::try_from(message.delay.as_secs()).unwrap_or(i32::MAX));
    }
    if let Some(group) = message.group {
        entry = entry.message_group_id(group);
    }
    entry.build().expect("an id and a body are set")
}
