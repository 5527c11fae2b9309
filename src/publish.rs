//! One invocation, from events to applied changes.
//!
//! The steps, in order: keep the latest event of each task; confirm with DescribeTasks
//! that a task said to be running still is (a late RUNNING must never bring back a stopped
//! task); look up what publishing needs; read the zone once; plan every task; send as few
//! ChangeBatches as the limits allow. A failure is pinned to the task it belongs to: its
//! events fail and nothing of it is written, while the other tasks go through.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

use tracing::{info, warn};

use crate::aws::AwsClients;
use crate::batch::{pack_batches, BatchLimits, TaskChanges};
use crate::config::PublisherConfig;
use crate::ecs::{task_states, Lookups, TaskState};
use crate::event::{EventError, TaskEvent, TaskStateChange};
use crate::naming::ZoneNaming;
use crate::plan::{
    desired_records, task_changes, NameLedger, RecordSettings, TaskIntent, ZoneSnapshot,
};
use crate::report::{AppliedBatch, Decision, EventOutcome, InvocationReport};
use crate::resolve::{resolve_running_task, NetworkMode};
use crate::route53::{self, Route53Error};

/// One input event, parsed or not, with where it came from.
#[derive(Debug)]
pub struct EventInput {
    /// An SQS message id, or `file:index` in a replay.
    pub source: String,
    /// The parsed event, or why it could not be parsed.
    pub parsed: Result<TaskEvent, EventError>,
}

/// The long-lived state of the function: configuration, clients, caches.
#[derive(Debug)]
pub struct Publisher {
    /// The deployment's settings.
    pub config: PublisherConfig,
    /// The AWS clients.
    pub clients: AwsClients,
    /// How records are named and routed.
    pub settings: RecordSettings,
    /// Warm caches.
    pub lookups: Lookups,
}

/// The plan for one task before it is written.
struct TaskPlan {
    task_id: String,
    decision: Decision,
    /// `Ok(None)`: nothing to write.
    result: Result<Option<TaskIntent>, String>,
}

impl Publisher {
    /// Reads the zone's name once (GetHostedZone); everything else is lazy.
    pub async fn new(config: PublisherConfig, clients: AwsClients) -> Result<Self, Route53Error> {
        let apex = route53::hosted_zone_name(&clients.route53, &config.hosted_zone_id).await?;
        let settings = RecordSettings {
            naming: ZoneNaming::new(&apex, &config.record_owner),
            policy: config.routing_policy,
            ttl: config.record_ttl,
        };
        Ok(Self {
            config,
            clients,
            settings,
            lookups: Lookups::default(),
        })
    }

    /// Processes a batch of events as one unit and reports on each of them.
    pub async fn process(&self, inputs: Vec<EventInput>) -> InvocationReport {
        let calls_before = self.clients.calls.snapshot();
        let mut latest: BTreeMap<String, &TaskEvent> = BTreeMap::new();
        for input in &inputs {
            let Ok(event) = &input.parsed else { continue };
            if !self.config.accepts_cluster(&event.detail.cluster_arn) {
                continue;
            }
            let slot = latest.entry(event.detail.task_arn.clone()).or_insert(event);
            if supersedes(&event.detail, &slot.detail) {
                *slot = event;
            }
        }
        let plans = self.plan_tasks(&latest).await;
        let (plans, batches) = self.write(plans).await;

        let by_arn: HashMap<&str, &TaskPlan> = latest
            .iter()
            .filter_map(|(arn, event)| {
                plans
                    .get(event.detail.task_id())
                    .map(|plan| (arn.as_str(), plan))
            })
            .collect();
        let events = inputs
            .iter()
            .map(|input| self.outcome(input, &by_arn))
            .collect();
        let api_calls = self
            .clients
            .calls
            .snapshot()
            .into_iter()
            .filter_map(|(op, n)| {
                let delta = n - calls_before.get(&op).copied().unwrap_or(0);
                (delta > 0).then_some((op, delta))
            })
            .collect();
        InvocationReport {
            events,
            batches,
            api_calls,
        }
    }

    fn outcome(&self, input: &EventInput, plans: &HashMap<&str, &TaskPlan>) -> EventOutcome {
        match &input.parsed {
            Err(err) => EventOutcome {
                source: input.source.clone(),
                event_id: err.event_id().map(str::to_owned),
                task_id: None,
                decision: Decision::Ignore,
                error: Some(err.to_string()),
            },
            Ok(event) => {
                let plan = plans.get(event.detail.task_arn.as_str());
                EventOutcome {
                    source: input.source.clone(),
                    event_id: Some(event.id.clone()),
                    task_id: Some(event.detail.task_id().to_owned()),
                    decision: plan.map_or(Decision::Ignore, |p| p.decision),
                    error: plan.and_then(|p| p.result.as_ref().err().cloned()),
                }
            }
        }
    }

