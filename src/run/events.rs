//! The event path: one invocation, from events to applied changes.
//!
//! The steps, in order: keep the latest event of each task; confirm with DescribeTasks
//! that a task said to be running still is (a late RUNNING must never bring back a stopped
//! task); resolve what publishing needs; read the zone once (or use the single writer's
//! warm view); plan and write every task; then ask ECS once more about the tasks just
//! published and withdraw any that stopped meanwhile. A failure is pinned to the task it
//! belongs to: its events fail and nothing of it is written, while the other tasks go
//! through.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use tracing::{info, warn};

use crate::apply::recheck::{withdraw_stopped_meanwhile, PublishedTasks};
use crate::apply::{WriteOutcome, ZoneWriter};
use crate::aws::ecs::tasks::task_states;
use crate::aws::ecs::TaskState;
use crate::aws::route53::Route53Error;
use crate::error::TaskError;
use crate::input::event::{EventError, TaskEvent, TaskStateChange};
use crate::plan::records::RecordSet;
use crate::plan::whole_sets::WholeSetScope;
use crate::plan::zone::{Coverage, ZoneSnapshot};
use crate::plan::TaskIntent;
use crate::run::deployment::Publisher;
use crate::run::report::{Decision, EventOutcome, InvocationReport};

/// One input event, parsed or not, with where it came from.
#[derive(Debug)]
pub struct EventInput {
    /// An SQS message id, or `file:index` in a replay.
    pub source: String,
    /// The parsed event, or why it could not be parsed.
    pub parsed: Result<TaskEvent, EventError>,
}

/// What was decided for one task before it is written. `Ok(None)`: nothing to write.
struct TaskPlan {
    decision: Decision,
    result: Result<Option<TaskIntent>, TaskError>,
}

/// Runs one invocation's events; see the module docs for the steps.
pub async fn process(publisher: &Publisher, inputs: Vec<EventInput>) -> InvocationReport {
    let calls_before = publisher.clients.calls.snapshot();
    let latest = latest_per_task(publisher, &inputs);
    let mut plans = decide(publisher, &latest).await;
    let written = write(publisher, &latest, &mut plans).await;

    let events = inputs
        .iter()
        .map(|input| outcome(input, &latest, &plans))
        .collect();
    InvocationReport {
        events,
        batches: written.batches,
        whole_set_errors: written.whole_set_errors,
        sharded_whole_sets: written.sharded_whole_sets,
        api_calls: publisher.clients.calls.since(&calls_before),
    }
}

/// The newest event of each task of an accepted cluster, by task id.
fn latest_per_task<'a>(
    publisher: &Publisher,
    inputs: &'a [EventInput],
) -> BTreeMap<String, &'a TaskStateChange> {
    let mut latest: BTreeMap<String, &TaskStateChange> = BTreeMap::new();
    for input in inputs {
        let Ok(event) = &input.parsed else { continue };
        let detail = &event.detail;
        if !publisher.config.accepts_cluster(&detail.cluster_arn) {
            info!(event = %event.id, cluster = %detail.cluster_arn, "cluster not in CLUSTERS; ignored");
            continue;
        }
        let slot = latest.entry(detail.task_id().to_owned()).or_insert(detail);
        if supersedes(detail, slot) {
            *slot = detail;
        }
    }
    latest
}

fn outcome(
    input: &EventInput,
    latest: &BTreeMap<String, &TaskStateChange>,
    plans: &BTreeMap<String, TaskPlan>,
) -> EventOutcome {
    match &input.parsed {
        Err(err) => EventOutcome::failed(input.source.clone(), err.event_id(), err, false),
        Ok(event) => {
            let task_id = event.detail.task_id();
            let plan = latest
                .get(task_id)
                .filter(|detail| detail.cluster_arn == event.detail.cluster_arn)
                .and_then(|_| plans.get(task_id));
            let error = plan.and_then(|p| p.result.as_ref().err());
            EventOutcome {
                source: input.source.clone(),
                event_id: Some(event.id.clone()),
                task_id: Some(task_id.to_owned()),
                decision: plan.map_or(Decision::Ignore, |p| p.decision),
                error: error.map(ToString::to_string),
                retryable: error.is_some_and(TaskError::is_retryable),
            }
        }
    }
}

