//! Passive ejection: targets that keep refusing connections are left out for a while.
//!
//! There is no active health check; the proxy learns from its own connects. After
//! [`EjectionPolicy::consecutive_failures`] failed connects in a row a target is ejected for
//! [`EjectionPolicy::base_ejection`], doubling at each new ejection up to
//! [`EjectionPolicy::max_ejection`]. A success clears the run of failures but not the doubling:
//! a flapping target (up for a moment after each ejection, then down again) would otherwise be
//! tried every 30 s for ever. The doubling is forgotten once the target has stayed in use for
//! `max_ejection` after its last ejection ended. The time is a parameter, so that tests move
//! the clock instead of sleeping.
//!
//! A record belongs to one target of one answer (see [`crate::answer`]): it goes when the target
//! leaves the answer, so a new task that reuses the address starts clean.

use std::time::{Duration, Instant};

/// How eagerly targets are ejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EjectionPolicy {
    /// Failed connects in a row that eject a target.
    pub consecutive_failures: u32,
    /// How long the first ejection lasts.
    pub base_ejection: Duration,
    /// The cap for the doubling ejection time, and how long a target must stay in use after an
    /// ejection before the doubling starts again from the base.
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

/// The failure record of one target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FailureRecord {
    consecutive_failures: u32,
    ejections: u32,
    ejected_until: Option<Instant>,
}

impl FailureRecord {
    /// Whether the target is ejected at `now`.
    pub fn is_ejected(&self, now: Instant) -> bool {
        self.ejected_until.is_some_and(|until| until > now)
    }

    /// A connect worked: the run of failures ends. The doubling is kept until the target has
    /// been in use for `max_ejection` since its last ejection ended.
    pub fn record_success(&mut self, policy: &EjectionPolicy, now: Instant) {
        self.consecutive_failures = 0;
        self.forget_old_ejections(policy, now);
    }

    /// A connect failed. Returns how long the target is now ejected for, if this failure
    /// ejected it.
    ///
    /// `others_all_ejected` says that every other target of the route is out already: then this
    /// one is kept, because ejecting them all would turn a partial outage into a total one.
    pub fn record_failure(
        &mut self,
        policy: &EjectionPolicy,
        others_all_ejected: bool,
        now: Instant,
    ) -> Option<Duration> {
        if self.is_ejected(now) {
            return None;
        }
        self.forget_old_ejections(policy, now);
        self.consecutive_failures += 1;
        if self.consecutive_failures < policy.consecutive_failures || others_all_ejected {
            return None;
        }
        let doubling = 2u32.saturating_pow(self.ejections.min(16));
        let ejection = policy
            .base_ejection
            .saturating_mul(doubling)
            .min(policy.max_ejection);
        self.ejections += 1;
        self.consecutive_failures = 0;
        self.ejected_until = Some(now + ejection);
        Some(ejection)
    }

    fn forget_old_ejections(&mut self, policy: &EjectionPolicy, now: Instant) {
        if self
            .ejected_until
            .is_some_and(|until| now >= until + policy.max_ejection)
        {
            self.ejections = 0;
            self.ejected_until = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail_times(record: &mut FailureRecord, times: u32, now: Instant) -> Option<Duration> {
        let policy = EjectionPolicy::default();
        (0..times)
            .map(|_| record.record_failure(&policy, false, now))
            .last()
            .flatten()
    }

    #[test]
    fn ejection_starts_after_five_failures_and_expires() {
        let mut record = FailureRecord::default();
        let start = Instant::now();
        assert_eq!(fail_times(&mut record, 4, start), None);
        assert!(!record.is_ejected(start));
        assert_eq!(
            fail_times(&mut record, 1, start),
            Some(Duration::from_secs(30))
        );
        assert!(record.is_ejected(start + Duration::from_secs(29)));
        assert!(!record.is_ejected(start + Duration::from_secs(31)));
    }

    #[test]
    fn a_flapping_target_doubles_up_to_the_cap_despite_its_successes() {
        let policy = EjectionPolicy::default();
        let mut record = FailureRecord::default();
        let mut now = Instant::now();
        let mut seen = Vec::new();
        for _ in 0..6 {
            let ejected_for = fail_times(&mut record, 5, now).expect("ejected");
            seen.push(ejected_for.as_secs());
            // Back for a moment after its ejection: one connect works, then it fails again.
            now += ejected_for + Duration::from_secs(1);
            record.record_success(&policy, now);
        }
        assert_eq!(seen, [30, 60, 120, 240, 300, 300]);
    }

    #[test]
    fn the_doubling_is_forgotten_after_a_long_healthy_spell() {
        let policy = EjectionPolicy::default();
        let mut record = FailureRecord::default();
        let now = Instant::now();
        assert_eq!(
            fail_times(&mut record, 5, now),
            Some(Duration::from_secs(30))
        );
        let back = now + Duration::from_secs(31);
        record.record_success(&policy, back);
        assert_eq!(
            fail_times(&mut record, 5, back + Duration::from_secs(10)),
            Some(Duration::from_secs(60)),
            "still flapping: doubled"
        );
        let later = back + Duration::from_secs(10) + Duration::from_secs(60 + 300);
        record.record_success(&policy, later);
        assert_eq!(
            fail_times(&mut record, 5, later),
            Some(Duration::from_secs(30)),
            "in use for max_ejection since: from the base again"
        );
    }

    #[test]
    fn the_last_target_standing_is_never_ejected() {
        let policy = EjectionPolicy::default();
        let mut record = FailureRecord::default();
        let now = Instant::now();
        for _ in 0..50 {
            assert_eq!(record.record_failure(&policy, true, now), None);
        }
        assert!(!record.is_ejected(now));
    }
}