    /// Decides every task: confirm, look up, resolve. No zone access yet.
    async fn plan_tasks(&self, latest: &BTreeMap<String, &TaskEvent>) -> Vec<TaskPlan> {
        let mut plans = Vec::new();
        let mut to_confirm: BTreeMap<&str, Vec<&TaskStateChange>> = BTreeMap::new();
        for event in latest.values() {
            let detail = &event.detail;
            if detail.wants_withdrawal() {
                plans.push(decided(
                    detail,
                    Decision::Withdraw,
                    Ok(TaskIntent::Withdraw),
                ));
            } else if detail.wants_publication() {
                to_confirm
                    .entry(detail.cluster_arn.as_str())
                    .or_default()
                    .push(detail);
            } else {
                info!(task = detail.task_id(), last_status = ?detail.last_status, "not running yet; nothing to do");
                plans.push(TaskPlan {
                    task_id: detail.task_id().to_owned(),
                    decision: Decision::Ignore,
                    result: Ok(None),
                });
            }
        }
        for (cluster, details) in to_confirm {
            let arns: Vec<String> = details.iter().map(|d| d.task_arn.clone()).collect();
            let states = task_states(&self.clients.ecs, cluster, &arns).await;
            let mut running = Vec::new();
            for detail in details {
                match &states {
                    Err(err) => plans.push(decided(
                        detail,
                        Decision::Publish,
                        Err(format!(
                            "not published, the running state could not be confirmed: {err}"
                        )),
                    )),
                    Ok(states) => match confirm(detail, states.get(&detail.task_arn)) {
                        Confirmation::Running => running.push(detail),
                        Confirmation::Gone(why) => {
                            info!(
                                task = detail.task_id(),
                                why, "event says RUNNING but the task is not; withdrawing"
                            );
                            plans.push(decided(
                                detail,
                                Decision::Withdraw,
                                Ok(TaskIntent::Withdraw),
                            ));
                        }
                        Confirmation::Lagging(why) => {
                            plans.push(decided(detail, Decision::Publish, Err(why)))
                        }
                    },
                }
            }
            let addresses = self.host_addresses(cluster, &running).await;
            for detail in running {
                let intent = self.publish_intent(detail, &addresses).await;
                plans.push(decided(detail, Decision::Publish, intent));
            }
        }
        plans
    }

    /// Private IPs of the EC2 hosts of bridge and host mode tasks (awsvpc tasks carry
    /// their own address; asking for theirs would only cost calls).
    async fn host_addresses(
        &self,
        cluster: &str,
        running: &[&TaskStateChange],
    ) -> HashMap<String, Result<Ipv4Addr, String>> {
        let mut needed = Vec::new();
        for detail in running {
            let Some(instance) = &detail.container_instance_arn else {
                continue;
            };
            if detail.eni_private_ipv4().is_none() && !needed.contains(instance) {
                needed.push(instance.clone());
            }
        }
        if needed.is_empty() {
            return HashMap::new();
        }
        self.lookups
            .instance_addresses(&self.clients.ecs, &self.clients.ec2, cluster, &needed)
            .await
            .into_iter()
            .map(|(arn, result)| (arn, result.map_err(|e| e.to_string())))
            .collect()
    }

    async fn publish_intent(
        &self,
        detail: &TaskStateChange,
        addresses: &HashMap<String, Result<Ipv4Addr, String>>,
    ) -> Result<TaskIntent, String> {
        let definition = self
            .lookups
            .task_definition(&self.clients.ecs, &detail.task_definition_arn)
            .await
            .map_err(|e| e.to_string())?;
        let host = match (&detail.container_instance_arn, definition.network_mode) {
            (Some(instance), NetworkMode::Bridge | NetworkMode::Host) => {
                match addresses.get(instance) {
                    Some(Ok(ip)) => Some(*ip),
                    Some(Err(err)) => return Err(err.clone()),
                    None => None,
                }
            }
            _ => None,
        };
        let resolution =
            resolve_running_task(detail, &definition, host, self.config.default_weight)
                .map_err(|e| e.to_string())?;
        for warning in &resolution.warnings {
            warn!(task = detail.task_id(), "{warning}");
        }
        let records =
            desired_records(&resolution.task, &self.settings).map_err(|e| e.to_string())?;
        Ok(TaskIntent::Publish(records))
    }

    /// Reads the zone, turns intents into exact changes, and sends them. When Route 53
    /// refuses a merged batch, each of its tasks is re-read and sent alone, so that one
    /// task's conflict does not hold back the others.
    async fn write(
        &self,
        mut plans: Vec<TaskPlan>,
    ) -> (HashMap<String, TaskPlan>, Vec<AppliedBatch>) {
        let mut applied = Vec::new();
        let wants_zone = plans.iter().any(|p| matches!(p.result, Ok(Some(_))));
        if wants_zone {
            match route53::read_zone(
                &self.clients.route53,
                &self.config.hosted_zone_id,
                &self.settings.naming,
            )
            .await
            {
                Err(err) => fail_all(
                    &mut plans,
                    &format!("not written, the zone could not be read: {err}"),
                ),
                Ok(snapshot) => {
                    let changes = self.changes_for(&mut plans, &snapshot);
                    let refused = self.send_all(&changes, &mut applied).await;
                    self.retry_alone(&mut plans, refused, &mut applied).await;
                }
            }
        }
        (
            plans.into_iter().map(|p| (p.task_id.clone(), p)).collect(),
            applied,
        )
    }

