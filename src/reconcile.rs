//! The scheduled repair: compare what ECS runs with what the zone holds, and fix both
//! sides. It catches lost events, hosts that died without telling anyone, and records
//! left behind by older versions.
//!
//! The zone is read *before* ECS is listed. A task that an event stream withdraws in the
//! meantime is then seen as stopping by the listing, so the reconcile withdraws it too
//! instead of bringing it back; a task that starts in the meantime is confirmed with
//! DescribeTasks before its records are treated as orphans. Any listing failure aborts
//! the reconcile with nothing written: a partial view must never withdraw live tasks.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ecs::error::DisplayErrorContext;
use aws_sdk_ecs::types::DesiredStatus;
use tracing::{info, warn};

use crate::described::task_event;
use crate::ecs::{task_states, ECS_DESCRIBE_BATCH};
use crate::event::TaskStateChange;
use crate::plan::TaskIntent;
use crate::publish::Publisher;
use crate::records::Change;
use crate::report::AppliedBatch;
use crate::srv_sets;
use crate::write::WriteOutcome;

/// Upper bound on ListTasks / ListClusters pages (100 items each).
const MAX_PAGES: usize = 10_000;

/// What a reconcile found and did.
#[derive(Debug, Default, serde::Serialize)]
pub struct ReconcileReport {
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// The clusters compared.
    pub clusters: Vec<String>,
    /// Tasks ECS reports running in them.
    pub running_tasks: usize,
    /// Tasks with records in the zone before the reconcile.
    pub owned_tasks: usize,
    /// The changes needed (dry run) or made, in order.
    pub changes: Vec<Change>,
    /// Batches Route 53 accepted (empty on a dry run).
    pub batches: Vec<AppliedBatch>,
    /// Tasks that could not be brought in line, with the reason.
    pub failures: BTreeMap<String, String>,
    /// Why the whole SRV sets could not be refreshed, if they could not.
    pub srv_set_error: Option<String>,
    /// AWS requests this reconcile made, by `Service.Operation`.
    pub api_calls: BTreeMap<String, u64>,
}

/// Why a reconcile stopped without writing anything.
#[derive(Debug, thiserror::Error)]
#[error("reconcile aborted, nothing written: {0}")]
pub struct ReconcileError(String);

