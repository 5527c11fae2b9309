//! Deciding each task of an invocation before the zone is touched: the newest event of
//! each task wins, a RUNNING event is confirmed with DescribeTasks (a late RUNNING must
//! never bring back a stopped task), and a confirmed task's records are worked out.

use std::collections::{BTreeMap, HashMap};

use tracing::info;

use crate::aws::ecs::tasks::task_states;
use crate::aws::ecs::{LookupError, TaskState};
use crate::error::TaskError;
use crate::input::event::TaskStateChange;
use crate::input::payload::EventInput;
use crate::plan::task::health::ReportedHealth;
use crate::plan::TaskIntent;
use crate::run::deployment::Deployment;
use crate::run::intents::publish_intents;
use crate::run::report::Decision;

/// What was decided for one task before it is written. `Ok(None)`: nothing to write.
pub(super) struct TaskPlan {
    pub decision: Decision,
    pub result: Result<Option<TaskIntent>, TaskError>,
}

impl TaskPlan {
    fn ignore() -> Self {
        TaskPlan {
            decision: Decision::Ignore,
            result: Ok(None),
        }
    }

    fn withdraw() -> Self {
        TaskPlan {
            decision: Decision::Withdraw,
            result: Ok(Some(TaskIntent::Withdraw)),
        }
    }

    /// A running task's plan; the health gate may have turned it into a withdrawal.
    fn publish(intent: Result<TaskIntent, TaskError>) -> Self {
        TaskPlan {
            decision: match intent {
                Ok(TaskIntent::Withdraw) => Decision::Withdraw,
                _ => Decision::Publish,
            },
            result: intent.map(Some),
        }
    }
}

/// The newest event of each task, by task id, and the plans of tasks that are already
/// decided: those of clusters this deployment does not serve.
pub(super) fn latest_per_task<'a>(
    deployment: &Deployment,
    inputs: &'a [EventInput],
) -> (
    BTreeMap<String, &'a TaskStateChange>,
    BTreeMap<String, TaskPlan>,
) {
    let mut latest: BTreeMap<String, &TaskStateChange> = BTreeMap::new();
    let mut decided = BTreeMap::new();
    let scope = &deployment.naming().identity().scope;
    for input in inputs {
        let Ok(event) = &input.parsed else { continue };
        let detail = &event.detail;
        if deployment.served_cluster(&detail.cluster_arn).is_none() {
            let elsewhere = event.region != scope.region || event.account != scope.account;
            if elsewhere {
                let error = TaskError::NotServed {
                    cluster: detail.cluster_arn.clone(),
                };
                decided.insert(detail.task_id().to_owned(), TaskPlan::publish(Err(error)));
            } else {
                info!(event = %event.id, cluster = %detail.cluster_arn, "cluster not in CLUSTERS; ignored");
            }
            continue;
        }
        let slot = latest.entry(detail.task_id().to_owned()).or_insert(detail);
        if detail.supersedes(slot) {
            *slot = detail;
        }
    }
    (latest, decided)
}

/// Decides every task: confirm, look up, resolve. No zone access yet.
pub(super) async fn decide(
    deployment: &Deployment,
    latest: &BTreeMap<String, &TaskStateChange>,
    plans: &mut BTreeMap<String, TaskPlan>,
) {
    let mut to_confirm: BTreeMap<&str, Vec<&TaskStateChange>> = BTreeMap::new();
    for (task_id, detail) in latest {
        if detail.wants_withdrawal() {
            plans.insert(task_id.clone(), TaskPlan::withdraw());
        } else if detail.wants_publication() {
            to_confirm
                .entry(detail.cluster_arn.as_str())
                .or_default()
                .push(detail);
        } else {
            info!(task = %task_id, last_status = ?detail.last_status, "not running yet; nothing to do");
            plans.insert(task_id.clone(), TaskPlan::ignore());
        }
    }
    for (cluster, details) in to_confirm {
        decide_running(deployment, cluster, details, plans).await;
    }
}

/// Confirms one cluster's RUNNING events (one DescribeTasks per 100) and works out the
/// records of those that do run.
async fn decide_running(
    deployment: &Deployment,
    cluster: &str,
    details: Vec<&TaskStateChange>,
    plans: &mut BTreeMap<String, TaskPlan>,
) {
    let arns: Vec<String> = details.iter().map(|d| d.task_arn.clone()).collect();
    let states = task_states(&deployment.clients.ecs, cluster, &arns).await;
    let mut running = Vec::new();
    for detail in details {
        let confirmed = match &states {
            Err(err) => Err(TaskError::Unconfirmed(err.clone())),
            Ok(states) => confirm(detail, states.get(&detail.task_arn)),
        };
        match confirmed {
            Ok(true) => running.push((detail, described_health(&states, detail))),
            Ok(false) => {
                plans.insert(detail.task_id().to_owned(), TaskPlan::withdraw());
            }
            Err(err) => {
                plans.insert(detail.task_id().to_owned(), TaskPlan::publish(Err(err)));
            }
        }
    }
    for (task_id, intent) in publish_intents(deployment, cluster, &running).await {
        plans.insert(task_id, TaskPlan::publish(intent));
    }
}

/// The health DescribeTasks reported with the state that confirmed the task: events carry
/// none.
fn described_health(
    states: &Result<HashMap<String, TaskState>, LookupError>,
    detail: &TaskStateChange,
) -> ReportedHealth {
    states
        .as_ref()
        .ok()
        .and_then(|states| states.get(&detail.task_arn))
        .map(|state| state.health.clone())
        .unwrap_or_default()
}

/// Whether ECS confirms that an event's running task still runs: `Ok(true)` publish,
/// `Ok(false)` withdraw (stopping, stopped or unknown to ECS: ECS says MISSING of tasks
/// stopped long ago too), `Err` not yet (ECS has not caught up with the event: fail, so
/// the event is retried).
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
