//! Virtual time: the clock that measures lag, and the one place the simulated invocations
//! wait.
//!
//! Every invocation runs the real handler as a task of its own. It waits on this clock
//! wherever the world would make it wait: an AWS request's latency, the pacer's slot at the
//! default rate, the SDK's retry backoff, its own start-up. The driver moves time forward
//! only when every task is parked here or finished (the real pacer, running fast on the
//! wall clock, merely delays that moment), and wakes one sleeper at a time, so the
//! interleaving of concurrent invocations follows virtual time alone and a run replays
//! exactly.
//!
//! A task may carry a deadline (the function's timeout): a sleep past it parks the task
//! until the deadline instead, and the driver cancels the task there, as Lambda stops an
//! invocation that runs out of time.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use aws_sdk_route53::config::{AsyncSleep, Sleep};
use tokio::sync::{oneshot, Notify};
use tokio::task::{AbortHandle, JoinHandle};

/// How long the driver waits on the wall clock for a running task to park or finish. A
/// task never takes this long (its only wall-clock waits are the pacer's, milliseconds);
/// passing it means a task waits on something that is not this clock, and the run would
/// hang instead of failing.
const STALL_GUARD: Duration = Duration::from_secs(120);

/// Identifies a simulated task (an invocation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(u64);

tokio::task_local! {
    static CURRENT: TaskId;
}

#[derive(Debug)]
struct Task {
    /// Whether the task is waiting on this clock alone: it returned `Pending` with a
    /// sleeper registered.
    parked: bool,
    /// Its sleepers registered and not yet woken or dropped.
    sleepers: usize,
    deadline: Option<Duration>,
    abort: Option<AbortHandle>,
}

#[derive(Debug)]
struct Sleeper {
    task: TaskId,
    /// Dropped (not sent) when the task is cancelled at its deadline.
    wake: oneshot::Sender<()>,
    /// The sleep was cut at the task's deadline: waking it cancels the task.
    expires: bool,
}

#[derive(Debug, Default)]
struct State {
    now: Duration,
    order: u64,
    sleepers: BTreeMap<(Duration, u64), Sleeper>,
    tasks: HashMap<TaskId, Task>,
    next_task: u64,
}

impl State {
    fn running(&self) -> usize {
        self.tasks.values().filter(|task| !task.parked).count()
    }
}

/// What waking the next sleeper did.
#[derive(Debug, PartialEq, Eq)]
pub enum Woken {
    /// A task resumed.
    Resumed,
    /// A task reached its deadline and was cancelled.
    Expired(TaskId),
    /// Nobody was asleep.
    Nobody,
}

/// The virtual clock, shared by the driver and every task.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    state: Arc<Mutex<State>>,
    quiet: Arc<Notify>,
}

impl Clock {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The time now, from the start of the run.
    pub fn now(&self) -> Duration {
        self.state().now
    }

