//! An SRV answer as a route uses it: each target with its metric handles and ejection record.
//!
//! Everything a connection needs about a target is worked out once, when the answer arrives,
//! not once per connection: the label strings and the metric series are looked up here, so the
//! fast path only clones an `Arc` and bumps counters. A target that stays in the next answer
//! (the same SRV target name at the same address) keeps its record and series. A target that
//! leaves takes them along: dynamic host ports come and go for ever, and state kept per address
//! would grow with them. A new task on a reused `IP:port` has another SRV target name, so it
//! starts with a clean record.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;

use crate::ejection::{EjectionPolicy, FailureRecord};
use crate::metrics::{ProxyMetrics, TargetLabel};
use crate::resolve::{SrvAnswer, SrvTarget};

/// One target of the answer in use.
#[derive(Clone, Debug)]
pub struct TargetSlot {
    /// Where to connect, with its priority and weight.
    pub target: SrvTarget,
    /// What outlives one connection: shared with the same target in later answers.
    pub state: Arc<TargetState>,
}

impl AsRef<SrvTarget> for TargetSlot {
    fn as_ref(&self) -> &SrvTarget {
        &self.target
    }
}

/// A target's ejection record and metric series.
#[derive(Debug)]
pub struct TargetState {
    label: TargetLabel,
    record: Mutex<FailureRecord>,
    /// Failed connects to this target.
    pub connect_failures: Counter,
    /// Connect attempts on this target after another one failed.
    pub connect_retries: Counter,
    /// Times this target was ejected.
    pub ejections: Counter,
}

impl TargetState {
    fn new(route: &str, addr: SocketAddr, metrics: &ProxyMetrics) -> Self {
        let label = ProxyMetrics::target(route, addr);
        Self {
            connect_failures: metrics.connect_failures_total.get_or_create(&label).clone(),
            connect_retries: metrics.connect_retries_total.get_or_create(&label).clone(),
            ejections: metrics.ejections_total.get_or_create(&label).clone(),
            record: Mutex::new(FailureRecord::default()),
            label,
        }
    }

    /// The target's failure record. A panic while it was held leaves only counters behind,
    /// which are still usable.
    pub fn record(&self) -> MutexGuard<'_, FailureRecord> {
        self.record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The targets a route connects to now, and how long the answer was good for.
#[derive(Debug)]
pub struct RouteAnswer {
    /// The answer as DNS gave it, for comparisons and the log line.
    pub answer: SrvAnswer,
    /// One slot per target, in the answer's order.
    pub targets: Vec<TargetSlot>,
}

impl RouteAnswer {
    /// Turns a fresh answer into slots, carrying over what the previous answer knew about the
    /// targets that stayed, and removing the metric series of the targets that left.
    pub fn carry_over(
        answer: SrvAnswer,
        previous: Option<&RouteAnswer>,
        route: &str,
        metrics: &ProxyMetrics,
    ) -> Self {
        let old = previous.map_or(&[][..], |previous| &previous.targets[..]);
        let targets: Vec<TargetSlot> = answer
            .targets
            .iter()
            .map(|target| {
                let kept = old.iter().find(|slot| same_task(&slot.target, target));
                let state = kept.map_or_else(
                    || Arc::new(TargetState::new(route, target.addr, metrics)),
                    |slot| slot.state.clone(),
                );
                TargetSlot {
                    target: target.clone(),
                    state,
                }
            })
            .collect();
        for slot in old {
            let label_in_use = targets
                .iter()
                .any(|kept| kept.state.label == slot.state.label);
            if !label_in_use {
                metrics.forget_target(&slot.state.label);
            }
        }
        Self { answer, targets }
    }

    /// Drops the metric series of every target, when the name is gone altogether.
    pub fn retire(&self, metrics: &ProxyMetrics) {
        for slot in &self.targets {
            metrics.forget_target(&slot.state.label);
        }
    }

