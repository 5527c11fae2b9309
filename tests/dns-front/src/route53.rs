//! Reads a hosted zone through the Route 53 API (moto server in tests and the demo) and turns
//! its text values into DNS data with hickory's parsers.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};

use aws_sdk_route53::error::DisplayErrorContext;
use aws_sdk_route53::types::{ResourceRecordSet, RrType};
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::txt::ParseError;
use tokio::sync::OnceCell;

use crate::cache::ZoneSource;
use crate::zone::{RecordSetEntry, Routing, ZoneSnapshot};

/// A zone larger than this many pages (300 record sets each) is surely a pagination loop
/// rather than a real zone, so reading stops with an error instead of spinning.
const MAX_PAGES: usize = 1_000;

/// Why the zone could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ZoneReadError {
    /// The Route 53 API call failed; the message carries the whole SDK error chain.
    #[error("Route 53 {operation} for hosted zone {zone_id} failed: {message}")]
    Api {
        /// The API operation that failed.
        operation: &'static str,
        /// The hosted zone being read.
        zone_id: String,
        /// The SDK error with its causes.
        message: String,
    },
    /// GetHostedZone answered without a usable zone name.
    #[error("hosted zone {zone_id} has no usable name ({name:?}): check the zone id")]
    BadZoneName {
        /// The hosted zone being read.
        zone_id: String,
        /// What the API returned as the name.
        name: String,
    },
    /// The Next* markers did not move forward, which would loop for ever. moto returns no
    /// NextRecordIdentifier, so more than one page of weighted sets of a name does this.
    #[error(
        "ListResourceRecordSets for hosted zone {zone_id} returned the same page marker twice \
         ({marker}); keep test zones under one page"
    )]
    PaginationStuck {
        /// The hosted zone being read.
        zone_id: String,
        /// The marker that repeated.
        marker: String,
    },
    /// More pages than any zone this tool is meant for.
    #[error("hosted zone {zone_id} has more than {MAX_PAGES} pages of record sets")]
    TooManyPages {
        /// The hosted zone being read.
        zone_id: String,
    },
}

/// A hosted zone read through the Route 53 API.
#[derive(Debug)]
pub struct Route53Zone {
    client: aws_sdk_route53::Client,
    zone_id: String,
    /// The zone name never changes, so GetHostedZone is called once.
    apex: OnceCell<Name>,
    /// Problems already logged, so a bad value is not reported on every re-read.
    reported_problems: Mutex<HashSet<String>>,
}

impl Route53Zone {
    /// Reads zone `zone_id` (with or without the `/hostedzone/` prefix) through `client`.
    pub fn new(client: aws_sdk_route53::Client, zone_id: impl Into<String>) -> Self {
        let zone_id: String = zone_id.into();
        let zone_id = zone_id.trim_start_matches("/hostedzone/").to_owned();
        Self {
            client,
            zone_id,
            apex: OnceCell::new(),
            reported_problems: Mutex::new(HashSet::new()),
        }
    }

    async fn apex(&self) -> Result<Name, ZoneReadError> {
        self.apex
            .get_or_try_init(|| async {
                let output = self
                    .client
                    .get_hosted_zone()
                    .id(&self.zone_id)
                    .send()
                    .await
                    .map_err(|error| self.api_error("GetHostedZone", error))?;
                let name = output
                    .hosted_zone()
                    .map(|zone| zone.name())
                    .unwrap_or_default();
                parse_owner_name(name).ok_or_else(|| ZoneReadError::BadZoneName {
                    zone_id: self.zone_id.clone(),
                    name: name.to_owned(),
                })
            })
            .await
            .cloned()
    }

