//! One case played out: ECS moves tasks through their fates and their events pile up;
//! invocations of random size take events from anywhere in the pile (late, out of order,
//! twice); hosts vanish, the Lambda starts cold, Route 53 throttles or fails past the SDK's
//! retry budget for a while. Events that fail go back on the pile, as SQS would redeliver
//! them. Each invocation is checked as it lands (see [`Simulation::deliver`]).

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use aws_sdk_route53::types::ChangeAction;
use proptest::prop_assert;
use proptest::test_runner::TestCaseError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::scenario::{Faults, Scenario, HOSTS};
use crate::simulated::account::{Account, Host};
use crate::simulated::layout::answered::unanswered;
use crate::simulated::layout::listed::documented_form;
use crate::simulated::layout::marks::ReadMark;
use crate::simulated::layout::Layout;
use crate::simulated::tasks::{instance_id, TaskSpec};
use crate::support::strict_zone::{Fault, FaultPlan, Outcome, StrictZone};
use ecs_srv::run::deployment::Deployment;

/// Operations a fault past the retry budget may hit, and the faults.
const FAILING: [&str; 2] = ["ChangeResourceRecordSets", "ListResourceRecordSets"];
const TRANSIENT: [Fault; 2] = [Fault::Throttling, Fault::PriorRequestNotComplete];

/// What a case did, for the closing line.
#[derive(Debug, Default)]
pub struct Tally {
    pub invocations: usize,
    pub events: usize,
    pub failed_events: usize,
    pub moments: usize,
    /// Invocations after which a name was a tree, and a whole set sharded.
    pub with_trees: usize,
    pub with_shards: usize,
}

pub struct Simulation {
    pub scenario: Scenario,
    pub layout: Layout,
    remaining: Vec<VecDeque<(String, String, u64)>>,
    pub pile: Vec<Value>,
    vanished: Option<usize>,
    /// A fault past the retry budget is on.
    failing: bool,
    pub zone: Arc<Mutex<StrictZone>>,
    pub account: Arc<Mutex<Account>>,
    pub rng: StdRng,
    pub tally: Tally,
}

impl Simulation {
    pub fn new(
        scenario: Scenario,
        layout: Layout,
        foreign: Vec<aws_sdk_route53::types::ResourceRecordSet>,
    ) -> Self {
        let zone = crate::simulated::empty_zone();
        zone.lock().unwrap().seed(foreign);
        zone.lock().unwrap().page_size = scenario.page_size;
        if let Faults::Every(every) = scenario.faults {
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
            layout,
            remaining,
            pile: Vec::new(),
            vanished: None,
            failing: false,
            zone,
            account,
            tally: Tally::default(),
        }
    }

