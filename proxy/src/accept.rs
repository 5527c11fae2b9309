//! One route's side of serving: its accept loop, and the life of one client connection.
//!
//! The accept loop only accepts and spawns: resolving and connecting happen inside the
//! connection's own task, so a dead backend or a slow DNS server never holds up the next client.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::admission::OpenConnections;
use crate::connect::{ConnectError, RouteConnector};
use crate::metrics::{DirectionLabel, ProxyMetrics};
use crate::relay::{relay, ByteCounters, RelayEnd};
use crate::resolve::ResolveError;

/// Accepts on `listener` until `stop`, admitting each client under the connection limit.
pub(crate) async fn accept_loop(
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
        if let Err(refused) = connections.admit(connection) {
            counters.rejected.inc();
            tracing::debug!(route = %connector.srv_name(), limit = connections.limit, "connection limit reached; closing client");
            drop(refused);
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
    // TCP_NODELAY: the client inherits it from its listener, the backend gets it before connect.
    match connector.connect().await {
        Ok((mut backend, target)) => {
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
pub(crate) struct RouteCounters {
    total: Counter,
    active: Gauge,
    rejected: Counter,
    bytes: ByteCounters,
}

impl RouteCounters {
    pub(crate) fn new(metrics: &ProxyMetrics, route: &str) -> Self {
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
