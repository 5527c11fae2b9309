//! A simulated account for the reliability suite: the strict Route 53 zone, the ECS and
//! EC2 world, tasks described once, and a publisher wired to all of it through the real
//! SDK clients. Nothing here touches the network.

pub mod account;
pub mod layout;
pub mod mutate;
pub mod tasks;

use std::sync::{Arc, Mutex};

use aws_sdk_route53::types::{ResourceRecord, ResourceRecordSet, RrType};
use ecs_srv::aws::{ApiCallLog, AwsClients};
use ecs_srv::config::Settings;
use ecs_srv::input::event::parse_task_event_value;
use ecs_srv::input::payload::EventInput;
use ecs_srv::plan::records::RecordSet;
use ecs_srv::run::deployment::Deployment;
use serde_json::Value;

use crate::support::strict_zone::{route53_client, StrictZone};
use account::{ec2_client, ecs_client, Account, Host, TaskTruth};
use tasks::{container_instance_arn, host_address, instance_id, TaskSpec};

/// The hosted zone's id.
pub const ZONE_ID: &str = "ZSTRICT0001";
/// The hosted zone's apex.
pub const APEX: &str = "svc.internal.";

/// The publisher's configuration from its own defaults, so that a new setting with a
/// default needs no change here; writes are paced at the highest rate allowed, so that
/// pacing costs the suite little time. Whole SRV sets (on by default) are off unless the
/// flags turn them on: most of these tests count the per-task sets, and the properties
/// run both ways.
pub fn config() -> Settings {
    config_with(&[])
}

/// The defaults plus `flags`, such as `["--srv-sets", "on"]`.
pub fn config_with(flags: &[&str]) -> Settings {
    let mut all = flags.to_vec();
    if !flags.contains(&"--srv-sets") {
        all.extend_from_slice(&["--srv-sets", "off"]);
    }
    crate::support::config::publisher_config(ZONE_ID, &all)
}

/// A zone with nothing in it.
pub fn empty_zone() -> Arc<Mutex<StrictZone>> {
    StrictZone::new(ZONE_ID, APEX).shared()
}

/// An account with `hosts` running container instances and nothing else.
pub fn account_with_hosts(hosts: usize) -> Arc<Mutex<Account>> {
    let mut account = Account {
        list_page: 3,
        ..Account::default()
    };
    for index in 0..hosts {
        account
            .container_instances
            .insert(container_instance_arn(index), instance_id(index));
        account
            .hosts
            .insert(instance_id(index), Host::Running(host_address(index)));
    }
    account.shared()
}

/// Registers a task's definition and sets what ECS says of it.
pub fn set_task(
    account: &Arc<Mutex<Account>>,
    task: &TaskSpec,
    last_status: &str,
    desired_status: &str,
    version: u64,
) {
    let mut world = account.lock().unwrap();
    world
        .task_definitions
        .insert(task.definition_arn(), task.definition());
    world.details.insert(task.task_arn(), task.described());
    world.tasks.insert(
        task.task_arn(),
        TaskTruth {
            last_status: last_status.to_owned(),
            desired_status: desired_status.to_owned(),
            version: version as i64,
        },
    );
}

/// Real SDK clients over the zone and the account, counting calls like production's.
pub fn clients(zone: &Arc<Mutex<StrictZone>>, account: &Arc<Mutex<Account>>) -> AwsClients {
    let calls = ApiCallLog::default();
    let route53 = route53_client(Arc::clone(zone));
    let ecs = ecs_client(account);
    let ec2 = ec2_client(account);
    AwsClients::from_parts(
        aws_sdk_ecs::Client::from_conf(
            ecs.config().to_builder().interceptor(calls.clone()).build(),
        ),
        aws_sdk_ec2::Client::from_conf(
            ec2.config().to_builder().interceptor(calls.clone()).build(),
        ),
        aws_sdk_route53::Client::from_conf(
            route53
                .config()
                .to_builder()
                .interceptor(calls.clone())
                .build(),
        ),
        calls,
    )
}

