//! The property space: worlds of tasks with fates, the settings that change names and
//! routing, how Route 53 fails, and the foreign records a real zone holds beside ours.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use crate::simulated::tasks::{ContainerSpec, Mode, TaskSpec};

/// Container instances of the simulated account.
pub const HOSTS: usize = 3;
/// A cluster name past the 20 characters a mark keeps and the 24 a name keeps.
pub const LONG_CLUSTER: &str = "payments-Production_Cluster-2026";

/// What ECS does with a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    StaysRunning,
    DrainedThenStopped,
    Stopped,
    NeverRuns,
}

impl Fate {
    /// The (lastStatus, desiredStatus) steps ECS takes the task through, versions 1, 2...
    pub fn steps(self) -> &'static [(&'static str, &'static str)] {
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

/// How Route 53 fails during a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Faults {
    /// Never.
    None,
    /// Throttling on every nth call: the SDK's retries absorb it.
    Every(usize),
    /// Now and then, a fault on every attempt of one operation until it clears: the
    /// events it meets fail as retryable and come back.
    PastRetryBudget,
}

/// One case.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub tasks: Vec<(TaskSpec, Fate)>,
    pub seed: u64,
    /// Random steps before every task settles.
    pub steps: usize,
    pub page_size: usize,
    pub faults: Faults,
    pub multivalue: bool,
    pub whole_sets: bool,
    pub cluster_in_names: bool,
    pub regional: bool,
    pub owner: &'static str,
}

impl Scenario {
    /// The publisher's flags.
    pub fn flags(&self) -> Vec<&'static str> {
        let on = |on: bool| if on { "on" } else { "off" };
        vec![
            "--routing-policy",
            if self.multivalue {
                "multivalue"
            } else {
                "weighted"
            },
            "--srv-sets",
            on(self.whole_sets),
            "--cluster-in-names",
            on(self.cluster_in_names),
            "--regional-names",
            on(self.regional),
            "--record-owner",
            self.owner,
        ]
    }
}

/// The settings and faults of a case, drawn together.
fn settings() -> impl Strategy<Value = (Faults, bool, bool, bool, bool, &'static str)> {
    let faults = prop_oneof![
        2 => Just(Faults::None),
        1 => Just(Faults::Every(2)),
        1 => Just(Faults::Every(3)),
        2 => Just(Faults::PastRetryBudget),
    ];
    (
        faults,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::bool::weighted(0.25),
        prop_oneof![Just("ecs-srv"), Just("blue")],
    )
}

/// One task of `service` with a fate, drawn: any network mode, one or two containers with
/// or without a weight label (0 included), sometimes dual-stack.
fn task(service: &'static str) -> impl Strategy<Value = (TaskSpec, Fate, bool)> {
    let mode = prop_oneof![Just(Mode::Bridge), Just(Mode::Host), Just(Mode::Awsvpc)];
    let fate = prop_oneof![
        4 => Just(Fate::StaysRunning),
        2 => Just(Fate::DrainedThenStopped),
        1 => Just(Fate::Stopped),
        1 => Just(Fate::NeverRuns),
    ];
    let weight = proptest::option::weighted(0.4, 0u8..=255);
    let container = (1000u16..1100, 32768u16..33768, weight);
    (
        mode,
        0..HOSTS,
        any::<u16>(),
        proptest::collection::vec(container, 1..=2),
        fate,
        any::<bool>(),
        prop::bool::weighted(0.3),
    )
        .prop_map(
            move |(mode, host, eni, containers, fate, long_cluster, ipv6)| {
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
                let [high, low] = eni.to_be_bytes();
                let spec = TaskSpec {
                    service: service.to_owned(),
                    mode,
                    host,
                    eni_address: Ipv4Addr::new(10, 1, high, low),
                    ipv6: ipv6.then(|| {
                        Ipv6Addr::new(0x2600, 0x1f18, 0, 0, 0, 0, u16::from(high), u16::from(low))
                    }),
                    containers,
                    ..TaskSpec::default()
                };
                (spec, fate, long_cluster)
            },
        )
}

/// Gives every task a unique id and a cluster: with the cluster in the names a service's
/// tasks may run in two clusters; without, each service keeps to one (a name never holds
/// two clusters' tasks, a refusal that has its own test).
fn placed(
    drawn: Vec<(TaskSpec, Fate, bool)>,
    seed: u64,
    cluster_in_names: bool,
) -> Vec<(TaskSpec, Fate)> {
    drawn
        .into_iter()
        .enumerate()
        .map(|(index, (mut task, fate, long_cluster))| {
            task.task_id = format!("{index:08x}{seed:024x}");
            let long = if cluster_in_names {
                long_cluster
            } else {
                task.service == "api"
            };
            task.cluster = if long { LONG_CLUSTER } else { "demo" }.to_owned();
            // Two tasks never share an ENI address.
            task.eni_address = Ipv4Addr::new(
                10,
                1 + (index / 250) as u8,
                (index % 250) as u8,
                task.eni_address.octets()[3],
            );
            (task, fate)
        })
        .collect()
}

/// Small worlds: one to twelve tasks over up to three services.
pub fn small_worlds() -> impl Strategy<Value = Scenario> {
    let tasks = proptest::collection::vec(
        prop_oneof![task("web"), task("api"), task("worker")],
        1..=12,
    );
    (
        tasks,
        any::<u64>(),
        5usize..60,
        prop_oneof![Just(3usize), Just(10), Just(300)],
        settings(),
    )
        .prop_map(|(tasks, seed, steps, page_size, settings)| {
            scenario(tasks, seed, steps, page_size, settings)
        })
}

/// Large services: one service of 90 to 300 tasks (trees, and shards of its whole sets),
/// beside a small one, most of them staying, some leaving.
pub fn large_services() -> impl Strategy<Value = Scenario> {
    let large =
        (90usize..=300).prop_flat_map(|count| proptest::collection::vec(task("web"), count));
    let small = proptest::collection::vec(task("api"), 1..=3);
    (large, small, any::<u64>(), settings()).prop_map(|(large, small, seed, settings)| {
        let tasks: Vec<_> = large.into_iter().chain(small).collect();
        let steps = tasks.len() * 3;
        scenario(tasks, seed, steps, 300, settings)
    })
}

fn scenario(
    tasks: Vec<(TaskSpec, Fate, bool)>,
    seed: u64,
    steps: usize,
    page_size: usize,
    (faults, multivalue, whole_sets, cluster_in_names, regional, owner): (
        Faults,
        bool,
        bool,
        bool,
        bool,
        &'static str,
    ),
) -> Scenario {
    Scenario {
        tasks: placed(tasks, seed, cluster_in_names),
        seed,
        steps,
        page_size,
        faults,
        multivalue,
        whole_sets,
        cluster_in_names,
        regional,
        owner,
    }
}
