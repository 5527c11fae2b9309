//! What ecs-srv needs to know of a task definition: its network mode, and each
//! container's docker labels and port mappings. A revision never changes, so these facts
//! are cached for the life of the process (see `aws::ecs::lookups`).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::plan::naming::Transport;

/// The task definition's network mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// Docker bridge: host ports, often dynamic.
    Bridge,
    /// The host's network stack: host port equals container port.
    Host,
    /// A task ENI of its own (EC2 awsvpc and every Fargate task).
    Awsvpc,
    /// No networking: nothing to publish.
    None,
}

/// What ecs-srv needs from a task definition. A revision never changes, so this is
/// cached for the life of the process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskDefinitionFacts {
    /// The task definition ARN, family and revision included.
    pub arn: String,
    /// The family, the service label of last resort.
    pub family: String,
    /// How the task's containers reach the network.
    pub network_mode: NetworkMode,
    /// Container definitions in their declared order.
    pub containers: Vec<ContainerDefinitionFacts>,
}

/// One container definition's labels, port mappings and health check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerDefinitionFacts {
    /// The container name, as events name it too.
    pub name: String,
    /// Docker labels.
    pub labels: BTreeMap<String, String>,
    /// Declared port mappings.
    pub port_mappings: Vec<PortMapping>,
    /// Whether the task stops when this container stops (ECS's default: yes). Only
    /// essential containers' health checks decide the task's health.
    pub essential: bool,
    /// The container's health check timing, when it defines one.
    pub health_check: Option<HealthCheckTiming>,
}

/// One declared port mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortMapping {
    /// The container port; absent when a range is declared instead.
    pub container_port: Option<u16>,
    /// The fixed host port, if any (0 or absent means dynamic in bridge mode).
    pub host_port: Option<u16>,
    /// tcp or udp.
    pub transport: Transport,
    /// A declared container port range, which ecs-srv does not publish.
    pub container_port_range: Option<String>,
}

/// ECS's health check defaults, used where the task definition leaves a field out.
const DEFAULT_INTERVAL_SECS: u64 = 30;
const DEFAULT_RETRIES: u32 = 3;

/// How long a container's health check takes to reach a verdict, from its definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthCheckTiming {
    /// Seconds between checks.
    pub interval: Duration,
    /// Consecutive failures before UNHEALTHY.
    pub retries: u32,
    /// Grace after the container starts during which failures do not count.
    pub start_period: Duration,
}

impl HealthCheckTiming {
    /// From the task definition's seconds, with ECS's defaults for absent values.
    pub fn from_definition(
        interval: Option<i32>,
        retries: Option<i32>,
        start_period: Option<i32>,
    ) -> Self {
        let seconds = |value: Option<i32>, default: u64| {
            value
                .and_then(|v| u64::try_from(v).ok())
                .map_or(Duration::from_secs(default), Duration::from_secs)
        };
        HealthCheckTiming {
            interval: seconds(interval, DEFAULT_INTERVAL_SECS),
            retries: retries
                .and_then(|r| u32::try_from(r).ok())
                .unwrap_or(DEFAULT_RETRIES),
            start_period: seconds(start_period, 0),
        }
    }

    /// By when ECS must have said HEALTHY or UNHEALTHY: start period + interval × retries.
    pub fn settle_bound(&self) -> Duration {
        self.start_period + self.interval * self.retries
    }
}
