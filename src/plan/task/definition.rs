//! What ecs-srv needs to know of a task definition: its network mode, and each
//! container's docker labels and port mappings. A revision never changes, so these facts
//! are cached for the life of the process (see `ecs.rs`).

use std::collections::BTreeMap;

use crate::plan::naming::Transport;
use crate::plan::task::health::HealthCheckTiming;

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