/// A cold publisher (empty caches) over the zone and the account.
pub async fn publisher(zone: &Arc<Mutex<StrictZone>>, account: &Arc<Mutex<Account>>) -> Deployment {
    publisher_with(config(), zone, account).await
}

/// A cold publisher with the given configuration.
pub async fn publisher_with(
    config: Settings,
    zone: &Arc<Mutex<StrictZone>>,
    account: &Arc<Mutex<Account>>,
) -> Deployment {
    crate::support::config::deployment(config, clients(zone, account))
        .await
        .expect("GetHostedZone answers")
}

/// An empty zone, an account with `hosts` hosts, and a cold publisher over both with the
/// defaults plus `flags`.
pub async fn world(
    hosts: usize,
    flags: &[&str],
) -> (Arc<Mutex<StrictZone>>, Arc<Mutex<Account>>, Deployment) {
    let zone = empty_zone();
    let account = account_with_hosts(hosts);
    let publisher =
        crate::support::config::deployment(config_with(flags), clients(&zone, &account))
            .await
            .expect("GetHostedZone answers");
    (zone, account, publisher)
}

/// Events as the handler would hand them over, each parsed.
pub fn inputs(events: impl IntoIterator<Item = Value>) -> Vec<EventInput> {
    events
        .into_iter()
        .enumerate()
        .map(|(index, event)| EventInput {
            source: format!("event:{index}"),
            parsed: parse_task_event_value(event),
            message: None,
        })
        .collect()
}

/// The zone split by the documented marks (`layout`), not by the crate's ownership rule:
/// the task sets of the publisher's RECORD_OWNER whose marks check out, each shown at the
/// shared name it stands for (a member of a tree's branch at the tree's root, its mark's
/// hash made for the root), as the crate's `RecordSet` for comparison; and every set
/// the documentation does not describe, exactly as stored. Whole SRV sets and aliases are
/// in neither (`layout::check_zone` checks them).
pub fn zone_contents(
    zone: &Arc<Mutex<StrictZone>>,
    publisher: &Deployment,
) -> (Vec<RecordSet>, Vec<ResourceRecordSet>) {
    let layout = layout::Layout::of(&publisher.settings);
    let mut owned = Vec::new();
    let mut foreign = Vec::new();
    for set in zone.lock().unwrap().record_sets() {
        match layout::listed::documented_form(&layout, &set) {
            Ok(documented) if documented.alias.is_none() && documented.set_identifier.is_some() => {
                owned.push(crate_set(&layout::trees::at_root(documented)));
            }
            Ok(_) => {}
            Err(_) => foreign.push(set),
        }
    }
    owned.sort();
    (owned, foreign)
}

/// The task sets the documentation promises for `running` (`layout`, written apart from
/// the crate), as the crate's `RecordSet`, sorted.
pub fn expected_records(publisher: &Deployment, running: &[&TaskSpec]) -> Vec<RecordSet> {
    let layout = layout::Layout::of(&publisher.settings);
    let mut sets: Vec<RecordSet> = layout::expected::documented(&layout, running)
        .iter()
        .filter(|set| set.alias.is_none() && set.set_identifier.is_some())
        .map(crate_set)
        .collect();
    sets.sort();
    sets
}

/// A documented task set in the crate's data type, for tests that compare those.
fn crate_set(set: &layout::DocumentedSet) -> RecordSet {
    use ecs_srv::plan::records::{RecordType, Routing};
    let set_identifier = set.set_identifier.clone().expect("a task's set is marked");
    RecordSet {
        name: set.name.clone(),
        record_type: match set.record_type.as_str() {
            "A" => RecordType::A,
            "AAAA" => RecordType::Aaaa,
            _ => RecordType::Srv,
        },
        routing: match set.routing {
            layout::Routing::Weighted(weight) => Routing::Weighted {
                set_identifier,
                weight: u8::try_from(weight).expect("a weight of 0 to 255"),
            },
            _ => Routing::Multivalue { set_identifier },
        },
        ttl: set.ttl.and_then(|ttl| u32::try_from(ttl).ok()).unwrap_or(0),
        values: set.values.clone(),
        alias: None,
    }
}

