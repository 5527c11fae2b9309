//! Passive ejection: targets that keep refusing connections are left out for a while.
//!
//! There is no active health check; the proxy learns from its own connects. After
//! [`EjectionPolicy::consecutive_failures`] failed connects in a row a target is ejected for
//! [`EjectionPolicy::base_ejection`], doubling at each new ejection up to
//! [`EjectionPolicy::max_ejection`]. A success clears the record. The time is a parameter, so that
//! tests move the clock instead of sleeping.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How eagerly targets are ejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EjectionPolicy {
    /// Failed connects in a row that eject a target.
    pub consecutive_failures: u32,
    /// How long the first ejection lasts.
    pub base_ejection: Duration,
    /// The cap for the doubling ejection time.
    pub max_ejection: Duration,
}

impl Default for EjectionPolicy {
    /// 5 failures, then 30 s doubling to 300 s: long enough to stop hammering a dead task, short
    /// enough that a task which comes back is used again within minutes.
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            base_ejection: Duration::from_secs(30),
            max_ejection: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Default)]
struct FailureRecord {
    consecutive_failures: u32,
    ejections: u32,
    ejected_until: Option<Instant>,
}

/// The failure record of every target of one route.
#[derive(Debug)]
pub struct TargetHealth {
    policy: EjectionPolicy,
    records: Mutex<HashMap<SocketAddr, FailureRecord>>,
}

impl TargetHealth {
    /// An empty table: every target starts healthy.
    pub fn new(policy: EjectionPolicy) -> Self {
        Self {
            policy,
            records: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `addr` is ejected at `now`.
    pub fn is_ejected(&self, addr: SocketAddr, now: Instant) -> bool {
        self.lock()
            .get(&addr)
            .and_then(|record| record.ejected_until)
            .is_some_and(|until| until > now)
    }

    /// A connect to `addr` worked: forget its failures.
    pub fn record_success(&self, addr: SocketAddr) {
        self.lock().remove(&addr);
    }

    /// A connect to `addr` failed. Returns how long it is now ejected for, if this failure
    /// ejected it.
    ///
    /// `route_targets` is the route's current target set: a target is not ejected when every
    /// other one is already out, because ejecting them all would turn a partial outage into a
    /// total one.
    pub fn record_failure(
        &self,
        addr: SocketAddr,
        route_targets: &[SocketAddr],
        now: Instant,
    ) -> Option<Duration> {
        let mut records = self.lock();
        let others_all_ejected =
            route_targets
                .iter()
                .filter(|other| **other != addr)
                .all(|other| {
                    records
                        .get(other)
                        .and_then(|r| r.ejected_until)
                        .is_some_and(|until| until > now)
                });
        let record = records.entry(addr).or_default();
        if record.ejected_until.is_some_and(|until| until > now) {
            return None;
        }
        record.consecutive_failures += 1;
        if record.consecutive_failures < self.policy.consecutive_failures || others_all_ejected {
            return None;
        }
        let doubling = 2u32.saturating_pow(record.ejections.min(16));
        let ejection = self
            .policy
            .base_ejection
            .saturating_mul(doubling)
            .min(self.policy.max_ejection);
        record.ejections += 1;
        record.consecutive_failures = 0;
        record.ejected_until = Some(now + ejection);
        Some(ejection)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, FailureRecord>> {
        // A panic while holding this lock leaves only counters behind; they are still usable.
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        ([127, 0, 0, 1], port).into()
    }

    fn fail_times(
        health: &TargetHealth,
        target: u16,
        times: u32,
        now: Instant,
    ) -> Option<Duration> {
        let all = [addr(1), addr(2)];
        (0..times)
            .map(|_| health.record_failure(addr(target), &all, now))
            .last()
            .flatten()
    }

    #[test]
    fn ejection_starts_after_five_failures_and_expires() {
        let health = TargetHealth::new(EjectionPolicy::default());
        let start = Instant::now();
        assert_eq!(fail_times(&health, 1, 4, start), None);
        assert!(!health.is_ejected(addr(1), start));
        assert_eq!(
            fail_times(&health, 1, 1, start),
            Some(Duration::from_secs(30))
        );
        assert!(health.is_ejected(addr(1), start + Duration::from_secs(29)));
        assert!(!health.is_ejected(addr(1), start + Duration::from_secs(31)));
    }

    #[test]
    fn ejection_time_doubles_up_to_the_cap_and_success_resets_it() {
        let health = TargetHealth::new(EjectionPolicy::default());
        let mut now = Instant::now();
        let mut seen = Vec::new();
        for _ in 0..6 {
            seen.push(fail_times(&health, 1, 5, now).map(|d| d.as_secs()));
            now += Duration::from_secs(301);
        }
        assert_eq!(
            seen,
            [
                Some(30),
                Some(60),
                Some(120),
                Some(240),
                Some(300),
                Some(300)
            ]
        );
        health.record_success(addr(1));
        assert_eq!(
            fail_times(&health, 1, 5, now),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn the_last_target_standing_is_never_ejected() {
        let health = TargetHealth::new(EjectionPolicy::default());
        let now = Instant::now();
        assert!(fail_times(&health, 1, 5, now).is_some());
        assert_eq!(fail_times(&health, 2, 50, now), None);
        assert!(!health.is_ejected(addr(2), now));
    }
}
