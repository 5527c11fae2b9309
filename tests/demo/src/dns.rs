//! Looking at the zone two ways: through the Route 53 API (everything the zone holds) and
//! through DNS at the DNS front (what a client in the VPC would be answered).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, Result};
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;

use crate::account::AwsClients;

/// One record set as ListResourceRecordSets returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneRecord {
    /// Fully qualified, with the trailing dot.
    pub name: String,
    /// `SRV`, `A`, ...
    pub record_type: String,
    /// Time to live in seconds.
    pub ttl: i64,
    /// The SetIdentifier of a weighted or multivalue set.
    pub set_identifier: Option<String>,
    /// The weight of a weighted set.
    pub weight: Option<i64>,
    /// The values, sorted.
    pub values: Vec<String>,
}

/// One SRV record of an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrvRecord {
    /// RFC 2782 priority.
    pub priority: u16,
    /// RFC 2782 weight.
    pub weight: u16,
    /// The port to connect to.
    pub port: u16,
    /// The target name, `<task>.<service>.<zone>.`.
    pub target: String,
    /// Its TTL.
    pub ttl: u32,
}

/// Every record set of the zone except its SOA and NS. The demo's zone stays within one
/// page, which is all moto can page reliably anyway.
pub async fn zone_records(clients: &AwsClients, zone_id: &str) -> Result<Vec<ZoneRecord>> {
    let page = clients
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .send()
        .await
        .with_context(|| format!("ListResourceRecordSets for zone {zone_id}"))?;
    let mut records: Vec<ZoneRecord> = page
        .resource_record_sets()
        .iter()
        .filter(|set| !matches!(set.r#type().as_str(), "SOA" | "NS"))
        .map(|set| {
            let mut values: Vec<String> = set
                .resource_records()
                .iter()
                .map(|r| r.value().to_owned())
                .collect();
            values.sort();
            ZoneRecord {
                name: set.name().to_owned(),
                record_type: set.r#type().as_str().to_owned(),
                ttl: set.ttl().unwrap_or_default(),
                set_identifier: set.set_identifier().map(str::to_owned),
                weight: set.weight(),
                values,
            }
        })
        .collect();
    // SRV first, then the service A names, then the per-task names: the order a reader
    // follows from a service to its tasks.
    records.sort_by_key(|r| {
        (
            r.record_type != "SRV",
            r.name.matches('.').count(),
            r.name.clone(),
            r.values.clone(),
        )
    });
    Ok(records)
}

/// A DNS client for one nameserver, with no cache: every call is a fresh query, as the
/// proxy makes with TTL 0.
pub struct DnsClient {
    resolver: TokioResolver,
}

impl DnsClient {
    /// Queries `server` only, over UDP (TCP for truncated answers).
    pub fn new(server: SocketAddr) -> Result<Self> {
        let mut nameserver = NameServerConfig::udp_and_tcp(server.ip());
        for connection in &mut nameserver.connections {
            connection.port = server.port();
        }
        let config = ResolverConfig::from_name_servers(vec![nameserver]);
        let mut builder =
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        let options = builder.options_mut();
        options.cache_size = 0;
        options.timeout = Duration::from_secs(2);
        options.attempts = 2;
        let resolver = builder
            .build()
            .map_err(|e| anyhow::anyhow!("building a DNS client for {server}: {e}"))?;
        Ok(Self { resolver })
    }

    /// The SRV records one query gets; empty for NXDOMAIN or no records.
    pub async fn srv(&self, name: &str) -> Result<Vec<SrvRecord>> {
        let lookup = match self.resolver.lookup(name, RecordType::SRV).await {
            Ok(lookup) => lookup,
            Err(error) if error.is_nx_domain() || error.is_no_records_found() => {
                return Ok(Vec::new())
            }
            Err(error) => return Err(anyhow::anyhow!("SRV query for {name}: {error}")),
        };
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::SRV(srv) => Some(SrvRecord {
                    priority: srv.priority,
                    weight: srv.weight,
                    port: srv.port,
                    target: srv.target.to_string(),
                    ttl: record.ttl,
                }),
                _ => None,
            })
            .collect())
    }

    /// The IPv4 addresses one A query gets; empty for NXDOMAIN or no records.
    pub async fn a(&self, name: &str) -> Result<Vec<Ipv4Addr>> {
        let lookup = match self.resolver.lookup(name, RecordType::A).await {
            Ok(lookup) => lookup,
            Err(error) if error.is_nx_domain() || error.is_no_records_found() => {
                return Ok(Vec::new())
            }
            Err(error) => return Err(anyhow::anyhow!("A query for {name}: {error}")),
        };
        Ok(lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect())
    }
}
