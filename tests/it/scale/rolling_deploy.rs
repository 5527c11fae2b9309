//! A rolling deploy of a 1,000-task service through the SQS path: 1,000 tasks run and are
//! published; 1,000 new ones start while the old run; the old ones drain (desiredStatus
//! STOPPED) and stop. After every accepted ChangeBatch the service's names are resolved,
//! so the figures show the fewest tasks clients could reach at any moment of the deploy
//! (the goal: never below 1,000), what each event cost in Route 53 requests, and what
//! the names answer with in the end.

use std::time::Instant;

use serde_json::{json, Value};

use super::answers::{ServiceNames, ZoneView};
use super::queue::{SqsQueue, SQS_BATCH_SIZE};
use super::{
    default_request_rate, ecs_ec2_calls, events, record_figures, rejections, route53_calls,
    seed_apex, task, CONTAINER, SQS_FLAGS,
};
use crate::simulated::tasks::TaskSpec;

const TASKS: usize = 1_000;
const HOSTS: usize = 50;
const SERVICE: &str = "web";

/// One step of the deploy: which tasks ECS moves to which state.
struct Phase {
    label: &'static str,
    old: bool,
    last_status: &'static str,
    desired_status: &'static str,
    version: u64,
}

const PHASES: [Phase; 4] = [
    Phase {
        label: "publish 1,000 tasks",
        old: true,
        last_status: "RUNNING",
        desired_status: "RUNNING",
        version: 2,
    },
    Phase {
        label: "1,000 new tasks start",
        old: false,
        last_status: "RUNNING",
        desired_status: "RUNNING",
        version: 2,
    },
    Phase {
        label: "the old tasks drain",
        old: true,
        last_status: "RUNNING",
        desired_status: "STOPPED",
        version: 3,
    },
    Phase {
        label: "the old tasks stop",
        old: true,
        last_status: "STOPPED",
        desired_status: "STOPPED",
        version: 4,
    },
];

