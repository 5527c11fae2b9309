//! Keeps the served zone fresh: a query re-reads the zone when the last read is older than
//! the refresh interval, and queries that arrive together share that one read.
//!
//! Tests change the zone and query right after, so the rule is strict: an answer reflects
//! the zone as it was no earlier than `refresh` before the query arrived.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::zone::{IndexedZone, ZoneSnapshot};

/// Where the zone comes from. Route 53 (moto) in the server; a fake in unit tests.
pub trait ZoneSource: Send + Sync + 'static {
    /// Why a read failed.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Reads the whole zone.
    fn read_zone(&self) -> impl Future<Output = Result<ZoneSnapshot, Self::Error>> + Send;
}

/// The last zone read and when that read started. The start time (not the end) is what
/// counts: a change made during a read may be missed by it.
struct LastRead {
    zone: Arc<IndexedZone>,
    started: Instant,
}

/// The zone as served, with its on-demand refresh.
pub struct ZoneCache<S> {
    source: S,
    refresh: Duration,
    last_read: Mutex<LastRead>,
    /// Held during a read, so queries queue behind one read instead of starting their own.
    read_in_progress: tokio::sync::Mutex<()>,
}

impl<S: ZoneSource> ZoneCache<S> {
    /// Reads the zone once. Failing here, rather than on the first query, tells whoever
    /// starts the server that the zone id or the endpoint is wrong.
    pub async fn load(source: S, refresh: Duration) -> Result<Self, S::Error> {
        let started = Instant::now();
        let zone = Arc::new(IndexedZone::new(source.read_zone().await?));
        Ok(Self {
            source,
            refresh,
            last_read: Mutex::new(LastRead { zone, started }),
            read_in_progress: tokio::sync::Mutex::new(()),
        })
    }

    /// The zone to answer a query that arrives now. When the read fails the previous zone
    /// is served, with a warning, and the next read is due one interval later.
    pub async fn current(&self) -> Arc<IndexedZone> {
        let arrival = Instant::now();
        if let Some(zone) = self.fresh_for(arrival) {
            return zone;
        }
        let _reading = self.read_in_progress.lock().await;
        // Another query may have read the zone while this one waited for the lock.
        if let Some(zone) = self.fresh_for(arrival) {
            return zone;
        }
        let started = Instant::now();
        let read = self.source.read_zone().await;
        let mut last_read = self
            .last_read
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        last_read.started = started;
        match read {
            Ok(snapshot) => last_read.zone = Arc::new(IndexedZone::new(snapshot)),
            Err(error) => tracing::warn!(%error, "zone read failed; serving the previous read"),
        }
        last_read.zone.clone()
    }

    /// The cached zone if its read started recently enough for a query arriving at
    /// `arrival`.
    fn fresh_for(&self, arrival: Instant) -> Option<Arc<IndexedZone>> {
        let last_read = self
            .last_read
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let age = arrival.saturating_duration_since(last_read.started);
        let fresh = age < self.refresh || last_read.started >= arrival;
        fresh.then(|| last_read.zone.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use hickory_proto::rr::{rdata::A, LowerName, Name, RData, RecordType};
    use rand::{rngs::StdRng, SeedableRng};

    use super::*;
    use crate::zone::{RecordSetEntry, Routing, SetData, ZoneAnswer};

    /// A zone whose single A record counts the reads: the n-th read answers `10.0.0.n`.
    struct CountingSource {
        reads: Arc<AtomicU32>,
        read_time: Duration,
    }

    impl ZoneSource for CountingSource {
        type Error = std::io::Error;

        async fn read_zone(&self) -> Result<ZoneSnapshot, std::io::Error> {
            let read_number = self.reads.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(self.read_time).await;
            let apex = Name::from_ascii("zone.").map_err(std::io::Error::other)?;
            let name = Name::from_ascii("web.zone.").map_err(std::io::Error::other)?;
            let octet = u8::try_from(read_number).unwrap_or(u8::MAX);
            let value = RData::A(A::new(10, 0, 0, octet));
            let entry = RecordSetEntry {
                name,
                record_type: RecordType::A,
                routing: Routing::Simple,
                data: SetData::Values {
                    ttl: 10,
                    values: vec![value],
                },
            };
            Ok(ZoneSnapshot {
                apex,
                record_sets: vec![entry],
            })
        }
    }

    fn served_octet(zone: Arc<IndexedZone>) -> Option<u8> {
        let name = LowerName::from(Name::from_ascii("web.zone.").ok()?);
        match zone.answer(&name, RecordType::A, None, &mut StdRng::seed_from_u64(0)) {
            ZoneAnswer::Records(records) => match records.first().map(|record| &record.data) {
                Some(RData::A(address)) => Some(address.0.octets()[3]),
                _ => None,
            },
            _ => None,
        }
    }

    async fn counting_cache(refresh: Duration) -> (Arc<ZoneCache<CountingSource>>, Arc<AtomicU32>) {
        let reads = Arc::new(AtomicU32::new(0));
        let source = CountingSource {
            reads: reads.clone(),
            read_time: Duration::from_millis(30),
        };
        let cache = ZoneCache::load(source, refresh)
            .await
            .expect("the fake source never fails");
        (Arc::new(cache), reads)
    }

    #[tokio::test(start_paused = true)]
    async fn a_query_within_the_interval_reuses_the_last_read() {
        let (cache, reads) = counting_cache(Duration::from_millis(200)).await;
        tokio::time::advance(Duration::from_millis(100)).await;
        assert_eq!(served_octet(cache.current().await), Some(1));
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_query_after_the_interval_reads_again() {
        let (cache, reads) = counting_cache(Duration::from_millis(200)).await;
        tokio::time::advance(Duration::from_millis(250)).await;
        assert_eq!(served_octet(cache.current().await), Some(2));
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn queries_arriving_together_share_one_read() {
        let (cache, reads) = counting_cache(Duration::from_millis(200)).await;
        tokio::time::advance(Duration::from_millis(250)).await;
        let mut queries = tokio::task::JoinSet::new();
        for _ in 0..10 {
            let cache = cache.clone();
            queries.spawn(async move { served_octet(cache.current().await) });
        }
        let served: Vec<Option<u8>> = queries.join_all().await;
        assert_eq!(served, vec![Some(2); 10]);
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn with_a_zero_interval_every_query_reads() {
        let (cache, reads) = counting_cache(Duration::ZERO).await;
        for expected in 2..5 {
            assert_eq!(served_octet(cache.current().await), Some(expected));
        }
        assert_eq!(reads.load(Ordering::SeqCst), 4);
    }
}
