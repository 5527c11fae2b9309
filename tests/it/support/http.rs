//! Just enough HTTP/1.1 for the tests' own servers on loopback (the Lambda runtime API and
//! the recording proxy in front of moto): one request read, one response written,
//! `Content-Length` and chunked bodies, bounded in size and time.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The largest body a test server reads.
const MAX_BODY: usize = 8 << 20;
/// How long a test server waits for a request's bytes.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A request as read.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Reads one request; `None` when the peer closed the connection first.
pub async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<Request> {
    tokio::time::timeout(READ_TIMEOUT, read_request_now(stream))
        .await
        .ok()
        .flatten()
}

async fn read_request_now(stream: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if stream.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        stream.read_line(&mut header).await.ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (key, value) = header.split_once(':')?;
        headers.push((key.trim().to_owned(), value.trim().to_owned()));
    }
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    if request
        .header("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        request.body = read_chunked(stream).await?;
    } else if let Some(length) = request.header("content-length") {
        let length: usize = length.parse().ok().filter(|l| *l <= MAX_BODY)?;
        request.body = vec![0; length];
        stream.read_exact(&mut request.body).await.ok()?;
    }
    Some(request)
}

async fn read_chunked(stream: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        stream.read_line(&mut size_line).await.ok()?;
        let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
        if size == 0 {
            let mut trailer = String::new();
            stream.read_line(&mut trailer).await.ok()?;
            return Some(body);
        }
        if body.len() + size > MAX_BODY {
            return None;
        }
        let start = body.len();
        body.resize(start + size, 0);
        stream.read_exact(&mut body[start..]).await.ok()?;
        let mut crlf = [0u8; 2];
        stream.read_exact(&mut crlf).await.ok()?;
    }
}

/// Writes one response with a `Content-Length` body.
pub async fn write_response(
    stream: &mut BufReader<TcpStream>,
    status: u16,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (key, value) in headers {
        head.push_str(&format!("{key}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let stream = stream.get_mut();
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Status",
    }
}
