//! The packer's contract with Lambda and SQS, tried on the real binary served by a Lambda
//! runtime API on loopback, with the environment template.yaml gives PackerFunction (no
//! zone, no cluster: only where to pack into), against moto's SQS.
//!
//! A batch of inbox messages (EventBridge's events, an older event of a task beside its
//! newer one, a packed re-check of two tasks, an event the writer will refuse) becomes
//! packed messages on the FIFO work queue, in its one message group: each task's newest
//! event, whole, with its re-check count, and the refused event passed on for the writer to
//! refuse. The work queue here takes messages of 200,000 bytes at most, so the packer's
//! first message (256 KiB) is refused and the next taken: the answer names exactly the
//! inbox messages whose events were in the refused one.
//!
//! The same binary is the packer by PACK_INTO_QUEUE_URL alone: the packer runs no command
//! but `serve`, and a writer given no zone is refused before its first request.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use serde_json::{json, Value};

use crate::lambda_contract::{create_queue, failures, with_the_account};
use crate::support::events::fixture;
use crate::support::events::sqs_batch;
use crate::support::runtime_api::{Answer, Function, RuntimeApi};
use crate::support::*;
use crate::template_env::Stack;

const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

/// The sample's task as task `index` at `version`.
fn task_event(index: usize, version: u64) -> Value {
    let mut event = fixture("bridge-running.json");
    let arn = event["detail"]["taskArn"]
        .as_str()
        .expect("an ARN")
        .to_owned();
    let (cluster, _) = arn.rsplit_once('/').expect("a task id");
    let task_arn = format!("{cluster}/{index:032x}");
    event["detail"]["taskArn"] = json!(task_arn);
    event["resources"] = json!([task_arn]);
    event["detail"]["version"] = json!(version);
    event["id"] = json!(format!("{index}-{version}"));
    event
}

/// Every message the work queue holds now, with its group.
async fn drain(queue: &str) -> Vec<(String, Value)> {
    let sqs = &moto_clients().sqs;
    let mut found = Vec::new();
    for _ in 0..20 {
        let received = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .send()
            .await
            .expect("ReceiveMessage");
        if received.messages().is_empty() {
            break;
        }
        for message in received.messages() {
            let group = message
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId))
                .cloned()
                .unwrap_or_default();
            let body = serde_json::from_str(message.body().unwrap_or_default()).expect("JSON");
            found.push((group, body));
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("DeleteMessage");
        }
    }
    found
}

/// The binary with the packer's environment from template.yaml, packing into `work`.
async fn the_packer(work: &str) -> (RuntimeApi, Function) {
    let template = crate::template::template();
    let variables = Stack::new(&template, &[("HostedZoneId", "Z0123456789ABCDEFGHIJ")])
        .environment_of("PackerFunction");
    let names: BTreeSet<&str> = variables.keys().map(String::as_str).collect();
    assert_eq!(names, BTreeSet::from(["PACK_INTO_QUEUE_URL", "RUST_LOG"]));
    let overrides = [("PACK_INTO_QUEUE_URL", work.to_owned())];
    let environment: Vec<(String, String)> =
        with_the_account(variables, "", &overrides, moto().endpoint())
            .into_iter()
            .filter(|(name, _)| name != "HOSTED_ZONE_ID")
            .collect();
    let api = RuntimeApi::start().await;
    let function = Function::start(&api, &environment);
    (api, function)
}

