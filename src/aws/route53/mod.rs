//! The Route 53 edge: read the zone, send ChangeBatches. Nothing here decides anything.
//!
//! Throttling and `PriorRequestNotComplete` are retried by the SDK's standard retry mode
//! (jittered exponential backoff, see `aws::clients`); what reaches the caller is final.

pub mod convert;
pub(crate) mod error;
pub mod pacing;

use std::collections::BTreeSet;

use aws_sdk_route53::types::{self as sdk, RrType};

pub use convert::to_sdk_change;
pub use error::Route53Error;

use crate::aws::route53::pacing::WritePacer;
use crate::plan::naming::{subtree_order, SubtreeOrder};
use crate::plan::records::Change;
use crate::plan::zone::ZoneListing;

/// Upper bound on pages read from one zone (300 sets a page): far above any zone the
/// 10,000-set default quota allows, yet a bound on a server that never stops paging.
const MAX_PAGES: usize = 1_000;

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

/// Where the next page starts: NextRecordName, NextRecordType, NextRecordIdentifier.
type PageStart = (String, RrType, Option<String>);

async fn read_from(
    client: &aws_sdk_route53::Client,
    zone_id: &str,
    pacer: &WritePacer,
    root: Option<&str>,
) -> Result<ZoneListing, Route53Error> {
    let mut listing = ZoneListing::default();
    let mut next: Option<PageStart> = None;
    let mut seen_starts = BTreeSet::new();
    for _ in 0..MAX_PAGES {
        let mut request = client.list_resource_record_sets().hosted_zone_id(zone_id);
        request = match &next {
            None => request.set_start_record_name(root.map(str::to_owned)),
            Some((name, kind, identifier)) => {
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
                request
                    .start_record_name(name)
                    .start_record_type(kind.clone())
                    .set_start_record_identifier(identifier.clone())
            }
        };
        pacer.ready().await;
        let page = request
            .send()
            .await
            .map_err(|e| Route53Error::from_sdk("ListResourceRecordSets", zone_id, e))?;
        let past = take_page(page.resource_record_sets(), root, &mut listing);
        if past || !page.is_truncated() {
            return Ok(listing);
        }
        next = Some(next_start(&page, zone_id)?);
    }
    Err(malformed_listing(
        zone_id,
        format!("more than {MAX_PAGES} pages"),
    ))
}

/// Adds a page's sets that lie in `root`'s subtree (every set without a root); returns
/// whether the page went past the subtree.
fn take_page(
    sets: &[sdk::ResourceRecordSet],
    root: Option<&str>,
    listing: &mut ZoneListing,
) -> bool {
    for listed in sets {
        match root.map_or(SubtreeOrder::Inside, |root| {
            subtree_order(listed.name(), root)
        }) {
            SubtreeOrder::Past => return true,
            SubtreeOrder::Beside => continue,
            SubtreeOrder::Inside => match convert::listed_set(listed) {
                Ok(set) => listing.sets.push(set),
                Err(other) => listing.others.push(other),
            },
        }
    }
    false
}

fn next_start(
    page: &aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsOutput,
    zone_id: &str,
) -> Result<PageStart, Route53Error> {
    match (page.next_record_name(), page.next_record_type()) {
        (Some(name), Some(kind)) => Ok((
            name.to_owned(),
            kind.clone(),
            page.next_record_identifier().map(str::to_owned),
        )),
        _ => Err(malformed_listing(
            zone_id,
            "a truncated page without NextRecordName and NextRecordType".to_owned(),
        )),
    }
}

fn malformed_listing(zone_id: &str, problem: String) -> Route53Error {
    Route53Error::Malformed {
        operation: "ListResourceRecordSets",
        zone_id: zone_id.to_owned(),
        problem,
    }
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
