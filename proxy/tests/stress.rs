//! srv-proxy under stress: many connections, a backend killed under load, a DNS outage, idle
//! clients against the connection limit, and a flapping target.
//!
//! Every loop is bounded in count and time and everything listens on 127.0.0.1. Outcomes are
//! asserted, never how fast something happened. Run with `--nocapture` to see the figures.

mod support;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use srv_proxy::health::EjectionPolicy;
use support::dns::TestDns;
use support::{backend_reached, start_backend, start_proxy, test_settings, STEP_LIMIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

const WEB: &str = "_web._tcp.web.ecs.test.";

/// The issue asks for 10,000 concurrent connections. Each one costs the proxy two descriptors and
/// this test process two more (the client and the backend's side), so on a machine whose hard
/// `RLIMIT_NOFILE` is below about 22,000 the test holds as many as the limit allows and says so.
const WANTED_CONNECTIONS: usize = 10_000;

/// Descriptors kept free for everything else in each process.
const DESCRIPTOR_MARGIN: usize = 1_000;

/// How long the DNS server stays away. The issue describes 30 s; 3 s keeps `make test` quick and
/// still spans three expiries of the 1 s TTL and of the proxy's 1 s failure hold.
const DNS_OUTAGE: Duration = Duration::from_secs(3);

/// The tests here run one at a time: the many-connections test takes thousands of ephemeral
/// ports, and one of them could be the port the DNS test must bind again after its outage.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ------------------------------------------------------------------ 1. many connections

/// Raises this process's soft descriptor limit to the hard one and returns it.
fn raise_descriptor_limit() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both calls only read or write the struct passed by pointer, which lives on the stack.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
    usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
}

fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read the proxy's /proc/PID/fd")
        .count()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proxy status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// The real `srv-proxy` binary, so that its descriptors and memory are its own.
