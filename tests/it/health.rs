//! The health gate against canned DescribeTasks answers (moto always reports HEALTHY): a
//! task with health checks is published once ECS reports it HEALTHY, on the re-check that a
//! redelivered event is; UNHEALTHY withdraws it and recovery brings it back; re-checks are
//! one DescribeTasks per cluster per invocation and stop when the task stops; a rolling
//! deploy never leaves the service name empty.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_ecs::types::{HealthCheck, HealthStatus};
use ecs_srv::plan::records::{RecordSet, RecordType};
use ecs_srv::run::deployment::Deployment;
use ecs_srv::run::report::{Decision, InvocationReport};
use serde_json::Value;

use crate::simulated::account::Account;
use crate::simulated::tasks::{simple_task, Mode, TaskSpec};
use crate::simulated::{self as sim, expected_records, inputs, set_task, zone_contents};
use crate::support::strict_zone::StrictZone;

type Zone = Arc<Mutex<StrictZone>>;
type World = Arc<Mutex<Account>>;

/// Gives every container of the task's definition a health check: 10 s interval,
/// 2 retries, 30 s start period, so its health settles within 50 s of `startedAt`.
pub(crate) fn add_health_check(account: &World, task: &TaskSpec) {
    let mut world = account.lock().unwrap();
    let definition = world
        .task_definitions
        .get_mut(&task.definition_arn())
        .expect("set_task registered it");
    for container in definition.container_definitions.iter_mut().flatten() {
        container.health_check = Some(
            HealthCheck::builder()
                .command("CMD-SHELL")
                .command("curl -f http://localhost:8080/ || exit 1")
                .interval(10)
                .retries(2)
                .start_period(30)
                .build()
                .expect("a command is set"),
        );
    }
}

/// What DescribeTasks reports of the task's health from now on, for the task and each
/// container, with `startedAt` `started_ago` before now.
pub(crate) fn report_health(
    account: &World,
    task: &TaskSpec,
    status: HealthStatus,
    started_ago: Duration,
) {
    let mut world = account.lock().unwrap();
    let described = world
        .details
        .get_mut(&task.task_arn())
        .expect("set_task described it");
    described.health_status = Some(status.clone());
    described.started_at = Some((SystemTime::now() - started_ago).into());
    for container in described.containers.iter_mut().flatten() {
        container.health_status = Some(status.clone());
    }
}

/// ECS runs the task (version 2) with health checks, reporting `status`; returns its
/// RUNNING event.
fn running_with_health(account: &World, task: &TaskSpec, status: HealthStatus) -> Value {
    set_task(account, task, "RUNNING", "RUNNING", 2);
    add_health_check(account, task);
    report_health(account, task, status, Duration::from_secs(5));
    task.event("RUNNING", "RUNNING", 2)
}

fn awsvpc_task(index: usize) -> TaskSpec {
    simple_task(index, Mode::Awsvpc, "web", 0)
}

fn owned(zone: &Zone, publisher: &Deployment) -> Vec<RecordSet> {
    zone_contents(zone, publisher).0
}

/// The A values at the service name `web.Z`: what a client of the service can reach.
fn service_addresses(zone: &Zone, publisher: &Deployment) -> Vec<String> {
    let name = format!("web.{}", sim::APEX);
    owned(zone, publisher)
        .into_iter()
        .filter(|set| set.name == name && set.record_type == RecordType::A)
        .flat_map(|set| set.values)
        .collect()
}

fn describe_calls(report: &InvocationReport) -> u64 {
    report
        .api_calls
        .get("ECS.DescribeTasks")
        .copied()
        .unwrap_or(0)
}

/// Delivers `event` and checks that it left exactly `task`'s records in the zone.
async fn assert_publishes(zone: &Zone, publisher: &Deployment, task: &TaskSpec, event: Value) {
    let report = ecs_srv::run::events::process(publisher, inputs([event])).await;
    assert!(!report.has_failures(), "{report:?}");
    assert_eq!(owned(zone, publisher), expected_records(publisher, &[task]));
}

#[tokio::test]
async fn unknown_then_healthy_publishes_on_the_re_check() {
    let (zone, account, publisher) = sim::world(1, &[]).await;
    let task = awsvpc_task(1);
    let event = running_with_health(&account, &task, HealthStatus::UnknownValue);

    let first = ecs_srv::run::events::process(&publisher, inputs([event.clone()])).await;
    let error = first.events[0].error.as_deref().expect("held back");
    assert!(error.contains("health is UNKNOWN"), "{error}");
    assert!(
        first.events[0].retryable,
        "the event comes back: the re-check"
    );
    assert_eq!(
        owned(&zone, &publisher),
        Vec::new(),
        "nothing before HEALTHY"
    );

    report_health(
        &account,
        &task,
        HealthStatus::Healthy,
        Duration::from_secs(25),
    );
    assert_publishes(&zone, &publisher, &task, event).await;
}

