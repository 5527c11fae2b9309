//! Deployment properties over random worlds, against the strict Route 53 model.
//!
//! A case is a set of bridge, host and awsvpc tasks of a few services, each with a fate
//! (stays running, drained then stopped, stopped, never ran), and a random schedule:
//! tasks move on in ECS, their events pile up, and invocations of random size take random
//! events from the pile, so events come late, out of order and more than once. Hosts may
//! vanish (their tasks then stop), the Lambda may start cold, and Route 53 may throttle.
//! Events that fail go back on the pile, as SQS would redeliver them.
//!
//! What must hold, in every case:
//! - **convergence**: once every event is delivered, the owned records are exactly
//!   `desired_records` of the tasks ECS last saw running;
//! - **no resurrection**: no batch ever creates a record of a task ECS already wanted
//!   stopped when the invocation began;
//! - **the documented layout**: the owned records (and the whole SRV sets, when on) are
//!   what the README's records table says, written out apart from the crate in
//!   `simulated::oracle`, for weighted and multivalue publishing;
//! - **foreign records** survive byte for byte;
//! - **every batch** is accepted by the strict model, and the only failures are tasks on
//!   a host that vanished, with the error naming the host.
//!
//! `PROPTEST_CASES` sets the number of cases (default 64, about five seconds in debug).

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::simulated::account::Host;
use crate::simulated::layout::{check_zone, Layout};
use crate::simulated::tasks::{instance_id, ContainerSpec, Mode, TaskSpec};
use crate::support::strict_zone::{Fault, FaultPlan, ListKey, Outcome};
use ecs_srv::plan::ownership::{ownership, Ownership};
use ecs_srv::run::deployment::Deployment;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

const HOSTS: usize = 3;
const SERVICES: [&str; 4] = ["web", "api", "worker", "cache"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    StaysRunning,
    DrainedThenStopped,
    Stopped,
    NeverRuns,
}

impl Fate {
    /// The (lastStatus, desiredStatus) steps ECS takes the task through, versions 1, 2...
    fn steps(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Fate::StaysRunning => &[("PENDING", "RUNNING"), ("RUNNING", "RUNNING")],
            Fate::DrainedThenStopped => &[
                ("PENDING", "RUNNING"),
                ("RUNNING", "RUNNING"),
                ("RUNNING", "STOPPED"),
                ("STOPPING", "STOPPED"),
                ("STOPPED", "STOPPED"),
            ],
            Fate::Stopped => &[
                ("PENDING", "RUNNING"),
                ("RUNNING", "RUNNING"),
                ("STOPPED", "STOPPED"),
            ],
            Fate::NeverRuns => &[("PENDING", "RUNNING"), ("STOPPED", "STOPPED")],
        }
    }
}

#[derive(Clone, Debug)]
struct Scenario {
    tasks: Vec<(TaskSpec, Fate)>,
    seed: u64,
    steps: usize,
    page_size: usize,
    throttle_every: Option<usize>,
    /// ROUTING_POLICY=multivalue rather than weighted.
    multivalue: bool,
    /// SRV_SETS=on.
    whole_sets: bool,
}

impl Scenario {
    fn flags(&self) -> Vec<&'static str> {
        vec![
            "--routing-policy",
            if self.multivalue {
                "multivalue"
            } else {
                "weighted"
            },
            "--srv-sets",
            if self.whole_sets { "on" } else { "off" },
        ]
    }

    /// The foreign records seeded: the weighted ones only beside weighted publishing,
    /// since Route 53 cannot mix them with multivalue sets (that refusal has its own test).
    fn foreign_records(&self) -> Vec<aws_sdk_route53::types::ResourceRecordSet> {
        crate::simulated::foreign_records()
            .into_iter()
            .filter(|set| !self.multivalue || set.weight().is_none())
            .collect()
    }
}

