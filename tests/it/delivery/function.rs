//! A Lambda function: execution environments (each a warm `Deployment` with its own
//! caches and pacer, reused one invocation at a time, the most recently freed first),
//! reserved concurrency (an invocation beyond it is throttled), the function's timeout
//! (an invocation that reaches it is stopped, and its environment starts cold next time),
//! and the real handler run on the virtual clock: the writer's,
//! `ecs_srv::run::handler::handle`, or with `--pack-into-queue-url` the packer's,
//! `ecs_srv::run::packer::handle`, as the binary chooses.
//!
//! The zone cache is the one warm state kept by time: the handler measures its age on the
//! wall clock, which barely moves in a simulated run, so the environments keep it with a
//! the longest age it takes (an hour, longer than a run lasts) and this module drops it once it is `ZONE_CACHE_SECONDS` old in
//! virtual time (counted from the first invocation that read the zone into it).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ecs_srv::aws::{ApiCallLog, AwsClients};
use ecs_srv::config::Settings;
use ecs_srv::run::deployment::Deployment;
use ecs_srv::run::packer::Packer;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use tokio::task::JoinHandle;

use super::clock::TaskId;
use super::sdk::{instance_clients, InstanceWorld};

/// The zone cache age the environments are given on the wall clock: longer than any run.
const WALL_CACHE_SECONDS: &str = "3600";

/// The function's settings.
#[derive(Clone, Debug)]
pub struct FunctionSpec {
    /// ReservedConcurrentExecutions, if set.
    pub reserved_concurrency: Option<usize>,
    /// Timeout.
    pub timeout: Duration,
    /// The function's flags (its environment), besides the zone and the cache.
    pub flags: Vec<String>,
    /// ZONE_CACHE_SECONDS, kept in virtual time.
    pub zone_cache: Duration,
    /// The Route 53 request rate charged in virtual time (the default rate).
    pub charged_rate: f64,
    /// Start-up of a new environment, before the handler's own first requests.
    pub cold_start: Duration,
    /// Lambda's own time around every invocation.
    pub overhead: Duration,
}

/// Who invoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invoker {
    /// An event source mapping (its index).
    Mapping(usize),
    /// EventBridge, invoking directly (the schedule).
    Direct,
}

/// How an invocation ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// The handler's answer.
    Answered(Value),
    /// The handler's error (an invocation error).
    Failed(String),
    /// Stopped at the function's timeout.
    TimedOut,
}

/// A finished invocation.
#[derive(Debug)]
pub struct Finished {
    /// Its task on the clock.
    pub task: TaskId,
    /// Who invoked.
    pub invoker: Invoker,
    /// Whether it was asked for a reconcile (EventBridge's schedule, directly or queued).
    pub reconcile: bool,
    /// When it started.
    pub started: Duration,
    /// When it ended.
    pub ended: Duration,
    /// How it ended.
    pub outcome: Outcome,
    /// The AWS calls it made, by `Service.Operation`.
    pub calls: BTreeMap<String, u64>,
}

/// What a warm environment keeps: the writer's deployment, or the packer and its clients'
/// call log.
#[derive(Clone, Debug)]
enum Warm {
    Writer(Arc<Deployment>),
    Packer(Arc<Packer>, ApiCallLog),
}

impl Warm {
    fn calls(&self) -> &ApiCallLog {
        match self {
            Warm::Writer(deployment) => &deployment.clients.calls,
            Warm::Packer(_, calls) => calls,
        }
    }

    /// Runs the handler the binary runs for this function.
    async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Diagnostic> {
        match self {
            Warm::Writer(deployment) => ecs_srv::run::handler::handle(event, deployment).await,
            Warm::Packer(packer, _) => ecs_srv::run::packer::handle(event, packer).await,
        }
    }
}

#[derive(Debug, Default)]
struct Environment {
    warm: Option<Warm>,
    view_since: Option<Duration>,
}

struct Running {
    invoker: Invoker,
    reconcile: bool,
    started: Duration,
    environment: Environment,
    handle: JoinHandle<Completed>,
}

struct Completed {
    warm: Option<Warm>,
    outcome: Outcome,
    calls: BTreeMap<String, u64>,
    ended: Duration,
}

/// The function.
pub struct Function {
    spec: FunctionSpec,
    world: InstanceWorld,
    zone_id: String,
    idle: Vec<Environment>,
    running: BTreeMap<TaskId, Running>,
    timed_out: Vec<TaskId>,
    /// Environments started cold.
    pub cold_starts: usize,
    /// Invocations started.
    pub started: usize,
    seeds: u64,
}

impl Function {
    /// A function with no environment yet.
    pub fn new(spec: FunctionSpec, world: InstanceWorld, zone_id: &str) -> Self {
        Function {
            spec,
            world,
            zone_id: zone_id.to_owned(),
            idle: Vec::new(),
            running: BTreeMap::new(),
            timed_out: Vec::new(),
            cold_starts: 0,
            started: 0,
            seeds: 0,
        }
    }

