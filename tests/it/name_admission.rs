//! Who may join a name, through the publisher and the strict Route 53 model, graded by the
//! tests' own layout: one-off tasks keep out of a service's names, one cluster per name
//! unless the cluster is in the names, and one deployment per task, each deployment's sets
//! exactly its own documented layout beside the other's.

use crate::simulated::layout::render::render;
use crate::simulated::layout::{check_zone, Era, Layout};
use crate::simulated::tasks::{simple_task, Mode, TaskSpec};
use crate::simulated::{
    account_with_hosts, config_with, empty_zone, failures, inputs, owned_names, publisher_with,
    running_events, world,
};
use ecs_srv::run::events::process;

/// A one-off task (`family:` group) beside a service's task of the same label keeps to its
/// own name, in any order of the batch; a one-off task whose label no service holds takes
/// every name, with the one-off kinds.
#[tokio::test]
async fn a_one_off_task_never_joins_the_name_a_service_holds() {
    let (zone, account, publisher) = world(2, &[]).await;
    let service_task = simple_task(1, Mode::Bridge, "web", 0);
    let mut one_off = simple_task(2, Mode::Bridge, "web", 1);
    one_off.one_off = true;
    let mut loner = simple_task(3, Mode::Awsvpc, "migrate", 0);
    loner.one_off = true;
    let mut events = running_events(&account, &[&service_task, &one_off, &loner]);
    // The one-off comes first in the batch: order must not matter.
    events.swap(0, 1);
    let report = process(&publisher, inputs(events)).await;
    assert!(failures(&report).is_empty(), "{report:#?}");
    let layout = Layout::of(&publisher.settings);
    let listed = zone.lock().unwrap().record_sets();
    check_zone(&layout, &listed, &[], &[&service_task, &one_off, &loner])
        .unwrap_or_else(|e| panic!("{e}"));
    let names = owned_names(&zone, &publisher);
    assert_eq!(
        names
            .iter()
            .filter(|n| n.contains(&one_off.task_id))
            .count(),
        1,
        "{names:?}"
    );
}

/// A name that holds one cluster's tasks refuses another cluster's, naming both and the
/// setting that lets them share the zone; with the cluster in the names, both publish.
#[tokio::test]
async fn a_name_that_holds_one_clusters_tasks_refuses_another_clusters() {
    let mut prod = simple_task(1, Mode::Bridge, "web", 0);
    prod.cluster = "prod".to_owned();
    let mut staging = simple_task(2, Mode::Bridge, "web", 1);
    staging.cluster = "staging".to_owned();

    let (zone, account, publisher) = world(2, &[]).await;
    let report = process(
        &publisher,
        inputs(running_events(&account, &[&prod, &staging])),
    )
    .await;
    let failed = failures(&report);
    assert_eq!(failed.len(), 1, "{report:#?}");
    let (message, retryable) = &failed[0];
    for part in ["cluster/prod", "cluster/staging", "CLUSTER_IN_NAMES=on"] {
        assert!(message.contains(part), "{part} is named: {message}");
    }
    assert!(
        retryable,
        "the name frees up when the other cluster's tasks stop"
    );
    let layout = Layout::of(&publisher.settings);
    check_zone(&layout, &zone.lock().unwrap().record_sets(), &[], &[&prod])
        .unwrap_or_else(|e| panic!("only the first cluster's task: {e}"));

    let flags = ["--cluster-in-names", "on"];
    let (zone, account, publisher) = world(2, &flags).await;
    let report = process(
        &publisher,
        inputs(running_events(&account, &[&prod, &staging])),
    )
    .await;
    assert!(failures(&report).is_empty(), "{report:#?}");
    let layout = Layout::of(&publisher.settings);
    check_zone(
        &layout,
        &zone.lock().unwrap().record_sets(),
        &[],
        &[&prod, &staging],
    )
    .unwrap_or_else(|e| panic!("web.prod and web.staging side by side: {e}"));
}

/// Two deployments (RECORD_OWNER blue and green) share a zone: each holds exactly its own
/// documented layout beside the other's, their reconciles touch nothing of each other's,
/// and a task both claim is refused to the second, naming the first.
#[tokio::test]
async fn two_deployments_on_one_zone_keep_apart_and_never_publish_a_task_twice() {
    let zone = empty_zone();
    let account = account_with_hosts(2);
    // Whole SRV sets on: they carry no mark of their own, and must stay their owner's too.
    let flags = |owner: &'static str| ["--record-owner", owner, "--srv-sets", "on"];
    let blue = publisher_with(config_with(&flags("blue")), &zone, &account).await;
    let green = publisher_with(config_with(&flags("green")), &zone, &account).await;
    let blue_task = simple_task(1, Mode::Bridge, "web", 0);
    let green_task = simple_task(2, Mode::Bridge, "api", 1);
    let blue_events = running_events(&account, &[&blue_task]);
    let green_events = running_events(&account, &[&green_task]);
    assert!(failures(&process(&blue, inputs(blue_events.clone())).await).is_empty());
    assert!(failures(&process(&green, inputs(green_events)).await).is_empty());
    let check = |who: &'static str| {
        let (mine, theirs): (&[&TaskSpec], &[&TaskSpec]) = match who {
            "blue" => (&[&blue_task], &[&green_task]),
            _ => (&[&green_task], &[&blue_task]),
        };
        let other = if who == "blue" { "green" } else { "blue" };
        let layout = Layout::of(&config_with(&flags(who)));
        let beside = render(&Layout::of(&config_with(&flags(other))), theirs, Era::Today);
        check_zone(&layout, &zone.lock().unwrap().record_sets(), &beside, mine)
            .unwrap_or_else(|e| panic!("{who}: {e}"));
    };
    check("blue");
    check("green");

    // Each reconciles: neither withdraws or rewrites what the other wrote.
    for publisher in [&blue, &green] {
        let report =
            ecs_srv::run::reconcile::reconcile(publisher, ecs_srv::run::deployment::Mode::Write)
                .await
                .unwrap();
        assert!(report.changes.is_empty(), "{:?}", report.changes);
    }

    // Green also claims blue's task (an overlapping setup): refused, reported, not doubled.
    let report = process(&green, inputs(blue_events)).await;
    let failed = failures(&report);
    assert_eq!(failed.len(), 1, "{report:#?}");
    assert!(
        failed[0].0.contains("RECORD_OWNER blue") && !failed[0].1,
        "the overlap is named and permanent: {failed:?}"
    );
    check("blue");
    check("green");
}
