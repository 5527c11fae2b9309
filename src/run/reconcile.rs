//! The scheduled repair: compare what ECS runs with what the zone holds, and fix both
//! sides. It catches lost events, hosts that died without telling anyone, and records
//! left behind by older versions.
//!
//! The zone is read *before* ECS is listed. A task that an event stream withdraws in the
//! meantime is then seen as stopping by the listing, so the reconcile withdraws it too
//! instead of bringing it back; a task that starts in the meantime is confirmed with
//! DescribeTasks before its records are treated as orphans. Any listing failure aborts
//! the reconcile with nothing written: a partial view must never withdraw live tasks. The
//! dry run is the same run with the sending step left out.

use std::collections::{BTreeMap, BTreeSet};

use tracing::{info, warn};

use crate::apply::recheck::{withdraw_stopped_meanwhile, PublishedTasks};
use crate::aws::ecs::described::task_event;
use crate::aws::ecs::tasks::{describe_tasks, list_clusters, list_running_tasks, task_states};
use crate::aws::ecs::{LookupError, TaskState};
use crate::aws::route53::Route53Error;
use crate::input::event::TaskStateChange;
use crate::plan::records::Change;
use crate::plan::task::health::ReportedHealth;
use crate::plan::whole_sets::{plan_whole_sets, WholeSetScope};
use crate::plan::zone::ZoneSnapshot;
use crate::plan::{plan_changes, TaskIntent};
use crate::run::deployment::Publisher;
use crate::run::intents::ConfirmedTask;
use crate::run::report::AppliedBatch;

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
    /// Running tasks left as they are until ECS reports their health (the health gate):
    /// waiting is not a failure.
    pub awaiting_health: BTreeMap<String, String>,
    /// Why whole SRV sets could not be brought in line, one line per problem.
    pub whole_set_errors: Vec<String>,
    /// Whole SRV sets served as shards, too many targets for one record set.
    pub sharded_whole_sets: Vec<crate::plan::whole_sets::ShardedSet>,
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

/// Every listed task: its intent source and where it lives.
struct Listing {
    clusters: Vec<String>,
    /// Task id → (cluster ARN, task ARN).
    located: BTreeMap<String, (String, String)>,
    intents: Vec<(String, TaskIntent)>,
    running: usize,
    failures: BTreeMap<String, String>,
    awaiting_health: BTreeMap<String, String>,
}

/// Brings the zone in line with the running tasks of the configured clusters.
pub async fn reconcile(
    publisher: &Publisher,
    dry_run: bool,
) -> Result<ReconcileReport, ReconcileError> {
    let calls_before = publisher.clients.calls.snapshot();
    let writer = publisher.writer(WholeSetScope::All);
    let snapshot = writer.read().await?;
    let mut listing = list_ecs(publisher).await?;
    let orphans: Vec<String> = snapshot
        .owned
        .keys()
        .filter(|id| !listing.located.contains_key(*id))
        .cloned()
        .collect();
    for task_id in confirm_orphans(publisher, &listing.clusters, orphans).await? {
        listing.intents.push((task_id, TaskIntent::Withdraw));
    }
    let mut report = ReconcileReport {
        dry_run,
        owned_tasks: snapshot.owned.len(),
        running_tasks: listing.running,
        failures: listing.failures,
        awaiting_health: listing.awaiting_health,
        ..ReconcileReport::default()
    };
    if dry_run {
        dry_run_changes(publisher, &listing.intents, &snapshot, &mut report);
    } else {
        let mut outcome = writer.apply(&listing.intents, snapshot).await;
        let published = PublishedTasks::from_outcome(publisher.naming(), &outcome, |task_id| {
            listing.located.get(task_id).cloned()
        });
        withdraw_stopped_meanwhile(&publisher.clients.ecs, &writer, published, &mut outcome).await;
        // The reconcile read the zone afresh: its view is the truest a cache can hold.
        publisher.zone_cache.keep(
            std::time::Instant::now(),
            crate::plan::zone::Coverage::Zone,
            outcome.zone_after.clone(),
        );
        report.changes = outcome.applied_changes();
        report.failures.extend(
            outcome
                .failed
                .into_iter()
                .map(|(id, e)| (id, e.to_string())),
        );
        report.batches = outcome.batches;
        report.whole_set_errors = outcome.whole_set_errors;
        report.sharded_whole_sets = outcome.sharded_whole_sets;
    }
    report.clusters = listing.clusters;
    report.api_calls = publisher.clients.calls.since(&calls_before);
    info!(
        dry_run,
        running = report.running_tasks,
        changes = report.changes.len(),
        failures = report.failures.len(),
        "reconcile finished"
    );
    Ok(report)
}

