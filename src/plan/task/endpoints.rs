//! From a running task to its endpoints: which address, which ports, under which names
//! and weights. Pure: the caller brings the task definition and the host's IP.
//!
//! The network mode decides where an endpoint lives. In bridge and host mode it is the
//! EC2 host's private IP with the host port from the task's network bindings; in awsvpc
//! (EC2 or Fargate) it is the task's own ENI with the container port from the task
//! definition, because such tasks have no bindings. An ENI may carry an IPv4 address, an
//! IPv6 address or both (dual-stack); each one the task has is published.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::input::event::{NetworkBinding, TaskStateChange, TransportProtocol};
use crate::plan::naming::{dns_label, srv_port_label, ClusterId, Transport};
use crate::plan::task::definition::{ContainerDefinitionFacts, NetworkMode, TaskDefinitionFacts};

/// Docker label that renames the service label `S` of a container's records.
pub const LABEL_SERVICE: &str = "ecs-srv.service";
/// Docker label that renames the port label `P` of a single-port container.
pub const LABEL_PORT: &str = "ecs-srv.port";
/// Prefix of the per-port label `ecs-srv.port.<containerPort>` for multi-port containers.
pub const LABEL_PORT_PREFIX: &str = "ecs-srv.port.";
/// Docker label with the container's weight, 0 to 255.
pub const LABEL_WEIGHT: &str = "ecs-srv.weight";
/// Docker label that opts a container out when set to `false`, `0`, `no` or `off`.
pub const LABEL_ENABLE: &str = "ecs-srv.enable";

/// One SRV-worthy endpoint of a running task.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Endpoint {
    /// `S`, already a DNS label.
    pub service_label: String,
    /// `P`, already a DNS label.
    pub port_label: String,
    /// `_tcp` or `_udp`.
    pub transport: Transport,
    /// The port clients connect to.
    pub port: u16,
    /// The weight in the weighted record and the SRV weight field.
    pub weight: u8,
    /// The container that serves it, for logs.
    pub container: String,
    /// Whether the endpoint joins the service-wide names: the task belongs to an ECS
    /// service, or the container's `ecs-srv.service` label puts it there on purpose. A
    /// one-off or scheduled task's endpoint does not, so that it cannot take a share of a
    /// service's traffic by sharing its family name.
    pub joins_service: bool,
}

/// Where an EC2 host is reached: its private IPv4, and its primary IPv6 when it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostAddress {
    /// The instance's private IPv4 address.
    pub ipv4: Ipv4Addr,
    /// The instance's primary IPv6 address (DescribeInstances `Ipv6Address`), if any.
    pub ipv6: Option<Ipv6Addr>,
}

impl From<Ipv4Addr> for HostAddress {
    fn from(ipv4: Ipv4Addr) -> Self {
        HostAddress { ipv4, ipv6: None }
    }
}

/// A task confirmed running, reduced to what its records need.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RunningTask {
    /// The last segment of the task ARN, the `T` label.
    pub task_id: String,
    /// The task's cluster.
    pub cluster: ClusterId,
    /// Where IPv4 clients connect: the A records. `None` for an IPv6-only task.
    pub ipv4: Option<Ipv4Addr>,
    /// Where IPv6 clients connect: the AAAA records. `None` unless the ENI has one.
    pub ipv6: Option<Ipv6Addr>,
    /// Every published port; may be empty when a task exposes nothing.
    pub endpoints: Vec<Endpoint>,
}

/// The result of resolving a task: its endpoints and anything skipped on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    /// The task as its records will show it.
    pub task: RunningTask,
    /// Ports or containers that were skipped, with the reason, for the log.
    pub warnings: Vec<String>,
}

