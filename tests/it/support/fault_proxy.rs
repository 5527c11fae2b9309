//! A proxy on loopback in front of moto for one AWS service (`AWS_ENDPOINT_URL_ECS` points
//! the binary at it): every request goes through to moto, except those whose body names
//! a marked resource, which are answered `ThrottlingException` as ECS answers a caller
//! over its rate. The SDK retries them as it retries real throttling, until its attempts
//! run out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::http::{read_request, write_response, Request};

/// The proxy's address and how many requests it throttled.
pub struct FaultProxy {
    pub endpoint: String,
    pub throttled: Arc<AtomicU64>,
}

impl FaultProxy {
    /// Proxies to `upstream` (`http://127.0.0.1:PORT`), throttling requests whose body
    /// contains `marker`.
    pub async fn start(upstream: &str, marker: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().expect("its address"));
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let marker = marker.to_owned();
        let throttled = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&throttled);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (upstream, marker, counter) =
                    (upstream.clone(), marker.clone(), Arc::clone(&counter));
                tokio::spawn(async move {
                    let mut stream = BufReader::new(stream);
                    while let Some(request) = read_request(&mut stream).await {
                        let body = String::from_utf8_lossy(&request.body);
                        if !body.contains(&marker) {
                            // moto's answer ends when its connection does: so does this one.
                            let _ = forward(&mut stream, &upstream, &request).await;
                            return;
                        }
                        counter.fetch_add(1, Ordering::Relaxed);
                        if throttle(&mut stream).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        FaultProxy {
            endpoint,
            throttled,
        }
    }
}

async fn throttle(stream: &mut BufReader<TcpStream>) -> std::io::Result<()> {
    let body = br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
    let headers = [
        ("Content-Type", "application/x-amz-json-1.1".to_owned()),
        ("x-amzn-ErrorType", "ThrottlingException".to_owned()),
    ];
    write_response(stream, 400, &headers, body).await
}

/// Sends the request to moto on a fresh connection and passes its answer back whole.
async fn forward(
    stream: &mut BufReader<TcpStream>,
    upstream: &str,
    request: &Request,
) -> std::io::Result<()> {
    let mut moto = TcpStream::connect(upstream).await?;
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.path);
    for (key, value) in &request.headers {
        if !key.eq_ignore_ascii_case("connection")
            && !key.eq_ignore_ascii_case("transfer-encoding")
            && !key.eq_ignore_ascii_case("content-length")
        {
            head.push_str(&format!("{key}: {value}\r\n"));
        }
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        request.body.len()
    ));
    moto.write_all(head.as_bytes()).await?;
    moto.write_all(&request.body).await?;
    let mut answer = Vec::new();
    moto.read_to_end(&mut answer).await?;
    let client = stream.get_mut();
    client.write_all(&answer).await?;
    client.flush().await
}
