//! Shared test support: a moto server per test binary, SDK clients pointed at it, and
//! helpers that seed a small AWS account (VPC, instances, cluster, tasks, a zone).
//!
//! moto runs as a child whose stdin is a pipe held by this process; when the test binary
//! exits, however it exits, the pipe closes and moto stops. No test skips when moto is
//! missing: it fails and says how to install it.
#![allow(dead_code)]

pub mod mock_aws;

pub mod strict_zone;

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecs::config::Credentials;
use ecs_srv::aws::AwsClients;
use serde_json::{json, Value};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// A running moto server.
pub struct Moto {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    _child: Mutex<Child>,
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The test binary's moto server, started on first use.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(start_moto)
}

fn start_moto() -> Moto {
    let python = std::env::var_os("ECS_SRV_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    let launcher = repo_root().join("tests/support/moto_server.py");
    let mut child = Command::new(&python)
        .arg(&launcher)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "moto server could not be started with {}: {err}. Run `make deps` (it creates .venv with moto[server]), or set ECS_SRV_PYTHON to a Python that has moto[server].",
                python.display()
            )
        });
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("reading moto's READY line");
    let endpoint = line
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_else(|| {
            panic!(
                "moto server did not start (it printed {line:?}). Run `make deps` to install moto[server] into .venv."
            )
        })
        .to_owned();
    Moto {
        endpoint,
        _child: Mutex::new(child),
    }
}

/// An SDK configuration aimed at moto, with test credentials and quick retries.
pub fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ecs::config::SharedCredentialsProvider::new(
            Credentials::new("testing", "testing", None, None, "tests"),
        ))
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .build()
}

/// The crate's clients, aimed at this binary's moto.
pub fn moto_clients() -> AwsClients {
    AwsClients::from_sdk_config(&sdk_config(&moto().endpoint))
}

/// Environment for running the `ecs-srv` binary against moto.
pub fn moto_env(zone_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", moto().endpoint.clone()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("HOSTED_ZONE_ID", zone_id.to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
}