struct ProxyProcess {
    child: Child,
    addr: SocketAddr,
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_proxy_process(dns: SocketAddr, max_connections: usize) -> ProxyProcess {
    use std::io::{BufRead, BufReader};
    // `sh` raises the soft descriptor limit to the hard one, then becomes the proxy.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n "$(ulimit -Hn)" && exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_srv-proxy"))
        .args(["--route", &format!("127.0.0.1:0={WEB}")])
        .args(["--dns", &dns.to_string()])
        .args(["--max-connections", &max_connections.to_string()])
        .args(["--log-format", "json", "--drain-timeout", "1s"])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start srv-proxy");
    let stderr = child.stderr.take().expect("piped stderr");
    let (found, listen) = std::sync::mpsc::channel::<SocketAddr>();
    // Reads the log until the route is ready, then keeps draining it so the proxy never blocks
    // on a full pipe; the thread ends when the proxy exits.
    std::thread::spawn(move || {
        let mut announced = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if announced {
                continue;
            }
            let addr = line
                .split_once(r#""listen":""#)
                .and_then(|(_, rest)| rest.split('"').next())
                .and_then(|text| text.parse::<SocketAddr>().ok());
            if let Some(addr) = addr {
                announced = true;
                let _ = found.send(addr);
            }
        }
    });
    let addr = listen
        .recv_timeout(STEP_LIMIT)
        .expect("srv-proxy logs its listen address");
    ProxyProcess { child, addr }
}

/// Connects and waits for the backend's greeting, so the connection is proxied end to end.
async fn greeted_connection(addr: SocketAddr) -> TcpStream {
    let mut stream = tokio::time::timeout(STEP_LIMIT, TcpStream::connect(addr))
        .await
        .expect("connect in time")
        .unwrap_or_else(|error| panic!("connect to the proxy: {error}"));
    let mut greeting = [0u8; 4];
    tokio::time::timeout(STEP_LIMIT, stream.read_exact(&mut greeting))
        .await
        .expect("greeting in time")
        .expect("greeting");
    assert_eq!(&greeting, b"web\n");
    stream
}

/// Waits, bounded, until `measure` gives `wanted`; returns the last value seen.
async fn settle(mut measure: impl FnMut() -> usize, wanted: usize) -> usize {
    let mut value = measure();
    for _ in 0..300 {
        if value == wanted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        value = measure();
    }
    value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_connections_are_held_and_released_without_leaks() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let limit = raise_descriptor_limit();
    let count = WANTED_CONNECTIONS.min(limit.saturating_sub(DESCRIPTOR_MARGIN) / 2);
    let dns = TestDns::start().await;
    let backend = start_backend("web").await;
    dns.set_targets(WEB, &[(10, 1, backend.port)]);
    let proxy = start_proxy_process(dns.addr, count + 10);
    let pid = proxy.child.id();

    // One full connection first, so the idle figures include a resolved route and warm runtime.
    drop(greeted_connection(proxy.addr).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fds_idle = open_descriptors(pid);
    let rss_idle = rss_kib(pid);

    // Two cycles of hold and release: descriptors must come back exactly each time, and the
    // second cycle must reuse the memory of the first rather than add to it.
    let mut cycles = Vec::new();
    for _ in 0..2 {
        let mut clients = Vec::with_capacity(count);
        while clients.len() < count {
            // Batches stay under the listen backlog, so no handshake waits on a SYN-ACK retry.
            let batch = (count - clients.len()).min(100);
            let mut opening = JoinSet::new();
            for _ in 0..batch {
                opening.spawn(greeted_connection(proxy.addr));
            }
            while let Some(stream) = opening.join_next().await {
                clients.push(stream.expect("connection task"));
            }
        }
        let fds_held = open_descriptors(pid);
        let rss_held = rss_kib(pid);
        assert!(
            fds_held >= fds_idle + 2 * count,
            "every held client has its two descriptors in the proxy: {fds_held} open, idle {fds_idle}"
        );
        drop(clients);
        let fds_after = settle(|| open_descriptors(pid), fds_idle).await;
        let rss_after = rss_kib(pid);
        println!(
            "stress: held {count} connections (descriptor hard limit {limit}); proxy descriptors \
             idle {fds_idle}, held {fds_held}, after release {fds_after}; RSS idle {rss_idle} KiB, \
             held {rss_held} KiB, after release {rss_after} KiB"
        );
        assert_eq!(fds_after, fds_idle, "no descriptor leaks after release");
        // Releasing must not grow memory past the peak (closing sockets allocates a little,
        // and glibc keeps what it frees); a leak shows in the second cycle below.
        assert!(
            rss_after <= rss_held + 1024,
            "releasing connections grew memory: held {rss_held} KiB, after release {rss_after} KiB"
        );
        cycles.push(rss_held);
    }
    // glibc keeps part of the freed heap in its arenas, so RSS does not drop all the way to idle;
    // a leak would show as a second cycle needing as much again on top of the first.
    let growth = cycles[0].saturating_sub(rss_idle);
    assert!(
        cycles[1] <= cycles[0] + growth / 4,
        "the second cycle reuses the first's memory: held {} KiB then {} KiB (idle {rss_idle} KiB)",
        cycles[0],
        cycles[1]
    );
    // And the proxy still serves.
    drop(greeted_connection(proxy.addr).await);
}

// ------------------------------------------------------------------ 2. a backend killed

/// A backend that can be killed outright: the listener and every open connection go at once, as
/// when its process dies.
struct KillableBackend {
    port: u16,
    tasks: JoinSet<()>,
}

impl KillableBackend {
    async fn start(name: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mut tasks = JoinSet::new();
        let (connections_sender, mut connections) = tokio::sync::mpsc::unbounded_channel();
        tasks.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = connections_sender.send(stream);
            }
        });
        let mut serving = JoinSet::new();
        tasks.spawn(async move {
            while let Some(stream) = connections.recv().await {
                serving.spawn(greet_and_echo(stream, name));
            }
            // Dropping `serving` here (or when this task is aborted) aborts every connection.
        });
        Self { port, tasks }
    }

    fn kill(&mut self) {
        self.tasks.abort_all();
    }
}

