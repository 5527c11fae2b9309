//! The checks a well-typed task state change must still pass before anything acts on it.
//!
//! serde has already enforced the types and ranges. What is left are the rules serde cannot
//! express: ARNs that belong to the account and region that sent the event, names that
//! follow ECS's own charset (so a hostile name is refused here, before it can reach a DNS
//! name), and addresses that parse.

use std::net::Ipv4Addr;

use super::arn::{self, EcsArn};
use super::detail::{Attachment, TaskStateChange};
use super::error::{quoted, EventError, EventLabel};

/// The ENI attachment detail that holds the awsvpc address.
pub(crate) const ENI_ADDRESS_DETAIL: &str = "privateIPv4Address";
/// The ENI attachment detail with a dual-stack or IPv6-only task's IPv6 address.
pub(crate) const ENI_IPV6_DETAIL: &str = "ipv6Address";

/// Whether an attachment is the task's ENI: `eni` in events, `ElasticNetworkInterface`
/// in `DescribeTasks` output and in moto.
pub(crate) fn is_eni(attachment: &Attachment) -> bool {
    attachment.kind.eq_ignore_ascii_case("eni")
        || attachment
            .kind
            .eq_ignore_ascii_case("ElasticNetworkInterface")
}

/// The account and region of the envelope, which every ARN in the detail must share.
pub(crate) struct Origin<'a> {
    pub account: &'a str,
    pub region: &'a str,
}

/// Runs every rule in a fixed order, so one input always gives the same error.
pub(crate) fn check_task(
    task: &TaskStateChange,
    origin: &Origin<'_>,
    event: &EventLabel,
) -> Result<(), EventError> {
    let checker = Checker { origin, event };
    if task.containers.is_empty() {
        return Err(EventError::NoContainers {
            event: event.clone(),
        });
    }
    checker.check_arns(task)?;
    checker.check_group(task.group.as_deref())?;
    for (index, container) in task.containers.iter().enumerate() {
        if !arn::is_ecs_name(&container.name) {
            return Err(checker.invalid(
                format!("detail.containers[{index}].name"),
                &container.name,
                "a container name of 1-255 characters from A-Z a-z 0-9 _ -",
            ));
        }
    }
    checker.check_eni_addresses(&task.attachments)
}

/// Holds what every error needs, so each rule reads as the rule.
struct Checker<'a> {
    origin: &'a Origin<'a>,
    event: &'a EventLabel,
}

impl Checker<'_> {
    fn invalid(&self, path: String, value: &str, expected: &'static str) -> EventError {
        EventError::InvalidValue {
            event: self.event.clone(),
            path,
            found: quoted(value),
            expected,
        }
    }

    /// Parses one ARN and checks that it comes from the event's own account and region.
    fn owned_arn<'v>(
        &self,
        path: &'static str,
        arn_kind: &'static str,
        value: &'v str,
        expected: &'static str,
    ) -> Result<EcsArn<'v>, EventError> {
        let parsed = arn::parse(value).ok_or_else(|| self.invalid(path.into(), value, expected))?;
        let foreign = |part, found: &str, wanted: &str| EventError::ForeignArn {
            event: self.event.clone(),
            path,
            arn_kind,
            part,
            found: quoted(found),
            expected: quoted(wanted),
        };
        if parsed.account != self.origin.account {
            return Err(foreign("account", parsed.account, self.origin.account));
        }
        if parsed.region != self.origin.region {
            return Err(foreign("region", parsed.region, self.origin.region));
        }
        Ok(parsed)
    }

    fn check_arns(&self, task: &TaskStateChange) -> Result<(), EventError> {
        const TASK: &str = "a task ARN arn:PARTITION:ecs:REGION:ACCOUNT:task/CLUSTER/ID \
                            (or task/ID) with ID 1-64 characters of a-z 0-9 -";
        const CLUSTER: &str = "a cluster ARN arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME \
                               with NAME 1-255 characters of A-Z a-z 0-9 _ -";
        const TASK_DEFINITION: &str = "a task definition ARN \
            arn:PARTITION:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION \
            with FAMILY 1-255 characters of A-Z a-z 0-9 _ - and REVISION a positive number";
        const CONTAINER_INSTANCE: &str = "a container instance ARN \
            arn:PARTITION:ecs:REGION:ACCOUNT:container-instance/CLUSTER/ID";

        let path = "detail.taskArn";
        let task_arn = self.owned_arn(path, "task ARN", &task.task_arn, TASK)?;
        let (task_cluster, _) = arn::task_resource(task_arn.resource)
            .ok_or_else(|| self.invalid(path.into(), &task.task_arn, TASK))?;

        let path = "detail.clusterArn";
        let cluster_arn = self.owned_arn(path, "cluster ARN", &task.cluster_arn, CLUSTER)?;
        let cluster = arn::cluster_resource(cluster_arn.resource)
            .ok_or_else(|| self.invalid(path.into(), &task.cluster_arn, CLUSTER))?;
        if let Some(task_cluster) = task_cluster.filter(|name| *name != cluster) {
            return Err(EventError::ClusterMismatch {
                event: self.event.clone(),
                task_cluster: quoted(task_cluster),
                cluster: quoted(cluster),
            });
        }

        let path = "detail.taskDefinitionArn";
        let definition = &task.task_definition_arn;
        let definition_arn =
            self.owned_arn(path, "task definition ARN", definition, TASK_DEFINITION)?;
        arn::task_definition_resource(definition_arn.resource)
            .ok_or_else(|| self.invalid(path.into(), definition, TASK_DEFINITION))?;

        if let Some(instance) = &task.container_instance_arn {
            let path = "detail.containerInstanceArn";
            let instance_arn =
                self.owned_arn(path, "container instance ARN", instance, CONTAINER_INSTANCE)?;
            arn::container_instance_resource(instance_arn.resource)
                .ok_or_else(|| self.invalid(path.into(), instance, CONTAINER_INSTANCE))?;
        }
        Ok(())
    }

    /// ECS sets `service:NAME` for service tasks and `family:NAME` for standalone ones.
    fn check_group(&self, group: Option<&str>) -> Result<(), EventError> {
        let Some(group) = group else { return Ok(()) };
        // `run-task --group NAME` sets a custom group with no prefix; ECS allows it.
        let name = group
            .strip_prefix("service:")
            .or_else(|| group.strip_prefix("family:"))
            .unwrap_or(group);
        if arn::is_ecs_name(name) {
            Ok(())
        } else {
            Err(self.invalid(
                "detail.group".into(),
                group,
                "service:NAME, family:NAME or a custom group NAME, with NAME 1-255 characters of A-Z a-z 0-9 _ -",
            ))
        }
    }

    /// The ENI address must parse, because awsvpc and Fargate records point at it.
    /// (Container `networkInterfaces` addresses are parsed by serde already.)
    fn check_eni_addresses(&self, attachments: &[Attachment]) -> Result<(), EventError> {
        for (a, attachment) in attachments.iter().enumerate() {
            if !is_eni(attachment) {
                continue;
            }
            for (d, detail) in attachment.details.iter().enumerate() {
                if detail.name == ENI_ADDRESS_DETAIL && detail.value.parse::<Ipv4Addr>().is_err() {
                    return Err(self.invalid(
                        format!("detail.attachments[{a}].details[{d}].value"),
                        &detail.value,
                        "the ENI's privateIPv4Address as a dotted IPv4 address such as 10.0.1.25",
                    ));
                }
            }
        }
        Ok(())
    }
}
