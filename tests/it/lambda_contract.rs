//! The contract the function keeps with Lambda, SQS and EventBridge, tried on the real
//! binary served by a Lambda runtime API on loopback, with the environment template.yaml
//! gives it, against moto (ECS through a proxy that throttles one task's calls, as ECS
//! does past a caller's rate, until the SDK's retries run out).
//!
//! One batch mixes every kind of event: a task to publish, a task whose ECS calls are
//! throttled (retryable), a RUNNING event of a task ECS reports MISSING (withdrawn, not
//! retried), a body that is not JSON and an event with a field of the wrong type (bad input,
//! reported once, not retried), and an event of a cluster the stack does not serve
//! (ignored). The answers: exactly the retryable message goes back (or, with the inbox the
//! template creates, the retryable events of a packed message go back there together, in
//! one delayed message); the direct path fails the invocation for a retryable failure and
//! succeeds, with one error line, for bad input; the schedule repairs what no event
//! announced; and the one process answers every invocation in turn. The packer, the same
//! binary with the packer's environment, turns a batch of inbox messages into packed
//! messages on the work queue and answers for exactly the messages it could not send on.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{json, Value};

use crate::support::moto_proxy::{Faults, MotoProxy};
use crate::support::runtime_api::{Answer, Function, RuntimeApi};
use crate::support::*;
use crate::template_env::Stack;

/// Long enough for the SDK's eight throttled attempts with their backoff.
const ANSWER_WITHIN: Duration = Duration::from_secs(90);

/// An account with the clusters the batch needs, and the events for them.
struct Scene {
    zone_id: String,
    served: Vec<String>,
    good: Value,
    throttled: Value,
    missing: Value,
    unserved: Value,
    /// A second task of the throttled cluster.
    throttled_too: Value,
    good_id: String,
    throttle_marker: String,
}

async fn scene(name: &str, octet: u8) -> Scene {
    let clients = moto_clients();
    // moto lists a cluster's tasks by a substring of their cluster's ARN: no cluster name
    // here is part of another.
    let world = seed_cluster(
        &clients,
        &format!("{name}-main"),
        &format!("10.{octet}.0.0/16"),
        &[Ipv4Addr::new(10, octet, 0, 10)],
    )
    .await;
    let slow = seed_cluster(
        &clients,
        &format!("{name}-slow"),
        &format!("10.{}.0.0/16", octet + 1),
        // Two hosts: the fixed host port below fits one task a host.
        &[
            Ipv4Addr::new(10, octet + 1, 0, 10),
            Ipv4Addr::new(10, octet + 1, 0, 11),
        ],
    )
    .await;
    let other = seed_cluster(
        &clients,
        &format!("{name}-other"),
        &format!("10.{}.0.0/16", octet + 2),
        &[Ipv4Addr::new(10, octet + 2, 0, 10)],
    )
    .await;
    let zone_id = create_private_zone(&clients, &world, &format!("{name}.internal")).await;
    // A fixed host port: DescribeTasks in moto carries no network bindings, and the
    // reconcile reads tasks from DescribeTasks alone.
    let definition = register_task_definition_with(
        &clients,
        &format!("{name}-web"),
        "web",
        &[(80, Some(8080))],
        false,
    )
    .await;
    let good = running_bridge_events(&clients, &world, &definition, "service:web", 1, 32_000).await;
    let throttled =
        running_bridge_events(&clients, &slow, &definition, "service:slow", 2, 32_100).await;
    let unserved =
        running_bridge_events(&clients, &other, &definition, "service:other", 1, 32_200).await;
    let mut missing = good[0].clone();
    let missing_arn = format!(
        "{}/{}",
        world.cluster_arn.replace(":cluster/", ":task/"),
        "0123456789abcdef0123456789abcdef"
    );
    missing["detail"]["taskArn"] = json!(missing_arn);
    missing["resources"] = json!([missing_arn]);
    missing["id"] = json!("11111111-2222-3333-4444-555555555555");
    Scene {
        zone_id,
        served: vec![world.cluster_arn.clone(), slow.cluster_arn.clone()],
        good_id: task_id_of(&good[0]),
        throttle_marker: slow.cluster_arn.clone(),
        good: good[0].clone(),
        throttled: throttled[0].clone(),
        throttled_too: throttled[1].clone(),
        missing,
        unserved: unserved[0].clone(),
    }
}

