//! The serde shape of an "ECS Task State Change" `detail`.
//!
//! The detail is the ECS `Task` data type plus `updatedAt`. Every documented field is here
//! so that nothing AWS sends is an error, and unknown fields are ignored because AWS says
//! it may add some at any time. Only the values the planner acts on are enums; the others
//! stay strings so that a new value from AWS (a stop code, a health status) never turns a
//! good event into a refused one.

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
    /// Where the task runs; absent on tasks placed by a capacity provider strategy.
    pub launch_type: Option<LaunchType>,
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
    /// Placement attributes such as `ecs.cpu-architecture`.
    #[serde(default, deserialize_with = "list_or_null")]
    pub attributes: Vec<TaskAttribute>,
    /// For example `us-east-1a`.
    pub availability_zone: Option<String>,
    /// The capacity provider that placed the task, for example `FARGATE`.
    pub capacity_provider_name: Option<String>,
    /// `CONNECTED` or `DISCONNECTED`: whether the agent reaches ECS.
    pub connectivity: Option<String>,
    /// When `connectivity` last changed.
    pub connectivity_at: Option<String>,
    /// Task-level CPU units, as a string as ECS sends it (`"256"`).
    pub cpu: Option<String>,
    /// Task-level memory in MiB, as a string (`"512"`).
    pub memory: Option<String>,
    /// When the task was created.
    pub created_at: Option<String>,
    /// When the task reached RUNNING.
    pub started_at: Option<String>,
    /// Who started it: `ecs-svc/…` for a service, a caller-chosen tag for `run-task`.
    pub started_by: Option<String>,
    /// When the task began stopping.
    pub stopping_at: Option<String>,
    /// When the task reached STOPPED.
    pub stopped_at: Option<String>,
    /// Why it stopped, for example `ServiceSchedulerInitiated` or `SpotInterruption`.
    pub stop_code: Option<String>,
    /// A human-readable reason for the stop.
    pub stopped_reason: Option<String>,
    /// When the task's containers finished stopping.
    pub execution_stopped_at: Option<String>,
    /// When the image pull started.
    pub pull_started_at: Option<String>,
    /// When the image pull finished.
    pub pull_stopped_at: Option<String>,
    /// When this event's state was recorded (events only, not in `DescribeTasks`).
    pub updated_at: Option<String>,
    /// The Fargate platform version, for example `1.4.0`.
    pub platform_version: Option<String>,
    /// The Fargate platform family, for example `Linux`.
    pub platform_family: Option<String>,
    /// Whether ECS Exec is enabled for the task.
    pub enable_execute_command: Option<bool>,
    /// `HEALTHY`, `UNHEALTHY` or `UNKNOWN`, from the essential containers' health checks.
    pub health_status: Option<String>,
    /// Fargate ephemeral storage size.
    pub ephemeral_storage: Option<EphemeralStorage>,
    /// Fargate ephemeral storage size and encryption key.
    pub fargate_ephemeral_storage: Option<FargateEphemeralStorage>,
    /// Elastic Inference accelerators (retired by AWS but still documented).
    #[serde(default, deserialize_with = "list_or_null")]
    pub inference_accelerators: Vec<InferenceAccelerator>,
    /// The run-time overrides, kept as raw JSON: nothing here depends on them.
    pub overrides: Option<serde_json::Value>,
    /// Tags on the task.
    #[serde(default, deserialize_with = "list_or_null")]
    pub tags: Vec<Tag>,
}

/// The infrastructure a task runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LaunchType {
    /// An EC2 container instance in the cluster.
    Ec2,
    /// AWS Fargate: always awsvpc.
    Fargate,
    /// ECS Anywhere: a registered external instance.
    External,
    /// ECS Managed Instances: EC2 capacity that ECS runs for you.
    ManagedInstances,
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
    /// Withdraw as soon as ECS wants the task stopped, so DNS drains before SIGTERM, and
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
    /// The container's own ARN.
    pub container_arn: Option<String>,
    /// The container's status; a string because ECS adds values over time.
    pub last_status: Option<String>,
    /// Published ports in bridge and host mode; empty in awsvpc and once stopped.
    #[serde(default, deserialize_with = "list_or_null")]
    pub network_bindings: Vec<NetworkBinding>,
    /// The container's addresses in awsvpc mode.
    #[serde(default, deserialize_with = "list_or_null")]
    pub network_interfaces: Vec<ContainerNetworkInterface>,
    /// The image reference from the task definition.
    pub image: Option<String>,
    /// The resolved image digest.
    pub image_digest: Option<String>,
    /// The Docker container id.
    pub runtime_id: Option<String>,
    /// The exit code, once the container has stopped.
    pub exit_code: Option<i64>,
    /// Why the container stopped, when it did.
    pub reason: Option<String>,
    /// CPU units as a string (`"0"` when unset).
    pub cpu: Option<String>,
    /// Hard memory limit in MiB, as a string.
    pub memory: Option<String>,
    /// Soft memory limit in MiB, as a string.
    pub memory_reservation: Option<String>,
    /// GPUs assigned to the container.
    #[serde(default, deserialize_with = "list_or_null")]
    pub gpu_ids: Vec<String>,
    /// `HEALTHY`, `UNHEALTHY` or `UNKNOWN`.
    pub health_status: Option<String>,
    /// Agents ECS runs beside the container, such as the ECS Exec agent.
    #[serde(default, deserialize_with = "list_or_null")]
    pub managed_agents: Vec<ManagedAgent>,
    /// The task this container belongs to.
    pub task_arn: Option<String>,
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

/// A task placement attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskAttribute {
    /// For example `ecs.cpu-architecture`.
    pub name: String,
    /// For example `x86_64`.
    pub value: Option<String>,
    /// The kind of resource the attribute is about.
    pub target_type: Option<String>,
    /// The resource the attribute is about.
    pub target_id: Option<String>,
}

/// Fargate ephemeral storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EphemeralStorage {
    /// Size in GiB.
    #[serde(rename = "sizeInGiB")]
    pub size_in_gib: Option<u64>,
}

/// Fargate ephemeral storage with its encryption key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FargateEphemeralStorage {
    /// Size in GiB.
    #[serde(rename = "sizeInGiB")]
    pub size_in_gib: Option<u64>,
    /// The KMS key that encrypts it.
    #[serde(rename = "kmsKeyId")]
    pub kms_key_id: Option<String>,
}

/// An Elastic Inference accelerator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceAccelerator {
    /// The device name from the task definition.
    pub device_name: Option<String>,
    /// The accelerator type.
    pub device_type: Option<String>,
}

/// A key and value tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// The tag key.
    pub key: Option<String>,
    /// The tag value.
    pub value: Option<String>,
}

/// An agent ECS manages beside a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedAgent {
    /// For example `ExecuteCommandAgent`.
    pub name: Option<String>,
    /// The agent's status.
    pub last_status: Option<String>,
    /// When the agent last started.
    pub last_started_at: Option<String>,
    /// Why the agent is in its status.
    pub reason: Option<String>,
}
