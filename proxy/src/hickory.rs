//! The production [`Resolve`]: hickory-resolver against resolv.conf or a given nameserver.
//!
//! hickory's own response cache is switched off, because [`crate::discovery`] caches by TTL
//! and must see every real failure to decide between "keep the last answer" and "the name is
//! gone". Target addresses come from the additional section when the server sent them (Route 53
//! and dnsmasq do), which saves a round trip per target; otherwise each target name gets an A/AAAA
//! lookup.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::TokioResolver;

use crate::resolve::{Resolve, ResolveError, Resolving, SrvAnswer, SrvTarget};

/// How long one DNS query may take before hickory gives up on it.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// Resolves SRV names with hickory.
pub struct HickoryResolver {
    resolver: TokioResolver,
}

impl HickoryResolver {
    /// Uses the nameservers, search list and options of the system's resolv.conf: inside an ECS
    /// task that is the VPC resolver, which is what serves a Route 53 private zone.
    pub fn from_system_conf() -> anyhow::Result<Self> {
        let builder = TokioResolver::builder_tokio().map_err(|error| {
            anyhow::anyhow!("cannot read the system DNS configuration (/etc/resolv.conf): {error}; pass --dns HOST:PORT")
        })?;
        Self::finish(builder)
    }

    /// Uses only `nameserver`, over UDP with TCP for truncated answers.
    pub fn with_nameserver(nameserver: SocketAddr) -> anyhow::Result<Self> {
        let mut server = NameServerConfig::udp_and_tcp(nameserver.ip());
        for connection in &mut server.connections {
            connection.port = nameserver.port();
        }
        let config = ResolverConfig::from_name_servers(vec![server]);
        let builder = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        Self::finish(builder)
    }

    fn finish(
        mut builder: hickory_resolver::ResolverBuilder<TokioRuntimeProvider>,
    ) -> anyhow::Result<Self> {
        let options = builder.options_mut();
        options.cache_size = 0;
        options.timeout = QUERY_TIMEOUT;
        options.attempts = 2;
        let resolver = builder
            .build()
            .map_err(|error| anyhow::anyhow!("cannot build the DNS resolver: {error}"))?;
        Ok(Self { resolver })
    }

    async fn resolve(&self, name: &str) -> Result<SrvAnswer, ResolveError> {
        let unavailable = |reason: String| ResolveError::Unavailable {
            name: name.to_owned(),
            reason,
        };
        let lookup = match self.resolver.lookup(name, RecordType::SRV).await {
            Ok(lookup) => lookup,
            Err(error) if is_name_gone(&error) => {
                return Err(ResolveError::NotFound {
                    name: name.to_owned(),
                })
            }
            Err(error) => return Err(unavailable(error.to_string())),
        };

        let mut ttl = u32::MAX;
        let glue = glue_addresses(lookup.additionals());

        let mut targets = Vec::new();
        let mut address_failures = Vec::new();
        for record in lookup.answers() {
            let RData::SRV(srv) = &record.data else {
                continue;
            };
            if srv.target.is_root() {
                continue; // "." says the service is decidedly not available here.
            }
            ttl = ttl.min(record.ttl);
            let ip = match glue.get(&srv.target) {
                Some(ip) => *ip,
                None => match self.first_address(&srv.target).await {
                    Ok(Some(ip)) => ip,
                    Ok(None) => continue,
                    Err(failure) => {
                        address_failures.push(failure);
                        continue;
                    }
                },
            };
            targets.push(SrvTarget {
                host: Arc::from(srv.target.to_string()),
                addr: SocketAddr::new(ip, srv.port),
                priority: srv.priority,
                weight: srv.weight,
            });
        }

        if targets.is_empty() {
            if address_failures.is_empty() {
                return Err(ResolveError::NotFound {
                    name: name.to_owned(),
                });
            }
            return Err(unavailable(format!(
                "no address for any SRV target ({})",
                address_failures.join("; ")
            )));
        }
        Ok(SrvAnswer {
            targets,
            ttl: Duration::from_secs(u64::from(ttl)),
        })
    }
}

impl HickoryResolver {
    /// The first address of a target that came without glue; `Err` says why it has none.
    async fn first_address(&self, target: &Name) -> Result<Option<IpAddr>, String> {
        match self.resolver.lookup_ip(target.clone()).await {
            Ok(ips) => Ok(ips.iter().next()),
            Err(error) => Err(format!("{target}: {error}")),
        }
    }
}

/// The addresses the server sent along in the additional section, the first one per name (A
/// records come first from the usual servers): they save a lookup per target.
fn glue_addresses<'a>(
    additionals: impl IntoIterator<Item = &'a hickory_resolver::proto::rr::Record>,
) -> HashMap<Name, IpAddr> {
    let mut glue = HashMap::new();
    for record in additionals {
        let ip = match &record.data {
            RData::A(a) => IpAddr::V4(a.0),
            RData::AAAA(aaaa) => IpAddr::V6(aaaa.0),
            _ => continue,
        };
        glue.entry(record.name.clone()).or_insert(ip);
    }
    glue
}

/// NXDOMAIN and "no records" mean the name is gone; everything else is an outage.
fn is_name_gone(error: &NetError) -> bool {
    error.is_nx_domain() || error.is_no_records_found()
}

impl Resolve for HickoryResolver {
    fn resolve_srv<'a>(&'a self, name: &'a str) -> Resolving<'a> {
        Box::pin(self.resolve(name))
    }
}
