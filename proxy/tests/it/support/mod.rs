//! Shared test helpers: backends that say who they are, and an in-process proxy.
//!
//! Every wait here is bounded in count and time; nothing asserts on how long something took.

pub mod dns;
pub mod process;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use srv_proxy::config::ProxySettings;
use srv_proxy::hickory::HickoryResolver;
use srv_proxy::metrics::ProxyMetrics;
use srv_proxy::server::{serve, BoundRoute, DrainOutcome};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The SRV name most tests route to.
pub const WEB: &str = "_web._tcp.web.ecs.test.";

/// The set-up most tests share: a DNS server whose [`WEB`] name points at one backend that
/// greets with `web`, and a proxy with one route to it. The proxy resolves nothing before its
/// first client, so a test may still change the zone (its TTL, say) after this.
pub struct WebRoute {
    pub dns: dns::TestDns,
    pub backend: Backend,
    pub proxy: RunningProxy,
}

impl WebRoute {
    pub async fn start(settings: ProxySettings) -> Self {
        let dns = dns::TestDns::start().await;
        let backend = start_backend("web").await;
        dns.set_targets(WEB, &[(10, 1, backend.port)]);
        let proxy = start_proxy(dns.addr, &[WEB], settings).await;
        Self {
            dns,
            backend,
            proxy,
        }
    }
}

/// The set-up of the tests about a changing answer: [`WEB`] points at a backend `old` with the
/// given TTL, and a backend `new` waits to take its place.
pub struct MovingAnswer {
    pub dns: dns::TestDns,
    pub old: Backend,
    pub new: Backend,
}

impl MovingAnswer {
    pub async fn start(ttl: u32) -> Self {
        let dns = dns::TestDns::start().await;
        let old = start_backend("old").await;
        let new = start_backend("new").await;
        dns.set_targets(WEB, &[(10, 1, old.port)]);
        dns.edit(|zone| zone.ttl = ttl);
        Self { dns, old, new }
    }

    /// Points [`WEB`] at `new` instead.
    pub fn move_to_new(&self) {
        self.dns.set_targets(WEB, &[(10, 1, self.new.port)]);
    }
}

/// Whether a client through `addr` comes to reach the backend `name` (50 tries, 100 ms apart).
pub async fn eventually_reaches(addr: SocketAddr, name: &str) -> bool {
    eventually(50, Duration::from_millis(100), || async move {
        backend_reached(addr).await.as_deref() == Some(name)
    })
    .await
}

/// Which backend each of `clients` connections through `addr` reached, by name.
pub async fn reached_counts(addr: SocketAddr, clients: usize) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for _ in 0..clients {
        let reached = backend_reached(addr).await.expect("a backend answers");
        *counts.entry(reached).or_default() += 1;
    }
    counts
}

/// [`WEB`] at two backends, `light` and `heavy`, of weights 1 and 3; the caller keeps them.
pub async fn light_and_heavy(dns: &dns::TestDns) -> (Backend, Backend) {
    let light = start_backend("light").await;
    let heavy = start_backend("heavy").await;
    dns.set_targets(WEB, &[(10, 1, light.port), (10, 3, heavy.port)]);
    (light, heavy)
}

/// 400 connections through `addr` land near the 1:3 split of [`light_and_heavy`] (100 : 300).
/// The picker's seed is fixed, so the counts only vary with how the kernel spreads connections
/// over the workers; the bound is loose enough for that and tight enough to catch a pick that
/// ignores the weights.
pub async fn assert_one_to_three(addr: SocketAddr) {
    let counts = reached_counts(addr, 400).await;
    let light_share = counts.get("light").copied().unwrap_or(0);
    let heavy_share = counts.get("heavy").copied().unwrap_or(0);
    assert_eq!(light_share + heavy_share, 400, "{counts:?}");
    assert!((70..=130).contains(&light_share), "{counts:?}");
}

/// Checks `holds` up to `tries` times, `pause` apart, and says whether it came to hold: the one
/// shape of every bounded wait in these tests.
pub async fn eventually<F, Fut>(tries: u32, pause: Duration, mut holds: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..tries {
        if holds().await {
            return true;
        }
        tokio::time::sleep(pause).await;
    }
    false
}

/// The longest any single test step may wait before the test fails.
pub const STEP_LIMIT: Duration = Duration::from_secs(15);

/// A backend that greets each client with `<name>\n`, echoes until EOF, then sends `done\n` and
/// closes: enough to tell targets apart and to check half-close.
pub struct Backend {
    pub port: u16,
    task: JoinHandle<()>,
}