    /// Runs `future` as a task on this clock, cancelled at `deadline` when one is given.
    pub fn spawn<T: Send + 'static>(
        &self,
        deadline: Option<Duration>,
        future: impl Future<Output = T> + Send + 'static,
    ) -> (TaskId, JoinHandle<T>) {
        let id = {
            let mut state = self.state();
            state.next_task += 1;
            let id = TaskId(state.next_task);
            state.tasks.insert(
                id,
                Task {
                    parked: false,
                    sleepers: 0,
                    deadline,
                    abort: None,
                },
            );
            id
        };
        let guard = Finished {
            clock: self.clone(),
            task: id,
        };
        let tracked = Tracked {
            inner: Box::pin(async move {
                let _guard = guard;
                future.await
            }),
            clock: self.clone(),
            task: id,
        };
        let handle = tokio::spawn(CURRENT.scope(id, tracked));
        if let Some(task) = self.state().tasks.get_mut(&id) {
            task.abort = Some(handle.abort_handle());
        }
        (id, handle)
    }

    /// Waits `duration` of virtual time; only a task spawned on this clock may wait.
    pub async fn sleep(&self, duration: Duration) {
        let until = self.now() + duration;
        self.sleep_until(until).await;
    }

    /// Waits until virtual time `until`.
    pub async fn sleep_until(&self, until: Duration) {
        let task = CURRENT
            .try_with(|task| *task)
            .expect("virtual sleeps happen inside tasks spawned on the clock");
        let (key, woken) = {
            let mut state = self.state();
            if until <= state.now {
                return;
            }
            let deadline = state.tasks.get(&task).and_then(|t| t.deadline);
            let expires = deadline.is_some_and(|deadline| until > deadline);
            let at = if expires {
                deadline.unwrap_or(until).max(state.now)
            } else {
                until
            };
            let (wake, woken) = oneshot::channel();
            state.order += 1;
            let key = (at, state.order);
            state.sleepers.insert(
                key,
                Sleeper {
                    task,
                    wake,
                    expires,
                },
            );
            if let Some(entry) = state.tasks.get_mut(&task) {
                entry.sleepers += 1;
            }
            (key, woken)
        };
        let mut registered = Registered {
            clock: self.clone(),
            key: Some(key),
        };
        // A cancelled task never gets past this point: its sender is dropped and the task
        // itself is aborted before it is polled again.
        if woken.await.is_err() {
            std::future::pending::<()>().await;
        }
        registered.key = None;
    }

    /// Waits (on the wall clock) until every task is parked or finished.
    pub async fn settle(&self) {
        loop {
            if self.state().running() == 0 {
                return;
            }
            if tokio::time::timeout(STALL_GUARD, self.quiet.notified())
                .await
                .is_err()
            {
                panic!("a simulated task neither parked on the virtual clock nor finished within {STALL_GUARD:?} of wall time");
            }
        }
    }

    /// When the next sleeper wakes.
    pub fn next_wake(&self) -> Option<Duration> {
        self.state().sleepers.keys().next().map(|(at, _)| *at)
    }

    /// Moves time forward to `to` (never back).
    pub fn advance_to(&self, to: Duration) {
        let mut state = self.state();
        state.now = state.now.max(to);
    }

    /// Wakes the earliest sleeper due now, or cancels its task at its deadline.
    pub fn wake_next(&self) -> Woken {
        let mut state = self.state();
        let now = state.now;
        let Some(key) = state
            .sleepers
            .keys()
            .next()
            .copied()
            .filter(|(at, _)| *at <= now)
        else {
            return Woken::Nobody;
        };
        let sleeper = state.sleepers.remove(&key).expect("the key was just read");
        if sleeper.expires {
            if let Some(task) = state.tasks.remove(&sleeper.task) {
                if let Some(abort) = task.abort {
                    abort.abort();
                }
            }
            return Woken::Expired(sleeper.task);
        }
        if let Some(task) = state.tasks.get_mut(&sleeper.task) {
            task.parked = false;
            task.sleepers = task.sleepers.saturating_sub(1);
        }
        // A sleep whose future is gone took its entry with it, so the send reaches a task.
        let _ = sleeper.wake.send(());
        Woken::Resumed
    }

    /// The SDK's sleep, on this clock (retry backoff).
    pub fn sdk_sleep(&self) -> aws_sdk_route53::config::SharedAsyncSleep {
        aws_sdk_route53::config::SharedAsyncSleep::new(VirtualSleep(self.clone()))
    }
}

/// Takes a finished (or cancelled) task off the clock.
struct Finished {
    clock: Clock,
    task: TaskId,
}

impl Drop for Finished {
    fn drop(&mut self) {
        let mut state = self.clock.state();
        state.tasks.remove(&self.task);
        if state.running() == 0 {
            self.clock.quiet.notify_one();
        }
    }
}

/// A sleep's entry while its future waits; a sleep dropped before it is woken (the losing
/// side of a timeout) takes its entry off the clock.
struct Registered {
    clock: Clock,
    key: Option<(Duration, u64)>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut state = self.clock.state();
        if let Some(sleeper) = state.sleepers.remove(&key) {
            if let Some(task) = state.tasks.get_mut(&sleeper.task) {
                task.sleepers = task.sleepers.saturating_sub(1);
            }
        }
    }
}

/// A task's future, telling the clock after each poll whether the task now waits on the
/// clock alone (pending with a sleeper registered) or on something else (the pacer's wall
/// clock), which the driver must let finish before time moves.
struct Tracked<T> {
    inner: Pin<Box<dyn Future<Output = T> + Send>>,
    clock: Clock,
    task: TaskId,
}

impl<T> Future for Tracked<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<T> {
        let polled = self.inner.as_mut().poll(cx);
        if polled.is_pending() {
            let mut state = self.clock.state();
            if let Some(task) = state.tasks.get_mut(&self.task) {
                task.parked = task.sleepers > 0;
            }
            if state.running() == 0 {
                self.clock.quiet.notify_one();
            }
        }
        polled
    }
}

#[derive(Debug)]
struct VirtualSleep(Clock);

impl AsyncSleep for VirtualSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        let clock = self.0.clone();
        Sleep::new(async move { clock.sleep(duration).await })
    }
}
