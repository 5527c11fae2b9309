//! The events the demo delivers: the repository's sample events from `events/`, pointed
//! at the tasks that really exist in moto.
//!
//! The samples are compiled in, so the demo binary runs from anywhere. Each one is
//! rewritten the way ECS would have written it for the seeded task: its task id,
//! container instance and task definition, the dynamic host port the demo's server got,
//! and for Fargate the loopback ENI address.

use std::net::Ipv4Addr;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use crate::account::{Account, SeededTask, FARGATE_ENI_IP};

const BRIDGE_RUNNING: &str = include_str!("../../../events/bridge-running.json");
const BRIDGE_DRAINING: &str = include_str!("../../../events/bridge-draining.json");
const BRIDGE_STOPPED: &str = include_str!("../../../events/bridge-stopped.json");
const FARGATE_RUNNING: &str = include_str!("../../../events/fargate-running.json");

/// Where a task is in its life, as an event reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// lastStatus and desiredStatus RUNNING: publish.
    Running,
    /// Still RUNNING, but desired STOPPED: withdraw at once (the containers get SIGTERM now).
    Draining,
    /// lastStatus STOPPED: withdraw whatever is left.
    Stopped,
}

impl Stage {
    /// A short word for event ids and output.
    pub fn word(self) -> &'static str {
        match self {
            Stage::Running => "running",
            Stage::Draining => "draining",
            Stage::Stopped => "stopped",
        }
    }
}

/// The event ECS sends for a bridge task of service `web` at `stage`, with its
/// container's port 80 bound to `host_port` on the task's host.
pub fn bridge_event(
    stage: Stage,
    task: &SeededTask,
    account: &Account,
    host_port: u16,
) -> Result<Value> {
    let sample = match stage {
        Stage::Running => BRIDGE_RUNNING,
        Stage::Draining => BRIDGE_DRAINING,
        Stage::Stopped => BRIDGE_STOPPED,
    };
    let mut event = retarget(sample, task, account)?;
    let host = task
        .host
        .as_ref()
        .with_context(|| format!("bridge task {} has no host", task.id))?;
    event["detail"]["containerInstanceArn"] = json!(host.container_instance_arn);
    for binding in bindings_mut(&mut event) {
        binding["hostPort"] = json!(host_port);
    }
    event["id"] = json!(format!("demo-{}-{}", stage.word(), task.id));
    Ok(event)
}

/// The RUNNING event of the Fargate task of service `api`, on [`FARGATE_ENI_IP`].
pub fn fargate_running(task: &SeededTask, account: &Account) -> Result<Value> {
    let text = FARGATE_RUNNING
        .replace("10.0.2.40", &FARGATE_ENI_IP.to_string())
        .replace("ip-10-0-2-40", &dashed_name(FARGATE_ENI_IP));
    let mut event = retarget(&text, task, account)?;
    event["id"] = json!(format!("demo-running-{}", task.id));
    Ok(event)
}

/// The host ports an event binds, for the output.
pub fn host_ports(event: &Value) -> Vec<u64> {
    let mut ports: Vec<u64> = event["detail"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["networkBindings"].as_array().into_iter().flatten())
        .filter_map(|b| b["hostPort"].as_u64())
        .collect();
    ports.dedup();
    ports
}

/// Replaces the sample's task id, cluster and task definition everywhere they appear
/// (task ARN, container ARNs, resources), so that the event is self-consistent.
fn retarget(sample: &str, task: &SeededTask, account: &Account) -> Result<Value> {
    let original: Value = serde_json::from_str(sample).context("parsing a sample event")?;
    let detail = &original["detail"];
    let field = |name: &str| -> Result<String> {
        detail[name]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("the sample event has no detail.{name}"))
    };
    let sample_task_arn = field("taskArn")?;
    let sample_task_id = sample_task_arn
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let text = sample
        .replace(&field("taskDefinitionArn")?, &task.task_definition_arn)
        .replace(&field("clusterArn")?, &account.cluster_arn)
        .replace(&sample_task_id, &task.id);
    serde_json::from_str(&text).context("parsing a retargeted sample event")
}

fn bindings_mut(event: &mut Value) -> impl Iterator<Item = &mut Value> {
    event["detail"]["containers"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .flat_map(|c| {
            c.get_mut("networkBindings")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
        })
}

fn dashed_name(ip: Ipv4Addr) -> String {
    format!("ip-{}", ip.to_string().replace('.', "-"))
}