/// Why a running task cannot be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// awsvpc without an ENI address of either family.
    #[error("task {task_id} runs in awsvpc mode but its event carries no ENI address (neither privateIPv4Address nor ipv6Address)")]
    MissingEniAddress {
        /// The task.
        task_id: String,
    },
    /// bridge or host without the host's IP.
    #[error("task {task_id} runs in {mode:?} mode but the private IP of its container instance is unknown")]
    MissingHostAddress {
        /// The task.
        task_id: String,
        /// Its network mode.
        mode: NetworkMode,
    },
    /// A bridge container with dynamic host ports but no network bindings to read them
    /// from. Publishing the task without them would drop its SRV records.
    #[error("task {task_id}, container {container}: container ports {ports:?} map to dynamic host ports but the task has no network bindings for them; retry when ECS reports them")]
    MissingBindings {
        /// The task.
        task_id: String,
        /// The container.
        container: String,
        /// Its container ports without a known host port.
        ports: Vec<u16>,
    },
    /// The cluster ARN is not one (events are checked before, so this is a bug's guard).
    #[error("task {task_id}: its cluster ARN {arn:?} is not an ECS cluster ARN")]
    BadClusterArn {
        /// The task.
        task_id: String,
        /// What stood where the ARN should be.
        arn: String,
    },
    /// A docker label with a value ecs-srv cannot use.
    #[error("task {task_id}, container {container}: docker label {label}={value:?} is invalid: {expected}")]
    BadLabel {
        /// The task.
        task_id: String,
        /// The container whose label it is.
        container: String,
        /// The label key.
        label: String,
        /// The value found.
        value: String,
        /// What the label accepts.
        expected: &'static str,
    },
}

impl ResolveError {
    /// ECS fills in addresses and bindings a little after RUNNING; a bad label stays bad.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            ResolveError::BadLabel { .. } | ResolveError::BadClusterArn { .. }
        )
    }
}

/// Works out a running task's endpoints.
///
/// `host_address` is the container instance's address (bridge and host mode: its IPv4,
/// and its IPv6 when the instance has one); it is ignored in awsvpc mode, where the ENI
/// addresses from the event are used.
pub fn resolve_running_task(
    detail: &TaskStateChange,
    definition: &TaskDefinitionFacts,
    host_address: Option<HostAddress>,
    default_weight: u8,
) -> Result<Resolution, ResolveError> {
    let task_id = detail.task_id().to_owned();
    let cluster =
        ClusterId::from_arn(&detail.cluster_arn).ok_or_else(|| ResolveError::BadClusterArn {
            task_id: task_id.clone(),
            arn: detail.cluster_arn.clone(),
        })?;
    let mut warnings = Vec::new();
    let addresses = addresses(detail, definition, host_address, &task_id)?;
    let endpoints = match addresses {
        Some(_) => endpoints(detail, definition, default_weight, &mut warnings)?,
        None => {
            warnings.push("network mode none: the task has no reachable ports".to_owned());
            Vec::new()
        }
    };
    let (ipv4, ipv6) = addresses.unwrap_or((None, None));
    Ok(Resolution {
        task: RunningTask {
            task_id,
            cluster,
            ipv4,
            ipv6,
            endpoints,
        },
        warnings,
    })
}

/// Where the task is reached, by network mode; `None` in mode `none`.
#[allow(clippy::type_complexity)]
fn addresses(
    detail: &TaskStateChange,
    definition: &TaskDefinitionFacts,
    host_address: Option<HostAddress>,
    task_id: &str,
) -> Result<Option<(Option<Ipv4Addr>, Option<Ipv6Addr>)>, ResolveError> {
    match definition.network_mode {
        NetworkMode::Awsvpc => match (detail.eni_private_ipv4(), detail.eni_ipv6()) {
            (None, None) => Err(ResolveError::MissingEniAddress {
                task_id: task_id.to_owned(),
            }),
            addresses => Ok(Some(addresses)),
        },
        NetworkMode::Bridge | NetworkMode::Host => {
            let host = host_address.ok_or(ResolveError::MissingHostAddress {
                task_id: task_id.to_owned(),
                mode: definition.network_mode,
            })?;
            Ok(Some((Some(host.ipv4), host.ipv6)))
        }
        NetworkMode::None => Ok(None),
    }
}

/// Every endpoint of the task's containers, in declaration order; of two that would share
/// one SRV name, the first.
fn endpoints(
    detail: &TaskStateChange,
    definition: &TaskDefinitionFacts,
    default_weight: u8,
    warnings: &mut Vec<String>,
) -> Result<Vec<Endpoint>, ResolveError> {
    let mut endpoints: Vec<Endpoint> = Vec::new();
    for container in &definition.containers {
        if is_opted_out(&container.labels) {
            warnings.push(format!(
                "container {} opted out with {LABEL_ENABLE}",
                container.name
            ));
            continue;
        }
        for endpoint in
            container_endpoints(detail, definition, container, default_weight, warnings)?
        {
            let clash = endpoints.iter().find(|e| {
                e.service_label == endpoint.service_label
                    && e.port_label == endpoint.port_label
                    && e.transport == endpoint.transport
            });
            match clash {
                Some(first) => warnings.push(format!(
                    "container {} port {} has the same SRV name as container {} port {}; keeping the first",
                    endpoint.container, endpoint.port, first.container, first.port
                )),
                None => endpoints.push(endpoint),
            }
        }
    }
    Ok(endpoints)
}