    fn changes_for(&self, plans: &mut [TaskPlan], snapshot: &ZoneSnapshot) -> Vec<TaskChanges> {
        let mut ledger = NameLedger::new(snapshot);
        let mut all = Vec::new();
        for plan in plans.iter_mut() {
            let Ok(Some(intent)) = &plan.result else {
                continue;
            };
            let changes = task_changes(snapshot.task_records(&plan.task_id), intent);
            if let Err(conflict) = ledger.admit(&changes) {
                plan.result = Err(conflict.to_string());
                continue;
            }
            info!(task = %plan.task_id, decision = ?plan.decision, changes = changes.len(), "task planned");
            all.push(TaskChanges {
                task_id: plan.task_id.clone(),
                changes,
            });
        }
        all
    }

    /// Sends the batches; returns the task ids of those Route 53 refused, with the reason.
    async fn send_all(
        &self,
        tasks: &[TaskChanges],
        applied: &mut Vec<AppliedBatch>,
    ) -> Vec<(String, String)> {
        let batches = match pack_batches(tasks, BatchLimits::ROUTE53) {
            Ok(batches) => batches,
            Err(err) => {
                return tasks
                    .iter()
                    .map(|t| (t.task_id.clone(), err.to_string()))
                    .collect()
            }
        };
        let mut refused = Vec::new();
        for batch in batches {
            let comment = format!("ecs-srv: {} task(s)", batch.task_ids.len());
            match route53::send_batch(
                &self.clients.route53,
                &self.config.hosted_zone_id,
                &batch.changes,
                &comment,
            )
            .await
            {
                Ok(change_id) => {
                    info!(
                        change_id,
                        tasks = batch.task_ids.len(),
                        changes = batch.changes.len(),
                        "change batch applied"
                    );
                    applied.push(AppliedBatch {
                        change_id,
                        task_ids: batch.task_ids,
                        changes: batch.changes,
                    });
                }
                Err(err) => {
                    warn!(tasks = batch.task_ids.len(), error = %err, "change batch refused");
                    refused.extend(batch.task_ids.into_iter().map(|id| (id, err.to_string())));
                }
            }
        }
        refused
    }

    async fn retry_alone(
        &self,
        plans: &mut [TaskPlan],
        refused: Vec<(String, String)>,
        applied: &mut Vec<AppliedBatch>,
    ) {
        if refused.is_empty() {
            return;
        }
        let snapshot = route53::read_zone(
            &self.clients.route53,
            &self.config.hosted_zone_id,
            &self.settings.naming,
        )
        .await;
        for (task_id, first_error) in refused {
            let Some(plan) = plans.iter_mut().find(|p| p.task_id == task_id) else {
                continue;
            };
            let Ok(snapshot) = &snapshot else {
                plan.result = Err(first_error);
                continue;
            };
            let changes = self.changes_for(std::slice::from_mut(plan), snapshot);
            let still_refused = self.send_all(&changes, applied).await;
            if let Some((_, err)) = still_refused.into_iter().next() {
                plan.result = Err(err);
            }
        }
    }
}

fn decided(
    detail: &TaskStateChange,
    decision: Decision,
    result: Result<TaskIntent, String>,
) -> TaskPlan {
    TaskPlan {
        task_id: detail.task_id().to_owned(),
        decision,
        result: result.map(Some),
    }
}

fn fail_all(plans: &mut [TaskPlan], reason: &str) {
    for plan in plans.iter_mut().filter(|p| matches!(p.result, Ok(Some(_)))) {
        plan.result = Err(reason.to_owned());
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

enum Confirmation {
    Running,
    /// Stopped, stopping or unknown to ECS: withdraw.
    Gone(String),
    /// ECS has not caught up with the event yet: fail, so the event is retried.
    Lagging(String),
}

fn confirm(detail: &TaskStateChange, state: Option<&TaskState>) -> Confirmation {
    let Some(state) = state else {
        return Confirmation::Gone("DescribeTasks does not know the task".to_owned());
    };
    if state.is_running() {
        return Confirmation::Running;
    }
    let stopping = state.desired_status == "STOPPED"
        || matches!(
            state.last_status.as_str(),
            "DEACTIVATING" | "STOPPING" | "DEPROVISIONING" | "STOPPED" | "DELETED"
        );
    if stopping {
        Confirmation::Gone(format!(
            "DescribeTasks says {}/{}",
            state.last_status, state.desired_status
        ))
    } else {
        Confirmation::Lagging(format!(
            "not published yet: the event (version {}) says RUNNING but DescribeTasks still says {} (version {}); retry later",
            detail.version, state.last_status, state.version
        ))
    }
}
