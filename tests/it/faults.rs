//! Faults on every side of the publisher, against the strict Route 53 model and the
//! simulated ECS/EC2 account: throttled Route 53, hosts that vanish, EC2 and ECS look-ups
//! that fail. In each case the failing part is named, nothing of it is half-written, and
//! everything else goes through.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::simulated::account::{Failing, Host};
use crate::simulated::tasks::{instance_id, simple_task, Mode, TaskSpec};
use crate::support::strict_zone::{Fault, FaultPlan, StrictZone, SDK_MAX_ATTEMPTS};
use aws_sdk_route53::types::ChangeAction;

/// How many times each record set was created in accepted batches.
fn creations(zone: &Arc<Mutex<StrictZone>>) -> BTreeMap<(String, Option<String>), usize> {
    let mut counts = BTreeMap::new();
    for batch in zone.lock().unwrap().accepted_batches() {
        for change in batch.iter().filter(|c| *c.action() == ChangeAction::Create) {
            let set = change.resource_record_set().unwrap();
            *counts
                .entry((
                    set.name().to_owned(),
                    set.set_identifier().map(str::to_owned),
                ))
                .or_default() += 1;
        }
    }
    counts
}

/// The zone is the foreign records, byte for byte, and the documented layout of `running`.
fn check_documented(
    zone: &Arc<Mutex<StrictZone>>,
    publisher: &ecs_srv::run::deployment::Deployment,
    running: &[&TaskSpec],
    case: &dyn std::fmt::Debug,
) {
    let layout = crate::simulated::layout::Layout::of(&publisher.settings);
    let listed = zone.lock().unwrap().record_sets();
    let foreign = crate::simulated::foreign_records();
    crate::simulated::layout::check_zone(&layout, &listed, &foreign, running)
        .unwrap_or_else(|e| panic!("{case:?}: {e}"));
}

#[tokio::test]
async fn route53_failing_every_second_call_loses_and_doubles_nothing() {
    let plans = [
        FaultPlan::every(2, Fault::Throttling, &[]),
        FaultPlan::every(
            2,
            Fault::PriorRequestNotComplete,
            &["ChangeResourceRecordSets"],
        ),
    ];
    for plan in plans {
        let zone = crate::simulated::empty_zone();
        zone.lock()
            .unwrap()
            .seed(crate::simulated::foreign_records());
        zone.lock().unwrap().page_size = 7;
        zone.lock().unwrap().inject(plan.clone());
        let account = crate::simulated::account_with_hosts(3);
        let modes = [Mode::Bridge, Mode::Host, Mode::Awsvpc];
        let tasks: Vec<TaskSpec> = (0..24)
            .map(|i| simple_task(i, modes[i % 3], ["web", "api"][i % 2], i % 3))
            .collect();
        let publisher = crate::simulated::publisher(&zone, &account).await;
        for chunk in tasks.chunks(5) {
            let refs: Vec<&TaskSpec> = chunk.iter().collect();
            let report = ecs_srv::run::events::process(
                &publisher,
                crate::simulated::inputs(crate::simulated::running_events(&account, &refs)),
            )
            .await;
            assert!(
                !report.has_failures(),
                "{plan:?}: {:?}",
                report
                    .events
                    .iter()
                    .filter_map(|e| e.error.as_ref())
                    .collect::<Vec<_>>()
            );
        }
        let leaving: Vec<&TaskSpec> = tasks.iter().step_by(3).collect();
        let report = ecs_srv::run::events::process(
            &publisher,
            crate::simulated::inputs(crate::simulated::stopped_events(&account, &leaving)),
        )
        .await;
        assert!(!report.has_failures(), "{plan:?}: {report:?}");

        let survivors: Vec<&TaskSpec> = tasks
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 != 0)
            .map(|(_, t)| t)
            .collect();
        let (owned, foreign) = crate::simulated::zone_contents(&zone, &publisher);
        assert_eq!(
            owned,
            crate::simulated::expected_records(&publisher, &survivors),
            "{plan:?}: every change landed"
        );
        assert_eq!(foreign.len(), crate::simulated::foreign_records().len());
        check_documented(&zone, &publisher, &survivors, &plan);
        let zone_state = zone.lock().unwrap();
        assert!(
            zone_state.problems().is_empty(),
            "{plan:?}: a doubled change would be refused: {:?}",
            zone_state.problems()
        );
        let faults = zone_state.faults_met(plan.fault);
        let matching = zone_state
            .calls
            .iter()
            .filter(|c| plan.operations.is_empty() || plan.operations.contains(&c.operation))
            .count();
        assert_eq!(faults, matching / 2, "{plan:?}: every second call failed");
        drop(zone_state);
        assert!(
            creations(&zone).values().all(|n| *n == 1),
            "{plan:?}: no set was created twice"
        );
        eprintln!(
            "faults: {faults} injected {:?}, {} owned sets, nothing lost or doubled",
            plan.fault,
            owned.len()
        );
    }
}

