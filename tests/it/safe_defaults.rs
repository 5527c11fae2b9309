//! Who may join a name, through the publisher and the strict Route 53 model: one-off tasks
//! keep out of a service's names, one cluster per name unless the cluster is in the names,
//! one deployment per task, foreign records are never rewritten (routing policy and the
//! one TTL of a weighted group), and permanent refusals are not retried.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::simulated::account::Account;
use crate::simulated::tasks::{simple_task, Mode, TaskSpec};
use crate::simulated::{
    account_with_hosts, config_with, empty_zone, inputs, publisher_with, record_set,
    running_events, zone_contents, APEX,
};
use crate::support::strict_zone::StrictZone;
use aws_sdk_route53::types::RrType;
use ecs_srv::run::deployment::Deployment;
use ecs_srv::run::events::process;
use ecs_srv::run::report::InvocationReport;

fn names(zone: &Arc<Mutex<StrictZone>>, publisher: &Deployment) -> Vec<String> {
    let (owned, _) = zone_contents(zone, publisher);
    let mut names: Vec<String> = owned.iter().map(|set| set.name.clone()).collect();
    names.dedup();
    names
}

/// Moves a task's event (and what ECS says of it) into another cluster.
fn in_cluster(account: &Arc<Mutex<Account>>, event: &mut Value, cluster: &str) {
    let detail = &mut event["detail"];
    let old_arn = detail["taskArn"].as_str().unwrap().to_owned();
    let new_arn = old_arn.replace("/demo/", &format!("/{cluster}/"));
    let cluster_arn = format!("arn:aws:ecs:us-east-1:123456789012:cluster/{cluster}");
    detail["taskArn"] = json!(new_arn);
    detail["clusterArn"] = json!(cluster_arn);
    event["resources"] = json!([new_arn]);
    let mut world = account.lock().unwrap();
    let truth = world.tasks[&old_arn].clone();
    world.tasks.insert(new_arn.clone(), truth);
    let mut described = world.details[&old_arn].clone();
    described.task_arn = Some(new_arn.clone());
    described.cluster_arn = Some(cluster_arn);
    world.details.insert(new_arn, described);
}

fn errors(report: &InvocationReport) -> Vec<(String, bool)> {
    report
        .events
        .iter()
        .filter_map(|e| Some((e.error.clone()?, e.retryable)))
        .collect()
}

async fn setup(flags: &[&str]) -> (Arc<Mutex<StrictZone>>, Arc<Mutex<Account>>, Deployment) {
    let zone = empty_zone();
    let account = account_with_hosts(2);
    let publisher = publisher_with(config_with(flags), &zone, &account).await;
    (zone, account, publisher)
}

#[tokio::test]
async fn a_one_off_task_never_joins_the_name_a_service_holds() {
    let (zone, account, publisher) = setup(&[]).await;
    let service_task = simple_task(1, Mode::Bridge, "web", 0);
    let one_off = simple_task(2, Mode::Bridge, "web", 1);
    let loner = simple_task(3, Mode::Awsvpc, "migrate", 0);
    let mut events = running_events(&account, &[&service_task, &one_off, &loner]);
    events[1]["detail"]["group"] = json!("family:web");
    events[2]["detail"]["group"] = json!("family:migrate");
    // The one-off comes first in the batch: order must not matter.
    events.swap(0, 1);
    let report = process(&publisher, inputs(events)).await;
    assert!(errors(&report).is_empty(), "{report:#?}");

    let (owned, _) = zone_contents(&zone, &publisher);
    let at = |name: &str| -> Vec<String> {
        owned
            .iter()
            .filter(|set| set.name == name)
            .flat_map(|set| set.values.clone())
            .collect()
    };
    let service_address = crate::simulated::tasks::host_address(0).to_string();
    assert_eq!(
        at(&format!("web.{APEX}")),
        vec![service_address],
        "only the service's task answers for web"
    );
    assert_eq!(
        at(&format!("_app._tcp.web.{APEX}")).len(),
        1,
        "only the service's task is in the SRV name"
    );
    assert_eq!(
        at(&format!("{}.web.{APEX}", one_off.task_id)),
        vec![crate::simulated::tasks::host_address(1).to_string()],
        "the one-off task keeps its own name"
    );
    assert_eq!(
        at(&format!("migrate.{APEX}")).len(),
        1,
        "a one-off task whose label no service holds is published as before"
    );
}

