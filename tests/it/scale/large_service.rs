//! A 5,000-task service (ECS's most per service) published through the SQS path, in two
//! halves: whether it converges within Route 53's quotas (nothing refused, every task
//! answered), what the zone then holds, and, from the sets per task and the per-service
//! overhead measured at both halves, the largest service a zone at the default quota of
//! 10,000 sets can hold.

use std::time::Instant;

use serde_json::{json, Value};

use super::answers::{ServiceNames, ZoneView};
use super::queue::{Delivered, SqsQueue, SQS_BATCH_SIZE};
use super::{
    default_request_rate, ecs_ec2_calls, events, record_figures, rejections, route53_calls,
    seed_apex, task, APEX_SETS, CONTAINER, SQS_FLAGS, ZONE_QUOTA,
};
use crate::simulated::tasks::TaskSpec;

const TASKS: usize = 5_000;
const HOSTS: usize = 50;
const SERVICE: &str = "big";

/// What the zone holds of the service at one moment.
#[derive(Debug, Clone, Copy)]
struct Sample {
    tasks_answered: usize,
    service_sets: usize,
    task_sets: usize,
}

#[tokio::test]
#[ignore = "bench: run by make bench"]
async fn a_five_thousand_task_service() {
    let (zone, account, publisher) = crate::simulated::world(HOSTS, &SQS_FLAGS).await;
    // The quota can be raised; this bench measures how far past the default a service
    // goes (`within_zone_quota` reports it), so its zone has no cap.
    zone.lock().unwrap().max_record_sets = usize::MAX;
    seed_apex(&zone);
    let names = ServiceNames::of(SERVICE, CONTAINER);
    let tasks: Vec<TaskSpec> = (0..TASKS).map(|i| task(SERVICE, 1, i, HOSTS)).collect();
    let calls_at_start = zone.lock().unwrap().calls.len();
    let mut queue = SqsQueue::default();
    let mut halves = Vec::new();
    let mut samples = Vec::new();
    let started = Instant::now();
    for half in tasks.chunks(TASKS / 2) {
        queue.send(events(&account, half, "RUNNING", "RUNNING", 2));
        let delivered: Delivered = queue.deliver(&publisher, |_| {}).await;
        assert!(delivered.settled, "the deliveries settle");
        // The sets the core marks as a task's own; the rest of the subtree is overhead.
        let task_sets = crate::simulated::zone_contents(&zone, &publisher)
            .0
            .iter()
            .filter(|set| set.name.ends_with(&names.a))
            .count();
        let view = ZoneView::of(&zone.lock().unwrap());
        samples.push(Sample {
            tasks_answered: names.answer(&view).tasks(),
            service_sets: view.sets_under(&names.a),
            task_sets,
        });
        halves.push(delivered);
    }
    let seconds = started.elapsed().as_secs_f64();

    let zone = zone.lock().unwrap();
    let refused = rejections(&zone);
    assert!(refused.is_empty(), "Route 53 refuses nothing: {refused:#?}");
    let view = ZoneView::of(&zone);
    let end = names.answer(&view);
    let all: std::collections::BTreeSet<String> =
        tasks.iter().map(|t| names.task_name(&t.task_id)).collect();
    assert!(
        end.srv_targets.is_subset(&all),
        "only the service's tasks are answered"
    );
    assert!(end.tasks() > 0, "the service is answered");
    let task_names = tasks
        .iter()
        .filter(|t| view.holds(&names.task_name(&t.task_id), "A"))
        .count();
    let last = *samples.last().expect("two halves");
    let fit = quota_fit(&samples);
    let calls = route53_calls(&zone, calls_at_start);
    let requests: usize = calls.values().sum();
    let rate = default_request_rate();
    let delivered = &halves[halves.len() - 1];
    let figures = json!({
        "tasks": TASKS,
        "hosts": HOSTS,
        "batch_size": SQS_BATCH_SIZE,
        "halves": halves.iter().map(Delivered::figures).collect::<Vec<_>>(),
        "invocations": halves.iter().map(|h| h.invocations).sum::<usize>(),
        "refused_tasks": delivered.refused_tasks.len(),
        "first_error": halves.iter().find_map(|h| h.first_error.clone()),
        "first_whole_set_error": halves.iter().find_map(|h| h.first_whole_set_error.clone()),
        "rejections": refused.len(),
        "converged": delivered.left == 0 && end.tasks() == TASKS,
        "tasks_answered": end.tasks(),
        "srv_targets": end.srv_targets.len(),
        "a_sets": end.a_leaves,
        "task_names": task_names,
        "zone_sets": view.len(),
        "service_sets": last.service_sets,
        "task_sets": last.task_sets,
        "sets_per_answered_task": (last.tasks_answered > 0)
            .then(|| last.service_sets as f64 / last.tasks_answered as f64),
        "within_zone_quota": view.len() <= ZONE_QUOTA,
        "samples": samples.iter().map(|s| json!({
            "tasks_answered": s.tasks_answered, "service_sets": s.service_sets, "task_sets": s.task_sets,
        })).collect::<Vec<_>>(),
        "fit": fit,
        "list_calls": calls.get("ListResourceRecordSets").copied().unwrap_or(0),
        "change_calls": calls.get("ChangeResourceRecordSets").copied().unwrap_or(0),
        "route53_requests": requests,
        "ecs_ec2_calls": ecs_ec2_calls(&publisher),
        "seconds": seconds,
        "default_request_rate": rate,
        "route53_seconds_at_default_rate": requests as f64 / rate,
    });
    print_summary(&figures);
    record_figures("large_service", &figures);
}