#[tokio::test]
async fn a_vanished_host_fails_only_its_own_task_and_names_the_instance() {
    for gone in [Host::Vanished, Host::Terminated] {
        let zone = crate::simulated::empty_zone();
        let account = crate::simulated::account_with_hosts(2);
        account.lock().unwrap().hosts.insert(instance_id(0), gone);
        let on_dead_host = simple_task(0, Mode::Bridge, "web", 0);
        let elsewhere = simple_task(1, Mode::Bridge, "web", 1);
        let own_address = simple_task(2, Mode::Awsvpc, "web", 0);
        let publisher = crate::simulated::publisher(&zone, &account).await;
        let report = ecs_srv::run::events::process(
            &publisher,
            crate::simulated::inputs(crate::simulated::running_events(
                &account,
                &[&on_dead_host, &elsewhere, &own_address],
            )),
        )
        .await;

        let error = report.events[0]
            .error
            .as_deref()
            .expect("the task on the dead host fails");
        assert!(
            error.contains(&instance_id(0)) && error.contains("DescribeInstances"),
            "{gone:?}: {error}"
        );
        assert!(error.contains("terminated"), "{gone:?}: says why: {error}");
        assert_eq!(report.events[1].error, None);
        assert_eq!(report.events[2].error, None, "awsvpc needs no host address");
        let (owned, _) = crate::simulated::zone_contents(&zone, &publisher);
        assert_eq!(
            owned,
            crate::simulated::expected_records(&publisher, &[&elsewhere, &own_address]),
            "{gone:?}: nothing of the failed task"
        );
        assert_eq!(zone.lock().unwrap().problems(), Vec::<String>::new());
    }
}

#[tokio::test]
async fn describe_instances_failing_fails_its_tasks_until_it_recovers() {
    for failing in [Failing::Denied, Failing::ServerError] {
        let zone = crate::simulated::empty_zone();
        let account = crate::simulated::account_with_hosts(2);
        let bridge = simple_task(0, Mode::Bridge, "web", 0);
        let host = simple_task(1, Mode::Host, "api", 1);
        let awsvpc = simple_task(2, Mode::Awsvpc, "api", 1);
        let publisher = crate::simulated::publisher(&zone, &account).await;
        account
            .lock()
            .unwrap()
            .failing
            .insert("DescribeInstances", failing);
        let events = crate::simulated::running_events(&account, &[&bridge, &host, &awsvpc]);
        let report =
            ecs_srv::run::events::process(&publisher, crate::simulated::inputs(events.clone()))
                .await;
        for (index, host_index) in [(0, 0), (1, 1)] {
            let error = report.events[index]
                .error
                .as_deref()
                .expect("the host address is unknown");
            assert!(
                error.contains("DescribeInstances") && error.contains(&instance_id(host_index)),
                "{failing:?}: {error}"
            );
        }
        assert_eq!(report.events[2].error, None);
        let (owned, _) = crate::simulated::zone_contents(&zone, &publisher);
        assert_eq!(
            owned,
            crate::simulated::expected_records(&publisher, &[&awsvpc]),
            "{failing:?}: nothing half-written"
        );

        account.lock().unwrap().failing.clear();
        let retried =
            ecs_srv::run::events::process(&publisher, crate::simulated::inputs(events)).await;
        assert!(
            !retried.has_failures(),
            "{failing:?}: the redelivered events succeed: {retried:?}"
        );
        let (owned, _) = crate::simulated::zone_contents(&zone, &publisher);
        assert_eq!(
            owned,
            crate::simulated::expected_records(&publisher, &[&bridge, &host, &awsvpc])
        );
        assert_eq!(zone.lock().unwrap().problems(), Vec::<String>::new());
    }
}

