//! The Route 53 edge: read the zone, send ChangeBatches. Nothing here decides anything.
//!
//! Throttling and `PriorRequestNotComplete` are retried by the SDK's standard retry mode
//! (jittered exponential backoff, see `aws.rs`); what reaches the caller is final.

pub mod pacing;

use std::collections::BTreeSet;

use aws_sdk_route53::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_route53::types::{self as sdk, ChangeAction, RrType};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::aws::route53::pacing::WritePacer;
use crate::plan::naming::{subtree_order, SubtreeOrder};
use crate::plan::records::{Change, ForeignPolicy, ForeignRecord, RecordSet, RecordType, Routing};
use crate::plan::zone::ZoneListing;

/// Upper bound on pages read from one zone (300 sets a page): far above any zone the
/// 10,000-set default quota allows, yet a bound on a server that never stops paging.
const MAX_PAGES: usize = 1_000;

/// A Route 53 call that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Route53Error {
    /// Route 53 understood the request and refused it (InvalidChangeBatch, InvalidInput,
    /// NoSuchHostedZone...). Sending it again would fail again.
    #[error("Route 53 {operation} on zone {zone_id} was rejected ({code}): {message}")]
    Rejected {
        /// The API operation.
        operation: &'static str,
        /// The hosted zone.
        zone_id: String,
        /// Route 53's error code.
        code: String,
        /// Route 53's message.
        message: String,
    },
    /// The call failed after the SDK's retries: throttled throughout, network, timeout.
    #[error("Route 53 {operation} on zone {zone_id} failed after retries: {detail}")]
    Unavailable {
        /// The API operation.
        operation: &'static str,
        /// The hosted zone.
        zone_id: String,
        /// The SDK's description.
        detail: String,
    },
    /// The listing repeated a page, so the zone cannot be read completely.
    #[error("ListResourceRecordSets on zone {zone_id} returned the page starting at {start} twice; refusing to loop")]
    PagingLoop {
        /// The hosted zone.
        zone_id: String,
        /// Where the repeated page started.
        start: String,
    },
    /// A response was missing something Route 53 always sends, or a value was unusable.
    #[error("Route 53 {operation} on zone {zone_id}: {problem}")]
    Malformed {
        /// The API operation.
        operation: &'static str,
        /// The hosted zone.
        zone_id: String,
        /// What was wrong.
        problem: String,
    },
}

/// Route 53's words for a compare-and-swap that lost: the set is there already, gone, or
/// holds other values than the DELETE named.
fn is_concurrent_change(message: &str) -> bool {
    [
        "but it already exists",
        "but it was not found",
        "do not match the current values",
    ]
    .iter()
    .any(|words| message.contains(words))
}

impl Route53Error {
    /// Whether the request itself was refused, as opposed to not getting through.
    pub fn is_rejection(&self) -> bool {
        matches!(self, Route53Error::Rejected { .. })
    }

    /// Whether sending again later may succeed: throttling and outages pass, and so does a
    /// listing that looped or a batch refused because the zone changed under it (a CREATE
    /// of a set that now exists, a DELETE of one that is gone or changed: another writer,
    /// such as a reconcile, got there first, and the next attempt plans from a fresh read).
    /// Any other refused request or a malformed answer will not change.
    pub fn is_retryable(&self) -> bool {
        match self {
            Route53Error::Unavailable { .. } | Route53Error::PagingLoop { .. } => true,
            Route53Error::Rejected { code, message, .. } => {
                code == "InvalidChangeBatch" && is_concurrent_change(message)
            }
            Route53Error::Malformed { .. } => false,
        }
    }

    fn from_sdk<E>(operation: &'static str, zone_id: &str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if let SdkError::ServiceError(service) = &err {
            let code = service.err().code().unwrap_or("Unknown").to_owned();
            let throttled = matches!(
                code.as_str(),
                "Throttling" | "PriorRequestNotComplete" | "ThrottlingException"
            );
            if !throttled && !service.raw().status().is_server_error() {
                return Route53Error::Rejected {
                    operation,
                    zone_id: zone_id.to_owned(),
                    message: service.err().message().unwrap_or_default().to_owned(),
                    code,
                };
            }
        }
        Route53Error::Unavailable {
            operation,
            zone_id: zone_id.to_owned(),
            detail: DisplayErrorContext(&err).to_string(),
        }
    }
}

/// The zone's apex name, from GetHostedZone.
pub async fn hosted_zone_name(
    client: &aws_sdk_route53::Client,
    zone_id: &str,
) -> Result<String, Route53Error> {
    let output = client
        .get_hosted_zone()
        .id(zone_id)
        .send()
        .await
        .map_err(|e| Route53Error::from_sdk("GetHostedZone", zone_id, e))?;
    output
        .hosted_zone()
        .map(|zone| zone.name().to_owned())
        .ok_or_else(|| Route53Error::Malformed {
            operation: "GetHostedZone",
            zone_id: zone_id.to_owned(),
            problem: "the response has no HostedZone".to_owned(),
        })
}

