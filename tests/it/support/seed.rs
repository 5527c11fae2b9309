//! Seeding moto with a small account: a VPC, EC2 hosts registered as container
//! instances, task definitions, tasks, a private zone, and records written by others.

use std::net::Ipv4Addr;

use ecs_srv::aws::AwsClients;
use serde_json::json;

use super::{ACCOUNT, REGION};

/// One EC2 host registered as a container instance.
#[derive(Clone, Debug)]
pub struct Host {
    pub private_ip: Ipv4Addr,
    pub container_instance_arn: String,
}

/// A seeded cluster.
#[derive(Clone, Debug)]
pub struct World {
    pub cluster_name: String,
    pub cluster_arn: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub hosts: Vec<Host>,
}

/// Seeds a VPC (10.x), one EC2 instance per address, and a cluster whose container
/// instances are those EC2 instances. `cidr` must contain the addresses.
pub async fn seed_cluster(
    clients: &AwsClients,
    cluster_name: &str,
    cidr: &str,
    addresses: &[Ipv4Addr],
) -> World {
    let ec2 = &clients.ec2;
    let vpc = ec2
        .create_vpc()
        .cidr_block(cidr)
        .send()
        .await
        .expect("CreateVpc");
    let vpc_id = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_owned();
    ec2.modify_vpc_attribute()
        .vpc_id(&vpc_id)
        .enable_dns_hostnames(
            aws_sdk_ec2::types::AttributeBooleanValue::builder()
                .value(true)
                .build(),
        )
        .send()
        .await
        .expect("ModifyVpcAttribute");
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block(cidr)
        .send()
        .await
        .expect("CreateSubnet");
    let subnet_id = subnet
        .subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_owned();
    let cluster = clients
        .ecs
        .create_cluster()
        .cluster_name(cluster_name)
        .send()
        .await
        .expect("CreateCluster");
    let cluster_arn = cluster
        .cluster()
        .and_then(|c| c.cluster_arn())
        .expect("cluster arn")
        .to_owned();
    let mut hosts = Vec::new();
    for address in addresses {
        let run = ec2
            .run_instances()
            .image_id("ami-12c6146b")
            .min_count(1)
            .max_count(1)
            .subnet_id(&subnet_id)
            .private_ip_address(address.to_string())
            .send()
            .await
            .expect("RunInstances");
        let instance_id = run.instances()[0]
            .instance_id()
            .expect("instance id")
            .to_owned();
        let document = json!({ "instanceId": instance_id, "region": REGION, "accountId": ACCOUNT })
            .to_string();
        let registered = clients
            .ecs
            .register_container_instance()
            .cluster(cluster_name)
            .instance_identity_document(document)
            .send()
            .await
            .expect("RegisterContainerInstance");
        let container_instance_arn = registered
            .container_instance()
            .and_then(|c| c.container_instance_arn())
            .expect("container instance arn")
            .to_owned();
        hosts.push(Host {
            private_ip: *address,
            container_instance_arn,
        });
    }
    World {
        cluster_name: cluster_name.to_owned(),
        cluster_arn,
        vpc_id,
        subnet_id,
        hosts,
    }
}

/// Creates a private hosted zone for the world's VPC and returns its id (without the
/// `/hostedzone/` prefix).
/// A cluster of one host at `10.<octet>.0.<host>` in its own VPC `10.<octet>.0.0/16`:
/// the usual world of a test, kept apart from the other tests' by its octet.
pub async fn seed_one_host_cluster(
    clients: &AwsClients,
    cluster_name: &str,
    octet: u8,
    host: u8,
) -> World {
    seed_cluster(
        clients,
        cluster_name,
        &format!("10.{octet}.0.0/16"),
        &[Ipv4Addr::new(10, octet, 0, host)],
    )
    .await
}

pub async fn create_private_zone(clients: &AwsClients, world: &World, name: &str) -> String {
    let zone = clients
        .route53
        .create_hosted_zone()
        .name(name)
        .caller_reference(format!("{name}-{}", world.vpc_id))
        .vpc(
            aws_sdk_route53::types::Vpc::builder()
                .vpc_id(&world.vpc_id)
                .vpc_region(aws_sdk_route53::types::VpcRegion::UsEast1)
                .build(),
        )
        .hosted_zone_config(
            aws_sdk_route53::types::HostedZoneConfig::builder()
                .private_zone(true)
                .build(),
        )
        .send()
        .await
        .expect("CreateHostedZone");
    zone.hosted_zone()
        .expect("hosted zone")
        .id()
        .trim_start_matches("/hostedzone/")
        .to_owned()
}

/// A task definition with one container `name` that maps `ports` (tcp). `fargate`
/// makes it an awsvpc Fargate definition, else a bridge one with dynamic host ports.
pub async fn register_task_definition(
    clients: &AwsClients,
    family: &str,
    container: &str,
    ports: &[u16],
    fargate: bool,
) -> String {
    let mappings: Vec<(u16, Option<u16>)> = ports.iter().map(|port| (*port, None)).collect();
    register_task_definition_with(clients, family, container, &mappings, fargate).await
}

/// Like [`register_task_definition`], with `(container port, fixed host port)` mappings.
pub async fn register_task_definition_with(
    clients: &AwsClients,
    family: &str,
    container: &str,
    mappings: &[(u16, Option<u16>)],
    fargate: bool,
) -> String {
    register_checked_task_definition(clients, family, container, mappings, fargate, None).await
}

