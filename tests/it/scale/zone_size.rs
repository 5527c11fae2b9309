//! What one event costs in Route 53 requests as the zone grows: zones of 100, 3,000 and
//! 10,000 record sets (10,000 is the default quota per zone, so the largest zone is
//! filled to 3 sets below it, the sets one task adds), filled with other services' tasks
//! published through the publisher and a few padding sets, and then one new task
//! published and one task withdrawn, each in its own invocation. Cold: a new publisher
//! per event, no zone cache (the direct path). Warm: one publisher with the SQS path's
//! zone cache, warmed by one earlier write. The goal is a flat cost: an event should read
//! the subtree of its own service, not the zone.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_route53::types::RrType;
use serde_json::{json, Value};

use super::{
    events, median, record_figures, rejections, route53_calls, seed_apex, task, APEX_SETS,
    DIRECT_FLAGS, SQS_FLAGS, ZONE_QUOTA,
};
use crate::simulated::account::Account;
use crate::simulated::tasks::TaskSpec;
use crate::simulated::{
    account_with_hosts, config_with, empty_zone, publisher_with, record_set, APEX,
};
use crate::support::strict_zone::StrictZone;

const SIZES: [usize; 3] = [100, 3_000, 10_000];
const HOSTS: usize = 20;
/// Events of each kind per size and mode; the figures are their medians.
const ROUNDS: usize = 3;
/// Tasks of the service the events are about, published before: the cold rounds
/// withdraw three, the warm-up one, the warm rounds three more.
const PROBE_TASKS: usize = 7;
/// Tasks per filler service: below Route 53's 100 weighted sets per name.
const FILLER_TASKS: usize = 50;
/// Sets one single-port task adds (task A, service A, SRV).
const SETS_PER_TASK: usize = 3;
/// Events per filler invocation: filling is not measured.
const FILL_BATCH: usize = 100;

#[tokio::test]
#[ignore = "bench: run by make bench"]
async fn per_event_cost_against_zone_size() {
    let mut rows = Vec::new();
    for size in SIZES {
        rows.push(measure(size).await);
    }
    println!("per-event Route 53 calls against the zone's size (medians of {ROUNDS}):");
    for row in &rows {
        for mode in ["cold", "warm"] {
            for kind in ["publish", "withdraw"] {
                let m = &row[mode][kind];
                println!(
                    "  {:>6} sets  {mode} {kind:<8}  List {:>3}  Change {:>2}  {:>6.1} ms",
                    row["zone_sets"],
                    m["list_calls"],
                    m["change_calls"],
                    m["milliseconds"].as_f64().unwrap_or_default(),
                );
            }
        }
    }
    record_figures(
        "zone_size",
        &json!({ "rounds": ROUNDS, "page_size": crate::support::strict_zone::MAX_PAGE, "sizes": rows }),
    );
}

/// A zone of `size` sets (less one task's), then the cold and the warm events.
async fn measure(size: usize) -> Value {
    let zone = empty_zone();
    let account = account_with_hosts(HOSTS);
    seed_apex(&zone);
    let mut next_index = 0;
    let mut make = |service: &str, revision: u32, count: usize| -> Vec<TaskSpec> {
        let tasks = (next_index..next_index + count)
            .map(|i| task(service, revision, i, HOSTS))
            .collect();
        next_index += count;
        tasks
    };
    let probe = make("probe", 1, PROBE_TASKS);
    let target = size.min(ZONE_QUOTA) - SETS_PER_TASK;
    let probe_sets = PROBE_TASKS * SETS_PER_TASK + 1;
    let filler_services =
        target.saturating_sub(APEX_SETS + probe_sets) / (FILLER_TASKS * SETS_PER_TASK + 1);
    let mut fill = probe.clone();
    for service in 0..filler_services {
        let revision = 0x100 + u32::try_from(service).expect("few services");
        fill.extend(make(&format!("filler{service}"), revision, FILLER_TASKS));
    }
    publish_fill(&zone, &account, &fill).await;
    pad(&zone, target);
    let fresh = make("probe", 1, 2 * ROUNDS + 1);
    let calls_at_start = zone.lock().unwrap().calls.len();

    // Cold: every event in a fresh process, as the direct path without a cache.
    let mut cold = Vec::new();
    for round in 0..ROUNDS {
        for (kind, status, who) in [
            ("publish", "RUNNING", &fresh[round]),
            ("withdraw", "STOPPED", &probe[round]),
        ] {
            let publisher = publisher_with(config_with(&DIRECT_FLAGS), &zone, &account).await;
            cold.push((
                kind,
                one_event(&zone, &account, &publisher, who, status).await,
            ));
        }
    }
    // Warm: one process with the zone cache, warmed by one earlier write.
    let publisher = publisher_with(config_with(&SQS_FLAGS), &zone, &account).await;
    let warm_up = one_event(&zone, &account, &publisher, &probe[ROUNDS], "STOPPED").await;
    let mut warm = Vec::new();
    for round in 0..ROUNDS {
        for (kind, status, who) in [
            ("publish", "RUNNING", &fresh[ROUNDS + round]),
            ("withdraw", "STOPPED", &probe[ROUNDS + 1 + round]),
        ] {
            warm.push((
                kind,
                one_event(&zone, &account, &publisher, who, status).await,
            ));
        }
    }
    let zone = zone.lock().unwrap();
    let refused = rejections(&zone);
    assert!(refused.is_empty(), "Route 53 refuses nothing: {refused:#?}");
    let measured = route53_calls(&zone, calls_at_start);
    json!({
        "size": size,
        "zone_sets": target,
        "filler_services": filler_services,
        "most_sets_held": cold.iter().chain(&warm).map(|(_, e)| e["zone_sets_after"].as_u64().unwrap_or(0)).max(),
        "warm_up": warm_up,
        "cold": medians(&cold),
        "warm": medians(&warm),
        "get_hosted_zone_calls": measured.get("GetHostedZone").copied().unwrap_or(0),
    })
}