/// Reads every record set of the zone, following NextRecordName, NextRecordType and
/// NextRecordIdentifier. Deciding whose each set is belongs to the core (`zone.rs`).
pub async fn read_zone(
    client: &aws_sdk_route53::Client,
    zone_id: &str,
    pacer: &WritePacer,
) -> Result<ZoneListing, Route53Error> {
    read_from(client, zone_id, pacer, None).await
}

/// Reads the subtree of `root` (`S.Z` and every name under it: a service's names, its
/// tasks' names, its whole sets and its trees' branches), starting the listing at `root`
/// and stopping where the subtree ends, so the cost follows the service, not the zone.
pub async fn read_subtree(
    client: &aws_sdk_route53::Client,
    zone_id: &str,
    pacer: &WritePacer,
    root: &str,
) -> Result<ZoneListing, Route53Error> {
    read_from(client, zone_id, pacer, Some(root)).await
}

async fn read_from(
    client: &aws_sdk_route53::Client,
    zone_id: &str,
    pacer: &WritePacer,
    root: Option<&str>,
) -> Result<ZoneListing, Route53Error> {
    let mut listing = ZoneListing::default();
    let mut next: Option<(String, RrType, Option<String>)> = None;
    let mut seen_starts = BTreeSet::new();
    for _ in 0..MAX_PAGES {
        let mut request = client.list_resource_record_sets().hosted_zone_id(zone_id);
        if let (Some(root), None) = (root, &next) {
            request = request.start_record_name(root);
        }
        if let Some((name, kind, identifier)) = &next {
            let start = format!(
                "{name} {} {}",
                kind.as_str(),
                identifier.as_deref().unwrap_or("")
            );
            if !seen_starts.insert(start.clone()) {
                return Err(Route53Error::PagingLoop {
                    zone_id: zone_id.to_owned(),
                    start,
                });
            }
            request = request
                .start_record_name(name)
                .start_record_type(kind.clone())
                .set_start_record_identifier(identifier.clone());
        }
        pacer.ready().await;
        let page = request
            .send()
            .await
            .map_err(|e| Route53Error::from_sdk("ListResourceRecordSets", zone_id, e))?;
        let mut past = false;
        for listed in page.resource_record_sets() {
            let order = root.map_or(SubtreeOrder::Inside, |root| {
                subtree_order(listed.name(), root)
            });
            match order {
                SubtreeOrder::Past => {
                    past = true;
                    break;
                }
                SubtreeOrder::Beside => continue,
                SubtreeOrder::Inside => {}
            }
            match owned_candidate(listed) {
                Some(set) => listing.sets.push(set),
                None => listing.others.push(foreign_record(listed)),
            }
        }
        if past || !page.is_truncated() {
            return Ok(listing);
        }
        next = match (page.next_record_name(), page.next_record_type()) {
            (Some(name), Some(kind)) => Some((
                name.to_owned(),
                kind.clone(),
                page.next_record_identifier().map(str::to_owned),
            )),
            _ => {
                return Err(Route53Error::Malformed {
                    operation: "ListResourceRecordSets",
                    zone_id: zone_id.to_owned(),
                    problem: "a truncated page without NextRecordName and NextRecordType"
                        .to_owned(),
                })
            }
        };
    }
    Err(Route53Error::Malformed {
        operation: "ListResourceRecordSets",
        zone_id: zone_id.to_owned(),
        problem: format!("more than {MAX_PAGES} pages"),
    })
}

/// Sends one ChangeBatch and returns Route 53's change id.
pub async fn send_batch(
    client: &aws_sdk_route53::Client,
    zone_id: &str,
    changes: &[Change],
    comment: &str,
) -> Result<String, Route53Error> {
    let sdk_changes = changes
        .iter()
        .map(|change| to_sdk_change(change, zone_id))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|problem| Route53Error::Malformed {
            operation: "ChangeResourceRecordSets",
            zone_id: zone_id.to_owned(),
            problem,
        })?;
    let batch = sdk::ChangeBatch::builder()
        .comment(comment)
        .set_changes(Some(sdk_changes))
        .build()
        .map_err(|e| Route53Error::Malformed {
            operation: "ChangeResourceRecordSets",
            zone_id: zone_id.to_owned(),
            problem: e.to_string(),
        })?;
    let output = client
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(batch)
        .send()
        .await
        .map_err(|e| Route53Error::from_sdk("ChangeResourceRecordSets", zone_id, e))?;
    Ok(output
        .change_info()
        .map(|info| info.id().to_owned())
        .unwrap_or_default())
}

