//! A batch as a whole: all or nothing, DELETEs that match exactly, CREATEs of new sets
//! only, one action per set, Route 53's request limits, an empty batch, an unknown zone,
//! and the zone's record set quota.

use aws_sdk_route53::error::ProvideErrorMetadata;
use aws_sdk_route53::types::{Change, RrType};

use super::{
    accepted, create, delete, refused, refused_as, send, send_to, set, simple, upsert, weighted,
    zone, APEX, ZONE_ID,
};
use crate::support::strict_zone::route53_client;

#[tokio::test]
async fn a_delete_must_match_the_held_set_exactly() {
    let model = zone();
    send(&model, vec![create(weighted("web", "a", 5, "10.0.0.1"))])
        .await
        .unwrap();
    let not_found = "but it was not found";
    let mismatch = "do not match the current values";
    refused(
        &model,
        vec![delete(weighted("web", "b", 5, "10.0.0.1"))],
        not_found,
    )
    .await;
    refused(
        &model,
        vec![delete(set(
            "web",
            RrType::Srv,
            Some("a"),
            Some(5),
            10,
            &["1 1 80 x."],
        ))],
        not_found,
    )
    .await;
    refused(
        &model,
        vec![delete(weighted("web", "a", 6, "10.0.0.1"))],
        mismatch,
    )
    .await;
    refused(
        &model,
        vec![delete(weighted("web", "a", 5, "10.0.0.2"))],
        mismatch,
    )
    .await;
    refused(
        &model,
        vec![delete(set(
            "web",
            RrType::A,
            Some("a"),
            Some(5),
            60,
            &["10.0.0.1"],
        ))],
        mismatch,
    )
    .await;
    send(&model, vec![delete(weighted("WEB", "a", 5, "10.0.0.1"))])
        .await
        .expect("names compare without case");
    assert!(model.lock().unwrap().record_sets().is_empty());
}

#[tokio::test]
async fn a_create_of_an_existing_set_fails_but_a_swap_goes_through() {
    let model = zone();
    send(&model, vec![create(weighted("web", "a", 5, "10.0.0.1"))])
        .await
        .unwrap();
    refused(
        &model,
        vec![create(weighted("web", "a", 7, "10.0.0.9"))],
        "but it already exists",
    )
    .await;
    send(
        &model,
        vec![
            delete(weighted("web", "a", 5, "10.0.0.1")),
            create(weighted("web", "a", 7, "10.0.0.9")),
        ],
    )
    .await
    .expect("DELETE then CREATE of one set is a compare-and-swap");
    assert_eq!(
        model.lock().unwrap().record_sets(),
        vec![weighted("web", "a", 7, "10.0.0.9")]
    );
}

#[tokio::test]
async fn one_set_never_takes_the_same_action_twice_in_a_batch() {
    let model = zone();
    send(&model, vec![create(weighted("web", "a", 5, "10.0.0.1"))])
        .await
        .unwrap();
    let twice = "invalid set of changes for a resource record set 'A web.model.internal.'";
    refused(
        &model,
        vec![
            delete(weighted("web", "a", 5, "10.0.0.1")),
            delete(weighted("web", "a", 5, "10.0.0.1")),
        ],
        twice,
    )
    .await;
    refused(
        &model,
        vec![
            create(weighted("web", "b", 5, "10.0.0.2")),
            create(weighted("web", "b", 5, "10.0.0.2")),
        ],
        twice,
    )
    .await;
}

#[tokio::test]
async fn batch_limits_count_changes_values_and_characters_with_upserts_twice() {
    let model = zone();
    let many: Vec<Change> = (0..101)
        .map(|i| create(weighted(&format!("n{i}"), "a", 1, "10.0.0.1")))
        .collect();
    send(&model, many)
        .await
        .expect("no cap on changes: the 100 of the 2012 API guide is gone");
    let too_many: Vec<Change> = (0..1_001)
        .map(|i| create(weighted(&format!("m{i}"), "a", 1, "10.0.0.1")))
        .collect();
    refused(
        &model,
        too_many,
        "Number of records limit of 1000 exceeded (1001 records)",
    )
    .await;
    let values: Vec<String> = (0..250)
        .map(|i| format!("10.0.{}.{}", i / 250, i % 250))
        .collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    let big = |name: &str| set(name, RrType::A, None, None, 60, &refs);
    send(
        &model,
        (0..4).map(|i| create(big(&format!("big{i}")))).collect(),
    )
    .await
    .expect("1,000 values fit");
    let upserts: Vec<Change> = (4..6)
        .map(|i| upsert(big(&format!("big{i}"))))
        .chain([upsert(set("one", RrType::A, None, None, 60, &["10.0.0.1"]))])
        .collect();
    refused(
        &model,
        upserts,
        "Number of records limit of 1000 exceeded (1002 records)",
    )
    .await;
    let long_target = format!("{}.", "t".repeat(60));
    let srv_value = format!("1 1 80 {long_target}{long_target}{long_target}{long_target}");
    let srv_values: Vec<&str> = vec![srv_value.as_str(); 1];
    let wide: Vec<Change> = (0..100)
        .map(|i| {
            create(set(
                &format!("_s{i}._tcp"),
                RrType::Srv,
                None,
                None,
                60,
                &srv_values,
            ))
        })
        .collect();
    let chars: usize = 100 * srv_value.len();
    assert!(chars > 23_000 && chars < 32_000, "{chars}");
    send(&model, wide.clone())
        .await
        .expect("under 32,000 characters");
    let doubled: Vec<Change> = (0..70)
        .map(|i| {
            upsert(set(
                &format!("_u{i}._tcp"),
                RrType::Srv,
                None,
                None,
                60,
                &srv_values,
            ))
        })
        .collect();
    refused(
        &model,
        doubled,
        "Number of characters limit of 32000 exceeded",
    )
    .await;
}

