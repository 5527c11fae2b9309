//! srv-proxy in front of the tasks, and clients sending requests through it.
//!
//! The proxy is the `srv_proxy` library's own server loop, with hickory asking the DNS
//! front, exactly what the `srv-proxy` binary runs after parsing its flags. Running it in
//! process spares the test a second binary to locate and keeps its port in our hands.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use srv_proxy::config::ProxySettings;
use srv_proxy::hickory::HickoryResolver;
use srv_proxy::metrics::ProxyMetrics;
use srv_proxy::server::{serve, BoundRoute};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::backend::fetch_task_id;

/// However many requests a round asks for, it stops sending after this long.
const ROUND_DEADLINE: Duration = Duration::from_secs(20);

/// A running srv-proxy with one listener per SRV name.
pub struct RunningProxy {
    /// Listen address per SRV name, in the order given.
    pub routes: Vec<(String, SocketAddr)>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
}

impl RunningProxy {
    /// Starts the proxy for `srv_names`, each on 127.0.0.1:0, resolving through `dns`.
    pub async fn start(dns: SocketAddr, srv_names: &[String]) -> Result<Self> {
        let resolver = Arc::new(HickoryResolver::with_nameserver(dns)?);
        let mut bound = Vec::new();
        let mut routes = Vec::new();
        for name in srv_names {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .await
                .context("binding 127.0.0.1:0 for a proxy route")?;
            routes.push((
                name.clone(),
                listener
                    .local_addr()
                    .context("reading a proxy route's address")?,
            ));
            bound.push(BoundRoute {
                listener,
                srv_name: name.clone(),
            });
        }
        let settings = ProxySettings {
            connect_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(30),
            max_connections: 256,
            drain_timeout: Duration::from_secs(2),
            ..ProxySettings::defaults()
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(err) = serve(
                bound,
                settings,
                resolver,
                Arc::new(ProxyMetrics::default()),
                shutdown,
            )
            .await
            {
                eprintln!("demo: srv-proxy could not start its workers: {err}");
            }
        });
        Ok(Self {
            routes,
            stop: Some(stop),
            server,
        })
    }

    /// The listen address of `srv_name`.
    pub fn addr_of(&self, srv_name: &str) -> Option<SocketAddr> {
        self.routes
            .iter()
            .find(|(name, _)| name == srv_name)
            .map(|(_, addr)| *addr)
    }

    /// Stops accepting, lets open connections drain (briefly) and waits for the loop.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(Duration::from_secs(5), &mut self.server)
            .await
            .is_err()
        {
            self.server.abort();
        }
    }
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// How a round of requests was served.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spread {
    /// Requests sent.
    pub sent: usize,
    /// Answers per task id.
    pub by_task: BTreeMap<String, usize>,
    /// Requests that got no answer, with the reason.
    pub failures: Vec<String>,
    /// How long the round took.
    pub elapsed: Duration,
}

impl Spread {
    /// Answers from `task_id`.
    pub fn count(&self, task_id: &str) -> usize {
        self.by_task.get(task_id).copied().unwrap_or(0)
    }
}

/// Sends `count` requests through `addr`, one after another, each on a new connection
/// (so each one is a fresh pick by the proxy), and counts which task answered.
pub async fn send_requests(addr: SocketAddr, count: usize) -> Spread {
    let started = Instant::now();
    let mut spread = Spread::default();
    for _ in 0..count {
        if started.elapsed() > ROUND_DEADLINE {
            spread.failures.push(format!(
                "stopped after {ROUND_DEADLINE:?} with requests left"
            ));
            break;
        }
        spread.sent += 1;
        match fetch_task_id(addr).await {
            Ok(task_id) => *spread.by_task.entry(task_id).or_default() += 1,
            Err(error) => spread.failures.push(format!("{error:#}")),
        }
    }
    spread.elapsed = started.elapsed();
    spread
}
