//! The driver: one run of one design over one timeline, in virtual time.
//!
//! Each step waits until every invocation is parked on the clock, settles the invocations
//! that ended (their batches deleted or returned), makes the timeline's due happenings true
//! (and puts their events on their way), lets each event source mapping receive and
//! invoke, and only then moves time to the next thing that is due: a sleeper, a
//! happening, a delivery, a batching window, a throttled retry, a message turning
//! visible. Every loop is bounded; a run that reaches its bound says so.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;

use super::clock::{Clock, TaskId, Woken};
use super::design::{Design, Target, MESSAGE_GROUP};
use super::function::{Finished, Function, Invoker, Outcome};
use super::mapping::{Consumer, Mapping};
use super::queue::{Message, Outgoing, Queue, QueueKind};
use super::route53::{AccountBudget, Route53Ledger, Route53World};
use super::sdk::{InstanceWorld, Latencies};
use super::sqs::{SqsLedger, SqsWorld};
use super::world::{apply, Timeline};
use crate::simulated::account::Account;
use crate::support::strict_zone::StrictZone;

/// Steps one run may take at most: far above any scenario's need.
const MAX_STEPS: usize = 2_000_000;
/// How long after EventBridge sees an event it is in the queue or invoking the function.
const EVENTBRIDGE_DELAY: Duration = Duration::from_millis(500);
/// Asynchronous invocations (the schedule, when it invokes directly): retries on function
/// error (EventInvokeConfig.MaximumRetryAttempts) and their delays.
const ASYNC_RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(60), Duration::from_secs(120)];
/// The longest wait between tries of a throttled asynchronous invocation.
const ASYNC_THROTTLE_BACKOFF: Duration = Duration::from_secs(300);

/// The queues of a run, shared with the function's SQS client.
#[derive(Debug, Default)]
pub struct Queues {
    /// The queues, by index.
    pub list: Vec<Queue>,
    /// Messages moved to a dead-letter queue, with the queue they left.
    pub dead: Vec<(usize, Message)>,
}

/// Everything a run shares between the driver and the function's clients.
#[derive(Clone, Debug)]
pub struct Shared {
    /// The clock.
    pub clock: Clock,
    /// The queues.
    pub queues: Arc<Mutex<Queues>>,
    /// The account's ECS and EC2.
    pub account: Arc<Mutex<Account>>,
    /// Route 53.
    pub route53: Route53World,
    /// What the function asked of SQS.
    pub sqs: Arc<Mutex<SqsLedger>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug)]
enum Pending {
    Happening(usize),
    Deliver {
        target: Target,
        payload: Value,
        attempt: usize,
        backoff: Duration,
    },
}

/// What a run counted.
#[derive(Debug, Default)]
pub struct Counts {
    /// Invocations that ended, by how they ended.
    pub finished: Vec<Finished>,
    /// Direct invocations throttled (each try).
    pub direct_throttled: usize,
    /// Whether the run stopped at its bound with work left.
    pub cut_short: bool,
    /// The virtual time the run ended.
    pub ended: Duration,
}

/// The world of one run.
pub struct Run<'a> {
    design: &'a Design,
    timeline: &'a Timeline,
    /// What the function's clients and the driver share.
    pub shared: Shared,
    /// The function that writes the zone.
    pub function: Function,
    /// The packer, in the designs that have one.
    pub packer: Option<Function>,
    /// The mappings.
    pub mappings: Vec<Mapping>,
    pending: BTreeMap<(Duration, u64), Pending>,
    order: u64,
    direct: BTreeMap<TaskId, (Value, usize)>,
    /// What it counted.
    pub counts: Counts,
}

