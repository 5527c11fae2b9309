//! From confirmed running tasks to what their records should be: the look-ups (with their
//! warm caches), the health gate and the record settings, shared by the event path and the
//! reconcile so that both publish a task alike.

use std::collections::HashMap;
use std::time::SystemTime;

use tracing::{info, warn};

use crate::aws::ecs::{LookupError, Lookups};
use crate::aws::AwsClients;
use crate::error::TaskError;
use crate::input::event::TaskStateChange;
use crate::plan::desired::{desired_records, RecordSettings};
use crate::plan::task::health::{health_verdict, HealthVerdict, ReportedHealth};
use crate::plan::task::{resolve_running_task, HostAddress, NetworkMode};
use crate::plan::TaskIntent;

/// Works out the records of running tasks.
#[derive(Debug)]
pub struct TaskResolver {
    /// How records are named, routed and timed.
    pub settings: RecordSettings,
    /// Weight of a container without an `ecs-srv.weight` label.
    pub default_weight: u8,
    /// The caches of a warm function.
    pub lookups: Lookups,
    /// Whether tasks with health checks wait for HEALTHY (HEALTH_GATE).
    pub health_gate: bool,
}

/// A task DescribeTasks confirmed running, with the health it reported in the same answer.
pub type ConfirmedTask<'a> = (&'a TaskStateChange, ReportedHealth);

impl TaskResolver {
    /// A resolver with cold caches.
    pub fn new(settings: RecordSettings, default_weight: u8) -> Self {
        Self {
            settings,
            default_weight,
            lookups: Lookups::default(),
            health_gate: true,
        }
    }

    /// The records each running task of one cluster should have, by task id: its records,
    /// a withdrawal while it is UNHEALTHY, or an error while its health is not known yet.
    /// Host addresses are looked up once for all of them.
    pub async fn publish_intents(
        &self,
        clients: &AwsClients,
        cluster_arn: &str,
        running: &[ConfirmedTask<'_>],
    ) -> Vec<(String, Result<TaskIntent, TaskError>)> {
        let details: Vec<&TaskStateChange> = running.iter().map(|(detail, _)| *detail).collect();
        let hosts = self.host_addresses(clients, cluster_arn, &details).await;
        let now = SystemTime::now();
        let mut intents = Vec::with_capacity(running.len());
        for (detail, health) in running {
            let intent = self
                .publish_intent(clients, detail, health, now, &hosts)
                .await;
            intents.push((detail.task_id().to_owned(), intent));
        }
        intents
    }

    /// The service names (`S.Z`) a task's records stand under, from its task definition:
    /// the subtrees of the zone a withdrawal of it reads.
    pub async fn service_names(
        &self,
        clients: &AwsClients,
        detail: &TaskStateChange,
    ) -> Result<Vec<String>, TaskError> {
        let definition = self
            .lookups
            .task_definition(&clients.ecs, &detail.task_definition_arn)
            .await
            .map_err(TaskError::Lookup)?;
        let cluster = crate::plan::task::cluster_name(&detail.cluster_arn);
        crate::plan::task::service_labels(detail, &definition)
            .iter()
            .map(|label| self.settings.service_name(label, cluster))
            .collect::<Result<_, _>>()
            .map_err(TaskError::Name)
    }

    /// Addresses of the EC2 hosts of bridge and host mode tasks (awsvpc tasks carry
    /// their own address; asking for theirs would only cost calls).
    async fn host_addresses(
        &self,
        clients: &AwsClients,
        cluster_arn: &str,
        running: &[&TaskStateChange],
    ) -> HashMap<String, Result<HostAddress, LookupError>> {
        let mut needed: Vec<String> = running
            .iter()
            .filter(|detail| detail.eni_private_ipv4().is_none() && detail.eni_ipv6().is_none())
            .filter_map(|detail| detail.container_instance_arn.clone())
            .collect();
        needed.sort();
        needed.dedup();
        if needed.is_empty() {
            return HashMap::new();
        }
        self.lookups
            .instance_addresses(&clients.ecs, &clients.ec2, cluster_arn, &needed)
            .await
    }

    async fn publish_intent(
        &self,
        clients: &AwsClients,
        detail: &TaskStateChange,
        health: &ReportedHealth,
        now: SystemTime,
        hosts: &HashMap<String, Result<HostAddress, LookupError>>,
    ) -> Result<TaskIntent, TaskError> {
        let definition = self
            .lookups
            .task_definition(&clients.ecs, &detail.task_definition_arn)
            .await
            .map_err(TaskError::Lookup)?;
        match health_verdict(self.health_gate, &definition, health, now) {
            HealthVerdict::Publish => {}
            HealthVerdict::Withdraw => {
                info!(
                    task = detail.task_id(),
                    "ECS reports the task UNHEALTHY; withdrawing it"
                );
                return Ok(TaskIntent::Withdraw);
            }
            HealthVerdict::Pending { bound, waited } => {
                return Err(TaskError::NotHealthyYet {
                    status: health.task,
                    waited: waited.map_or("?".to_owned(), |w| w.as_secs().to_string()),
                    bound_secs: bound.as_secs(),
                })
            }
            HealthVerdict::Unsettled { bound, waited } => {
                return Err(TaskError::HealthUnsettled {
                    status: health.task,
                    waited_secs: waited.as_secs(),
                    bound_secs: bound.as_secs(),
                })
            }
        }
        let host = match (&detail.container_instance_arn, definition.network_mode) {
            (Some(instance), NetworkMode::Bridge | NetworkMode::Host) => {
                match hosts.get(instance) {
                    Some(Ok(ip)) => Some(*ip),
                    Some(Err(err)) => return Err(TaskError::Lookup(err.clone())),
                    None => None,
                }
            }
            _ => None,
        };
        let resolution = resolve_running_task(detail, &definition, host, self.default_weight)
            .map_err(TaskError::Resolve)?;
        for warning in &resolution.warnings {
            warn!(task = detail.task_id(), "{warning}");
        }
        let records = desired_records(&resolution.task, &self.settings).map_err(TaskError::Name)?;
        Ok(TaskIntent::Publish(records))
    }
}
