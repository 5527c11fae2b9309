//! One test per rule, each starting from a real sample in `events/` and breaking one thing.

use serde_json::{json, Value};

use super::*;

const BRIDGE_RUNNING: &str = include_str!("../../events/bridge-running.json");
const AWSVPC_RUNNING: &str = include_str!("../../events/awsvpc-ec2-running.json");
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
    assert_eq!(task.launch_type, Some(LaunchType::Ec2));
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
    event["detail"]["launchType"] = json!("MANAGED");
    assert_refused_with(event, "expected one of `EC2`, `FARGATE`, `EXTERNAL`");

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

#[test]
fn arns_must_belong_to_the_events_account_and_region() {
    let mut event = bridge();
    event["account"] = json!("210987654321");
    assert_refused_with(
        event,
        "task ARN account \"123456789012\" (detail.taskArn) does not match the event's account \"210987654321\"",
    );

    let mut event = bridge();
    event["region"] = json!("eu-west-1");
    assert_refused_with(event, "task ARN region \"us-east-1\"");

    let mut event = bridge();
    event["detail"]["clusterArn"] = json!("arn:aws:ecs:us-east-1:999999999999:cluster/demo");
    assert_refused_with(
        event,
        "cluster ARN account \"999999999999\" (detail.clusterArn)",
    );

    let mut event = bridge();
    event["detail"]["taskDefinitionArn"] =
        json!("arn:aws:ecs:us-west-2:123456789012:task-definition/web:7");
    assert_refused_with(event, "task definition ARN region \"us-west-2\"");

    let mut event = bridge();
    event["detail"]["containerInstanceArn"] =
        json!("arn:aws:ecs:us-east-1:999999999999:container-instance/demo/1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6");
    assert_refused_with(event, "container instance ARN account");
}

#[test]
fn arns_must_have_the_ecs_shape() {
    let cases = [
        ("taskArn", "not-an-arn", "detail.taskArn"),
        (
            "taskArn",
            "arn:aws:ecs:us-east-1:123456789012:task/demo/7F3C",
            "detail.taskArn",
        ),
        (
            "clusterArn",
            "arn:aws:ecs:us-east-1:123456789012:cluster/de.mo",
            "detail.clusterArn",
        ),
        (
            "taskDefinitionArn",
            "arn:aws:ecs:us-east-1:123456789012:task-definition/web",
            "detail.taskDefinitionArn",
        ),
        (
            "containerInstanceArn",
            "arn:aws:ecs:us-east-1:123456789012:instance/i-1",
            "detail.containerInstanceArn",
        ),
    ];
    for (field, value, path) in cases {
        let mut event = bridge();
        event["detail"][field] = json!(value);
        let err = refused(event);
        assert!(
            matches!(&err, EventError::InvalidValue { path: p, .. } if p == path),
            "{field}={value}: {err}"
        );
    }
}

#[test]
fn task_and_cluster_arns_must_name_the_same_cluster() {
    let mut event = bridge();
    event["detail"]["clusterArn"] = json!("arn:aws:ecs:us-east-1:123456789012:cluster/prod");
    assert!(matches!(refused(event), EventError::ClusterMismatch { .. }));
}

#[test]
fn groups_must_be_service_family_or_custom_with_an_ecs_name() {
    for good in [
        "service:web",
        "family:batch-job",
        "service:_Legacy_API-v2",
        "databases",
    ] {
        let mut event = bridge();
        event["detail"]["group"] = json!(good);
        parse_task_event_value(event).unwrap_or_else(|err| panic!("{good}: {err}"));
    }
    let long = format!("service:{}", "a".repeat(300));
    for bad in [
        "service:",
        "service:a.b",
        "family:*",
        "service:wéb",
        "task:x",
        &long,
    ] {
        let mut event = bridge();
        event["detail"]["group"] = json!(bad);
        let err = refused(event);
        assert!(
            matches!(&err, EventError::InvalidValue { path, .. } if path == "detail.group"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn container_names_follow_the_ecs_charset() {
    let mut event = bridge();
    event["detail"]["containers"][0]["name"] = json!("_Under_score-ok");
    parse_task_event_value(event).expect("underscores are legal in ECS");
    for bad in ["", "a.b", "*", "ウェブ", "line\nbreak", &"n".repeat(256)] {
        let mut event = bridge();
        event["detail"]["containers"][0]["name"] = json!(bad);
        let err = refused(event);
        assert!(
            matches!(&err, EventError::InvalidValue { path, .. } if path == "detail.containers[0].name"),
            "{bad}: {err}"
        );
        assert!(!err.to_string().contains('\n'), "messages stay on one line");
    }
}

#[test]
fn addresses_must_parse_as_ipv4() {
    let mut event = sample(AWSVPC_RUNNING);
    event["detail"]["attachments"][0]["details"][4]["value"] = json!("10.0.1");
    assert_refused_with(event, "detail.attachments[0].details[4].value = \"10.0.1\"");

    let mut event = sample(AWSVPC_RUNNING);
    event["detail"]["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] =
        json!("fe80::1");
    assert_refused_with(
        event,
        "detail.containers[0].networkInterfaces[0].privateIpv4Address: invalid IPv4 address",
    );

    let mut event = sample(AWSVPC_RUNNING);
    event["detail"]["attachments"][0]["type"] = json!("Service Connect");
    event["detail"]["attachments"][0]["details"][4]["value"] = json!("not an address");
    parse_task_event_value(event).expect("only the ENI's address is ours to check");
}
