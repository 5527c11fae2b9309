//! Packing from real samples in `events/`: what goes in comes out, within the limits, and
//! the newest news of a task is what is kept.

use serde_json::{json, Value};

use super::*;
use crate::input::event::parse_task_event_value;

const BRIDGE_RUNNING: &str = include_str!("../../../events/bridge-running.json");

/// The sample, as task `task` at `version` with these statuses.
fn event(task: usize, version: u64, last: &str, desired: &str) -> Value {
    let mut event: Value = serde_json::from_str(BRIDGE_RUNNING).expect("a JSON sample");
    let arn = event["detail"]["taskArn"]
        .as_str()
        .expect("a task ARN")
        .to_owned();
    let (head, _) = arn.rsplit_once('/').expect("an id");
    let task_arn = format!("{head}/{task:032x}");
    event["detail"]["taskArn"] = json!(task_arn);
    event["resources"] = json!([task_arn]);
    event["detail"]["version"] = json!(version);
    event["detail"]["lastStatus"] = json!(last);
    event["detail"]["desiredStatus"] = json!(desired);
    event["id"] = json!(format!("{task}-{version}-{last}"));
    event
}

fn packable(event: Value, attempt: u32, source: &str) -> Packable {
    Packable {
        event: PackedEvent { attempt, event },
        sources: BTreeSet::from([source.to_owned()]),
    }
}

fn read(body: &PackedBody) -> PackedMessage {
    serde_json::from_str(&body.body).expect("a packed message is JSON of its own format")
}

#[test]
fn every_event_comes_out_of_the_fewest_messages_within_the_limit() {
    let events: Vec<Packable> = (0..300)
        .map(|task| packable(event(task, 2, "RUNNING", "RUNNING"), 0, &format!("m{task}")))
        .collect();
    let one = serde_json::to_string(&events[0].event).expect("JSON").len();
    let bodies = pack(events.clone(), BTreeSet::new(), MAX_MESSAGE_BYTES);
    let per_message = MAX_MESSAGE_BYTES / (one + 1);
    assert_eq!(
        bodies.len(),
        300_usize.div_ceil(per_message),
        "{one} bytes an event"
    );
    let mut out = Vec::new();
    for body in &bodies {
        assert!(body.body.len() <= MAX_MESSAGE_BYTES, "{}", body.body.len());
        let message = read(body);
        assert!(!message.reconcile);
        let ids: BTreeSet<String> = message
            .packed
            .iter()
            .map(|packed| {
                let id = packed.event["id"].as_str().expect("an id");
                format!("m{}", id.split('-').next().expect("the task"))
            })
            .collect();
        assert_eq!(
            ids, body.sources,
            "a message names exactly the messages it carries"
        );
        out.extend(message.packed);
    }
    let sent: Vec<PackedEvent> = events.into_iter().map(|p| p.event).collect();
    assert_eq!(out, sent, "whole events, in order, with their attempts");
    for packed in &out {
        assert!(parse_task_event_value(packed.event.clone()).is_ok());
    }
}

#[test]
fn an_event_larger_than_a_message_goes_alone_and_a_reconcile_rides_along() {
    let mut large = event(1, 2, "RUNNING", "RUNNING");
    large["detail"]["padding"] = json!("x".repeat(2_000));
    let small = packable(event(2, 2, "RUNNING", "RUNNING"), 3, "small");
    // Room for one small event and the reconcile request, not for two events.
    let limit = serde_json::to_string(&small.event).expect("JSON").len() + 100;
    let bodies = pack(
        vec![small.clone(), packable(large, 0, "large"), small],
        BTreeSet::from(["schedule".to_owned()]),
        limit,
    );
    let messages: Vec<PackedMessage> = bodies.iter().map(read).collect();
    assert_eq!(
        messages.iter().map(|m| m.packed.len()).collect::<Vec<_>>(),
        [1, 1, 1],
        "the large one alone, the small ones beside it"
    );
    assert!(bodies[0].body.len() <= limit && bodies[2].body.len() <= limit);
    assert!(bodies[1].body.len() > limit);
    assert_eq!(
        messages.iter().map(|m| m.reconcile).collect::<Vec<_>>(),
        [true, false, false],
        "the first message asks for the reconcile"
    );
    assert_eq!(
        bodies[0].sources,
        BTreeSet::from(["schedule".to_owned(), "small".to_owned()])
    );
    let only = pack(Vec::new(), BTreeSet::from(["schedule".to_owned()]), limit);
    assert_eq!(only.len(), 1);
    assert_eq!(
        read(&only[0]),
        PackedMessage {
            packed: Vec::new(),
            reconcile: true
        }
    );
    assert!(pack(Vec::new(), BTreeSet::new(), limit).is_empty());
}

