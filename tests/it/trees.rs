//! Services past Route 53's 100 sets per name, through the publisher and the strict model:
//! every task is answered through a tree of weighted aliases, with the weight it would
//! have on one flat name, a rolling deploy never leaves fewer tasks in the name than ran
//! before it, and a service that drains leaves nothing behind.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use aws_sdk_route53::types::ResourceRecordSet;

use crate::simulated::account::Account;
use crate::simulated::tasks::{simple_task, Mode, TaskSpec};
use crate::simulated::{
    inputs, running_events, stopped_events, world, zone_contents, APEX, ZONE_ID,
};
use crate::support::answers::answer_shares;
use crate::support::strict_zone::StrictZone;
use ecs_srv::run::deployment::Deployment;
use ecs_srv::run::events::process;

mod deploys;

/// The SQS path's default batch (template.yaml, SqsBatchSize).
const SQS_BATCH: usize = 10;

fn service(range: std::ops::Range<usize>) -> Vec<TaskSpec> {
    range
        .map(|index| simple_task(index, Mode::Awsvpc, "web", 0))
        .collect()
}

/// Delivers events in SQS-sized invocations; every event must succeed.
async fn deliver(publisher: &Deployment, events: Vec<serde_json::Value>) {
    for chunk in events.chunks(SQS_BATCH) {
        let report = process(publisher, inputs(chunk.to_vec())).await;
        let failed: Vec<_> = report
            .events
            .iter()
            .filter_map(|e| e.error.clone())
            .collect();
        assert!(failed.is_empty(), "every event goes through: {failed:?}");
    }
}

/// The task ids a query for the service's A name and its SRV name can be answered with.
fn answered_tasks(sets: &[ResourceRecordSet]) -> (BTreeSet<String>, BTreeSet<String>) {
    let addresses: BTreeSet<String> = answer_shares(ZONE_ID, sets, &format!("web.{APEX}"), "A")
        .into_keys()
        .collect();
    let targets: BTreeSet<String> =
        answer_shares(ZONE_ID, sets, &format!("_app._tcp.web.{APEX}"), "SRV")
            .into_keys()
            .map(|value| value.split(' ').nth(3).unwrap_or_default().to_owned())
            .collect();
    (addresses, targets)
}

/// The fewest tasks both service names answered with at any of these moments.
fn fewest_answered(states: &[Vec<ResourceRecordSet>]) -> usize {
    states
        .iter()
        .map(|state| {
            let (addresses, targets) = answered_tasks(state);
            addresses.len().min(targets.len())
        })
        .min()
        .unwrap_or(0)
}

fn task_target(task: &TaskSpec) -> String {
    format!("{}.web.{APEX}", task.task_id)
}

fn check_quotas(zone: &Arc<Mutex<StrictZone>>) {
    let zone = zone.lock().unwrap();
    assert!(
        zone.problems().is_empty(),
        "the strict model refused a batch, or ecs-srv broke its own layout: {:?}",
        zone.problems().first()
    );
}

/// The zone is the documented layout of `tasks` for the publisher's settings.
fn check_documented(zone: &Arc<Mutex<StrictZone>>, publisher: &Deployment, tasks: &[TaskSpec]) {
    let layout = crate::simulated::layout::Layout::of(&publisher.settings);
    let running: Vec<&TaskSpec> = tasks.iter().collect();
    let listed = zone.lock().unwrap().record_sets();
    crate::simulated::layout::check_zone(&layout, &listed, &[], &running)
        .unwrap_or_else(|e| panic!("{e}"));
}

fn running(account: &Arc<Mutex<Account>>, tasks: &[TaskSpec]) -> Vec<serde_json::Value> {
    running_events(account, &tasks.iter().collect::<Vec<_>>())
}