/// Each failed event of an invocation: its error, and whether it is retried.
pub fn failures(report: &ecs_srv::run::report::InvocationReport) -> Vec<(String, bool)> {
    report
        .events
        .iter()
        .filter_map(|e| Some((e.error.clone()?, e.retryable)))
        .collect()
}

/// The names of the task sets the publisher's marks hold (each once, in order).
pub fn owned_names(zone: &Arc<Mutex<StrictZone>>, publisher: &Deployment) -> Vec<String> {
    let (owned, _) = zone_contents(zone, publisher);
    let mut names: Vec<String> = owned.iter().map(|set| set.name.clone()).collect();
    names.dedup();
    names
}

/// A record set of any shape, for seeding foreign records.
pub fn record_set(
    name: &str,
    kind: RrType,
    ttl: i64,
    values: &[&str],
) -> aws_sdk_route53::types::builders::ResourceRecordSetBuilder {
    let records = values
        .iter()
        .map(|v| {
            ResourceRecord::builder()
                .value(*v)
                .build()
                .expect("a value")
        })
        .collect();
    ResourceRecordSet::builder()
        .name(name)
        .r#type(kind)
        .ttl(ttl)
        .set_resource_records(Some(records))
}

/// Records other people keep in the zone: a TXT at the apex, a simple A, a weighted A on
/// a service name ecs-srv also writes, an SRV elsewhere, and a set whose SetIdentifier
/// imitates ecs-srv's but does not match its name.
pub fn foreign_records() -> Vec<ResourceRecordSet> {
    let built = |b: aws_sdk_route53::types::builders::ResourceRecordSetBuilder| {
        b.build().expect("a complete set")
    };
    vec![
        built(record_set(
            APEX,
            RrType::Txt,
            300,
            &["\"v=spf1 -all\"", "\"owner=<platform & team>\""],
        )),
        built(record_set(
            &format!("db.{APEX}"),
            RrType::A,
            60,
            &["10.9.0.5"],
        )),
        // A hand-made canary in ecs-srv's weighted group. Route 53 keeps one TTL per
        // weighted group, so it shares the publisher's default TTL; with any other TTL
        // the publisher refuses the name instead (see `safe_defaults`).
        built(
            record_set(&format!("web.{APEX}"), RrType::A, 10, &["10.9.0.6"])
                .set_identifier("manual-canary")
                .weight(3),
        ),
        built(record_set(
            &format!("_ldap._tcp.corp.{APEX}"),
            RrType::Srv,
            600,
            &["0 5 389 ldap.corp.example."],
        )),
        built(
            record_set(&format!("api.{APEX}"), RrType::A, 10, &["10.9.0.7"])
                .set_identifier("ecs-srv:feedface:svc:00000000")
                .weight(1),
        ),
    ]
}

/// Sets the tasks RUNNING (version 2) in ECS and returns their events.
pub fn running_events(
    account: &Arc<Mutex<Account>>,
    tasks: &[&TaskSpec],
) -> Vec<serde_json::Value> {
    events_at(account, tasks, "RUNNING", 2)
}

/// Sets the tasks STOPPED (version 3) in ECS and returns their events.
pub fn stopped_events(
    account: &Arc<Mutex<Account>>,
    tasks: &[&TaskSpec],
) -> Vec<serde_json::Value> {
    events_at(account, tasks, "STOPPED", 3)
}

/// Sets the tasks to `status` (last and desired) at `version` in ECS and returns their
/// events.
fn events_at(
    account: &Arc<Mutex<Account>>,
    tasks: &[&TaskSpec],
    status: &str,
    version: u64,
) -> Vec<serde_json::Value> {
    tasks
        .iter()
        .map(|task| {
            set_task(account, task, status, status, version);
            task.event(status, status, version)
        })
        .collect()
}
