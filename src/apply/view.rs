//! The zone as this function last saw it, kept between invocations of a warm Lambda.
//!
//! Reading costs one request per 300 record sets, against the same account-wide budget of
//! about ten requests per second that writes need. When this function is the zone's only
//! writer (the SQS path runs with reserved concurrency 1), the zone is exactly what it
//! last read plus what it wrote since, so it need not be read again. A view covers what
//! was read: the subtrees of the services the invocations touched, or the whole zone
//! after a reconcile; an invocation that touches a service the view does not cover reads
//! that subtree alone and adds it. Changes stay exact, so a stale view cannot do damage: a
//! DELETE or CREATE that no longer fits is refused, and a refusal forgets the cache and
//! re-reads. A view is never used past `ZONE_CACHE_SECONDS` after its oldest read, which
//! bounds how long records removed by hand stay missing. Off (0) by default; reconciles
//! always read afresh.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::plan::zone::{Coverage, ZoneSnapshot};

/// A view, what it covers, and when its oldest part was read from Route 53.
#[derive(Clone, Debug)]
pub struct CachedView {
    /// When the oldest part was read.
    pub read_at: Instant,
    /// What it holds.
    pub coverage: Coverage,
    /// The zone as far as it covers.
    pub snapshot: ZoneSnapshot,
}

/// The last view, shared by the invocations of one warm function.
#[derive(Debug)]
pub struct ZoneCache {
    max_age: Duration,
    held: Mutex<Option<CachedView>>,
}

impl ZoneCache {
    /// A cache whose views expire `max_age` after their read; zero disables it.
    pub fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            held: Mutex::new(None),
        }
    }

    /// The cached view, if there is one young enough; it may cover less than a caller
    /// needs (see [`Coverage::missing`]).
    pub fn fresh(&self) -> Option<CachedView> {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.as_ref()
            .filter(|view| view.read_at.elapsed() < self.max_age)
            .cloned()
    }

    /// Keeps the zone as a write left it, covering `coverage`, aged from `read_at`;
    /// `None` (the write could not tell what the zone holds) drops the view, so that the
    /// next invocation reads again.
    pub fn keep(&self, read_at: Instant, coverage: Coverage, after: Option<ZoneSnapshot>) {
        if self.max_age.is_zero() {
            return;
        }
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) =
            after.map(|snapshot| CachedView {
                read_at,
                coverage,
                snapshot,
            });
    }

    /// Drops the view, so that the next invocation reads the zone.
    pub fn forget(&self) {
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}
