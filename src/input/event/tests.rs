//! One test per rule, each starting from a real sample in `events/` and breaking one thing.

use serde_json::{json, Value};

use super::*;

const BRIDGE_RUNNING: &str = include_str!("../../../events/bridge-running.json");
const AWSVPC_RUNNING: &str = include_str!("../../../events/awsvpc-ec2-running.json");
const BRIDGE_ID: &str = "4b1e6a39-8c2d-4f57-b0e3-9d6c2a7f1e85";

fn sample(text: &str) -> Value {
    serde_json::from_str(text).expect("the samples in events/ are JSON")
}

fn bridge() -> Value {
    sample(BRIDGE_RUNNING)
}

fn refused(value: Value) -> EventError {
    match parse_task_event_value(value) {
        Ok(event) => panic!("expected a refusal, parsed {}", event.id),
        Err(err) => err,
    }
}

fn assert_refused_with(value: Value, fragment: &str) -> EventError {
    let err = refused(value);
    let message = err.to_string();
    assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
    err
}

#[test]
fn bridge_sample_keeps_every_field_the_planner_needs() {
    let event = parse_task_event(BRIDGE_RUNNING.as_bytes()).expect("valid sample");
    assert_eq!(event.id, BRIDGE_ID);
    assert_eq!(
        (event.account.as_str(), event.region.as_str()),
        ("123456789012", "us-east-1")
    );
    assert_eq!(event.time.as_deref(), Some("2025-06-02T09:00:09Z"));
    let task = &event.detail;
    assert_eq!(task.task_id(), "7f3c2a9e5b1d4c8fa0e6b2d9c4f1a837");
    assert_eq!(task.group.as_deref(), Some("service:web"));
    assert_eq!(task.version, 3);
    assert!(task.container_instance_arn.is_some());
    let binding = &task.containers[0].network_bindings[0];
    assert_eq!(
        (binding.container_port, binding.host_port, binding.protocol),
        (Some(80), Some(32768), Some(TransportProtocol::Tcp))
    );
    assert_eq!(task.eni_private_ipv4(), None);
}

#[test]
fn a_field_the_planner_never_reads_never_refuses_an_event() {
    for (field, value) in [
        ("launchType", json!("SPOT")),
        ("launchType", json!(7)),
        ("ephemeralStorage", json!("a lot")),
        ("inferenceAccelerators", json!({"not": "a list"})),
        ("tags", json!("x")),
        ("cpu", json!(256)),
    ] {
        let mut event = bridge();
        event["detail"][field] = value.clone();
        let parsed = parse_task_event_value(event);
        assert!(parsed.is_ok(), "{field} = {value}: {parsed:?}");
    }
    let mut event = bridge();
    event["detail"]["containers"][0]["image"] = json!({"digest": 1});
    event["detail"]["containers"][0]["exitCode"] = json!("none");
    assert!(parse_task_event_value(event).is_ok());
}

#[test]
fn unknown_fields_anywhere_are_ignored() {
    let mut event = bridge();
    event["futureEnvelopeField"] = json!(1);
    event["detail"]["futureTaskField"] = json!({"a": [1, 2]});
    event["detail"]["containers"][0]["futureContainerField"] = json!("x");
    event["detail"]["containers"][0]["networkBindings"][0]["futureBindingField"] = json!(null);
    parse_task_event_value(event).expect("unknown fields are not errors");
}

#[test]
fn null_lists_mean_empty_lists() {
    let mut event = bridge();
    event["detail"]["attachments"] = Value::Null;
    event["detail"]["containers"][0]["networkBindings"] = Value::Null;
    let parsed = parse_task_event_value(event).expect("null lists are accepted");
    assert!(parsed.detail.containers[0].network_bindings.is_empty());
}

#[test]
fn old_format_task_arn_is_accepted() {
    let mut event = bridge();
    let old = "arn:aws:ecs:us-east-1:123456789012:task/0b69d5c0-d655-4695-98cd-5d2d526d9d5a";
    event["detail"]["taskArn"] = json!(old);
    let parsed = parse_task_event_value(event).expect("old ARN format");
    assert_eq!(
        parsed.detail.task_id(),
        "0b69d5c0-d655-4695-98cd-5d2d526d9d5a"
    );
}

