//! What ECS runs in the clusters a deployment serves, each running task decided as the
//! event path would decide it: the reconcile's and `status`'s view of ECS.

use std::collections::BTreeMap;

use tracing::{info, warn};

use crate::aws::ecs::described::task_event;
use crate::aws::ecs::tasks::{
    clusters_not_active, describe_tasks, list_clusters, list_running_tasks, task_states, Listed,
};
use crate::aws::ecs::{LookupError, TaskState};
use crate::error::TaskError;
use crate::input::event::TaskStateChange;
use crate::plan::task::health::ReportedHealth;
use crate::plan::TaskIntent;
use crate::run::deployment::Deployment;
use crate::run::intents::{publish_intents, ConfirmedTask};

/// Every listed task: its intent and where it lives.
#[derive(Debug, Default)]
pub struct Listing {
    /// The clusters compared, by ARN (or as named in CLUSTERS).
    pub clusters: Vec<String>,
    /// Clusters named in CLUSTERS that ECS no longer knows (deleted or inactive), with
    /// what ECS said: they run nothing, and the others are repaired all the same.
    pub skipped_clusters: BTreeMap<String, String>,
    /// Task id → (cluster ARN, task ARN), of every listed task.
    pub located: BTreeMap<String, (String, String)>,
    /// Task id → its event-shaped detail and the health ECS reported.
    pub described: BTreeMap<String, (TaskStateChange, ReportedHealth)>,
    /// What should become of each task that can be decided.
    pub intents: Vec<(String, TaskIntent)>,
    /// Tasks ECS reports running and wanted running.
    pub running: usize,
    /// Tasks whose records cannot be worked out, with the reason.
    pub failures: BTreeMap<String, TaskError>,
    /// Running tasks left as they are until ECS reports their health.
    pub awaiting_health: BTreeMap<String, TaskError>,
    /// Tasks with records that ECS no longer lists as wanted running but still describes,
    /// stopping: `lastStatus/desiredStatus`.
    pub stopping: BTreeMap<String, String>,
}

/// Lists every task ECS wants running in the served clusters, and decides each. A
/// cluster ECS does not know is skipped and reported; any other listing failure aborts
/// with nothing decided.
pub async fn list_ecs(deployment: &Deployment) -> Result<Listing, LookupError> {
    let ecs = &deployment.clients.ecs;
    let clusters = if deployment.settings.clusters.is_empty() {
        list_clusters(ecs).await?
    } else {
        let identity = deployment.naming().identity();
        identity
            .clusters
            .iter()
            .map(|cluster| cluster.arn())
            .collect()
    };
    let mut listing = Listing::default();
    let not_active = clusters_not_active(ecs, &clusters).await?;
    for cluster in &clusters {
        if let Some(reason) = not_active.get(cluster) {
            warn!(cluster = %cluster, reason = %reason, "cluster not active (deleted or inactive); skipped, the others are repaired");
            listing
                .skipped_clusters
                .insert(cluster.clone(), reason.clone());
            continue;
        }
        let arns = match list_running_tasks(ecs, cluster).await? {
            Listed::Tasks(arns) => arns,
            Listed::NoCluster(reason) => {
                warn!(cluster = %cluster, reason = %reason, "cluster not found (deleted or inactive); skipped, the others are repaired");
                listing.skipped_clusters.insert(cluster.clone(), reason);
                continue;
            }
        };
        list_cluster(deployment, cluster, &arns, &mut listing).await?;
    }
    listing.clusters = clusters;
    Ok(listing)
}

async fn list_cluster(
    deployment: &Deployment,
    cluster: &str,
    arns: &[String],
    listing: &mut Listing,
) -> Result<(), LookupError> {
    let details = described_details(&deployment.clients.ecs, cluster, arns).await?;
    for (detail, health) in &details {
        let task_id = detail.task_id().to_owned();
        listing.located.insert(
            task_id.clone(),
            (cluster.to_owned(), detail.task_arn.clone()),
        );
        listing
            .described
            .insert(task_id.clone(), (detail.clone(), health.clone()));
        if detail.wants_withdrawal() {
            listing.intents.push((task_id, TaskIntent::Withdraw));
        }
    }
    let running: Vec<ConfirmedTask<'_>> = details
        .iter()
        .filter(|(detail, _)| detail.wants_publication())
        .map(|(detail, health)| (detail, health.clone()))
        .collect();
    listing.running += running.len();
    for (task_id, intent) in publish_intents(deployment, cluster, &running).await {
        match intent {
            Ok(intent) => listing.intents.push((task_id, intent)),
            Err(reason) if reason.is_awaiting_health() => {
                info!(task = %task_id, reason = %reason, "left as it is until ECS reports its health");
                listing.awaiting_health.insert(task_id, reason);
            }
            Err(reason) => {
                warn!(task = %task_id, error = %reason, "cannot publish this task; its records are left as they are");
                listing.failures.insert(task_id, reason);
            }
        }
    }
    Ok(())
}

/// DescribeTasks' view of some tasks, as planner input, through the event parser, each
/// with the health the same answer reported.
async fn described_details(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    arns: &[String],
) -> Result<Vec<(TaskStateChange, ReportedHealth)>, LookupError> {
    let mut details = Vec::new();
    for task in describe_tasks(ecs, cluster, arns).await? {
        match task_event(&task) {
            Ok(event) => details.push((event.detail, TaskState::of(&task).health)),
            Err(err) => {
                warn!(task = task.task_arn().unwrap_or_default(), error = %err, "DescribeTasks returned a task ecs-srv cannot read; skipped")
            }
        }
    }
    Ok(details)
}

/// Of the tasks that have records but were not listed, those ECS does not know as
/// running in any cluster: they started after the listing, or they are stopping or gone
/// (a stopping one is noted in `listing.stopping`).
pub async fn confirm_orphans(
    deployment: &Deployment,
    listing: &mut Listing,
    orphans: Vec<String>,
) -> Result<Vec<String>, LookupError> {
    let mut gone: std::collections::BTreeSet<String> = orphans.into_iter().collect();
    for cluster in &listing.clusters {
        if gone.is_empty() {
            break;
        }
        let ids: Vec<String> = gone.iter().cloned().collect();
        let states = task_states(&deployment.clients.ecs, cluster, &ids).await?;
        for (arn, state) in states {
            let id = arn.rsplit('/').next().unwrap_or_default();
            if state.is_running() {
                gone.remove(id);
            } else if state.is_stopping() {
                listing
                    .stopping
                    .insert(id.to_owned(), state.described.clone());
            }
        }
    }
    Ok(gone.into_iter().collect())
}
