//! Opening the backend side of a connection: pick, connect, retry elsewhere, re-resolve.
//!
//! A failed or timed-out connect is retried on another target, never the one that just failed,
//! up to `--retries` times. When the answer in use has nothing left to try, the name is resolved
//! afresh (the tasks may have moved) and the untried targets of that answer get a round of their
//! own. Every failure feeds passive ejection.
//!
//! The way through for a working target allocates nothing: the answer, its labels and its metric
//! handles were built when DNS answered (see [`crate::answer`]).

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::SeedableRng;
use rustix::io::Errno;
use tokio::io::Interest;
use tokio::net::TcpStream;

use crate::answer::{RouteAnswer, TargetSlot};
use crate::config::ProxySettings;
use crate::discovery::{Discovery, DnsTiming};
use crate::metrics::ProxyMetrics;
use crate::picker::pick_target;
use crate::resolve::{Resolve, ResolveError};
use crate::socket::nodelay_socket;

/// Why no backend connection could be made for a client.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// DNS gave nothing usable (the name is gone, or DNS fails with no earlier answer).
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// Every target that could be tried failed.
    #[error("all {attempts} connect attempt(s) failed; last error: {last_error}")]
    Exhausted {
        /// How many connects were made.
        attempts: usize,
        /// The last connect error, for the log line.
        last_error: String,
    },
}

/// Everything a route needs to connect its clients, shared by all of them.
pub struct RouteConnector {
    discovery: Discovery,
    settings: Arc<ProxySettings>,
    /// The picker's random source; a fixed seed makes tests exact.
    rng: Mutex<StdRng>,
}

impl RouteConnector {
    /// A route to `srv_name` that has resolved nothing yet; `seed` fixes the picker for tests.
    pub fn new(
        srv_name: String,
        resolver: Arc<dyn Resolve>,
        metrics: Arc<ProxyMetrics>,
        settings: Arc<ProxySettings>,
        seed: Option<u64>,
    ) -> Self {
        Self {
            discovery: Discovery::new(
                srv_name,
                resolver,
                metrics,
                DnsTiming {
                    wait_limit: settings.connect_timeout,
                    min_ttl: settings.min_ttl,
                },
            ),
            rng: Mutex::new(seed.map_or_else(StdRng::from_os_rng, StdRng::seed_from_u64)),
            settings,
        }
    }

    /// The SRV name of the route.
    pub fn srv_name(&self) -> &str {
        self.discovery.srv_name()
    }

    /// The answer a client would get now: resolving (and waiting no longer than a client) when
    /// the route has none yet. Used by the health check.
    pub async fn answer_now(&self) -> Result<Arc<RouteAnswer>, ResolveError> {
        self.discovery.targets(false).await
    }

    /// Connects to one target of the route, following the retry rules above, and says which.
    pub async fn connect(&self) -> Result<(TcpStream, SocketAddr), ConnectError> {
        let mut answer = self.discovery.targets(false).await?;
        // Allocated only when a connect fails.
        let mut tried: Vec<SocketAddr> = Vec::new();
        let mut attempts_this_round = 0u32;
        let mut resolved_afresh = false;
        let mut last_error = String::new();
        loop {
            let next = if attempts_this_round <= self.settings.retries {
                self.choose(&answer, &tried)
            } else {
                None
            };
            let Some(slot) = next else {
                if resolved_afresh || tried.is_empty() {
                    return Err(ConnectError::Exhausted {
                        attempts: tried.len(),
                        last_error,
                    });
                }
                resolved_afresh = true;
                attempts_this_round = 0;
                answer = self.discovery.targets(true).await?;
                continue;
            };
            attempts_this_round += 1;
            let addr = slot.target.addr;
            if !tried.is_empty() {
                slot.state.connect_retries.inc();
            }
            let timeout = self.settings.connect_timeout;
            let error = match tokio::time::timeout(timeout, dial(addr)).await {
                Ok(Ok(stream)) => {
                    let policy = &self.settings.ejection;
                    slot.state.record().record_success(policy, Instant::now());
                    return Ok((stream, addr));
                }
                Ok(Err(error)) => error.to_string(),
                Err(_) => format!("no answer within {timeout:?}"),
            };
            self.note_failure(&answer, slot, &error);
            tried.push(addr);
            last_error = format!("{addr}: {error}");
        }
    }

    fn note_failure(&self, answer: &RouteAnswer, slot: &TargetSlot, error: &str) {
        let route = self.srv_name();
        let target = slot.target.addr;
        slot.state.connect_failures.inc();
        tracing::debug!(%route, %target, %error, "connect failed");
        let ejected = answer.record_failure(slot, &self.settings.ejection, Instant::now());
        if let Some(ejected_for) = ejected {
            slot.state.ejections.inc();
            tracing::warn!(%route, %target, host = %slot.target.host, ?ejected_for, %error, "target ejected after repeated connect failures");
        }
    }

    /// Picks among untried, non-ejected targets; if all untried ones are ejected, among those,
    /// because ejection must never leave a route with nothing.
    fn choose<'a>(&self, answer: &'a RouteAnswer, tried: &[SocketAddr]) -> Option<&'a TargetSlot> {
        let now = Instant::now();
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let untried = |slot: &TargetSlot| !tried.contains(&slot.target.addr);
        let healthy = |slot: &TargetSlot| untried(slot) && !slot.state.record().is_ejected(now);
        pick_target(&answer.targets, healthy, &mut *rng)
            .or_else(|| pick_target(&answer.targets, untried, &mut *rng))
    }
}

/// Connects to `addr` with `TCP_NODELAY` set. Whether the connect worked is read from the
/// readiness epoll reports (an error or hang-up with the writable event), so a connection that
/// works costs no `getsockopt(SO_ERROR)`; only a failed one asks for its error.
async fn dial(addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = nodelay_socket(&addr)?;
    match rustix::net::connect(&socket, &addr) {
        Ok(()) | Err(Errno::INPROGRESS) => {}
        Err(errno) => return Err(errno.into()),
    }
    let stream = TcpStream::from_std(std::net::TcpStream::from(socket))?;
    let ready = stream.ready(Interest::WRITABLE).await?;
    if ready.is_write_closed() || ready.is_error() {
        let error = stream.take_error()?.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::ConnectionRefused, "the connect was hung up")
        });
        return Err(error);
    }
    Ok(stream)
}