    /// Lists every record set, following all three Next* markers.
    async fn list_all(&self) -> Result<Vec<ResourceRecordSet>, ZoneReadError> {
        let mut record_sets = Vec::new();
        let mut marker: Option<(String, RrType, Option<String>)> = None;
        for _ in 0..MAX_PAGES {
            let mut request = self
                .client
                .list_resource_record_sets()
                .hosted_zone_id(&self.zone_id);
            if let Some((name, record_type, identifier)) = &marker {
                request = request
                    .start_record_name(name)
                    .start_record_type(record_type.clone())
                    .set_start_record_identifier(identifier.clone());
            }
            let page = request
                .send()
                .await
                .map_err(|error| self.api_error("ListResourceRecordSets", error))?;
            record_sets.extend(page.resource_record_sets().iter().cloned());
            if !page.is_truncated() {
                return Ok(record_sets);
            }
            let next = match (page.next_record_name(), page.next_record_type()) {
                (Some(name), Some(record_type)) => (
                    name.to_owned(),
                    record_type.clone(),
                    page.next_record_identifier().map(str::to_owned),
                ),
                _ => return Ok(record_sets),
            };
            if marker.as_ref() == Some(&next) {
                return Err(ZoneReadError::PaginationStuck {
                    zone_id: self.zone_id.clone(),
                    marker: format!("{} {} {:?}", next.0, next.1.as_str(), next.2),
                });
            }
            marker = Some(next);
        }
        Err(ZoneReadError::TooManyPages {
            zone_id: self.zone_id.clone(),
        })
    }

    fn api_error<E: std::error::Error + 'static>(
        &self,
        operation: &'static str,
        error: E,
    ) -> ZoneReadError {
        ZoneReadError::Api {
            operation,
            zone_id: self.zone_id.clone(),
            message: DisplayErrorContext(&error).to_string(),
        }
    }
}

impl ZoneSource for Route53Zone {
    type Error = ZoneReadError;

    async fn read_zone(&self) -> Result<ZoneSnapshot, ZoneReadError> {
        let apex = self.apex().await?;
        let record_sets = self
            .list_all()
            .await?
            .iter()
            .filter_map(|record_set| self.to_entry(record_set))
            .collect();
        Ok(ZoneSnapshot { apex, record_sets })
    }
}

impl Route53Zone {
    /// Converts one API record set. Alias record sets (no TTL, no values) and types hickory
    /// does not know are skipped; a value that does not parse is dropped with a warning, the
    /// rest of its set is kept.
    fn to_entry(&self, record_set: &ResourceRecordSet) -> Option<RecordSetEntry> {
        let Some(name) = parse_owner_name(record_set.name()) else {
            self.warn_once(format!(
                "record set name {:?} does not parse, skipped",
                record_set.name()
            ));
            return None;
        };
        let Ok(record_type) = RecordType::from_str(record_set.r#type().as_str()) else {
            let record_type = record_set.r#type().as_str();
            self.warn_once(format!(
                "{name} {record_type}: unknown record type, skipped"
            ));
            return None;
        };
        let Some(ttl) = record_set.ttl() else {
            tracing::debug!(%name, %record_type, "record set without TTL (an alias), skipped");
            return None;
        };
        let values = record_set
            .resource_records()
            .iter()
            .filter_map(|record| match parse_value(record_type, record.value()) {
                Ok(value) => Some(value),
                Err(error) => {
                    let value = record.value();
                    self.warn_once(format!(
                        "{name} {record_type}: value {value:?} does not parse ({error}), skipped"
                    ));
                    None
                }
            })
            .collect();
        Some(RecordSetEntry {
            name,
            record_type,
            ttl: u32::try_from(ttl.max(0)).unwrap_or(u32::MAX),
            routing: routing_of(record_set),
            values,
        })
    }

    /// The zone is re-read several times a second, so each problem is logged the first
    /// time only.
    fn warn_once(&self, problem: String) {
        let mut reported = self
            .reported_problems
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !reported.contains(&problem) {
            tracing::warn!(zone_id = %self.zone_id, "{problem}");
            reported.insert(problem);
        }
    }
}

/// Parses one value with hickory's zone-file parser for its type.
fn parse_value(record_type: RecordType, text: &str) -> Result<RData, ParseError> {
    let text = if record_type == RecordType::SOA {
        unwrap_moto_soa(text)
    } else {
        text
    };
    RData::try_from_str(record_type, text)
}

/// moto 5.2 stores the SOA it creates with a zone as the text of a Python dict,
/// `{'Value': '<the SOA>'}`. Unwrapping it lets negative answers carry the zone's own SOA.
fn unwrap_moto_soa(text: &str) -> &str {
    text.strip_prefix("{'Value': '")
        .and_then(|rest| rest.strip_suffix("'}"))
        .unwrap_or(text)
}