    /// ECS moves task `index` one step on, and its event joins the pile (sometimes twice).
    pub fn advance(&mut self, index: usize) {
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

    /// Whether any task has steps left.
    pub fn unsettled(&self) -> Option<usize> {
        self.remaining.iter().position(|steps| !steps.is_empty())
    }

    /// A host disappears from EC2; ECS will stop its tasks, a little later.
    pub fn vanish(&mut self, host: usize) {
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
            if task.host != host || task.mode == crate::simulated::tasks::Mode::Awsvpc {
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

    /// Starts a fault past the retry budget, or clears the one on.
    pub fn toggle_fault(&mut self) {
        if self.scenario.faults != Faults::PastRetryBudget {
            return;
        }
        let mut zone = self.zone.lock().unwrap();
        if self.failing {
            zone.clear_faults();
        } else {
            let operation = FAILING[self.rng.random_range(0..FAILING.len())];
            let fault = TRANSIENT[self.rng.random_range(0..TRANSIENT.len())];
            zone.inject(FaultPlan::past_retry_budget(fault, &[operation]));
        }
        self.failing = !self.failing;
    }

    /// Ends any fault past the retry budget, before the case settles.
    pub fn heal(&mut self) {
        if self.failing {
            self.toggle_fault();
        }
    }

    /// The tasks ECS reports running and not asked to stop.
    pub fn running_now(&self) -> Vec<&TaskSpec> {
        let account = self.account.lock().unwrap();
        self.scenario
            .tasks
            .iter()
            .map(|(task, _)| task)
            .filter(|task| {
                account
                    .tasks
                    .get(&task.task_arn())
                    .is_some_and(|truth| !truth.is_stopping() && truth.last_status == "RUNNING")
            })
            .collect()
    }

    /// The tasks ECS wants stopped (or that are past RUNNING).
    fn stopping_now(&self) -> BTreeSet<String> {
        let account = self.account.lock().unwrap();
        self.scenario
            .tasks
            .iter()
            .filter(|(task, _)| {
                account
                    .tasks
                    .get(&task.task_arn())
                    .is_some_and(|truth| truth.is_stopping())
            })
            .map(|(task, _)| task.task_id.clone())
            .collect()
    }

    /// One invocation with up to `size` events from anywhere in the pile, checked:
    /// - only events of a vanished host's tasks fail, or, while a fault past the retry
    ///   budget is on, events that fail as retryable;
    /// - every set a batch creates is one the documentation describes, and none is a task's
    ///   that ECS already wanted stopped when the invocation began (no resurrection);
    /// - after every accepted ChangeBatch, every task that was answered before and still
    ///   runs is answered: no moment leaves a running task out.
    pub async fn deliver(
        &mut self,
        publisher: &Deployment,
        size: usize,
    ) -> Result<(), TestCaseError> {
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
        let stopping = self.stopping_now();
        let (start, since) = {
            let zone = self.zone.lock().unwrap();
            (zone.record_sets(), zone.calls.len())
        };
        let running_before = self.running_now();
        let answered_before: BTreeSet<String> = {
            let missing = unanswered(&self.layout, &start, &running_before);
            running_before
                .iter()
                .filter(|task| !missing.iter().any(|line| line.contains(&task.task_id)))
                .map(|task| task.task_id.clone())
                .collect()
        };
        let report =
            ecs_srv::run::events::process(publisher, crate::simulated::inputs(taken.clone())).await;
        self.tally.invocations += 1;
        self.tally.events += taken.len();
        for (outcome, event) in report.events.iter().zip(taken) {
            let Some(error) = &outcome.error else {
                continue;
            };
            self.tally.failed_events += 1;
            let host = self.vanished.map(instance_id);
            let on_vanished_host = host.as_ref().is_some_and(|id| error.contains(id.as_str()));
            prop_assert!(
                on_vanished_host || (self.failing && outcome.retryable),
                "only a vanished host's tasks fail, or retryable events while Route 53 fails: {error}"
            );
            self.pile.push(event);
        }
        let zone = self.zone.lock().unwrap();
        let written = zone.calls[since..].iter().filter(|call| {
            call.operation == "ChangeResourceRecordSets" && call.outcome == Outcome::Ok
        });
        for call in written {
            for change in call
                .changes
                .iter()
                .filter(|c| *c.action() == ChangeAction::Create)
            {
                let set = change.resource_record_set().expect("a set");
                let documented = documented_form(&self.layout, set).map_err(TestCaseError::fail)?;
                let task = documented
                    .set_identifier
                    .as_deref()
                    .and_then(ReadMark::parse)
                    .filter(ReadMark::is_task)
                    .map(|mark| mark.id);
                prop_assert!(
                    task.is_none_or(|task| !stopping.contains(&task)),
                    "a task came back after ECS stopped it: {set:?}"
                );
            }
        }
        let running_after = self.running_now();
        let kept: Vec<&TaskSpec> = running_after
            .into_iter()
            .filter(|t| answered_before.contains(&t.task_id))
            .collect();
        let states = zone.states_since(&start, since);
        let moments = states.len();
        for state in states {
            let missing = unanswered(&self.layout, &state, &kept);
            prop_assert!(
                missing.is_empty(),
                "a running task went unanswered mid-invocation: {:?}",
                missing.first()
            );
        }
        let aliases = zone
            .record_sets()
            .into_iter()
            .filter_map(|set| set.alias_target().map(|a| a.dns_name().to_owned()));
        let (shards, trees): (Vec<String>, Vec<String>) = aliases
            .filter(|target| target.starts_with("_b"))
            .partition(|target| target.contains("._all."));
        drop(zone);
        self.tally.moments += moments;
        self.tally.with_trees += usize::from(!trees.is_empty());
        self.tally.with_shards += usize::from(!shards.is_empty());
        Ok(())
    }
}
