//! Reading a test zone back, as plain tuples that compare with `==`.

use ecs_srv::aws::AwsClients;

/// Every record set of a zone, as `(name, type, set identifier, values)`, sorted.
pub async fn zone_records(
    clients: &AwsClients,
    zone_id: &str,
) -> Vec<(String, String, Option<String>, Vec<String>)> {
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
    let mut records: Vec<_> = page
        .resource_record_sets()
        .iter()
        .map(|set| {
            let mut values: Vec<String> = set
                .resource_records()
                .iter()
                .map(|r| r.value().to_owned())
                .collect();
            values.sort();
            (
                set.name().to_owned(),
                set.r#type().as_str().to_owned(),
                set.set_identifier().map(str::to_owned),
                values,
            )
        })
        .collect();
    records.sort();
    records
}

/// Every record set of a zone over all pages, deduplicated (moto restarts a page at the
/// start of a name it cannot resume inside, so sets can repeat across pages).
pub async fn zone_records_paged(
    clients: &AwsClients,
    zone_id: &str,
) -> Vec<(String, String, Option<String>, Vec<String>)> {
    let mut records = std::collections::BTreeSet::new();
    let mut start: Option<(String, aws_sdk_route53::types::RrType)> = None;
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
        for set in page.resource_record_sets() {
            let mut values: Vec<String> = set
                .resource_records()
                .iter()
                .map(|r| r.value().to_owned())
                .collect();
            values.sort();
            records.insert((
                set.name().to_owned(),
                set.r#type().as_str().to_owned(),
                set.set_identifier().map(str::to_owned),
                values,
            ));
        }
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