#[tokio::test]
async fn ecs_errors_in_the_describe_tasks_guard_fail_the_event_and_publish_nothing() {
    for failing in [Failing::Denied, Failing::ServerError] {
        let zone = crate::simulated::empty_zone();
        let account = crate::simulated::account_with_hosts(1);
        let leaving = simple_task(0, Mode::Bridge, "web", 0);
        let arriving = simple_task(1, Mode::Bridge, "web", 0);
        let publisher = crate::simulated::publisher(&zone, &account).await;
        assert!(!ecs_srv::run::events::process(
            &publisher,
            crate::simulated::inputs(crate::simulated::running_events(&account, &[&leaving]))
        )
        .await
        .has_failures());
        let changes_before = zone.lock().unwrap().accepted_batches().len();

        account
            .lock()
            .unwrap()
            .failing
            .insert("DescribeTasks", failing);
        let mut events = crate::simulated::running_events(&account, &[&arriving]);
        events.extend(crate::simulated::stopped_events(&account, &[&leaving]));
        let report =
            ecs_srv::run::events::process(&publisher, crate::simulated::inputs(events)).await;
        let error = report.events[0]
            .error
            .as_deref()
            .expect("an unconfirmed RUNNING event fails visibly");
        assert!(
            error.contains("could not be confirmed") && error.contains("DescribeTasks"),
            "{failing:?}: {error}"
        );
        assert_eq!(
            report.events[1].error, None,
            "a withdrawal needs no confirmation"
        );
        assert_eq!(
            report.retryable_sources(),
            vec!["event:0"],
            "SQS redelivers just that message"
        );

        let zone_state = zone.lock().unwrap();
        let created_since: usize = zone_state.accepted_batches()[changes_before..]
            .iter()
            .flat_map(|b| b.iter())
            .filter(|c| *c.action() == ChangeAction::Create)
            .count();
        assert_eq!(
            created_since, 0,
            "{failing:?}: nothing published unconfirmed"
        );
        drop(zone_state);
        let (owned, _) = crate::simulated::zone_contents(&zone, &publisher);
        assert!(
            owned.is_empty(),
            "{failing:?}: the stopped task is gone, the unconfirmed one never came: {owned:?}"
        );
    }
}

#[tokio::test]
async fn a_failing_task_definition_look_up_names_the_definition_and_spares_the_others() {
    let zone = crate::simulated::empty_zone();
    let account = crate::simulated::account_with_hosts(1);
    let unknown = simple_task(0, Mode::Bridge, "web", 0);
    let fine = simple_task(1, Mode::Bridge, "web", 0);
    let publisher = crate::simulated::publisher(&zone, &account).await;
    let events = crate::simulated::running_events(&account, &[&unknown, &fine]);
    account
        .lock()
        .unwrap()
        .task_definitions
        .remove(&unknown.definition_arn());
    let report = ecs_srv::run::events::process(&publisher, crate::simulated::inputs(events)).await;
    let error = report.events[0]
        .error
        .as_deref()
        .expect("no definition, no records");
    assert!(
        error.contains("DescribeTaskDefinition") && error.contains(&unknown.definition_arn()),
        "{error}"
    );
    assert_eq!(report.events[1].error, None);
    let (owned, _) = crate::simulated::zone_contents(&zone, &publisher);
    assert_eq!(
        owned,
        crate::simulated::expected_records(&publisher, &[&fine])
    );
}