/// Decides every task: confirm, look up, resolve. No zone access yet.
async fn decide(
    publisher: &Publisher,
    latest: &BTreeMap<String, &TaskStateChange>,
) -> BTreeMap<String, TaskPlan> {
    let mut plans = BTreeMap::new();
    let mut to_confirm: BTreeMap<&str, Vec<&TaskStateChange>> = BTreeMap::new();
    for (task_id, detail) in latest {
        if detail.wants_withdrawal() {
            plans.insert(task_id.clone(), withdraw());
        } else if detail.wants_publication() {
            to_confirm
                .entry(detail.cluster_arn.as_str())
                .or_default()
                .push(detail);
        } else {
            info!(task = %task_id, last_status = ?detail.last_status, "not running yet; nothing to do");
            plans.insert(
                task_id.clone(),
                TaskPlan {
                    decision: Decision::Ignore,
                    result: Ok(None),
                },
            );
        }
    }
    for (cluster, details) in to_confirm {
        let arns: Vec<String> = details.iter().map(|d| d.task_arn.clone()).collect();
        let states = task_states(&publisher.clients.ecs, cluster, &arns).await;
        let mut running = Vec::new();
        for detail in details {
            let confirmed = match &states {
                Err(err) => Err(TaskError::Unconfirmed(err.clone())),
                Ok(states) => confirm(detail, states.get(&detail.task_arn)),
            };
            match confirmed {
                Ok(true) => running.push((detail, described_health(&states, detail))),
                Ok(false) => {
                    plans.insert(detail.task_id().to_owned(), withdraw());
                }
                Err(err) => {
                    plans.insert(detail.task_id().to_owned(), publish(Err(err)));
                }
            }
        }
        for (task_id, intent) in publisher
            .resolver
            .publish_intents(&publisher.clients, cluster, &running)
            .await
        {
            plans.insert(task_id, publish(intent));
        }
    }
    plans
}

/// The health DescribeTasks reported with the state that confirmed the task: events carry
/// none.
fn described_health(
    states: &Result<HashMap<String, TaskState>, crate::aws::ecs::LookupError>,
    detail: &TaskStateChange,
) -> crate::plan::task::health::ReportedHealth {
    states
        .as_ref()
        .ok()
        .and_then(|states| states.get(&detail.task_arn))
        .map(|state| state.health.clone())
        .unwrap_or_default()
}

fn withdraw() -> TaskPlan {
    TaskPlan {
        decision: Decision::Withdraw,
        result: Ok(Some(TaskIntent::Withdraw)),
    }
}

/// A running task's plan; the health gate may have turned it into a withdrawal.
fn publish(intent: Result<TaskIntent, TaskError>) -> TaskPlan {
    TaskPlan {
        decision: match intent {
            Ok(TaskIntent::Withdraw) => Decision::Withdraw,
            _ => Decision::Publish,
        },
        result: intent.map(Some),
    }
}

/// Reads the zone once (or takes the warm view) and brings every decided task to its
/// intent, then re-checks what it published.
async fn write(
    publisher: &Publisher,
    latest: &BTreeMap<String, &TaskStateChange>,
    plans: &mut BTreeMap<String, TaskPlan>,
) -> WriteOutcome {
    let intents: Vec<(String, TaskIntent)> = plans
        .iter()
        .filter_map(|(task_id, plan)| match &plan.result {
            Ok(Some(intent)) => Some((task_id.clone(), intent.clone())),
            _ => None,
        })
        .collect();
    if intents.is_empty() {
        return WriteOutcome::default();
    }
    let coverage = coverage(publisher, latest, &intents).await;
    let writer = publisher
        .writer(WholeSetScope::Touched)
        .covering(coverage.clone());
    let (read_at, coverage, snapshot) = match view(publisher, &writer, coverage).await {
        Ok(view) => view,
        Err(err) => {
            for (task_id, _) in &intents {
                if let Some(plan) = plans.get_mut(task_id) {
                    plan.result = Err(TaskError::ZoneUnreadable(err.clone()));
                }
            }
            return WriteOutcome::default();
        }
    };
    let mut outcome = writer.apply(&intents, snapshot).await;
    let published = PublishedTasks::from_outcome(publisher.naming(), &outcome, |task_id| {
        latest
            .get(task_id)
            .map(|detail| (detail.cluster_arn.clone(), detail.task_arn.clone()))
    });
    withdraw_stopped_meanwhile(&publisher.clients.ecs, &writer, published, &mut outcome).await;
    publisher
        .zone_cache
        .keep(read_at, coverage, outcome.zone_after.clone());
    for (task_id, err) in std::mem::take(&mut outcome.failed) {
        if let Some(plan) = plans.get_mut(&task_id) {
            plan.result = Err(err.clone());
        }
        outcome.failed.insert(task_id, err);
    }
    outcome
}

