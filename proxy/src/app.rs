//! Wiring for the binary: from parsed flags to a running proxy that stops on a signal.
//!
//! Everything that can fail on bad configuration (binding, reading resolv.conf) happens here,
//! before the first client, so that the container exits at once with a clear reason.

use std::sync::Arc;

use anyhow::Context;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use crate::config::Cli;
use crate::health::ProxyHealth;
use crate::hickory::HickoryResolver;
use crate::metrics::ProxyMetrics;
use crate::metrics_http::serve_metrics;
use crate::resolve::Resolve;
use crate::server::{serve_reporting, BoundRoute, DrainOutcome};

/// Binds every route and the metrics endpoint, then serves until SIGTERM or SIGINT.
pub async fn run_cli(cli: Cli) -> anyhow::Result<DrainOutcome> {
    let resolver: Arc<dyn Resolve> = match cli.dns {
        Some(nameserver) => Arc::new(HickoryResolver::with_nameserver(nameserver)?),
        None => Arc::new(HickoryResolver::from_system_conf()?),
    };

    let mut routes = Vec::with_capacity(cli.routes.len());
    for spec in &cli.routes {
        let listener = TcpListener::bind(spec.listen).await.with_context(|| {
            format!(
                "cannot listen on {} for route {}",
                spec.listen, spec.srv_name
            )
        })?;
        // The bound address, not the asked one: with port 0 this is how a caller learns the port.
        let listen = listener.local_addr().unwrap_or(spec.listen);
        tracing::info!(%listen, route = %spec.srv_name, "route ready");
        routes.push(BoundRoute {
            listener,
            srv_name: spec.srv_name.clone(),
        });
    }

    let metrics = Arc::new(ProxyMetrics::default());
    let health = Arc::new(ProxyHealth::default());
    if let Some(metrics_addr) = cli.metrics {
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        let listener = TcpListener::bind(metrics_addr)
            .await
            .with_context(|| format!("cannot listen on {metrics_addr} for --metrics"))?;
        let listen = listener.local_addr().unwrap_or(metrics_addr);
        tracing::info!(%listen, "metrics at /metrics, health at /health");
        tokio::spawn(serve_metrics(listener, Arc::new(registry), health.clone()));
    }

    let shutdown = shutdown_signal().context("cannot install the SIGTERM/SIGINT handlers")?;
    serve_reporting(routes, cli.settings, resolver, metrics, &health, shutdown)
        .await
        .context("cannot start the worker threads")
}

/// Completes on the first SIGTERM (what ECS sends on stop) or SIGINT (Ctrl-C).
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        let name = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutdown signal received");
    })
}
