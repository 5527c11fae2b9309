//! A real DNS server for tests: hickory-server on 127.0.0.1, UDP and TCP on one port, serving a
//! zone the test can change at run time (answers, TTL, glue), break (SERVFAIL, REFUSED), empty,
//! or delete (NXDOMAIN), and take away altogether.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Metadata, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_server::net::runtime::Time;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use hickory_server::Server;

/// How the server answers every query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsMode {
    /// Answer from the zone.
    Normal,
    /// SERVFAIL to everything: an outage.
    ServFail,
    /// REFUSED to everything: another outage.
    Refused,
    /// NXDOMAIN for SRV queries: the name is gone.
    NxDomain,
    /// NOERROR with no records for SRV queries: the name has no targets.
    Empty,
}

/// One SRV record of the zone.
#[derive(Clone, Debug)]
pub struct SrvEntry {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

/// The zone and the behaviour of the server; change it through [`TestDns::edit`].
#[derive(Debug)]
pub struct Zone {
    pub srv: HashMap<String, Vec<SrvEntry>>,
    pub addresses: HashMap<String, IpAddr>,
    pub ttl: u32,
    /// Whether SRV answers carry the targets' A records in the additional section.
    pub glue: bool,
    pub mode: DnsMode,
    /// SRV queries answered so far.
    pub srv_queries: usize,
}

struct ZoneHandler {
    zone: Arc<Mutex<Zone>>,
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("test names are valid")
}

fn key(text: &str) -> String {
    text.trim_end_matches('.').to_ascii_lowercase()
}

/// An A or AAAA record, whichever `ip` is.
fn address_record(owner: &str, ip: IpAddr, ttl: u32) -> Record {
    let data = match ip {
        IpAddr::V4(v4) => RData::A(A(v4)),
        IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
    };
    Record::from_rdata(name(owner), ttl, data)
}

#[async_trait::async_trait]
impl RequestHandler for ZoneHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let builder = MessageResponseBuilder::from_message_request(request);
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;
        let Some(query) = request.queries.queries().first() else {
            let response = builder.error_msg(&request.metadata, ResponseCode::FormErr);
            return response_handle.send_response(response).await.expect("send");
        };
        let asked = key(&query.name().to_string());
        let (answers, additionals, code) = {
            let mut zone = self.zone.lock().expect("zone lock");
            let mut answers = Vec::new();
            let mut additionals = Vec::new();
            let mut code = ResponseCode::NoError;
            match (zone.mode, query.query_type()) {
                (DnsMode::ServFail, _) => code = ResponseCode::ServFail,
                (DnsMode::Refused, _) => code = ResponseCode::Refused,
                (DnsMode::NxDomain, RecordType::SRV) => code = ResponseCode::NXDomain,
                (DnsMode::Empty, RecordType::SRV) => {}
                (_, RecordType::SRV) => {
                    zone.srv_queries += 1;
                    match zone.srv.get(&asked) {
                        None => code = ResponseCode::NXDomain,
                        Some(entries) => {
                            for entry in entries {
                                let srv = SRV::new(
                                    entry.priority,
                                    entry.weight,
                                    entry.port,
                                    name(&entry.target),
                                );
                                answers.push(Record::from_rdata(
                                    name(&asked),
                                    zone.ttl,
                                    RData::SRV(srv),
                                ));
                                let address = zone.addresses.get(&key(&entry.target));
                                if let (true, Some(ip)) = (zone.glue, address) {
                                    additionals.push(address_record(&entry.target, *ip, zone.ttl));
                                }
                            }
                        }
                    }
                }
                (_, asked_type @ (RecordType::A | RecordType::AAAA)) => {
                    match zone.addresses.get(&asked) {
                        // A name with an address of the other family exists: NOERROR, no data.
                        Some(ip) if (asked_type == RecordType::AAAA) == ip.is_ipv6() => {
                            answers.push(address_record(&asked, *ip, zone.ttl))
                        }
                        Some(_) => {}
                        None => code = ResponseCode::NXDomain,
                    }
                }
                _ => {}
            }
            (answers, additionals, code)
        };
        if code != ResponseCode::NoError {
            let response = builder.error_msg(&request.metadata, code);
            return response_handle.send_response(response).await.expect("send");
        }
        let response = builder.build(metadata, answers.iter(), [], [], additionals.iter());
        response_handle.send_response(response).await.expect("send")
    }
}

