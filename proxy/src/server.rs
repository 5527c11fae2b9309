//! Accepting clients, the connection limit and the graceful drain.
//!
//! Listeners arrive already bound (tests bind `127.0.0.1:0`). The accept loop only accepts and
//! spawns: resolving and connecting happen inside the connection's own task, so a dead backend
//! or a slow DNS server never holds up the next client. On shutdown the loops stop accepting,
//! and open connections get up to the drain timeout to finish.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Semaphore};

use crate::connect::{ConnectError, RouteConnector};
use crate::discovery::Discovery;
use crate::health::{EjectionPolicy, TargetHealth};
use crate::metrics::{DirectionLabel, ProxyMetrics};
use crate::relay::{relay, ByteCounters, RelayEnd};
use crate::resolve::{Resolve, ResolveError};

/// The knobs that shape every connection, whatever its route.
#[derive(Clone, Debug)]
pub struct ProxySettings {
    /// How long one connect to a target may take.
    pub connect_timeout: Duration,
    /// How long a pair may stay silent in both directions before it is closed.
    pub idle_timeout: Duration,
    /// Retries on other targets after a failed connect.
    pub retries: u32,
    /// Open client connections allowed across all routes; more are closed at once.
    pub max_connections: usize,
    /// How long open connections may run on after a shutdown signal.
    pub drain_timeout: Duration,
    /// Passive ejection thresholds.
    pub ejection: EjectionPolicy,
    /// A fixed seed for the target picker, for reproducible tests; `None` seeds from the OS.
    pub rng_seed: Option<u64>,
}

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

/// State shared by every connection task.
struct Shared {
    settings: ProxySettings,
    metrics: Arc<ProxyMetrics>,
    connection_slots: Arc<Semaphore>,
    open_connections: AtomicUsize,
}

/// Serves `routes` until `shutdown` completes, then drains.
pub async fn serve(
    routes: Vec<BoundRoute>,
    settings: ProxySettings,
    resolver: Arc<dyn Resolve>,
    metrics: Arc<ProxyMetrics>,
    shutdown: impl Future<Output = ()>,
) -> DrainOutcome {
    let shared = Arc::new(Shared {
        connection_slots: Arc::new(Semaphore::new(
            settings.max_connections.min(Semaphore::MAX_PERMITS),
        )),
        open_connections: AtomicUsize::new(0),
        settings,
        metrics,
    });
    let (stop_sender, stop_receiver) = watch::channel(false);
    // Every connection task holds a clone of this sender; the channel closes when the last one ends.
    let (drain_guard, mut drained) = mpsc::channel::<()>(1);
    let mut accept_loops = Vec::new();
    for (index, route) in routes.into_iter().enumerate() {
        let seed = shared
            .settings
            .rng_seed
            .map(|seed| seed.wrapping_add(index as u64));
        let connector = Arc::new(RouteConnector {
            discovery: Discovery::new(route.srv_name, resolver.clone(), shared.metrics.clone()),
            health: TargetHealth::new(shared.settings.ejection),
            rng: Mutex::new(seed.map_or_else(StdRng::from_os_rng, StdRng::seed_from_u64)),
            metrics: shared.metrics.clone(),
            connect_timeout: shared.settings.connect_timeout,
            retries: shared.settings.retries,
        });
        accept_loops.push(tokio::spawn(accept_loop(
            route.listener,
            connector,
            shared.clone(),
            stop_receiver.clone(),
            drain_guard.clone(),
        )));
    }
    drop(drain_guard);

    shutdown.await;
    let open = shared.open_connections.load(Ordering::Relaxed);
    tracing::info!(open_connections = open, drain_timeout = ?shared.settings.drain_timeout, "shutting down: no longer accepting, draining open connections");
    let _ = stop_sender.send(true);
    for accept_loop in accept_loops {
        let _ = accept_loop.await;
    }
    match tokio::time::timeout(shared.settings.drain_timeout, drained.recv()).await {
        Ok(_) => {
            tracing::info!("all connections drained");
            DrainOutcome::Drained
        }
        Err(_) => {
            let still_open = shared.open_connections.load(Ordering::Relaxed);
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
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    drain_guard: mpsc::Sender<()>,
) {
    let route = connector.discovery.srv_name().to_owned();
    let counters = Arc::new(RouteCounters::new(&shared.metrics, &route));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stopped| *stopped) => return,
        };
        let client = match accepted {
            Ok((client, _peer)) => client,
            Err(error) => {
                // Usually EMFILE: back off briefly instead of spinning on the error.
                tracing::warn!(%route, %error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = shared.connection_slots.clone().try_acquire_owned() else {
            counters.rejected.inc();
            tracing::debug!(%route, limit = shared.settings.max_connections, "connection limit reached; closing client");
            drop(client);
            continue;
        };
        let connector = connector.clone();
        let shared = shared.clone();
        let counters = counters.clone();
        let drain_guard = drain_guard.clone();
        tokio::spawn(async move {
            shared.open_connections.fetch_add(1, Ordering::Relaxed);
            handle_client(client, &connector, &shared, &counters).await;
            shared.open_connections.fetch_sub(1, Ordering::Relaxed);
            drop(slot);
            drop(drain_guard);
        });
    }
}

async fn handle_client(
    mut client: TcpStream,
    connector: &RouteConnector,
    shared: &Shared,
    counters: &RouteCounters,
) {
    let route = connector.discovery.srv_name();
    counters.total.inc();
    counters.active.inc();
    let _ = client.set_nodelay(true);
    match connector.connect().await {
        Ok((mut backend, target)) => {
            let _ = backend.set_nodelay(true);
            match relay(
                &mut client,
                &mut backend,
                shared.settings.idle_timeout,
                &counters.bytes,
            )
            .await
            {
                Ok(RelayEnd::Finished) => {}
                Ok(RelayEnd::IdleTimeout) => {
                    tracing::debug!(%route, target = %target.addr, "idle timeout; closing the pair");
                }
                Err(error) => {
                    tracing::debug!(%route, target = %target.addr, %error, "connection ended with an error")
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
