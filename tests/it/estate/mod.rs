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

mod accounts;
mod cost;
mod regions;

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
