//! The proxy's copy loop against `splice(2)` with a pipe pool per worker thread, and against
//! tokio's `copy_bidirectional_with_sizes`: bulk throughput one way, and small request/response
//! exchanges (what a keep-alive HTTP client does), to decide which relay the proxy keeps.
//!
//! Run with `cargo bench -p srv-proxy --bench relay_throughput`. It prints a table; it asserts
//! nothing. The splice relay lives here only (through rustix, without `unsafe`), so the library
//! keeps the winner alone.

use std::cell::RefCell;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use rustix::pipe::{pipe_with, splice, PipeFlags, SpliceFlags};
use srv_proxy::relay::{relay, ByteCounters};
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{TcpListener, TcpStream};

const BULK_BYTES: u64 = 2 * 1024 * 1024 * 1024;
const ROUNDS: usize = 3;
/// Concurrent client pairs in the small-message figure, as in `make bench`'s keep-alive run.
const PAIRS: usize = 64;
/// Exchanges per pair, and the size of a request and of its answer (a small JSON API call).
const EXCHANGES: usize = 2_000;
const MESSAGE_BYTES: usize = 612;

#[derive(Clone, Copy, Debug)]
enum Relay {
    CopyLoop,
    CopyBidirectional64k,
    SplicePooledPipes,
}

/// A connected pair of loopback sockets.
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let (client, accepted) = (client.expect("connect"), accepted.expect("accept").0);
    client.set_nodelay(true).expect("nodelay");
    accepted.set_nodelay(true).expect("nodelay");
    (client, accepted)
}

thread_local! {
    /// Empty pipes kept for reuse by this worker thread, so a connection costs no pipe(2).
    static PIPES: RefCell<Vec<(OwnedFd, OwnedFd)>> = const { RefCell::new(Vec::new()) };
}

/// A pipe on loan from the worker's pool; it goes back only if empty, else it is closed.
struct PooledPipe {
    /// (read end, write end); `None` only while being dropped.
    ends: Option<(OwnedFd, OwnedFd)>,
    in_pipe: usize,
}

impl PooledPipe {
    fn take() -> std::io::Result<Self> {
        let ends = match PIPES.with_borrow_mut(Vec::pop) {
            Some(ends) => ends,
            None => pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC)?,
        };
        Ok(Self {
            ends: Some(ends),
            in_pipe: 0,
        })
    }

    fn ends(&self) -> &(OwnedFd, OwnedFd) {
        self.ends.as_ref().expect("ends until drop")
    }
}

impl Drop for PooledPipe {
    fn drop(&mut self) {
        // A pipe with bytes left in it is closed, never handed to another connection.
        if let (0, Some(ends)) = (self.in_pipe, self.ends.take()) {
            let _ = PIPES.try_with(|pipes| {
                let mut pipes = pipes.borrow_mut();
                if pipes.len() < 8 {
                    pipes.push(ends);
                }
            });
        }
    }
}

