//! The zone as this function last saw it, kept between invocations of a warm Lambda.
//!
//! Reading a whole zone costs one request per 300 record sets, against the same
//! account-wide budget of about ten requests per second that writes need. When this
//! function is the zone's only writer (the SQS path runs with reserved concurrency 1),
//! the zone is exactly what it last read plus what it wrote since, so it need not be
//! read again. Changes stay exact, so a stale view cannot do damage: a DELETE or CREATE
//! that no longer fits is refused, and a refusal forgets the cache and re-reads. A view
//! is never used past `ZONE_CACHE_SECONDS` after its read, which bounds how long records
//! removed by hand stay missing. Off (0) by default; reconciles always read afresh.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::zone::ZoneSnapshot;

/// A snapshot and when it was read from Route 53.
#[derive(Debug)]
pub struct ZoneCache {
    max_age: Duration,
    held: Mutex<Option<(Instant, ZoneSnapshot)>>,
}

impl ZoneCache {
    /// A cache whose views expire `max_age` after their read; zero disables it.
    pub fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            held: Mutex::new(None),
        }
    }

    /// The cached view and its read time, if there is one young enough.
    pub fn fresh(&self) -> Option<(Instant, ZoneSnapshot)> {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.as_ref()
            .filter(|(read_at, _)| read_at.elapsed() < self.max_age)
            .map(|(read_at, snapshot)| (*read_at, snapshot.clone()))
    }

    /// Keeps the zone as a write left it, counting its age from `read_at`, when the
    /// view was last read from Route 53; `None` (the write could not tell what the zone
    /// holds) drops the view, so that the next invocation reads the zone.
    pub fn keep(&self, read_at: Instant, after: Option<ZoneSnapshot>) {
        if self.max_age.is_zero() {
            return;
        }
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) =
            after.map(|snapshot| (read_at, snapshot));
    }

    /// Drops the view, so that the next invocation reads the zone.
    pub fn forget(&self) {
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}