#[test]
fn eni_address_comes_from_the_attachment_then_the_interfaces() {
    let parsed = parse_task_event_value(sample(AWSVPC_RUNNING)).expect("valid sample");
    assert_eq!(
        parsed.detail.eni_private_ipv4(),
        Some(Ipv4Addr::new(10, 0, 1, 25))
    );

    let mut moto_style = sample(AWSVPC_RUNNING);
    moto_style["detail"]["attachments"][0]["type"] = json!("ElasticNetworkInterface");
    moto_style["detail"]["containers"][0]["networkInterfaces"] = json!([]);
    let parsed = parse_task_event_value(moto_style).expect("DescribeTasks attachment type");
    assert_eq!(
        parsed.detail.eni_private_ipv4(),
        Some(Ipv4Addr::new(10, 0, 1, 25))
    );

    let mut interfaces_only = sample(AWSVPC_RUNNING);
    interfaces_only["detail"]["attachments"] = json!([]);
    interfaces_only["detail"]["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] =
        json!("10.0.9.9");
    let parsed = parse_task_event_value(interfaces_only).expect("interfaces only");
    assert_eq!(
        parsed.detail.eni_private_ipv4(),
        Some(Ipv4Addr::new(10, 0, 9, 9))
    );
}

#[test]
fn statuses_are_ordered_by_lifecycle() {
    use TaskStatus::*;
    let lifecycle = [
        Provisioning,
        Pending,
        Activating,
        Running,
        Deactivating,
        Stopping,
        Deprovisioning,
        Stopped,
        Deleted,
    ];
    assert!(lifecycle.windows(2).all(|pair| pair[0] < pair[1]));
}

#[test]
fn publication_and_withdrawal_follow_the_design_rules() {
    use TaskStatus::*;
    let cases = [
        // (last, desired, publish, withdraw)
        (Pending, Running, false, false),
        (Running, Running, true, false),
        (Running, Stopped, false, true),
        (Deactivating, Stopped, false, true),
        (Stopping, Running, false, true),
        (Stopped, Stopped, false, true),
        (Deleted, Stopped, false, true),
        (Provisioning, Stopped, false, true),
    ];
    let template = parse_task_event(BRIDGE_RUNNING.as_bytes())
        .expect("valid sample")
        .detail;
    for (last, desired, publish, withdraw) in cases {
        let task = TaskStateChange {
            last_status: last,
            desired_status: desired,
            ..template.clone()
        };
        assert_eq!(task.wants_publication(), publish, "{last:?}/{desired:?}");
        assert_eq!(task.wants_withdrawal(), withdraw, "{last:?}/{desired:?}");
    }
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let garbage = vec![b'x'; MAX_EVENT_BYTES + 1];
    let err = parse_task_event(&garbage).expect_err("too large");
    assert_eq!(
        err,
        EventError::TooLarge {
            size: MAX_EVENT_BYTES + 1,
            limit: MAX_EVENT_BYTES
        }
    );

    let mut padded = bridge();
    padded["detail"]["stoppedReason"] = json!("x".repeat(MAX_EVENT_BYTES));
    assert!(matches!(refused(padded), EventError::TooLarge { .. }));
}

#[test]
fn input_that_is_not_a_json_object_is_refused() {
    let err = parse_task_event(b"<html>502 Bad Gateway</html>").expect_err("not JSON");
    assert!(matches!(err, EventError::NotJson { .. }), "{err}");
    let err = parse_task_event(b"").expect_err("empty");
    assert!(matches!(err, EventError::NotJson { .. }), "{err}");
    assert_eq!(
        refused(json!([1])),
        EventError::NotAnObject { found: "array" }
    );
}

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    let depth = 100_000;
    let hostile = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let err = parse_task_event(hostile.as_bytes()).expect_err("too deep");
    assert!(matches!(err, EventError::TooDeeplyNested { .. }), "{err}");
}

#[test]
fn other_event_kinds_and_sources_are_refused() {
    let mut event = bridge();
    event["detail-type"] = json!("ECS Service Action");
    let err = assert_refused_with(event, "detail-type \"ECS Service Action\"");
    assert_eq!(err.event_id(), Some(BRIDGE_ID));

    let mut event = bridge();
    event
        .as_object_mut()
        .map(|envelope| envelope.remove("detail-type"));
    assert_refused_with(event, "detail-type (missing)");

    let mut event = bridge();
    event["source"] = json!(7);
    assert_refused_with(event, "source (a JSON number)");
}

#[test]
fn envelope_must_carry_detail_id_account_and_region() {
    let mut event = bridge();
    event["detail"] = Value::Null;
    assert!(matches!(refused(event), EventError::MissingDetail { .. }));
    for field in ["id", "account", "region"] {
        let mut event = bridge();
        event.as_object_mut().map(|envelope| envelope.remove(field));
        let err = refused(event);
        assert!(
            matches!(err, EventError::MissingEnvelopeField { field: f, .. } if f == field),
            "{err}"
        );
    }
}

#[test]
fn malformed_fields_are_named_by_path_and_event() {
    let mut event = bridge();
    event["detail"]["containers"][0]["networkBindings"][0]["hostPort"] = json!(65536);
    let err = assert_refused_with(
        event,
        "detail.containers[0].networkBindings[0].hostPort: invalid value: integer `65536`",
    );
    assert!(err.to_string().contains(BRIDGE_ID), "{err}");

    let mut event = bridge();
    event["detail"]["desiredStatus"] = json!("running");
    assert_refused_with(event, "detail.desiredStatus: unknown variant `running`");

    let mut event = bridge();
    event["time"] = json!("yesterday");
    assert_refused_with(event, "malformed at time:");
}

#[test]
fn long_hostile_values_are_cut_in_messages() {
    let mut event = bridge();
    event["detail"]["version"] = json!("9".repeat(10_000));
    let message = refused(event).to_string();
    assert!(message.len() < 1_000, "{} bytes", message.len());
}

#[test]
fn a_task_needs_at_least_one_container() {
    let mut event = bridge();
    event["detail"]["containers"] = json!([]);
    assert!(matches!(refused(event), EventError::NoContainers { .. }));
}

mod names;