/// Moves bytes one way with splice: socket -> pooled pipe -> socket, no copy in user space.
async fn splice_one_way(from: &TcpStream, to: &TcpStream) -> std::io::Result<u64> {
    let flags = SpliceFlags::MOVE | SpliceFlags::NONBLOCK;
    let mut pipe = PooledPipe::take()?;
    let mut moved = 0u64;
    loop {
        from.readable().await?;
        let read = from.try_io(Interest::READABLE, || {
            Ok(splice(from, None, &pipe.ends().1, None, 1 << 16, flags)?)
        });
        match read {
            Ok(0) => {
                rustix::net::shutdown(to, rustix::net::Shutdown::Write)?;
                return Ok(moved);
            }
            Ok(n) => pipe.in_pipe = n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
        while pipe.in_pipe > 0 {
            to.writable().await?;
            let written = to.try_io(Interest::WRITABLE, || {
                Ok(splice(&pipe.ends().0, None, to, None, pipe.in_pipe, flags)?)
            });
            match written {
                Ok(n) => {
                    pipe.in_pipe -= n;
                    moved += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Relays `a` <-> `b` with the chosen relay until both directions end.
async fn run_relay(kind: Relay, mut a: TcpStream, mut b: TcpStream) {
    match kind {
        Relay::CopyLoop => {
            let counters = ByteCounters {
                upstream: Counter::default(),
                downstream: Counter::default(),
            };
            let _ = relay(&mut a, &mut b, Duration::from_secs(60), &counters).await;
        }
        Relay::CopyBidirectional64k => {
            let _ = tokio::io::copy_bidirectional_with_sizes(&mut a, &mut b, 65536, 65536).await;
        }
        Relay::SplicePooledPipes => {
            let _ = tokio::join!(splice_one_way(&a, &b), splice_one_way(&b, &a));
        }
    }
}

async fn bulk_once(kind: Relay) -> Duration {
    let (mut source, relay_client_side) = pair().await;
    let (relay_backend_side, mut sink) = pair().await;
    let relay_task = tokio::spawn(run_relay(kind, relay_client_side, relay_backend_side));
    let started = Instant::now();
    let writer = tokio::spawn(async move {
        let chunk = vec![7u8; 256 * 1024];
        let mut sent = 0u64;
        while sent < BULK_BYTES {
            source.write_all(&chunk).await.expect("write");
            sent += chunk.len() as u64;
        }
        source.shutdown().await.expect("shutdown");
        source
    });
    let mut buffer = vec![0u8; 256 * 1024];
    let mut received = 0u64;
    while received < BULK_BYTES {
        let n = sink.read(&mut buffer).await.expect("read");
        if n == 0 {
            break;
        }
        received += n as u64;
    }
    let elapsed = started.elapsed();
    assert_eq!(received, BULK_BYTES);
    drop(sink);
    let _ = writer.await;
    relay_task.abort();
    elapsed
}

/// PAIRS clients, each sending a request and waiting for its answer EXCHANGES times, through
/// the relay to a server that answers each request at once. Returns exchanges per second.
async fn exchanges_once(kind: Relay) -> f64 {
    let mut relays = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..PAIRS {
        let (client, relay_client_side) = pair().await;
        let (relay_backend_side, mut server) = pair().await;
        relays.push(tokio::spawn(run_relay(
            kind,
            relay_client_side,
            relay_backend_side,
        )));
        tokio::spawn(async move {
            let mut request = [0u8; MESSAGE_BYTES];
            while server.read_exact(&mut request).await.is_ok() {
                if server.write_all(&request).await.is_err() {
                    return;
                }
            }
        });
        clients.push(client);
    }
    let started = Instant::now();
    let mut running = Vec::new();
    for mut client in clients {
        running.push(tokio::spawn(async move {
            let message = [1u8; MESSAGE_BYTES];
            let mut answer = [0u8; MESSAGE_BYTES];
            for _ in 0..EXCHANGES {
                client.write_all(&message).await.expect("request");
                client.read_exact(&mut answer).await.expect("answer");
            }
        }));
    }
    for task in running {
        task.await.expect("client");
    }
    let rate = (PAIRS * EXCHANGES) as f64 / started.elapsed().as_secs_f64();
    for relay in relays {
        relay.abort();
    }
    rate
}

fn main() {
    // One worker thread with its own runtime, as each of the proxy's workers has.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!("| relay | bulk 2 GiB, best of {ROUNDS} | GiB/s | {PAIRS} × {EXCHANGES} exchanges of {MESSAGE_BYTES} B, best of {ROUNDS} |");
    println!("|---|---|---|---|");
    for kind in [
        Relay::CopyLoop,
        Relay::CopyBidirectional64k,
        Relay::SplicePooledPipes,
    ] {
        let best = (0..ROUNDS)
            .map(|_| runtime.block_on(bulk_once(kind)))
            .min()
            .expect("rounds");
        let gib_per_sec = BULK_BYTES as f64 / best.as_secs_f64() / (1u64 << 30) as f64;
        let exchanges = (0..ROUNDS)
            .map(|_| runtime.block_on(exchanges_once(kind)))
            .fold(0.0, f64::max);
        println!("| {kind:?} | {best:.2?} | {gib_per_sec:.2} | {exchanges:.0}/s |");
    }
}