/// A running test DNS server.
pub struct TestDns {
    pub addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    server: Option<Server<ZoneHandler>>,
}

impl TestDns {
    /// Starts an empty zone (TTL 300, glue on) on a free 127.0.0.1 port, UDP and TCP.
    pub async fn start() -> Self {
        let zone = Arc::new(Mutex::new(Zone {
            srv: HashMap::new(),
            addresses: HashMap::new(),
            ttl: 300,
            glue: true,
            mode: DnsMode::Normal,
            srv_queries: 0,
        }));
        // UDP and TCP must share a port; another process may take the TCP port in between, so
        // try a bounded number of times.
        for _ in 0..20 {
            let udp = tokio::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .expect("bind udp");
            let addr = udp.local_addr().expect("udp addr");
            let Ok(tcp) = tokio::net::TcpListener::bind(addr).await else {
                continue;
            };
            let mut server = Server::new(ZoneHandler { zone: zone.clone() });
            server.register_socket(udp);
            server.register_listener(tcp, Duration::from_secs(5), 64 * 1024);
            return Self {
                addr,
                zone,
                server: Some(server),
            };
        }
        panic!("could not bind UDP and TCP on one 127.0.0.1 port in 20 tries");
    }

    /// Changes the zone or the mode.
    pub fn edit(&self, change: impl FnOnce(&mut Zone)) {
        change(&mut self.zone.lock().expect("zone lock"));
    }

    /// Replaces the SRV records of `srv_name` with `(priority, weight, port)` triples, and gives
    /// each target `t<port>.ecs.test.` the address 127.0.0.1.
    pub fn set_targets(&self, srv_name: &str, targets: &[(u16, u16, u16)]) {
        self.set_targets_at(IpAddr::from([127, 0, 0, 1]), srv_name, targets);
    }

    /// [`TestDns::set_targets`] with every target at `ip` (an A or an AAAA record).
    pub fn set_targets_at(&self, ip: IpAddr, srv_name: &str, targets: &[(u16, u16, u16)]) {
        self.edit(|zone| {
            let entries = targets
                .iter()
                .map(|&(priority, weight, port)| {
                    let target = format!("t{port}.ecs.test.");
                    zone.addresses.insert(key(&target), ip);
                    SrvEntry {
                        priority,
                        weight,
                        port,
                        target,
                    }
                })
                .collect();
            zone.srv.insert(key(srv_name), entries);
        });
    }

    /// SRV queries answered from the zone so far.
    pub fn srv_queries(&self) -> usize {
        self.zone.lock().expect("zone lock").srv_queries
    }

    /// Serves again on the same address after [`TestDns::take_away`], with the zone as it is now.
    /// Another process may hold the port for a moment, so binding is tried a bounded number of
    /// times.
    pub async fn bring_back(&mut self) {
        assert!(self.server.is_none(), "bring_back after take_away only");
        for _ in 0..50 {
            if let Ok(udp) = tokio::net::UdpSocket::bind(self.addr).await {
                if let Ok(tcp) = tokio::net::TcpListener::bind(self.addr).await {
                    let mut server = Server::new(ZoneHandler {
                        zone: self.zone.clone(),
                    });
                    server.register_socket(udp);
                    server.register_listener(tcp, Duration::from_secs(5), 64 * 1024);
                    self.server = Some(server);
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not bind {} again in 50 tries", self.addr);
    }

    /// Stops the server: its sockets close and queries go unanswered.
    pub async fn take_away(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.shutdown_gracefully().await;
        }
    }
}
