//! What a route resolves to: stale while revalidating, one query in flight, the state log.
//!
//! A client must never wait on DNS while the route has an answer it can use. So a connection
//! takes the answer the route has at once, and when that answer is due for a refresh it starts
//! one lookup that runs beside the traffic, in a task of its own; every other connection that
//! comes meanwhile uses the same answer and joins no queue. A refresh is due shortly before the
//! TTL runs out (and not before the floor below), so a healthy DNS never costs a client a lookup
//! either. Only a route with no answer at all (at start, or while DNS has never answered) makes a
//! connection wait, for the one lookup in flight and for no longer than the connect timeout.
//!
//! A name is asked again at most once per [`DnsTiming::min_ttl`], whatever its TTL: at TTL 0 and
//! thousands of connections a second, a lookup per connection cost more CPU (here and in the
//! DNS server beside it) than the connections themselves, and a VPC resolver allows a task 1,024
//! packets a second. The floor does not change how a connection chooses: every connection makes
//! its own RFC 2782 weighted pick from the answer in use, so a whole set (`_all`) is balanced per
//! connection as before.
//!
//! The rules around failures are those of the answer itself: when DNS fails the last good answer
//! is served and counted as stale, and asked again at most once per [`FAILURE_HOLD`] (or the
//! floor, if longer); when the name is gone (NXDOMAIN or empty) connections are refused at once.
//! Each change of state is logged once, not once per connection, so an outage does not flood the
//! logs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::answer::RouteAnswer;
use crate::metrics::{DnsErrorLabel, ProxyMetrics};
use crate::resolve::{Resolve, ResolveError, SrvAnswer};
use crate::state_log::{self, NameState};

/// How long a failure is remembered before DNS is asked again. It keeps a burst of clients
/// during an outage from each starting a lookup of its own.
pub const FAILURE_HOLD: Duration = Duration::from_secs(1);

/// How long before its TTL runs out an answer is refreshed, at the most: a tenth of the TTL, up
/// to this.
const REFRESH_AHEAD: Duration = Duration::from_secs(1);

/// How long a route waits on DNS, and how often it may ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsTiming {
    /// How long a connection with no answer at all waits for the lookup in flight (the connect
    /// timeout).
    pub wait_limit: Duration,
    /// The least time between two lookups of the name, also when the TTL is shorter or a
    /// connection asks for a fresh answer.
    pub min_ttl: Duration,
}

struct RouteState {
    name: NameState,
    answer: Option<Arc<RouteAnswer>>,
    error: Option<ResolveError>,
    /// From when on the next connection starts a refresh.
    refresh_from: Instant,
    /// Whether a lookup is in flight; there is never more than one.
    looking_up: bool,
    /// Lookups finished so far: a waiter knows that its lookup is done when this moves.
    lookups_done: u64,
    /// Before this no lookup starts, not even a forced one: the last one ended less than
    /// [`DnsTiming::min_ttl`] ago.
    quiet_until: Instant,
}

/// The route's DNS series, looked up once.
struct DnsCounters {
    lookups: Counter,
    not_found: Counter,
    unavailable: Counter,
    stale_answers: Counter,
    targets: Gauge,
}

struct RouteDns {
    srv_name: String,
    resolver: Arc<dyn Resolve>,
    metrics: Arc<ProxyMetrics>,
    counters: DnsCounters,
    timing: DnsTiming,
    state: Mutex<RouteState>,
    lookup_done: Notify,
    /// Set once an answer held a single target, so that the warning is logged once.
    warned_single_target: AtomicBool,
}

/// The one lookup a route has in flight. However its task ends, done or dropped with a runtime
/// that shuts down, the route learns that no lookup is in flight any more and its waiters wake:
/// a lookup lost on the way must not leave the route waiting for ever.
struct LookupInFlight(Arc<RouteDns>);

impl Drop for LookupInFlight {
    fn drop(&mut self) {
        {
            let mut state = self.0.lock();
            state.looking_up = false;
            state.lookups_done += 1;
        }
        self.0.lookup_done.notify_waiters();
    }
}

/// The resolution state of one route, shared by all of its connections.
pub struct Discovery {
    route: Arc<RouteDns>,
}

