//! Reading a test zone back, as plain tuples that compare with `==`.

use std::collections::BTreeSet;

use aws_sdk_route53::types::{ResourceRecordSet, RrType};
use ecs_srv::aws::AwsClients;

/// A listed record set: `(name, type, SetIdentifier, sorted values)`.
pub type ListedRecord = (String, String, Option<String>, Vec<String>);

/// A set's values, sorted, as Route 53 holds them in no particular order.
pub fn sorted_values(set: &ResourceRecordSet) -> Vec<String> {
    let mut values: Vec<String> = set
        .resource_records()
        .iter()
        .map(|r| r.value().to_owned())
        .collect();
    values.sort();
    values
}

/// The listed records whose SetIdentifier carries the default owner tag.
pub fn owned_records(records: &[ListedRecord]) -> impl Iterator<Item = &ListedRecord> {
    records
        .iter()
        .filter(|r| r.2.as_deref().is_some_and(|id| id.starts_with("ecs-srv:")))
}

fn listed(set: &ResourceRecordSet) -> ListedRecord {
    let values = sorted_values(set);
    (
        set.name().to_owned(),
        set.r#type().as_str().to_owned(),
        set.set_identifier().map(str::to_owned),
        values,
    )
}

/// Every record set of a zone that fits in one page, sorted.
pub async fn zone_records(clients: &AwsClients, zone_id: &str) -> Vec<ListedRecord> {
    let page = clients
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .send()
        .await
        .expect("ListResourceRecordSets");
    assert!(
        !page.is_truncated(),
        "test zones stay within one page (moto cannot page weighted sets)"
    );
    let mut records: Vec<ListedRecord> = page.resource_record_sets().iter().map(listed).collect();
    records.sort();
    records
}

/// Every record set of a zone over all pages, deduplicated (moto restarts a page at the
/// start of a name it cannot resume inside, so sets can repeat across pages).
pub async fn zone_records_paged(clients: &AwsClients, zone_id: &str) -> Vec<ListedRecord> {
    let mut records = BTreeSet::new();
    let mut start: Option<(String, RrType)> = None;
    for _ in 0..100 {
        let mut request = clients
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(zone_id);
        if let Some((name, kind)) = &start {
            request = request
                .start_record_name(name)
                .start_record_type(kind.clone());
        }
        let page = request.send().await.expect("ListResourceRecordSets");
        records.extend(page.resource_record_sets().iter().map(listed));
        match (
            page.is_truncated(),
            page.next_record_name(),
            page.next_record_type(),
        ) {
            (true, Some(name), Some(kind)) => start = Some((name.to_owned(), kind.clone())),
            _ => return records.into_iter().collect(),
        }
    }
    panic!("the zone did not finish paging in 100 pages")
}
