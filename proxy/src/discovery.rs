//! What a route currently resolves to: the TTL cache, the stale answer and the state log.
//!
//! Every connection asks its route's [`Discovery`] for targets. A fresh answer is reused until its
//! TTL runs out (TTL 0: a new resolution per connection). When DNS fails, the last good answer is
//! served and counted as stale. When the name is gone (NXDOMAIN or empty), connections are refused
//! at once. Each change of state is logged once, not once per connection, so an outage does not
//! flood the logs.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::metrics::{DnsErrorLabel, ProxyMetrics};
use crate::resolve::{Resolve, ResolveError, SrvAnswer};

/// How long a failure is remembered before DNS is asked again. It keeps a burst of clients during
/// an outage from each waiting for their own DNS timeout.
const FAILURE_HOLD: Duration = Duration::from_secs(1);

/// The health of a route's name, as logged on each change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NameState {
    /// Nothing resolved yet.
    Unknown,
    /// The last resolution gave targets.
    Resolved,
    /// DNS fails, and the last good answer is in use.
    Stale,
    /// DNS fails, and there was never a good answer.
    Failing,
    /// NXDOMAIN or an empty answer: clients are closed at once.
    Gone,
}

struct CachedState {
    state: NameState,
    last_good: Option<Arc<SrvAnswer>>,
    reuse_until: Option<Instant>,
    last_error: Option<ResolveError>,
}

/// The resolution state of one route, shared by all of its connections.
pub struct Discovery {
    srv_name: String,
    resolver: Arc<dyn Resolve>,
    metrics: Arc<ProxyMetrics>,
    /// An async lock, held across the lookup, so that concurrent connections share one query.
    cached: Mutex<CachedState>,
    /// Set once an answer held a single target, so that the warning is logged once.
    warned_single_target: std::sync::atomic::AtomicBool,
}

impl Discovery {
    /// A route that has resolved nothing yet.
    pub fn new(srv_name: String, resolver: Arc<dyn Resolve>, metrics: Arc<ProxyMetrics>) -> Self {
        Self {
            srv_name,
            resolver,
            metrics,
            cached: Mutex::new(CachedState {
                state: NameState::Unknown,
                last_good: None,
                reuse_until: None,
                last_error: None,
            }),
            warned_single_target: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The SRV name this route resolves.
    pub fn srv_name(&self) -> &str {
        &self.srv_name
    }

    /// The targets to use for a new connection.
    ///
    /// `fresh` skips the cache; it is used after every target of the cached answer failed, since
    /// the tasks may have moved.
    pub async fn targets(&self, fresh: bool) -> Result<Arc<SrvAnswer>, ResolveError> {
        let mut cached = self.cached.lock().await;
        let now = Instant::now();
        let reusable = !fresh && cached.reuse_until.is_some_and(|until| until > now);
        if reusable {
            return self.answer_from_cache(&cached);
        }

        let route = ProxyMetrics::route(&self.srv_name);
        self.metrics.dns_lookups_total.get_or_create(&route).inc();
        let result = self.resolver.resolve_srv(&self.srv_name).await;
        let now = Instant::now();
        match result {
            Ok(answer) => {
                let answer = Arc::new(answer);
                self.metrics
                    .route_targets
                    .get_or_create(&route)
                    .set(answer.targets.len() as i64);
                if answer.targets.len() == 1
                    && !self
                        .warned_single_target
                        .swap(true, std::sync::atomic::Ordering::Relaxed)
                {
                    // A Route 53 weighted name answers one record per query and the VPC
                    // resolver caches it for the TTL: nothing left to balance or fail over to.
                    tracing::warn!(route = %self.srv_name, target = %answer.targets[0].host, "SRV answer holds a single target: srv-proxy cannot balance or fail over on this name; for a Route 53 weighted name use its whole set _P._tcp._all.S.Z");
                }
                let changed = cached.last_good.as_deref() != Some(&*answer);
                if changed || cached.state != NameState::Resolved {
                    self.log_resolved(&answer, cached.state);
                }
                cached.state = NameState::Resolved;
                cached.reuse_until = Some(now + answer.ttl);
                cached.last_good = Some(answer.clone());
                cached.last_error = None;
                Ok(answer)
            }
            Err(error) => {
                let kind = match error {
                    ResolveError::NotFound { .. } => "not_found",
                    ResolveError::Unavailable { .. } => "unavailable",
                };
                self.metrics
                    .dns_errors_total
                    .get_or_create(&DnsErrorLabel {
                        route: self.srv_name.clone(),
                        kind,
                    })
                    .inc();
                let next_state = match (&error, &cached.last_good) {
                    (ResolveError::NotFound { .. }, _) => NameState::Gone,
                    (ResolveError::Unavailable { .. }, Some(_)) => NameState::Stale,
                    (ResolveError::Unavailable { .. }, None) => NameState::Failing,
                };
                if next_state == NameState::Gone {
                    // The name is gone for good: an old answer must not come back on a later outage.
                    cached.last_good = None;
                    self.metrics.route_targets.get_or_create(&route).set(0);
                }
                if next_state != cached.state {
                    self.log_failure(&error, next_state);
                }
                cached.state = next_state;
                cached.reuse_until = Some(now + FAILURE_HOLD);
                cached.last_error = Some(error);
                self.answer_from_cache(&cached)
            }
        }
    }

    fn answer_from_cache(&self, cached: &CachedState) -> Result<Arc<SrvAnswer>, ResolveError> {
        match (cached.state, &cached.last_good, &cached.last_error) {
            (NameState::Stale, Some(answer), _) => {
                let route = ProxyMetrics::route(&self.srv_name);
                self.metrics
                    .dns_stale_answers_total
                    .get_or_create(&route)
                    .inc();
                Ok(answer.clone())
            }
            (NameState::Resolved, Some(answer), _) => Ok(answer.clone()),
            (_, _, Some(error)) => Err(error.clone()),
            _ => Err(ResolveError::Unavailable {
                name: self.srv_name.clone(),
                reason: "not resolved yet".to_owned(),
            }),
        }
    }

    fn log_resolved(&self, answer: &SrvAnswer, previous: NameState) {
        let targets: Vec<String> = answer
            .targets
            .iter()
            .map(|t| format!("{}={} p{} w{}", t.host, t.addr, t.priority, t.weight))
            .collect();
        tracing::info!(
            route = %self.srv_name,
            previous = ?previous,
            ttl_secs = answer.ttl.as_secs(),
            targets = %targets.join(", "),
            "route resolves to {} target(s)",
            answer.targets.len()
        );
    }

    fn log_failure(&self, error: &ResolveError, next_state: NameState) {
        match next_state {
            NameState::Gone => tracing::warn!(
                route = %self.srv_name,
                %error,
                "name is gone; closing new client connections at once"
            ),
            NameState::Stale => tracing::warn!(
                route = %self.srv_name,
                %error,
                "DNS is failing; keeping the last good answer"
            ),
            _ => tracing::error!(
                route = %self.srv_name,
                %error,
                "DNS is failing and there is no earlier answer; closing client connections"
            ),
        }
    }
}
