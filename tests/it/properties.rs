//! Deployment properties over random worlds, through the real SDK clients against the
//! strict Route 53 model and the simulated ECS/EC2 account, graded by the tests' own
//! layout (`simulated::layout`), never by the crate's.
//!
//! The space (`scenario`): bridge, host and awsvpc tasks (some dual-stack, weight labels
//! 0 to 255) with fates (stays, drained then stopped, stopped, never ran) in one or two
//! clusters; weighted or multivalue, whole sets on or off, CLUSTER_IN_NAMES and
//! REGIONAL_NAMES on or off, two RECORD_OWNERs; foreign records of every kind at and under
//! the service names (`foreign`); Route 53 throttling within the SDK's retries or failing
//! past them for a while. `small_worlds` draws one to twelve tasks; `large_services` one
//! service of 90 to 300 (trees, and shards of its whole sets) beside a small one.
//!
//! What must hold, in every case (`simulation` checks each invocation as it lands):
//! - **no moment unanswered**: after every accepted ChangeBatch, every task that was
//!   answered and still runs is answered;
//! - **no resurrection**: no batch creates a set of a task ECS already wanted stopped;
//! - **convergence to the documented layout**: once every event is delivered the zone is
//!   the foreign sets, byte for byte, and exactly the documented layout of the tasks ECS
//!   last saw running, every tree and shard well formed, every task answered;
//! - **the reconcile agrees**: a dry-run reconcile then finds nothing to change;
//! - **every batch** is accepted by the strict model, and the only failures are a vanished
//!   host's tasks, or retryable ones while Route 53 fails past the retry budget.
//!
//! Failures are persisted (`tests/proptest-regressions/properties/`) and replayed first on
//! every run. `PROPTEST_CASES` and `LARGE_PROPTEST_CASES` set the cases; `make test` runs
//! few, `make fuzz` many.

mod foreign;
mod large_services;
mod scenario;
mod simulation;
mod small_worlds;

use proptest::prop_assert;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use rand::Rng;

use crate::simulated::layout::{check_zone, Layout};
use scenario::{Scenario, HOSTS};
use simulation::{Simulation, Tally};

/// Invocations allowed to deliver what is left once every task has settled.
const SETTLE_INVOCATIONS: usize = 2_000;

/// A runner of `cases` cases whose failures persist beside the tests, in a file named for
/// `source` (each property its own), and replay first.
fn runner(cases: u32, source: &'static str) -> TestRunner {
    TestRunner::new(Config {
        cases,
        source_file: Some(source),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        max_shrink_iters: 64,
        ..Config::default()
    })
}

/// The cases of a property: `variable` when set, else `default`.
fn cases(variable: &str, default: u32) -> u32 {
    std::env::var(variable)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `strategy`'s cases on one runtime, panicking with the failing case.
fn run_property(
    name: &str,
    mut runner: TestRunner,
    strategy: impl proptest::strategy::Strategy<Value = Scenario>,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let totals = std::sync::Mutex::new(Tally::default());
    let result = runner.run(&strategy, |scenario| {
        let tally = runtime.block_on(run_scenario(scenario))?;
        let mut totals = totals.lock().unwrap();
        totals.invocations += tally.invocations;
        totals.events += tally.events;
        totals.failed_events += tally.failed_events;
        totals.moments += tally.moments;
        totals.with_trees += tally.with_trees;
        totals.with_shards += tally.with_shards;
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{name}: {failure}");
    }
    let totals = totals.into_inner().unwrap();
    eprintln!(
        "{name}: {} invocations ({} with a tree, {} with a sharded whole set), {} events ({} failed and redelivered), {} moments checked answered, nothing lost",
        totals.invocations,
        totals.with_trees,
        totals.with_shards,
        totals.events,
        totals.failed_events,
        totals.moments
    );
}

/// One case: random steps, then every task settles and every event is delivered; see
/// the module docs for what is checked.
async fn run_scenario(scenario: Scenario) -> Result<Tally, TestCaseError> {
    let config = crate::simulated::config_with(&scenario.flags());
    let layout = Layout::of(&config);
    let foreign = foreign::foreign_records(&scenario, &layout);
    let mut sim = Simulation::new(scenario.clone(), layout.clone(), foreign.clone());
    let mut publisher =
        crate::simulated::publisher_with(config.clone(), &sim.zone, &sim.account).await;
    for _ in 0..scenario.steps {
        match sim.rng.random_range(0..100) {
            0..45 => {
                let index = sim.rng.random_range(0..scenario.tasks.len());
                sim.advance(index);
            }
            45..88 => {
                let size = sim.rng.random_range(1..=10);
                sim.deliver(&publisher, size).await?;
            }
            88..92 => {
                let host = sim.rng.random_range(0..HOSTS);
                sim.vanish(host);
            }
            92..97 => sim.toggle_fault(),
            _ => {
                publisher =
                    crate::simulated::publisher_with(config.clone(), &sim.zone, &sim.account).await;
            }
        }
    }
    sim.heal();
    while let Some(index) = sim.unsettled() {
        sim.advance(index);
    }
    for _ in 0..SETTLE_INVOCATIONS {
        if sim.pile.is_empty() {
            break;
        }
        let size = sim.rng.random_range(1..=10);
        sim.deliver(&publisher, size).await?;
    }
    prop_assert!(
        sim.pile.is_empty(),
        "events still fail after every task settled: {}",
        sim.pile.len()
    );
    let survivors = sim.running_now();
    let listed = sim.zone.lock().unwrap().record_sets();
    check_zone(&layout, &listed, &foreign, &survivors).map_err(TestCaseError::fail)?;
    let problems = sim.zone.lock().unwrap().problems();
    prop_assert!(problems.is_empty(), "every batch is accepted: {problems:?}");
    let report =
        ecs_srv::run::reconcile::reconcile(&publisher, ecs_srv::run::deployment::Mode::DryRun)
            .await
            .map_err(|err| TestCaseError::fail(format!("the reconcile runs: {err}")))?;
    prop_assert!(
        report.changes.is_empty() && report.failures.is_empty(),
        "the reconcile agrees with the zone the events left: {:?} {:?}",
        report.changes.first(),
        report.failures
    );
    Ok(sim.tally)
}