/// The writer's environment from template.yaml with these parameters, and what Lambda
/// and the account add.
fn environment(
    scene: &Scene,
    proxy: &MotoProxy,
    parameters: &[(&str, &str)],
    overrides: &[(&str, String)],
) -> Vec<(String, String)> {
    let template = crate::template::template();
    let clusters = scene.served.join(",");
    let mut chosen = vec![
        ("HostedZoneId", scene.zone_id.as_str()),
        ("ClusterArns", clusters.as_str()),
    ];
    chosen.extend_from_slice(parameters);
    let variables: BTreeMap<String, String> = Stack::new(&template, &chosen).function_environment();
    with_the_account(variables, &scene.zone_id, overrides, &proxy.endpoint)
}

/// A function's variables with `overrides`, and what Lambda and the account add.
pub(crate) fn with_the_account(
    mut variables: BTreeMap<String, String>,
    zone_id: &str,
    overrides: &[(&str, String)],
    ecs_endpoint: &str,
) -> Vec<(String, String)> {
    for (name, value) in overrides {
        variables.insert((*name).to_owned(), value.clone());
    }
    let mut environment: Vec<(String, String)> = variables.into_iter().collect();
    for (name, value) in moto_env(zone_id) {
        if name != "HOSTED_ZONE_ID" && name != "RUST_LOG" {
            environment.push((name.to_owned(), value));
        }
    }
    environment.push(("AWS_ENDPOINT_URL_ECS".into(), ecs_endpoint.to_owned()));
    environment.push(("AWS_LAMBDA_FUNCTION_NAME".into(), "ecs-srv-contract".into()));
    environment.push(("AWS_LAMBDA_LOG_FORMAT".into(), "JSON".into()));
    environment
}

/// The mixed batch, as an SQS event from `queue_arn`, message ids `good`, `throttled`...
fn mixed_batch(scene: &Scene, queue_arn: &str) -> Value {
    let mut bad_field = scene.good.clone();
    bad_field["detail"]["version"] = json!("three");
    let bodies: Vec<(&str, String)> = vec![
        ("good", scene.good.to_string()),
        ("throttled", scene.throttled.to_string()),
        ("missing", scene.missing.to_string()),
        ("not-json", "{\"detail\": [not json".to_owned()),
        ("bad-field", bad_field.to_string()),
        ("unserved", scene.unserved.to_string()),
    ];
    sqs_batch(&bodies, queue_arn, 0)
}

pub(crate) fn failures(answer: &Answer) -> Vec<String> {
    let Answer::Response(response) = answer else {
        panic!("the SQS path answers, it does not fail: {answer:?}")
    };
    let mut ids: Vec<String> = response["batchItemFailures"]
        .as_array()
        .expect("a batchItemFailures list")
        .iter()
        .map(|failure| {
            failure["itemIdentifier"]
                .as_str()
                .expect("an id")
                .to_owned()
        })
        .collect();
    ids.sort();
    ids
}

async fn owned_names(zone_id: &str) -> Vec<String> {
    let clients = moto_clients();
    zone_records(&clients, zone_id)
        .await
        .into_iter()
        .filter(|(_, _, id, _)| id.as_deref().is_some_and(|id| id.starts_with("ecs-srv:")))
        .map(|(name, _, _, _)| name)
        .collect()
}