impl Discovery {
    /// A route that has resolved nothing yet.
    pub fn new(
        srv_name: String,
        resolver: Arc<dyn Resolve>,
        metrics: Arc<ProxyMetrics>,
        timing: DnsTiming,
    ) -> Self {
        let route = ProxyMetrics::route(&srv_name);
        let errors = |kind| {
            let label = DnsErrorLabel {
                route: srv_name.clone(),
                kind,
            };
            metrics.dns_errors_total.get_or_create(&label).clone()
        };
        let counters = DnsCounters {
            lookups: metrics.dns_lookups_total.get_or_create(&route).clone(),
            not_found: errors("not_found"),
            unavailable: errors("unavailable"),
            stale_answers: metrics
                .dns_stale_answers_total
                .get_or_create(&route)
                .clone(),
            targets: metrics.route_targets.get_or_create(&route).clone(),
        };
        let state = RouteState {
            name: NameState::Unknown,
            answer: None,
            error: None,
            refresh_from: Instant::now(),
            looking_up: false,
            lookups_done: 0,
            quiet_until: Instant::now(),
        };
        Self {
            route: Arc::new(RouteDns {
                srv_name,
                resolver,
                metrics,
                counters,
                timing,
                state: Mutex::new(state),
                lookup_done: Notify::new(),
                warned_single_target: AtomicBool::new(false),
            }),
        }
    }

    /// The SRV name this route resolves.
    pub fn srv_name(&self) -> &str {
        &self.route.srv_name
    }

    /// The targets to use for a new connection.
    ///
    /// `fresh` asks for the result of a new lookup (joining the one in flight, if any); it is
    /// used after every target of the answer in use failed, since the tasks may have moved.
    /// Within [`DnsTiming::min_ttl`] of the last lookup it gets the answer that lookup brought.
    pub async fn targets(&self, fresh: bool) -> Result<Arc<RouteAnswer>, ResolveError> {
        let seen = {
            let mut state = self.route.lock();
            let now = Instant::now();
            if !fresh {
                if let Some(found) = self.route.from_state(&mut state, now) {
                    return found;
                }
            } else if !state.looking_up && now < state.quiet_until {
                return self.route.current(&state);
            }
            self.route.start_lookup(&mut state);
            state.lookups_done
        };
        self.route.wait_for_lookup(seen).await
    }
}

impl RouteDns {
    fn lock(&self) -> MutexGuard<'_, RouteState> {
        // Only plain values live behind this lock; a panic elsewhere leaves them usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What the route can answer without waiting, starting a refresh when one is due; `None`
    /// when the connection has to wait for a lookup (nothing resolved yet, or DNS failing with
    /// no earlier answer and its hold over).
    fn from_state(
        self: &Arc<Self>,
        state: &mut RouteState,
        now: Instant,
    ) -> Option<Result<Arc<RouteAnswer>, ResolveError>> {
        let due = now >= state.refresh_from;
        let answer = match state.name {
            NameState::Resolved | NameState::Stale | NameState::Gone => self.current(state),
            NameState::Failing if !due => self.current(state),
            NameState::Failing | NameState::Unknown => return None,
        };
        if due {
            self.start_lookup(state);
        }
        Some(answer)
    }

    /// The answer the state holds now: the good one, the stale one, or the error.
    fn current(&self, state: &RouteState) -> Result<Arc<RouteAnswer>, ResolveError> {
        match (state.name, &state.answer, &state.error) {
            (NameState::Resolved, Some(answer), _) => Ok(answer.clone()),
            (NameState::Stale, Some(answer), _) => {
                self.counters.stale_answers.inc();
                Ok(answer.clone())
            }
            (_, _, Some(error)) => Err(error.clone()),
            _ => Err(ResolveError::Unavailable {
                name: self.srv_name.clone(),
                reason: format!("no DNS answer within {:?}", self.timing.wait_limit),
            }),
        }
    }