#[tokio::test]
async fn a_task_without_health_checks_publishes_at_once() {
    let (zone, account, publisher) = sim::world(1, &[]).await;
    let task = awsvpc_task(2);
    set_task(&account, &task, "RUNNING", "RUNNING", 2);
    report_health(&account, &task, HealthStatus::UnknownValue, Duration::ZERO);

    let event = task.event("RUNNING", "RUNNING", 2);
    assert_publishes(&zone, &publisher, &task, event).await;
}

#[tokio::test]
async fn the_gate_off_publishes_at_running() {
    let (zone, account, publisher) = sim::world(1, &["--health-gate", "off"]).await;
    let task = awsvpc_task(3);
    let event = running_with_health(&account, &task, HealthStatus::UnknownValue);

    assert_publishes(&zone, &publisher, &task, event).await;
}

#[tokio::test]
async fn unhealthy_withdraws_on_the_re_check_and_the_reconcile_and_recovery_republishes() {
    let (zone, account, publisher) = sim::world(1, &[]).await;
    let task = awsvpc_task(4);
    let event = running_with_health(&account, &task, HealthStatus::Healthy);
    assert!(
        !ecs_srv::run::events::process(&publisher, inputs([event.clone()]))
            .await
            .has_failures()
    );
    let published = expected_records(&publisher, &[&task]);
    assert_eq!(owned(&zone, &publisher), published);

    // A redelivered event finds it UNHEALTHY: withdrawn, and the event is done.
    report_health(
        &account,
        &task,
        HealthStatus::Unhealthy,
        Duration::from_secs(40),
    );
    let recheck = ecs_srv::run::events::process(&publisher, inputs([event])).await;
    assert!(!recheck.has_failures(), "{recheck:?}");
    assert_eq!(recheck.events[0].decision, Decision::Withdraw);
    assert_eq!(owned(&zone, &publisher), Vec::new());

    // The reconcile keeps it out while UNHEALTHY, brings it back when it recovers, and
    // withdraws it again.
    let world = (&zone, &account, &publisher);
    assert_eq!(
        reconcile_at(world, &task, HealthStatus::Unhealthy).await,
        []
    );
    assert_eq!(
        reconcile_at(world, &task, HealthStatus::Healthy).await,
        published
    );
    assert_eq!(
        reconcile_at(world, &task, HealthStatus::Unhealthy).await,
        []
    );
}

/// ECS reports `status` for the task from now on, a reconcile runs without failures, and
/// the owned sets it leaves are returned.
async fn reconcile_at(
    (zone, account, publisher): (&Zone, &World, &Deployment),
    task: &TaskSpec,
    status: HealthStatus,
) -> Vec<RecordSet> {
    report_health(account, task, status, Duration::from_secs(60));
    let report =
        ecs_srv::run::reconcile::reconcile(publisher, ecs_srv::run::deployment::Mode::Write)
            .await
            .unwrap();
    assert!(
        report.failures.is_empty(),
        "nothing is a failure: {report:?}"
    );
    owned(zone, publisher)
}

#[tokio::test]
async fn a_standalone_task_is_gated_too() {
    let (zone, account, publisher) = sim::world(1, &[]).await;
    // A `run-task` of family `web`: no service will replace it when it fails.
    let mut task = awsvpc_task(5);
    task.one_off = true;
    running_with_health(&account, &task, HealthStatus::UnknownValue);

    let world = (&zone, &account, &publisher);
    let waiting = HealthStatus::UnknownValue;
    assert_eq!(reconcile_at(world, &task, waiting).await, [], "not yet");
    let report =
        ecs_srv::run::reconcile::reconcile(&publisher, ecs_srv::run::deployment::Mode::DryRun)
            .await
            .unwrap();
    assert!(
        report.awaiting_health.contains_key(&task.task_id),
        "the dry run says why: {report:?}"
    );
    // A one-off task's shared names carry the standalone kinds (`osvc`, `osrv`).
    let published = expected_records(&publisher, &[&task]);
    let kinds = |kind: &str| {
        published.iter().any(|set| {
            set.routing
                .set_identifier()
                .is_some_and(|id| id.contains(kind))
        })
    };
    assert!(kinds(":osvc:") && kinds(":osrv:"), "{published:?}");
    assert_eq!(
        reconcile_at(world, &task, HealthStatus::Healthy).await,
        published
    );
    assert_eq!(
        reconcile_at(world, &task, HealthStatus::Unhealthy).await,
        []
    );
}