impl<'a> Run<'a> {
    /// A run of `design` over `timeline` on `zone` and `account`.
    pub fn new(
        design: &'a Design,
        timeline: &'a Timeline,
        zone: Arc<Mutex<StrictZone>>,
        account: Arc<Mutex<Account>>,
        latencies: Latencies,
        route53_latency: Duration,
    ) -> Self {
        let logged = lock(&zone).calls.len();
        let shared = Shared {
            clock: Clock::default(),
            queues: Arc::new(Mutex::new(Queues {
                list: design.queues.iter().cloned().map(Queue::new).collect(),
                dead: Vec::new(),
            })),
            account,
            route53: Route53World {
                zone: Arc::clone(&zone),
                budget: Arc::new(Mutex::new(AccountBudget::route53())),
                ledger: Arc::new(Mutex::new(Route53Ledger {
                    answered_at: vec![Duration::ZERO; logged],
                    throttled: 0,
                })),
                latency: route53_latency,
            },
            sqs: Arc::new(Mutex::new(SqsLedger::default())),
        };
        let instance = InstanceWorld {
            clock: shared.clock.clone(),
            account: Arc::clone(&shared.account),
            route53: shared.route53.clone(),
            latencies,
            sqs: SqsWorld {
                queues: Arc::clone(&shared.queues),
                clock: shared.clock.clone(),
                ledger: Arc::clone(&shared.sqs),
            },
        };
        let zone_id = lock(&zone).zone_id.clone();
        let mut run = Run {
            design,
            timeline,
            function: Function::new(design.function.clone(), instance.clone(), &zone_id),
            packer: design
                .packer
                .clone()
                .map(|spec| Function::new(spec, instance, &zone_id)),
            mappings: design.mappings.iter().cloned().map(Mapping::new).collect(),
            shared,
            pending: BTreeMap::new(),
            order: 0,
            direct: BTreeMap::new(),
            counts: Counts::default(),
        };
        for (index, (at, _)) in timeline.happenings.iter().enumerate() {
            run.later(*at, Pending::Happening(index));
        }
        run
    }

    fn later(&mut self, at: Duration, pending: Pending) {
        self.order += 1;
        self.pending.insert((at, self.order), pending);
    }

