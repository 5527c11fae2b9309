//! The strict Route 53 model's own tests: each rule refuses what Route 53 refuses, the
//! compare-and-swap it allows goes through, batches are all or nothing, listings page the
//! way Route 53 pages, and injected faults are retried by the real SDK client.

use std::sync::{Arc, Mutex};

use crate::support::strict_zone::{
    batch, change, route53_client, Fault, FaultPlan, Outcome, StrictZone,
};
use aws_sdk_route53::error::ProvideErrorMetadata;
use aws_sdk_route53::types::{Change, ChangeAction, ResourceRecord, ResourceRecordSet, RrType};

const ZONE_ID: &str = "ZMODEL1";
const APEX: &str = "model.internal.";

fn zone() -> Arc<Mutex<StrictZone>> {
    StrictZone::new(ZONE_ID, APEX).shared()
}

fn set(
    name: &str,
    kind: RrType,
    id: Option<&str>,
    weight: Option<i64>,
    ttl: i64,
    values: &[&str],
) -> ResourceRecordSet {
    let records = values
        .iter()
        .map(|v| ResourceRecord::builder().value(*v).build().unwrap())
        .collect();
    ResourceRecordSet::builder()
        .name(format!("{name}.{APEX}"))
        .r#type(kind)
        .set_set_identifier(id.map(str::to_owned))
        .set_weight(weight)
        .ttl(ttl)
        .set_resource_records(Some(records))
        .build()
        .unwrap()
}

fn weighted(name: &str, id: &str, weight: i64, value: &str) -> ResourceRecordSet {
    set(name, RrType::A, Some(id), Some(weight), 10, &[value])
}

fn create(set: ResourceRecordSet) -> Change {
    change(ChangeAction::Create, set)
}

fn delete(set: ResourceRecordSet) -> Change {
    change(ChangeAction::Delete, set)
}

fn upsert(set: ResourceRecordSet) -> Change {
    change(ChangeAction::Upsert, set)
}

/// Sends through the real SDK client; a refusal comes back as (code, message).
async fn send(
    model: &Arc<Mutex<StrictZone>>,
    changes: Vec<Change>,
) -> Result<(), (String, String)> {
    let client = route53_client(Arc::clone(model));
    client
        .change_resource_record_sets()
        .hosted_zone_id(ZONE_ID)
        .change_batch(batch(changes))
        .send()
        .await
        .map(|_| ())
        .map_err(|err| {
            let service = err.into_service_error();
            (
                service.code().unwrap_or("?").to_owned(),
                service.message().unwrap_or("").to_owned(),
            )
        })
}