#[tokio::test]
async fn an_inbox_batch_becomes_packed_messages_and_a_refused_one_answers_for_its_messages() {
    let work = create_queue(
        "packer-contract-work.fifo",
        &[
            (QueueAttributeName::FifoQueue, "true"),
            (QueueAttributeName::ContentBasedDeduplication, "true"),
            (QueueAttributeName::MaximumMessageSize, "200000"),
        ],
    )
    .await;
    let (api, mut function) = the_packer(&work).await;
    // Which inbox message carries the newest news of each task.
    let mut newest: BTreeMap<String, String> = BTreeMap::new();
    let mut bodies: Vec<(String, String)> = Vec::new();
    for index in 1..200 {
        let id = format!("m{index}");
        newest.insert(format!("{index:032x}"), id.clone());
        bodies.push((id, task_event(index, 2).to_string()));
    }
    bodies.push(("old-0".to_owned(), task_event(0, 1).to_string()));
    bodies.push(("new-0".to_owned(), task_event(0, 2).to_string()));
    newest.insert(format!("{:032x}", 0), "new-0".to_owned());
    let recheck = json!({ "packed": [
        { "attempt": 4, "event": task_event(300, 2) },
        { "attempt": 4, "event": task_event(301, 2) },
    ]});
    bodies.push(("recheck".to_owned(), recheck.to_string()));
    for index in [300, 301] {
        newest.insert(format!("{index:032x}"), "recheck".to_owned());
    }
    let mut refused = task_event(400, 2);
    refused["detail"]["version"] = json!("three");
    bodies.push(("bad-field".to_owned(), refused.to_string()));
    let named: Vec<(&str, String)> = bodies
        .iter()
        .map(|(id, b)| (id.as_str(), b.clone()))
        .collect();
    let inbox_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:packer-contract-inbox");
    let answer = api
        .invoke(&function, sqs_batch(&named, &inbox_arn, 0), ANSWER_WITHIN)
        .await;
    let answered: BTreeSet<String> = failures(&answer).into_iter().collect();

    let mut packed: BTreeMap<String, u64> = BTreeMap::new();
    let mut passed_on = Vec::new();
    for (group, body) in drain(&work).await {
        assert_eq!(group, "ecs-srv", "the work queue's one message group");
        for entry in body["packed"].as_array().expect("a packed message") {
            let event = &entry["event"];
            if event["detail"]["version"] == json!("three") {
                passed_on.push(event.clone());
                continue;
            }
            assert_eq!(
                event["detail"]["version"], 2,
                "only the newest news: {event}"
            );
            let task = task_id_of(event);
            assert!(packed
                .insert(task, entry["attempt"].as_u64().unwrap_or(0))
                .is_none());
        }
    }
    assert!(
        !packed.is_empty() && !answered.is_empty(),
        "one message taken, one refused"
    );
    let unsent: BTreeSet<String> = newest
        .iter()
        .filter(|(task, _)| !packed.contains_key(*task))
        .map(|(_, message)| message.clone())
        .collect();
    let mut expected = unsent;
    if passed_on.is_empty() {
        expected.insert("bad-field".to_owned());
    }
    assert_eq!(
        answered, expected,
        "exactly the messages whose events are not on the work queue"
    );
    assert!(
        !answered.contains("old-0"),
        "superseded news is never asked for again"
    );
    for (task, attempt) in &packed {
        let rechecked = newest.get(task).is_some_and(|m| m == "recheck");
        assert_eq!(*attempt, if rechecked { 4 } else { 0 }, "{task}");
    }
    assert!(function.is_running());

    // A direct invocation is not the packer's to run.
    match api
        .invoke(&function, task_event(500, 2), ANSWER_WITHIN)
        .await
    {
        Answer::Error(error) => assert_eq!(error["errorType"], "NotAnSqsBatch", "{error}"),
        other => panic!("the packer reads SQS batches only: {other:?}"),
    }
    assert!(function.is_running(), "and lives on");
}

/// One binary, two roles, told apart by PACK_INTO_QUEUE_URL alone: the packer serves the
/// runtime API and runs nothing else, and a writer without a zone is refused before it sends
/// a request. Neither needs the network to say so.
#[test]
fn the_packer_only_serves_and_the_writer_needs_its_zone() {
    let refused = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_ecs-srv"))
            .args(args)
            .env_clear()
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("running ecs-srv");
        assert!(!output.status.success(), "{args:?} is refused");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let work = "https://sqs.us-east-1.amazonaws.com/123456789012/ecs-srv-work.fifo";
    let said = refused(&["--pack-into-queue-url", work, "status"]);
    assert!(
        said.contains("PACK_INTO_QUEUE_URL makes this process the packer"),
        "{said}"
    );
    let said = refused(&["--hosted-zone-id", "", "status"]);
    assert!(said.contains("HOSTED_ZONE_ID is empty"), "{said}");
    assert!(
        !said.contains("GetCallerIdentity"),
        "refused before any request: {said}"
    );
}
