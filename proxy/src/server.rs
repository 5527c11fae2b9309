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
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::accept::{accept_loop, RouteCounters};
use crate::config::ProxySettings;
use crate::connect::RouteConnector;
use crate::listeners;
use crate::metrics::ProxyMetrics;
use crate::resolve::Resolve;

/// One listener and the SRV name its clients are forwarded to.
pub struct BoundRoute {
    /// An already bound listener.
    pub listener: tokio::net::TcpListener,
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
pub(crate) struct OpenConnections {
    tracker: TaskTracker,
    pub(crate) limit: usize,
    /// Makes "under the limit?" and "spawn" one step, so that routes accepting at the same
    /// moment cannot pass the limit together.
    admitting: Mutex<()>,
}

impl OpenConnections {
    /// Spawns `connection` unless the limit is reached; else hands it back, so that the caller
    /// counts the refusal before the client sees its connection closed.
    pub(crate) fn admit<F>(&self, connection: F) -> Result<(), F>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let _one_at_a_time = self
            .admitting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.tracker.len() >= self.limit {
            return Err(connection);
        }
        self.tracker.spawn(connection);
        Ok(())
    }
}

/// One route as every worker serves it.
struct ServedRoute {
    listener: Option<std::net::TcpListener>,
    connector: Arc<RouteConnector>,
    counters: Arc<RouteCounters>,
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
    let settings = Arc::new(settings);
    let connections = Arc::new(OpenConnections {
        tracker: TaskTracker::new(),
        limit: settings.max_connections as usize,
        admitting: Mutex::new(()),
    });
    let mut served = Vec::with_capacity(routes.len());
    for (index, route) in routes.into_iter().enumerate() {
        let seed = settings
            .rng_seed
            .map(|seed| seed.wrapping_add(index as u64));
        served.push(ServedRoute {
            listener: Some(route.listener.into_std()?),
            counters: Arc::new(RouteCounters::new(&metrics, &route.srv_name)),
            connector: Arc::new(RouteConnector::new(
                route.srv_name,
                resolver.clone(),
                metrics.clone(),
                settings.clone(),
                seed,
            )),
        });
    }

    // `stop` ends the accept loops, `acceptors` tells when they have all ended, and `exit`
    // ends the workers, dropping whatever is still open.
    let stop = CancellationToken::new();
    let exit = CancellationToken::new();
    let acceptors = TaskTracker::new();
    let _exit_on_return = exit.clone().drop_guard();
    let workers = usize::from(settings.workers);
    let mut per_route = Vec::with_capacity(served.len());
    for route in &mut served {
        let listener = route.listener.take().expect("taken once");
        per_route.push(listeners::per_worker(listener, workers)?.into_iter());
    }
    for worker in 0..workers {
        let mut loops = Vec::with_capacity(served.len());
        for (route, listeners) in served.iter().zip(&mut per_route) {
            let listener = listeners.next().expect("one listener per worker");
            loops.push((listener, route.connector.clone(), route.counters.clone()));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (connections, stop, exit, acceptors) = (
            connections.clone(),
            stop.clone(),
            exit.clone(),
            acceptors.clone(),
        );
        // Held until this worker's loops are tracked, so the drain cannot miss one.
        let starting = acceptors.token();
        let idle_timeout = settings.idle_timeout;
        std::thread::Builder::new()
            .name(format!("srv-proxy-worker-{worker}"))
            .spawn(move || {
                runtime.block_on(async move {
                    for (listener, connector, counters) in loops {
                        let listener = match tokio::net::TcpListener::from_std(listener) {
                            Ok(listener) => listener,
                            Err(error) => {
                                tracing::error!(%error, "a worker cannot take its listener");
                                continue;
                            }
                        };
                        acceptors.spawn(accept_loop(
                            listener,
                            connector,
                            counters,
                            connections.clone(),
                            idle_timeout,
                            stop.clone(),
                        ));
                    }
                    drop(starting);
                    exit.cancelled().await;
                });
            })?;
    }
    acceptors.close();
    drop(served);

    shutdown.await;
    let open = connections.tracker.len();
    tracing::info!(open_connections = open, drain_timeout = ?settings.drain_timeout, "shutting down: no longer accepting, draining open connections");
    stop.cancel();
    acceptors.wait().await;
    connections.tracker.close();
    let drained = tokio::time::timeout(settings.drain_timeout, connections.tracker.wait()).await;
    Ok(match drained {
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
    })
}