impl Publisher {
    /// Brings the zone in line with the running tasks of the configured clusters. With
    /// `dry_run`, computes the changes and writes nothing.
    pub async fn reconcile(&self, dry_run: bool) -> Result<ReconcileReport, ReconcileError> {
        let calls_before = self.clients.calls.snapshot();
        let writer = self.writer();
        let snapshot = writer
            .read()
            .await
            .map_err(|e| ReconcileError(e.to_string()))?;
        let clusters = self.clusters_to_reconcile().await?;
        let mut report = ReconcileReport {
            dry_run,
            owned_tasks: snapshot.owned.len(),
            ..ReconcileReport::default()
        };
        let mut intents: Vec<(String, TaskIntent)> = Vec::new();
        // Task id → (cluster, task ARN) of every listed task.
        let mut listed: BTreeMap<String, (String, String)> = BTreeMap::new();
        for cluster in &clusters {
            let details = self.listed_tasks(cluster).await?;
            let running: Vec<&TaskStateChange> =
                details.iter().filter(|d| d.wants_publication()).collect();
            report.running_tasks += running.len();
            let addresses = self.host_addresses(cluster, &running).await;
            for detail in &details {
                listed.insert(
                    detail.task_id().to_owned(),
                    (cluster.clone(), detail.task_arn.clone()),
                );
                if detail.wants_withdrawal() {
                    intents.push((detail.task_id().to_owned(), TaskIntent::Withdraw));
                } else if detail.wants_publication() {
                    match self.publish_intent(detail, &addresses).await {
                        Ok(intent) => intents.push((detail.task_id().to_owned(), intent)),
                        Err(reason) => {
                            warn!(task = detail.task_id(), reason, "reconcile cannot publish this task; its records are left as they are");
                            report.failures.insert(detail.task_id().to_owned(), reason);
                        }
                    }
                }
            }
        }
        let orphans: Vec<String> = snapshot
            .owned
            .keys()
            .filter(|id| !listed.contains_key(*id))
            .cloned()
            .collect();
        for task_id in self.confirm_orphans(&clusters, orphans).await? {
            intents.push((task_id, TaskIntent::Withdraw));
        }
        report.clusters = clusters;

        if dry_run {
            let (planned, failed) = writer.plan(&intents, &snapshot);
            report.failures.extend(failed);
            report.changes = planned.into_iter().flat_map(|t| t.changes).collect();
            if self.config.srv_sets {
                let after = snapshot.with_changes(&self.settings.naming, &report.changes);
                match srv_sets::swaps_for(
                    &srv_sets::weighted_names_in(
                        after
                            .owned
                            .values()
                            .flatten()
                            .chain(snapshot.owned.values().flatten()),
                    ),
                    &after,
                ) {
                    Ok(swaps) => report.changes.extend(swaps),
                    Err(err) => report.srv_set_error = Some(err.to_string()),
                }
            }
        } else {
            let all_names = srv_sets::weighted_names_in(snapshot.owned.values().flatten());
            let mut outcome = writer.apply(&intents, snapshot).await;
            self.withdraw_stopped_meanwhile(&listed, &mut outcome).await;
            if self.config.srv_sets {
                // A reconcile repairs every set, not just those its own changes touched.
                writer.swap_srv_sets(&all_names, &mut outcome).await;
            }
            report.failures.extend(outcome.failed);
            report.changes = outcome
                .batches
                .iter()
                .flat_map(|b| b.changes.clone())
                .collect();
            report.batches = outcome.batches;
            report.srv_set_error = outcome.srv_set_error;
        }
        report.api_calls = self.clients.calls.since(&calls_before);
        info!(
            dry_run,
            running = report.running_tasks,
            changes = report.changes.len(),
            failures = report.failures.len(),
            "reconcile finished"
        );
        Ok(report)
    }

