//! The zone as the pipeline plans on it: read from Route 53 (all of it, or the subtrees of
//! the services at hand), or kept from the last invocation of a warm Lambda.
//!
//! Reading costs one request per 300 record sets, against the same account-wide budget of
//! about ten requests per second that writes need. When this function is the zone's only
//! writer, the zone is exactly what it last read plus what it wrote since, so it need not
//! be read again. A view covers what was read: the subtrees of the services the
//! invocations touched, or the whole zone after a reconcile; an invocation that touches a
//! service the view does not cover reads that subtree alone and adds it. Changes stay
//! exact, so a stale view cannot do damage: a DELETE or CREATE that no longer fits is
//! refused, and the refused units are planned again from a fresh read. A view is never
//! used past `ZONE_CACHE_SECONDS` after its oldest read, which bounds how long records
//! removed by hand stay missing. Reconciles always read afresh.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::aws::route53::pacing::WritePacer;
use crate::aws::route53::{self, Route53Error};
use crate::plan::naming::ZoneNaming;
use crate::plan::zone::{Coverage, ZoneListing, ZoneSnapshot};

/// A view of the zone, what it covers, and when its oldest part was read from Route 53.
#[derive(Clone, Debug)]
pub struct View {
    /// The zone as far as it covers.
    pub snapshot: ZoneSnapshot,
    /// What it holds.
    pub coverage: Coverage,
    /// When the oldest part was read.
    pub read_at: Instant,
}

/// Reads the zone from Route 53, paced like a write (reads and writes spend one budget).
#[derive(Clone, Copy, Debug)]
pub struct ZoneReader<'a> {
    /// The client (through the zone's role when the zone is in another account).
    pub client: &'a aws_sdk_route53::Client,
    /// The hosted zone.
    pub zone_id: &'a str,
    /// Spaces out requests.
    pub pacer: &'a WritePacer,
    /// Who owns what.
    pub naming: &'a ZoneNaming,
}

impl ZoneReader<'_> {
    /// Reads part of the zone: all of it, or each subtree from its first name to its last.
    pub async fn read(&self, coverage: &Coverage) -> Result<ZoneSnapshot, Route53Error> {
        let listing = match coverage {
            Coverage::Zone => route53::read_zone(self.client, self.zone_id, self.pacer).await?,
            Coverage::Subtrees(roots) => {
                let mut listing = ZoneListing::default();
                for root in roots {
                    let part =
                        route53::read_subtree(self.client, self.zone_id, self.pacer, root).await?;
                    listing.sets.extend(part.sets);
                    listing.others.extend(part.others);
                }
                listing
            }
        };
        Ok(ZoneSnapshot::from_listing(self.naming, listing))
    }

    /// A fresh view of `coverage`.
    pub async fn view(&self, coverage: Coverage) -> Result<View, Route53Error> {
        Ok(View {
            read_at: Instant::now(),
            snapshot: self.read(&coverage).await?,
            coverage,
        })
    }
}

/// The last view, shared by the invocations of one warm function.
#[derive(Debug)]
pub struct ZoneCache {
    max_age: Duration,
    held: Mutex<Option<View>>,
}

impl ZoneCache {
    /// A cache whose views expire `max_age` after their read; zero disables it.
    pub fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            held: Mutex::new(None),
        }
    }

    /// A view that covers `needed`: the cached one where it does, completed by reading the
    /// subtrees it lacks, or read afresh.
    pub async fn view(
        &self,
        reader: &ZoneReader<'_>,
        needed: Coverage,
    ) -> Result<View, Route53Error> {
        let Some(mut cached) = self.fresh() else {
            return reader.view(needed).await;
        };
        if cached.coverage.covers(&needed) {
            return Ok(cached);
        }
        let missing = cached.coverage.missing(&needed);
        if missing == Coverage::Zone {
            return reader.view(Coverage::Zone).await;
        }
        cached.snapshot.merge(reader.read(&missing).await?);
        cached.coverage = cached.coverage.union(&needed);
        Ok(cached)
    }

    fn fresh(&self) -> Option<View> {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.as_ref()
            .filter(|view| view.read_at.elapsed() < self.max_age)
            .cloned()
    }

    /// Keeps the zone as a write left it; `None` (the write could not tell what the zone
    /// holds) drops the view, so that the next invocation reads again.
    pub fn keep(&self, view: Option<View>) {
        if self.max_age.is_zero() {
            return;
        }
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = view;
    }
}