    /// Invokes the handler with `payload` now, or says the invocation is throttled.
    pub fn invoke(&mut self, invoker: Invoker, payload: Value) -> Result<TaskId, Throttled> {
        if self
            .spec
            .reserved_concurrency
            .is_some_and(|reserved| self.running.len() >= reserved)
        {
            return Err(Throttled);
        }
        let reconcile = asks_for_reconcile(&payload);
        let clock = self.world.clock.clone();
        let now = clock.now();
        let mut environment = self.idle.pop().unwrap_or_default();
        if let (Some(Warm::Writer(deployment)), Some(since)) =
            (&environment.warm, environment.view_since)
        {
            if now.saturating_sub(since) >= self.spec.zone_cache {
                deployment.zone_cache.keep(None);
                environment.view_since = None;
            }
        }
        let warm = environment.warm.clone();
        let start = match &warm {
            Some(_) => self.spec.overhead,
            None => {
                self.cold_starts += 1;
                self.spec.overhead + self.spec.cold_start
            }
        };
        self.seeds += 1;
        let cold = warm.is_none().then(|| {
            let clients = instance_clients(&self.world, self.spec.charged_rate, self.seeds);
            let mut flags: Vec<&str> = self.spec.flags.iter().map(String::as_str).collect();
            flags.extend(["--zone-cache-seconds", WALL_CACHE_SECONDS]);
            (
                crate::support::config::publisher_config(&self.zone_id, &flags),
                clients,
            )
        });
        self.seeds += 1;
        let request_id = format!("invocation-{}", self.seeds);
        let task_clock = clock.clone();
        let timeout = self.spec.timeout;
        let (task, handle) = clock.spawn(Some(now + timeout), async move {
            task_clock.sleep(start).await;
            let deployment = match (warm, cold) {
                (Some(deployment), _) => deployment,
                (None, Some((settings, clients))) => {
                    match start_environment(settings, clients).await {
                        Ok(deployment) => deployment,
                        Err(err) => {
                            return Completed {
                                warm: None,
                                outcome: Outcome::Failed(format!("init: {err}")),
                                calls: BTreeMap::new(),
                                ended: task_clock.now(),
                            }
                        }
                    }
                }
                (None, None) => unreachable!("a cold environment gets its settings"),
            };
            let before = deployment.calls().snapshot();
            let mut context = Context::default();
            context.request_id = request_id;
            let answer = deployment.handle(LambdaEvent::new(payload, context)).await;
            let calls = deployment.calls().since(&before);
            Completed {
                outcome: match answer {
                    Ok(value) => Outcome::Answered(value),
                    Err(diagnostic) => Outcome::Failed(format!(
                        "{}: {}",
                        diagnostic.error_type, diagnostic.error_message
                    )),
                },
                warm: Some(deployment),
                calls,
                ended: task_clock.now(),
            }
        });
        self.started += 1;
        self.running.insert(
            task,
            Running {
                invoker,
                reconcile,
                started: now,
                environment,
                handle,
            },
        );
        Ok(task)
    }

    /// Notes that the clock stopped `task` at its deadline.
    pub fn expired(&mut self, task: TaskId) {
        self.timed_out.push(task);
    }

    /// The invocations that ended since the last call, in the order they ended.
    pub async fn finished(&mut self) -> Vec<Finished> {
        let done: Vec<TaskId> = self
            .running
            .iter()
            .filter(|(task, running)| running.handle.is_finished() || self.timed_out.contains(task))
            .map(|(task, _)| *task)
            .collect();
        let mut finished = Vec::new();
        for task in done {
            let Some(running) = self.running.remove(&task) else {
                continue;
            };
            let timed_out = self.timed_out.contains(&task);
            let completed = running.handle.await;
            let now = self.world.clock.now();
            let (outcome, calls, ended, deployment) = match completed {
                Ok(done) if !timed_out => (done.outcome, done.calls, done.ended, done.warm),
                _ => (Outcome::TimedOut, BTreeMap::new(), now, None),
            };
            let mut environment = running.environment;
            if let Some(deployment) = deployment {
                let read = calls.contains_key("Route53.ListResourceRecordSets");
                if environment.view_since.is_none() && read && !self.spec.zone_cache.is_zero() {
                    environment.view_since = Some(running.started);
                }
                environment.warm = Some(deployment);
                self.idle.push(environment);
            }
            finished.push(Finished {
                task,
                invoker: running.invoker,
                reconcile: running.reconcile,
                started: running.started,
                ended,
                outcome,
                calls,
            });
        }
        self.timed_out
            .retain(|task| self.running.contains_key(task));
        finished.sort_by_key(|f| (f.ended, f.task));
        finished
    }
}

/// What a cold environment starts as: the packer when its settings name a work queue (as
/// the binary decides), else the writer.
async fn start_environment(settings: Settings, clients: AwsClients) -> Result<Warm, String> {
    match settings.pack_into_queue_url.clone() {
        Some(work_queue_url) => {
            let calls = clients.calls.clone();
            let packer = Packer {
                sqs: clients.sqs,
                work_queue_url,
            };
            Ok(Warm::Packer(Arc::new(packer), calls))
        }
        None => crate::support::config::deployment(settings, clients)
            .await
            .map(|deployment| Warm::Writer(Arc::new(deployment)))
            .map_err(|err| err.to_string()),
    }
}

/// Whether a payload carries EventBridge's scheduled event, itself or in an SQS message.
fn asks_for_reconcile(payload: &Value) -> bool {
    let scheduled = |event: &Value| event["detail-type"] == "Scheduled Event";
    scheduled(payload)
        || payload["Records"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|record| {
                record["body"]
                    .as_str()
                    .and_then(|body| serde_json::from_str::<Value>(body).ok())
                    .is_some_and(|event| scheduled(&event))
            })
}

/// The invocation was throttled: the function is at its reserved concurrency.
#[derive(Debug)]
pub struct Throttled;
