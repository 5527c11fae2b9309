//! Accepting clients, the connection limit and the graceful drain.
//!
//! Listeners arrive already bound (tests bind `127.0.0.1:0`). The accept loop only accepts and
//! spawns: resolving and connecting happen inside the connection's own task, so a dead backend
//! or a slow DNS server never holds up the next client. On shutdown the loops stop accepting,
//! and open connections get up to the drain timeout to finish.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::ProxySettings;
use crate::connect::{ConnectError, RouteConnector};
use crate::metrics::{DirectionLabel, ProxyMetrics};
use crate::relay::{relay, ByteCounters, RelayEnd};
use crate::resolve::{Resolve, ResolveError};

/// One listener and the SRV name its clients are forwarded to.
pub struct BoundRoute {
    /// An already bound listener.
    pub listener: TcpListener,
    /// The SRV name, e.g. `_web._tcp.web.ecs.internal`.
    pub srv_name: String,
}

/// How the proxy stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrainOutcome {
    /// Every open connection finished within the drain timeout.
    Drained,
    /// The drain timeout ran out with this many connections still open.
    TimedOut {
        /// Connections cut off.
        still_open: usize,
    },
}

/// The open client connections of every route: one count, the task tracker's, which the
/// connection limit reads and the drain waits on.
struct OpenConnections {
    tracker: TaskTracker,
    limit: usize,
    /// Makes "under the limit?" and "spawn" one step, so that routes accepting at the same
    /// moment cannot pass the limit together.
    admitting: Mutex<()>,
}

impl OpenConnections {
    /// Spawns `connection` unless the limit is reached; false when the client must be closed.
    fn admit(&self, connection: impl Future<Output = ()> + Send + 'static) -> bool {
        let _one_at_a_time = self
            .admitting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.tracker.len() >= self.limit {
            return false;
        }
        self.tracker.spawn(connection);
        true
    }
}

/// Serves `routes` until `shutdown` completes, then drains.
pub async fn serve(
    routes: Vec<BoundRoute>,
    settings: ProxySettings,
    resolver: Arc<dyn Resolve>,
    metrics: Arc<ProxyMetrics>,
    shutdown: impl Future<Output = ()>,
) -> DrainOutcome {
    let settings = Arc::new(settings);
    let connections = Arc::new(OpenConnections {
        tracker: TaskTracker::new(),
        limit: settings.max_connections as usize,
        admitting: Mutex::new(()),
    });
    let stop = CancellationToken::new();
    let mut accept_loops = Vec::new();
    for (index, route) in routes.into_iter().enumerate() {
        let seed = settings
            .rng_seed
            .map(|seed| seed.wrapping_add(index as u64));
        let counters = Arc::new(RouteCounters::new(&metrics, &route.srv_name));
        let connector = Arc::new(RouteConnector::new(
            route.srv_name,
            resolver.clone(),
            metrics.clone(),
            settings.clone(),
            seed,
        ));
        accept_loops.push(tokio::spawn(accept_loop(
            route.listener,
            connector,
            counters,
            connections.clone(),
            settings.idle_timeout,
            stop.clone(),
        )));
    }

    shutdown.await;
    let open = connections.tracker.len();
    tracing::info!(open_connections = open, drain_timeout = ?settings.drain_timeout, "shutting down: no longer accepting, draining open connections");
    stop.cancel();
    for accept_loop in accept_loops {
        let _ = accept_loop.await;
    }
    connections.tracker.close();
    match tokio::time::timeout(settings.drain_timeout, connections.tracker.wait()).await {
        Ok(()) => {
            tracing::info!("all connections drained");
            DrainOutcome::Drained
        }
        Err(_) => {
            let still_open = connections.tracker.len();
            tracing::warn!(
                still_open,
                "drain timeout reached; closing the remaining connections"
            );
            DrainOutcome::TimedOut { still_open }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    connector: Arc<RouteConnector>,
    counters: Arc<RouteCounters>,
    connections: Arc<OpenConnections>,
    idle_timeout: Duration,
    stop: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => return,
        };
        let client = match accepted {
            Ok((client, _peer)) => client,
            Err(error) => {
                // Usually EMFILE: back off briefly instead of spinning on the error.
                tracing::warn!(route = %connector.srv_name(), %error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let connection = {
            let connector = connector.clone();
            let counters = counters.clone();
            async move { handle_client(client, &connector, idle_timeout, &counters).await }
        };
        if !connections.admit(connection) {
            counters.rejected.inc();
            tracing::debug!(route = %connector.srv_name(), limit = connections.limit, "connection limit reached; closing client");
        }
    }
}

async fn handle_client(
    mut client: TcpStream,
    connector: &RouteConnector,
    idle_timeout: Duration,
    counters: &RouteCounters,
) {
    let route = connector.srv_name();
    counters.total.inc();
    counters.active.inc();
    let _ = client.set_nodelay(true);
    match connector.connect().await {
        Ok((mut backend, target)) => {
            let _ = backend.set_nodelay(true);
            match relay(&mut client, &mut backend, idle_timeout, &counters.bytes).await {
                Ok(RelayEnd::Finished) => {}
                Ok(RelayEnd::IdleTimeout) => {
                    tracing::debug!(%route, %target, "idle timeout; closing the pair");
                }
                Err(error) => {
                    tracing::debug!(%route, %target, %error, "connection ended with an error")
                }
            }
        }
        // Logged once per state change by Discovery, not once per client.
        Err(ConnectError::Resolve(
            ResolveError::NotFound { .. } | ResolveError::Unavailable { .. },
        )) => {}
        Err(error) => tracing::warn!(%route, %error, "no target reachable; closing client"),
    }
    counters.active.dec();
}

/// A route's metric series, looked up once when the route starts serving. Looking them
/// up per connection built label strings and took the families' locks four times for
/// every client, which showed in the new-connections-per-second benchmark.
struct RouteCounters {
    total: Counter,
    active: Gauge,
    rejected: Counter,
    bytes: ByteCounters,
}

impl RouteCounters {
    fn new(metrics: &ProxyMetrics, route: &str) -> Self {
        let label = ProxyMetrics::route(route);
        let bytes = |direction| {
            metrics
                .bytes_total
                .get_or_create(&DirectionLabel {
                    route: route.to_owned(),
                    direction,
                })
                .clone()
        };
        Self {
            total: metrics.connections_total.get_or_create(&label).clone(),
            active: metrics.connections_active.get_or_create(&label).clone(),
            rejected: metrics
                .connections_rejected_total
                .get_or_create(&label)
                .clone(),
            bytes: ByteCounters {
                upstream: bytes("upstream"),
                downstream: bytes("downstream"),
            },
        }
    }
}
