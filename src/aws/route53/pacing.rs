//! Keeps this function's Route 53 requests, reads and writes alike, under a rate, so that
//! a burst of events does not spend the account's shared budget (about ten requests per
//! second for every caller together) and turn into `Throttling` for everyone.
//!
//! A token bucket (governor's GCRA) with a burst of one: writes are spaced at least
//! `1/rate` apart, with a little jitter so that concurrent functions do not line up.
//! Throttling that still happens is retried by the SDK with jittered backoff.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{Jitter, Quota, RateLimiter};

/// Spaces out Route 53 requests.
#[derive(Debug)]
pub struct WritePacer {
    limiter: governor::DefaultDirectRateLimiter,
}

impl WritePacer {
    /// A pacer allowing `rate` writes per second (fractions allowed, e.g. 0.5).
    pub fn per_second(rate: f64) -> Self {
        let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::direct(quota),
        }
    }

    /// Waits until the next request may go.
    pub async fn ready(&self) {
        self.limiter
            .until_ready_with_jitter(Jitter::up_to(Duration::from_millis(20)))
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::{Clock, DefaultClock};

    #[test]
    fn a_second_write_must_wait_for_its_slot() {
        let pacer = WritePacer::per_second(4.0);
        assert!(
            pacer.limiter.check().is_ok(),
            "the first write goes at once"
        );
        let refused = pacer.limiter.check().expect_err("no burst beyond one");
        let wait = refused.wait_time_from(DefaultClock::default().now());
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(250),
            "{wait:?}"
        );
    }
}