#[tokio::test]
#[ignore = "bench: run by make bench"]
async fn a_rolling_deploy_of_a_thousand_task_service() {
    let (zone, account, publisher) = crate::simulated::world(HOSTS, &SQS_FLAGS).await;
    seed_apex(&zone);
    let names = ServiceNames::of(SERVICE, CONTAINER);
    let old: Vec<TaskSpec> = (0..TASKS).map(|i| task(SERVICE, 1, i, HOSTS)).collect();
    let new: Vec<TaskSpec> = (TASKS..2 * TASKS)
        .map(|i| task(SERVICE, 2, i, HOSTS))
        .collect();
    let mut view = ZoneView::of(&zone.lock().unwrap());
    let calls_at_start = zone.lock().unwrap().calls.len();
    let mut queue = SqsQueue::default();
    let mut phases = Vec::new();
    // The fewest tasks answered from the moment the first 1,000 were published on.
    let mut deploy_min = usize::MAX;
    let started = Instant::now();
    for phase in &PHASES {
        let tasks = if phase.old { &old } else { &new };
        let calls_before = zone.lock().unwrap().calls.len();
        let phase_started = Instant::now();
        queue.send(events(
            &account,
            tasks,
            phase.last_status,
            phase.desired_status,
            phase.version,
        ));
        let mut phase_min = usize::MAX;
        let mut batches = 0;
        let delivered = queue
            .deliver(&publisher, |_| {
                batches += view.follow(&zone.lock().unwrap(), |now| {
                    phase_min = phase_min.min(names.answer(now).tasks());
                });
            })
            .await;
        let held = names.answer(&view);
        if !std::ptr::eq(phase, &PHASES[0]) {
            deploy_min = deploy_min.min(phase_min);
        }
        deploy_min = deploy_min.min(held.tasks());
        let zone = zone.lock().unwrap();
        assert!(delivered.settled, "{}: the deliveries settle", phase.label);
        assert!(
            view.matches(&zone),
            "{}: the view built from the accepted batches is the zone",
            phase.label
        );
        let calls = route53_calls(&zone, calls_before);
        phases.push(json!({
            "label": phase.label,
            "events": tasks.len(),
            "delivery": delivered.figures(),
            "change_batches_accepted": batches,
            "list_calls": calls.get("ListResourceRecordSets").copied().unwrap_or(0),
            "change_calls": calls.get("ChangeResourceRecordSets").copied().unwrap_or(0),
            "min_tasks_answered": (phase_min != usize::MAX).then_some(phase_min),
            "tasks_answered_after": held.tasks(),
            "srv_targets_after": held.srv_targets.len(),
            "a_sets_after": held.a_leaves,
            "zone_sets_after": view.len(),
            "seconds": phase_started.elapsed().as_secs_f64(),
        }));
    }
    let seconds = started.elapsed().as_secs_f64();

    let zone = zone.lock().unwrap();
    let refused = rejections(&zone);
    assert!(refused.is_empty(), "Route 53 refuses nothing: {refused:#?}");
    let end = names.answer(&ZoneView::of(&zone));
    let running: std::collections::BTreeSet<String> =
        new.iter().map(|t| names.task_name(&t.task_id)).collect();
    let stale: Vec<&String> = end.srv_targets.difference(&running).collect();
    assert!(stale.is_empty(), "no stopped task is answered: {stale:?}");
    assert!(end.tasks() > 0, "the new tasks are answered");
    let old_names_left = old
        .iter()
        .filter(|t| view.holds(&names.task_name(&t.task_id), "A"))
        .count();
    assert_eq!(old_names_left, 0, "every stopped task is withdrawn");
    let new_names = new
        .iter()
        .filter(|t| view.holds(&names.task_name(&t.task_id), "A"))
        .count();

    let calls = route53_calls(&zone, calls_at_start);
    let list = calls.get("ListResourceRecordSets").copied().unwrap_or(0);
    let change = calls.get("ChangeResourceRecordSets").copied().unwrap_or(0);
    let requests: usize = calls.values().sum();
    let rate = default_request_rate();
    let event_count = 4 * TASKS;
    let figures = json!({
        "tasks": TASKS,
        "hosts": HOSTS,
        "batch_size": SQS_BATCH_SIZE,
        "events": event_count,
        "phases": phases,
        "list_calls": list,
        "change_calls": change,
        "route53_requests": requests,
        "list_per_event": list as f64 / event_count as f64,
        "change_per_event": change as f64 / event_count as f64,
        "rejections": refused.len(),
        "ecs_ec2_calls": ecs_ec2_calls(&publisher),
        "seconds": seconds,
        "default_request_rate": rate,
        "route53_seconds_at_default_rate": requests as f64 / rate,
        "min_tasks_answered_during_deploy": deploy_min,
        "tasks_running_at_end": new.len(),
        "tasks_answered_at_end": end.tasks(),
        "srv_targets_at_end": end.srv_targets.len(),
        "a_sets_at_end": end.a_leaves,
        "task_names_at_end": new_names,
        "zone_sets_at_end": view.len(),
    });
    print_summary(&figures);
    record_figures("rolling_deploy", &figures);
}

fn print_summary(f: &Value) {
    println!(
        "rolling deploy of a {}-task service (SQS batches of {}):",
        f["tasks"], f["batch_size"]
    );
    for phase in f["phases"].as_array().into_iter().flatten() {
        println!(
            "  {:<24} invocations {:>5}  failed deliveries {:>5}  refused tasks {:>5}  List {:>4}  Change {:>4}  answered after {:>5} (fewest during {})",
            phase["label"].as_str().unwrap_or_default(),
            phase["delivery"]["invocations"],
            phase["delivery"]["failed_deliveries"],
            phase["delivery"]["refused_tasks"],
            phase["list_calls"],
            phase["change_calls"],
            phase["tasks_answered_after"],
            phase["min_tasks_answered"],
        );
    }
    println!(
        "  Route 53: {} List + {} Change ({:.3} / {:.3} per event), {} requests = {:.0} s at the default {} requests/s; wall {:.1} s",
        f["list_calls"],
        f["change_calls"],
        f["list_per_event"].as_f64().unwrap_or_default(),
        f["change_per_event"].as_f64().unwrap_or_default(),
        f["route53_requests"],
        f["route53_seconds_at_default_rate"].as_f64().unwrap_or_default(),
        f["default_request_rate"],
        f["seconds"].as_f64().unwrap_or_default(),
    );
    println!("  ECS/EC2: {}", f["ecs_ec2_calls"]);
    println!(
        "  fewest tasks answered during the deploy: {} (goal: {}); at the end {} answered of {} running, {} task names",
        f["min_tasks_answered_during_deploy"],
        f["tasks"],
        f["tasks_answered_at_end"],
        f["tasks_running_at_end"],
        f["task_names_at_end"],
    );
}