async fn refused(model: &Arc<Mutex<StrictZone>>, changes: Vec<Change>, fragment: &str) {
    let before = model.lock().unwrap().record_sets();
    let (code, message) = send(model, changes)
        .await
        .expect_err("Route 53 refuses this batch");
    assert_eq!(code, "InvalidChangeBatch", "{message}");
    assert!(
        message.contains(fragment),
        "expected {fragment:?} in {message:?}"
    );
    assert_eq!(
        model.lock().unwrap().record_sets(),
        before,
        "a refused batch changes nothing"
    );
}

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
async fn routing_policies_never_mix_on_one_name_and_type() {
    let model = zone();
    send(
        &model,
        vec![create(set("db", RrType::A, None, None, 60, &["10.0.0.5"]))],
    )
    .await
    .unwrap();
    refused(
        &model,
        vec![create(weighted("db", "a", 1, "10.0.0.6"))],
        "non-routed (simple) set",
    )
    .await;
    send(&model, vec![create(weighted("web", "a", 1, "10.0.0.1"))])
        .await
        .unwrap();
    refused(
        &model,
        vec![create(set("web", RrType::A, None, None, 60, &["10.0.0.2"]))],
        "weighted set",
    )
    .await;
    let multivalue = ResourceRecordSet::builder()
        .name(format!("web.{APEX}"))
        .r#type(RrType::A)
        .set_identifier("m")
        .multi_value_answer(true)
        .ttl(10)
        .resource_records(ResourceRecord::builder().value("10.0.0.3").build().unwrap())
        .build()
        .unwrap();
    refused(&model, vec![create(multivalue)], "weighted set").await;
    send(
        &model,
        vec![create(set(
            "web",
            RrType::Srv,
            None,
            None,
            60,
            &["1 1 80 web.model.internal."],
        ))],
    )
    .await
    .expect("another type of the same name is separate");
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
async fn at_most_one_hundred_weighted_sets_per_name_and_type() {
    let model = zone();
    let hundred: Vec<Change> = (0..100)
        .map(|i| create(weighted("web", &format!("t{i}"), 1, "10.0.0.1")))
        .collect();
    send(&model, hundred)
        .await
        .expect("100 weighted sets are allowed");
    refused(
        &model,
        vec![create(weighted("web", "t100", 1, "10.0.0.1"))],
        "would have 101 weighted record sets",
    )
    .await;
    send(
        &model,
        vec![
            delete(weighted("web", "t0", 1, "10.0.0.1")),
            create(weighted("web", "t100", 1, "10.0.0.1")),
        ],
    )
    .await
    .expect("a swap at the limit stays at 100");
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

#[tokio::test]
async fn values_names_and_identifiers_are_checked() {
    let model = zone();
    refused(
        &model,
        vec![create(set(
            "web",
            RrType::A,
            None,
            None,
            60,
            &["10.0.0.256"],
        ))],
        "ARRDATAIllegalIPv4Address",
    )
    .await;
    refused(
        &model,
        vec![create(set(
            "web",
            RrType::Srv,
            None,
            None,
            60,
            &["1 1 http web."],
        ))],
        "SRVRDATA",
    )
    .await;
    let outside = ResourceRecordSet::builder()
        .name("web.example.com.")
        .r#type(RrType::A)
        .ttl(1)
        .resource_records(ResourceRecord::builder().value("10.0.0.1").build().unwrap())
        .build()
        .unwrap();
    refused(
        &model,
        vec![create(outside)],
        "is not permitted in zone model.internal.",
    )
    .await;
    refused(
        &model,
        vec![create(set(
            &"x".repeat(64),
            RrType::A,
            None,
            None,
            60,
            &["10.0.0.1"],
        ))],
        "DomainLabelTooLong",
    )
    .await;
    let long_id = "i".repeat(129);
    let (code, _) = send(
        &model,
        vec![create(weighted("web", &long_id, 1, "10.0.0.1"))],
    )
    .await
    .unwrap_err();
    assert_eq!(code, "InvalidInput");
}

#[tokio::test]
async fn listings_page_in_route53_order_with_all_three_next_fields() {
    let model = zone();
    model.lock().unwrap().page_size = 2;
    let naming = crate::support::naming(APEX);
    let mut sets: Vec<ResourceRecordSet> = (0..5)
        .map(|i| weighted("web", &format!("w{i}"), 1, "10.0.0.1"))
        .collect();
    sets.push(set("a.web", RrType::A, None, None, 60, &["10.0.0.2"]));
    sets.push(set("zz", RrType::A, None, None, 60, &["10.0.0.3"]));
    sets.push(set(
        "web",
        RrType::Srv,
        None,
        None,
        60,
        &["1 1 80 a.web.model.internal."],
    ));
    model.lock().unwrap().seed(sets.clone());
    let client = route53_client(Arc::clone(&model));
    let pacer = ecs_srv::aws::route53::pacing::WritePacer::per_second(100.0);
    let listing = ecs_srv::aws::route53::read_zone(&client, ZONE_ID, &pacer)
        .await
        .expect("the crate's reader follows the pages");
    let snapshot = ecs_srv::plan::zone::ZoneSnapshot::from_listing(&naming, listing);
    assert_eq!(
        snapshot.foreign.len(),
        sets.len(),
        "every set once: {:?}",
        snapshot.foreign
    );
    let names: Vec<(String, String)> = snapshot
        .foreign
        .iter()
        .map(|f| (f.name.clone(), f.set_identifier.clone().unwrap_or_default()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("web", "w0"),
        ("web", "w1"),
        ("web", "w2"),
        ("web", "w3"),
        ("web", "w4"),
        ("web", ""),
        ("a.web", ""),
        ("zz", ""),
    ]
    .iter()
    .map(|(n, id)| (format!("{n}.{APEX}"), id.to_string()))
    .collect();
    assert_eq!(
        names, expected,
        "labels reversed, then type, then SetIdentifier"
    );
    let pages = model
        .lock()
        .unwrap()
        .calls_to("ListResourceRecordSets")
        .count();
    assert_eq!(pages, 4, "8 sets in pages of 2");
}

#[tokio::test]
async fn injected_faults_are_retried_by_the_sdk_and_the_change_lands_once() {
    for fault in [Fault::Throttling, Fault::PriorRequestNotComplete] {
        let model = zone();
        model.lock().unwrap().inject(FaultPlan {
            every: 2,
            fault,
            operations: vec!["ChangeResourceRecordSets"],
        });
        for i in 0..4 {
            send(
                &model,
                vec![create(weighted("web", &format!("t{i}"), 1, "10.0.0.1"))],
            )
            .await
            .expect("retried until it lands");
        }
        let zone = model.lock().unwrap();
        assert_eq!(zone.record_sets().len(), 4);
        let faulted = zone
            .calls
            .iter()
            .filter(|c| c.outcome == Outcome::Faulted(fault))
            .count();
        assert_eq!(
            zone.accepted_batches().len(),
            4,
            "each batch applied exactly once"
        );
        assert_eq!(
            faulted, 3,
            "every second call failed with {fault:?}: calls 2, 4 and 6 of 7"
        );
    }
}

#[tokio::test]
async fn a_weighted_group_shares_one_ttl_and_holds_one_value_a_set() {
    let model = zone();
    let canary = set("web", RrType::A, Some("canary"), Some(3), 30, &["10.0.0.6"]);
    send(&model, vec![create(canary)]).await.unwrap();
    send(&model, vec![create(weighted("web", "a", 1, "10.0.0.1"))])
        .await
        .expect("another TTL is accepted, and rewrites the group");
    let ttls: Vec<Option<i64>> = model
        .lock()
        .unwrap()
        .record_sets()
        .iter()
        .map(ResourceRecordSet::ttl)
        .collect();
    assert_eq!(
        ttls,
        vec![Some(10), Some(10)],
        "the canary now has the TTL written last"
    );
    refused(
        &model,
        vec![create(set(
            "api",
            RrType::A,
            Some("a"),
            Some(1),
            10,
            &["10.0.0.1", "10.0.0.2"],
        ))],
        "a weighted set holds one",
    )
    .await;
}
