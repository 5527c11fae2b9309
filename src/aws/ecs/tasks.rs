//! What ECS runs now: the listing the reconcile compares with the zone, and the states
//! that confirm an event before it is trusted. Paging is the SDK's own paginators.

use std::collections::HashMap;

use aws_sdk_ecs::types::DesiredStatus;

use super::{api_error, LookupError};
use crate::input::event::{Lifecycle, TaskStatus};
use crate::plan::task::health::{HealthStatus, ReportedHealth};

/// DescribeTasks and DescribeContainerInstances take at most 100 ARNs per call.
pub const ECS_DESCRIBE_BATCH: usize = 100;

/// What DescribeTasks says of a task now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskState {
    /// Where the task is and where ECS wants it; `None` when ECS reports a status this
    /// build does not know (a newer lifecycle step), which is never taken for running.
    pub lifecycle: Option<Lifecycle>,
    /// `lastStatus/desiredStatus` as ECS spelled them, for messages.
    pub described: String,
    /// ECS's version counter for the task.
    pub version: u64,
    /// Its health, read from the same answer: no event reports health.
    pub health: ReportedHealth,
}

impl TaskState {
    /// Reads the SDK's task.
    pub fn of(task: &aws_sdk_ecs::types::Task) -> Self {
        let last = task.last_status().unwrap_or_default();
        let desired = task.desired_status().unwrap_or_default();
        let lifecycle = match (last.parse::<TaskStatus>(), desired.parse::<TaskStatus>()) {
            (Ok(last), Ok(desired)) => Some(Lifecycle { last, desired }),
            _ => None,
        };
        TaskState {
            lifecycle,
            described: format!("{last}/{desired}"),
            version: u64::try_from(task.version()).unwrap_or(0),
            health: reported_health(task),
        }
    }

    /// Whether the task is running and meant to keep running.
    pub fn is_running(&self) -> bool {
        self.lifecycle.is_some_and(Lifecycle::wants_publication)
    }

    /// Whether the task is stopping or asked to stop.
    pub fn is_stopping(&self) -> bool {
        self.lifecycle.is_some_and(Lifecycle::wants_withdrawal)
    }
}

/// The task's and its containers' health, and when it started, as DescribeTasks says.
fn reported_health(task: &aws_sdk_ecs::types::Task) -> ReportedHealth {
    let status = |raw: Option<&aws_sdk_ecs::types::HealthStatus>| {
        HealthStatus::parse(raw.map(|h| h.as_str()))
    };
    ReportedHealth {
        task: status(task.health_status()),
        containers: task
            .containers()
            .iter()
            .filter_map(|c| Some((c.name()?.to_owned(), status(c.health_status()))))
            .collect(),
        started_at: task
            .started_at()
            .and_then(|at| std::time::SystemTime::try_from(*at).ok()),
    }
}

/// The tasks of a cluster, in full, with one DescribeTasks per 100 ARNs. A task ECS no
/// longer knows is absent, and so is every task of a cluster that no longer exists.
pub async fn describe_tasks(
    ecs: &aws_sdk_ecs::Client,
    cluster_arn: &str,
    task_arns: &[String],
) -> Result<Vec<aws_sdk_ecs::types::Task>, LookupError> {
    let mut tasks = Vec::new();
    for chunk in task_arns.chunks(ECS_DESCRIBE_BATCH) {
        let sent = ecs
            .describe_tasks()
            .cluster(cluster_arn)
            .set_tasks(Some(chunk.to_vec()))
            .send()
            .await;
        let output = match sent {
            Ok(output) => output,
            // A deleted cluster runs nothing: its tasks are as gone as unknown ones.
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_cluster_not_found_exception()) =>
            {
                return Ok(Vec::new())
            }
            Err(err) => {
                return Err(api_error(
                    "DescribeTasks",
                    format!("{} tasks in {cluster_arn}", chunk.len()),
                    err,
                ))
            }
        };
        tasks.extend(output.tasks().iter().cloned());
    }
    Ok(tasks)
}

/// The current state of tasks, by task ARN.
pub async fn task_states(
    ecs: &aws_sdk_ecs::Client,
    cluster_arn: &str,
    task_arns: &[String],
) -> Result<HashMap<String, TaskState>, LookupError> {
    Ok(describe_tasks(ecs, cluster_arn, task_arns)
        .await?
        .iter()
        .filter_map(|task| Some((task.task_arn()?.to_owned(), TaskState::of(task))))
        .collect())
}

/// Every cluster of the account and region.
pub async fn list_clusters(ecs: &aws_sdk_ecs::Client) -> Result<Vec<String>, LookupError> {
    ecs.list_clusters()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<String>, _>>()
        .await
        .map_err(|e| api_error("ListClusters", "the account's clusters", e))
}

/// The clusters among `cluster_arns` that ECS does not report ACTIVE, with what it says
/// of each (`INACTIVE`: deleted; `MISSING`: unknown). One DescribeClusters per 100.
pub async fn clusters_not_active(
    ecs: &aws_sdk_ecs::Client,
    cluster_arns: &[String],
) -> Result<HashMap<String, String>, LookupError> {
    let mut gone = HashMap::new();
    for chunk in cluster_arns.chunks(ECS_DESCRIBE_BATCH) {
        let output = ecs
            .describe_clusters()
            .set_clusters(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| api_error("DescribeClusters", format!("{} clusters", chunk.len()), e))?;
        for cluster in output.clusters() {
            let status = cluster.status().unwrap_or("UNKNOWN");
            if status != "ACTIVE" {
                let arn = cluster.cluster_arn().unwrap_or_default().to_owned();
                gone.insert(arn, format!("ECS reports the cluster {status}"));
            }
        }
        for failure in output.failures() {
            let arn = failure.arn().unwrap_or_default().to_owned();
            let reason = failure.reason().unwrap_or("MISSING");
            gone.insert(arn, format!("ECS reports the cluster {reason}"));
        }
    }
    Ok(gone)
}

/// What ListTasks found in a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listed {
    /// The ARNs of its tasks.
    Tasks(Vec<String>),
    /// ECS does not know the cluster (deleted, or inactive): it runs nothing. What ECS said.
    NoCluster(String),
}

/// The ARNs of every task of a cluster that ECS wants running.
pub async fn list_running_tasks(
    ecs: &aws_sdk_ecs::Client,
    cluster_arn: &str,
) -> Result<Listed, LookupError> {
    let listed = ecs
        .list_tasks()
        .cluster(cluster_arn)
        .desired_status(DesiredStatus::Running)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<String>, _>>()
        .await;
    match listed {
        Ok(arns) => Ok(Listed::Tasks(arns)),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_cluster_not_found_exception()) =>
        {
            let reason = err
                .as_service_error()
                .and_then(|e| aws_sdk_ecs::error::ProvideErrorMetadata::message(e))
                .unwrap_or("ClusterNotFoundException")
                .to_owned();
            Ok(Listed::NoCluster(reason))
        }
        Err(err) => Err(api_error(
            "ListTasks",
            format!("tasks of {cluster_arn}"),
            err,
        )),
    }
}
