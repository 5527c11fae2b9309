//! dns-front: a local DNS server for an emulated Route 53 hosted zone. Test and demo
//! infrastructure only; it is never deployed.
//!
//! In AWS a task resolves its SRV and A names through the VPC resolver, which applies
//! Route 53's routing rules. On a laptop the zone lives in moto server, which has no DNS
//! side. This crate reads the zone through the Route 53 API and answers A, AAAA and SRV
//! queries (any type whose values parse, in fact) over UDP and TCP on loopback, with the
//! same rules: one weighted record set per query, up to eight multivalue sets, the latency
//! set of the asking VPC's region (a setting of the server) or of the closest region that
//! has one, every simple value, aliases to names of the zone followed (so trees of weighted
//! aliases answer as they do in a VPC), NXDOMAIN or NODATA with the zone's SOA.
//!
//! The rules are pure (`routing`) and public: [`answer_shares`] gives the exact share of
//! answers each record set is in, which the root crate's tests use as their one reading of
//! what Route 53 answers through alias trees, over zones converted by [`record_set_entry`].
//!
//! ```no_run
//! # async fn demo(client: aws_sdk_route53::Client) -> Result<(), dns_front::FrontError> {
//! let zone = dns_front::Route53Zone::new(client, "Z0123456789");
//! let front = dns_front::start(dns_front::FrontConfig::default(), zone).await?;
//! println!("query me at {}", front.addr());
//! front.shutdown().await;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache;
mod handler;
mod latency;
mod record_set;
mod route53;
mod routing;
#[cfg(test)]
mod test_sets;
mod zone;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use cache::ZoneSource;
pub use latency::closest as closest_region;
pub use record_set::to_entry as record_set_entry;
pub use route53::{Route53Zone, ZoneReadError};
pub use routing::{answer_shares, LeafShare, RecordSets};
pub use zone::{
    IndexedZone, RecordSetEntry, Routing, SetData, ZoneAnswer, ZoneSnapshot, MAX_ALIAS_DEPTH,
    MULTIVALUE_ANSWER_LIMIT,
};

use cache::ZoneCache;
use handler::FrontHandler;

/// A TCP client that sends nothing for this long is disconnected, so a stuck test client
/// cannot hold a connection for ever.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Responses queued per TCP connection before the server waits for the client to read.
const TCP_RESPONSE_BUFFER: usize = 32;

/// With an ephemeral port, UDP is bound first and TCP then takes the same port number; if
/// another process holds that TCP port, a new pair is tried, this many times at most.
const PORT_PAIR_ATTEMPTS: usize = 20;

/// How the server listens and how fresh its answers are.
#[derive(Clone, Debug)]
pub struct FrontConfig {
    /// Where UDP and TCP listen, on one port. Must be a loopback address; port 0 picks a
    /// free one.
    pub listen: SocketAddr,
    /// A query re-reads the zone when the last read started longer ago than this.
    pub refresh: Duration,
    /// Seed for the weighted and multivalue picks; `None` seeds from the OS. Tests seed it
    /// so that a sequence of queries always gets the same answers.
    pub rng_seed: Option<u64>,
    /// The AWS region of the VPC whose queries this server stands for (`us-east-1`…):
    /// latency sets answer by it. `None` answers a latency name like equal weighted sets,
    /// one region's set at random per query.
    pub asking_region: Option<String>,
}

impl Default for FrontConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            refresh: Duration::from_millis(200),
            rng_seed: None,
            asking_region: None,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum FrontError {
    /// Only loopback is allowed: this is a test server with no access control.
    #[error("refusing to listen on {0}: dns-front serves loopback only (use 127.0.0.1)")]
    NotLoopback(SocketAddr),
    /// A socket could not be bound.
    #[error("cannot bind {protocol} on {addr}: {source}")]
    Bind {
        /// `UDP` or `TCP`.
        protocol: &'static str,
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The first zone read failed, so there is nothing to serve.
    #[error("cannot read the zone: {0}")]
    ZoneRead(Box<dyn std::error::Error + Send + Sync>),
}

/// A server that is answering queries. Dropping it stops the server too; `shutdown` also
/// waits until the sockets are closed.
pub struct RunningFront {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server_task: JoinHandle<()>,
}

impl RunningFront {
    /// The address that answers both UDP and TCP.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting queries and waits for the server's tasks to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Err(error) = (&mut self.server_task).await {
            tracing::warn!(%error, "dns-front server task ended abnormally");
        }
    }
}

/// Reads the zone once, binds UDP and TCP on one port, and serves queries from a spawned
/// task until the returned handle is shut down or dropped.
pub async fn start<S: ZoneSource>(
    config: FrontConfig,
    source: S,
) -> Result<RunningFront, FrontError> {
    if !config.listen.ip().is_loopback() {
        return Err(FrontError::NotLoopback(config.listen));
    }
    let (cache, rng) = load(&config, source).await?;
    let (udp, tcp) = bind_port_pair(config.listen).await?;
    serve(cache, rng, &config, udp, tcp, config.listen)
}