#[tokio::test]
async fn a_service_of_250_tasks_is_answered_whole_with_flat_weights() {
    let (zone, account, publisher) = world(1, &["--srv-sets", "off"]).await;
    let tasks = service(0..250);
    deliver(&publisher, running(&account, &tasks)).await;
    check_quotas(&zone);

    let sets = zone.lock().unwrap().record_sets();
    let shares = answer_shares(ZONE_ID, &sets, &format!("_app._tcp.web.{APEX}"), "SRV");
    assert_eq!(shares.len(), 250, "every task is an answer of the SRV name");
    let (lowest, highest) = shares
        .values()
        .fold((f64::MAX, 0.0f64), |(lo, hi), s| (lo.min(*s), hi.max(*s)));
    assert!(
        (lowest - 1.0 / 250.0).abs() < 1e-9 && (highest - 1.0 / 250.0).abs() < 1e-9,
        "equal tasks are drawn equally through the tree: {lowest}..{highest}"
    );
    let (addresses, _) = answered_tasks(&sets);
    assert_eq!(addresses.len(), 250, "and every address from the A name");
    let aliases = sets.iter().filter(|s| s.alias_target().is_some()).count();
    assert_eq!(aliases, 6, "three branches for each of the A and SRV names");

    check_documented(&zone, &publisher, &tasks);
}

/// A weight label of 0 keeps a task's records in its branch of the tree, and Route 53 never
/// answers it while its neighbours weigh more: every other task keeps its share.
#[tokio::test]
async fn a_task_of_weight_zero_stays_in_its_tree_and_is_never_answered() {
    let (zone, account, publisher) = world(1, &["--srv-sets", "off"]).await;
    let mut tasks = service(0..150);
    tasks[7].containers[0].weight = Some(0);
    deliver(&publisher, running(&account, &tasks)).await;
    check_quotas(&zone);
    let sets = zone.lock().unwrap().record_sets();
    let (owned, _) = zone_contents(&zone, &publisher);
    assert_eq!(
        owned,
        crate::simulated::expected_records(&publisher, &tasks.iter().collect::<Vec<_>>()),
        "the weight-0 task's records are written like the others'"
    );
    let shares = answer_shares(ZONE_ID, &sets, &format!("_app._tcp.web.{APEX}"), "SRV");
    let answered: BTreeSet<String> = shares
        .keys()
        .map(|value| value.split(' ').nth(3).unwrap_or_default().to_owned())
        .collect();
    assert_eq!(answered.len(), 149, "every task but the weight-0 one");
    assert!(!answered.contains(&task_target(&tasks[7])));
    let total: f64 = shares.values().sum();
    assert!((total - 1.0).abs() < 1e-9, "one pick per query: {total}");
}

#[tokio::test]
async fn a_rolling_deploy_of_150_tasks_never_answers_with_fewer() {
    let (zone, account, publisher) = world(1, &["--srv-sets", "off"]).await;
    let old = service(0..150);
    let new = service(1000..1150);
    deliver(&publisher, running(&account, &old)).await;
    let (start, since) = {
        let zone = zone.lock().unwrap();
        (zone.record_sets(), zone.calls.len())
    };

    deliver(&publisher, running(&account, &new)).await;
    let draining: Vec<serde_json::Value> = old
        .iter()
        .map(|task| {
            crate::simulated::set_task(&account, task, "RUNNING", "STOPPED", 3);
            task.event("RUNNING", "STOPPED", 3)
        })
        .collect();
    deliver(&publisher, draining).await;
    deliver(
        &publisher,
        stopped_events(&account, &old.iter().collect::<Vec<_>>()),
    )
    .await;
    check_quotas(&zone);

    let states = zone.lock().unwrap().states_since(&start, since);
    assert!(
        states.len() > 20,
        "the deploy took many batches: {}",
        states.len()
    );
    let smallest = fewest_answered(&states);
    assert!(
        smallest >= 150,
        "at every moment the names answered with at least the 150 tasks that ran before: {smallest}"
    );
    let (_, targets) = answered_tasks(&zone.lock().unwrap().record_sets());
    let wanted: BTreeSet<String> = new.iter().map(task_target).collect();
    assert_eq!(
        targets, wanted,
        "the new tasks, and only they, are answered"
    );
    check_documented(&zone, &publisher, &new);
}