    /// The configured clusters, or every cluster of the account and region.
    async fn clusters_to_reconcile(&self) -> Result<Vec<String>, ReconcileError> {
        if !self.config.clusters.is_empty() {
            return Ok(self.config.clusters.clone());
        }
        let mut clusters = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .clients
                .ecs
                .list_clusters()
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| {
                    ReconcileError(format!("ListClusters failed: {}", DisplayErrorContext(&e)))
                })?;
            clusters.extend(page.cluster_arns().iter().cloned());
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(clusters);
            }
        }
        Err(ReconcileError(format!(
            "ListClusters returned more than {MAX_PAGES} pages"
        )))
    }

    /// Every task of a cluster that ECS wants running, as planner input.
    async fn listed_tasks(&self, cluster: &str) -> Result<Vec<TaskStateChange>, ReconcileError> {
        let mut arns = Vec::new();
        let mut token: Option<String> = None;
        for page_number in 0.. {
            if page_number == MAX_PAGES {
                return Err(ReconcileError(format!(
                    "ListTasks on {cluster} returned more than {MAX_PAGES} pages"
                )));
            }
            let page = self
                .clients
                .ecs
                .list_tasks()
                .cluster(cluster)
                .desired_status(DesiredStatus::Running)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| {
                    ReconcileError(format!(
                        "ListTasks on {cluster} failed: {}",
                        DisplayErrorContext(&e)
                    ))
                })?;
            arns.extend(page.task_arns().iter().cloned());
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        let mut details = Vec::new();
        for chunk in arns.chunks(ECS_DESCRIBE_BATCH) {
            let described = self
                .clients
                .ecs
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| {
                    ReconcileError(format!(
                        "DescribeTasks on {cluster} failed: {}",
                        DisplayErrorContext(&e)
                    ))
                })?;
            for task in described.tasks() {
                match task_event(task) {
                    Ok(event) => details.push(event.detail),
                    Err(err) => {
                        warn!(task = task.task_arn().unwrap_or_default(), error = %err, "DescribeTasks returned a task ecs-srv cannot read; skipped")
                    }
                }
            }
        }
        Ok(details)
    }

    /// A task that stops between the listing and the write would otherwise be brought
    /// back until the next reconcile: its stop events found nothing to withdraw. So the
    /// tasks this reconcile just published are asked about once more, and any that no
    /// longer runs is withdrawn from a fresh read. A stop handled after this check finds
    /// the records and withdraws them itself.
    async fn withdraw_stopped_meanwhile(
        &self,
        listed: &BTreeMap<String, (String, String)>,
        outcome: &mut WriteOutcome,
    ) {
        let mut published: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for change in outcome.batches.iter().flat_map(|batch| &batch.changes) {
            let Change::Create(set) = change else {
                continue;
            };
            let task = set
                .routing
                .set_identifier()
                .and_then(|id| {
                    self.settings
                        .naming
                        .owned_task_id(&set.name, set.record_type, id)
                })
                .and_then(|id| listed.get(id));
            if let Some((cluster, arn)) = task {
                let arns = published.entry(cluster.as_str()).or_default();
                if !arns.contains(arn) {
                    arns.push(arn.clone());
                }
            }
        }
        let mut stopped = Vec::new();
        for (cluster, arns) in published {
            match task_states(&self.clients.ecs, cluster, &arns).await {
                Ok(states) => stopped.extend(
                    arns.iter()
                        .filter(|arn| !states.get(*arn).is_some_and(|state| state.is_running()))
                        .map(|arn| arn.rsplit('/').next().unwrap_or(arn).to_owned()),
                ),
                Err(err) => {
                    for arn in arns {
                        let task_id = arn.rsplit('/').next().unwrap_or(&arn).to_owned();
                        outcome.failed.insert(
                            task_id,
                            format!("published, but not re-checked after the write: {err}"),
                        );
                    }
                }
            }
        }
        if stopped.is_empty() {
            return;
        }
        info!(
            tasks = stopped.len(),
            "tasks stopped while the reconcile ran; withdrawing them"
        );
        let writer = self.writer();
        match writer.read().await {
            Ok(fresh) => {
                let withdrawals: Vec<(String, TaskIntent)> = stopped
                    .into_iter()
                    .map(|id| (id, TaskIntent::Withdraw))
                    .collect();
                let second = writer.apply(&withdrawals, fresh).await;
                outcome.failed.extend(second.failed);
                outcome.batches.extend(second.batches);
            }
            Err(err) => {
                for task_id in stopped {
                    outcome.failed.insert(
                        task_id,
                        format!("stopped during the reconcile and not withdrawn: {err}"),
                    );
                }
            }
        }
    }

    /// Of the tasks that have records but were not listed, those ECS does not know as
    /// running in any cluster: they started after the listing, or they are truly gone.
    async fn confirm_orphans(
        &self,
        clusters: &[String],
        orphans: Vec<String>,
    ) -> Result<Vec<String>, ReconcileError> {
        let mut gone: BTreeSet<String> = orphans.into_iter().collect();
        for cluster in clusters {
            if gone.is_empty() {
                break;
            }
            let ids: Vec<String> = gone.iter().cloned().collect();
            let states = task_states(&self.clients.ecs, cluster, &ids)
                .await
                .map_err(|e| ReconcileError(e.to_string()))?;
            for (arn, state) in states {
                let id = arn.rsplit('/').next().unwrap_or_default();
                if state.is_running() {
                    gone.remove(id);
                }
            }
        }
        Ok(gone.into_iter().collect())
    }
}