impl Backend {
    /// Stops the backend and returns once its listener is closed: the proxy runs on threads of
    /// its own, and must not reach a listener that is only about to close.
    /// Stops the backend. The port stays bound, without a listener, for as long as the
    /// returned guard lives: connects to it are refused, and no other test running beside
    /// this one can be given the port and answer in the dead backend's place.
    pub async fn stop(mut self) -> HeldPort {
        self.task.abort();
        let _ = (&mut self.task).await;
        HeldPort::bind(self.port)
    }
}

/// A loopback port bound without a listener, held until dropped.
pub struct HeldPort {
    _socket: Option<tokio::net::TcpSocket>,
}

impl HeldPort {
    fn bind(port: u16) -> Self {
        let socket = tokio::net::TcpSocket::new_v4().ok().and_then(|socket| {
            socket.set_reuseaddr(true).ok()?;
            socket.bind(SocketAddr::from(([127, 0, 0, 1], port))).ok()?;
            Some(socket)
        });
        HeldPort { _socket: socket }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start_backend(name: &str) -> Backend {
    start_backend_on("127.0.0.1:0", name).await
}

/// [`start_backend`] on another loopback address, such as `[::1]:0`.
pub async fn start_backend_on(listen: &str, name: &str) -> Backend {
    let listener = TcpListener::bind(listen)
        .await
        .unwrap_or_else(|error| panic!("cannot listen on {listen} for a test backend: {error}"));
    let port = listener.local_addr().expect("backend addr").port();
    let greeting = format!("{name}\n");
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let greeting = greeting.clone();
            tokio::spawn(async move {
                let _ = stream.write_all(greeting.as_bytes()).await;
                let mut buffer = [0u8; 4096];
                loop {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(read) => {
                            if stream.write_all(&buffer[..read]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
                let _ = stream.write_all(b"done\n").await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Backend { port, task }
}

/// A port on which nothing listens: connects to it are refused.
pub async fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Settings for tests: the flags' defaults, with a fixed picker seed and a short drain.
pub fn test_settings() -> ProxySettings {
    ProxySettings {
        drain_timeout: Duration::from_secs(5),
        rng_seed: Some(42),
        ..ProxySettings::defaults()
    }
}

/// A proxy running in this process.
pub struct RunningProxy {
    pub listen: Vec<SocketAddr>,
    pub registry: Arc<Registry>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<DrainOutcome>>>,
}

impl RunningProxy {
    /// The first route's address.
    pub fn addr(&self) -> SocketAddr {
        self.listen[0]
    }

    /// Sends the shutdown signal and waits for the drain to finish.
    pub async fn stop(mut self) -> DrainOutcome {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().expect("running");
        tokio::time::timeout(STEP_LIMIT, task)
            .await
            .expect("proxy stops")
            .expect("proxy task")
            .expect("proxy workers start")
    }

    /// One Prometheus sample by name and label fragment, 0 when absent.
    pub fn sample(&self, metric: &str, label_fragment: &str) -> f64 {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("encode");
        text.lines()
            .filter(|line| line.starts_with(metric) && line.contains(label_fragment))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Starts a proxy with one route per SRV name, all on 127.0.0.1:0, resolving through `dns`.
pub async fn start_proxy(
    dns: SocketAddr,
    srv_names: &[&str],
    settings: ProxySettings,
) -> RunningProxy {
    let resolver = Arc::new(HickoryResolver::with_nameserver(dns).expect("resolver"));
    let metrics = Arc::new(ProxyMetrics::default());
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let mut routes = Vec::new();
    let mut listen = Vec::new();
    for srv_name in srv_names {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        listen.push(listener.local_addr().expect("proxy addr"));
        routes.push(BoundRoute {
            listener,
            srv_name: (*srv_name).to_owned(),
        });
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(routes, settings, resolver, metrics, async {
        let _ = stopped.await;
    }));
    RunningProxy {
        listen,
        registry: Arc::new(registry),
        stop: Some(stop),
        task: Some(task),
    }
}

/// A client connection through the proxy, reading line by line.
pub struct Client {
    pub reader: BufReader<TcpStream>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = tokio::time::timeout(STEP_LIMIT, TcpStream::connect(addr))
            .await
            .expect("connect in time")
            .expect("connect");
        Self {
            reader: BufReader::new(stream),
        }
    }

    /// The next line, or `None` at EOF (or on a reset, which is also "closed").
    pub async fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        match tokio::time::timeout(STEP_LIMIT, self.reader.read_line(&mut line))
            .await
            .expect("a line or EOF in time")
        {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end().to_owned()),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).await.expect("send");
    }

    pub async fn finish_sending(&mut self) {
        self.reader
            .get_mut()
            .shutdown()
            .await
            .expect("shutdown write");
    }
}

/// Connects through the proxy and returns the greeting of the backend reached, or `None` if the
/// proxy closed the client.
pub async fn backend_reached(addr: SocketAddr) -> Option<String> {
    Client::connect(addr).await.line().await
}
