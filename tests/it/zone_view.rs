//! The zone as the writer believes it stays true: a task that stops while its event is
//! written is withdrawn in the same invocation (the check after the write), and a warm
//! single writer's view (ZONE_CACHE_SECONDS) learns what a reconcile wrote, so that a stop
//! within the cache window still withdraws exactly what the zone holds.

use crate::simulated::layout::{check_zone, Layout};
use crate::simulated::tasks::{simple_task, Mode};
use crate::simulated::{failures, inputs, owned_names, running_events, world};
use ecs_srv::run::events::process;

#[tokio::test]
async fn a_task_that_stops_while_its_event_is_written_is_withdrawn_at_once() {
    let (zone, account, publisher) = world(2, &[]).await;
    let staying = simple_task(1, Mode::Bridge, "web", 0);
    let stopping = simple_task(2, Mode::Bridge, "web", 1);
    let events = running_events(&account, &[&staying, &stopping]);
    // The first DescribeTasks confirms both; by the second, after the write, one stopped
    // (its drain and stop events found nothing to withdraw yet).
    account
        .lock()
        .unwrap()
        .stops_at_describe
        .insert(stopping.task_arn(), 2);
    let report = process(&publisher, inputs(events)).await;
    assert!(failures(&report).is_empty(), "{report:#?}");
    assert_eq!(
        account.lock().unwrap().calls["DescribeTasks"],
        2,
        "one call confirms, one re-checks"
    );
    let published = owned_names(&zone, &publisher);
    assert!(
        published
            .iter()
            .all(|name| !name.contains(&stopping.task_id)),
        "the stopped task is not left in DNS: {published:?}"
    );
    assert!(published.iter().any(|name| name.contains(&staying.task_id)));
    let layout = Layout::of(&publisher.settings);
    check_zone(
        &layout,
        &zone.lock().unwrap().record_sets(),
        &[],
        &[&staying],
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn a_reconcile_keeps_the_single_writers_zone_view_true() {
    let (zone, account, publisher) = world(2, &["--zone-cache-seconds", "60"]).await;
    let first = simple_task(1, Mode::Bridge, "web", 0);
    let missed = simple_task(2, Mode::Bridge, "web", 1);
    let report = process(&publisher, inputs(running_events(&account, &[&first]))).await;
    assert!(failures(&report).is_empty(), "{report:#?}");
    // The second task's RUNNING event was lost: the reconcile publishes it.
    running_events(&account, &[&missed]);
    let repaired =
        ecs_srv::run::reconcile::reconcile(&publisher, ecs_srv::run::deployment::Mode::Write)
            .await
            .unwrap();
    assert!(!repaired.changes.is_empty(), "{repaired:#?}");
    // Its stop arrives within the cache window: the warm view must know its records.
    let stopped = crate::simulated::stopped_events(&account, &[&missed]);
    let report = process(&publisher, inputs(stopped)).await;
    assert!(failures(&report).is_empty(), "{report:#?}");
    let published = owned_names(&zone, &publisher);
    assert!(
        published.iter().all(|name| !name.contains(&missed.task_id)),
        "the stopped task is withdrawn from the view the reconcile left: {published:?}"
    );
    assert!(published.iter().any(|name| name.contains(&first.task_id)));
    let layout = Layout::of(&publisher.settings);
    check_zone(&layout, &zone.lock().unwrap().record_sets(), &[], &[&first])
        .unwrap_or_else(|e| panic!("{e}"));
}