fn kept(events: Vec<(Value, u32)>) -> Vec<(String, u32)> {
    let parsed: Vec<_> = events
        .iter()
        .map(|(event, _)| parse_task_event_value(event.clone()).expect("a valid event"))
        .collect();
    let pairs =
        parsed
            .iter()
            .zip(events.iter())
            .enumerate()
            .map(|(index, (parsed, (event, attempt)))| {
                (
                    &parsed.detail,
                    packable(event.clone(), *attempt, &index.to_string()),
                )
            });
    newest_per_task(pairs)
        .into_iter()
        .map(|p| {
            (
                p.event.event["id"].as_str().unwrap().to_owned(),
                p.event.attempt,
            )
        })
        .collect()
}

#[test]
fn the_newest_news_of_each_task_is_kept_in_any_order() {
    let running = event(1, 2, "RUNNING", "RUNNING");
    let draining = event(1, 3, "RUNNING", "STOPPED");
    let stopped = event(1, 4, "STOPPED", "STOPPED");
    let other = event(2, 2, "RUNNING", "RUNNING");
    for order in [
        vec![
            (running.clone(), 5),
            (stopped.clone(), 0),
            (draining.clone(), 0),
            (other.clone(), 0),
        ],
        vec![
            (stopped.clone(), 0),
            (other.clone(), 0),
            (draining.clone(), 1),
            (running.clone(), 5),
        ],
    ] {
        assert_eq!(
            kept(order),
            [("1-4-STOPPED".to_owned(), 0), ("2-2-RUNNING".to_owned(), 0)]
        );
    }
    assert_eq!(
        kept(vec![
            (running.clone(), 0),
            (running.clone(), 7),
            (running, 2)
        ]),
        [("1-2-RUNNING".to_owned(), 7)],
        "a duplicate keeps the highest re-check count"
    );
}

#[test]
fn send_groups_keep_to_ten_entries_and_the_byte_limit() {
    assert_eq!(send_groups(&[1; 23], 100), [0..10, 10..20, 20..23]);
    assert_eq!(
        send_groups(&[60, 30, 20, 90, 200, 5], 100),
        [0..2, 2..3, 3..4, 4..5, 5..6]
    );
    assert!(send_groups(&[], 100).is_empty());
}

/// The SQS event Lambda hands over for messages of these bodies, from `queue`.
fn sqs_event(bodies: &[(&str, String)], queue: &str) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id, "receiptHandle": format!("receipt-{id}"), "body": body,
                "attributes": {}, "messageAttributes": {}, "md5OfBody": "",
                "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                "eventSourceARN": format!("arn:aws:sqs:us-east-1:123456789012:{queue}"),
            })
        })
        .collect();
    json!({ "Records": records })
}

#[test]
fn the_payload_reader_reads_a_packed_message_as_its_events() {
    use crate::input::payload::{read_payload, Delivery};
    let events = vec![
        packable(event(1, 2, "RUNNING", "RUNNING"), 3, "a"),
        packable(event(2, 3, "RUNNING", "STOPPED"), 0, "a"),
    ];
    let body = pack(events, BTreeSet::from(["s".to_owned()]), MAX_MESSAGE_BYTES)
        .remove(0)
        .body;
    let broken = json!({ "packed": [{ "attempt": "three", "event": {} }] }).to_string();
    let raw = event(3, 2, "RUNNING", "RUNNING").to_string();
    let payload = sqs_event(
        &[("packed", body.clone()), ("broken", broken), ("raw", raw)],
        "work.fifo",
    );
    let invocation = read_payload(payload, "lambda").expect("an SQS batch");
    assert_eq!(invocation.delivery, Delivery::Sqs);
    assert_eq!(
        invocation.scheduled,
        ["packed"],
        "the packed message asks for a reconcile"
    );
    let read: Vec<(&str, Option<u32>, bool)> = invocation
        .inputs
        .iter()
        .map(|input| {
            let attempt = input.message.as_ref().map(|m| m.attempt);
            (input.source.as_str(), attempt, input.parsed.is_ok())
        })
        .collect();
    assert_eq!(
        read,
        [
            ("packed", Some(3), true),
            ("packed", Some(0), true),
            ("broken", None, false),
            ("raw", Some(0), true),
        ],
        "each event named by the message that carried it, with its own count"
    );
    let first = invocation.inputs[0].message.as_ref().expect("a message");
    let own: Value = serde_json::from_str(&first.body).expect("the event's own JSON");
    assert_eq!(own["id"], "1-2-RUNNING", "each event keeps its own body");
    assert_eq!(first.receipt_handle, "receipt-packed");
    let refusal = invocation.inputs[2].parsed.as_ref().expect_err("refused");
    assert!(
        refusal.to_string().contains("malformed at packed"),
        "{refusal}"
    );

    // Replay reads a packed message kept from a queue as it reads any event file.
    let replayed = read_payload(serde_json::from_str(&body).expect("JSON"), "kept.json")
        .expect("a packed message");
    assert_eq!(replayed.delivery, Delivery::Direct);
    assert_eq!(replayed.inputs.len(), 2);
    assert!(replayed.inputs.iter().all(|input| input.parsed.is_ok()));
}
