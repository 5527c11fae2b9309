//! What each step found, as data: the demo binary prints it, the end-to-end test asserts
//! on it. Each report also names its own problems, so the demo fails on the same things
//! the test checks, without the two drifting apart.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};

use crate::dns::{SrvRecord, ZoneRecord};
use crate::lambda::Invocation;
use crate::traffic::Spread;

/// What a step should have achieved but did not, in words for a person.
pub trait Check {
    /// Empty when the step did everything it should.
    fn problems(&self) -> Vec<String>;
}

/// Step 1: the emulators and the function.
#[derive(Clone, Debug)]
pub struct StartReport {
    /// moto's endpoint.
    pub moto_endpoint: String,
    /// The private zone's id.
    pub zone_id: String,
    /// The DNS front's UDP and TCP address.
    pub dns_addr: SocketAddr,
    /// How events reach ecs-srv, in words.
    pub delivery: String,
    /// cargo-lambda's Runtime API address, on the Lambda path.
    pub runtime_api: Option<SocketAddr>,
}

/// One seeded task, for the output.
#[derive(Clone, Debug)]
pub struct TaskLine {
    /// The task id.
    pub task_id: String,
    /// `web` or `api`.
    pub service: String,
    /// Where it runs, in words.
    pub placement: String,
}

/// Step 2: the seeded account.
#[derive(Clone, Debug)]
pub struct SeedReport {
    /// The VPC id and CIDR.
    pub vpc: String,
    /// EC2 hosts: instance id and private IP.
    pub hosts: Vec<(String, Ipv4Addr)>,
    /// The cluster ARN.
    pub cluster_arn: String,
    /// Every task.
    pub tasks: Vec<TaskLine>,
}

/// Step 3: one server per task.
#[derive(Clone, Debug)]
pub struct ServersReport {
    /// Task id, service, and where its server listens.
    pub servers: Vec<(String, String, SocketAddr)>,
}

/// Steps 4 and 7: what ecs-srv did with each event.
#[derive(Clone, Debug, Default)]
pub struct DeliveryReport {
    /// A label (`RUNNING web 1a2b…`) and the invocation.
    pub invocations: Vec<(String, Invocation)>,
}

impl Check for DeliveryReport {
    fn problems(&self) -> Vec<String> {
        self.invocations
            .iter()
            .filter(|(_, inv)| inv.decision != "publish" || inv.changes.is_empty())
            .map(|(label, inv)| {
                format!(
                    "{label}: ecs-srv decided {} with {} changes, expected a publish",
                    inv.decision,
                    inv.changes.len()
                )
            })
            .collect()
    }
}

/// Step 5: the zone through the API and through DNS.
#[derive(Clone, Debug)]
pub struct ZoneReport {
    /// Every record set, from ListResourceRecordSets.
    pub records: Vec<ZoneRecord>,
    /// The SRV name of service `web`.
    pub web_srv_name: String,
    /// How many SRV queries it took to see every web task.
    pub srv_queries: usize,
    /// The most SRV records any one answer held (weighted routing: 1).
    pub most_records_per_answer: usize,
    /// Each web task's SRV record as DNS returned it, by task id.
    pub srv_by_task: BTreeMap<String, SrvRecord>,
    /// Each task: its per-task name, what its A query returned, and its real address.
    pub task_names: Vec<(String, Vec<Ipv4Addr>, Ipv4Addr)>,
    /// Task ids expected in the zone.
    pub expected_tasks: Vec<String>,
}

impl Check for ZoneReport {
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for task in &self.expected_tasks {
            let in_zone = self.records.iter().any(|r| {
                r.values.iter().any(|v| v.contains(task.as_str()))
                    || r.name.starts_with(task.as_str())
            });
            if !in_zone {
                problems.push(format!("task {task} has no record in the zone"));
            }
        }
        for (name, answer, expected) in &self.task_names {
            if answer.as_slice() != [*expected] {
                problems.push(format!("{name} answered {answer:?}, expected {expected}"));
            }
        }
        if self.srv_by_task.len() < 3 {
            problems.push(format!(
                "{} SRV queries saw {} of the 3 web tasks",
                self.srv_queries,
                self.srv_by_task.len()
            ));
        }
        if self.most_records_per_answer != 1 {
            problems.push(format!(
                "a weighted SRV answer held {} records, Route 53 gives one",
                self.most_records_per_answer
            ));
        }
        problems
    }
}

/// Step 6: requests through srv-proxy.
#[derive(Clone, Debug)]
pub struct TrafficReport {
    /// The proxy's listener per SRV name.
    pub routes: Vec<(String, SocketAddr)>,
    /// Requests to `web`, by answering task.
    pub web: Spread,
    /// Requests to `api`.
    pub api: Spread,
    /// The web task ids, in seed order.
    pub web_tasks: Vec<String>,
    /// The api task id.
    pub api_task: String,
}

impl Check for TrafficReport {
    fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self
            .web
            .failures
            .iter()
            .chain(&self.api.failures)
            .map(|f| format!("a request failed: {f}"))
            .collect();
        for task in &self.web_tasks {
            if self.web.count(task) == 0 {
                problems.push(format!(
                    "web task {task} got none of {} requests",
                    self.web.sent
                ));
            }
        }
        if self.api.count(&self.api_task) != self.api.sent {
            problems.push(format!(
                "the api task answered {} of {} requests",
                self.api.count(&self.api_task),
                self.api.sent
            ));
        }
        problems
    }
}