    /// Starts the route's one lookup, unless it is already in flight. It runs in a task of its
    /// own, so a client that gives up does not take the lookup with it.
    fn start_lookup(self: &Arc<Self>, state: &mut RouteState) {
        if state.looking_up {
            return;
        }
        state.looking_up = true;
        let lookup = LookupInFlight(self.clone());
        tokio::spawn(async move {
            let route = &lookup.0;
            route.counters.lookups.inc();
            let result = route.resolver.resolve_srv(&route.srv_name).await;
            route.apply(&mut route.lock(), result, Instant::now());
            // Dropping `lookup` marks it done and wakes the connections waiting for it.
        });
    }

    /// Waits until the lookup after `seen` is done, or the wait limit runs out; then answers
    /// from the state as it is.
    async fn wait_for_lookup(&self, seen: u64) -> Result<Arc<RouteAnswer>, ResolveError> {
        let deadline = Instant::now() + self.timing.wait_limit;
        loop {
            let done = self.lookup_done.notified();
            tokio::pin!(done);
            // Registered before the state is read, so a lookup finishing in between still wakes us.
            done.as_mut().enable();
            {
                let state = self.lock();
                if state.lookups_done != seen {
                    return self.current(&state);
                }
            }
            if tokio::time::timeout_at(deadline, done).await.is_err() {
                return self.current(&self.lock());
            }
        }
    }

    /// Takes in the result of a lookup.
    fn apply(&self, state: &mut RouteState, result: Result<SrvAnswer, ResolveError>, now: Instant) {
        state.quiet_until = now + self.timing.min_ttl;
        match result {
            Ok(answer) => {
                if answer.targets.len() == 1
                    && !self.warned_single_target.swap(true, Ordering::Relaxed)
                {
                    // A Route 53 weighted name answers one record per query and the VPC
                    // resolver caches it for the TTL: nothing left to balance or fail over to.
                    tracing::warn!(route = %self.srv_name, target = %answer.targets[0].host, "SRV answer holds a single target: srv-proxy cannot balance or fail over on this name; for a Route 53 weighted name use its whole set _P._tcp._all.S.Z");
                }
                let unchanged = state.answer.as_ref().filter(|kept| kept.answer == answer);
                let in_use = match unchanged {
                    Some(kept) => kept.clone(),
                    None => Arc::new(RouteAnswer::carry_over(
                        answer,
                        state.answer.as_deref(),
                        &self.srv_name,
                        &self.metrics,
                    )),
                };
                if unchanged.is_none() || state.name != NameState::Resolved {
                    state_log::resolved(&self.srv_name, &in_use.answer, state.name);
                }
                self.counters.targets.set(in_use.targets.len() as i64);
                state.refresh_from = now + refresh_after(in_use.ttl()).max(self.timing.min_ttl);
                state.name = NameState::Resolved;
                state.answer = Some(in_use);
                state.error = None;
            }
            Err(error) => {
                let next_state = match (&error, &state.answer) {
                    (ResolveError::NotFound { .. }, _) => NameState::Gone,
                    (ResolveError::Unavailable { .. }, Some(_)) => NameState::Stale,
                    (ResolveError::Unavailable { .. }, None) => NameState::Failing,
                };
                match next_state {
                    NameState::Gone => self.counters.not_found.inc(),
                    _ => self.counters.unavailable.inc(),
                };
                if next_state == NameState::Gone {
                    // The name is gone for good: an old answer must not come back on a later
                    // outage, and its targets' series go with it.
                    if let Some(old) = state.answer.take() {
                        old.retire(&self.metrics);
                    }
                    self.counters.targets.set(0);
                }
                if next_state != state.name {
                    state_log::failure(&self.srv_name, &error, next_state);
                }
                state.name = next_state;
                state.refresh_from = now + FAILURE_HOLD.max(self.timing.min_ttl);
                state.error = Some(error);
            }
        }
    }
}

/// How long after a lookup its answer is refreshed: shortly before the TTL runs out.
fn refresh_after(ttl: Duration) -> Duration {
    ttl - (ttl / 10).min(REFRESH_AHEAD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_starts_shortly_before_the_ttl_runs_out() {
        let secs = Duration::from_secs;
        assert_eq!(refresh_after(Duration::ZERO), Duration::ZERO);
        assert_eq!(refresh_after(secs(1)), Duration::from_millis(900));
        assert_eq!(refresh_after(secs(10)), secs(9));
        assert_eq!(refresh_after(secs(300)), secs(299));
    }
}
