//! Reads a hosted zone through the Route 53 API (moto server in tests and the demo), page
//! by page, and hands each record set to [`crate::record_set`] to become DNS data.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use aws_sdk_route53::error::DisplayErrorContext;
use aws_sdk_route53::types::{ResourceRecordSet, RrType};
use hickory_proto::rr::Name;
use tokio::sync::OnceCell;

use crate::cache::ZoneSource;
use crate::record_set::{self, parse_owner_name};
use crate::zone::{RecordSetEntry, ZoneSnapshot};

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
            let repeated = match &marker {
                Some((name, record_type, None)) => {
                    already_listed(&record_sets, name, record_type.as_str())
                }
                _ => 0,
            };
            record_sets.extend(page.resource_record_sets().iter().skip(repeated).cloned());
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

/// How many record sets of `name` and `record_type` end the sets listed so far. moto gives
/// no NextRecordIdentifier, so a page that ends inside a group of weighted sets is followed
/// by one that starts that group again; without skipping those, the repeated sets would be
/// served twice and drawn twice as often. Route 53 gives the identifier, and never repeats.
fn already_listed(listed: &[ResourceRecordSet], name: &str, record_type: &str) -> usize {
    let same_name =
        |listed_name: &str| listed_name.trim_end_matches('.') == name.trim_end_matches('.');
    listed
        .iter()
        .rev()
        .take_while(|set| same_name(set.name()) && set.r#type().as_str() == record_type)
        .count()
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
    /// Converts one API record set, logging what had to be skipped.
    fn to_entry(&self, record_set: &ResourceRecordSet) -> Option<RecordSetEntry> {
        let mut problems = Vec::new();
        let entry = record_set::to_entry(record_set, &self.zone_id, &mut problems);
        for problem in problems {
            self.warn_once(problem);
        }
        entry
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

#[cfg(test)]
mod tests {
    use aws_sdk_route53::types::ResourceRecord;

    use super::*;

    fn weighted(name: &str, identifier: &str) -> ResourceRecordSet {
        ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::A)
            .set_identifier(identifier)
            .weight(1)
            .ttl(10)
            .resource_records(
                ResourceRecord::builder()
                    .value("10.0.0.1")
                    .build()
                    .expect("value is set"),
            )
            .build()
            .expect("complete record set")
    }

    #[test]
    fn a_group_cut_by_a_page_end_is_counted_once() {
        // The page ended after p0 and p1 of p.zone. A; moto's next page starts at p0 again.
        let listed = vec![
            weighted("a.zone.", "a"),
            weighted("p.zone.", "p0"),
            weighted("p.zone.", "p1"),
        ];
        assert_eq!(already_listed(&listed, "p.zone.", "A"), 2);
        assert_eq!(already_listed(&listed, "p.zone", "A"), 2, "dot or not");
        assert_eq!(already_listed(&listed, "p.zone.", "AAAA"), 0);
        assert_eq!(already_listed(&listed, "q.zone.", "A"), 0);
    }
}