/// The plan the real run would start with, and the whole sets that would follow it.
fn dry_run_changes(
    publisher: &Publisher,
    intents: &[(String, TaskIntent)],
    snapshot: &ZoneSnapshot,
    report: &mut ReconcileReport,
) {
    let plan = plan_changes(intents, snapshot, publisher.naming());
    report.failures.extend(
        plan.refused
            .iter()
            .map(|(task, conflict)| (task.clone(), conflict.to_string())),
    );
    let mut units = plan.tasks.clone();
    if publisher.config.srv_sets {
        let planned = plan.changes();
        let after = snapshot.with_changes(publisher.naming(), &planned);
        let whole = plan_whole_sets(
            publisher.naming(),
            WholeSetScope::All,
            snapshot,
            &planned,
            &after,
        );
        units.extend(whole.units);
        report
            .whole_set_errors
            .extend(whole.too_large.iter().map(ToString::to_string));
        report.sharded_whole_sets = whole.sharded;
    }
    // Packed and given their tree aliases exactly as the writer sends them.
    let packed = crate::plan::batch::pack_batches(&units, crate::plan::batch::BatchLimits::ROUTE53);
    report.changes =
        crate::plan::tree::aliases::planned_batches(publisher.naming(), snapshot, packed.batches)
            .into_iter()
            .flat_map(|batch| batch.changes)
            .collect();
}

/// Lists every task ECS wants running in the configured clusters, and decides each.
async fn list_ecs(publisher: &Publisher) -> Result<Listing, ReconcileError> {
    let ecs = &publisher.clients.ecs;
    let clusters = if publisher.config.clusters.is_empty() {
        list_clusters(ecs).await?
    } else {
        publisher.config.clusters.to_vec()
    };
    let mut listing = Listing {
        clusters: Vec::new(),
        located: BTreeMap::new(),
        intents: Vec::new(),
        running: 0,
        failures: BTreeMap::new(),
        awaiting_health: BTreeMap::new(),
    };
    for cluster in &clusters {
        let arns = list_running_tasks(ecs, cluster).await?;
        let details = described_details(ecs, cluster, &arns).await?;
        let running: Vec<ConfirmedTask<'_>> = details
            .iter()
            .filter(|(d, _)| d.wants_publication())
            .map(|(d, health)| (d, health.clone()))
            .collect();
        listing.running += running.len();
        for (detail, _) in &details {
            listing.located.insert(
                detail.task_id().to_owned(),
                (cluster.clone(), detail.task_arn.clone()),
            );
            if detail.wants_withdrawal() {
                listing
                    .intents
                    .push((detail.task_id().to_owned(), TaskIntent::Withdraw));
            }
        }
        for (task_id, intent) in publisher
            .resolver
            .publish_intents(&publisher.clients, cluster, &running)
            .await
        {
            match intent {
                Ok(intent) => listing.intents.push((task_id, intent)),
                Err(reason) if reason.is_awaiting_health() => {
                    info!(task = %task_id, reason = %reason, "reconcile leaves this task's records as they are until ECS reports its health");
                    listing.awaiting_health.insert(task_id, reason.to_string());
                }
                Err(reason) => {
                    warn!(task = %task_id, error = %reason, "reconcile cannot publish this task; its records are left as they are");
                    listing.failures.insert(task_id, reason.to_string());
                }
            }
        }
    }
    listing.clusters = clusters;
    Ok(listing)
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
/// running in any cluster: they started after the listing, or they are truly gone.
async fn confirm_orphans(
    publisher: &Publisher,
    clusters: &[String],
    orphans: Vec<String>,
) -> Result<Vec<String>, LookupError> {
    let mut gone: BTreeSet<String> = orphans.into_iter().collect();
    for cluster in clusters {
        if gone.is_empty() {
            break;
        }
        let ids: Vec<String> = gone.iter().cloned().collect();
        let states = task_states(&publisher.clients.ecs, cluster, &ids).await?;
        for (arn, state) in states {
            let id = arn.rsplit('/').next().unwrap_or_default();
            if state.is_running() {
                gone.remove(id);
            }
        }
    }
    Ok(gone.into_iter().collect())
}
