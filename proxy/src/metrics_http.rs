//! A deliberately tiny HTTP/1.1 responder for `GET /metrics`.
//!
//! Prometheus needs one endpoint, so a full HTTP stack would cost more binary size than it earns.
//! Each scrape gets one response and the connection is closed. Requests are read with a size and
//! time limit so that a stuck scraper cannot pin memory.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MAX_REQUEST_HEAD: usize = 8 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `registry` at `/metrics` on `listener` until the task is dropped.
pub async fn serve_metrics(listener: TcpListener, registry: Arc<Registry>) {
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let registry = registry.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(REQUEST_TIMEOUT, answer_scrape(stream, &registry)).await;
        });
    }
}

async fn answer_scrape(mut stream: TcpStream, registry: &Registry) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST_HEAD {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..read]);
    }
    let request_line = head.split(|byte| *byte == b'\r').next().unwrap_or_default();
    let mut parts = request_line.split(|byte| *byte == b' ');
    let (method, path) = (parts.next(), parts.next());
    let path_only = path.map(|p| p.split(|byte| *byte == b'?').next().unwrap_or_default());

    let (status, content_type, body) = match (method, path_only) {
        (Some(b"GET"), Some(b"/metrics")) => {
            let mut body = String::new();
            match prometheus_client::encoding::text::encode(&mut body, registry) {
                Ok(()) => ("200 OK", CONTENT_TYPE, body),
                Err(_) => (
                    "500 Internal Server Error",
                    "text/plain",
                    "encoding failed\n".to_owned(),
                ),
            }
        }
        (Some(b"GET"), _) => ("404 Not Found", "text/plain", "try /metrics\n".to_owned()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "only GET\n".to_owned(),
        ),
    };
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(header.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}