/// One container's endpoints: its labels read, each published port named.
fn container_endpoints(
    detail: &TaskStateChange,
    definition: &TaskDefinitionFacts,
    container: &ContainerDefinitionFacts,
    default_weight: u8,
    warnings: &mut Vec<String>,
) -> Result<Vec<Endpoint>, ResolveError> {
    let bad_label = |label: &str, value: &str, expected| ResolveError::BadLabel {
        task_id: detail.task_id().to_owned(),
        container: container.name.clone(),
        label: label.to_owned(),
        value: value.to_owned(),
        expected,
    };
    let weight = match container.labels.get(LABEL_WEIGHT) {
        Some(raw) => raw
            .trim()
            .parse::<u8>()
            .map_err(|_| bad_label(LABEL_WEIGHT, raw, "a whole number from 0 to 255"))?,
        None => default_weight,
    };
    let service_label = match container.labels.get(LABEL_SERVICE) {
        Some(raw) if raw.trim().is_empty() => {
            return Err(bad_label(LABEL_SERVICE, raw, "a non-empty service name"))
        }
        Some(raw) => dns_label(raw),
        None => dns_label(default_service(detail, definition)),
    };
    let in_a_service = detail
        .group
        .as_deref()
        .is_some_and(|group| group.starts_with("service:"));
    let joins_service = in_a_service || container.labels.contains_key(LABEL_SERVICE);
    let ports = container_ports(detail, definition.network_mode, container, warnings)?;
    let mut numbers: Vec<u16> = ports.iter().map(|p| p.container_port).collect();
    numbers.sort_unstable();
    numbers.dedup();
    Ok(ports
        .into_iter()
        .map(|port| Endpoint {
            service_label: service_label.clone(),
            port_label: port_label(container, port.container_port, numbers.len()),
            transport: port.transport,
            port: port.published_port,
            weight,
            container: container.name.clone(),
            joins_service,
        })
        .collect())
}

/// The service a task's containers join without a label: its group's name, or else its
/// family.
fn default_service<'a>(
    detail: &'a TaskStateChange,
    definition: &'a TaskDefinitionFacts,
) -> &'a str {
    service_name_from_group(detail.group.as_deref()).unwrap_or(&definition.family)
}

/// Every service label a task's records can stand under, from its definition alone (no
/// address needed): what a withdrawal reads of the zone. Containers that opt out count
/// too, so a label is never missed.
pub fn service_labels(detail: &TaskStateChange, definition: &TaskDefinitionFacts) -> Vec<String> {
    let default_service = default_service(detail, definition);
    let mut labels: Vec<String> = definition
        .containers
        .iter()
        .map(|container| match container.labels.get(LABEL_SERVICE) {
            Some(raw) if !raw.trim().is_empty() => dns_label(raw),
            _ => dns_label(default_service),
        })
        .collect();
    labels.sort();
    labels.dedup();
    labels
}

/// `service:NAME` and `family:NAME` both give NAME; a custom group (`run-task --group`)
/// is its own name.
/// `arn:aws:ecs:REGION:ACCOUNT:cluster/NAME` → `NAME`.
pub fn cluster_name(cluster_arn: &str) -> &str {
    cluster_arn.rsplit('/').next().unwrap_or(cluster_arn)
}

fn service_name_from_group(group: Option<&str>) -> Option<&str> {
    let group = group?;
    group
        .strip_prefix("service:")
        .or_else(|| group.strip_prefix("family:"))
        .unwrap_or(group)
        .split(':')
        .next()
        .filter(|name| !name.is_empty())
}

fn is_opted_out(labels: &BTreeMap<String, String>) -> bool {
    labels.get(LABEL_ENABLE).is_some_and(|value| {
        matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "false" | "0" | "no" | "off"
        )
    })
}

mod ports;

use self::ports::{container_ports, port_label};
