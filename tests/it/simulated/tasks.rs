//! Tasks as tests describe them, and everything derived from one description: its task
//! definition, its events at any status, and the records it should have while running.
//!
//! What a task publishes is worked out from the description by the tests' own layout
//! (`simulated::layout`), never through the crate's resolver or planner.

use std::net::{Ipv4Addr, Ipv6Addr};

use aws_sdk_ecs::types::{
    ContainerDefinition, NetworkMode, PortMapping, TaskDefinition, TransportProtocol,
};
use ecs_srv::plan::naming::{dns_label, Transport};
use ecs_srv::plan::task::{Endpoint, RunningTask};
use serde_json::{json, Value};

/// The account every ARN belongs to.
pub const ACCOUNT: &str = "123456789012";
/// The region every ARN belongs to.
pub const REGION: &str = "us-east-1";
/// The cluster most tests run in.
pub const CLUSTER: &str = "demo";
/// Its ARN.
pub const CLUSTER_ARN: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/demo";

/// The network modes the publisher tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Host IP and dynamic host ports from the event's bindings.
    Bridge,
    /// Host IP, host port = container port.
    Host,
    /// The ENI's address and the container port.
    Awsvpc,
}

/// One container with one published tcp port.
#[derive(Clone, Debug)]
pub struct ContainerSpec {
    /// Container name, a valid ECS name.
    pub name: String,
    /// The port in the task definition.
    pub container_port: u16,
    /// The bridge mode host port the event reports.
    pub host_port: u16,
    /// The `ecs-srv.weight` docker label, if any.
    pub weight: Option<u8>,
}

/// One task.
#[derive(Clone, Debug)]
pub struct TaskSpec {
    /// 32 hex digits, the last segment of the ARN.
    pub task_id: String,
    /// The service in `group: service:NAME`.
    pub service: String,
    /// Network mode.
    pub mode: Mode,
    /// Index of its container instance (bridge, host and awsvpc on EC2).
    pub host: usize,
    /// The ENI address (awsvpc).
    pub eni_address: Ipv4Addr,
    /// Its containers.
    pub containers: Vec<ContainerSpec>,
    /// Its cluster's name, in the account and region of every ARN.
    pub cluster: String,
    /// A one-off task (`run-task`, group `family:SERVICE`) rather than a service's.
    pub one_off: bool,
    /// The ENI's IPv6 address of a dual-stack awsvpc task.
    pub ipv6: Option<Ipv6Addr>,
}

impl Default for TaskSpec {
    /// A task of service `web` in cluster `demo` with no container yet.
    fn default() -> Self {
        TaskSpec {
            task_id: format!("{:032x}", 0xc0ffee_u64),
            service: "web".to_owned(),
            mode: Mode::Awsvpc,
            host: 0,
            eni_address: Ipv4Addr::new(10, 2, 0, 1),
            containers: Vec::new(),
            cluster: CLUSTER.to_owned(),
            one_off: false,
            ipv6: None,
        }
    }
}

/// The container instance ARN of host `index`.
pub fn container_instance_arn(index: usize) -> String {
    format!("arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/demo/{index:032x}")
}

/// The EC2 instance id of host `index`.
pub fn instance_id(index: usize) -> String {
    format!("i-{index:017x}")
}

/// The private IP of host `index`.
pub fn host_address(index: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, 10 + (index % 200) as u8)
}

impl TaskSpec {
    /// The task ARN (new format, with the cluster).
    pub fn task_arn(&self) -> String {
        format!(
            "arn:aws:ecs:{REGION}:{ACCOUNT}:task/{}/{}",
            self.cluster, self.task_id
        )
    }

    /// Its cluster's ARN.
    pub fn cluster_arn(&self) -> String {
        format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{}", self.cluster)
    }

    /// Its group: `service:NAME`, or `family:NAME` for a one-off task.
    pub fn group(&self) -> String {
        let kind = if self.one_off { "family" } else { "service" };
        format!("{kind}:{}", self.service)
    }

    /// Its own task definition revision.
    pub fn definition_arn(&self) -> String {
        format!(
            "arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{}-{}:1",
            self.service,
            &self.task_id[..8]
        )
    }