/// Route 53 failing for longer than the SDK's retry budget, on the writes and on the
/// reads, with either transient error: the events whose batch met it fail as retryable,
/// the zone holds exactly the records of the events that succeeded (a task is never half
/// written), and delivering the same events again, once the fault has cleared, converges.
#[tokio::test]
async fn route53_failing_past_the_retry_budget_is_retryable_and_leaves_nothing_half_done() {
    let operations = ["ChangeResourceRecordSets", "ListResourceRecordSets"];
    let faults = [Fault::Throttling, Fault::PriorRequestNotComplete];
    for (operation, fault) in operations.into_iter().flat_map(|o| faults.map(|f| (o, f))) {
        let case = format!("{fault:?} on {operation}");
        let zone = crate::simulated::empty_zone();
        zone.lock()
            .unwrap()
            .seed(crate::simulated::foreign_records());
        let account = crate::simulated::account_with_hosts(3);
        let modes = [Mode::Bridge, Mode::Host, Mode::Awsvpc];
        let tasks: Vec<TaskSpec> = (0..6)
            .map(|i| simple_task(i, modes[i % 3], ["web", "api"][i % 2], i % 3))
            .collect();
        let refs: Vec<&TaskSpec> = tasks.iter().collect();
        let publisher = crate::simulated::publisher(&zone, &account).await;
        zone.lock()
            .unwrap()
            .inject(FaultPlan::past_retry_budget(fault, &[operation]));
        let events = crate::simulated::running_events(&account, &refs);
        let report =
            ecs_srv::run::events::process(&publisher, crate::simulated::inputs(events.clone()))
                .await;
        let failed = report.retryable_sources();
        assert!(
            !failed.is_empty(),
            "{case}: the fault reached the core: {report:?}"
        );
        assert_eq!(
            report.permanent_failures().count(),
            0,
            "{case}: a transient fault is never reported as permanent: {report:?}"
        );
        let landed: Vec<&TaskSpec> = tasks
            .iter()
            .enumerate()
            .filter(|(index, _)| !failed.contains(&format!("event:{index}").as_str()))
            .map(|(_, task)| task)
            .collect();
        let (owned, foreign) = crate::simulated::zone_contents(&zone, &publisher);
        assert_eq!(
            owned,
            crate::simulated::expected_records(&publisher, &landed),
            "{case}: exactly the tasks whose events succeeded, each whole"
        );
        assert_eq!(foreign.len(), crate::simulated::foreign_records().len());
        check_documented(&zone, &publisher, &landed, &case);

        let met = zone.lock().unwrap().faults_met(fault);
        assert!(
            met > 0 && met.is_multiple_of(SDK_MAX_ATTEMPTS as usize),
            "{case}: each call met the fault on every attempt ({met} faults)"
        );
        zone.lock().unwrap().clear_faults();
        let again =
            ecs_srv::run::events::process(&publisher, crate::simulated::inputs(events)).await;
        assert!(!again.has_failures(), "{case}: delivered again: {again:?}");
        let (owned, _) = crate::simulated::zone_contents(&zone, &publisher);
        assert_eq!(
            owned,
            crate::simulated::expected_records(&publisher, &refs),
            "{case}: every task once the fault has cleared"
        );
        assert_eq!(
            zone.lock().unwrap().problems(),
            Vec::<String>::new(),
            "{case}"
        );
        assert_eq!(
            zone.lock().unwrap().faults_met(fault),
            met,
            "{case}: no fault after it cleared"
        );
    }
}
