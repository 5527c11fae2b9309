//! One zone across accounts and regions, against moto: stacks of the template at their
//! defaults (a StackSet gives every stack the same name and RECORD_OWNER) in two regions,
//! each with a cluster `prod` running a service `web`, and workload accounts writing to a
//! zone in a networking account through its role. A cluster is its ARN: through any number
//! of reconciles of every stack, a published task stays published, and no name reaches two
//! clusters' tasks, unless RegionalNames puts each region under a latency alias on purpose.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::process::Command;

use ecs_srv::aws::AwsClients;
use serde_json::Value;

use crate::support::accounts::Identity;
use crate::support::*;
use crate::template_env::Stack;

const EU: &str = "eu-west-1";

/// A stack of the template with `parameters` (beside HostedZoneId), run as a command in
/// `region` with `identity`'s credentials.
struct StackRun {
    environment: Vec<(String, String)>,
}

impl StackRun {
    fn new(zone_id: &str, region: &str, identity: &Identity, parameters: &[(&str, &str)]) -> Self {
        let template = crate::template::template();
        let mut chosen = vec![("HostedZoneId", zone_id)];
        chosen.extend_from_slice(parameters);
        let mut environment: Vec<(String, String)> = Stack::new(&template, &chosen)
            .function_environment()
            .into_iter()
            .collect();
        environment.extend([
            ("AWS_ENDPOINT_URL".to_owned(), moto().endpoint().to_owned()),
            ("AWS_REGION".to_owned(), region.to_owned()),
            ("AWS_EC2_METADATA_DISABLED".to_owned(), "true".to_owned()),
            ("ROUTE53_WRITE_RATE".to_owned(), "100".to_owned()),
        ]);
        environment.extend(identity.environment());
        StackRun { environment }
    }

    /// Runs `ecs-srv reconcile`; its exit success and report (or what it printed).
    fn reconcile(&self) -> (bool, Value) {
        self.run(&["reconcile"])
    }

    /// Replays `events` through the event path, as EventBridge would deliver them.
    fn replay(&self, events: &[Value]) -> (bool, Value) {
        let file = tempfile::NamedTempFile::new().expect("a temporary file");
        std::fs::write(file.path(), Value::Array(events.to_vec()).to_string())
            .expect("writing events");
        self.run(&["replay", &file.path().display().to_string()])
    }