    /// The task definition ECS would describe.
    pub fn definition(&self) -> TaskDefinition {
        let mut definition = TaskDefinition::builder()
            .task_definition_arn(self.definition_arn())
            .family(format!("{}-{}", self.service, &self.task_id[..8]))
            .revision(1)
            .network_mode(match self.mode {
                Mode::Bridge => NetworkMode::Bridge,
                Mode::Host => NetworkMode::Host,
                Mode::Awsvpc => NetworkMode::Awsvpc,
            });
        for container in &self.containers {
            let mut mapping = PortMapping::builder()
                .container_port(i32::from(container.container_port))
                .protocol(TransportProtocol::Tcp);
            if self.mode == Mode::Host {
                mapping = mapping.host_port(i32::from(container.container_port));
            }
            let mut built = ContainerDefinition::builder()
                .name(&container.name)
                .image("nginx")
                .port_mappings(mapping.build());
            if let Some(weight) = container.weight {
                built = built.docker_labels("ecs-srv.weight", weight.to_string());
            }
            definition = definition.container_definitions(built.build());
        }
        definition.build()
    }

    /// The EventBridge event for the task at one status and version.
    pub fn event(&self, last_status: &str, desired_status: &str, version: u64) -> Value {
        let running_like = matches!(last_status, "RUNNING" | "DEACTIVATING" | "STOPPING");
        let containers: Vec<Value> = self
            .containers
            .iter()
            .map(|c| {
                let bindings = match self.mode {
                    Mode::Bridge if running_like => json!([{ "bindIP": "0.0.0.0", "containerPort": c.container_port, "hostPort": c.host_port, "protocol": "tcp" }]),
                    Mode::Host if running_like => json!([{ "bindIP": "0.0.0.0", "containerPort": c.container_port, "hostPort": c.container_port, "protocol": "tcp" }]),
                    _ => json!([]),
                };
                let interfaces = match self.mode {
                    Mode::Awsvpc => json!([{ "attachmentId": "eni-attachment", "privateIpv4Address": self.eni_address.to_string(), "ipv6Address": self.ipv6.map(|ip| ip.to_string()) }]),
                    _ => json!([]),
                };
                json!({ "name": c.name, "lastStatus": last_status, "taskArn": self.task_arn(), "networkBindings": bindings, "networkInterfaces": interfaces })
            })
            .collect();
        let attachments = match self.mode {
            Mode::Awsvpc => {
                let mut details = vec![
                    json!({ "name": "networkInterfaceId", "value": "eni-0123456789abcdef0" }),
                    json!({ "name": "privateIPv4Address", "value": self.eni_address.to_string() }),
                ];
                if let Some(ipv6) = self.ipv6 {
                    details.push(json!({ "name": "ipv6Address", "value": ipv6.to_string() }));
                }
                json!([{ "id": "eni-attachment", "type": "eni", "status": "ATTACHED", "details": details }])
            }
            _ => json!([]),
        };
        json!({
            "version": "0",
            "id": format!("{}-{version}-{}", &self.task_id[..8], last_status.to_ascii_lowercase()),
            "detail-type": "ECS Task State Change",
            "source": "aws.ecs",
            "account": ACCOUNT,
            "time": "2025-06-02T09:00:00Z",
            "region": REGION,
            "resources": [self.task_arn()],
            "detail": {
                "clusterArn": self.cluster_arn(),
                "taskArn": self.task_arn(),
                "taskDefinitionArn": self.definition_arn(),
                "containerInstanceArn": container_instance_arn(self.host),
                "launchType": "EC2",
                "lastStatus": last_status,
                "desiredStatus": desired_status,
                "group": self.group(),
                "version": version,
                "containers": containers,
                "attachments": attachments,
            }
        })
    }

