//! The serde shape of an "ECS Task State Change" `detail`.
//!
//! The detail is the ECS `Task` data type plus `updatedAt`. Only the fields the planner
//! reads are here: every other field, and any field AWS adds later, is ignored, so that a
//! value the planner never looks at (a new launch type, a new kind of storage) can never
//! turn a good event into a refused one. Only the values the planner acts on are enums;
//! the others stay strings.

use std::net::Ipv4Addr;

use serde::{Deserialize, Deserializer, Serialize};

/// Reads a list that AWS may send as absent, `null` or `[]`: all three mean "none".
fn list_or_null<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// The `detail` of an "ECS Task State Change" event: one task as ECS saw it at `version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStateChange {
    /// `arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID`, or the old `task/ID` form.
    pub task_arn: String,
    /// The cluster the task runs in.
    pub cluster_arn: String,
    /// `…:task-definition/FAMILY:REVISION`; the key for the cached port and label look-up.
    pub task_definition_arn: String,
    /// The EC2 container instance for EC2 and external tasks; absent on Fargate.
    pub container_instance_arn: Option<String>,
    /// What the task is now.
    pub last_status: TaskStatus,
    /// What ECS is driving the task towards; STOPPED here means "drain now".
    pub desired_status: TaskStatus,
    /// `service:NAME` or `family:NAME`; the source of the service label.
    pub group: Option<String>,
    /// Increases with every change of the task; orders events delivered out of order.
    pub version: u64,
    /// The task's containers; validation refuses an empty list.
    pub containers: Vec<Container>,
    /// Network interfaces and other attachments; the ENI carries the awsvpc address.
    #[serde(default, deserialize_with = "list_or_null")]
    pub attachments: Vec<Attachment>,
    /// `HEALTHY`, `UNHEALTHY` or `UNKNOWN`, from the essential containers' health checks.
    pub health_status: Option<String>,
}

/// A task's lifecycle status, declared in lifecycle order so that `>` means "later".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    /// Resources such as the ENI are being set up.
    Provisioning,
    /// Waiting for the agent to start the containers.
    Pending,
    /// Load balancers and Service Connect are being wired up.
    Activating,
    /// Serving.
    Running,
    /// Load balancers and Service Connect are being unwired.
    Deactivating,
    /// The containers are being stopped.
    Stopping,
    /// Resources such as the ENI are being released.
    Deprovisioning,
    /// Gone.
    Stopped,
    /// Gone and removed from ECS's records.
    Deleted,
}

impl std::str::FromStr for TaskStatus {
    type Err = String;

    /// ECS's spelling, as in events and DescribeTasks (`RUNNING`, `STOPPED`, ...).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(text.to_owned()))
            .map_err(|_| format!("unknown task status {text:?}"))
    }
}

/// Where a task is and where ECS wants it: the two statuses every decision reads, from
/// an event or from DescribeTasks alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lifecycle {
    /// `lastStatus`.
    pub last: TaskStatus,
    /// `desiredStatus`.
    pub desired: TaskStatus,
}

impl Lifecycle {
    /// Withdraw as soon as ECS wants the task stopped (ECS sends SIGTERM at that moment, so
    /// DNS has drained only if the task keeps serving for the TTL and resolver caches), and
    /// on any status past RUNNING.
    pub fn wants_withdrawal(self) -> bool {
        self.desired == TaskStatus::Stopped || self.last > TaskStatus::Running
    }

    /// Publish only a task that is running and meant to stay running.
    pub fn wants_publication(self) -> bool {
        self.last == TaskStatus::Running && self.desired == TaskStatus::Running
    }
}

/// One container of the task as the event reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// The name from the task definition; the default port label.
    pub name: String,
    /// The container's status; a string because ECS adds values over time.
    pub last_status: Option<String>,
    /// Published ports in bridge and host mode; empty in awsvpc and once stopped.
    #[serde(default, deserialize_with = "list_or_null")]
    pub network_bindings: Vec<NetworkBinding>,
    /// The container's addresses in awsvpc mode.
    #[serde(default, deserialize_with = "list_or_null")]
    pub network_interfaces: Vec<ContainerNetworkInterface>,
    /// `HEALTHY`, `UNHEALTHY` or `UNKNOWN`.
    pub health_status: Option<String>,
}

/// One published port of a container (bridge and host mode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkBinding {
    /// The host address bound: `0.0.0.0`, or `::` for the IPv6 twin of the same port.
    #[serde(rename = "bindIP")]
    pub bind_ip: Option<String>,
    /// The port inside the container.
    pub container_port: Option<u16>,
    /// The port on the host: the one that goes into the SRV record in bridge and host mode.
    pub host_port: Option<u16>,
    /// `tcp` or `udp`.
    pub protocol: Option<TransportProtocol>,
    /// A port range mapping such as `"8000-8010"`; the planner skips these.
    pub container_port_range: Option<String>,
    /// The host side of a port range mapping.
    pub host_port_range: Option<String>,
}

/// The transport of a published port; it picks `_tcp` or `_udp` in the SRV name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportProtocol {
    /// `tcp`
    Tcp,
    /// `udp`
    Udp,
}

/// A container's address in awsvpc mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerNetworkInterface {
    /// The ENI attachment this address belongs to.
    pub attachment_id: Option<String>,
    /// The private IPv4 address; parsed, so a malformed one is refused with its path.
    pub private_ipv4_address: Option<Ipv4Addr>,
    /// The IPv6 address, when the subnet has one.
    pub ipv6_address: Option<String>,
}

/// Something attached to the task; the ENI (`type` `eni`) carries the awsvpc address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// The attachment id.
    pub id: Option<String>,
    /// The JSON `type`: `eni` in events, `ElasticNetworkInterface` in `DescribeTasks`,
    /// or another kind such as `Service Connect`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For example `ATTACHED` or `DELETED`.
    pub status: Option<String>,
    /// Name and value pairs such as `privateIPv4Address`.
    #[serde(default, deserialize_with = "list_or_null")]
    pub details: Vec<AttachmentDetail>,
}

/// One name and value pair of an attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentDetail {
    /// For example `privateIPv4Address` or `subnetId`.
    pub name: String,
    /// The value, always a string.
    pub value: String,
}
