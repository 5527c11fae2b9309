//! Hostile and malformed input writes nothing: every file in `events/invalid/` goes
//! through `Deployment::process` with the strict Route 53 model behind it, alone as a
//! direct invocation and inside an SQS batch next to a good event.
//!
//! Each must fail with the fragment `events/invalid/expected.json` gives for it, no
//! ChangeResourceRecordSets may be sent for it, and the good neighbour is still applied.
//! A file added to the folder is covered the moment it lands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::simulated::tasks::{simple_task, Mode};
use ecs_srv::input::event::parse_task_event;
use ecs_srv::input::payload::EventInput;
use ecs_srv::input::payload::{read_payload, Delivery};
use serde_json::{json, Value};

fn invalid_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events/invalid")
}

/// `(file name, raw bytes, expected fragment)` for every case in the folder.
fn cases() -> Vec<(String, Vec<u8>, String)> {
    let expected: BTreeMap<String, String> = serde_json::from_slice(
        &std::fs::read(invalid_dir().join("expected.json")).expect("expected.json"),
    )
    .expect("expected.json is a map");
    let mut cases: Vec<(String, Vec<u8>, String)> = std::fs::read_dir(invalid_dir())
        .expect("events/invalid")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            (name != "expected.json").then(|| {
                let fragment = expected
                    .get(&name)
                    .unwrap_or_else(|| panic!("{name} has no entry in expected.json"))
                    .clone();
                (name, std::fs::read(&path).expect("readable"), fragment)
            })
        })
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 20,
        "the catalogue is missing: {} files",
        cases.len()
    );
    cases
}

/// The direct path: what the Lambda runtime hands over (JSON) through the handler's
/// reader, or the raw bytes when they are not JSON at all (the replay's path).
fn direct(raw: &[u8]) -> Vec<EventInput> {
    match serde_json::from_slice::<Value>(raw) {
        Ok(payload) => {
            let invocation =
                read_payload(payload, "direct").expect("an object payload is an invocation");
            assert_eq!(invocation.delivery, Delivery::Direct);
            invocation.inputs
        }
        Err(_) => vec![EventInput {
            source: "direct".to_owned(),
            parsed: parse_task_event(raw),
            message: None,
        }],
    }
}

fn sqs_message(id: &str, body: String) -> Value {
    json!({
        "messageId": id,
        "receiptHandle": "handle",
        "body": body,
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ecs-srv-events",
        "awsRegion": "us-east-1"
    })
}

#[tokio::test]
async fn every_invalid_event_fails_alone_with_its_error_and_writes_nothing() {
    for (name, raw, fragment) in cases() {
        let zone = crate::simulated::empty_zone();
        let account = crate::simulated::account_with_hosts(1);
        let publisher = crate::simulated::publisher(&zone, &account).await;
        let report = ecs_srv::run::events::process(&publisher, direct(&raw)).await;
        assert_eq!(report.events.len(), 1, "{name}");
        let error = report.events[0]
            .error
            .as_deref()
            .unwrap_or_else(|| panic!("{name} was accepted: {report:?}"));
        assert!(
            error.contains(&fragment),
            "{name}: expected {fragment:?} in {error:?}"
        );
        assert!(report.batches.is_empty(), "{name}");
        let zone = zone.lock().unwrap();
        assert_eq!(
            zone.calls_to("ChangeResourceRecordSets").count(),
            0,
            "{name}: nothing sent"
        );
        assert!(
            account.lock().unwrap().calls.is_empty(),
            "{name}: refused before any look-up"
        );
    }
}

#[tokio::test]
async fn an_invalid_message_in_an_sqs_batch_fails_alone_and_its_neighbour_is_applied() {
    for (name, raw, fragment) in cases() {
        let zone = crate::simulated::empty_zone();
        let account = crate::simulated::account_with_hosts(1);
        let good = simple_task(7, Mode::Bridge, "web", 0);
        crate::simulated::set_task(&account, &good, "RUNNING", "RUNNING", 2);
        let publisher = crate::simulated::publisher(&zone, &account).await;
        let body = String::from_utf8_lossy(&raw).into_owned();
        let payload = json!({ "Records": [sqs_message("bad", body), sqs_message("good", good.event("RUNNING", "RUNNING", 2).to_string())] });
        let invocation = read_payload(payload, "sqs").expect("an SQS batch");
        assert_eq!(invocation.delivery, Delivery::Sqs);
        let report = ecs_srv::run::events::process(&publisher, invocation.inputs).await;

        assert_eq!(
            report
                .permanent_failures()
                .map(|failure| failure.source.as_str())
                .collect::<Vec<_>>(),
            vec!["bad"],
            "{name}: only the bad message failed, and for good"
        );
        assert!(
            report.retryable_sources().is_empty(),
            "{name}: bad input is reported, never redelivered: {:?}",
            report.retryable_sources()
        );
        let error = report.events[0].error.as_deref().unwrap_or_default();
        assert!(
            error.contains(&fragment),
            "{name}: expected {fragment:?} in {error:?}"
        );
        let (owned, foreign) = crate::simulated::zone_contents(&zone, &publisher);
        assert_eq!(
            owned,
            crate::simulated::expected_records(&publisher, &[&good]),
            "{name}: the neighbour is published, nothing else"
        );
        assert!(foreign.is_empty(), "{name}");
        let zone = zone.lock().unwrap();
        assert!(zone.problems().is_empty(), "{name}: {:?}", zone.problems());
        for batch in zone.accepted_batches() {
            for change in batch {
                let set = change.resource_record_set().expect("a set");
                assert!(
                    set.set_identifier()
                        .is_some_and(|id| id.contains(&good.task_id)),
                    "{name}: only the good task's sets: {set:?}"
                );
            }
        }
    }
}