#[tokio::test]
async fn re_checks_batch_the_pending_tasks_and_stop_when_a_task_stops() {
    let (zone, account, publisher) = sim::world(1, &[]).await;
    let tasks: Vec<TaskSpec> = (10..13).map(awsvpc_task).collect();
    let events: Vec<Value> = tasks
        .iter()
        .map(|task| running_with_health(&account, task, HealthStatus::UnknownValue))
        .collect();

    // Each delivery of the three pending events is one DescribeTasks for all of them.
    for _ in 0..3 {
        let report = ecs_srv::run::events::process(&publisher, inputs(events.clone())).await;
        assert_eq!(describe_calls(&report), 1, "{:?}", report.api_calls);
        assert_eq!(report.retryable_sources().len(), 3);
    }

    // Task 10 stops: its re-check withdraws and lets the event go; the others wait on.
    set_task(&account, &tasks[0], "STOPPED", "STOPPED", 4);
    let report = ecs_srv::run::events::process(&publisher, inputs(events.clone())).await;
    assert_eq!(describe_calls(&report), 1);
    assert_eq!(report.events[0].decision, Decision::Withdraw);
    assert_eq!(report.events[0].error, None);
    assert_eq!(report.retryable_sources(), vec!["event:1", "event:2"]);

    // The other two turn HEALTHY: published, their events done.
    for task in &tasks[1..] {
        report_health(
            &account,
            task,
            HealthStatus::Healthy,
            Duration::from_secs(30),
        );
    }
    let report = ecs_srv::run::events::process(&publisher, inputs(events[1..].to_vec())).await;
    assert!(!report.has_failures(), "{report:?}");
    assert_eq!(
        describe_calls(&report),
        2,
        "the confirmation and the check after the write, for both tasks together"
    );
    let running: Vec<&TaskSpec> = tasks[1..].iter().collect();
    assert_eq!(
        owned(&zone, &publisher),
        expected_records(&publisher, &running)
    );
}

#[tokio::test]
async fn re_checks_stop_once_the_health_checks_should_have_settled() {
    let (zone, account, publisher) = sim::world(1, &[]).await;
    let task = awsvpc_task(6);
    let event = running_with_health(&account, &task, HealthStatus::UnknownValue);
    // Started 51 s ago; the checks settle within 30 + 10 × 2 = 50 s.
    report_health(
        &account,
        &task,
        HealthStatus::UnknownValue,
        Duration::from_secs(51),
    );

    let report = ecs_srv::run::events::process(&publisher, inputs([event])).await;
    let error = report.events[0].error.as_deref().expect("not published");
    assert!(error.contains("re-checks stop"), "{error}");
    assert!(!report.events[0].retryable, "the event is let go");
    assert_eq!(owned(&zone, &publisher), Vec::new());
}

#[tokio::test]
async fn a_rolling_deploy_keeps_the_service_name_answering() {
    let (zone, account, publisher) = sim::world(2, &[]).await;
    let old = simple_task(20, Mode::Bridge, "web", 0);
    let new = simple_task(21, Mode::Bridge, "web", 1);
    let old_event = running_with_health(&account, &old, HealthStatus::Healthy);
    assert!(
        !ecs_srv::run::events::process(&publisher, inputs([old_event]))
            .await
            .has_failures()
    );
    let old_address = sim::tasks::host_address(0).to_string();
    let new_address = sim::tasks::host_address(1).to_string();
    assert_eq!(
        service_addresses(&zone, &publisher),
        vec![old_address.clone()]
    );

    // The new task runs but is not healthy yet: the old one keeps the name.
    let new_event = running_with_health(&account, &new, HealthStatus::UnknownValue);
    let report = ecs_srv::run::events::process(&publisher, inputs([new_event.clone()])).await;
    assert!(report.events[0].retryable);
    assert_eq!(
        service_addresses(&zone, &publisher),
        vec![old_address.clone()]
    );

    // Healthy on its re-check: both answer.
    report_health(
        &account,
        &new,
        HealthStatus::Healthy,
        Duration::from_secs(30),
    );
    assert!(
        !ecs_srv::run::events::process(&publisher, inputs([new_event]))
            .await
            .has_failures()
    );
    let mut both = service_addresses(&zone, &publisher);
    both.sort();
    assert_eq!(both, vec![old_address, new_address.clone()]);

    // ECS drains the old task only now (desired STOPPED): the new one answers alone.
    set_task(&account, &old, "RUNNING", "STOPPED", 3);
    let drain =
        ecs_srv::run::events::process(&publisher, inputs([old.event("RUNNING", "STOPPED", 3)]))
            .await;
    assert!(!drain.has_failures(), "{drain:?}");
    assert_eq!(service_addresses(&zone, &publisher), vec![new_address]);
    assert_eq!(
        owned(&zone, &publisher),
        expected_records(&publisher, &[&new])
    );
}
