//! A task as DescribeTasks returns it, turned into the event type the planner reads.
//!
//! Reconcile has no events, only the ECS API's view. Rather than a second planning path,
//! each described task is written as the `detail` of a synthetic task state change and
//! parsed by the same validating parser events go through, so both paths plan alike.

use aws_sdk_ecs::types as ecs_types;
use serde_json::{json, Value};

use crate::input::event::{parse_task_event_value, EventError, TaskEvent};

/// Builds the TaskEvent that DescribeTasks' view of `task` amounts to.
pub fn task_event(task: &ecs_types::Task) -> Result<TaskEvent, EventError> {
    parse_task_event_value(event_json(task))
}

/// The "ECS Task State Change" event, as EventBridge would deliver it, that DescribeTasks'
/// view of `task` amounts to.
pub fn event_json(task: &ecs_types::Task) -> Value {
    let task_arn = task.task_arn().unwrap_or_default();
    let (region, account) = arn_region_and_account(task_arn);
    json!({
        "version": "0",
        "id": format!("reconcile:{}", task_arn.rsplit('/').next().unwrap_or_default()),
        "detail-type": crate::input::event::TASK_STATE_CHANGE,
        "source": crate::input::event::ECS_SOURCE,
        "account": account,
        "region": region,
        "resources": [task_arn],
        "detail": detail(task),
    })
}

fn arn_region_and_account(arn: &str) -> (&str, &str) {
    let mut parts = arn.split(':');
    let region = parts.nth(3).unwrap_or_default();
    let account = parts.next().unwrap_or_default();
    (region, account)
}

fn detail(task: &ecs_types::Task) -> Value {
    let mut detail = json!({
        "taskArn": task.task_arn(),
        "clusterArn": task.cluster_arn(),
        "taskDefinitionArn": task.task_definition_arn(),
        "lastStatus": task.last_status(),
        "desiredStatus": task.desired_status(),
        "version": task.version(),
        "group": task.group(),
        "containers": task.containers().iter().map(container).collect::<Vec<_>>(),
        "attachments": task.attachments().iter().map(attachment).collect::<Vec<_>>(),
    });
    if let Some(instance) = task.container_instance_arn() {
        detail["containerInstanceArn"] = json!(instance);
    }
    // An empty launch type (moto sends one for EC2 tasks) means none was given.
    if let Some(launch_type) = task.launch_type().filter(|l| !l.as_str().is_empty()) {
        detail["launchType"] = json!(launch_type.as_str());
    }
    detail
}

fn container(container: &ecs_types::Container) -> Value {
    json!({
        "name": container.name(),
        "lastStatus": container.last_status(),
        "networkBindings": container.network_bindings().iter().map(|binding| {
            let mut value = json!({
                "bindIP": binding.bind_ip(),
                "containerPort": binding.container_port(),
                "hostPort": binding.host_port(),
                "protocol": binding.protocol().map(|p| p.as_str()),
            });
            if let Some(range) = binding.container_port_range() {
                value["containerPortRange"] = json!(range);
            }
            if let Some(range) = binding.host_port_range() {
                value["hostPortRange"] = json!(range);
            }
            value
        }).collect::<Vec<_>>(),
        "networkInterfaces": container.network_interfaces().iter().map(|interface| json!({
            "attachmentId": interface.attachment_id(),
            "privateIpv4Address": interface.private_ipv4_address(),
            "ipv6Address": interface.ipv6_address(),
        })).collect::<Vec<_>>(),
    })
}

fn attachment(attachment: &ecs_types::Attachment) -> Value {
    json!({
        "id": attachment.id(),
        "type": attachment.r#type(),
        "status": attachment.status(),
        "details": attachment.details().iter().map(|detail| json!({
            "name": detail.name(),
            "value": detail.value(),
        })).collect::<Vec<_>>(),
    })
}
