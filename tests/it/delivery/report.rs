//! One run from start to figures: the world is built, the design runs over the timeline,
//! the lags are read from the zone, and the final zone is checked against what the account
//! runs, on the strict model and against the documented layout.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::design::Design;
use super::function::{Invoker, Outcome};
use super::lag::{measure, summary, Lags};
use super::sdk::Latencies;
use super::sim::Run;
use super::world::Timeline;
use crate::scale::answers::ZoneView;
use crate::scale::{rejections, seed_apex, CONTAINER};
use crate::simulated::account::Account;
use crate::simulated::layout::{check_zone, Layout};
use crate::simulated::tasks::TaskSpec;
use crate::simulated::{account_with_hosts, empty_zone, APEX};
use crate::support::strict_zone::StrictZone;

/// How long requests take. Route 53's time is mostly the pacer's slot (200 ms at the
/// default rate), charged on top.
pub const LATENCIES: Latencies = Latencies {
    ecs_ec2: Duration::from_millis(40),
    sqs: Duration::from_millis(15),
};
/// A Route 53 request's own time.
pub const ROUTE53_LATENCY: Duration = Duration::from_millis(100);

/// A finished run.
pub struct Simulated {
    /// The figures, as JSON.
    pub figures: Value,
    /// The lags.
    pub lags: Lags,
    /// Whether the final zone is exactly what the running tasks should have.
    pub zone_correct: bool,
    /// Invocations throttled (SQS batches and direct invocations, every try).
    pub throttled: usize,
    /// The run stopped at its bound with work left.
    pub cut_short: bool,
    /// Record sets in the zone at the end, SOA and NS included.
    pub record_sets: usize,
}

/// Runs `design` over `timeline`, for at most `until` of virtual time.
pub async fn simulate(design: &Design, timeline: &Timeline, until: Duration) -> Simulated {
    let started = Instant::now();
    let zone = empty_zone();
    if let Some(quota) = timeline.zone_quota {
        zone.lock().unwrap().max_record_sets = quota;
    }
    seed_apex(&zone);
    let account = account_with_hosts(timeline.hosts);
    // ECS's page of ListTasks (the simulated account pages by 3 to make small tests page).
    account.lock().unwrap().list_page = 100;
    let view = ZoneView::of(&zone.lock().unwrap());
    let mut run = Run::new(
        design,
        timeline,
        Arc::clone(&zone),
        Arc::clone(&account),
        LATENCIES,
        ROUTE53_LATENCY,
    );
    run.run(until).await;
    let answered_at = run
        .shared
        .route53
        .ledger
        .lock()
        .unwrap()
        .answered_at
        .clone();
    let lags = measure(
        view,
        &zone.lock().unwrap(),
        &answered_at,
        timeline,
        CONTAINER,
    );
    let zone_correct = final_zone_correct(&zone, &account, timeline);
    let throttled = run
        .mappings
        .iter()
        .map(|m| m.counts.throttled)
        .sum::<usize>()
        + run.counts.direct_throttled;
    let figures = figures(
        design,
        timeline,
        &run,
        &zone.lock().unwrap(),
        &lags,
        zone_correct,
        started.elapsed(),
    );
    let record_sets = zone.lock().unwrap().record_sets().len();
    Simulated {
        record_sets,
        figures,
        lags,
        zone_correct,
        throttled,
        cut_short: run.counts.cut_short,
    }
}

/// The tasks ECS runs at the end of the run.
fn running_tasks<'t>(account: &Mutex<Account>, timeline: &'t Timeline) -> Vec<&'t TaskSpec> {
    let account = account.lock().unwrap();
    timeline
        .tasks
        .iter()
        .map(|task| &task.spec)
        .filter(|spec| {
            account.tasks.get(&spec.task_arn()).is_some_and(|truth| {
                truth.last_status == "RUNNING" && truth.desired_status == "RUNNING"
            })
        })
        .collect()
}

/// Every running task answered, nothing else owned: the zone as the README documents it.
fn final_zone_correct(
    zone: &Arc<Mutex<StrictZone>>,
    account: &Mutex<Account>,
    timeline: &Timeline,
) -> bool {
    let layout = Layout::of(&crate::simulated::config_with(&["--srv-sets", "on"]));
    let running = running_tasks(account, timeline);
    let listed = zone.lock().unwrap().record_sets();
    // The apex's SOA and NS are the only sets of others.
    let apex: Vec<_> = listed
        .iter()
        .filter(|set| set.name() == APEX)
        .cloned()
        .collect();
    check_zone(&layout, &listed, &apex, &running).is_ok()
}

fn calls_of(run: &Run<'_>) -> BTreeMap<String, u64> {
    let mut calls = BTreeMap::new();
    for finished in &run.counts.finished {
        for (operation, count) in &finished.calls {
            *calls.entry(operation.clone()).or_default() += count;
        }
    }
    calls
}

