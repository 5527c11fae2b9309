//! Seeding moto with a small but realistic ECS setup: two EC2 hosts registered as
//! container instances, service `web` with three bridge tasks on dynamic host ports, and
//! a Fargate task of service `api`.

use std::net::Ipv4Addr;

use anyhow::{anyhow, Context, Result};
use aws_sdk_ecs::types::{
    AwsVpcConfiguration, Compatibility, ContainerDefinition, LaunchType, NetworkConfiguration,
    NetworkMode, PortMapping, TransportProtocol,
};

use crate::account::{
    Account, AwsClients, Host, Network, SeededTask, ACCOUNT, CLUSTER, FARGATE_ENI_IP, HOST_IPS,
    REGION,
};

/// Where each bridge task is placed: two share the first host on different dynamic
/// ports, which is exactly what plain A records cannot express and SRV can.
const WEB_PLACEMENT: [usize; 3] = [0, 0, 1];

/// Seeds the hosts, the cluster, the `web` service's three bridge tasks and the `api`
/// Fargate task. `api_port` is the Fargate container's port: awsvpc tasks are reached on
/// their containerPort, so it must be a port the demo could bind on [`FARGATE_ENI_IP`].
pub async fn seed_account(
    clients: &AwsClients,
    network: &Network,
    api_port: u16,
) -> Result<Account> {
    let cluster = clients
        .ecs
        .create_cluster()
        .cluster_name(CLUSTER)
        .send()
        .await
        .context("CreateCluster")?;
    let cluster_arn = cluster
        .cluster()
        .and_then(|c| c.cluster_arn())
        .context("CreateCluster returned no ARN")?
        .to_owned();

    let mut hosts = Vec::new();
    for ip in HOST_IPS {
        hosts.push(launch_host(clients, network, ip).await?);
    }

    // hostPort is left out, not 0: moto takes 0 literally and would fit one task per host.
    let web_definition = register(clients, "web", "web", 80, NetworkMode::Bridge).await?;
    let api_definition = register(clients, "api", "api", api_port, NetworkMode::Awsvpc).await?;
    clients
        .ecs
        .create_service()
        .cluster(CLUSTER)
        .service_name("web")
        .task_definition(&web_definition)
        .desired_count(3)
        .send()
        .await
        .context("CreateService web")?;

    // StartTask rather than RunTask: it names the container instance, so the placement
    // (two tasks on one host) is the same on every run.
    let instances: Vec<String> = WEB_PLACEMENT
        .iter()
        .map(|&i| hosts[i].container_instance_arn.clone())
        .collect();
    let started = clients
        .ecs
        .start_task()
        .cluster(CLUSTER)
        .task_definition(&web_definition)
        .set_container_instances(Some(instances))
        .group("service:web")
        .started_by("ecs-svc/0123456789")
        .send()
        .await
        .context("StartTask for service web")?;
    let mut web_tasks = Vec::new();
    for task in started.tasks() {
        let arn = task
            .task_arn()
            .context("StartTask returned a task without an ARN")?;
        let instance = task.container_instance_arn().unwrap_or_default();
        let host = hosts
            .iter()
            .find(|h| h.container_instance_arn == instance)
            .with_context(|| {
                format!("task {arn} landed on unknown container instance {instance:?}")
            })?;
        web_tasks.push(seeded(
            arn,
            "web",
            &web_definition,
            Some(host.clone()),
            host.ip,
        ));
    }
    if web_tasks.len() != WEB_PLACEMENT.len() {
        return Err(anyhow!(
            "StartTask started {} web tasks, not 3: {:?}",
            web_tasks.len(),
            started.failures()
        ));
    }

    let group = clients
        .ec2
        .create_security_group()
        .group_name("demo-tasks")
        .description("demo tasks")
        .vpc_id(&network.vpc_id)
        .send()
        .await
        .context("CreateSecurityGroup")?;
    let awsvpc = AwsVpcConfiguration::builder()
        .subnets(&network.subnet_id)
        .security_groups(group.group_id().unwrap_or_default())
        .build()
        .context("building the awsvpc configuration")?;
    let run = clients
        .ecs
        .run_task()
        .cluster(CLUSTER)
        .task_definition(&api_definition)
        .launch_type(LaunchType::Fargate)
        .group("service:api")
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(awsvpc)
                .build(),
        )
        .send()
        .await
        .context("RunTask for the Fargate task")?;
    let api_arn = run
        .tasks()
        .first()
        .and_then(|t| t.task_arn())
        .with_context(|| format!("RunTask started no Fargate task: {:?}", run.failures()))?;
    let api_task = seeded(api_arn, "api", &api_definition, None, FARGATE_ENI_IP);
    Ok(Account {
        cluster_arn,
        hosts,
        web_tasks,
        api_task,
    })
}

async fn launch_host(clients: &AwsClients, network: &Network, ip: Ipv4Addr) -> Result<Host> {
    let run = clients
        .ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .min_count(1)
        .max_count(1)
        .subnet_id(&network.subnet_id)
        .private_ip_address(ip.to_string())
        .send()
        .await
        .with_context(|| format!("RunInstances with private IP {ip}"))?;
    let instance_id = run
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .context("RunInstances returned no instance")?
        .to_owned();
    // The identity document is what the ECS agent sends when it registers a host.
    let document =
        serde_json::json!({ "instanceId": instance_id, "region": REGION, "accountId": ACCOUNT })
            .to_string();
    let registered = clients
        .ecs
        .register_container_instance()
        .cluster(CLUSTER)
        .instance_identity_document(document)
        .send()
        .await
        .context("RegisterContainerInstance")?;
    let container_instance_arn = registered
        .container_instance()
        .and_then(|c| c.container_instance_arn())
        .context("RegisterContainerInstance returned no ARN")?
        .to_owned();
    Ok(Host {
        instance_id,
        ip,
        container_instance_arn,
    })
}

async fn register(
    clients: &AwsClients,
    family: &str,
    container: &str,
    port: u16,
    mode: NetworkMode,
) -> Result<String> {
    let definition = ContainerDefinition::builder()
        .name(container)
        .image("public.ecr.aws/nginx/nginx:1.27")
        .memory(128)
        .essential(true)
        .port_mappings(
            PortMapping::builder()
                .container_port(i32::from(port))
                .protocol(TransportProtocol::Tcp)
                .build(),
        )
        .build();
    let mut request = clients
        .ecs
        .register_task_definition()
        .family(family)
        .network_mode(mode.clone())
        .container_definitions(definition);
    if mode == NetworkMode::Awsvpc {
        request = request
            .requires_compatibilities(Compatibility::Fargate)
            .cpu("256")
            .memory("512");
    }
    let registered = request
        .send()
        .await
        .with_context(|| format!("RegisterTaskDefinition {family}"))?;
    Ok(registered
        .task_definition()
        .and_then(|d| d.task_definition_arn())
        .with_context(|| format!("RegisterTaskDefinition {family} returned no ARN"))?
        .to_owned())
}

fn seeded(
    arn: &str,
    service: &'static str,
    definition: &str,
    host: Option<Host>,
    ip: Ipv4Addr,
) -> SeededTask {
    SeededTask {
        arn: arn.to_owned(),
        id: arn.rsplit('/').next().unwrap_or(arn).to_owned(),
        service,
        task_definition_arn: definition.to_owned(),
        host,
        ip,
    }
}
