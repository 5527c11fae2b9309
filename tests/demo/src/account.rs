//! The emulated AWS account: SDK clients aimed at moto, its network and private zone,
//! and the names and addresses of what [`crate::seed`] puts in it.
//!
//! Every address is on loopback, which moto accepts: the VPC is `127.0.0.0/16`, the EC2
//! hosts are `127.0.1.7` and `127.0.1.8`, so that the records ecs-srv writes point at
//! servers the demo really runs.

use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::{Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::types::AttributeBooleanValue;
use aws_sdk_ecs::config::Credentials;
use aws_sdk_route53::types::{HostedZoneConfig, Vpc, VpcRegion};

/// The account id every ARN of the sample events carries.
pub const ACCOUNT: &str = "123456789012";
/// The region of the sample events.
pub const REGION: &str = "us-east-1";
/// The private hosted zone ecs-srv writes to.
pub const ZONE_NAME: &str = "demo.internal";
/// The ECS cluster, named like the one in the sample events.
pub const CLUSTER: &str = "demo";
/// The EC2 hosts' private IPs: loopback, so their tasks' ports can be served locally.
pub const HOST_IPS: [Ipv4Addr; 2] = [Ipv4Addr::new(127, 0, 1, 7), Ipv4Addr::new(127, 0, 1, 8)];
/// The Fargate task's address in its events. moto hands ENIs random 10.x addresses, so
/// the demo's event carries this loopback address instead, and a server listens on it.
pub const FARGATE_ENI_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 2, 40);

/// What DescribeTasks says of a task: `lastStatus/desiredStatus`, as ecs-srv reads it.
pub async fn task_status(clients: &AwsClients, task_arn: &str) -> Result<String> {
    let described = clients
        .ecs
        .describe_tasks()
        .cluster(CLUSTER)
        .tasks(task_arn)
        .send()
        .await
        .with_context(|| format!("DescribeTasks {task_arn}"))?;
    let task = described
        .tasks()
        .first()
        .with_context(|| format!("DescribeTasks does not know {task_arn}"))?;
    Ok(format!(
        "{}/{}",
        task.last_status().unwrap_or("?"),
        task.desired_status().unwrap_or("?")
    ))
}

/// The three AWS clients the demo needs, all aimed at moto.
#[derive(Clone)]
pub struct AwsClients {
    /// Instances and the VPC.
    pub ec2: aws_sdk_ec2::Client,
    /// Cluster, task definitions, tasks.
    pub ecs: aws_sdk_ecs::Client,
    /// The private hosted zone.
    pub route53: aws_sdk_route53::Client,
}

impl AwsClients {
    /// Clients for moto at `endpoint`, with dummy credentials and short timeouts so that a
    /// stuck emulator fails a step instead of hanging it.
    pub fn for_endpoint(endpoint: &str) -> Self {
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(endpoint)
            .credentials_provider(aws_sdk_ecs::config::SharedCredentialsProvider::new(
                Credentials::new("testing", "testing", None, None, "demo"),
            ))
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(20))
                    .build(),
            )
            .build();
        Self {
            ec2: aws_sdk_ec2::Client::new(&config),
            ecs: aws_sdk_ecs::Client::new(&config),
            route53: aws_sdk_route53::Client::new(&config),
        }
    }
}

/// The VPC and the private zone attached to it.
#[derive(Clone, Debug)]
pub struct Network {
    /// The VPC id.
    pub vpc_id: String,
    /// Its single subnet, `127.0.0.0/16`.
    pub subnet_id: String,
    /// The zone id, without `/hostedzone/`.
    pub zone_id: String,
}

/// An EC2 host registered as an ECS container instance.
#[derive(Clone, Debug)]
pub struct Host {
    /// The EC2 instance id.
    pub instance_id: String,
    /// Its private IP, which ecs-srv finds through DescribeInstances.
    pub ip: Ipv4Addr,
    /// The container instance ARN events name.
    pub container_instance_arn: String,
}

/// A task that ECS is running.
#[derive(Clone, Debug)]
pub struct SeededTask {
    /// The full task ARN.
    pub arn: String,
    /// The last segment of the ARN, which names its records.
    pub id: String,
    /// The service label: `web` or `api`.
    pub service: &'static str,
    /// Its task definition revision.
    pub task_definition_arn: String,
    /// The EC2 host, for bridge tasks.
    pub host: Option<Host>,
    /// Where it is reached: the host's IP or the ENI address.
    pub ip: Ipv4Addr,
}

/// Everything seeded in step 2.
#[derive(Clone, Debug)]
pub struct Account {
    /// The cluster ARN.
    pub cluster_arn: String,
    /// The EC2 hosts.
    pub hosts: Vec<Host>,
    /// The bridge tasks of service `web`.
    pub web_tasks: Vec<SeededTask>,
    /// The Fargate task of service `api`.
    pub api_task: SeededTask,
}

/// Creates the VPC (with DNS hostnames, which moto's awsvpc tasks need) and the private
/// hosted zone. This comes first because the DNS front and ecs-srv both read the zone.
pub async fn create_network(clients: &AwsClients) -> Result<Network> {
    let vpc = clients
        .ec2
        .create_vpc()
        .cidr_block("127.0.0.0/16")
        .send()
        .await
        .context("CreateVpc")?;
    let vpc_id = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .context("CreateVpc returned no VpcId")?
        .to_owned();
    clients
        .ec2
        .modify_vpc_attribute()
        .vpc_id(&vpc_id)
        .enable_dns_hostnames(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .context("ModifyVpcAttribute EnableDnsHostnames")?;
    let subnet = clients
        .ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("127.0.0.0/16")
        .send()
        .await
        .context("CreateSubnet")?;
    let subnet_id = subnet
        .subnet()
        .and_then(|s| s.subnet_id())
        .context("CreateSubnet returned no SubnetId")?
        .to_owned();
    let zone = clients
        .route53
        .create_hosted_zone()
        .name(ZONE_NAME)
        .caller_reference(format!("ecs-srv-demo-{vpc_id}"))
        .vpc(
            Vpc::builder()
                .vpc_id(&vpc_id)
                .vpc_region(VpcRegion::UsEast1)
                .build(),
        )
        .hosted_zone_config(HostedZoneConfig::builder().private_zone(true).build())
        .send()
        .await
        .context("CreateHostedZone")?;
    let zone_id = zone
        .hosted_zone()
        .context("CreateHostedZone returned no zone")?
        .id()
        .trim_start_matches("/hostedzone/")
        .to_owned();
    Ok(Network {
        vpc_id,
        subnet_id,
        zone_id,
    })
}

/// What ECS does when a service scales in or someone calls StopTask: the task's desired
/// status becomes STOPPED, and the agent stops its containers.
pub async fn stop_task(clients: &AwsClients, task_arn: &str) -> Result<()> {
    clients
        .ecs
        .stop_task()
        .cluster(CLUSTER)
        .task(task_arn)
        .reason("Scaling activity initiated by the demo")
        .send()
        .await
        .with_context(|| format!("StopTask {task_arn}"))?;
    Ok(())
}
