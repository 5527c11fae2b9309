//! Serving: worker threads, the connection limit and the graceful drain.
//!
//! Listeners arrive already bound (tests bind `127.0.0.1:0`). Each of `--workers` threads runs
//! a single-threaded runtime of its own with an accept loop per route on its own listener of
//! the route's address (see [`crate::listeners`]), so a connection lives and dies on one thread:
//! no work stealing and no wake-ups across threads on the data path, which is where a shared
//! multi-threaded runtime spent its time per new connection. The limit and the drain are shared: one count of open connections across threads.
//! On shutdown the loops stop accepting, and open connections get up to the drain timeout to
//! finish; what is still open then is dropped with the threads' runtimes.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::accept::{accept_loop, RouteCounters};
use crate::admission::OpenConnections;
use crate::config::ProxySettings;
use crate::connect::RouteConnector;
use crate::health::ProxyHealth;
use crate::listeners;
use crate::metrics::ProxyMetrics;
use crate::resolve::Resolve;

/// One listener and the SRV name its clients are forwarded to.
pub struct BoundRoute {
    /// An already bound listener.
    pub listener: tokio::net::TcpListener,
    /// The SRV name, e.g. `_web._tcp._all.web.ecs.internal`.
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

/// What one worker serves of one route: its own listener, and the route's shared parts.
struct RouteOnWorker {
    listener: std::net::TcpListener,
    connector: Arc<RouteConnector>,
    counters: Arc<RouteCounters>,
}

/// What every worker shares: the count of open connections, and the three signals of a stop.
#[derive(Clone)]
struct WorkerSignals {
    connections: Arc<OpenConnections>,
    /// Ends the accept loops.
    stop: CancellationToken,
    /// Tells when every accept loop has ended.
    acceptors: TaskTracker,
    /// Ends the workers, dropping whatever is still open.
    exit: CancellationToken,
}

/// Serves `routes` until `shutdown` completes, then drains. Fails only when a worker thread or
/// its runtime cannot be started, or a listener cannot be shared with it.
pub async fn serve(
    routes: Vec<BoundRoute>,
    settings: ProxySettings,
    resolver: Arc<dyn Resolve>,
    metrics: Arc<ProxyMetrics>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<DrainOutcome> {
    let health = ProxyHealth::default();
    serve_reporting(routes, settings, resolver, metrics, &health, shutdown).await
}

/// [`serve`], keeping `health` up to date: the routes it serves, and whether it accepts.
pub async fn serve_reporting(
    routes: Vec<BoundRoute>,
    settings: ProxySettings,
    resolver: Arc<dyn Resolve>,
    metrics: Arc<ProxyMetrics>,
    health: &ProxyHealth,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<DrainOutcome> {
    let settings = Arc::new(settings);
    let per_worker = share_routes(routes, &settings, &resolver, &metrics, health)?;
    let signals = WorkerSignals {
        connections: Arc::new(OpenConnections::new(settings.max_connections as usize)),
        stop: CancellationToken::new(),
        acceptors: TaskTracker::new(),
        exit: CancellationToken::new(),
    };
    // However `serve` ends (returned, failed, or dropped by its caller), the workers end too.
    let _exit_on_return = signals.exit.clone().drop_guard();
    for (worker, routes) in per_worker.into_iter().enumerate() {
        start_worker(worker, routes, signals.clone(), settings.idle_timeout)?;
    }
    signals.acceptors.close();
    health.set_accepting(true);

    shutdown.await;
    health.set_accepting(false);
    let open = signals.connections.len();
    tracing::info!(open_connections = open, drain_timeout = ?settings.drain_timeout, "shutting down: no longer accepting, draining open connections");
    signals.stop.cancel();
    signals.acceptors.wait().await;
    Ok(drain(&signals.connections, settings.drain_timeout).await)
}

/// Builds each route's shared parts once and gives every worker its own listener of it.
fn share_routes(
    routes: Vec<BoundRoute>,
    settings: &Arc<ProxySettings>,
    resolver: &Arc<dyn Resolve>,
    metrics: &Arc<ProxyMetrics>,
    health: &ProxyHealth,
) -> std::io::Result<Vec<Vec<RouteOnWorker>>> {
    let workers = usize::from(settings.workers);
    let mut per_worker: Vec<Vec<RouteOnWorker>> = (0..workers).map(|_| Vec::new()).collect();
    for (index, route) in routes.into_iter().enumerate() {
        let seed = settings
            .rng_seed
            .map(|seed| seed.wrapping_add(index as u64));
        let counters = Arc::new(RouteCounters::new(metrics, &route.srv_name));
        let connector = Arc::new(RouteConnector::new(
            route.srv_name,
            resolver.clone(),
            metrics.clone(),
            settings.clone(),
            seed,
        ));
        health.add_route(connector.clone());
        let group = listeners::per_worker(route.listener.into_std()?, workers)?;
        for (routes, listener) in per_worker.iter_mut().zip(group) {
            routes.push(RouteOnWorker {
                listener,
                connector: connector.clone(),
                counters: counters.clone(),
            });
        }
    }
    Ok(per_worker)
}

/// Gives the open connections up to `timeout` to finish, and says how that went.
async fn drain(connections: &OpenConnections, timeout: Duration) -> DrainOutcome {
    match tokio::time::timeout(timeout, connections.close_and_wait()).await {
        Ok(()) => {
            tracing::info!("all connections drained");
            DrainOutcome::Drained
        }
        Err(_) => {
            let still_open = connections.len();
            tracing::warn!(
                still_open,
                "drain timeout reached; closing the remaining connections"
            );
            DrainOutcome::TimedOut { still_open }
        }
    }
}

/// Starts worker thread `worker`: a single-threaded runtime with an accept loop per route,
/// running until the exit signal.
fn start_worker(
    worker: usize,
    routes: Vec<RouteOnWorker>,
    signals: WorkerSignals,
    idle_timeout: Duration,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Held until this worker's loops are tracked, so the drain cannot miss one.
    let starting = signals.acceptors.token();
    // The worker logs where its caller logs: the global subscriber in the binary, and the
    // caller's own (thread-local) one where the proxy is embedded, as in tests.
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    std::thread::Builder::new()
        .name(format!("srv-proxy-worker-{worker}"))
        .spawn(move || {
            let _logging = tracing::dispatcher::set_default(&dispatch);
            runtime.block_on(async move {
                for route in routes {
                    let listener = match tokio::net::TcpListener::from_std(route.listener) {
                        Ok(listener) => listener,
                        Err(error) => {
                            tracing::error!(%error, worker, "a worker cannot take its listener");
                            continue;
                        }
                    };
                    signals.acceptors.spawn(accept_loop(
                        listener,
                        route.connector,
                        route.counters,
                        signals.connections.clone(),
                        idle_timeout,
                        signals.stop.clone(),
                    ));
                }
                drop(starting);
                signals.exit.cancelled().await;
            });
        })?;
    Ok(())
}