    fn run(&self, args: &[&str]) -> (bool, Value) {
        let output = Command::new(env!("CARGO_BIN_EXE_ecs-srv"))
            .args(args)
            .env_clear()
            .envs(
                self.environment
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .output()
            .expect("running ecs-srv");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let report = serde_json::from_str(&stdout)
            .unwrap_or_else(|_| Value::String(format!("{stdout}{stderr}")));
        (output.status.success(), report)
    }
}

/// A cluster `prod` in `region` with one Fargate task of each service; its tasks' ids.
async fn prod_cluster(
    clients: &AwsClients,
    octet: u8,
    services: &[&str],
) -> (World, BTreeMap<String, String>) {
    let world = seed_cluster(
        clients,
        "prod",
        &format!("10.{octet}.0.0/16"),
        &[Ipv4Addr::new(10, octet, 0, 10)],
    )
    .await;
    let mut tasks = BTreeMap::new();
    for service in services {
        let definition = register_task_definition(clients, service, service, &[80], true).await;
        let (arn, _) = run_task(
            clients,
            &world,
            &definition,
            &format!("service:{service}"),
            true,
        )
        .await;
        tasks.insert(
            service.to_string(),
            arn.rsplit('/').next().unwrap().to_owned(),
        );
    }
    (world, tasks)
}

/// The RUNNING events of a cluster's tasks, as EventBridge delivers them.
async fn running_events(
    clients: &AwsClients,
    world: &World,
    tasks: &BTreeMap<String, String>,
) -> Vec<Value> {
    let ids: Vec<String> = tasks.values().cloned().collect();
    let described = clients
        .ecs
        .describe_tasks()
        .cluster(&world.cluster_name)
        .set_tasks(Some(ids))
        .send()
        .await
        .expect("DescribeTasks");
    described
        .tasks()
        .iter()
        .map(ecs_srv::aws::ecs::described::event_json)
        .collect()
}

/// The zone's record names and marks.
async fn zone(clients: &AwsClients, zone_id: &str) -> Vec<(String, String, Option<String>)> {
    zone_records(clients, zone_id)
        .await
        .into_iter()
        .map(|r| (r.0, r.1, r.2))
        .collect()
}

fn holds_task(records: &[(String, String, Option<String>)], task: &str) -> bool {
    records.iter().any(|(name, _, _)| name.starts_with(task))
}

#[tokio::test]
async fn two_regions_on_one_zone_never_withdraw_each_others_tasks() {
    // An account of its own: every test here names its clusters `prod`.
    let here = Identity::of_account("444444444444").await;
    let (us_clients, eu_clients) = (here.clients(REGION), here.clients(EU));
    let (us, us_tasks) = prod_cluster(&us_clients, 231, &["web"]).await;
    let (eu, eu_tasks) = prod_cluster(&eu_clients, 232, &["web"]).await;
    let zone_id = create_private_zone(&us_clients, &us, "regions.internal").await;
    let stacks = [
        StackRun::new(&zone_id, REGION, &here, &[]),
        StackRun::new(&zone_id, EU, &here, &[]),
    ];
    // Each region's events reach its own stack.
    let (ok, replayed) = stacks[0].replay(&running_events(&us_clients, &us, &us_tasks).await);
    assert!(ok, "{replayed:#}");
    let (ok, refused) = stacks[1].replay(&running_events(&eu_clients, &eu, &eu_tasks).await);
    assert!(
        !ok,
        "eu-west-1's task cannot join us-east-1's under one name: {refused:#}"
    );
    for round in 0..3 {
        for stack in &stacks {
            stack.reconcile();
        }
        let records = zone(&us_clients, &zone_id).await;
        assert!(
            holds_task(&records, &us_tasks["web"]),
            "round {round}: us-east-1's task stays published: {records:?}"
        );
        assert!(
            !holds_task(&records, &eu_tasks["web"]),
            "round {round}: one name, one cluster: {records:?}"
        );
    }
    let (_, eu_report) = stacks[1].reconcile();
    let refusal = eu_report["failures"][&eu_tasks["web"]]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for part in [
        "arn:aws:ecs:us-east-1:444444444444:cluster/prod",
        "arn:aws:ecs:eu-west-1:444444444444:cluster/prod",
        "REGIONAL_NAMES=on",
    ] {
        assert!(
            refusal.contains(part),
            "the refusal names {part}: {eu_report:#}"
        );
    }
}

#[tokio::test]
async fn with_regional_names_each_region_is_answered_its_own_tasks_by_one_name() {
    let here = Identity::of_account("555555555555").await;
    let (us_clients, eu_clients) = (here.clients(REGION), here.clients(EU));
    let (us, us_tasks) = prod_cluster(&us_clients, 233, &["web"]).await;
    let (eu, eu_tasks) = prod_cluster(&eu_clients, 234, &["web"]).await;
    let zone_id = create_private_zone(&us_clients, &us, "latency.internal").await;
    let regional = [("RegionalNames", "on")];
    let stacks = [
        StackRun::new(&zone_id, REGION, &here, &regional),
        StackRun::new(&zone_id, EU, &here, &regional),
    ];
    for _ in 0..2 {
        for stack in &stacks {
            let (ok, report) = stack.reconcile();
            assert!(ok, "{report:#}");
        }
    }
    let records = zone(&us_clients, &zone_id).await;
    for (region, task) in [(REGION, &us_tasks["web"]), (EU, &eu_tasks["web"])] {
        assert!(
            records
                .iter()
                .any(|(n, _, _)| *n == format!("{task}.web.{region}.latency.internal.")),
            "{records:?}"
        );
    }
    let latency: Vec<&(String, String, Option<String>)> = records
        .iter()
        .filter(|(n, _, id)| n == "web.latency.internal." && id.is_some())
        .collect();
    assert_eq!(
        latency.len(),
        2,
        "one latency alias per region at the shared name: {records:?}"
    );

    let us_ip = eni_address(&us_clients, &us, &us_tasks["web"]).await;
    let eu_ip = eni_address(&eu_clients, &eu, &eu_tasks["web"]).await;
    assert_eq!(
        answered_at(&us_clients, &zone_id, REGION).await,
        vec![us_ip],
        "us-east-1's VPCs get us-east-1's task"
    );
    assert_eq!(
        answered_at(&us_clients, &zone_id, EU).await,
        vec![eu_ip],
        "eu-west-1's VPCs get eu-west-1's task"
    );

    eu_clients
        .ecs
        .stop_task()
        .cluster("prod")
        .task(&eu_tasks["web"])
        .send()
        .await
        .expect("StopTask");
    stacks[1].reconcile();
    assert_eq!(
        answered_at(&us_clients, &zone_id, EU).await,
        vec![us_ip],
        "a region with no task left is answered by the other"
    );
}

/// What a VPC of `region` is answered for `web.latency.internal.` A by the DNS front.
async fn answered_at(zone_reader: &AwsClients, zone_id: &str, region: &str) -> Vec<Ipv4Addr> {
    let config = dns_front::FrontConfig {
        asking_region: Some(region.to_owned()),
        ..dns_front::FrontConfig::default()
    };
    let source = dns_front::Route53Zone::new(zone_reader.route53.clone(), zone_id);
    let front = dns_front::start(config, source)
        .await
        .expect("the DNS front starts");
    let client = ecs_srv_demo::dns::DnsClient::new(front.addr()).expect("a DNS client");
    let answer = client.a("web.latency.internal.").await.expect("an answer");
    front.shutdown().await;
    answer
}

/// The ENI address moto gave a Fargate task.
async fn eni_address(clients: &AwsClients, world: &World, task: &str) -> Ipv4Addr {
    let described = clients
        .ecs
        .describe_tasks()
        .cluster(&world.cluster_name)
        .tasks(task)
        .send()
        .await
        .expect("DescribeTasks");
    let details = described.tasks()[0].attachments()[0].details();
    let ip = details
        .iter()
        .find(|d| d.name() == Some("privateIPv4Address"))
        .and_then(|d| d.value())
        .expect("an ENI address");
    ip.parse().expect("an IPv4 address")
}

#[tokio::test]
async fn two_workload_accounts_write_to_a_zone_in_a_third_through_its_role() {
    let (network, first, second) = (
        Identity::of_account("333333333333").await,
        Identity::of_account("111111111111").await,
        Identity::of_account("222222222222").await,
    );
    let network_clients = network.clients(REGION);
    let dns_vpc = seed_cluster(
        &network_clients,
        "dns",
        "10.235.0.0/16",
        &[Ipv4Addr::new(10, 235, 0, 10)],
    )
    .await;
    let zone_id = create_private_zone(&network_clients, &dns_vpc, "shared.internal").await;
    let (_, first_tasks) = prod_cluster(&first.clients(REGION), 236, &["web"]).await;
    let (_, second_tasks) = prod_cluster(&second.clients(REGION), 237, &["api", "web"]).await;
    let role = [(
        "HostedZoneRoleArn",
        "arn:aws:iam::333333333333:role/ecs-srv-zone",
    )];

    // Without the zone's role, a workload account cannot see the zone: nothing is written.
    let (ok, without) = StackRun::new(&zone_id, REGION, &first, &[]).reconcile();
    assert!(!ok, "{without}");
    assert!(
        without.to_string().contains("ZONE_ROLE_ARN"),
        "the error says what to set: {without}"
    );
    assert!(zone(&network_clients, &zone_id)
        .await
        .iter()
        .all(|(_, _, id)| id.is_none()));

    let stacks = [
        StackRun::new(&zone_id, REGION, &first, &role),
        StackRun::new(&zone_id, REGION, &second, &role),
    ];
    for round in 0..3 {
        for stack in &stacks {
            stack.reconcile();
        }
        let records = zone(&network_clients, &zone_id).await;
        assert!(
            holds_task(&records, &first_tasks["web"]),
            "round {round}: {records:?}"
        );
        assert!(
            holds_task(&records, &second_tasks["api"]),
            "round {round}: {records:?}"
        );
        assert!(
            !holds_task(&records, &second_tasks["web"]),
            "round {round}: web is account 111's prod: {records:?}"
        );
    }
    let (_, report) = stacks[1].reconcile();
    let refusal = report["failures"][&second_tasks["web"]]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        refusal.contains("arn:aws:ecs:us-east-1:111111111111:cluster/prod")
            && refusal.contains("arn:aws:ecs:us-east-1:222222222222:cluster/prod"),
        "{report:#}"
    );
}
