//! A deployment updated with new settings on a live zone: a new RECORD_TTL (Route 53
//! rewrites a weighted group's TTL with each write) and a new ROUTING_POLICY (a name moves
//! between policies in one batch) converge without a refused batch, and the zone ends as
//! the documentation lays it out for the new settings.

use crate::simulated::layout::{check_zone, Layout};
use crate::simulated::tasks::{simple_task, Mode, TaskSpec};
use crate::simulated::{config_with, failures, inputs, publisher_with, running_events, world};
use ecs_srv::run::events::process;

#[tokio::test]
async fn a_new_record_ttl_converges_on_a_live_zone_without_a_refused_batch() {
    let (zone, account, old) = world(2, &[]).await;
    let tasks: Vec<TaskSpec> = (1..=3)
        .map(|i| simple_task(i, Mode::Bridge, "web", i % 2))
        .collect();
    let refs: Vec<&TaskSpec> = tasks.iter().collect();
    assert!(failures(&process(&old, inputs(running_events(&account, &refs))).await).is_empty());

    // The deployment is updated with another TTL. A new task starts: its weighted sets
    // rewrite the TTL of the whole group. Then an old task stops, planned from the single
    // writer's warm view, which must know of the rewrite.
    let flags = ["--record-ttl", "30", "--zone-cache-seconds", "60"];
    let new = publisher_with(config_with(&flags), &zone, &account).await;
    let newcomer = simple_task(4, Mode::Bridge, "web", 0);
    let report = process(&new, inputs(running_events(&account, &[&newcomer]))).await;
    assert!(failures(&report).is_empty(), "{report:#?}");
    let stopped = crate::simulated::stopped_events(&account, &[&tasks[0]]);
    let report = process(&new, inputs(stopped)).await;
    assert!(failures(&report).is_empty(), "{report:#?}");
    let repaired = ecs_srv::run::reconcile::reconcile(&new, ecs_srv::run::deployment::Mode::Write)
        .await
        .unwrap();
    assert!(repaired.failures.is_empty(), "{repaired:#?}");
    let zone = zone.lock().unwrap();
    assert!(
        zone.problems().is_empty(),
        "no batch was refused on the way: {:?}",
        zone.problems()
    );
    assert!(
        zone.record_sets().iter().all(|set| set.ttl() == Some(30)),
        "every set carries the new TTL"
    );
    let layout = Layout::of(&new.settings);
    check_zone(
        &layout,
        &zone.record_sets(),
        &[],
        &[&tasks[1], &tasks[2], &newcomer],
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn a_new_routing_policy_moves_each_name_in_one_batch_and_new_tasks_publish_at_once() {
    for (from, to) in [("weighted", "multivalue"), ("multivalue", "weighted")] {
        let (zone, account, old) = world(2, &["--routing-policy", from]).await;
        let mut tasks: Vec<TaskSpec> = (1..=3)
            .map(|i| simple_task(i, Mode::Bridge, "web", i % 2))
            .collect();
        tasks[0].containers[0].weight = Some(3);
        let refs: Vec<&TaskSpec> = tasks.iter().collect();
        assert!(failures(&process(&old, inputs(running_events(&account, &refs))).await).is_empty());

        let new = publisher_with(config_with(&["--routing-policy", to]), &zone, &account).await;
        let newcomer = simple_task(4, Mode::Bridge, "web", 0);
        let report = process(&new, inputs(running_events(&account, &[&newcomer]))).await;
        assert!(failures(&report).is_empty(), "{from} to {to}: {report:#?}");
        {
            let zone = zone.lock().unwrap();
            assert!(
                zone.problems().is_empty(),
                "{from} to {to}: nothing refused: {:?}",
                zone.problems()
            );
            let shared: Vec<_> = zone
                .record_sets()
                .into_iter()
                .filter(|set| !set.name().starts_with("0000"))
                .collect();
            assert_eq!(shared.len(), 8, "four tasks at web and _app._tcp.web");
            for set in &shared {
                assert_eq!(
                    set.multi_value_answer() == Some(true),
                    to == "multivalue",
                    "{from} to {to}: {set:?}"
                );
            }
            if to == "weighted" {
                let heavy = shared.iter().filter(|set| set.weight() == Some(3)).count();
                assert_eq!(heavy, 2, "the weight label survives the move: {shared:?}");
            }
        }
        let repaired =
            ecs_srv::run::reconcile::reconcile(&new, ecs_srv::run::deployment::Mode::Write)
                .await
                .unwrap();
        assert!(repaired.failures.is_empty(), "{repaired:#?}");
        let layout = Layout::of(&new.settings);
        let running = [&tasks[0], &tasks[1], &tasks[2], &newcomer];
        check_zone(&layout, &zone.lock().unwrap().record_sets(), &[], &running)
            .unwrap_or_else(|e| panic!("{from} to {to}: {e}"));
    }
}