#[tokio::test]
async fn a_name_that_holds_one_clusters_tasks_refuses_another_clusters() {
    let (zone, account, publisher) = setup(&[]).await;
    let prod = simple_task(1, Mode::Bridge, "web", 0);
    let staging = simple_task(2, Mode::Bridge, "web", 1);
    let mut events = running_events(&account, &[&prod, &staging]);
    in_cluster(&account, &mut events[0], "prod");
    in_cluster(&account, &mut events[1], "staging");
    let report = process(&publisher, inputs(events.clone())).await;
    let failed = errors(&report);
    assert_eq!(failed.len(), 1, "{report:#?}");
    let (message, retryable) = &failed[0];
    for part in ["cluster/prod", "cluster/staging", "CLUSTER_IN_NAMES=on"] {
        assert!(message.contains(part), "{part} is named: {message}");
    }
    assert!(
        retryable,
        "the name frees up when the other cluster's tasks stop"
    );
    assert!(
        names(&zone, &publisher)
            .iter()
            .all(|name| !name.contains(&staging.task_id)),
        "nothing of the refused task was written"
    );

    // With the cluster in the names, both clusters publish side by side.
    let (zone, account, publisher) = setup(&["--cluster-in-names", "on"]).await;
    let mut events = running_events(&account, &[&prod, &staging]);
    in_cluster(&account, &mut events[0], "prod");
    in_cluster(&account, &mut events[1], "staging");
    let report = process(&publisher, inputs(events)).await;
    assert!(errors(&report).is_empty(), "{report:#?}");
    let published = names(&zone, &publisher);
    for name in [format!("web.prod.{APEX}"), format!("web.staging.{APEX}")] {
        assert!(published.contains(&name), "{name} in {published:?}");
    }
}

#[tokio::test]
async fn two_deployments_on_one_zone_keep_apart_and_never_publish_a_task_twice() {
    let zone = empty_zone();
    let account = account_with_hosts(2);
    // Whole SRV sets on: they carry no mark of their own, and must stay their owner's too.
    let flags = |owner| ["--record-owner", owner, "--srv-sets", "on"];
    let blue = publisher_with(config_with(&flags("blue")), &zone, &account).await;
    let green = publisher_with(config_with(&flags("green")), &zone, &account).await;
    let blue_task = simple_task(1, Mode::Bridge, "web", 0);
    let green_task = simple_task(2, Mode::Bridge, "api", 1);
    let blue_events = running_events(&account, &[&blue_task]);
    let green_events = running_events(&account, &[&green_task]);
    assert!(errors(&process(&blue, inputs(blue_events.clone())).await).is_empty());
    assert!(errors(&process(&green, inputs(green_events)).await).is_empty());
    let before = zone.lock().unwrap().record_sets();

    // Each reconciles: neither withdraws or rewrites what the other wrote.
    ecs_srv::run::reconcile::reconcile(&blue, ecs_srv::run::deployment::Mode::Write)
        .await
        .unwrap();
    ecs_srv::run::reconcile::reconcile(&green, ecs_srv::run::deployment::Mode::Write)
        .await
        .unwrap();

    // Green also claims blue's task (an overlapping setup): refused, reported, not doubled.
    let report = process(&green, inputs(blue_events)).await;
    let failed = errors(&report);
    assert_eq!(failed.len(), 1, "{report:#?}");
    assert!(
        failed[0].0.contains("RECORD_OWNER blue") && !failed[0].1,
        "the overlap is named and permanent: {failed:?}"
    );
    let mut after = zone.lock().unwrap().record_sets();
    let mut before = before;
    let key = |s: &aws_sdk_route53::types::ResourceRecordSet| {
        (s.name().to_owned(), s.set_identifier().map(str::to_owned))
    };
    before.sort_by_key(key);
    after.sort_by_key(key);
    assert_eq!(
        after, before,
        "both deployments' records stand as they were"
    );
}

async fn refused_beside(foreign: aws_sdk_route53::types::ResourceRecordSet, fragment: &str) {
    let (zone, account, publisher) = setup(&[]).await;
    zone.lock().unwrap().seed(vec![foreign.clone()]);
    let task: TaskSpec = simple_task(1, Mode::Bridge, "web", 0);
    let report = process(&publisher, inputs(running_events(&account, &[&task]))).await;
    let failed = errors(&report);
    assert_eq!(failed.len(), 1, "{report:#?}");
    assert!(failed[0].0.contains(fragment), "{failed:?}");
    assert!(!failed[0].1, "a person must act: not retried");
    assert!(
        names(&zone, &publisher).is_empty(),
        "nothing of the task was written"
    );
    assert_eq!(
        zone.lock().unwrap().record_sets(),
        vec![foreign],
        "the foreign record is untouched"
    );
    assert!(
        zone.lock().unwrap().rejections().is_empty(),
        "nothing was even tried"
    );
}

#[tokio::test]
async fn a_name_held_by_a_foreign_record_of_another_routing_policy_is_refused() {
    let simple = record_set(&format!("web.{APEX}"), RrType::A, 10, &["10.9.0.9"])
        .build()
        .unwrap();
    refused_beside(
        simple,
        "already holds a simple record set that ecs-srv does not own",
    )
    .await;
}