/// Like [`register_task_definition_with`], its container gated by `health_check`.
pub async fn register_checked_task_definition(
    clients: &AwsClients,
    family: &str,
    container: &str,
    mappings: &[(u16, Option<u16>)],
    fargate: bool,
    health_check: Option<aws_sdk_ecs::types::HealthCheck>,
) -> String {
    use aws_sdk_ecs::types::{
        Compatibility, ContainerDefinition, NetworkMode, PortMapping, TransportProtocol,
    };
    let mut definition = ContainerDefinition::builder()
        .name(container)
        .image("public.ecr.aws/nginx/nginx:1.27")
        .memory(8)
        .essential(true)
        .set_health_check(health_check);
    for (port, host_port) in mappings {
        definition = definition.port_mappings(
            PortMapping::builder()
                .container_port(i32::from(*port))
                .set_host_port(host_port.map(i32::from))
                .protocol(TransportProtocol::Tcp)
                .build(),
        );
    }
    let mut request = clients
        .ecs
        .register_task_definition()
        .family(family)
        .container_definitions(definition.build());
    request = if fargate {
        request
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(Compatibility::Fargate)
            .cpu("256")
            .memory("512")
    } else {
        request.network_mode(NetworkMode::Bridge)
    };
    let registered = request.send().await.expect("RegisterTaskDefinition");
    registered
        .task_definition()
        .and_then(|d| d.task_definition_arn())
        .expect("task definition arn")
        .to_owned()
}

/// Starts one task of `task_definition_arn` in the world's cluster and returns its ARN
/// and, for EC2 tasks, its container instance ARN.
pub async fn run_task(
    clients: &AwsClients,
    world: &World,
    task_definition_arn: &str,
    group: &str,
    fargate: bool,
) -> (String, Option<String>) {
    use aws_sdk_ecs::types::LaunchType;
    let mut request = clients
        .ecs
        .run_task()
        .cluster(&world.cluster_name)
        .task_definition(task_definition_arn)
        .group(group)
        .count(1);
    if fargate {
        let group_id = security_group(clients, world, "sg").await;
        request = request
            .launch_type(LaunchType::Fargate)
            .network_configuration(awsvpc(world, &group_id));
    }
    let output = request.send().await.expect("RunTask");
    let task = output
        .tasks()
        .first()
        .unwrap_or_else(|| panic!("RunTask started nothing: {:?}", output.failures()));
    (
        task.task_arn().expect("task arn").to_owned(),
        task.container_instance_arn().map(str::to_owned),
    )
}

/// A security group in the world's VPC (moto's awsvpc tasks need one named); empty when
/// it exists already.
async fn security_group(clients: &AwsClients, world: &World, prefix: &str) -> String {
    clients
        .ec2
        .create_security_group()
        .group_name(format!("{prefix}-{}", world.cluster_name))
        .description("tasks")
        .vpc_id(&world.vpc_id)
        .send()
        .await
        .map(|g| g.group_id().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

/// The awsvpc network of a Fargate task in the world's subnet.
fn awsvpc(world: &World, group_id: &str) -> aws_sdk_ecs::types::NetworkConfiguration {
    use aws_sdk_ecs::types::{AwsVpcConfiguration, NetworkConfiguration};
    NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .subnets(&world.subnet_id)
                .security_groups(group_id)
                .build()
                .expect("awsvpc configuration"),
        )
        .build()
}

/// Starts `count` Fargate tasks of `task_definition_arn` (ten per RunTask, ECS's most)
/// and returns their ARNs.
pub async fn run_fargate_tasks(
    clients: &AwsClients,
    world: &World,
    task_definition_arn: &str,
    group: &str,
    count: usize,
) -> Vec<String> {
    use aws_sdk_ecs::types::LaunchType;
    let group_id = security_group(clients, world, "sg-many").await;
    let mut arns = Vec::with_capacity(count);
    while arns.len() < count {
        let batch = (count - arns.len()).min(10) as i32;
        let output = clients
            .ecs
            .run_task()
            .cluster(&world.cluster_name)
            .task_definition(task_definition_arn)
            .group(group)
            .count(batch)
            .launch_type(LaunchType::Fargate)
            .network_configuration(awsvpc(world, &group_id))
            .send()
            .await
            .expect("RunTask");
        assert!(
            !output.tasks().is_empty(),
            "RunTask started nothing: {:?}",
            output.failures()
        );
        arns.extend(
            output
                .tasks()
                .iter()
                .filter_map(|t| t.task_arn().map(str::to_owned)),
        );
    }
    arns
}

/// Creates one record set directly through Route 53, as somebody else (or an older
/// version) would have.
pub async fn put_record(
    clients: &AwsClients,
    zone_id: &str,
    name: &str,
    kind: aws_sdk_route53::types::RrType,
    set: Option<(&str, i64)>,
    value: &str,
) {
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
    };
    let mut record = ResourceRecordSet::builder()
        .name(name)
        .r#type(kind)
        .ttl(300)
        .resource_records(ResourceRecord::builder().value(value).build().unwrap());
    if let Some((identifier, weight)) = set {
        record = record.set_identifier(identifier).weight(weight);
    }
    let change = Change::builder()
        .action(ChangeAction::Create)
        .resource_record_set(record.build().unwrap())
        .build()
        .unwrap();
    clients
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(ChangeBatch::builder().changes(change).build().unwrap())
        .send()
        .await
        .expect("ChangeResourceRecordSets");
}
