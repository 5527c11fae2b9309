//! One invocation, from events to applied changes.
//!
//! The steps, in order: keep the latest event of each task; confirm with DescribeTasks
//! that a task said to be running still is (a late RUNNING must never bring back a stopped
//! task); look up what publishing needs; read the zone once; plan every task; send as few
//! ChangeBatches as the limits allow. A failure is pinned to the task it belongs to: its
//! events fail and nothing of it is written, while the other tasks go through.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use tracing::{info, warn};

use crate::aws::AwsClients;
use crate::config::PublisherConfig;
use crate::ecs::{task_states, Lookups, TaskState};
use crate::event::{EventError, TaskEvent, TaskStateChange};
use crate::naming::ZoneNaming;
use crate::pacing::WritePacer;
use crate::plan::{desired_records, RecordSettings, TaskIntent};
use crate::records::Change;
use crate::report::{Decision, EventOutcome, InvocationReport};
use crate::resolve::{resolve_running_task, NetworkMode};
use crate::route53::{self, Route53Error};
use crate::write::{WriteOutcome, ZoneWriter};
use crate::zone_cache::ZoneCache;

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
    /// Spaces out Route 53 writes.
    pub pacer: WritePacer,
    /// The zone as last seen, when ZONE_CACHE_SECONDS allows.
    pub zone_cache: ZoneCache,
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
            pacer: WritePacer::per_second(config.route53_write_rate),
            zone_cache: ZoneCache::new(Duration::from_secs(config.zone_cache_seconds)),
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
                info!(event = %event.id, cluster = %event.detail.cluster_arn, "cluster not in CLUSTERS; ignored");
                continue;
            }
            let slot = latest.entry(event.detail.task_arn.clone()).or_insert(event);
            if supersedes(&event.detail, &slot.detail) {
                *slot = event;
            }
        }
        let plans = self.plan_tasks(&latest).await;
        let (plans, written) = self.write(plans).await;

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
        let api_calls = self.clients.calls.since(&calls_before);
        InvocationReport {
            events,
            batches: written.batches,
            srv_set_error: written.srv_set_error,
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
    pub(crate) async fn host_addresses(
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

    pub(crate) async fn publish_intent(
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

    /// The writer every write of this publisher goes through.
    pub fn writer(&self) -> ZoneWriter<'_> {
        ZoneWriter {
            route53: &self.clients.route53,
            zone_id: &self.config.hosted_zone_id,
            naming: &self.settings.naming,
            pacer: &self.pacer,
            srv_sets: self.config.srv_sets,
        }
    }

    /// Reads the zone once and brings every decided task to its intent.
    async fn write(&self, mut plans: Vec<TaskPlan>) -> (HashMap<String, TaskPlan>, WriteOutcome) {
        let intents: Vec<(String, TaskIntent)> = plans
            .iter()
            .filter_map(|p| match &p.result {
                Ok(Some(intent)) => Some((p.task_id.clone(), intent.clone())),
                _ => None,
            })
            .collect();
        let mut outcome = WriteOutcome::default();
        if !intents.is_empty() {
            let writer = self.writer();
            let view = match self.zone_cache.fresh() {
                Some(cached) => Ok(cached),
                None => writer
                    .read()
                    .await
                    .map(|snapshot| (Instant::now(), snapshot)),
            };
            match view {
                Err(err) => fail_all(
                    &mut plans,
                    &format!("not written, the zone could not be read: {err}"),
                ),
                Ok((read_at, snapshot)) => {
                    outcome = writer.apply(&intents, snapshot.clone()).await;
                    if outcome.zone_reread {
                        self.zone_cache.forget();
                    } else {
                        let applied: Vec<Change> = outcome
                            .batches
                            .iter()
                            .flat_map(|b| b.changes.clone())
                            .collect();
                        self.zone_cache
                            .keep(read_at, &snapshot, &self.settings.naming, &applied);
                    }
                }
            }
        }
        for plan in &mut plans {
            if let Some(reason) = outcome.failed.get(&plan.task_id) {
                plan.result = Err(reason.clone());
            }
        }
        (
            plans.into_iter().map(|p| (p.task_id.clone(), p)).collect(),
            outcome,
        )
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