/// One EC2 host registered as a container instance.
#[derive(Clone, Debug)]
pub struct Host {
    pub instance_id: String,
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
            instance_id,
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

/// Reads a sample event from `events/`.
pub fn fixture(name: &str) -> Value {
    let path = repo_root().join("events").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// Points a sample event at a task that exists in moto: its ARN, cluster, container
/// instance and task definition, keeping everything else of the sample.
pub fn retarget(
    mut event: Value,
    task_arn: &str,
    world: &World,
    host: Option<&Host>,
    task_definition_arn: &str,
) -> Value {
    let detail = event.get_mut("detail").expect("sample has a detail");
    detail["taskArn"] = json!(task_arn);
    detail["clusterArn"] = json!(world.cluster_arn);
    detail["taskDefinitionArn"] = json!(task_definition_arn);
    if let Some(host) = host {
        detail["containerInstanceArn"] = json!(host.container_instance_arn);
    }
    if let Some(containers) = detail.get_mut("containers").and_then(Value::as_array_mut) {
        for container in containers {
            container["taskArn"] = json!(task_arn);
        }
    }
    if let Some(resources) = event.get_mut("resources") {
        *resources = json!([task_arn]);
    }
    event
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
    use aws_sdk_ecs::types::{
        Compatibility, ContainerDefinition, NetworkMode, PortMapping, TransportProtocol,
    };
    let mut definition = ContainerDefinition::builder()
        .name(container)
        .image("public.ecr.aws/nginx/nginx:1.27")
        .memory(8)
        .essential(true);
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
    use aws_sdk_ecs::types::{AwsVpcConfiguration, LaunchType, NetworkConfiguration};
    let mut request = clients
        .ecs
        .run_task()
        .cluster(&world.cluster_name)
        .task_definition(task_definition_arn)
        .group(group)
        .count(1);
    if fargate {
        let group_id = clients
            .ec2
            .create_security_group()
            .group_name(format!("sg-{}", world.cluster_name))
            .description("tasks")
            .vpc_id(&world.vpc_id)
            .send()
            .await
            .map(|g| g.group_id().unwrap_or_default().to_owned())
            .unwrap_or_default();
        request = request
            .launch_type(LaunchType::Fargate)
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        AwsVpcConfiguration::builder()
                            .subnets(&world.subnet_id)
                            .security_groups(group_id)
                            .build()
                            .expect("awsvpc configuration"),
                    )
                    .build(),
            );
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

/// Every record set of a zone, as `(name, type, set identifier, values)`, sorted.
pub async fn zone_records(
    clients: &AwsClients,
    zone_id: &str,
) -> Vec<(String, String, Option<String>, Vec<String>)> {
    let page = clients
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .send()
        .await
        .expect("ListResourceRecordSets");
    assert!(
        !page.is_truncated(),
        "test zones stay within one page (moto cannot page weighted sets)"
    );
    let mut records: Vec<_> = page
        .resource_record_sets()
        .iter()
        .map(|set| {
            let mut values: Vec<String> = set
                .resource_records()
                .iter()
                .map(|r| r.value().to_owned())
                .collect();
            values.sort();
            (
                set.name().to_owned(),
                set.r#type().as_str().to_owned(),
                set.set_identifier().map(str::to_owned),
                values,
            )
        })
        .collect();
    records.sort();
    records
}

/// Every record set of a zone over all pages, deduplicated (moto restarts a page at the
/// start of a name it cannot resume inside, so sets can repeat across pages).
pub async fn zone_records_paged(
    clients: &AwsClients,
    zone_id: &str,
) -> Vec<(String, String, Option<String>, Vec<String>)> {
    let mut records = std::collections::BTreeSet::new();
    let mut start: Option<(String, aws_sdk_route53::types::RrType)> = None;
    for _ in 0..100 {
        let mut request = clients
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(zone_id);
        if let Some((name, kind)) = &start {
            request = request
                .start_record_name(name)
                .start_record_type(kind.clone());
        }
        let page = request.send().await.expect("ListResourceRecordSets");
        for set in page.resource_record_sets() {
            let mut values: Vec<String> = set
                .resource_records()
                .iter()
                .map(|r| r.value().to_owned())
                .collect();
            values.sort();
            records.insert((
                set.name().to_owned(),
                set.r#type().as_str().to_owned(),
                set.set_identifier().map(str::to_owned),
                values,
            ));
        }
        match (
            page.is_truncated(),
            page.next_record_name(),
            page.next_record_type(),
        ) {
            (true, Some(name), Some(kind)) => start = Some((name.to_owned(), kind.clone())),
            _ => return records.into_iter().collect(),
        }
    }
    panic!("the zone did not finish paging in 100 pages")
}

/// The task id (last ARN segment) of a sample or retargeted event.
pub fn task_id_of(event: &Value) -> String {
    let arn = event["detail"]["taskArn"]
        .as_str()
        .expect("event has a taskArn");
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

/// An SQS event as Lambda delivers it, one message per body, with ids `m0`, `m1`...
pub fn sqs_event(bodies: &[Value]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(index, body)| {
            json!({
                "messageId": format!("m{index}"),
                "receiptHandle": "handle",
                "body": body.to_string(),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:{REGION}:{ACCOUNT}:ecs-srv-events"),
                "awsRegion": REGION
            })
        })
        .collect();
    json!({ "Records": records })
}

/// Starts `count` bridge tasks of `definition` in `group` and returns their RUNNING
/// events (the bridge sample, retargeted), with host ports from `first_host_port` on.
pub async fn running_bridge_events(
    clients: &AwsClients,
    world: &World,
    definition: &str,
    group: &str,
    count: usize,
    first_host_port: u16,
) -> Vec<Value> {
    let mut events = Vec::with_capacity(count);
    for index in 0..count {
        let (arn, instance) = run_task(clients, world, definition, group, false).await;
        let host = world
            .hosts
            .iter()
            .find(|h| Some(&h.container_instance_arn) == instance.as_ref())
            .expect("the task was placed on a seeded host");
        let mut event = retarget(
            fixture("bridge-running.json"),
            &arn,
            world,
            Some(host),
            definition,
        );
        event["detail"]["group"] = json!(group);
        let port = first_host_port + u16::try_from(index).expect("fewer than 65536 tasks");
        for binding in event["detail"]["containers"][0]["networkBindings"]
            .as_array_mut()
            .expect("the bridge sample has bindings")
        {
            binding["hostPort"] = json!(port);
        }
        events.push(event);
    }
    events
}
