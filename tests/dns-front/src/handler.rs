//! The DNS side: turns each query into a Route 53-style answer from the cached zone and
//! hands it to hickory-server, which does all the wire format, UDP truncation and TCP
//! framing.

use std::sync::{Arc, Mutex, PoisonError};

use hickory_proto::op::{Edns, Header, HeaderCounts, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::{DNSClass, Record};
use hickory_server::net::runtime::Time;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use rand::rngs::StdRng;

use crate::cache::{ZoneCache, ZoneSource};
use crate::zone::ZoneAnswer;

/// Answers queries for one zone.
pub struct FrontHandler<S> {
    cache: Arc<ZoneCache<S>>,
    /// One generator for the whole server, so a seeded run gives the same sequence of
    /// picks for the same sequence of queries.
    rng: Mutex<StdRng>,
    /// The region the queries come from, for latency sets.
    asking_region: Option<String>,
}

impl<S: ZoneSource> FrontHandler<S> {
    /// A handler answering from `cache` for a VPC in `asking_region`, drawing weighted and
    /// multivalue picks from `rng`.
    pub fn new(cache: Arc<ZoneCache<S>>, rng: StdRng, asking_region: Option<String>) -> Self {
        Self {
            cache,
            rng: Mutex::new(rng),
            asking_region,
        }
    }

    /// The response code and the records for a standard query.
    async fn lookup(&self, request: &Request) -> (ResponseCode, Vec<Record>, Vec<Record>) {
        let Ok(info) = request.request_info() else {
            return (ResponseCode::FormErr, Vec::new(), Vec::new());
        };
        let query = info.query;
        if query.query_class() != DNSClass::IN {
            return (ResponseCode::Refused, Vec::new(), Vec::new());
        }
        let zone = self.cache.current().await;
        let answer = {
            let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
            let region = self.asking_region.as_deref();
            zone.answer(query.name(), query.query_type(), region, &mut *rng)
        };
        tracing::debug!(name = %query.name(), record_type = %query.query_type(), ?answer, "answered");
        match answer {
            ZoneAnswer::Records(records) => (ResponseCode::NoError, records, Vec::new()),
            ZoneAnswer::NoData(soa) => (ResponseCode::NoError, Vec::new(), vec![soa]),
            ZoneAnswer::NameError(soa) => (ResponseCode::NXDomain, Vec::new(), vec![soa]),
            ZoneAnswer::NotInZone => (ResponseCode::Refused, Vec::new(), Vec::new()),
        }
    }
}

#[async_trait::async_trait]
impl<S: ZoneSource> RequestHandler for FrontHandler<S> {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        // Echo EDNS so that UDP answers may use the client's larger buffer, as Route 53 does.
        let response_edns = request.edns.as_ref().map(|request_edns| {
            let mut edns = Edns::new();
            edns.set_max_payload(request_edns.max_payload().max(512));
            edns
        });
        let mut builder = MessageResponseBuilder::from_message_request(request);
        if let Some(edns) = &response_edns {
            builder.edns(edns);
        }

        let is_standard_query = request.metadata.message_type == MessageType::Query
            && request.metadata.op_code == OpCode::Query;
        let (response_code, answers, authorities) = if is_standard_query {
            self.lookup(request).await
        } else {
            (ResponseCode::NotImp, Vec::new(), Vec::new())
        };

        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative =
            response_code != ResponseCode::Refused && response_code != ResponseCode::NotImp;
        metadata.response_code = response_code;
        let response = builder.build(
            metadata,
            answers.iter(),
            std::iter::empty(),
            authorities.iter(),
            std::iter::empty(),
        );
        match response_handle.send_response(response).await {
            Ok(info) => info,
            Err(error) => {
                tracing::warn!(%error, "could not send the response");
                let mut metadata = Metadata::response_from_request(&request.metadata);
                metadata.response_code = ResponseCode::ServFail;
                ResponseInfo::from(Header {
                    metadata,
                    counts: HeaderCounts::default(),
                })
            }
        }
    }
}