fn task_strategy() -> impl Strategy<Value = (TaskSpec, Fate)> {
    let mode = prop_oneof![Just(Mode::Bridge), Just(Mode::Host), Just(Mode::Awsvpc)];
    let fate = prop_oneof![
        Just(Fate::StaysRunning),
        Just(Fate::DrainedThenStopped),
        Just(Fate::Stopped),
        Just(Fate::NeverRuns)
    ];
    let container = (
        1000u16..1100,
        32768u16..33768,
        proptest::option::of(any::<u8>()),
    );
    (
        mode,
        0..SERVICES.len(),
        0..HOSTS,
        any::<u8>(),
        proptest::collection::vec(container, 1..=2),
        fate,
    )
        .prop_map(|(mode, service, host, eni, containers, fate)| {
            let containers = containers
                .into_iter()
                .enumerate()
                .map(|(index, (port, host_port, weight))| ContainerSpec {
                    name: ["app", "admin"][index].to_owned(),
                    container_port: port + index as u16 * 100,
                    host_port: host_port + index as u16,
                    weight,
                })
                .collect();
            let spec = TaskSpec {
                task_id: String::new(),
                service: SERVICES[service].to_owned(),
                mode,
                host,
                eni_address: std::net::Ipv4Addr::new(10, 1, host as u8, eni),
                containers,
                ..TaskSpec::default()
            };
            (spec, fate)
        })
}

fn scenario_strategy() -> impl Strategy<Value = Scenario> {
    let faults = prop_oneof![Just(None), Just(Some(2)), Just(Some(3))];
    let page = prop_oneof![Just(3usize), Just(10), Just(300)];
    (
        proptest::collection::vec(task_strategy(), 1..=8),
        any::<u64>(),
        5usize..60,
        page,
        faults,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(mut tasks, seed, steps, page_size, throttle_every, multivalue, whole_sets)| {
                for (index, (task, _)) in tasks.iter_mut().enumerate() {
                    task.task_id = format!("{index:08x}{seed:024x}");
                }
                Scenario {
                    tasks,
                    seed,
                    steps,
                    page_size,
                    throttle_every,
                    multivalue,
                    whole_sets,
                }
            },
        )
}

/// Totals over all cases, for the report at the end.
static CASES: AtomicUsize = AtomicUsize::new(0);
static INVOCATIONS: AtomicUsize = AtomicUsize::new(0);
static EVENTS: AtomicUsize = AtomicUsize::new(0);
static BATCHES: AtomicUsize = AtomicUsize::new(0);
static FAULTS: AtomicUsize = AtomicUsize::new(0);
static FAILED_EVENTS: AtomicUsize = AtomicUsize::new(0);

struct Simulation {
    scenario: Scenario,
    remaining: Vec<VecDeque<(String, String, u64)>>,
    pile: Vec<Value>,
    vanished: Option<usize>,
    zone: std::sync::Arc<std::sync::Mutex<crate::support::strict_zone::StrictZone>>,
    account: std::sync::Arc<std::sync::Mutex<crate::simulated::account::Account>>,
    rng: StdRng,
}

impl Simulation {
    fn new(scenario: Scenario) -> Self {
        let zone = crate::simulated::empty_zone();
        zone.lock().unwrap().seed(scenario.foreign_records());
        zone.lock().unwrap().page_size = scenario.page_size;
        if let Some(every) = scenario.throttle_every {
            zone.lock()
                .unwrap()
                .inject(FaultPlan::every(every, Fault::Throttling, &[]));
        }
        let account = crate::simulated::account_with_hosts(HOSTS);
        let remaining = scenario
            .tasks
            .iter()
            .map(|(task, fate)| {
                account
                    .lock()
                    .unwrap()
                    .task_definitions
                    .insert(task.definition_arn(), task.definition());
                fate.steps()
                    .iter()
                    .enumerate()
                    .map(|(i, (last, desired))| {
                        (last.to_string(), desired.to_string(), i as u64 + 1)
                    })
                    .collect()
            })
            .collect();
        Simulation {
            rng: StdRng::seed_from_u64(scenario.seed),
            scenario,
            remaining,
            pile: Vec::new(),
            vanished: None,
            zone,
            account,
        }
    }

    /// ECS moves task `index` one step on, and its event joins the pile (sometimes twice).
    fn advance(&mut self, index: usize) {
        let Some((last, desired, version)) = self.remaining[index].pop_front() else {
            return;
        };
        let task = &self.scenario.tasks[index].0;
        crate::simulated::set_task(&self.account, task, &last, &desired, version);
        let event = task.event(&last, &desired, version);
        if self.rng.random_bool(0.2) {
            self.pile.push(event.clone());
        }
        self.pile.push(event);
    }

