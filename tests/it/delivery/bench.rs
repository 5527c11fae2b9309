//! `make bench`: every design over the 200-event burst and the 1,000-task rolling deploy,
//! and the reconcile of the largest zones; the figures go to the file named by
//! `DELIVERY_FIGURES` (under `runs` and `largest_zone`), and a summary to stdout.
//!
//! For a quick trial, `DELIVERY_DESIGN` and `DELIVERY_SCENARIO` keep only the designs and
//! scenarios whose names start with their values (`FIFO`, `rolling`).

use std::time::Duration;

use serde_json::{json, Value};

use super::report::{simulate, LATENCIES, ROUTE53_LATENCY};
use super::{design, largest_zone, scenario};
use crate::scale::{default_request_rate, record_figures_in};

/// Where the figures go.
const FIGURES: &str = "DELIVERY_FIGURES";
/// The longest a run may go on in virtual time: far past any scenario's last event.
const RUN_BOUND: Duration = Duration::from_secs(3_600);

fn seconds(value: &Value) -> String {
    value
        .as_f64()
        .map_or_else(|| "-".to_owned(), |s| format!("{s:.1}"))
}

fn print_row(f: &Value) {
    let lag = |key: &str, p: &str| seconds(&f[key][p]);
    println!(
        "{:<22} {:<30} event p50/p99/max {:>6} {:>6} {:>6}  healthy p50/p99/max {:>6} {:>6} {:>6}  throttled {:>4}  receives {:>3}  dead {:>3}  List {:>4}  Change {:>5}  correct {}",
        f["design"].as_str().unwrap_or_default(),
        f["scenario"].as_str().unwrap_or_default(),
        lag("event_lag_seconds", "p50"),
        lag("event_lag_seconds", "p99"),
        lag("event_lag_seconds", "max"),
        lag("healthy_lag_seconds", "p50"),
        lag("healthy_lag_seconds", "p99"),
        lag("healthy_lag_seconds", "max"),
        f["throttled_invocations"],
        f["max_receive_count"],
        f["dead_lettered"],
        f["route53"]["list"],
        f["route53"]["change"],
        f["zone_correct"],
    );
}

#[tokio::test]
#[ignore = "bench: run by make bench"]
async fn every_design_over_the_burst_and_the_rolling_deploy() {
    if let Ok(filter) = std::env::var("DELIVERY_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
    let rate = default_request_rate();
    let designs = [
        design::before(rate),
        design::standard_two_writers(rate),
        design::fifo_one_writer(rate),
        design::gathered_fifo(rate, design::TEMPLATE_WINDOW),
    ];
    let chosen = |variable: &str, name: &str| {
        std::env::var(variable).map_or(true, |prefix| name.starts_with(&prefix))
    };
    let mut runs = Vec::new();
    for timeline in [scenario::burst(), scenario::rolling_deploy()] {
        if !chosen("DELIVERY_SCENARIO", &timeline.name) {
            continue;
        }
        for design in designs.iter().filter(|d| chosen("DELIVERY_DESIGN", d.name)) {
            let run = simulate(design, &timeline, RUN_BOUND).await;
            assert!(!run.cut_short, "{} settles: {:#}", design.name, run.figures);
            assert!(
                run.zone_correct,
                "{} converges: {:#}",
                design.name, run.figures
            );
            print_row(&run.figures);
            runs.push(run.figures);
        }
    }
    let settings = json!({
        "route53_rate": rate,
        "route53_latency_ms": ROUTE53_LATENCY.as_millis(),
        "ecs_ec2_latency_ms": LATENCIES.ecs_ec2.as_millis(),
        "sqs_latency_ms": LATENCIES.sqs.as_millis(),
    });
    record_figures_in(FIGURES, "settings", &settings);
    record_figures_in(FIGURES, "runs", &Value::Array(runs));
}

#[tokio::test]
#[ignore = "bench: run by make bench"]
async fn the_reconcile_of_the_largest_zones() {
    let design = largest_zone::reconcile_only(default_request_rate());
    let mut zones = Vec::new();
    for (tasks, quota) in [(3_300, None), (5_000, Some(20_000))] {
        let timeline = largest_zone::lost_service(tasks, quota);
        let run = simulate(&design, &timeline, RUN_BOUND).await;
        assert!(run.zone_correct, "{tasks} tasks: {:#}", run.figures);
        for reconcile in run.figures["reconciles"].as_array().into_iter().flatten() {
            println!(
                "{tasks} tasks: reconcile at {} s took {} s (List {}, Change {}, ECS {})",
                reconcile["started"],
                reconcile["seconds"],
                reconcile["list"],
                reconcile["change"],
                reconcile["ecs"]
            );
        }
        zones.push(json!({
            "tasks": tasks,
            "zone_quota": quota,
            "record_sets": run.record_sets,
            "reconciles": run.figures["reconciles"],
            "timeout_seconds": largest_zone::LAMBDA_MAX_TIMEOUT.as_secs(),
        }));
    }
    record_figures_in(FIGURES, "largest_zone", &Value::Array(zones));
}
