//! What happens in the account over a run, in virtual time: ECS moves tasks (and
//! EventBridge puts each move's event on its way to the function), tasks with health checks
//! turn HEALTHY some seconds after RUNNING (the health gate holds them until then), and
//! the reconcile schedule fires. The same timeline gives what each task's records should
//! do and since when, which is what lag is measured against.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_ecs::types::{HealthCheck, HealthStatus};
use serde_json::{json, Value};

use crate::simulated::account::Account;
use crate::simulated::set_task;
use crate::simulated::tasks::{TaskSpec, ACCOUNT, REGION};

/// The wall-clock start of every run's event times (only the events' `time` field).
const EPOCH_SECONDS: u64 = 1_780_000_000;

/// One task of a run.
#[derive(Clone, Debug)]
pub struct SimTask {
    /// Its description.
    pub spec: TaskSpec,
    /// Whether its containers define health checks (the gate holds it until HEALTHY).
    pub gated: bool,
}

/// Something that happens at a moment of the run.
#[derive(Clone, Debug)]
pub enum Happening {
    /// ECS moves task `task` (an index into the run's tasks); its event follows unless the
    /// move is not `announced` (an event lost: only a reconcile finds it).
    Task {
        /// The task.
        task: usize,
        /// lastStatus.
        last: &'static str,
        /// desiredStatus.
        desired: &'static str,
        /// ECS's version.
        version: u64,
        /// Whether EventBridge sees the move.
        announced: bool,
    },
    /// ECS reports the task HEALTHY from now on.
    Healthy {
        /// The task.
        task: usize,
    },
    /// EventBridge's schedule fires: a reconcile.
    Schedule,
}

/// A run's timeline.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    /// A short name.
    pub name: String,
    /// The tasks.
    pub tasks: Vec<SimTask>,
    /// What happens when, in time order.
    pub happenings: Vec<(Duration, Happening)>,
    /// Hosts (container instances) in the account.
    pub hosts: usize,
    /// The zone's record set quota, when raised above Route 53's default.
    pub zone_quota: Option<usize>,
}

impl Timeline {
    /// Adds a happening; call [`Self::sorted`] once all are in.
    pub fn at(&mut self, at: Duration, happening: Happening) {
        self.happenings.push((at, happening));
    }

    /// The timeline with its happenings in time order (stable for equal times).
    pub fn sorted(mut self) -> Self {
        self.happenings.sort_by_key(|(at, _)| *at);
        self
    }

    /// The reconcile schedule: every `every` from `first`, until `until`.
    pub fn schedule(&mut self, first: Duration, every: Duration, until: Duration) {
        let mut at = first;
        while at < until {
            self.at(at, Happening::Schedule);
            at += every;
        }
    }
}

/// The event time of virtual moment `at`.
fn event_time(at: Duration) -> String {
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH_SECONDS) + at;
    humantime::format_rfc3339_seconds(wall).to_string()
}

/// Gives the task's definition a health check whose settle bound (start period plus
/// interval × retries: 10 minutes) outlasts any run on the wall clock, so the gate's
/// verdict while ECS reports UNKNOWN is "not yet", never "unsettled".
fn add_health_check(account: &Mutex<Account>, task: &TaskSpec) {
    let mut world = account.lock().unwrap();
    let Some(definition) = world.task_definitions.get_mut(&task.definition_arn()) else {
        return;
    };
    for container in definition.container_definitions.iter_mut().flatten() {
        container.health_check = Some(
            HealthCheck::builder()
                .command("CMD-SHELL")
                .command("curl -f http://localhost:8080/ || exit 1")
                .interval(30)
                .retries(10)
                .start_period(300)
                .build()
                .expect("a command is set"),
        );
    }
}

/// What DescribeTasks reports of the task's health from now on.
fn report_health(account: &Mutex<Account>, task: &TaskSpec, status: HealthStatus) {
    let mut world = account.lock().unwrap();
    let Some(described) = world.details.get_mut(&task.task_arn()) else {
        return;
    };
    described.health_status = Some(status.clone());
    described.started_at = Some(SystemTime::now().into());
    for container in described.containers.iter_mut().flatten() {
        container.health_status = Some(status.clone());
    }
}

/// Makes a happening true in the account at `at`; returns the event EventBridge puts on
/// its way, if any.
pub fn apply(
    account: &Arc<Mutex<Account>>,
    timeline: &Timeline,
    happening: &Happening,
    at: Duration,
) -> Option<Value> {
    match happening {
        Happening::Task {
            task,
            last,
            desired,
            version,
            announced,
        } => {
            let sim = &timeline.tasks[*task];
            set_task(account, &sim.spec, last, desired, *version);
            if sim.gated {
                add_health_check(account, &sim.spec);
                report_health(account, &sim.spec, HealthStatus::UnknownValue);
            }
            if !announced {
                return None;
            }
            let mut event = sim.spec.event(last, desired, *version);
            event["id"] = json!(format!(
                "{}-{version}-{}",
                sim.spec.task_id,
                desired.to_ascii_lowercase()
            ));
            event["time"] = json!(event_time(at));
            Some(event)
        }
        Happening::Healthy { task } => {
            report_health(account, &timeline.tasks[*task].spec, HealthStatus::Healthy);
            None
        }
        Happening::Schedule => Some(json!({
            "version": "0",
            "id": format!("schedule-{}", at.as_secs()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": event_time(at),
            "region": REGION,
            "resources": [format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/ecs-srv-reconcile")],
            "detail": {}
        })),
    }
}
