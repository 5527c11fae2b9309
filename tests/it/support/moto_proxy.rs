//! A proxy on loopback in front of moto (`AWS_ENDPOINT_URL` points the binary at it): it
//! records every request the binary sends, as AWS would read it (who signed it, where,
//! which operation; see [`SignedRequest`]), and may answer some the way AWS sometimes does:
//!
//! - **throttled**: a request whose body names a marked resource is answered
//!   `ThrottlingException`, as ECS answers a caller over its rate; the SDK retries it as it
//!   retries real throttling, until its attempts run out;
//! - **health not known yet**: a DescribeTasks that names a marked task is answered with
//!   every `"HEALTHY"` turned `"UNKNOWN"`, as ECS reports a task whose health checks have not
//!   settled (moto reports every container HEALTHY).
//!
//! The record is independent of the binary's own call log: it is what the IAM tests judge.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::http::{read_request, write_response, Request};
use super::signed_request::{xml_texts, SignedRequest};

/// What the proxy answers itself instead of moto.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Requests whose body contains this are throttled.
    pub throttle: Option<String>,
    /// DescribeTasks requests whose body contains this report no health verdict yet.
    pub health_unknown: Option<String>,
}

impl Faults {
    /// Throttles every request whose body contains `marker`.
    pub fn throttling(marker: &str) -> Self {
        Faults {
            throttle: Some(marker.to_owned()),
            ..Faults::default()
        }
    }
}

/// Each request read, understood or with why it could not be.
type Record = Arc<Mutex<Vec<Result<SignedRequest, String>>>>;

/// The proxy's address, how many requests it throttled, and what it recorded.
pub struct MotoProxy {
    pub endpoint: String,
    pub throttled: Arc<AtomicU64>,
    recorded: Record,
}

impl MotoProxy {
    /// Proxies to `upstream` (`http://127.0.0.1:PORT`) with `faults`.
    pub async fn start(upstream: &str, faults: Faults) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().expect("its address"));
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let throttled = Arc::new(AtomicU64::new(0));
        let recorded: Record = Arc::default();
        let (counter, record) = (Arc::clone(&throttled), Arc::clone(&recorded));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let connection = Connection {
                    upstream: upstream.clone(),
                    faults: faults.clone(),
                    throttled: Arc::clone(&counter),
                    record: Arc::clone(&record),
                };
                tokio::spawn(connection.serve(BufReader::new(stream)));
            }
        });
        MotoProxy {
            endpoint,
            throttled,
            recorded,
        }
    }

    /// Every request recorded so far; panics naming any that could not be understood, so
    /// that nothing the binary sent escapes the judge.
    pub fn requests(&self) -> Vec<SignedRequest> {
        let recorded = self.recorded.lock().unwrap();
        let unreadable: Vec<&String> = recorded.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(
            unreadable.is_empty(),
            "requests the IAM tests cannot read: {unreadable:#?}"
        );
        recorded.iter().filter_map(|r| r.clone().ok()).collect()
    }
}

struct Connection {
    upstream: String,
    faults: Faults,
    throttled: Arc<AtomicU64>,
    record: Record,
}

impl Connection {
    async fn serve(self, mut stream: BufReader<TcpStream>) {
        while let Some(request) = read_request(&mut stream).await {
            let mut signed = SignedRequest::parse(&request);
            let body = String::from_utf8_lossy(&request.body).into_owned();
            if self
                .faults
                .throttle
                .as_ref()
                .is_some_and(|m| body.contains(m))
            {
                self.record.lock().unwrap().push(signed);
                self.throttled.fetch_add(1, Ordering::Relaxed);
                if throttle(&mut stream).await.is_err() {
                    return;
                }
                continue;
            }
            let Ok(mut answer) = forward(&self.upstream, &request).await else {
                self.record.lock().unwrap().push(signed);
                return;
            };
            let health_unknown = self.faults.health_unknown.as_ref().is_some_and(|m| {
                body.contains(m)
                    && signed
                        .as_ref()
                        .is_ok_and(|s| s.operation == "DescribeTasks")
            });
            if health_unknown {
                // The same length, so the answer's Content-Length still holds.
                replace_all(&mut answer, b"\"HEALTHY\"", b"\"UNKNOWN\"");
            }
            if let Ok(assume) = signed.as_mut() {
                if assume.operation == "AssumeRole" {
                    let text = String::from_utf8_lossy(&answer);
                    assume.issued_key = xml_texts(&text, "AccessKeyId").into_iter().next();
                }
            }
            self.record.lock().unwrap().push(signed);
            // moto's answer ends when its connection does: so does this one.
            let client = stream.get_mut();
            let _ = client.write_all(&answer).await;
            let _ = client.flush().await;
            return;
        }
    }
}

fn replace_all(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len(), "a replacement of the same length");
    let mut index = 0;
    while index + from.len() <= bytes.len() {
        if &bytes[index..index + from.len()] == from {
            bytes[index..index + from.len()].copy_from_slice(to);
            index += from.len();
        } else {
            index += 1;
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

/// Sends the request to moto on a fresh connection and returns its whole answer.
async fn forward(upstream: &str, request: &Request) -> std::io::Result<Vec<u8>> {
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
    Ok(answer)
}
