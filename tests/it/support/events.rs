//! Events for tests: the samples of `events/`, pointed at moto's real tasks, and the
//! SQS envelope Lambda delivers them in.

use ecs_srv::aws::AwsClients;
use serde_json::{json, Value};

use super::{repo_root, run_task, Host, World, ACCOUNT, REGION};

/// Reads a sample event from `events/`.
pub fn fixture(name: &str) -> Value {
    let path = repo_root().join("events").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// Points a sample event at a task that exists in moto: its ARN, cluster, container
/// instance and task definition, keeping everything else of the sample.
pub fn retarget(
    mut event: Value,
    task_arn: &str,
    world: &World,
    host: Option<&Host>,
    task_definition_arn: &str,
) -> Value {
    let detail = event.get_mut("detail").expect("sample has a detail");
    detail["taskArn"] = json!(task_arn);
    detail["clusterArn"] = json!(world.cluster_arn);
    detail["taskDefinitionArn"] = json!(task_definition_arn);
    if let Some(host) = host {
        detail["containerInstanceArn"] = json!(host.container_instance_arn);
    }
    if let Some(containers) = detail.get_mut("containers").and_then(Value::as_array_mut) {
        for container in containers {
            container["taskArn"] = json!(task_arn);
        }
    }
    if let Some(resources) = event.get_mut("resources") {
        *resources = json!([task_arn]);
    }
    event
}

/// The task id (last ARN segment) of a sample or retargeted event.
pub fn task_id_of(event: &Value) -> String {
    let arn = event["detail"]["taskArn"]
        .as_str()
        .expect("event has a taskArn");
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

/// An SQS event as Lambda delivers it, one message per body, with ids `m0`, `m1`...
pub fn sqs_event(bodies: &[Value]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(index, body)| {
            json!({
                "messageId": format!("m{index}"),
                "receiptHandle": "handle",
                "body": body.to_string(),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:{REGION}:{ACCOUNT}:ecs-srv-events"),
                "awsRegion": REGION
            })
        })
        .collect();
    json!({ "Records": records })
}

/// An SQS event from `queue_arn` as Lambda delivers it, one message per `(id, body)`;
/// past the first delivery (`attempt` > 0) each carries ecs-srv's attempt attribute, as
/// the function writes it when it delays a re-check.
pub fn sqs_batch(bodies: &[(&str, String)], queue_arn: &str, attempt: u32) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id, "receiptHandle": format!("receipt-{id}"), "body": body,
                "attributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn, "awsRegion": REGION,
                "messageAttributes": if attempt == 0 { json!({}) } else {
                    json!({"ecs-srv-attempt": {"stringValue": attempt.to_string(), "dataType": "Number"}})
                },
            })
        })
        .collect();
    json!({ "Records": records })
}

/// Starts `count` bridge tasks of `definition` in `group` and returns their RUNNING
/// events (the bridge sample, retargeted), with host ports from `first_host_port` on.
pub async fn running_bridge_events(
    clients: &AwsClients,
    world: &World,
    definition: &str,
    group: &str,
    count: usize,
    first_host_port: u16,
) -> Vec<Value> {
    let mut events = Vec::with_capacity(count);
    for index in 0..count {
        let (arn, instance) = run_task(clients, world, definition, group, false).await;
        let host = world
            .hosts
            .iter()
            .find(|h| Some(&h.container_instance_arn) == instance.as_ref())
            .expect("the task was placed on a seeded host");
        let mut event = retarget(
            fixture("bridge-running.json"),
            &arn,
            world,
            Some(host),
            definition,
        );
        event["detail"]["group"] = json!(group);
        let port = first_host_port + u16::try_from(index).expect("fewer than 65536 tasks");
        for binding in event["detail"]["containers"][0]["networkBindings"]
            .as_array_mut()
            .expect("the bridge sample has bindings")
        {
            binding["hostPort"] = json!(port);
        }
        events.push(event);
    }
    events
}
