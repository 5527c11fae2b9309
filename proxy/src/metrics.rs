//! The Prometheus metrics the proxy keeps, registered once and shared by every route.
//!
//! Each family is labelled by route (the SRV name) and, where a target is involved, by the
//! target's `address:port`, which is what an operator sees in `dig` and in the ECS console.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels for per-route series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    /// The SRV name the route forwards to.
    pub route: String,
}

/// Labels for per-target series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TargetLabel {
    /// The SRV name the route forwards to.
    pub route: String,
    /// The target's socket address.
    pub target: String,
}

/// Labels for byte counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DirectionLabel {
    /// The SRV name the route forwards to.
    pub route: String,
    /// `upstream` (client to target) or `downstream` (target to client).
    pub direction: &'static str,
}

/// Labels for DNS errors.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DnsErrorLabel {
    /// The SRV name the route forwards to.
    pub route: String,
    /// `not_found` (NXDOMAIN or empty) or `unavailable` (timeout, SERVFAIL, refused).
    pub kind: &'static str,
}

/// Every metric of the proxy. Cloning a family is cheap: the clone shares the same series.
#[derive(Default)]
pub struct ProxyMetrics {
    /// Client connections accepted, per route.
    pub connections_total: Family<RouteLabel, Counter>,
    /// Client connections open now, per route.
    pub connections_active: Family<RouteLabel, Gauge>,
    /// Client connections closed at once because `--max-connections` was reached.
    pub connections_rejected_total: Family<RouteLabel, Counter>,
    /// Bytes copied, per route and direction.
    pub bytes_total: Family<DirectionLabel, Counter>,
    /// Failed connects (error or timeout), per target.
    pub connect_failures_total: Family<TargetLabel, Counter>,
    /// Connect attempts made on a target after another one failed, per target.
    pub connect_retries_total: Family<TargetLabel, Counter>,
    /// Passive ejections, per target.
    pub ejections_total: Family<TargetLabel, Counter>,
    /// SRV resolutions made, per route.
    pub dns_lookups_total: Family<RouteLabel, Counter>,
    /// SRV resolutions that failed, per route and kind.
    pub dns_errors_total: Family<DnsErrorLabel, Counter>,
    /// Connections served from the last good answer while DNS was failing.
    pub dns_stale_answers_total: Family<RouteLabel, Counter>,
    /// Targets in the answer the route uses now.
    pub route_targets: Family<RouteLabel, Gauge>,
}

impl ProxyMetrics {
    /// Registers every family under the `srv_proxy` prefix.
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("srv_proxy");
        registry.register(
            "connections",
            "Client connections accepted",
            self.connections_total.clone(),
        );
        registry.register(
            "connections_active",
            "Client connections open now",
            self.connections_active.clone(),
        );
        registry.register(
            "connections_rejected",
            "Client connections refused by --max-connections",
            self.connections_rejected_total.clone(),
        );
        registry.register("bytes", "Bytes copied", self.bytes_total.clone());
        registry.register(
            "connect_failures",
            "Failed connects to a target",
            self.connect_failures_total.clone(),
        );
        registry.register(
            "connect_retries",
            "Connect attempts on a target after another target failed",
            self.connect_retries_total.clone(),
        );
        registry.register(
            "ejections",
            "Passive ejections of a target",
            self.ejections_total.clone(),
        );
        registry.register(
            "dns_lookups",
            "SRV resolutions made",
            self.dns_lookups_total.clone(),
        );
        registry.register(
            "dns_errors",
            "SRV resolutions that failed",
            self.dns_errors_total.clone(),
        );
        registry.register(
            "dns_stale_answers",
            "Connections served from the last good answer while DNS failed",
            self.dns_stale_answers_total.clone(),
        );
        registry.register(
            "route_targets",
            "Targets in the answer a route uses now",
            self.route_targets.clone(),
        );
    }

    /// The label for per-route series.
    pub fn route(route: &str) -> RouteLabel {
        RouteLabel {
            route: route.to_owned(),
        }
    }

    /// Drops a target's series, once the target has left its route's answer: dynamic host
    /// ports come and go for ever, and their series must not pile up.
    pub fn forget_target(&self, label: &TargetLabel) {
        self.connect_failures_total.remove(label);
        self.connect_retries_total.remove(label);
        self.ejections_total.remove(label);
    }

    /// The label for per-target series.
    pub fn target(route: &str, target: std::net::SocketAddr) -> TargetLabel {
        TargetLabel {
            route: route.to_owned(),
            target: target.to_string(),
        }
    }
}
