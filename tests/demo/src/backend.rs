//! The "containers": one tiny HTTP server per task, on the task's address and port.
//!
//! Each answers every request with its task id, so a client behind srv-proxy can tell
//! which task served it, and counts the connections it accepted, so the demo can prove
//! that a drained task got none, whatever the clients saw.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A request head larger than this is not read further; the answer goes out anyway.
const MAX_REQUEST_HEAD: usize = 4096;

/// How long a client may take to send its request, or to read the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(3);

/// A task's server, answering until stopped.
pub struct TaskServer {
    /// The task it stands for.
    pub task_id: String,
    /// Where it listens.
    pub addr: SocketAddr,
    connections: Arc<AtomicU64>,
    stop: Option<oneshot::Sender<()>>,
    accept_loop: JoinHandle<()>,
}

impl TaskServer {
    /// Binds `ip` on a free port: what Docker does for a bridge container whose port
    /// mapping has no hostPort.
    pub async fn bind(ip: IpAddr) -> Result<TcpListener> {
        TcpListener::bind((ip, 0))
            .await
            .with_context(|| format!("binding {ip}:0 for a task's server (the demo needs the whole 127.0.0.0/8 on loopback, as Linux has)"))
    }

    /// Serves `listener` as task `task_id` until [`TaskServer::stop`].
    pub fn serve(listener: TcpListener, task_id: &str) -> Result<Self> {
        let addr = listener
            .local_addr()
            .context("reading a task server's address")?;
        let connections = Arc::new(AtomicU64::new(0));
        let (stop, mut stopped) = oneshot::channel();
        let counter = Arc::clone(&connections);
        let body = Arc::<str>::from(format!("{task_id}\n"));
        let accept_loop = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        counter.fetch_add(1, Ordering::Relaxed);
                        tokio::spawn(answer(stream, Arc::clone(&body)));
                    }
                }
            }
        });
        Ok(Self {
            task_id: task_id.to_owned(),
            addr,
            connections,
            stop: Some(stop),
            accept_loop,
        })
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Stops accepting and closes the listener, like a container that exited.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.accept_loop).await;
    }
}

impl Drop for TaskServer {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

/// Reads the request head (bounded in size and time) and answers with the task id.
async fn answer(mut stream: TcpStream, body: Arc<str>) {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    let _ = tokio::time::timeout(IO_TIMEOUT, async {
        while head.len() < MAX_REQUEST_HEAD && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(IO_TIMEOUT, async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// Sends one HTTP request to `addr` and returns the body: the id of the task that served
/// it. Bounded in time, so a stuck proxy fails the step instead of hanging it.
pub async fn fetch_task_id(addr: SocketAddr) -> Result<String> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
            .await
            .context("sending the request")?;
        let mut response = Vec::new();
        stream
            .take(64 * 1024)
            .read_to_end(&mut response)
            .await
            .context("reading the response")?;
        Ok::<_, anyhow::Error>(response)
    };
    let response = tokio::time::timeout(IO_TIMEOUT * 2, exchange)
        .await
        .with_context(|| format!("no answer through {addr} within {:?}", IO_TIMEOUT * 2))??;
    let text = String::from_utf8_lossy(&response);
    match text.split_once("\r\n\r\n") {
        Some((status, body)) if status.starts_with("HTTP/1.1 200") && !body.trim().is_empty() => Ok(body.trim().to_owned()),
        _ if text.is_empty() => bail!("the connection closed without an answer (srv-proxy closes clients when the name has no targets)"),
        _ => bail!("unexpected answer: {:?}", text.chars().take(120).collect::<String>()),
    }
}