/// The first zone read, and the generator for the picks.
async fn load<S: ZoneSource>(
    config: &FrontConfig,
    source: S,
) -> Result<(ZoneCache<S>, StdRng), FrontError> {
    let cache = ZoneCache::load(source, config.refresh)
        .await
        .map_err(|error| FrontError::ZoneRead(Box::new(error)))?;
    let rng = match config.rng_seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_os_rng(),
    };
    Ok((cache, rng))
}

/// Like [`start`], on sockets the caller bound (both on one loopback address and port).
/// A test that must serve where it cannot bind directly, such as port 53 inside a private
/// network namespace for a client that only reads `/etc/resolv.conf`, binds them there.
pub async fn start_on<S: ZoneSource>(
    config: FrontConfig,
    source: S,
    udp: std::net::UdpSocket,
    tcp: std::net::TcpListener,
) -> Result<RunningFront, FrontError> {
    let bind_error = |protocol, source| FrontError::Bind {
        protocol,
        addr: config.listen,
        source,
    };
    let local = udp.local_addr().map_err(|e| bind_error("UDP", e))?;
    if !local.ip().is_loopback() {
        return Err(FrontError::NotLoopback(local));
    }
    let (cache, rng) = load(&config, source).await?;
    udp.set_nonblocking(true)
        .map_err(|e| bind_error("UDP", e))?;
    tcp.set_nonblocking(true)
        .map_err(|e| bind_error("TCP", e))?;
    let udp = UdpSocket::from_std(udp).map_err(|e| bind_error("UDP", e))?;
    let tcp = TcpListener::from_std(tcp).map_err(|e| bind_error("TCP", e))?;
    serve(cache, rng, &config, udp, tcp, local)
}

/// Serves `cache` on bound sockets from a spawned task.
fn serve<S: ZoneSource>(
    cache: ZoneCache<S>,
    rng: StdRng,
    config: &FrontConfig,
    udp: UdpSocket,
    tcp: TcpListener,
    asked: SocketAddr,
) -> Result<RunningFront, FrontError> {
    let addr = udp.local_addr().map_err(|source| FrontError::Bind {
        protocol: "UDP",
        addr: asked,
        source,
    })?;

    let handler = FrontHandler::new(Arc::new(cache), rng, config.asking_region.clone());
    let mut server = Server::new(handler);
    server.register_socket(udp);
    server.register_listener(tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
    let (stop, stopped) = oneshot::channel();
    let server_task = tokio::spawn(async move {
        // A dropped handle closes the channel, which stops the server just like a send.
        let _ = stopped.await;
        if let Err(error) = server.shutdown_gracefully().await {
            tracing::warn!(%error, "dns-front did not shut down cleanly");
        }
    });
    tracing::info!(%addr, asking_region = ?config.asking_region, "dns-front listening on UDP and TCP");
    Ok(RunningFront {
        addr,
        stop: Some(stop),
        server_task,
    })
}

/// Binds UDP and TCP on the same port, so clients need only one address.
async fn bind_port_pair(listen: SocketAddr) -> Result<(UdpSocket, TcpListener), FrontError> {
    let attempts = if listen.port() == 0 {
        PORT_PAIR_ATTEMPTS
    } else {
        1
    };
    let mut attempt = 1;
    loop {
        let udp = UdpSocket::bind(listen)
            .await
            .map_err(|source| FrontError::Bind {
                protocol: "UDP",
                addr: listen,
                source,
            })?;
        let addr = udp.local_addr().map_err(|source| FrontError::Bind {
            protocol: "UDP",
            addr: listen,
            source,
        })?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(source) if attempt >= attempts => {
                return Err(FrontError::Bind {
                    protocol: "TCP",
                    addr,
                    source,
                })
            }
            Err(_) => attempt += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use hickory_proto::rr::Name;

    use super::*;

    struct EmptyZone;

    impl ZoneSource for EmptyZone {
        type Error = std::io::Error;

        async fn read_zone(&self) -> Result<ZoneSnapshot, std::io::Error> {
            let apex = Name::from_ascii("empty.test.").map_err(std::io::Error::other)?;
            Ok(ZoneSnapshot {
                apex,
                record_sets: Vec::new(),
            })
        }
    }

    #[tokio::test]
    async fn only_loopback_addresses_are_served() {
        let config = FrontConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 0)),
            ..FrontConfig::default()
        };
        match start(config, EmptyZone).await {
            Ok(_) => panic!("0.0.0.0 must be refused"),
            Err(error) => assert!(error.to_string().contains("loopback"), "{error}"),
        }
    }

    #[tokio::test]
    async fn udp_and_tcp_share_one_loopback_port() {
        let front = start(FrontConfig::default(), EmptyZone)
            .await
            .expect("starts on 127.0.0.1:0");
        let addr = front.addr();
        assert!(addr.ip().is_loopback() && addr.port() != 0);
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_ok(),
            "TCP answers on {addr}"
        );
        front.shutdown().await;
    }
}
