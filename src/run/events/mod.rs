//! The event path: one invocation, from events to applied changes.
//!
//! The steps, in order: keep the newest event of each task and confirm with DescribeTasks
//! that a task said to be running still is ([`decide`]); work out the part of the zone the
//! tasks touch ([`coverage`]) and take the view of it (the single writer's warm one, or a
//! fresh read); then hand every task's intent to the one apply pipeline (`crate::apply`).
//! A failure is pinned to the task it belongs to: its events fail and nothing of it is
//! written, while the other tasks go through.

mod coverage;
mod decide;

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::apply::Applied;
use crate::error::TaskError;
use crate::input::event::TaskStateChange;
use crate::input::payload::EventInput;
use crate::plan::whole_sets::WholeSetScope;
use crate::plan::TaskIntent;
use crate::run::deployment::{Deployment, Mode};
use crate::run::report::{Decision, EventOutcome, InvocationReport};
use decide::TaskPlan;

/// Runs one invocation's events; see the module docs.
pub async fn process(deployment: &Deployment, inputs: Vec<EventInput>) -> InvocationReport {
    let calls_before = deployment.clients.calls.snapshot();
    let (latest, mut plans) = decide::latest_per_task(deployment, &inputs);
    decide::decide(deployment, &latest, &mut plans).await;
    let applied = write(deployment, &latest, &mut plans).await;
    let awaiting_health = plans
        .values()
        .filter(|plan| {
            plan.result
                .as_ref()
                .is_err_and(TaskError::is_awaiting_health)
        })
        .count();
    let events = inputs
        .iter()
        .map(|input| outcome(deployment, input, &plans, &applied))
        .collect();
    InvocationReport {
        events,
        batches: applied.batches,
        name_errors: applied.name_errors,
        sharded_whole_sets: applied.sharded_whole_sets,
        api_calls: deployment.clients.calls.since(&calls_before),
        awaiting_health,
    }
}

/// Takes the view the intents need and brings every decided task to its intent through
/// the apply pipeline; a task's failure there becomes its plan's.
async fn write(
    deployment: &Deployment,
    latest: &BTreeMap<String, &TaskStateChange>,
    plans: &mut BTreeMap<String, TaskPlan>,
) -> Applied {
    let intents: Vec<(String, TaskIntent)> = plans
        .iter()
        .filter_map(|(task_id, plan)| match &plan.result {
            Ok(Some(intent)) => Some((task_id.clone(), intent.clone())),
            _ => None,
        })
        .collect();
    if intents.is_empty() {
        return Applied::default();
    }
    let needed = coverage::coverage(deployment, latest, &intents).await;
    let view = match deployment
        .zone_cache
        .view(&deployment.reader(), needed)
        .await
    {
        Ok(view) => view,
        Err(err) => {
            for (task_id, _) in &intents {
                if let Some(plan) = plans.get_mut(task_id) {
                    plan.result = Err(TaskError::ZoneUnreadable(err.clone()));
                }
            }
            return Applied::default();
        }
    };
    let applier = deployment.applier(WholeSetScope::Touched, Mode::Write);
    let applied = applier
        .apply(&intents, view, |task_id| {
            latest
                .get(task_id)
                .map(|detail| (detail.cluster_arn.clone(), detail.task_arn.clone()))
        })
        .await;
    for (task_id, err) in &applied.failed {
        if let Some(plan) = plans.get_mut(task_id) {
            plan.result = Err(err.clone());
        }
    }
    applied
}

/// What became of one input event, with the lag from its time to its task's records.
fn outcome(
    deployment: &Deployment,
    input: &EventInput,
    plans: &BTreeMap<String, TaskPlan>,
    applied: &Applied,
) -> EventOutcome {
    let event = match &input.parsed {
        Err(err) => {
            return EventOutcome::failed(input.source.clone(), err.event_id(), err, "BadInput")
        }
        Ok(event) => event,
    };
    let task_id = event.detail.task_id();
    let plan = plans.get(task_id);
    let error = plan.and_then(|p| p.result.as_ref().err());
    let decision = plan.map_or(Decision::Ignore, |p| p.decision);
    let written_at = applied
        .batches
        .iter()
        .find(|batch| batch.task_ids.iter().any(|id| id == task_id))
        .map(|batch| batch.applied_at);
    let waited_since = match (error, written_at) {
        (Some(err), _) if err.is_awaiting_health() => {
            deployment.health_waits.note(task_id);
            None
        }
        (None, Some(_)) => deployment.health_waits.take(task_id),
        _ => None,
    };
    EventOutcome {
        source: input.source.clone(),
        event_id: Some(event.id.clone()),
        task_id: Some(task_id.to_owned()),
        decision,
        error: error.map(ToString::to_string),
        error_kind: error.map(TaskError::metric_kind),
        retryable: error.is_some_and(TaskError::is_retryable),
        written: written_at.is_some(),
        lag_ms: written_at.and_then(|at| millis_since(event_time(&event.time)?, at)),
        healthy_lag_ms: written_at.and_then(|at| millis_since(waited_since?, at)),
    }
}

fn event_time(time: &Option<String>) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(time.as_deref()?).ok()
}

fn millis_since(start: SystemTime, end: SystemTime) -> Option<u64> {
    end.duration_since(start)
        .ok()
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
}