    /// Runs until nothing is left to do, or until `until` of virtual time.
    pub async fn run(&mut self, until: Duration) {
        let clock = self.shared.clock.clone();
        for _ in 0..MAX_STEPS {
            clock.settle().await;
            let now = clock.now();
            let started = self.started();
            let mut finished_now = self.function.finished().await;
            if let Some(packer) = &mut self.packer {
                finished_now.extend(packer.finished().await);
            }
            for finished in finished_now {
                if tracing() {
                    eprintln!(
                        "{:?} {:?} {:?}..{:?} {:?}",
                        finished.task,
                        finished.invoker,
                        finished.started,
                        finished.ended,
                        finished.calls
                    );
                }
                self.settle_invocation(&finished);
                self.counts.finished.push(finished);
            }
            while let Some(entry) = self.pending.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let pending = entry.remove();
                self.handle(pending, now);
            }
            self.pump(now);
            if self.started() != started {
                // New invocations run up to their first wait at this moment, before time moves.
                continue;
            }
            let mut next: Vec<Duration> = clock.next_wake().into_iter().collect();
            next.extend(self.pending.keys().next().map(|(at, _)| *at));
            {
                let queues = lock(&self.shared.queues);
                for mapping in &self.mappings {
                    next.extend(mapping.next_due(&queues.list[mapping.spec.queue], now));
                }
            }
            let Some(at) = next.into_iter().min() else {
                self.counts.ended = now;
                return;
            };
            if at > until {
                self.counts.ended = now;
                self.counts.cut_short = true;
                return;
            }
            clock.advance_to(at);
            if let Woken::Expired(task) = clock.wake_next() {
                if tracing() {
                    eprintln!("expired {task:?} at {at:?}");
                }
                self.function.expired(task);
                if let Some(packer) = &mut self.packer {
                    packer.expired(task);
                }
            }
        }
        self.counts.cut_short = true;
    }

    /// Invocations started, by every function of the design.
    fn started(&self) -> usize {
        self.function.started + self.packer.as_ref().map_or(0, |packer| packer.started)
    }

    fn pump(&mut self, now: Duration) {
        let mut queues = lock(&self.shared.queues);
        for (index, mapping) in self.mappings.iter_mut().enumerate() {
            let queue_index = mapping.spec.queue;
            let mut dead = Vec::new();
            let function = match mapping.spec.function {
                Consumer::Writer => &mut self.function,
                Consumer::Packer => self
                    .packer
                    .as_mut()
                    .expect("a design whose mapping invokes the packer has one"),
            };
            mapping.pump(
                index,
                &mut queues.list[queue_index],
                function,
                &mut dead,
                now,
            );
            queues
                .dead
                .extend(dead.into_iter().map(|m| (queue_index, m)));
        }
    }

    fn settle_invocation(&mut self, finished: &Finished) {
        match finished.invoker {
            Invoker::Mapping(index) => {
                let mapping = &mut self.mappings[index];
                let mut queues = lock(&self.shared.queues);
                mapping.finish(
                    finished.task,
                    &finished.outcome,
                    &mut queues.list[mapping.spec.queue],
                );
            }
            Invoker::Direct => {
                let Some((payload, attempt)) = self.direct.remove(&finished.task) else {
                    return;
                };
                if let Some(delay) = ASYNC_RETRY_DELAYS
                    .get(attempt)
                    .filter(|_| failed(&finished.outcome))
                {
                    let retry = Pending::Deliver {
                        target: Target::Direct,
                        payload,
                        attempt: attempt + 1,
                        backoff: Duration::from_secs(1),
                    };
                    self.later(finished.ended + *delay, retry);
                }
            }
        }
    }

    fn handle(&mut self, pending: Pending, now: Duration) {
        match pending {
            Pending::Happening(index) => {
                let (_, happening) = &self.timeline.happenings[index];
                let Some(payload) = apply(&self.shared.account, self.timeline, happening, now)
                else {
                    return;
                };
                let target = match happening {
                    super::world::Happening::Schedule => self.design.schedule,
                    _ => self.design.events,
                };
                self.later(
                    now + EVENTBRIDGE_DELAY,
                    Pending::Deliver {
                        target,
                        payload,
                        attempt: 0,
                        backoff: Duration::from_secs(1),
                    },
                );
            }
            Pending::Deliver {
                target: Target::Queue(index),
                payload,
                ..
            } => {
                let mut queues = lock(&self.shared.queues);
                let queue = &mut queues.list[index];
                let group = matches!(queue.spec.kind, QueueKind::Fifo { .. })
                    .then(|| MESSAGE_GROUP.to_owned());
                let sent = queue.send(
                    Outgoing {
                        body: payload.to_string(),
                        group,
                        ..Outgoing::default()
                    },
                    now,
                );
                assert!(sent.is_ok(), "EventBridge's put is refused: {sent:?}");
            }
            Pending::Deliver {
                target: Target::Direct,
                payload,
                attempt,
                backoff,
            } => match self.function.invoke(Invoker::Direct, payload.clone()) {
                Ok(task) => {
                    self.direct.insert(task, (payload, attempt));
                }
                Err(_) => {
                    self.counts.direct_throttled += 1;
                    let next = (backoff * 2).min(ASYNC_THROTTLE_BACKOFF);
                    self.later(
                        now + backoff,
                        Pending::Deliver {
                            target: Target::Direct,
                            payload,
                            attempt,
                            backoff: next,
                        },
                    );
                }
            },
        }
    }
}

/// Whether `DELIVERY_TRACE` asks for a line per finished invocation and expiry (stderr).
fn tracing() -> bool {
    std::env::var_os("DELIVERY_TRACE").is_some()
}

/// Whether an invocation failed in a way Lambda retries an asynchronous one for.
pub fn failed(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Failed(_) | Outcome::TimedOut)
}