#[tokio::test]
async fn a_foreign_weighted_group_with_another_ttl_is_never_rewritten() {
    let canary = record_set(&format!("web.{APEX}"), RrType::A, 30, &["10.9.0.6"])
        .set_identifier("manual-canary")
        .weight(3)
        .build()
        .unwrap();
    refused_beside(
        canary,
        "one TTL per weighted group, so writing TTL 10 would change them",
    )
    .await;
}

#[tokio::test]
async fn a_task_that_stops_while_its_event_is_written_is_withdrawn_at_once() {
    let (zone, account, publisher) = setup(&[]).await;
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
    assert!(errors(&report).is_empty(), "{report:#?}");
    assert_eq!(
        account.lock().unwrap().calls["DescribeTasks"],
        2,
        "one call confirms, one re-checks"
    );
    let published = names(&zone, &publisher);
    assert!(
        published
            .iter()
            .all(|name| !name.contains(&stopping.task_id)),
        "the stopped task is not left in DNS: {published:?}"
    );
    assert!(published.iter().any(|name| name.contains(&staying.task_id)));
}

#[tokio::test]
async fn a_reconcile_keeps_the_single_writers_zone_view_true() {
    let (zone, account, publisher) = setup(&["--zone-cache-seconds", "60"]).await;
    let first = simple_task(1, Mode::Bridge, "web", 0);
    let missed = simple_task(2, Mode::Bridge, "web", 1);
    let report = process(&publisher, inputs(running_events(&account, &[&first]))).await;
    assert!(errors(&report).is_empty(), "{report:#?}");
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
    assert!(errors(&report).is_empty(), "{report:#?}");
    let published = names(&zone, &publisher);
    assert!(
        published.iter().all(|name| !name.contains(&missed.task_id)),
        "the stopped task is withdrawn from the view the reconcile left: {published:?}"
    );
    assert!(published.iter().any(|name| name.contains(&first.task_id)));
}

#[tokio::test]
async fn a_new_record_ttl_converges_on_a_live_zone_without_a_refused_batch() {
    let (zone, account, old) = setup(&[]).await;
    let tasks: Vec<TaskSpec> = (1..=3)
        .map(|i| simple_task(i, Mode::Bridge, "web", i % 2))
        .collect();
    let refs: Vec<&TaskSpec> = tasks.iter().collect();
    assert!(errors(&process(&old, inputs(running_events(&account, &refs))).await).is_empty());

    // The deployment is updated with another TTL. A new task starts: its weighted sets
    // rewrite the TTL of the whole group. Then an old task stops, planned from the single
    // writer's warm view, which must know of the rewrite.
    let flags = ["--record-ttl", "30", "--zone-cache-seconds", "60"];
    let new = publisher_with(config_with(&flags), &zone, &account).await;
    let newcomer = simple_task(4, Mode::Bridge, "web", 0);
    let report = process(&new, inputs(running_events(&account, &[&newcomer]))).await;
    assert!(errors(&report).is_empty(), "{report:#?}");
    let stopped = crate::simulated::stopped_events(&account, &[&tasks[0]]);
    let report = process(&new, inputs(stopped)).await;
    assert!(errors(&report).is_empty(), "{report:#?}");
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
}

#[tokio::test]
async fn a_new_routing_policy_moves_each_name_in_one_batch_and_new_tasks_publish_at_once() {
    for (from, to) in [("weighted", "multivalue"), ("multivalue", "weighted")] {
        let (zone, account, old) = setup(&["--routing-policy", from]).await;
        let mut tasks: Vec<TaskSpec> = (1..=3)
            .map(|i| simple_task(i, Mode::Bridge, "web", i % 2))
            .collect();
        tasks[0].containers[0].weight = Some(3);
        let refs: Vec<&TaskSpec> = tasks.iter().collect();
        assert!(errors(&process(&old, inputs(running_events(&account, &refs))).await).is_empty());

        let new = publisher_with(config_with(&["--routing-policy", to]), &zone, &account).await;
        let newcomer = simple_task(4, Mode::Bridge, "web", 0);
        let report = process(&new, inputs(running_events(&account, &[&newcomer]))).await;
        assert!(errors(&report).is_empty(), "{from} to {to}: {report:#?}");
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
        let (owned, _) = zone_contents(&zone, &new);
        let expected =
            crate::simulated::expected_records(&new, &[&tasks[0], &tasks[1], &tasks[2], &newcomer]);
        assert_eq!(
            owned, expected,
            "{from} to {to}: the reconcile finds the zone as it should be"
        );
    }
}
