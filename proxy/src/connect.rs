//! Opening the backend side of a connection: pick, connect, retry elsewhere, re-resolve.
//!
//! A failed or timed-out connect is retried on another target, never the one that just failed,
//! up to `--retries` times. When the cached answer has nothing left to try, the name is resolved
//! afresh (the tasks may have moved) and the untried targets of that answer get a round of their
//! own. Every failure feeds passive ejection.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use tokio::net::TcpStream;

use crate::discovery::Discovery;
use crate::health::TargetHealth;
use crate::metrics::ProxyMetrics;
use crate::picker::pick_target;
use crate::resolve::{ResolveError, SrvAnswer, SrvTarget};

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
    /// The route's resolution state.
    pub discovery: Discovery,
    /// The route's passive-ejection table.
    pub health: TargetHealth,
    /// The picker's random source; a fixed seed makes tests exact.
    pub rng: Mutex<StdRng>,
    /// Shared metrics.
    pub metrics: Arc<ProxyMetrics>,
    /// How long one connect may take.
    pub connect_timeout: Duration,
    /// Retries on other targets after the first attempt.
    pub retries: u32,
}

impl RouteConnector {
    /// Connects to one target of the route, following the retry rules above.
    pub async fn connect(&self) -> Result<(TcpStream, SrvTarget), ConnectError> {
        let route = self.discovery.srv_name().to_owned();
        let mut answer = self.discovery.targets(false).await?;
        let mut tried: Vec<SocketAddr> = Vec::new();
        let mut attempts_this_round = 0u32;
        let mut resolved_afresh = false;
        let mut last_error = String::new();
        loop {
            let next = if attempts_this_round <= self.retries {
                self.choose(&answer, &tried)
            } else {
                None
            };
            let Some(target) = next else {
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
            let label = ProxyMetrics::target(&route, target.addr);
            if !tried.is_empty() {
                self.metrics
                    .connect_retries_total
                    .get_or_create(&label)
                    .inc();
            }
            let outcome =
                tokio::time::timeout(self.connect_timeout, TcpStream::connect(target.addr)).await;
            let error = match outcome {
                Ok(Ok(stream)) => {
                    self.health.record_success(target.addr);
                    return Ok((stream, target));
                }
                Ok(Err(error)) => error.to_string(),
                Err(_) => format!("no answer within {:?}", self.connect_timeout),
            };
            self.metrics
                .connect_failures_total
                .get_or_create(&label)
                .inc();
            tracing::debug!(%route, target = %target.addr, %error, "connect failed");
            let route_addrs: Vec<SocketAddr> = answer.targets.iter().map(|t| t.addr).collect();
            if let Some(ejected_for) =
                self.health
                    .record_failure(target.addr, &route_addrs, std::time::Instant::now())
            {
                self.metrics.ejections_total.get_or_create(&label).inc();
                tracing::warn!(%route, target = %target.addr, host = %target.host, ?ejected_for, %error, "target ejected after repeated connect failures");
            }
            tried.push(target.addr);
            last_error = format!("{}: {error}", target.addr);
        }
    }

    /// Picks among untried, non-ejected targets; if all untried ones are ejected, among those,
    /// because ejection must never leave a route with nothing.
    fn choose(&self, answer: &SrvAnswer, tried: &[SocketAddr]) -> Option<SrvTarget> {
        let now = std::time::Instant::now();
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let untried = |t: &SrvTarget| !tried.contains(&t.addr);
        pick_target(
            &answer.targets,
            |t| untried(t) && !self.health.is_ejected(t.addr, now),
            &mut *rng,
        )
        .or_else(|| pick_target(&answer.targets, untried, &mut *rng))
        .cloned()
    }
}