/// Sets per task and per-service overhead, and the largest service a zone at the quota
/// holds beside its SOA and NS. From the two halves when they answer different numbers
/// of tasks (a straight line through both, so an overhead that grows with the service,
/// such as alias tree nodes, counts per task); otherwise from the one state, splitting
/// the service's sets into the tasks' own and the rest.
fn quota_fit(samples: &[Sample]) -> Value {
    let (first, last) = (samples[0], samples[samples.len() - 1]);
    let (per_task, overhead, method) = if last.tasks_answered > first.tasks_answered {
        let per_task = (last.service_sets as f64 - first.service_sets as f64)
            / (last.tasks_answered - first.tasks_answered) as f64;
        let overhead = last.service_sets as f64 - per_task * last.tasks_answered as f64;
        (per_task, overhead, "line through both halves")
    } else if last.tasks_answered > 0 {
        let per_task = last.task_sets as f64 / last.tasks_answered as f64;
        let overhead = (last.service_sets - last.task_sets) as f64;
        (
            per_task,
            overhead,
            "one state: the tasks' own sets and the rest",
        )
    } else {
        return json!(null);
    };
    let room = (ZONE_QUOTA - APEX_SETS) as f64 - overhead;
    json!({
        "sets_per_task": per_task,
        "service_overhead_sets": overhead,
        "method": method,
        "largest_service_in_quota": (room / per_task).floor().max(0.0),
    })
}

fn print_summary(f: &Value) {
    println!(
        "a {}-task service (SQS batches of {}):",
        f["tasks"], f["batch_size"]
    );
    println!(
        "  converged {}: {} tasks answered ({} SRV targets, {} A sets), {} task names, {} refused, {} Route 53 rejections",
        f["converged"], f["tasks_answered"], f["srv_targets"], f["a_sets"], f["task_names"],
        f["refused_tasks"], f["rejections"],
    );
    println!(
        "  zone holds {} sets (within the 10,000 quota: {}), the service {}; fit {}",
        f["zone_sets"], f["within_zone_quota"], f["service_sets"], f["fit"],
    );
    println!(
        "  {} invocations; Route 53 {} List + {} Change = {:.0} s at the default rate; wall {:.1} s; ECS/EC2 {}",
        f["invocations"], f["list_calls"], f["change_calls"],
        f["route53_seconds_at_default_rate"].as_f64().unwrap_or_default(),
        f["seconds"].as_f64().unwrap_or_default(), f["ecs_ec2_calls"],
    );
    if let Some(error) = f["first_error"].as_str() {
        println!("  first refusal: {error}");
    }
}