#[tokio::test]
async fn an_sqs_batch_without_an_inbox_answers_exactly_the_retryable_message() {
    let scene = scene("contract-sqs", 151).await;
    let proxy = MotoProxy::start(
        moto().endpoint(),
        Faults::throttling(&scene.throttle_marker),
    )
    .await;
    let api = RuntimeApi::start().await;
    let overrides = [("INBOX_QUEUE_URL", String::new())];
    let mut function = Function::start(&api, &environment(&scene, &proxy, &[], &overrides));
    let queue = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:events");
    let answer = api
        .invoke(&function, mixed_batch(&scene, &queue), ANSWER_WITHIN)
        .await;
    assert_eq!(failures(&answer), ["throttled"], "{answer:?}");
    assert!(
        proxy.throttled.load(std::sync::atomic::Ordering::Relaxed) >= 8,
        "ECS throttled past the SDK's retries"
    );
    let names = owned_names(&scene.zone_id).await;
    assert!(
        names.iter().any(|name| name.starts_with(&scene.good_id)),
        "the good task is published: {names:?}"
    );
    let permanent: Vec<Value> = function
        .error_lines()
        .into_iter()
        .filter(|l| l["message"] == "event failed permanently; it will not be retried")
        .collect();
    assert_eq!(
        permanent.len(),
        2,
        "bad JSON and the bad field, each once: {permanent:?}"
    );
    assert!(function.is_running(), "the process lives on");
    // And answers the next invocation: the same batch again is all duplicates.
    let again = api
        .invoke(&function, mixed_batch(&scene, &queue), ANSWER_WITHIN)
        .await;
    assert_eq!(failures(&again), ["throttled"]);
    let metrics = function.metric_lines();
    let first = &metrics[0];
    assert_eq!(first["TasksPublished"], 1, "{first}");
    assert_eq!(first["RefusedBadInput"], 2);
    assert_eq!(first["Refusals"], 2);
    assert_eq!(first["RetryableFailures"], 1);
    assert!(
        first["Route53Requests"].as_u64() >= Some(2),
        "a read and a write: {first}"
    );
    assert_eq!(
        first["EventLag"].as_array().map(Vec::len),
        Some(1),
        "one event reached DNS"
    );
    assert_eq!(metrics[1]["TasksPublished"], 0, "duplicates change nothing");
}

/// A standard queue in moto, by name; its URL.
pub(crate) async fn create_queue(name: &str, attributes: &[(QueueAttributeName, &str)]) -> String {
    let mut request = moto_clients().sqs.create_queue().queue_name(name);
    for (attribute, value) in attributes {
        request = request.attributes(attribute.clone(), *value);
    }
    let created = request.send().await.expect("CreateQueue");
    created.queue_url().expect("a URL").to_owned()
}

/// The mixed batch as the work queue delivers it: one packed message of the events (a
/// second throttled task among them) and a raw body that is not JSON.
fn packed_batch(scene: &Scene, queue_arn: &str) -> Value {
    let mut bad_field = scene.good.clone();
    bad_field["detail"]["version"] = json!("three");
    let events = [
        &scene.good,
        &scene.throttled,
        &scene.throttled_too,
        &scene.missing,
        &bad_field,
        &scene.unserved,
    ];
    let packed = json!({ "packed": events.map(|event| json!({ "attempt": 0, "event": event })) });
    let bodies = [
        ("work-1", packed.to_string()),
        ("work-2", "{\"detail\": [not json".to_owned()),
    ];
    sqs_batch(&bodies, queue_arn, 0)
}