fn figures(
    design: &Design,
    timeline: &Timeline,
    run: &Run<'_>,
    zone: &StrictZone,
    lags: &Lags,
    zone_correct: bool,
    wall: Duration,
) -> Value {
    let count = |operation: &str| zone.calls_to(operation).count();
    let changes: usize = zone
        .accepted_batches()
        .iter()
        .map(|batch| batch.len())
        .sum();
    let finished = &run.counts.finished;
    let by_invoker = |invoker: Invoker| finished.iter().filter(|f| f.invoker == invoker).count();
    let timed_out = finished
        .iter()
        .filter(|f| matches!(f.outcome, Outcome::TimedOut))
        .count();
    let failed = finished
        .iter()
        .filter(|f| matches!(f.outcome, Outcome::Failed(_)))
        .count();
    let longest = finished
        .iter()
        .map(|f| (f.ended - f.started).as_secs_f64())
        .reduce(f64::max);
    let queues = run.shared.queues.lock().unwrap();
    let mappings: Vec<Value> = run
        .mappings
        .iter()
        .map(|m| {
            let c = &m.counts;
            json!({
                "queue": queues.list[m.spec.queue].spec.name,
                "invocations": c.invocations,
                "throttled": c.throttled,
                "released_after_throttling": c.released,
                "deliveries": c.deliveries,
                "returned": c.returned,
                "ordering_breaches": c.ordering_breaches,
                "max_receive_count": c.max_receive_count,
            })
        })
        .collect();
    let reconciles: Vec<Value> = finished
        .iter()
        .filter(|f| f.reconcile)
        .map(|f| {
            let calls = |operation: &str| f.calls.get(operation).copied().unwrap_or(0);
            json!({
                "started": f.started.as_secs_f64(),
                "seconds": (f.ended - f.started).as_secs_f64(),
                "timed_out": matches!(f.outcome, Outcome::TimedOut),
                "list": calls("Route53.ListResourceRecordSets"),
                "change": calls("Route53.ChangeResourceRecordSets"),
                "ecs": f.calls.iter().filter(|(op, _)| op.starts_with("ECS.")).map(|(_, n)| n).sum::<u64>(),
            })
        })
        .collect();
    let event_path = |operation: &str| -> u64 {
        finished
            .iter()
            .filter(|f| !f.reconcile)
            .map(|f| f.calls.get(operation).copied().unwrap_or(0))
            .sum()
    };
    // How many ChangeBatches the invocations that wrote anything sent: 1 is the floor.
    let mut change_requests: BTreeMap<u64, usize> = BTreeMap::new();
    for f in finished.iter().filter(|f| !f.reconcile) {
        let sent = f
            .calls
            .get("Route53.ChangeResourceRecordSets")
            .copied()
            .unwrap_or(0);
        if sent > 0 {
            *change_requests.entry(sent).or_default() += 1;
        }
    }
    let ledger = run.shared.route53.ledger.lock().unwrap();
    let sqs = run.shared.sqs.lock().unwrap();
    json!({
        "design": design.name,
        "summary": design.summary,
        "scenario": timeline.name,
        "batching_window_seconds": design.mappings.first().map_or(0, |m| m.window.as_secs()),
        "tasks": timeline.tasks.len(),
        "event_lag_seconds": summary(&lags.event),
        "healthy_lag_seconds": summary(&lags.healthy),
        "gated_event_lag_seconds": summary(&lags.gated_event),
        "changes_never_made": lags.never,
        "published_before_healthy": lags.before_healthy,
        "unexpected_changes": lags.unexpected,
        "unexpected_examples": lags.examples,
        "slowest_changes": lags.slowest.iter().map(|(lag, what)| format!("{lag:.1} s: {what}")).collect::<Vec<_>>(),
        "withdrawn_tasks_answered_again_seconds": summary(&lags.resurrected),
        "running_tasks_not_answered_seconds": summary(&lags.dropped),
        "refusal_examples": rejections(zone).into_iter().take(3).collect::<Vec<_>>(),
        "failure_examples": finished.iter().filter_map(|f| match &f.outcome { Outcome::Failed(why) => Some(why.clone()), _ => None }).take(3).collect::<Vec<_>>(),
        "throttled_invocations": run.mappings.iter().map(|m| m.counts.throttled).sum::<usize>() + run.counts.direct_throttled,
        "max_receive_count": run.mappings.iter().map(|m| m.counts.max_receive_count).max(),
        "dead_lettered": queues.dead.len(),
        "deduplicated_by_fifo": queues.list.iter().map(|q| q.deduplicated).sum::<usize>(),
        "mappings": mappings,
        "invocations": finished.len(),
        "writer_invocations": run.function.started,
        "packer_invocations": run.packer.as_ref().map_or(0, |packer| packer.started),
        "direct_invocations": by_invoker(Invoker::Direct),
        "failed_invocations": failed,
        "timed_out_invocations": timed_out,
        "longest_invocation_seconds": longest,
        "cold_starts": run.function.cold_starts,
        "packer_cold_starts": run.packer.as_ref().map(|packer| packer.cold_starts),
        "route53": {
            "list": count("ListResourceRecordSets"),
            "change": count("ChangeResourceRecordSets"),
            "get_hosted_zone": count("GetHostedZone"),
            "requests": count("ListResourceRecordSets") + count("ChangeResourceRecordSets"),
            "changes_applied": changes,
            "refused": rejections(zone).len(),
            "throttled_by_account_budget": ledger.throttled,
            "event_path_list": event_path("Route53.ListResourceRecordSets"),
            "event_path_change": event_path("Route53.ChangeResourceRecordSets"),
        },
        "reconciles": reconciles,
        "change_requests_per_writing_invocation": change_requests,
        "sqs": {
            "sent": sqs.sent,
            "visibility_changes": sqs.visibility_changes,
            "refused": sqs.refused.len(),
            "refusal_examples": sqs.refused.iter().take(3).collect::<Vec<_>>(),
        },
        "calls": calls_of(run),
        "zone_correct": zone_correct,
        "cut_short": run.counts.cut_short,
        "virtual_seconds": run.counts.ended.as_secs_f64(),
        "wall_seconds": wall.as_secs_f64(),
    })
}
