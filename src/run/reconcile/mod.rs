//! The scheduled repair: compare what ECS runs with what the zone holds, and fix both
//! sides. It catches lost events, hosts that died without telling anyone, and records
//! left behind by older versions.
//!
//! The zone is read *before* ECS is listed. A task that an event stream withdraws in the
//! meantime is then seen as stopping by the listing, so the reconcile withdraws it too
//! instead of bringing it back; a task that starts in the meantime is confirmed with
//! DescribeTasks before its records are treated as orphans. A cluster ECS no longer knows
//! runs nothing: it is reported and skipped, and the others are repaired. Any other
//! listing failure aborts the reconcile with nothing written: a partial view must never
//! withdraw live tasks. The dry run is the same run through the same pipeline, with a
//! sender that sends nothing.

pub(crate) mod listing;

use std::collections::BTreeMap;

use tracing::info;

use crate::apply::{AppliedBatch, View};
use crate::aws::ecs::LookupError;
use crate::aws::route53::Route53Error;
use crate::plan::records::Change;
use crate::plan::whole_sets::{ShardedSet, WholeSetScope};
use crate::plan::zone::Coverage;
use crate::plan::TaskIntent;
use crate::run::deployment::{Deployment, Mode};
use listing::{confirm_orphans, list_ecs, Listing};

/// What a reconcile found and did.
#[derive(Debug, Default, serde::Serialize)]
pub struct ReconcileReport {
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// The clusters compared.
    pub clusters: Vec<String>,
    /// Clusters ECS no longer knows (deleted or inactive), with what ECS said: skipped.
    pub skipped_clusters: BTreeMap<String, String>,
    /// Tasks ECS reports running in them.
    pub running_tasks: usize,
    /// Tasks with records in the zone before the reconcile.
    pub owned_tasks: usize,
    /// The changes needed (dry run) or made, in order.
    pub changes: Vec<Change>,
    /// Batches sent (on a dry run, the batches a write would send).
    pub batches: Vec<AppliedBatch>,
    /// Tasks whose records the reconcile changed: every one is something no event did
    /// (a lost event, a host that died), so a steady non-zero drift means lost events.
    pub drift: Vec<String>,
    /// Tasks that could not be brought in line, with the reason.
    pub failures: BTreeMap<String, String>,
    /// How many of the failures are refusals, by kind (as the metrics count them).
    pub refusals: BTreeMap<String, usize>,
    /// Running tasks left as they are until ECS reports their health (the health gate):
    /// waiting is not a failure.
    pub awaiting_health: BTreeMap<String, String>,
    /// Why names that are no one task's could not be brought in line.
    pub name_errors: Vec<String>,
    /// Whole SRV sets served as shards, too many targets for one record set.
    pub sharded_whole_sets: Vec<ShardedSet>,
    /// AWS requests this reconcile made, by `Service.Operation`.
    pub api_calls: BTreeMap<String, u64>,
}

/// Why a reconcile stopped without writing anything.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The zone could not be read.
    #[error("reconcile aborted, nothing written: {0}")]
    Zone(#[from] Route53Error),
    /// ECS could not be listed completely.
    #[error("reconcile aborted, nothing written: {0}")]
    Ecs(#[from] LookupError),
}

/// What a reconcile sees before it acts: the whole zone, read first, and ECS's listing of
/// the served clusters, with an intent for every task (orphans confirmed gone included).
pub struct Survey {
    /// The zone, read afresh.
    pub view: View,
    /// What ECS runs, and what should become of each task.
    pub listing: Listing,
}

/// Reads the zone, then lists ECS; see the module docs for the order.
pub async fn survey(deployment: &Deployment) -> Result<Survey, ReconcileError> {
    let view = deployment.reader().view(Coverage::Zone).await?;
    let mut listing = list_ecs(deployment).await?;
    let orphans: Vec<String> = view
        .snapshot
        .owned
        .keys()
        .filter(|id| !listing.located.contains_key(*id))
        .cloned()
        .collect();
    for task_id in confirm_orphans(deployment, &mut listing, orphans).await? {
        listing.intents.push((task_id, TaskIntent::Withdraw));
    }
    Ok(Survey { view, listing })
}

/// Brings the zone in line with the running tasks of the served clusters.
pub async fn reconcile(
    deployment: &Deployment,
    mode: Mode,
) -> Result<ReconcileReport, ReconcileError> {
    let calls_before = deployment.clients.calls.snapshot();
    let Survey { view, listing } = survey(deployment).await?;
    let owned_tasks = view.snapshot.owned.len();
    let applier = deployment.applier(WholeSetScope::All, mode);
    let applied = applier
        .apply(&listing.intents, view, |task_id| {
            listing.located.get(task_id).cloned()
        })
        .await;
    let report = report(
        mode,
        listing,
        owned_tasks,
        applied,
        deployment.clients.calls.since(&calls_before),
    );
    info!(
        dry_run = report.dry_run,
        running = report.running_tasks,
        changes = report.changes.len(),
        drift = report.drift.len(),
        failures = report.failures.len(),
        "reconcile finished"
    );
    Ok(report)
}

/// What the reconcile says it did: the listing, what the pipeline applied, and the drift.
fn report(
    mode: Mode,
    listing: Listing,
    owned_tasks: usize,
    applied: crate::apply::Applied,
    api_calls: BTreeMap<String, u64>,
) -> ReconcileReport {
    let mut drift: Vec<String> = applied
        .batches
        .iter()
        .flat_map(|batch| batch.task_ids.iter().cloned())
        .collect();
    drift.sort();
    drift.dedup();
    let mut failures = BTreeMap::new();
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    for (task, err) in listing.failures.iter().chain(&applied.failed) {
        failures.insert(task.clone(), err.to_string());
        if !err.is_retryable() {
            *refusals.entry(err.metric_kind()).or_default() += 1;
        }
    }
    ReconcileReport {
        dry_run: mode == Mode::DryRun,
        clusters: listing.clusters,
        skipped_clusters: listing.skipped_clusters,
        running_tasks: listing.running,
        owned_tasks,
        changes: applied.changes(),
        batches: applied.batches,
        drift,
        failures,
        refusals,
        awaiting_health: listing
            .awaiting_health
            .iter()
            .map(|(task, reason)| (task.clone(), reason.to_string()))
            .collect(),
        name_errors: applied.name_errors,
        sharded_whole_sets: applied.sharded_whole_sets,
        api_calls,
    }
}
