//! Names and ARNs: what an event may call its task, cluster, group and containers.

use super::*;

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