    /// A host disappears from EC2; ECS will stop its tasks, a little later.
    fn vanish(&mut self, host: usize) {
        if self.vanished.is_some() {
            return;
        }
        self.vanished = Some(host);
        let state = if self.rng.random_bool(0.5) {
            Host::Vanished
        } else {
            Host::Terminated
        };
        self.account
            .lock()
            .unwrap()
            .hosts
            .insert(instance_id(host), state);
        for (index, (task, _)) in self.scenario.tasks.iter().enumerate() {
            if task.host != host {
                continue;
            }
            let truth = self
                .account
                .lock()
                .unwrap()
                .tasks
                .get(&task.task_arn())
                .cloned();
            let version = truth.as_ref().map_or(0, |t| t.version as u64);
            let already_stopped = truth.is_some_and(|t| t.last_status == "STOPPED");
            self.remaining[index] = if already_stopped {
                VecDeque::new()
            } else {
                VecDeque::from([("STOPPED".to_owned(), "STOPPED".to_owned(), version + 1)])
            };
        }
    }

    /// One invocation with up to `size` events from anywhere in the pile.
    async fn deliver(&mut self, publisher: &Deployment, size: usize) -> Result<(), TestCaseError> {
        let mut taken = Vec::new();
        for _ in 0..size.min(self.pile.len()) {
            let position = self.rng.random_range(0..self.pile.len());
            let event = if self.rng.random_bool(0.1) {
                self.pile[position].clone()
            } else {
                self.pile.swap_remove(position)
            };
            taken.push(event);
        }
        if taken.is_empty() {
            return Ok(());
        }
        let naming = publisher.naming().clone();
        let stopping: BTreeSet<String> = {
            let account = self.account.lock().unwrap();
            self.scenario
                .tasks
                .iter()
                .filter(|(t, _)| {
                    account
                        .tasks
                        .get(&t.task_arn())
                        .is_some_and(|truth| truth.is_stopping())
                })
                .map(|(t, _)| t.task_id.clone())
                .collect()
        };
        let batches_before = self.zone.lock().unwrap().accepted_batches().len();
        let report =
            ecs_srv::run::events::process(publisher, crate::simulated::inputs(taken.clone())).await;
        INVOCATIONS.fetch_add(1, Ordering::Relaxed);
        EVENTS.fetch_add(taken.len(), Ordering::Relaxed);
        for (outcome, event) in report.events.iter().zip(taken) {
            let Some(error) = &outcome.error else {
                continue;
            };
            FAILED_EVENTS.fetch_add(1, Ordering::Relaxed);
            let host = self.vanished.map(instance_id);
            prop_assert!(
                host.as_ref().is_some_and(|id| error.contains(id.as_str())),
                "only tasks on a vanished host may fail, and the error must name it: {error}"
            );
            self.pile.push(event);
        }
        let zone = self.zone.lock().unwrap();
        let listed = zone.record_sets();
        let addresses: BTreeSet<String> = listed
            .iter()
            .filter(|set| set.r#type().as_str() == "A")
            .map(|set| set.name().to_owned())
            .collect();
        for set in listed.iter().filter(|set| set.name().contains("._all.")) {
            for value in crate::support::sorted_values(set) {
                let target = value.rsplit(' ').next().unwrap_or_default().to_owned();
                prop_assert!(
                    addresses.contains(&target),
                    "the whole set {} points at {target}, which has no address: {value}",
                    set.name()
                );
            }
        }
        for batch in &zone.accepted_batches()[batches_before..] {
            for change in batch
                .iter()
                .filter(|c| *c.action() == aws_sdk_route53::types::ChangeAction::Create)
            {
                let set = ecs_srv::aws::route53::convert::listed_set(
                    change.resource_record_set().expect("a set"),
                )
                .expect("ecs-srv writes A and SRV sets");
                let tasks: Vec<String> = match ownership(&naming, &set) {
                    Ownership::Task(task) => vec![task],
                    // A whole set mirrors the task sets the zone holds (a stopping task's
                    // stay until its events arrive); its targets are checked below.
                    Ownership::WholeSet => Vec::new(),
                    // A tree's alias follows the members its branch holds.
                    Ownership::Branch | Ownership::Latency => Vec::new(),
                    Ownership::Foreign => {
                        return Err(TestCaseError::fail(format!(
                            "a CREATE of a set ecs-srv does not own: {set:?}"
                        )))
                    }
                };
                for task in tasks {
                    prop_assert!(
                        !stopping.contains(&task),
                        "task {task} came back after ECS stopped it: {set:?}"
                    );
                }
            }
        }
        Ok(())
    }
}

async fn run_scenario(scenario: Scenario) -> Result<(), TestCaseError> {
    let mut sim = Simulation::new(scenario.clone());
    let config = crate::simulated::config_with(&scenario.flags());
    let mut publisher =
        crate::simulated::publisher_with(config.clone(), &sim.zone, &sim.account).await;
    for _ in 0..scenario.steps {
        let roll = sim.rng.random_range(0..100);
        if roll < 45 {
            let index = sim.rng.random_range(0..scenario.tasks.len());
            sim.advance(index);
        } else if roll < 88 {
            let size = sim.rng.random_range(1..=8);
            sim.deliver(&publisher, size).await?;
        } else if roll < 94 {
            let host = sim.rng.random_range(0..HOSTS);
            sim.vanish(host);
        } else {
            publisher =
                crate::simulated::publisher_with(config.clone(), &sim.zone, &sim.account).await;
        }
    }
    for index in 0..scenario.tasks.len() {
        while !sim.remaining[index].is_empty() {
            sim.advance(index);
        }
    }
    for _ in 0..500 {
        if sim.pile.is_empty() {
            break;
        }
        let size = sim.rng.random_range(1..=10);
        sim.deliver(&publisher, size).await?;
    }
    prop_assert!(
        sim.pile.is_empty(),
        "events still fail after every task settled: {:?}",
        sim.pile.len()
    );

    let survivors: Vec<&TaskSpec> = {
        let account = sim.account.lock().unwrap();
        scenario
            .tasks
            .iter()
            .map(|(t, _)| t)
            .filter(|t| {
                account
                    .tasks
                    .get(&t.task_arn())
                    .is_some_and(|truth| !truth.is_stopping() && truth.last_status == "RUNNING")
            })
            .collect()
    };
    let (owned, foreign) = crate::simulated::zone_contents(&sim.zone, &publisher);
    prop_assert_eq!(
        owned,
        crate::simulated::expected_records(&publisher, &survivors),
        "the zone holds exactly the survivors' records"
    );
    let mut seeded = scenario.foreign_records();
    if let Err(difference) = check_zone(
        &Layout::of(&publisher.settings),
        &sim.zone.lock().unwrap().record_sets(),
        &seeded,
        &survivors,
    ) {
        return Err(TestCaseError::fail(difference));
    }
    seeded.sort_by_key(ListKey::of);
    prop_assert_eq!(foreign, seeded, "foreign records survive byte for byte");
    let zone = sim.zone.lock().unwrap();
    prop_assert!(
        zone.problems().is_empty(),
        "every batch is accepted and keeps ecs-srv's own layout: {:?}",
        zone.problems()
    );
    BATCHES.fetch_add(zone.accepted_batches().len(), Ordering::Relaxed);
    FAULTS.fetch_add(
        zone.calls
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Faulted(_)))
            .count(),
        Ordering::Relaxed,
    );
    CASES.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

fn case_count() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

#[test]
fn any_interleaving_converges_without_resurrection_or_collateral_damage() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut runner = TestRunner::new(Config {
        cases: case_count(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&scenario_strategy(), |scenario| {
        runtime.block_on(run_scenario(scenario))
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    eprintln!(
        "properties: {} cases, {} invocations, {} events ({} failed and redelivered), {} batches accepted, {} Route 53 faults injected, nothing lost",
        CASES.load(Ordering::Relaxed),
        INVOCATIONS.load(Ordering::Relaxed),
        EVENTS.load(Ordering::Relaxed),
        FAILED_EVENTS.load(Ordering::Relaxed),
        BATCHES.load(Ordering::Relaxed),
        FAULTS.load(Ordering::Relaxed)
    );
}
