//! A deliberately tiny HTTP/1.1 responder for `GET /metrics` and `GET /health`.
//!
//! Prometheus needs one endpoint and the health check another, so a full HTTP stack would cost
//! more binary size than it earns.
//! Each scrape gets one response and the connection is closed. Requests are read with a size and
//! time limit so that a stuck scraper cannot pin memory.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::health::ProxyHealth;

const MAX_REQUEST_HEAD: usize = 8 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `registry` at `/metrics` and `health` at `/health` on `listener` until the task is
/// dropped.
pub async fn serve_metrics(
    listener: TcpListener,
    registry: Arc<Registry>,
    health: Arc<ProxyHealth>,
) {
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let registry = registry.clone();
        let health = health.clone();
        tokio::spawn(async move {
            let answer = answer_request(stream, &registry, &health);
            let _ = tokio::time::timeout(REQUEST_TIMEOUT, answer).await;
        });
    }
}

async fn answer_request(
    mut stream: TcpStream,
    registry: &Registry,
    health: &ProxyHealth,
) -> std::io::Result<()> {
    let head = read_head(&mut stream).await?;
    let request_line = head.split(|byte| *byte == b'\r').next().unwrap_or_default();
    let mut parts = request_line.split(|byte| *byte == b' ');
    let (method, path) = (parts.next(), parts.next());
    let path_only = path.map(|p| p.split(|byte| *byte == b'?').next().unwrap_or_default());

    let (status, content_type, body) = match (method, path_only) {
        (Some(b"GET"), Some(b"/metrics")) => encode_metrics(registry),
        (Some(b"GET"), Some(b"/health")) => {
            let report = health.report().await;
            let status = if report.healthy {
                "200 OK"
            } else {
                "503 Service Unavailable"
            };
            (status, "text/plain", report.text)
        }
        (Some(b"GET"), _) => (
            "404 Not Found",
            "text/plain",
            "try /metrics or /health\n".to_owned(),
        ),
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

/// The request head, up to its blank line or [`MAX_REQUEST_HEAD`].
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST_HEAD {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..read]);
    }
    Ok(head)
}

fn encode_metrics(registry: &Registry) -> (&'static str, &'static str, String) {
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
