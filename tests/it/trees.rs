//! Services past Route 53's 100 sets per name, through the publisher and the strict model:
//! every task is answered through a tree of weighted aliases, with the weight it would
//! have on one flat name, a rolling deploy never leaves fewer tasks in the name than ran
//! before it, and a service that drains leaves nothing behind.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use aws_sdk_route53::types::ResourceRecordSet;

use crate::simulated::account::Account;
use crate::simulated::tasks::{simple_task, Mode, TaskSpec};
use crate::simulated::{inputs, running_events, stopped_events, world, zone_contents, APEX};
use crate::support::answers::answer_shares;
use crate::support::strict_zone::StrictZone;
use ecs_srv::publish::process;
use ecs_srv::publisher::Publisher;

/// The SQS path's default batch (template.yaml, SqsBatchSize).
const SQS_BATCH: usize = 10;

fn service(range: std::ops::Range<usize>) -> Vec<TaskSpec> {
    range
        .map(|index| simple_task(index, Mode::Awsvpc, "web", 0))
        .collect()
}

/// Delivers events in SQS-sized invocations; every event must succeed.
async fn deliver(publisher: &Publisher, events: Vec<serde_json::Value>) {
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
    let addresses: BTreeSet<String> = answer_shares(sets, &format!("web.{APEX}"), "A")
        .into_keys()
        .collect();
    let targets: BTreeSet<String> = answer_shares(sets, &format!("_app._tcp.web.{APEX}"), "SRV")
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
    let shares = answer_shares(&sets, &format!("_app._tcp.web.{APEX}"), "SRV");
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

    let (owned, _) = zone_contents(&zone, &publisher);
    assert_eq!(
        owned,
        crate::simulated::expected_records(&publisher, &tasks.iter().collect::<Vec<_>>()),
        "the task sets are the documented ones, wherever their branch"
    );
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
    assert!(
        report.whole_set_errors.is_empty(),
        "{:?}",
        report.whole_set_errors
    );

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
    let answered: BTreeSet<String> = answer_shares(&sets, &all, "SRV")
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
}

/// One case of the deploy property: `old` tasks replaced by as many new ones.
#[derive(Clone, Debug)]
struct Deploy {
    old: usize,
    seed: u64,
    largest_invocation: usize,
    multivalue: bool,
    whole_sets: bool,
}

fn deploy_strategy() -> impl proptest::strategy::Strategy<Value = Deploy> {
    use proptest::prelude::*;
    (
        60usize..=220,
        any::<u64>(),
        1usize..=25,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(old, seed, largest_invocation, multivalue, whole_sets)| Deploy {
                old,
                seed,
                largest_invocation,
                multivalue,
                whole_sets,
            },
        )
}

/// Tasks of `web`, a third of them with a weight label, so that the trees' alias weights
/// are scaled as well as counted.
fn weighted_service(range: std::ops::Range<usize>, rng: &mut rand::rngs::StdRng) -> Vec<TaskSpec> {
    use rand::Rng;
    range
        .map(|index| {
            let mut task = simple_task(index, Mode::Awsvpc, "web", 0);
            if rng.random_bool(0.33) {
                task.containers[0].weight = Some(rng.random_range(0..=255));
            }
            task
        })
        .collect()
}

async fn run_deploy(case: Deploy) -> Result<(), proptest::test_runner::TestCaseError> {
    use proptest::prop_assert;
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(case.seed);
    let flags = [
        "--routing-policy",
        if case.multivalue {
            "multivalue"
        } else {
            "weighted"
        },
        "--srv-sets",
        if case.whole_sets { "on" } else { "off" },
    ];
    let (zone, account, publisher) = world(1, &flags).await;
    let old = weighted_service(0..case.old, &mut rng);
    let new = weighted_service(10_000..10_000 + case.old, &mut rng);
    deliver(&publisher, running(&account, &old)).await;
    let (start, since) = {
        let zone = zone.lock().unwrap();
        (zone.record_sets(), zone.calls.len())
    };
    // Per pair: the new task runs, then the old one drains, then it stops (ECS's rolling
    // deploy at 100% minimum healthy); pairs interleave at random, events are delivered in
    // the order ECS sent them, in invocations of random size, and some twice.
    let mut chains: Vec<Vec<(usize, &str, &str, u64)>> = (0..case.old)
        .map(|i| {
            vec![
                (i, "STOPPED", "STOPPED", 4),
                (i, "RUNNING", "STOPPED", 3),
                (i + case.old, "RUNNING", "RUNNING", 2),
            ]
        })
        .collect();
    let all: Vec<&TaskSpec> = old.iter().chain(&new).collect();
    let mut sent: Vec<serde_json::Value> = Vec::new();
    for _ in 0..(case.old * 3) {
        let open: Vec<usize> = (0..chains.len())
            .filter(|i| !chains[*i].is_empty())
            .collect();
        let Some(&chain) = open.get(rng.random_range(0..open.len().max(1))) else {
            break;
        };
        let (task, last, desired, version) = chains[chain].pop().expect("an open chain");
        crate::simulated::set_task(&account, all[task], last, desired, version);
        sent.push(all[task].event(last, desired, version));
    }
    let mut next = 0;
    while next < sent.len() {
        let size = rng
            .random_range(1..=case.largest_invocation)
            .min(sent.len() - next);
        let mut events = sent[next..next + size].to_vec();
        if next > 0 && rng.random_bool(0.1) {
            events.push(sent[rng.random_range(0..next)].clone());
        }
        next += size;
        let report = process(&publisher, inputs(events)).await;
        let failed: Vec<_> = report
            .events
            .iter()
            .filter_map(|e| e.error.clone())
            .collect();
        prop_assert!(failed.is_empty(), "{case:?}: {failed:?}");
    }
    let zone_now = zone.lock().unwrap();
    prop_assert!(
        zone_now.problems().is_empty(),
        "{case:?}: {:?}",
        zone_now.problems().first()
    );
    let states = zone_now.states_since(&start, since);
    drop(zone_now);
    let smallest = fewest_answered(&states);
    prop_assert!(
        smallest >= case.old,
        "{case:?}: the names answered {smallest} tasks at one moment"
    );

    let (owned, _) = zone_contents(&zone, &publisher);
    let new_refs: Vec<&TaskSpec> = new.iter().collect();
    prop_assert!(
        owned == crate::simulated::expected_records(&publisher, &new_refs),
        "{case:?}: the zone holds the new tasks' records, and only theirs"
    );
    let layout = crate::simulated::oracle::Layout {
        apex: APEX,
        owner: "ecs-srv",
        ttl: 10,
        multivalue: case.multivalue,
        whole_sets: case.whole_sets,
    };
    prop_assert!(
        crate::simulated::oracle::listed_zone(&layout, &zone.lock().unwrap().record_sets())
            == crate::simulated::oracle::documented_zone(&layout, &new_refs),
        "{case:?}: the zone is laid out as the README documents it"
    );
    Ok(())
}

/// Deploys that replace every task of services of a few hundred, through the strict model:
/// no batch is refused for any quota, the names never answer with fewer tasks than ran
/// before, and the zone ends as documented. `TREE_PROPTEST_CASES` sets the number of cases
/// (default 6).
#[test]
fn deploys_that_replace_every_task_keep_every_quota_and_every_task_answered() {
    let cases = std::env::var("TREE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    });
    if let Err(failure) = runner.run(&deploy_strategy(), |case| {
        runtime.block_on(run_deploy(case))
    }) {
        panic!("{failure}");
    }
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
    let report = ecs_srv::reconcile::reconcile(&multivalue, false)
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
}