#[tokio::test]
async fn a_batch_applies_all_or_nothing() {
    let model = zone();
    send(&model, vec![create(weighted("web", "a", 1, "10.0.0.1"))])
        .await
        .unwrap();
    refused(
        &model,
        vec![
            create(weighted("web", "b", 1, "10.0.0.2")),
            create(weighted("api", "c", 1, "10.0.0.3")),
            delete(weighted("web", "a", 9, "10.0.0.1")),
        ],
        "do not match",
    )
    .await;
    assert_eq!(model.lock().unwrap().record_sets().len(), 1);
}

/// [BATCH] "Changes … Array Members: Minimum number of 1 item."
#[tokio::test]
async fn an_empty_batch_is_invalid_input() {
    let model = zone();
    refused_as(
        &model,
        Vec::new(),
        "InvalidInput",
        "Member must have length greater than or equal to 1",
    )
    .await;
}

/// [API] Errors: "NoSuchHostedZone: No hosted zone exists with the ID that you specified",
/// for a change, a listing and GetHostedZone alike.
#[tokio::test]
async fn an_unknown_zone_id_is_no_such_hosted_zone() {
    let model = zone();
    let (code, message) = send_to(
        &model,
        "ZELSEWHERE",
        vec![create(weighted("web", "a", 1, "10.0.0.1"))],
    )
    .await
    .expect_err("another zone is refused");
    assert_eq!(
        (code.as_str(), message.contains("ZELSEWHERE")),
        ("NoSuchHostedZone", true),
        "{message}"
    );
    accepted(
        &model,
        vec![create(weighted("web", "a", 1, "10.0.0.1"))],
        "the same batch to the model's own zone, with or without /hostedzone/",
    )
    .await;
    let client = route53_client(model.clone());
    let listed = client
        .list_resource_record_sets()
        .hosted_zone_id("/hostedzone/ZELSEWHERE")
        .send()
        .await
        .expect_err("a listing of another zone is refused");
    assert_eq!(listed.into_service_error().code(), Some("NoSuchHostedZone"));
    let got = client
        .get_hosted_zone()
        .id("ZELSEWHERE")
        .send()
        .await
        .expect_err("so is GetHostedZone");
    assert_eq!(got.into_service_error().code(), Some("NoSuchHostedZone"));
    assert_eq!(model.lock().unwrap().record_sets().len(), 1);
}

/// [QUOTAS] "Records: 10,000 per hosted zone", the zone's own SOA and NS included, set
/// lower here so that the test stays small: a batch that would pass it is refused, one
/// that keeps the count (a swap) or lowers it goes through.
#[tokio::test]
async fn the_zone_holds_at_most_its_record_set_quota() {
    let model = zone();
    model.lock().unwrap().max_record_sets = 12;
    let ten: Vec<Change> = (0..10)
        .map(|i| create(simple(&format!("n{i}"), RrType::A, &["10.0.0.1"])))
        .collect();
    accepted(&model, ten, "ten sets and the SOA and NS make twelve").await;
    refused(
        &model,
        vec![create(simple("n10", RrType::A, &["10.0.0.1"]))],
        "would hold 13 record sets; the limit is 12",
    )
    .await;
    accepted(
        &model,
        vec![
            delete(simple("n0", RrType::A, &["10.0.0.1"])),
            create(simple("n10", RrType::A, &["10.0.0.1"])),
        ],
        "a swap keeps the count",
    )
    .await;
    model.lock().unwrap().max_record_sets = 5;
    accepted(
        &model,
        vec![delete(simple("n1", RrType::A, &["10.0.0.1"]))],
        "a zone over a lowered quota can still shrink",
    )
    .await;
    let client = route53_client(model.clone());
    let held = client.get_hosted_zone().id(ZONE_ID).send().await.unwrap();
    assert_eq!(
        held.hosted_zone().map(|z| z.resource_record_set_count()),
        Some(Some(11)),
        "GetHostedZone counts the SOA and NS with the zone's sets in {APEX}"
    );
}
