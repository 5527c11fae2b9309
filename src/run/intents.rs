//! From confirmed running tasks to what their records should be: the look-ups (with their
//! warm caches), the health gate and the record layout, shared by the event path, the
//! reconcile and `status`, so that every path publishes a task alike.

use std::collections::HashMap;
use std::time::SystemTime;

use tracing::{info, warn};

use crate::aws::ecs::{HostAddresses, LookupError};
use crate::error::TaskError;
use crate::input::event::TaskStateChange;
use crate::plan::desired::desired_records;
use crate::plan::task::health::{health_verdict, HealthVerdict, ReportedHealth};
use crate::plan::task::{resolve_running_task, NetworkMode, TaskDefinitionFacts};
use crate::plan::TaskIntent;
use crate::run::deployment::Deployment;

/// A task DescribeTasks confirmed running, with the health it reported in the same answer.
pub type ConfirmedTask<'a> = (&'a TaskStateChange, ReportedHealth);

/// The records each running task of one cluster should have, by task id: its records, a
/// withdrawal while it is UNHEALTHY, or an error while its health is not known yet. Host
/// addresses are looked up once for all of them.
pub async fn publish_intents(
    deployment: &Deployment,
    cluster_arn: &str,
    running: &[ConfirmedTask<'_>],
) -> Vec<(String, Result<TaskIntent, TaskError>)> {
    let details: Vec<&TaskStateChange> = running.iter().map(|(detail, _)| *detail).collect();
    let hosts = host_addresses(deployment, cluster_arn, &details).await;
    let now = SystemTime::now();
    let mut intents = Vec::with_capacity(running.len());
    for (detail, health) in running {
        let intent = publish_intent(deployment, detail, health, now, &hosts).await;
        intents.push((detail.task_id().to_owned(), intent));
    }
    intents
}

/// The service names a task's records stand under, from its task definition: the
/// subtrees of the zone a withdrawal of it reads (with REGIONAL_NAMES, the shared names
/// that hold the latency aliases too).
pub async fn service_names(
    deployment: &Deployment,
    detail: &TaskStateChange,
) -> Result<Vec<String>, TaskError> {
    let definition = definition(deployment, detail).await?;
    let cluster = deployment
        .served_cluster(&detail.cluster_arn)
        .ok_or_else(|| TaskError::NotServed {
            cluster: detail.cluster_arn.clone(),
        })?;
    let mut names = Vec::new();
    for label in crate::plan::task::service_labels(detail, &definition) {
        let name = deployment
            .records
            .service_name(&label, &cluster)
            .map_err(TaskError::Name)?;
        names.extend(deployment.naming().shared_name(&name));
        names.push(name);
    }
    Ok(names)
}

async fn definition(
    deployment: &Deployment,
    detail: &TaskStateChange,
) -> Result<std::sync::Arc<TaskDefinitionFacts>, TaskError> {
    deployment
        .lookups
        .task_definition(&deployment.clients.ecs, &detail.task_definition_arn)
        .await
        .map_err(TaskError::Lookup)
}

/// Addresses of the EC2 hosts of bridge and host mode tasks (awsvpc tasks carry their own
/// address; asking for theirs would only cost calls).
async fn host_addresses(
    deployment: &Deployment,
    cluster_arn: &str,
    running: &[&TaskStateChange],
) -> HostAddresses {
    let mut needed: Vec<String> = running
        .iter()
        .filter(|detail| detail.eni_private_ipv4().is_none() && detail.eni_ipv6().is_none())
        .filter_map(|detail| detail.container_instance_arn.clone())
        .collect();
    needed.sort();
    needed.dedup();
    if needed.is_empty() {
        return HashMap::new();
    }
    let clients = &deployment.clients;
    deployment
        .lookups
        .instance_addresses(&clients.ecs, &clients.ec2, cluster_arn, &needed)
        .await
}

async fn publish_intent(
    deployment: &Deployment,
    detail: &TaskStateChange,
    health: &ReportedHealth,
    now: SystemTime,
    hosts: &HostAddresses,
) -> Result<TaskIntent, TaskError> {
    let definition = definition(deployment, detail).await?;
    match health_verdict(deployment.settings.health_gate, &definition, health, now) {
        HealthVerdict::Publish => {}
        HealthVerdict::Withdraw => {
            info!(
                task = detail.task_id(),
                "ECS reports the task UNHEALTHY; withdrawing it"
            );
            return Ok(TaskIntent::Withdraw);
        }
        HealthVerdict::Pending { bound, waited } => {
            return Err(TaskError::NotHealthyYet {
                status: health.task,
                waited: waited.map_or("?".to_owned(), |w| w.as_secs().to_string()),
                bound_secs: bound.as_secs(),
            })
        }
        HealthVerdict::Unsettled { bound, waited } => {
            return Err(TaskError::HealthUnsettled {
                status: health.task,
                waited_secs: waited.as_secs(),
                bound_secs: bound.as_secs(),
            })
        }
    }
    let host = match (&detail.container_instance_arn, definition.network_mode) {
        (Some(instance), NetworkMode::Bridge | NetworkMode::Host) => match hosts.get(instance) {
            Some(Ok(ip)) => Some(*ip),
            Some(Err(err)) => return Err(TaskError::Lookup(LookupError::clone(err))),
            None => None,
        },
        _ => None,
    };
    let resolution = resolve_running_task(
        detail,
        &definition,
        host,
        deployment.settings.default_weight,
    )
    .map_err(TaskError::Resolve)?;
    for warning in &resolution.warnings {
        warn!(task = detail.task_id(), "{warning}");
    }
    let records =
        desired_records(&resolution.task, &deployment.records).map_err(TaskError::Name)?;
    Ok(TaskIntent::Publish(records))
}
