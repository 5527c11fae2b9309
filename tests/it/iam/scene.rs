//! One configuration's world in moto: an account of its own for the function (so that its
//! reconcile lists only its own cluster), a cluster with a task to publish and a task whose
//! health has no verdict yet, the zone (in another account when the zone role is used),
//! the queues the stack would create, and both functions' environments from the template:
//! the writer's, and on the SQS path the packer's, which signs with credentials of its own
//! (its own role, PackerRole) so that each request is judged against its signer's policy.

use std::collections::BTreeMap;

use ecs_srv::aws::AwsClients;
use serde_json::Value;

use crate::support::accounts::Identity;
use crate::support::*;
use crate::template_env::Stack;

/// A stack's choices on the four conditions of the function's policy.
#[derive(Clone, Copy, Debug)]
pub struct Configuration {
    /// Names the cluster, zone and task families (no name is part of another).
    pub name: &'static str,
    /// The function's account, the configuration's own.
    pub account: &'static str,
    /// Its VPC is `10.<octet>.0.0/16`.
    pub octet: u8,
    /// UseSqs: events through the queues, else straight to the function.
    pub use_sqs: bool,
    /// HasClusterFilter: ClusterArns names the cluster, else the reconcile lists them all.
    pub cluster_filter: bool,
    /// UseZoneRole: the zone lives in this account, reached through its role.
    pub zone_account: Option<&'static str>,
    /// HasRecordDomain: records only under `svc.` of the zone.
    pub record_domain: bool,
}

/// The world of one configuration.
pub struct Scene {
    pub function: Identity,
    pub clients: AwsClients,
    /// Clients of the zone's account.
    pub zone_clients: AwsClients,
    pub world: World,
    pub zone_id: String,
    /// The template's parameters chosen.
    pub parameters: Vec<(&'static str, String)>,
    /// The function's variables as the template sets them.
    pub variables: BTreeMap<String, String>,
    /// On the SQS path, the packer: its credentials and its variables.
    pub packer: Option<(Identity, BTreeMap<String, String>)>,
    /// The zone role's ARN and zone-role.yaml's parameters, when there is one.
    pub zone_role: Option<(String, Vec<(&'static str, String)>)>,
    /// The web task definition and the RUNNING event of its task.
    pub web: String,
    pub good: Value,
    /// The RUNNING event of a task whose health has no verdict yet.
    pub pending: Value,
}

impl Scene {
    pub async fn new(config: &Configuration) -> Self {
        let function = Identity::of_account(config.account).await;
        let clients = function.clients(REGION);
        let cluster = format!("{}-cluster", config.name);
        let world = seed_one_host_cluster(&clients, &cluster, config.octet, 10).await;
        let zone_owner = match config.zone_account {
            Some(account) => Identity::of_account(account).await,
            None => function.clone(),
        };
        let zone_clients = zone_owner.clients(REGION);
        let apex = format!("{}.internal", config.name);
        let zone_id = create_private_zone(&zone_clients, &world, &apex).await;
        let domain = match config.record_domain {
            true => format!("svc.{apex}"),
            false => String::new(),
        };
        let role_arn = config
            .zone_account
            .map(|account| format!("arn:aws:iam::{account}:role/ecs-srv-zone"));
        let filter = match config.cluster_filter {
            true => world.cluster_arn.clone(),
            false => String::new(),
        };
        let parameters = vec![
            ("HostedZoneId", zone_id.clone()),
            ("UseSqsQueue", config.use_sqs.to_string()),
            ("ClusterArns", filter),
            ("HostedZoneRoleArn", role_arn.clone().unwrap_or_default()),
            ("RecordDomain", domain.clone()),
        ];
        let template = crate::template::template();
        let chosen: Vec<(&str, &str)> = parameters.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let stack = Stack::new(&template, &chosen).in_account(config.account);
        let variables = stack.function_environment();
        let packer = match config.use_sqs {
            true => Some((
                Identity::of_account(config.account).await,
                stack.environment_of("PackerFunction"),
            )),
            false => None,
        };
        let mut queues: Vec<&String> = variables.values().collect();
        queues.extend(packer.iter().flat_map(|(_, packer)| packer.values()));
        create_queues(&clients, &queues).await;
        let zone_role = role_arn.map(|arn| {
            let trusted = config.account.to_owned();
            let zone = vec![
                ("HostedZoneId", zone_id.clone()),
                ("RecordDomain", domain),
                ("TrustedAccountIds", trusted),
            ];
            (arn, zone)
        });

        let (web, good, pending) = tasks(config, &clients, &world).await;
        Scene {
            function,
            clients,
            zone_clients,
            world,
            zone_id,
            parameters,
            variables,
            packer,
            zone_role,
            web,
            good,
            pending,
        }
    }

    /// The names in the zone that hold a record of this deployment.
    pub async fn owned_names(&self) -> Vec<String> {
        owned_records(&zone_records(&self.zone_clients, &self.zone_id).await)
            .map(|record| record.0.clone())
            .collect()
    }

    /// Whether the good task is published.
    pub async fn good_is_published(&self) -> bool {
        let id = task_id_of(&self.good);
        self.owned_names()
            .await
            .iter()
            .any(|name| name.starts_with(&id))
    }
}

/// A task to publish, and one whose health check has no verdict yet: the first one's task
/// definition, and their RUNNING events, of this account as EventBridge delivers them.
async fn tasks(
    config: &Configuration,
    clients: &AwsClients,
    world: &World,
) -> (String, Value, Value) {
    let mut tasks = Vec::new();
    let gates = [(8080, None), (8081, Some(unsettled_health_check()))];
    for (kind, (port, health_check)) in ["web", "checked"].into_iter().zip(gates) {
        let family = format!("{}-{kind}", config.name);
        let mappings = [(80, Some(port))];
        let definition = register_checked_task_definition(
            clients,
            &family,
            kind,
            &mappings,
            false,
            health_check,
        )
        .await;
        let group = format!("service:{kind}");
        let mut events = running_bridge_events(clients, world, &definition, &group, 1, port).await;
        events[0]["account"] = config.account.into();
        tasks.push((definition, events.remove(0)));
    }
    let (_, pending) = tasks.pop().expect("the checked task");
    let (web, good) = tasks.pop().expect("the web task");
    (web, good, pending)
}

/// A health check that cannot settle within the test: the task stays without a verdict.
fn unsettled_health_check() -> aws_sdk_ecs::types::HealthCheck {
    aws_sdk_ecs::types::HealthCheck::builder()
        .command("CMD-SHELL")
        .command("true")
        .interval(300)
        .retries(10)
        .start_period(300)
        .build()
        .expect("a command is given")
}

/// The queues the functions' environments name (every value that is a queue URL), created
/// in the stack's account as the stack would.
async fn create_queues(clients: &AwsClients, values: &[&String]) {
    use aws_sdk_sqs::types::QueueAttributeName;
    let urls = values.iter().filter(|v| v.starts_with("https://sqs."));
    for url in urls {
        let Some(name) = url.rsplit('/').next().filter(|n| !n.is_empty()) else {
            continue;
        };
        let mut request = clients.sqs.create_queue().queue_name(name);
        if name.ends_with(".fifo") {
            request = request
                .attributes(QueueAttributeName::FifoQueue, "true")
                .attributes(QueueAttributeName::ContentBasedDeduplication, "true");
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateQueue {name}: {e:?}"));
    }
}