fn routing_of(record_set: &ResourceRecordSet) -> Routing {
    match (
        record_set.set_identifier(),
        record_set.weight(),
        record_set.multi_value_answer(),
    ) {
        (Some(_), Some(weight), _) => {
            Routing::Weighted(u8::try_from(weight.clamp(0, 255)).unwrap_or(u8::MAX))
        }
        (Some(_), None, Some(true)) => Routing::MultiValue,
        (Some(_), None, _) => Routing::OtherIdentified,
        (None, _, _) => Routing::Simple,
    }
}

/// Route 53 writes names with a trailing dot and octal escapes (`\052` for `*`); hickory's
/// parser reads both. A name without the dot is still absolute in Route 53.
fn parse_owner_name(text: &str) -> Option<Name> {
    if text.is_empty() {
        return None;
    }
    let mut name = Name::from_ascii(text).ok()?;
    name.set_fqdn(true);
    Some(name)
}

#[cfg(test)]
mod tests {
    use aws_sdk_route53::types::ResourceRecord;

    use super::*;

    fn record_set(
        name: &str,
        record_type: RrType,
        values: &[&str],
    ) -> aws_sdk_route53::types::builders::ResourceRecordSetBuilder {
        let mut builder = ResourceRecordSet::builder()
            .name(name)
            .r#type(record_type)
            .ttl(10);
        for value in values {
            builder = builder.resource_records(
                ResourceRecord::builder()
                    .value(*value)
                    .build()
                    .expect("value is set"),
            );
        }
        builder
    }

    /// A zone reader whose client is never used: conversion needs no network.
    fn offline_zone() -> Route53Zone {
        let config = aws_sdk_route53::Config::builder()
            .behavior_version(aws_sdk_route53::config::BehaviorVersion::latest())
            .region(aws_sdk_route53::config::Region::new("us-east-1"))
            .build();
        Route53Zone::new(
            aws_sdk_route53::Client::from_conf(config),
            "/hostedzone/ZTEST",
        )
    }

    #[test]
    fn the_soa_moto_wraps_in_a_dict_is_read() {
        let moto_soa =
            "{'Value': 'ns-2048.awsdns-64.com. hostmaster.example.com. 1 7200 900 1209600 86400'}";
        match parse_value(RecordType::SOA, moto_soa) {
            Ok(RData::SOA(soa)) => assert_eq!(soa.minimum, 86_400),
            other => panic!("expected an SOA, got {other:?}"),
        }
    }

    #[test]
    fn bad_values_are_dropped_and_good_ones_kept() {
        let set = record_set(
            "_http._tcp.web.zone.",
            RrType::Srv,
            &["1 5 8080 t1.web.zone.", "not an srv", "1 1 80 t2.web.zone."],
        )
        .build()
        .expect("complete record set");
        let entry = offline_zone().to_entry(&set).expect("entry");
        assert_eq!(entry.values.len(), 2);
        assert_eq!(entry.routing, Routing::Simple);
    }

    #[test]
    fn routing_follows_identifier_weight_and_multivalue() {
        let weighted = record_set("web.zone.", RrType::A, &["10.0.0.1"])
            .set_identifier("a")
            .weight(7)
            .build()
            .expect("set");
        let multivalue = record_set("web.zone.", RrType::A, &["10.0.0.1"])
            .set_identifier("b")
            .multi_value_answer(true)
            .build()
            .expect("set");
        assert_eq!(routing_of(&weighted), Routing::Weighted(7));
        assert_eq!(routing_of(&multivalue), Routing::MultiValue);
    }

    #[test]
    fn names_become_absolute_and_escapes_are_read() {
        assert_eq!(
            parse_owner_name("web.zone").map(|name| name.to_ascii()),
            Some("web.zone.".to_owned())
        );
        assert_eq!(
            parse_owner_name("\\052.zone.").map(|name| name.to_ascii()),
            Some("*.zone.".to_owned())
        );
        assert_eq!(parse_owner_name(""), None);
    }
}
