//! srv-proxy under stress, one module per scenario: many connections, a backend killed under
//! load, a DNS outage, idle clients against the connection limit, and a flapping target.
//!
//! These are `#[ignore]`d in `make test` (they take a minute and the machine's descriptors) and
//! run by `make stress`, one at a time. Every loop is bounded in count and time and everything
//! listens on 127.0.0.1. Outcomes are asserted; figures such as memory and times are printed,
//! never asserted. Run with `--nocapture` to see them.

mod backend_killed;
mod dns_outage;
mod flapping;
mod idle_clients;
mod many_connections;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::support::{STEP_LIMIT, WEB};

/// The scenarios run one at a time even when the harness runs threads: the many-connections one
/// takes thousands of ephemeral ports, and one of them could be the port the DNS outage must
/// bind again.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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
