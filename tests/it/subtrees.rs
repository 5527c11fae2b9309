//! An invocation reads only the subtrees of the services it touches: in a zone of
//! thousands of record sets, publishing or withdrawing one task reads one page, and the
//! neighbours whose names sort beside the service's (`web-x` before `web.`, `web0` after)
//! are neither read as the service's nor touched.

use aws_sdk_route53::types::RrType;

use crate::simulated::tasks::{simple_task, Mode};
use crate::simulated::{inputs, record_set, running_events, stopped_events, world, APEX};
use ecs_srv::run::events::process;

/// Foreign sets around the service `web`: many services' names, and the neighbours whose
/// names sort right around `web.Z` in Route 53's order.
fn crowded_zone() -> Vec<aws_sdk_route53::types::ResourceRecordSet> {
    let mut names: Vec<String> = (0..1_000)
        .flat_map(|service| (0..3).map(move |host| format!("h{host}.s{service:04}.{APEX}")))
        .collect();
    names.extend(
        ["web-x", "x.web-x", "web0", "x.web0", "we", "web2.web-x"]
            .iter()
            .map(|name| format!("{name}.{APEX}")),
    );
    names
        .iter()
        .map(|name| {
            record_set(name, RrType::A, 60, &["10.200.0.1"])
                .build()
                .expect("a set")
        })
        .collect()
}

#[tokio::test]
async fn one_event_reads_one_page_in_a_zone_of_3000_sets() {
    let (zone, account, publisher) = world(1, &["--srv-sets", "on"]).await;
    let seeded = crowded_zone();
    zone.lock().unwrap().seed(seeded.clone());
    let task = simple_task(1, Mode::Awsvpc, "web", 0);
    let lists =
        |zone: &std::sync::Arc<std::sync::Mutex<crate::support::strict_zone::StrictZone>>| {
            zone.lock()
                .unwrap()
                .calls_to("ListResourceRecordSets")
                .count()
        };

    let report = process(&publisher, inputs(running_events(&account, &[&task]))).await;
    assert!(!report.has_failures(), "{report:?}");
    assert_eq!(
        lists(&zone),
        1,
        "a publish reads the service's subtree: one page"
    );

    let report = process(&publisher, inputs(stopped_events(&account, &[&task]))).await;
    assert!(!report.has_failures(), "{report:?}");
    assert_eq!(lists(&zone), 2, "a withdrawal too");

    let mut left = zone.lock().unwrap().record_sets();
    let mut expected = seeded;
    let key = |s: &aws_sdk_route53::types::ResourceRecordSet| s.name().to_owned();
    left.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(
        left, expected,
        "the neighbours are untouched and nothing of web is left"
    );
}

#[tokio::test]
async fn a_service_beside_a_neighbour_that_sorts_inside_its_run_is_read_whole() {
    // `web-x.Z` sorts before `web.Z`; an emulator that drops the trailing dot lists it
    // between `web.Z` and `a.web.Z`. Either way the subtree read keeps reading past it.
    let (zone, account, publisher) = world(1, &["--srv-sets", "off"]).await;
    zone.lock().unwrap().seed(crowded_zone());
    let tasks: Vec<_> = (0..3)
        .map(|i| simple_task(i, Mode::Awsvpc, "web", 0))
        .collect();
    let refs: Vec<_> = tasks.iter().collect();
    let report = process(&publisher, inputs(running_events(&account, &refs))).await;
    assert!(!report.has_failures(), "{report:?}");
    let listing = ecs_srv::aws::route53::read_subtree(
        &publisher.clients.route53,
        crate::simulated::ZONE_ID,
        &publisher.pacer,
        &format!("web.{APEX}"),
    )
    .await
    .expect("the subtree reads");
    let names: std::collections::BTreeSet<String> =
        listing.sets.iter().map(|set| set.name.clone()).collect();
    assert!(
        names
            .iter()
            .all(|name| name == &format!("web.{APEX}") || name.ends_with(&format!(".web.{APEX}"))),
        "only web's names: {names:?}"
    );
    assert_eq!(listing.sets.len(), 3 * 3, "every set of the three tasks");
}