/// Builds the SDK's form of a change to zone `zone_id` (an alias names its own zone).
pub fn to_sdk_change(change: &Change, zone_id: &str) -> Result<sdk::Change, String> {
    let action = match change {
        Change::Create(_) => ChangeAction::Create,
        Change::Delete(_) => ChangeAction::Delete,
    };
    let set = change.record_set();
    let records = set
        .values
        .iter()
        .map(|value| sdk::ResourceRecord::builder().value(value).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let mut builder =
        sdk::ResourceRecordSet::builder()
            .name(&set.name)
            .r#type(match set.record_type {
                RecordType::A => RrType::A,
                RecordType::Aaaa => RrType::Aaaa,
                RecordType::Srv => RrType::Srv,
            });
    builder = match &set.alias {
        None => builder
            .ttl(i64::from(set.ttl))
            .set_resource_records(Some(records)),
        // A branch answers with its own sets; their health is not checked (ecs-srv writes
        // no health checks), so the alias never skips a branch for it.
        Some(target) => builder.alias_target(
            sdk::AliasTarget::builder()
                .hosted_zone_id(zone_id.trim_start_matches("/hostedzone/"))
                .dns_name(target)
                .evaluate_target_health(false)
                .build()
                .map_err(|e| e.to_string())?,
        ),
    };
    builder = match &set.routing {
        Routing::Simple => builder,
        Routing::Weighted {
            set_identifier,
            weight,
        } => builder
            .set_identifier(set_identifier)
            .weight(i64::from(*weight)),
        Routing::Multivalue { set_identifier } => builder
            .set_identifier(set_identifier)
            .multi_value_answer(true),
    };
    let record_set = builder.build().map_err(|e| e.to_string())?;
    sdk::Change::builder()
        .action(action)
        .resource_record_set(record_set)
        .build()
        .map_err(|e| e.to_string())
}

/// An A, AAAA or SRV set with plain values and simple, weighted or multivalue routing, or a
/// weighted alias to another name: the only shapes ecs-srv ever writes, so the only shapes
/// that can be ours.
pub fn owned_candidate(listed: &sdk::ResourceRecordSet) -> Option<RecordSet> {
    let record_type = match listed.r#type() {
        RrType::A => RecordType::A,
        RrType::Aaaa => RecordType::Aaaa,
        RrType::Srv => RecordType::Srv,
        _ => return None,
    };
    let exotic = listed.region().is_some()
        || listed.failover().is_some()
        || listed.geo_location().is_some()
        || listed.health_check_id().is_some()
        || listed.traffic_policy_instance_id().is_some()
        || listed.cidr_routing_config().is_some()
        || listed.geo_proximity_location().is_some();
    if exotic {
        return None;
    }
    let routing = match (
        listed.set_identifier(),
        listed.weight(),
        listed.multi_value_answer(),
    ) {
        (None, None, None) => Routing::Simple,
        (Some(id), Some(weight), None) => Routing::Weighted {
            set_identifier: id.to_owned(),
            weight: u8::try_from(weight).ok()?,
        },
        (Some(id), None, Some(true)) => Routing::Multivalue {
            set_identifier: id.to_owned(),
        },
        _ => return None,
    };
    if let Some(alias) = listed.alias_target() {
        let Routing::Weighted { .. } = routing else {
            return None;
        };
        let mut target = alias.dns_name().to_ascii_lowercase();
        if !target.ends_with('.') {
            target.push('.');
        }
        return Some(RecordSet {
            name: listed.name().to_ascii_lowercase(),
            record_type,
            routing,
            ttl: 0,
            values: Vec::new(),
            alias: Some(target),
        });
    }
    let mut values: Vec<String> = listed
        .resource_records()
        .iter()
        .map(|r| r.value().to_owned())
        .collect();
    values.sort();
    Some(RecordSet {
        name: listed.name().to_ascii_lowercase(),
        record_type,
        routing,
        ttl: u32::try_from(listed.ttl()?).ok()?,
        values,
        alias: None,
    })
}

fn foreign_record(listed: &sdk::ResourceRecordSet) -> ForeignRecord {
    let policy = match (
        listed.set_identifier(),
        listed.weight(),
        listed.multi_value_answer(),
    ) {
        (None, _, _) => ForeignPolicy::Simple,
        (Some(_), Some(_), _) => ForeignPolicy::Weighted,
        (Some(_), None, Some(true)) => ForeignPolicy::Multivalue,
        _ => ForeignPolicy::Other,
    };
    ForeignRecord {
        name: listed.name().to_ascii_lowercase(),
        record_type: listed.r#type().as_str().to_owned(),
        set_identifier: listed.set_identifier().map(str::to_owned),
        policy,
        ttl: listed.ttl().and_then(|ttl| u32::try_from(ttl).ok()),
    }
}