/// Step 7: one task drained and stopped.
#[derive(Clone, Debug)]
pub struct DrainReport {
    /// The task taken out.
    pub task_id: String,
    /// What ecs-srv did with the draining event (desired STOPPED).
    pub draining: Invocation,
    /// Requests sent while the task drained (its server still up).
    pub during_drain: Spread,
    /// Connections its server accepted during that round (from the server's own count).
    pub connections_while_draining: u64,
    /// What ecs-srv did with the STOPPED event.
    pub stopped: Invocation,
    /// How long HAProxy took to drop the task's slot after the withdrawal, when it runs.
    pub haproxy_dropped_after: Option<std::time::Duration>,
    /// Zone records that still mention the task after both events.
    pub records_left: Vec<ZoneRecord>,
    /// The other web tasks.
    pub remaining_tasks: Vec<String>,
}

impl Check for DrainReport {
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.draining.decision != "withdraw" || self.draining.changes.is_empty() {
            problems.push(format!(
                "the draining event was a {} with {} changes, expected a withdraw",
                self.draining.decision,
                self.draining.changes.len()
            ));
        }
        if self.during_drain.count(&self.task_id) > 0 || self.connections_while_draining > 0 {
            problems.push(format!(
                "the drained task still got traffic: {} answers, {} connections",
                self.during_drain.count(&self.task_id),
                self.connections_while_draining
            ));
        }
        problems.extend(
            self.during_drain
                .failures
                .iter()
                .map(|f| format!("a request failed while draining: {f}")),
        );
        for task in &self.remaining_tasks {
            if self.during_drain.count(task) == 0 {
                problems.push(format!(
                    "web task {task} got no requests while the other drained"
                ));
            }
        }
        if self.stopped.decision == "publish" || !self.stopped.changes.is_empty() {
            problems.push(format!(
                "the STOPPED event changed the zone: {:?}",
                self.stopped.changes
            ));
        }
        if !self.records_left.is_empty() {
            problems.push(format!(
                "{} records still name the stopped task",
                self.records_left.len()
            ));
        }
        problems
    }
}

/// Step 7, continued: a late RUNNING event for the stopped task.
#[derive(Clone, Debug)]
pub struct LateReport {
    /// The stopped task.
    pub task_id: String,
    /// What ecs-srv did with the replayed RUNNING event.
    pub invocation: Invocation,
    /// What DescribeTasks says of the task (`lastStatus/desiredStatus`): what ecs-srv
    /// was told when it checked the event.
    pub ecs_status: String,
    /// Zone records that name the task afterwards.
    pub records_left: Vec<ZoneRecord>,
    /// SRV queries made afterwards, and how many named the task.
    pub srv_queries: usize,
    /// Answers naming the stopped task.
    pub srv_answers_naming_task: usize,
    /// Requests sent afterwards.
    pub traffic: Spread,
}

impl Check for LateReport {
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.invocation.decision != "withdraw" || !self.invocation.changes.is_empty() {
            problems.push(format!(
                "the late RUNNING event was a {} with changes {:?}, expected a withdraw of nothing",
                self.invocation.decision, self.invocation.changes
            ));
        }
        if self.describe_tasks_calls() == 0 || !self.ecs_status.starts_with("STOPPED/") {
            problems.push(format!(
                "ecs-srv made {} DescribeTasks calls, and ECS says {}",
                self.describe_tasks_calls(),
                self.ecs_status
            ));
        }
        if !self.records_left.is_empty() || self.srv_answers_naming_task > 0 {
            problems.push(format!(
                "the stopped task is in the zone again ({} records, {} SRV answers)",
                self.records_left.len(),
                self.srv_answers_naming_task
            ));
        }
        if self.traffic.count(&self.task_id) > 0 || !self.traffic.failures.is_empty() {
            problems.push(format!("traffic after the late event: {:?}", self.traffic));
        }
        problems
    }
}

impl LateReport {
    /// How often ecs-srv asked ECS about the task while deciding.
    pub fn describe_tasks_calls(&self) -> u64 {
        self.invocation
            .api_calls
            .get("ECS.DescribeTasks")
            .copied()
            .unwrap_or(0)
    }
}

/// Step 6, continued: HAProxy on the same zone.
#[derive(Clone, Debug)]
pub struct HaproxyReport {
    /// The name its server template reads.
    pub srv_name: String,
    /// Its frontend.
    pub listen: SocketAddr,
    /// The slots it filled: task name, address, HAProxy weight.
    pub slots: Vec<crate::haproxy::ServerSlot>,
    /// How long it took to fill them after it started.
    pub filled_after: std::time::Duration,
    /// Requests through its frontend.
    pub spread: Spread,
    /// The web tasks, each of which should have a slot and get requests.
    pub web_tasks: Vec<String>,
}

impl Check for HaproxyReport {
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for task in &self.web_tasks {
            if !self.slots.iter().any(|s| s.fqdn.starts_with(task.as_str())) {
                problems.push(format!("HAProxy has no slot for task {task}"));
            }
            if self.spread.count(task) == 0 {
                problems.push(format!("HAProxy sent task {task} nothing"));
            }
        }
        if !self.spread.failures.is_empty() {
            problems.push(format!(
                "requests through HAProxy failed: {:?}",
                self.spread.failures
            ));
        }
        problems
    }
}

/// Step 8: what was stopped.
#[derive(Clone, Debug, Default)]
pub struct CleanupReport {
    /// One line per stopped thing.
    pub stopped: Vec<String>,
}