/// The part of the zone the intents can touch: the subtree of every service name their
/// tasks' records stand under (a published task's from its records, a withdrawn one's from
/// its task definition). Should a withdrawn task's definition not be known, the whole zone.
async fn coverage(
    publisher: &Publisher,
    latest: &BTreeMap<String, &TaskStateChange>,
    intents: &[(String, TaskIntent)],
) -> Coverage {
    let mut roots = BTreeSet::new();
    for (task_id, intent) in intents {
        let published: Vec<String> = match intent {
            TaskIntent::Publish(sets) => service_names_of(sets).collect(),
            TaskIntent::Withdraw => Vec::new(),
        };
        if !published.is_empty() {
            roots.extend(published);
            continue;
        }
        // A withdrawal, or a task that publishes nothing now (every container opted out):
        // what it may still hold stands under its definition's service names.
        let Some(detail) = latest.get(task_id) else {
            return Coverage::Zone;
        };
        match publisher
            .resolver
            .service_names(&publisher.clients, detail)
            .await
        {
            Ok(names) => roots.extend(names),
            Err(err) => {
                warn!(task = %task_id, error = %err, "the task's service names are not known; reading the whole zone to withdraw it");
                return Coverage::Zone;
            }
        }
    }
    Coverage::Subtrees(outermost(roots))
}

/// The service names `S.Z` of some task sets: the parent of each task name `T.S.Z`.
fn service_names_of(sets: &[RecordSet]) -> impl Iterator<Item = String> + '_ {
    sets.iter()
        .filter(|set| {
            set.routing
                .set_identifier()
                .and_then(crate::plan::naming::parse_mark)
                .is_some_and(|mark| !mark.role.is_shared_name())
        })
        .filter_map(|set| {
            set.name
                .split_once('.')
                .map(|(_, service)| service.to_owned())
        })
}

/// Names without those under another of them: a subtree read reads what lies below.
fn outermost(roots: BTreeSet<String>) -> BTreeSet<String> {
    roots
        .iter()
        .filter(|root| {
            !roots
                .iter()
                .any(|other| other != *root && root.ends_with(&format!(".{other}")))
        })
        .cloned()
        .collect()
}

/// The view to plan on: the warm one where it covers the intents, completed by reading the
/// subtrees it lacks, or read afresh; with the time of its oldest read and its coverage.
async fn view(
    publisher: &Publisher,
    writer: &ZoneWriter<'_>,
    needed: Coverage,
) -> Result<(Instant, Coverage, ZoneSnapshot), Route53Error> {
    match publisher.zone_cache.fresh() {
        Some(cached) if cached.coverage.covers(&needed) => {
            Ok((cached.read_at, cached.coverage, cached.snapshot))
        }
        Some(mut cached) => {
            let missing = cached.coverage.missing(&needed);
            if missing == Coverage::Zone {
                return Ok((
                    Instant::now(),
                    Coverage::Zone,
                    writer.read_part(&missing).await?,
                ));
            }
            cached.snapshot.merge(writer.read_part(&missing).await?);
            Ok((
                cached.read_at,
                cached.coverage.union(&needed),
                cached.snapshot,
            ))
        }
        None => Ok((
            Instant::now(),
            needed.clone(),
            writer.read_part(&needed).await?,
        )),
    }
}

/// Whether `candidate` is newer news of a task than `current`: a higher version, or at the
/// same version a later status (a duplicate with the same status changes nothing).
fn supersedes(candidate: &TaskStateChange, current: &TaskStateChange) -> bool {
    (
        candidate.version,
        candidate.last_status,
        candidate.desired_status,
    ) > (current.version, current.last_status, current.desired_status)
}

/// Whether ECS confirms that an event's running task still runs: `Ok(true)` publish,
/// `Ok(false)` withdraw (stopping, stopped or unknown to ECS), `Err` not yet (ECS has not
/// caught up with the event: fail, so the event is retried).
fn confirm(detail: &TaskStateChange, state: Option<&TaskState>) -> Result<bool, TaskError> {
    let Some(state) = state else {
        info!(
            task = detail.task_id(),
            "event says RUNNING but DescribeTasks does not know the task; withdrawing"
        );
        return Ok(false);
    };
    if state.is_running() {
        return Ok(true);
    }
    if state.is_stopping() {
        info!(task = detail.task_id(), described = %state.described, "event says RUNNING but the task is not; withdrawing");
        return Ok(false);
    }
    Err(TaskError::EcsLagging {
        event_version: detail.version,
        described: state.described.clone(),
        described_version: state.version,
    })
}