#[tokio::test]
async fn a_drained_tree_leaves_nothing_behind_and_the_name_starts_flat_again() {
    let (zone, account, publisher) = world(1, &["--srv-sets", "on"]).await;
    let tasks = service(0..130);
    deliver(&publisher, running(&account, &tasks)).await;
    deliver(
        &publisher,
        stopped_events(&account, &tasks.iter().collect::<Vec<_>>()),
    )
    .await;
    check_quotas(&zone);
    assert!(
        zone.lock().unwrap().record_sets().is_empty(),
        "no alias, branch or whole set is left: {:?}",
        zone.lock().unwrap().record_sets()
    );

    let again = service(500..503);
    deliver(&publisher, running(&account, &again)).await;
    let sets = zone.lock().unwrap().record_sets();
    assert!(
        sets.iter()
            .all(|s| s.alias_target().is_none() && !s.name().starts_with("_b")),
        "a small service is flat: {sets:?}"
    );
}

#[tokio::test]
async fn a_whole_set_past_one_record_set_is_sharded_and_every_target_stays_in_it() {
    let (zone, account, publisher) = world(1, &["--srv-sets", "on"]).await;
    let tasks = service(0..350);
    let events = running(&account, &tasks);
    let (last, first) = events.split_last().unwrap();
    deliver(&publisher, first.to_vec()).await;
    let report = process(&publisher, inputs([last.clone()])).await;
    check_quotas(&zone);
    assert_eq!(report.sharded_whole_sets.len(), 1, "{report:?}");
    check_documented(&zone, &publisher, &tasks);
    assert!(report.name_errors.is_empty(), "{:?}", report.name_errors);

    let all = format!("_app._tcp._all.web.{APEX}");
    let sets = zone.lock().unwrap().record_sets();
    let shards: Vec<&ResourceRecordSet> = sets
        .iter()
        .filter(|s| s.name().ends_with(&format!("._app._tcp._all.web.{APEX}")))
        .collect();
    assert!(
        shards.len() >= 2,
        "350 targets need shards: {}",
        shards.len()
    );
    let answered: BTreeSet<String> = answer_shares(ZONE_ID, &sets, &all, "SRV")
        .into_keys()
        .map(|value| value.split(' ').nth(3).unwrap_or_default().to_owned())
        .collect();
    let wanted: BTreeSet<String> = tasks.iter().map(task_target).collect();
    assert_eq!(
        answered, wanted,
        "every target is in one of the shards _all answers from"
    );

    // Down to 100 tasks, the shards fold back into one set.
    deliver(
        &publisher,
        stopped_events(&account, &tasks[100..].iter().collect::<Vec<_>>()),
    )
    .await;
    check_quotas(&zone);
    let sets = zone.lock().unwrap().record_sets();
    let whole: Vec<&ResourceRecordSet> = sets.iter().filter(|s| s.name() == all).collect();
    assert!(
        whole.len() == 1
            && whole[0].alias_target().is_none()
            && whole[0].resource_records().len() == 100,
        "one simple whole set again: {whole:?}"
    );
    check_documented(&zone, &publisher, &tasks[..100]);
}

#[tokio::test]
async fn a_tree_moves_to_another_routing_policy_branch_by_branch_without_a_refusal() {
    let (zone, account, weighted) = world(1, &["--srv-sets", "on"]).await;
    let tasks = service(0..150);
    deliver(&weighted, running(&account, &tasks)).await;
    let multivalue = crate::simulated::publisher_with(
        crate::simulated::config_with(&["--srv-sets", "on", "--routing-policy", "multivalue"]),
        &zone,
        &account,
    )
    .await;
    // A new task first (its branch moves with it), then the reconcile moves the rest.
    deliver(&multivalue, running(&account, &service(150..151))).await;
    let report =
        ecs_srv::run::reconcile::reconcile(&multivalue, ecs_srv::run::deployment::Mode::Write)
            .await
            .expect("the reconcile runs");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    check_quotas(&zone);
    let sets = zone.lock().unwrap().record_sets();
    let routed_members = sets
        .iter()
        .filter(|s| s.alias_target().is_none() && s.set_identifier().is_some());
    assert!(
        routed_members
            .clone()
            .all(|s| s.weight().is_none() && s.multi_value_answer() == Some(true)),
        "every member is multivalue"
    );
    let (addresses, targets) = answered_tasks(&sets);
    assert_eq!(
        (addresses.len(), targets.len()),
        (151, 151),
        "and every task answers"
    );
    check_documented(&zone, &multivalue, &service(0..151));
}
