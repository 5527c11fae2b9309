//! Relay throughput on loopback: the proxy's copy loop against tokio's
//! `copy_bidirectional_with_sizes` and a `splice(2)` relay, to decide which one the proxy keeps.
//!
//! Run with `cargo bench -p srv-proxy --bench relay_throughput`. It prints a table; it asserts
//! nothing. The splice relay lives here only, so the library itself stays free of `unsafe`.

use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use srv_proxy::relay::{relay, ByteCounters};
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{TcpListener, TcpStream};

const TOTAL_BYTES: u64 = 2 * 1024 * 1024 * 1024;
const ROUNDS: usize = 3;

#[derive(Clone, Copy, Debug)]
enum Relay {
    CopyLoop,
    CopyBidirectional64k,
    Splice,
}

/// A connected pair of loopback sockets.
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    (client.expect("connect"), accepted.expect("accept").0)
}

/// Moves bytes one way with splice through a pipe: socket -> pipe -> socket, no user copy.
async fn splice_one_way(from: &TcpStream, to: &TcpStream) -> std::io::Result<u64> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let (pipe_read, pipe_write) = (fds[0], fds[1]);
    let flags = libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK;
    let mut moved = 0u64;
    let result = loop {
        from.readable().await?;
        let read = from.try_io(Interest::READABLE, || {
            // SAFETY: both fds are open for the duration of the call; null offsets are allowed.
            let n = unsafe {
                libc::splice(
                    from.as_raw_fd(),
                    std::ptr::null_mut(),
                    pipe_write,
                    std::ptr::null_mut(),
                    1 << 20,
                    flags,
                )
            };
            if n < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        });
        let mut in_pipe = match read {
            Ok(0) => break Ok(moved),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => break Err(e),
        };
        while in_pipe > 0 {
            to.writable().await?;
            let written = to.try_io(Interest::WRITABLE, || {
                // SAFETY: as above.
                let n = unsafe {
                    libc::splice(
                        pipe_read,
                        std::ptr::null_mut(),
                        to.as_raw_fd(),
                        std::ptr::null_mut(),
                        in_pipe,
                        flags,
                    )
                };
                if n < 0 {
                    Err(std::io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match written {
                Ok(n) => {
                    in_pipe -= n;
                    moved += n as u64;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    };
    // SAFETY: the pipe fds were created above and are closed once.
    unsafe {
        libc::close(pipe_read);
        libc::close(pipe_write);
    }
    result
}

async fn run_once(kind: Relay) -> Duration {
    let (mut source, mut proxy_client_side) = pair().await;
    let (mut proxy_backend_side, mut sink) = pair().await;
    let relay_task = tokio::spawn(async move {
        match kind {
            Relay::CopyLoop => {
                let counters = ByteCounters {
                    upstream: Counter::default(),
                    downstream: Counter::default(),
                };
                let _ = relay(
                    &mut proxy_client_side,
                    &mut proxy_backend_side,
                    Duration::from_secs(60),
                    &counters,
                )
                .await;
            }
            Relay::CopyBidirectional64k => {
                let _ = tokio::io::copy_bidirectional_with_sizes(
                    &mut proxy_client_side,
                    &mut proxy_backend_side,
                    64 * 1024,
                    64 * 1024,
                )
                .await;
            }
            Relay::Splice => {
                let _ = splice_one_way(&proxy_client_side, &proxy_backend_side).await;
            }
        }
    });
    let started = Instant::now();
    let writer = tokio::spawn(async move {
        let chunk = vec![7u8; 256 * 1024];
        let mut sent = 0u64;
        while sent < TOTAL_BYTES {
            source.write_all(&chunk).await.expect("write");
            sent += chunk.len() as u64;
        }
        source.shutdown().await.expect("shutdown");
        source
    });
    let mut buffer = vec![0u8; 256 * 1024];
    let mut received = 0u64;
    while received < TOTAL_BYTES {
        let n = sink.read(&mut buffer).await.expect("read");
        if n == 0 {
            break;
        }
        received += n as u64;
    }
    let elapsed = started.elapsed();
    assert_eq!(received, TOTAL_BYTES);
    drop(sink);
    let _ = writer.await;
    relay_task.abort();
    elapsed
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!("| relay | best of {ROUNDS} | GiB/s |");
    println!("|---|---|---|");
    for kind in [Relay::CopyLoop, Relay::CopyBidirectional64k, Relay::Splice] {
        let best = (0..ROUNDS)
            .map(|_| runtime.block_on(run_once(kind)))
            .min()
            .expect("rounds");
        let gib_per_sec = TOTAL_BYTES as f64 / best.as_secs_f64() / (1u64 << 30) as f64;
        println!("| {kind:?} | {best:.2?} | {gib_per_sec:.2} |");
    }
}