#[tokio::test]
async fn with_the_templates_inbox_the_retryable_events_of_a_packed_message_wait_there_together() {
    let scene = scene("contract-inbox", 161).await;
    let proxy = MotoProxy::start(
        moto().endpoint(),
        Faults::throttling(&scene.throttle_marker),
    )
    .await;
    let inbox = create_queue("contract-inbox", &[]).await;
    let api = RuntimeApi::start().await;
    let overrides = [("INBOX_QUEUE_URL", inbox.clone())];
    let mut function = Function::start(&api, &environment(&scene, &proxy, &[], &overrides));
    let work_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:contract-work.fifo");
    let answer = api
        .invoke(&function, packed_batch(&scene, &work_arn), ANSWER_WITHIN)
        .await;
    assert_eq!(
        failures(&answer),
        Vec::<String>::new(),
        "nothing holds back the FIFO group"
    );
    let names = owned_names(&scene.zone_id).await;
    assert!(names.iter().any(|name| name.starts_with(&scene.good_id)));
    let sqs = &moto_clients().sqs;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&inbox)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .expect("GetQueueAttributes");
    let count = |name| {
        attributes
            .attributes()
            .and_then(|a| a.get(&name))
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    };
    assert_eq!(
        (
            count(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
            count(QueueAttributeName::ApproximateNumberOfMessages)
        ),
        (1, 0),
        "both throttled events wait in one message, delayed"
    );
    // The backoff of a first re-check is 10 s: the message turns visible within the poll.
    let received = sqs
        .receive_message()
        .queue_url(&inbox)
        .wait_time_seconds(20)
        .send()
        .await
        .expect("ReceiveMessage");
    let messages = received.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let body: Value = serde_json::from_str(messages[0].body().unwrap_or_default()).expect("JSON");
    let mut waiting: Vec<(String, u64)> = body["packed"]
        .as_array()
        .expect("a packed message")
        .iter()
        .map(|entry| {
            (
                task_id_of(&entry["event"]),
                entry["attempt"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let mut expected = vec![
        (task_id_of(&scene.throttled), 1),
        (task_id_of(&scene.throttled_too), 1),
    ];
    waiting.sort();
    expected.sort();
    assert_eq!(waiting, expected, "the events themselves, re-checked once");
    let metrics = function.metric_lines();
    assert_eq!(metrics[0]["RetryableFailures"], 2, "{}", metrics[0]);
    assert!(function.is_running());
}

#[tokio::test]
async fn the_direct_path_fails_for_a_retryable_event_and_succeeds_for_bad_input() {
    let scene = scene("contract-direct", 171).await;
    let proxy = MotoProxy::start(
        moto().endpoint(),
        Faults::throttling(&scene.throttle_marker),
    )
    .await;
    let api = RuntimeApi::start().await;
    let mut function = Function::start(
        &api,
        &environment(&scene, &proxy, &[("UseSqsQueue", "false")], &[]),
    );
    match api
        .invoke(&function, scene.throttled.clone(), ANSWER_WITHIN)
        .await
    {
        Answer::Error(error) => assert_eq!(error["errorType"], "EventsFailed", "{error}"),
        other => {
            panic!("a retryable failure fails the invocation, so Lambda retries it: {other:?}")
        }
    }
    let mut bad = scene.good.clone();
    bad["detail"]["version"] = json!("three");
    let before = function.error_lines().len();
    match api.invoke(&function, bad, ANSWER_WITHIN).await {
        Answer::Response(_) => {}
        other => panic!("bad input is reported, not retried: {other:?}"),
    }
    let lines: Vec<Value> = function.error_lines().into_iter().skip(before).collect();
    assert_eq!(lines.len(), 1, "one error line: {lines:?}");
    assert!(
        lines[0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("detail.version"),
        "it names the field: {}",
        lines[0]
    );
    match api
        .invoke(&function, scene.good.clone(), ANSWER_WITHIN)
        .await
    {
        Answer::Response(_) => {}
        other => panic!("a good event after them goes through: {other:?}"),
    }
    assert!(owned_names(&scene.zone_id)
        .await
        .iter()
        .any(|name| name.starts_with(&scene.good_id)));
    assert!(function.is_running());
}

#[tokio::test]
async fn the_schedule_repairs_what_no_event_announced() {
    let scene = scene("contract-schedule", 181).await;
    let proxy = MotoProxy::start(moto().endpoint(), Faults::default()).await;
    let api = RuntimeApi::start().await;
    let parameters = [("UseSqsQueue", "false")];
    let mut function = Function::start(&api, &environment(&scene, &proxy, &parameters, &[]));
    assert!(
        owned_names(&scene.zone_id).await.is_empty(),
        "no event was delivered"
    );
    let scheduled = json!({
        "version": "0", "id": "5e0b8c1a-0000-0000-0000-000000000001", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": ACCOUNT, "time": "2026-12-07T00:00:00Z", "region": REGION,
        "resources": [format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/ecs-srv-reconcile")], "detail": {}
    });
    match api.invoke(&function, scheduled, ANSWER_WITHIN).await {
        Answer::Response(report) => assert!(
            report["drift"].as_array().is_some_and(|d| !d.is_empty()),
            "{report}"
        ),
        other => panic!("the reconcile succeeds: {other:?}"),
    }
    let names = owned_names(&scene.zone_id).await;
    for task in [&scene.good_id, &task_id_of(&scene.throttled)] {
        assert!(
            names.iter().any(|name| name.starts_with(task.as_str())),
            "{task} published: {names:?}"
        );
    }
    assert!(
        !names.iter().any(|name| name.contains("other")),
        "an unserved cluster is left alone"
    );
    let drift = function
        .metric_lines()
        .last()
        .cloned()
        .expect("a metric line");
    assert!(drift["ReconcileDrift"].as_u64() >= Some(2), "{drift}");
    assert!(function.is_running());
}