    /// How long the answer may be used before it is refreshed.
    pub fn ttl(&self) -> Duration {
        self.answer.ttl
    }

    /// Whether every target other than `addr` is ejected at `now`.
    pub fn others_all_ejected(&self, addr: SocketAddr, now: Instant) -> bool {
        self.targets
            .iter()
            .filter(|slot| slot.target.addr != addr)
            .all(|slot| slot.state.record().is_ejected(now))
    }

    /// Records a failed connect to `slot` and returns how long it is now ejected for, if it is.
    pub fn record_failure(
        &self,
        slot: &TargetSlot,
        policy: &EjectionPolicy,
        now: Instant,
    ) -> Option<Duration> {
        // The others are read first: one target's lock is never held while taking another's.
        let others_all_ejected = self.others_all_ejected(slot.target.addr, now);
        slot.state
            .record()
            .record_failure(policy, others_all_ejected, now)
    }
}

/// The same SRV target name at the same address: the same task. A new task that reuses the
/// address has another name, and must not inherit the old task's ejection.
fn same_task(a: &SrvTarget, b: &SrvTarget) -> bool {
    a.addr == b.addr && a.host == b.host
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str, port: u16) -> SrvTarget {
        SrvTarget {
            host: host.into(),
            addr: ([127, 0, 0, 1], port).into(),
            priority: 1,
            weight: 1,
        }
    }

    fn answer(targets: &[(&str, u16)]) -> SrvAnswer {
        SrvAnswer {
            targets: targets.iter().map(|(h, p)| target(h, *p)).collect(),
            ttl: Duration::from_secs(10),
        }
    }

    fn eject(answer: &RouteAnswer, index: usize, now: Instant) {
        let policy = EjectionPolicy::default();
        for _ in 0..policy.consecutive_failures {
            answer.record_failure(&answer.targets[index], &policy, now);
        }
        assert!(answer.targets[index].state.record().is_ejected(now));
    }

    fn series(metrics: &ProxyMetrics) -> usize {
        let mut registry = prometheus_client::registry::Registry::default();
        metrics.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
        text.lines()
            .filter(|line| line.starts_with("srv_proxy_connect_failures_total{"))
            .count()
    }

    #[test]
    fn a_target_that_stays_keeps_its_record_and_one_that_leaves_takes_it_along() {
        let metrics = ProxyMetrics::default();
        let now = Instant::now();
        let first = RouteAnswer::carry_over(answer(&[("a.", 1), ("b.", 2)]), None, "r", &metrics);
        eject(&first, 0, now);
        assert_eq!(series(&metrics), 2);

        let second =
            RouteAnswer::carry_over(answer(&[("a.", 1), ("c.", 3)]), Some(&first), "r", &metrics);
        assert!(second.targets[0].state.record().is_ejected(now), "a stayed");
        assert_eq!(series(&metrics), 2, "b's series went, c's came");

        let third = RouteAnswer::carry_over(answer(&[("c.", 3)]), Some(&second), "r", &metrics);
        let fourth = RouteAnswer::carry_over(answer(&[("a.", 1)]), Some(&third), "r", &metrics);
        assert!(
            !fourth.targets[0].state.record().is_ejected(now),
            "a left and came back: a clean record"
        );
        assert_eq!(series(&metrics), 1);
    }

    #[test]
    fn a_new_task_on_a_reused_address_does_not_inherit_the_ejection() {
        let metrics = ProxyMetrics::default();
        let now = Instant::now();
        let old = RouteAnswer::carry_over(answer(&[("old.", 1), ("b.", 2)]), None, "r", &metrics);
        eject(&old, 0, now);
        let new =
            RouteAnswer::carry_over(answer(&[("new.", 1), ("b.", 2)]), Some(&old), "r", &metrics);
        assert!(!new.targets[0].state.record().is_ejected(now));
        assert_eq!(
            series(&metrics),
            2,
            "the address's series is still exported"
        );
    }
}