async fn greet_and_echo(mut stream: TcpStream, name: &str) {
    let _ = stream.write_all(format!("{name}\n").as_bytes()).await;
    let mut buffer = [0u8; 1024];
    while let Ok(read @ 1..) = stream.read(&mut buffer).await {
        if stream.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// One client: greeting, one echoed line, close. Returns the backend's name, or why it failed.
async fn one_exchange(addr: SocketAddr) -> Result<String, String> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let mut received = Vec::new();
        let mut buffer = [0u8; 64];
        while !received.ends_with(b"\n") {
            match stream.read(&mut buffer).await {
                Ok(0) => return Err("closed before the greeting".to_owned()),
                Ok(read) => received.extend_from_slice(&buffer[..read]),
                Err(e) => return Err(format!("greeting: {e}")),
            }
        }
        let name = String::from_utf8_lossy(&received).trim().to_owned();
        stream
            .write_all(b"ping\n")
            .await
            .map_err(|e| format!("send: {e}"))?;
        let mut echo = [0u8; 5];
        stream
            .read_exact(&mut echo)
            .await
            .map_err(|e| format!("echo: {e}"))?;
        Ok(name)
    };
    tokio::time::timeout(STEP_LIMIT, exchange)
        .await
        .unwrap_or_else(|_| Err("no answer in time".to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_killed_under_load_costs_no_client_after_the_retry() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    const WORKERS: usize = 8;
    const EXCHANGES_PER_WORKER: usize = 120;
    const KILL_AFTER: usize = 300;

    let dns = TestDns::start().await;
    let mut doomed = KillableBackend::start("doomed").await;
    let survivor = KillableBackend::start("survivor").await;
    dns.set_targets(WEB, &[(10, 1, doomed.port), (10, 1, survivor.port)]);
    let proxy = start_proxy(dns.addr, &[WEB], test_settings()).await;
    let addr = proxy.addr();

    let killed = Arc::new(AtomicBool::new(false));
    let completed = Arc::new(AtomicUsize::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..WORKERS {
        let killed = killed.clone();
        let completed = completed.clone();
        workers.spawn(async move {
            // (started after the kill, outcome)
            let mut outcomes = Vec::new();
            for _ in 0..EXCHANGES_PER_WORKER {
                let after_kill = killed.load(Ordering::SeqCst);
                outcomes.push((after_kill, one_exchange(addr).await));
                completed.fetch_add(1, Ordering::SeqCst);
            }
            outcomes
        });
    }
    for _ in 0..600 {
        if completed.load(Ordering::SeqCst) >= KILL_AFTER {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    doomed.kill();
    // Clients count as "after the kill" only once the backend really refuses connections.
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", doomed.port))
            .await
            .is_err()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    killed.store(true, Ordering::SeqCst);

    let mut before = Vec::new();
    let mut after = Vec::new();
    while let Some(outcomes) = workers.join_next().await {
        for (after_kill, outcome) in outcomes.expect("worker") {
            if after_kill {
                after.push(outcome);
            } else {
                before.push(outcome);
            }
        }
    }
    let failed_after: Vec<_> = after.iter().filter(|o| o.is_err()).collect();
    let cut_in_flight = before.iter().filter(|o| o.is_err()).count();
    println!(
        "stress: backend killed after {} exchanges; {} exchanges started after the kill, {} failed; \
         {cut_in_flight} in flight on the killed backend were cut",
        before.len(),
        after.len(),
        failed_after.len()
    );
    assert!(!after.is_empty(), "load continued after the kill");
    assert!(
        failed_after.is_empty(),
        "no client started after the kill fails: {failed_after:?}"
    );
    assert!(
        after.iter().all(|o| o.as_deref() == Ok("survivor")),
        "after the kill every client reaches the survivor"
    );
    assert!(
        cut_in_flight <= WORKERS,
        "only exchanges in flight at the kill can be cut"
    );
    let doomed_label = format!("127.0.0.1:{}", doomed.port);
    assert!(proxy.sample("srv_proxy_connect_failures_total", &doomed_label) >= 1.0);
    assert_eq!(
        proxy.sample("srv_proxy_ejections_total", &doomed_label),
        1.0,
        "the dead backend is ejected once"
    );
}

// ------------------------------------------------------------------ 3. DNS away, then changed

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_continues_through_a_dns_outage_and_the_new_answer_is_picked_up() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let mut dns = TestDns::start().await;
    let old = start_backend("old").await;
    let new = start_backend("new").await;
    dns.set_targets(WEB, &[(10, 1, old.port)]);
    dns.edit(|zone| zone.ttl = 1);
    let proxy = start_proxy(dns.addr, &[WEB], test_settings()).await;
    assert_eq!(backend_reached(proxy.addr()).await.as_deref(), Some("old"));

    dns.take_away().await;
    let outage_started = Instant::now();
    let mut served_during_outage = 0;
    // Bounded: the outage is a few seconds and each client waits at most a DNS timeout or two.
    for _ in 0..200 {
        if outage_started.elapsed() >= DNS_OUTAGE {
            break;
        }
        assert_eq!(
            backend_reached(proxy.addr()).await.as_deref(),
            Some("old"),
            "served from the last good answer while DNS is away"
        );
        served_during_outage += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served_during_outage > 0);
    assert!(proxy.sample("srv_proxy_dns_stale_answers_total", "") >= 1.0);

    dns.set_targets(WEB, &[(10, 1, new.port)]);
    dns.bring_back().await;
    let mut clients_until_new = None;
    for attempt in 1..=100 {
        let reached = backend_reached(proxy.addr()).await;
        assert!(reached.is_some(), "service continues while DNS comes back");
        if reached.as_deref() == Some("new") {
            clients_until_new = Some(attempt);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "stress: DNS away for {DNS_OUTAGE:?}: {served_during_outage} clients served from the last \
         good answer; the changed answer was used from client {clients_until_new:?} on"
    );
    assert!(clients_until_new.is_some(), "the new answer is picked up");
    for _ in 0..5 {
        assert_eq!(backend_reached(proxy.addr()).await.as_deref(), Some("new"));
    }
}

// ------------------------------------------------------------------ 4. idle clients, the limit

/// A backend that accepts and never says anything, so the only traffic is what clients send.
async fn silent_backend() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let mut held = JoinSet::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            held.spawn(async move {
                let mut buffer = [0u8; 64];
                while let Ok(1..) = stream.read(&mut buffer).await {}
            });
        }
    });
    (port, task)
}

/// Reads until EOF or a reset, bounded by the step limit; true when the proxy closed us.
async fn closed_by_proxy(stream: &mut TcpStream) -> bool {
    let mut buffer = [0u8; 64];
    matches!(
        tokio::time::timeout(STEP_LIMIT, stream.read(&mut buffer)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_clients_are_closed_and_cannot_exhaust_the_connection_limit() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    const LIMIT: usize = 20;
    let dns = TestDns::start().await;
    let (port, _backend) = silent_backend().await;
    dns.set_targets(WEB, &[(10, 1, port)]);
    let mut settings = test_settings();
    settings.max_connections = LIMIT;
    // Long enough that the checks of the limit below happen well inside it.
    settings.idle_timeout = Duration::from_secs(3);
    let proxy = start_proxy(dns.addr, &[WEB], settings).await;

    let mut silent = Vec::new();
    for _ in 0..LIMIT {
        silent.push(
            TcpStream::connect(proxy.addr())
                .await
                .expect("connect a silent client"),
        );
    }
    let admitted = settle(
        || proxy.sample("srv_proxy_connections_active", "") as usize,
        LIMIT,
    )
    .await;
    assert_eq!(admitted, LIMIT, "the silent clients are all admitted");

    let mut one_too_many = TcpStream::connect(proxy.addr()).await.expect("connect");
    assert!(
        closed_by_proxy(&mut one_too_many).await,
        "over the limit: closed at once"
    );
    assert_eq!(
        proxy.sample("srv_proxy_connections_rejected_total", ""),
        1.0
    );

    for (index, stream) in silent.iter_mut().enumerate() {
        assert!(
            closed_by_proxy(stream).await,
            "silent client {index} is closed by the idle timeout"
        );
    }
    let active = settle(
        || proxy.sample("srv_proxy_connections_active", "") as usize,
        0,
    )
    .await;
    assert_eq!(active, 0, "the idle timeout freed every slot");

    // The freed slots admit new clients: proof that they were really given back.
    let mut fresh = Vec::new();
    for _ in 0..LIMIT {
        let mut stream = TcpStream::connect(proxy.addr()).await.expect("connect");
        stream.write_all(b"hello\n").await.expect("send");
        fresh.push(stream);
    }
    let readmitted = settle(
        || proxy.sample("srv_proxy_connections_active", "") as usize,
        LIMIT,
    )
    .await;
    println!(
        "stress: {LIMIT} silent clients held every slot, the next was refused, the idle timeout \
         closed all {LIMIT}, and {readmitted} new clients were admitted"
    );
    assert_eq!(readmitted, LIMIT);
    assert_eq!(
        proxy.sample("srv_proxy_connections_rejected_total", ""),
        1.0,
        "no further rejections"
    );
}

// ------------------------------------------------------------------ 5. a flapping target

/// A target that can be taken down and brought back on the same port.
struct FlappingTarget {
    port: u16,
    serving: Option<tokio::task::JoinHandle<()>>,
}

impl FlappingTarget {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mut target = Self {
            port,
            serving: None,
        };
        target.serve(listener);
        target
    }

    fn serve(&mut self, listener: TcpListener) {
        self.serving = Some(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(greet_and_echo(stream, "flapping"));
            }
        }));
    }

    /// Returns once the listener is closed, so no connection can slip in afterwards.
    async fn down(&mut self) {
        if let Some(task) = self.serving.take() {
            task.abort();
            let _ = task.await;
        }
    }

    async fn up(&mut self) {
        for _ in 0..50 {
            if let Ok(listener) = TcpListener::bind(("127.0.0.1", self.port)).await {
                self.serve(listener);
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not listen on port {} again", self.port);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flapping_target_is_ejected_and_restored_on_schedule() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    const FLAPS: u32 = 3;
    let policy = EjectionPolicy {
        consecutive_failures: 3,
        base_ejection: Duration::from_millis(500),
        max_ejection: Duration::from_secs(2),
    };
    let dns = TestDns::start().await;
    let mut flapping = FlappingTarget::start().await;
    let steady = KillableBackend::start("steady").await;
    dns.set_targets(WEB, &[(10, 1, flapping.port), (10, 1, steady.port)]);
    let mut settings = test_settings();
    settings.ejection = policy;
    let proxy = start_proxy(dns.addr, &[WEB], settings).await;
    let addr = proxy.addr();
    let flapping_label = format!("127.0.0.1:{}", flapping.port);

    let mut clients = 0usize;
    let mut ejection_times = Vec::new();
    for flap in 1..=FLAPS {
        // Up: the flapping target takes its share.
        let mut reached_flapping = false;
        for _ in 0..200 {
            clients += 1;
            let reached = one_exchange(addr).await.expect("no client fails");
            if reached == "flapping" {
                reached_flapping = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(reached_flapping, "flap {flap}: the target is used when up");

        // Down: clients keep succeeding (retried on the steady target) until it is ejected.
        flapping.down().await;
        let mut ejected_at = None;
        for _ in 0..500 {
            let before_client = Instant::now();
            clients += 1;
            assert_eq!(
                one_exchange(addr).await.as_deref(),
                Ok("steady"),
                "flap {flap}: a down target costs no client"
            );
            if proxy.sample("srv_proxy_ejections_total", &flapping_label) >= f64::from(flap) {
                ejected_at = Some(before_client);
                break;
            }
        }
        let ejected_at = ejected_at.expect("the down target is ejected");
        ejection_times.push(ejected_at);

        // Up again: once the ejection runs out, the target is tried and used again.
        flapping.up().await;
        let mut restored_after = None;
        for _ in 0..300 {
            clients += 1;
            if one_exchange(addr).await.as_deref() == Ok("flapping") {
                restored_after = Some(ejected_at.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let restored_after = restored_after.expect("the target is restored after its ejection");
        // The ejection lasted at least its scheduled time. The connect that restored the target
        // cleared its record, so each flap starts again from the base time rather than doubling.
        let scheduled = policy.base_ejection;
        println!("stress: flap {flap}: ejected, used again after {restored_after:?} (scheduled ejection {scheduled:?})");
        assert!(
            restored_after >= scheduled,
            "flap {flap}: not used again before its ejection ran out"
        );
    }
    assert_eq!(
        proxy.sample("srv_proxy_ejections_total", &flapping_label),
        f64::from(FLAPS),
        "one ejection per flap"
    );
    println!("stress: {FLAPS} flaps, {clients} clients, none failed");
}
