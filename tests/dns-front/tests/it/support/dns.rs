//! A plain DNS client over UDP or TCP, built on hickory's client so the tests, like the
//! server, write no wire format by hand.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use hickory_net::client::{Client, ClientHandle};
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::tcp::TcpClientStream;
use hickory_net::udp::UdpClientStream;
use hickory_proto::op::Message;
use hickory_proto::rr::{DNSClass, Name, RecordType};

/// A query that has not been answered by now will not be.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// How a query travels.
#[derive(Clone, Copy, Debug)]
pub enum Transport {
    /// One datagram each way.
    Udp,
    /// A length-prefixed stream, as clients use for answers too big for UDP.
    Tcp,
}

/// A client connected to one server.
pub struct DnsClient {
    client: Client<TokioRuntimeProvider>,
}

impl DnsClient {
    /// Connects to `server` over `transport`; the background task lives as long as the
    /// test's runtime.
    pub async fn connect(server: SocketAddr, transport: Transport) -> DnsClient {
        let provider = TokioRuntimeProvider::default();
        let client = match transport {
            Transport::Udp => {
                let stream = UdpClientStream::builder(server, provider)
                    .with_timeout(Some(QUERY_TIMEOUT))
                    .build();
                let (client, background) = Client::<TokioRuntimeProvider>::from_sender(stream);
                tokio::spawn(background);
                client
            }
            Transport::Tcp => {
                let (connecting, sender) =
                    TcpClientStream::new(server, None, Some(QUERY_TIMEOUT), provider);
                let stream = tokio::time::timeout(QUERY_TIMEOUT, connecting)
                    .await
                    .unwrap_or_else(|_| panic!("TCP connect to {server} timed out"))
                    .unwrap_or_else(|error| panic!("TCP connect to {server} failed: {error}"));
                let (client, background) =
                    Client::<TokioRuntimeProvider>::with_timeout(stream, sender, QUERY_TIMEOUT);
                tokio::spawn(background);
                client
            }
        };
        DnsClient { client }
    }

    /// Asks one question and returns the whole response, whatever its response code.
    pub async fn ask(&mut self, name: &str, record_type: RecordType) -> Message {
        let query_name =
            Name::from_str(name).unwrap_or_else(|error| panic!("bad test name {name}: {error}"));
        let response = tokio::time::timeout(
            QUERY_TIMEOUT,
            self.client.query(query_name, DNSClass::IN, record_type),
        )
        .await
        .unwrap_or_else(|_| panic!("no answer for {name} {record_type} within {QUERY_TIMEOUT:?}"))
        .unwrap_or_else(|error| panic!("query {name} {record_type} failed: {error}"));
        response.into_message()
    }
}

/// The SRV targets of an answer, in answer order.
pub fn srv_targets(response: &Message) -> Vec<String> {
    response
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            hickory_proto::rr::RData::SRV(srv) => Some(srv.target.to_ascii()),
            _ => None,
        })
        .collect()
}