fn medians(events: &[(&str, Value)]) -> Value {
    let of = |kind: &str, key: &str| {
        median(
            events
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, e)| e[key].as_f64().unwrap_or_default())
                .collect(),
        )
    };
    let mut out = serde_json::Map::new();
    for kind in ["publish", "withdraw"] {
        out.insert(
            kind.to_owned(),
            json!({
                "list_calls": of(kind, "list_calls"),
                "change_calls": of(kind, "change_calls"),
                "milliseconds": of(kind, "milliseconds"),
                "ecs_ec2_calls": of(kind, "ecs_ec2_calls"),
            }),
        );
    }
    Value::Object(out)
}

/// One invocation of one event; its Route 53 calls from the zone's log.
async fn one_event(
    zone: &Arc<Mutex<StrictZone>>,
    account: &Arc<Mutex<Account>>,
    publisher: &ecs_srv::run::deployment::Deployment,
    task: &TaskSpec,
    desired_status: &str,
) -> Value {
    let last_status = "RUNNING";
    let version = if desired_status == "RUNNING" { 2 } else { 3 };
    let calls_before = zone.lock().unwrap().calls.len();
    let aws_before = publisher.clients.calls.snapshot();
    let event = events(
        account,
        std::slice::from_ref(task),
        last_status,
        desired_status,
        version,
    );
    let started = Instant::now();
    let report = ecs_srv::run::events::process(publisher, crate::simulated::inputs(event)).await;
    let milliseconds = started.elapsed().as_secs_f64() * 1e3;
    assert!(
        !report.has_failures(),
        "one task of a small service goes through: {report:#?}"
    );
    let zone = zone.lock().unwrap();
    let calls = route53_calls(&zone, calls_before);
    let ecs_ec2: u64 = publisher
        .clients
        .calls
        .since(&aws_before)
        .iter()
        .filter(|(op, _)| op.starts_with("ECS.") || op.starts_with("EC2."))
        .map(|(_, n)| n)
        .sum();
    json!({
        "list_calls": calls.get("ListResourceRecordSets").copied().unwrap_or(0),
        "change_calls": calls.get("ChangeResourceRecordSets").copied().unwrap_or(0),
        "ecs_ec2_calls": ecs_ec2,
        "milliseconds": milliseconds,
        "zone_sets_after": zone.record_sets().len(),
    })
}

/// Publishes the filler tasks through a publisher of their own, in large invocations.
async fn publish_fill(
    zone: &Arc<Mutex<StrictZone>>,
    account: &Arc<Mutex<Account>>,
    tasks: &[TaskSpec],
) {
    let filler = publisher_with(config_with(&SQS_FLAGS), zone, account).await;
    for chunk in tasks.chunks(FILL_BATCH) {
        let report = ecs_srv::run::events::process(
            &filler,
            crate::simulated::inputs(events(account, chunk, "RUNNING", "RUNNING", 2)),
        )
        .await;
        assert!(
            !report.has_failures(),
            "the filler is published: {:?}",
            report.events.iter().find(|e| e.error.is_some())
        );
    }
}

/// Foreign TXT sets, one per name, until the zone holds `target` sets.
fn pad(zone: &Arc<Mutex<StrictZone>>, target: usize) {
    let mut zone = zone.lock().unwrap();
    let held = zone.record_sets().len();
    let padding: Vec<_> = (held..target)
        .map(|i| {
            record_set(
                &format!("pad{i}.other.{APEX}"),
                RrType::Txt,
                300,
                &["\"padding\""],
            )
            .build()
            .expect("a complete set")
        })
        .collect();
    for chunk in padding.chunks(500) {
        zone.seed(chunk.to_vec());
    }
    assert_eq!(
        zone.record_sets().len(),
        target.max(held),
        "the zone is filled"
    );
}
