//! The deploy property of trees: services of 60 to 220 tasks, every task replaced by a
//! rolling deploy delivered in invocations of random size, through the strict model.

use super::{deliver, fewest_answered, running, world};
use crate::simulated::tasks::{simple_task, Mode, TaskSpec};
use crate::simulated::{inputs, zone_contents};
use ecs_srv::run::events::process;

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
/// are scaled as well as counted. Labels run from 1: Route 53 never answers a set of weight
/// 0 beside heavier ones, so with them the tasks answered would not be the tasks running
/// (`a_task_of_weight_zero_stays_in_its_tree_and_is_never_answered` covers weight 0).
fn weighted_service(range: std::ops::Range<usize>, rng: &mut rand::rngs::StdRng) -> Vec<TaskSpec> {
    use rand::Rng;
    range
        .map(|index| {
            let mut task = simple_task(index, Mode::Awsvpc, "web", 0);
            if rng.random_bool(0.33) {
                task.containers[0].weight = Some(rng.random_range(1..=255));
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
    let layout = crate::simulated::layout::Layout::of(&publisher.settings);
    let listed = zone.lock().unwrap().record_sets();
    if let Err(difference) = crate::simulated::layout::check_zone(&layout, &listed, &[], &new_refs)
    {
        return Err(proptest::test_runner::TestCaseError::fail(format!(
            "{case:?}: {difference}"
        )));
    }
    Ok(())
}

/// Deploys that replace every task of services of a few hundred, through the strict model:
/// no batch is refused for any quota, the names never answer with fewer tasks than ran
/// before, and the zone ends as documented. `TREE_PROPTEST_CASES` sets the number of cases
/// (default 2, the seeds persisted first; the large-services property covers trees too). Failures persist in
/// `tests/proptest-regressions/` and replay first.
#[test]
fn deploys_that_replace_every_task_keep_every_quota_and_every_task_answered() {
    let cases = std::env::var("TREE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::SourceParallel("proptest-regressions"),
        )),
        max_shrink_iters: 32,
        ..proptest::test_runner::Config::default()
    });
    if let Err(failure) = runner.run(&deploy_strategy(), |case| {
        runtime.block_on(run_deploy(case))
    }) {
        panic!("{failure}");
    }
}
