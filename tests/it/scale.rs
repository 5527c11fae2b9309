//! Scale benchmarks for `make bench`, on the simulated account and the strict Route 53
//! model: a rolling deploy of a 1,000-task service, the cost of one event against the
//! zone's size, and a 5,000-task service.
//!
//! They measure whatever the core does: a goal the core misses (a name past Route 53's
//! 100 weighted sets, a zone read per event) is reported as figures, never asserted. What
//! they assert holds for any correct core: Route 53 refuses nothing, the runs settle, no
//! stopped task is answered, and the view built from the accepted batches is the zone.
//!
//! Events reach the publisher the way the template's SQS path delivers them (see
//! [`queue`]), with the production defaults (whole SRV sets on, the SQS path's zone
//! cache) except the request pacer, which runs at the highest rate allowed so that the
//! benchmarks take seconds; the time the default rate imposes is computed from the
//! request counts instead. Each test merges its figures into the JSON file named by
//! `SCALE_FIGURES`, under its own key, and prints a summary (`--nocapture`).

pub mod answers;
mod large_service;
mod queue;
mod rolling_deploy;
mod zone_size;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

use aws_sdk_route53::types::RrType;
use clap::Parser;
use ecs_srv::config::Settings;
use ecs_srv::run::deployment::Deployment;
use serde_json::{json, Value};

use crate::simulated::account::Account;
use crate::simulated::tasks::{ContainerSpec, Mode, TaskSpec};
use crate::simulated::{record_set, set_task, APEX, ZONE_ID};
use crate::support::strict_zone::StrictZone;

/// The SQS path as the template deploys it: whole SRV sets on (the default) and the
/// single writer's zone cache (`ZONE_CACHE_SECONDS: !If [UseSqs, "60", "0"]`).
const SQS_FLAGS: [&str; 4] = ["--srv-sets", "on", "--zone-cache-seconds", "60"];

/// The direct path: whole SRV sets on, no zone cache (its default of 0).
const DIRECT_FLAGS: [&str; 2] = ["--srv-sets", "on"];

/// Route 53's default quota of record sets per hosted zone.
const ZONE_QUOTA: usize = 10_000;

/// The container every benchmark task runs, so the SRV name is `_app._tcp.S.Z`.
pub const CONTAINER: &str = "app";

/// The request rate a deployment gets when ROUTE53_WRITE_RATE is left alone.
pub fn default_request_rate() -> f64 {
    #[derive(Parser)]
    struct Defaults {
        #[command(flatten)]
        config: Settings,
    }
    Defaults::try_parse_from(["ecs-srv", "--hosted-zone-id", ZONE_ID])
        .expect("the defaults parse")
        .config
        .route53_write_rate
}

/// Task `index` of revision `revision` of `service`, in bridge mode on one of `hosts`
/// hosts. The task id starts with the revision, so the tasks of one revision share a
/// task definition, as a service's tasks do; index and host make the (host, port) pair
/// unique.
pub fn task(service: &str, revision: u32, index: usize, hosts: usize) -> TaskSpec {
    TaskSpec {
        task_id: format!("{revision:08x}{index:024x}"),
        service: service.to_owned(),
        mode: Mode::Bridge,
        host: index % hosts,
        eni_address: Ipv4Addr::new(10, 2, 0, 1),
        containers: vec![ContainerSpec {
            name: CONTAINER.to_owned(),
            container_port: 8080,
            host_port: 32768 + u16::try_from(index / hosts).expect("a host port"),
            weight: None,
        }],
        ..TaskSpec::default()
    }
}

/// Sets what ECS says of each task and returns their events, each with an id of its
/// own (the simulated events share one per revision and status).
fn events(
    account: &Arc<Mutex<Account>>,
    tasks: &[TaskSpec],
    last_status: &str,
    desired_status: &str,
    version: u64,
) -> Vec<Value> {
    tasks
        .iter()
        .map(|task| {
            set_task(account, task, last_status, desired_status, version);
            let mut event = task.event(last_status, desired_status, version);
            event["id"] = json!(format!(
                "{}-{version}-{}",
                task.task_id,
                desired_status.to_ascii_lowercase()
            ));
            event
        })
        .collect()
}

/// The SOA and NS sets every hosted zone holds at its apex; they count towards the quota.
pub fn seed_apex(zone: &Arc<Mutex<StrictZone>>) {
    let built = |b: aws_sdk_route53::types::builders::ResourceRecordSetBuilder| {
        b.build().expect("a complete set")
    };
    zone.lock().unwrap().seed(vec![
        built(record_set(
            APEX,
            RrType::Soa,
            900,
            &["ns-1.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"],
        )),
        built(record_set(
            APEX,
            RrType::Ns,
            172800,
            &["ns-1.awsdns-00.com.", "ns-2.awsdns-00.net."],
        )),
    ]);
}

/// The sets SOA and NS take, as [`seed_apex`] writes them.
const APEX_SETS: usize = 2;

/// Route 53 calls the zone logged from call number `since` on, by operation, retries
/// and refusals included.
fn route53_calls(zone: &StrictZone, since: usize) -> BTreeMap<&'static str, usize> {
    let mut calls = BTreeMap::new();
    for call in &zone.calls[since..] {
        *calls.entry(call.operation).or_default() += 1;
    }
    calls
}

/// The publisher's ECS and EC2 calls so far, by `Service.Operation`.
fn ecs_ec2_calls(publisher: &Deployment) -> BTreeMap<String, u64> {
    publisher
        .clients
        .calls
        .snapshot()
        .into_iter()
        .filter(|(operation, _)| operation.starts_with("ECS.") || operation.starts_with("EC2."))
        .collect()
}

/// Every refusal by the strict model and every breach of ecs-srv's own layout promises:
/// a correct core gets none, at any size.
pub fn rejections(zone: &StrictZone) -> Vec<String> {
    zone.problems()
}

/// Merges `figures` into the JSON object in the file named by `SCALE_FIGURES`, under
/// `scenario`; the tests run one at a time (`--test-threads=1`), each adding its key.
fn record_figures(scenario: &str, figures: &Value) {
    record_figures_in("SCALE_FIGURES", scenario, figures);
}

/// Merges `figures` into the JSON object in the file named by the variable `variable`,
/// under `scenario`; nothing when the variable is not set.
pub fn record_figures_in(variable: &str, scenario: &str, figures: &Value) {
    let Some(path) = std::env::var_os(variable) else {
        return;
    };
    let mut all: serde_json::Map<String, Value> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    all.insert(scenario.to_owned(), figures.clone());
    std::fs::write(&path, Value::Object(all).to_string()).expect("writing the figures");
}

/// The median of some counts or times (the lower middle of an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values
        .get(values.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0.0)
}