    /// The crate's input for the running task, for tests of the pure planner (not an
    /// expected result: that is `simulated::layout`'s).
    pub fn running_task(&self) -> RunningTask {
        let address = match self.mode {
            Mode::Awsvpc => self.eni_address,
            Mode::Bridge | Mode::Host => host_address(self.host),
        };
        let endpoints = self
            .containers
            .iter()
            .map(|c| Endpoint {
                service_label: dns_label(&self.service),
                port_label: dns_label(&c.name),
                transport: Transport::Tcp,
                port: match self.mode {
                    Mode::Bridge => c.host_port,
                    Mode::Host | Mode::Awsvpc => c.container_port,
                },
                weight: c.weight.unwrap_or(1),
                container: c.name.clone(),
                joins_service: !self.one_off,
            })
            .collect();
        RunningTask {
            task_id: self.task_id.clone(),
            cluster: ecs_srv::plan::naming::ClusterId {
                scope: crate::support::config::scope(),
                name: self.cluster.clone(),
            },
            ipv4: Some(address),
            ipv6: self.ipv6,
            endpoints,
        }
    }
}

/// A one-container task with plain values: task `index` of `service` on host `host`.
pub fn simple_task(index: usize, mode: Mode, service: &str, host: usize) -> TaskSpec {
    TaskSpec {
        task_id: format!("{index:08x}{:024x}", 0xc0ffee_u64),
        service: service.to_owned(),
        mode,
        host,
        eni_address: Ipv4Addr::new(10, 2, (index / 250) as u8, (index % 250) as u8 + 1),
        containers: vec![ContainerSpec {
            name: "app".to_owned(),
            container_port: 8080,
            host_port: 32768 + index as u16,
            weight: None,
        }],
        ..TaskSpec::default()
    }
}

impl TaskSpec {
    /// The task as DescribeTasks shows it (statuses are set by the account), which is
    /// all a reconcile knows of it.
    pub fn described(&self) -> aws_sdk_ecs::types::Task {
        use aws_sdk_ecs::types::{
            Attachment, Container, LaunchType, NetworkBinding, NetworkInterface,
        };
        let mut task = aws_sdk_ecs::types::Task::builder()
            .task_arn(self.task_arn())
            .cluster_arn(self.cluster_arn())
            .task_definition_arn(self.definition_arn())
            .container_instance_arn(container_instance_arn(self.host))
            .group(self.group())
            .launch_type(LaunchType::Ec2);
        for c in &self.containers {
            let mut container = Container::builder().name(&c.name).task_arn(self.task_arn());
            container = match self.mode {
                Mode::Bridge => container.network_bindings(
                    NetworkBinding::builder()
                        .bind_ip("0.0.0.0")
                        .container_port(i32::from(c.container_port))
                        .host_port(i32::from(c.host_port))
                        .protocol(TransportProtocol::Tcp)
                        .build(),
                ),
                Mode::Host => container.network_bindings(
                    NetworkBinding::builder()
                        .bind_ip("0.0.0.0")
                        .container_port(i32::from(c.container_port))
                        .host_port(i32::from(c.container_port))
                        .protocol(TransportProtocol::Tcp)
                        .build(),
                ),
                Mode::Awsvpc => container.network_interfaces(
                    NetworkInterface::builder()
                        .attachment_id("eni-attachment")
                        .private_ipv4_address(self.eni_address.to_string())
                        .set_ipv6_address(self.ipv6.map(|ip| ip.to_string()))
                        .build(),
                ),
            };
            task = task.containers(container.build());
        }
        if self.mode == Mode::Awsvpc {
            task = task.attachments(
                Attachment::builder()
                    .id("eni-attachment")
                    .r#type("ElasticNetworkInterface")
                    .status("ATTACHED")
                    .set_details(Some(self.eni_details()))
                    .build(),
            );
        }
        task.build()
    }

    /// The ENI attachment's details as DescribeTasks gives them: its IPv4 address, and its
    /// IPv6 address when dual-stack.
    fn eni_details(&self) -> Vec<aws_sdk_ecs::types::KeyValuePair> {
        let ipv4 = Some(("privateIPv4Address", self.eni_address.to_string()));
        let ipv6 = self.ipv6.map(|ip| ("ipv6Address", ip.to_string()));
        ipv4.into_iter()
            .chain(ipv6)
            .map(|(name, value)| {
                aws_sdk_ecs::types::KeyValuePair::builder()
                    .name(name)
                    .value(value)
                    .build()
            })
            .collect()
    }
}
