//! The look-ups publishing needs, batched, with the caches a warm Lambda keeps.
//!
//! Two facts never change and are cached for the life of the process: a task definition
//! revision, and the private IPs of a container instance's EC2 host (an instance keeps its
//! primary private IPv4 and IPv6 until it terminates, and a terminated host runs no tasks). Task
//! states are never cached: they are the guard against stale events.

use std::collections::{BTreeSet, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_ec2::types::Filter;
use aws_sdk_ecs::types as ecs_types;

use super::{api_error, LookupError, ECS_DESCRIBE_BATCH};
use crate::plan::naming::Transport;
use crate::plan::task::health::HealthCheckTiming;
use crate::plan::task::{
    ContainerDefinitionFacts, HostAddress, NetworkMode, PortMapping, TaskDefinitionFacts,
};

/// DescribeInstances filters take at most 200 values; stay well inside.
const EC2_DESCRIBE_BATCH: usize = 100;

/// The caches of a warm Lambda.
#[derive(Debug, Default)]
pub struct Lookups {
    task_definitions: Mutex<HashMap<String, Arc<TaskDefinitionFacts>>>,
    instance_addresses: Mutex<HashMap<String, HostAddress>>,
}

impl Lookups {
    /// The facts of one task definition revision, from the cache or one
    /// DescribeTaskDefinition call (there is no batch form of it).
    pub async fn task_definition(
        &self,
        ecs: &aws_sdk_ecs::Client,
        arn: &str,
    ) -> Result<Arc<TaskDefinitionFacts>, LookupError> {
        if let Some(facts) = lock(&self.task_definitions).get(arn) {
            return Ok(Arc::clone(facts));
        }
        let output = ecs
            .describe_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(|e| api_error("DescribeTaskDefinition", arn, e))?;
        let definition = output
            .task_definition()
            .ok_or_else(|| LookupError::NotFound {
                operation: "DescribeTaskDefinition",
                resource: format!("task definition {arn}"),
                reason: "the response has no taskDefinition".to_owned(),
            })?;
        let facts = Arc::new(task_definition_facts(arn, definition));
        lock(&self.task_definitions).insert(arn.to_owned(), Arc::clone(&facts));
        Ok(facts)
    }

    /// The private IPv4 (and primary IPv6, if any) of each container instance's EC2 host,
    /// by container instance ARN. Cached ARNs cost nothing; the rest take one
    /// DescribeContainerInstances and one DescribeInstances per 100. An ARN that cannot be
    /// resolved maps to its own error, so one vanished host never hides the others.
    pub async fn instance_addresses(
        &self,
        ecs: &aws_sdk_ecs::Client,
        ec2: &aws_sdk_ec2::Client,
        cluster_arn: &str,
        container_instance_arns: &[String],
    ) -> HostAddresses {
        let mut results = HashMap::new();
        let mut missing: BTreeSet<String> = BTreeSet::new();
        {
            let cache = lock(&self.instance_addresses);
            for arn in container_instance_arns {
                match cache.get(arn) {
                    Some(ip) => {
                        results.insert(arn.clone(), Ok(*ip));
                    }
                    None => {
                        missing.insert(arn.clone());
                    }
                }
            }
        }
        let missing: Vec<String> = missing.into_iter().collect();
        for chunk in missing.chunks(ECS_DESCRIBE_BATCH) {
            for (arn, resolved) in resolve_chunk(ecs, ec2, cluster_arn, chunk).await {
                if let Ok(ip) = &resolved {
                    lock(&self.instance_addresses).insert(arn.clone(), *ip);
                }
                results.insert(arn, resolved);
            }
        }
        results
    }
}

/// Container instance ARN → its host's addresses, or why they are not known.
pub type HostAddresses = HashMap<String, Result<HostAddress, LookupError>>;

/// The host addresses of at most 100 container instances of one cluster.
async fn resolve_chunk(
    ecs: &aws_sdk_ecs::Client,
    ec2: &aws_sdk_ec2::Client,
    cluster_arn: &str,
    chunk: &[String],
) -> HostAddresses {
    let instance_ids = match describe_container_instances(ecs, cluster_arn, chunk).await {
        Ok(found) => found,
        Err(err) => {
            return chunk
                .iter()
                .map(|arn| (arn.clone(), Err(err.clone())))
                .collect()
        }
    };
    let ids: Vec<String> = instance_ids
        .values()
        .filter_map(|r| r.as_ref().ok().cloned())
        .collect();
    let addresses = private_addresses(ec2, &ids).await;
    let resolve = |arn: &String| match instance_ids.get(arn) {
        Some(Ok(instance_id)) => match &addresses {
            Ok(found) => found.get(instance_id).cloned().unwrap_or_else(|| {
                Err(LookupError::NotFound {
                    operation: "DescribeInstances",
                    resource: format!("EC2 instance {instance_id} (container instance {arn})"),
                    reason: "the instance does not exist; it was probably terminated".to_owned(),
                })
            }),
            Err(err) => Err(err.clone()),
        },
        Some(Err(err)) => Err(err.clone()),
        None => Err(LookupError::NotFound {
            operation: "DescribeContainerInstances",
            resource: format!("container instance {arn}"),
            reason: "not in the response".to_owned(),
        }),
    };
    chunk
        .iter()
        .map(|arn| (arn.clone(), resolve(arn)))
        .collect()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Container instance ARN → EC2 instance id, for one cluster and at most 100 ARNs.
async fn describe_container_instances(
    ecs: &aws_sdk_ecs::Client,
    cluster_arn: &str,
    arns: &[String],
) -> Result<HashMap<String, Result<String, LookupError>>, LookupError> {
    let output = ecs
        .describe_container_instances()
        .cluster(cluster_arn)
        .set_container_instances(Some(arns.to_vec()))
        .send()
        .await
        .map_err(|e| {
            api_error(
                "DescribeContainerInstances",
                format!("{} container instances in {cluster_arn}", arns.len()),
                e,
            )
        })?;
    let mut found = HashMap::new();
    for instance in output.container_instances() {
        let (Some(arn), Some(id)) = (
            instance.container_instance_arn(),
            instance.ec2_instance_id(),
        ) else {
            continue;
        };
        found.insert(arn.to_owned(), Ok(id.to_owned()));
    }
    for failure in output.failures() {
        if let Some(arn) = failure.arn() {
            found.insert(
                arn.to_owned(),
                Err(LookupError::NotFound {
                    operation: "DescribeContainerInstances",
                    resource: format!("container instance {arn}"),
                    reason: failure.reason().unwrap_or("no reason given").to_owned(),
                }),
            );
        }
    }
    Ok(found)
}

/// EC2 instance id → private IPv4, with the primary IPv6 (`Ipv6Address`, set only when
/// the instance has one, and like the primary IPv4 kept until it terminates). A filter, not InstanceIds, so that one terminated
/// instance drops out of the answer instead of failing the whole call.
async fn private_addresses(
    ec2: &aws_sdk_ec2::Client,
    instance_ids: &[String],
) -> Result<HashMap<String, Result<HostAddress, LookupError>>, LookupError> {
    let mut found = HashMap::new();
    for chunk in instance_ids.chunks(EC2_DESCRIBE_BATCH) {
        let output = ec2
            .describe_instances()
            .filters(
                Filter::builder()
                    .name("instance-id")
                    .set_values(Some(chunk.to_vec()))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| api_error("DescribeInstances", chunk.join(","), e))?;
        for instance in output.reservations().iter().flat_map(|r| r.instances()) {
            let Some(id) = instance.instance_id() else {
                continue;
            };
            let address = instance
                .private_ip_address()
                .and_then(|ip| ip.parse::<Ipv4Addr>().ok())
                .map(|ipv4| HostAddress {
                    ipv4,
                    ipv6: instance
                        .ipv6_address()
                        .and_then(|ip| ip.parse::<Ipv6Addr>().ok()),
                })
                .ok_or_else(|| LookupError::NotFound {
                    operation: "DescribeInstances",
                    resource: format!("private IPv4 of EC2 instance {id}"),
                    reason: format!(
                        "the instance is {}",
                        instance
                            .state()
                            .and_then(|s| s.name())
                            .map(|n| n.as_str())
                            .unwrap_or("in an unknown state")
                    ),
                });
            found.insert(id.to_owned(), address);
        }
    }
    Ok(found)
}

/// Reduces the SDK's task definition to what planning needs.
pub fn task_definition_facts(
    arn: &str,
    definition: &ecs_types::TaskDefinition,
) -> TaskDefinitionFacts {
    let fargate = definition
        .requires_compatibilities()
        .contains(&ecs_types::Compatibility::Fargate);
    let network_mode = match definition.network_mode() {
        Some(ecs_types::NetworkMode::Awsvpc) => NetworkMode::Awsvpc,
        Some(ecs_types::NetworkMode::Host) => NetworkMode::Host,
        Some(ecs_types::NetworkMode::None) => NetworkMode::None,
        Some(ecs_types::NetworkMode::Bridge) => NetworkMode::Bridge,
        // ECS's default: awsvpc on Fargate, bridge on EC2 Linux.
        _ if fargate => NetworkMode::Awsvpc,
        _ => NetworkMode::Bridge,
    };
    let containers = definition
        .container_definitions()
        .iter()
        .map(|container| ContainerDefinitionFacts {
            name: container.name().unwrap_or_default().to_owned(),
            labels: container
                .docker_labels()
                .map(|labels| labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            port_mappings: container
                .port_mappings()
                .iter()
                .map(|mapping| PortMapping {
                    container_port: mapping.container_port().and_then(|p| u16::try_from(p).ok()),
                    host_port: mapping.host_port().and_then(|p| u16::try_from(p).ok()),
                    transport: match mapping.protocol() {
                        Some(ecs_types::TransportProtocol::Udp) => Transport::Udp,
                        _ => Transport::Tcp,
                    },
                    container_port_range: mapping.container_port_range().map(str::to_owned),
                })
                .collect(),
            essential: container.essential().unwrap_or(true),
            health_check: container.health_check().map(|check| {
                HealthCheckTiming::from_definition(
                    check.interval(),
                    check.retries(),
                    check.start_period(),
                )
            }),
        })
        .collect();
    TaskDefinitionFacts {
        arn: arn.to_owned(),
        family: definition.family().unwrap_or_default().to_owned(),
        network_mode,
        containers,
    }
}
