//! The container health check: the running proxy's own view of itself, and `srv-proxy health`.
//!
//! ECS runs a container's `healthCheck` command inside the container, and the proxy's image has
//! no shell and no curl. So the binary is its own probe: `srv-proxy health` asks the running
//! proxy at `http://ADDR/health` (the `--metrics` address, the same `SRV_PROXY_METRICS` the
//! container already has) and exits 0 only on `200`. The proxy answers `200` when it accepts
//! clients (started, not draining) and every route has an answer a client could use now. A route
//! that has resolved nothing yet resolves for the probe, as it would for a client, and waits no
//! longer than a client would (the connect timeout); a DNS outage with a last good answer is
//! still healthy, because clients are still served.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::HealthArgs;
use crate::connect::RouteConnector;

/// What the running proxy knows about its own health, shared with the `/health` endpoint.
#[derive(Default)]
pub struct ProxyHealth {
    accepting: AtomicBool,
    routes: Mutex<Vec<Arc<RouteConnector>>>,
}

/// The answer to one health probe.
#[derive(Debug, PartialEq, Eq)]
pub struct HealthReport {
    /// Whether a client would be served now on every route.
    pub healthy: bool,
    /// One line per finding, for the probe's output and the operator reading it.
    pub text: String,
}

impl ProxyHealth {
    /// Serving starts (`true`) or the drain begins (`false`).
    pub fn set_accepting(&self, accepting: bool) {
        self.accepting.store(accepting, Ordering::Release);
    }

    /// A route the proxy serves.
    pub fn add_route(&self, route: Arc<RouteConnector>) {
        self.routes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(route);
    }

    /// Checks every route as a client would, and whether the proxy accepts.
    pub async fn report(&self) -> HealthReport {
        let routes = self
            .routes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let mut healthy = self.accepting.load(Ordering::Acquire) && !routes.is_empty();
        let mut text = String::new();
        if !self.accepting.load(Ordering::Acquire) {
            text.push_str("not accepting clients (starting, or draining after SIGTERM)\n");
        }
        for route in &routes {
            let name = route.srv_name();
            let _ = match route.answer_now().await {
                Ok(answer) => writeln!(text, "{name}: {} target(s)", answer.targets.len()),
                Err(error) => {
                    healthy = false;
                    writeln!(text, "{name}: {error}")
                }
            };
        }
        HealthReport { healthy, text }
    }
}

/// Asks `GET /health` and says whether the answer was `200`, with the proxy's text, or why the
/// proxy could not be asked.
pub fn probe(args: &HealthArgs) -> Result<String, String> {
    let addr = args
        .metrics
        .ok_or("srv-proxy health needs the proxy's --metrics address (SRV_PROXY_METRICS)")?;
    let addr = SocketAddr::new(loopback_if_unspecified(addr.ip()), addr.port());
    let answer = ask(addr, args.timeout)
        .map_err(|error| format!("cannot ask srv-proxy at http://{addr}/health: {error}"))?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    match head.split(' ').nth(1) {
        Some("200") => Ok(body.to_owned()),
        Some(status) => Err(format!("srv-proxy is unhealthy ({status}):\n{body}")),
        None => Err(format!("srv-proxy at {addr} gave no HTTP status: {head:?}")),
    }
}

fn loopback_if_unspecified(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    }
}

/// One HTTP/1.1 request with the connection closed after it; the answer is small.
fn ask(addr: SocketAddr, timeout: Duration) -> io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: srv-proxy\r\nConnection: close\r\n\r\n")?;
    let mut answer = Vec::new();
    stream.take(64 * 1024).read_to_end(&mut answer)?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}
