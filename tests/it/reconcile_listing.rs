//! The reconcile keeps its promises about its listings: a cluster ECS no longer knows
//! (deleted, inactive) is reported and skipped while the others are repaired; a listing
//! that fails after the SDK's retries (ListTasks, ListClusters, ListResourceRecordSets)
//! aborts with nothing written, since a partial view must never withdraw live tasks.

use std::process::Command;
use std::sync::{Arc, Mutex};

use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsInput;
use aws_smithy_mocks::mock;
use ecs_srv::run::deployment::Mode;
use ecs_srv::run::reconcile::{reconcile, ReconcileError};
use serde_json::Value;

use crate::support::mock_aws::*;
use crate::support::*;

/// ECS's JSON error body for a code.
fn ecs_error(code: &str) -> aws_smithy_runtime_api::http::Response {
    let body = format!(r#"{{"__type":"{code}","message":"{code} (mock)"}}"#);
    aws_smithy_runtime_api::http::Response::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
        aws_smithy_types::body::SdkBody::from(body),
    )
}

fn reconcile_binary(zone_id: &str, clusters: &str) -> (bool, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_ecs-srv"))
        .arg("reconcile")
        .envs(moto_env(zone_id))
        .env("CLUSTERS", clusters)
        .output()
        .expect("running ecs-srv reconcile");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "reconcile printed no JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.success(), report)
}

#[tokio::test]
async fn a_deleted_cluster_is_reported_and_skipped_while_the_others_are_repaired() {
    let clients = moto_clients();
    let main = seed_one_host_cluster(&clients, "listing-main", 191, 10).await;
    let gone = seed_one_host_cluster(&clients, "listing-gone", 192, 10).await;
    let zone_id = create_private_zone(&clients, &main, "listing.internal").await;
    let web =
        register_task_definition_with(&clients, "listing-web", "web", &[(80, Some(8090))], false)
            .await;
    let (gone_task, _) = run_task(&clients, &gone, &web, "service:gone", false).await;
    let clusters = format!("{},{}", main.cluster_arn, gone.cluster_arn);
    let (ok, first) = reconcile_binary(&zone_id, &clusters);
    assert!(ok, "{first:#}");
    let gone_id = gone_task.rsplit('/').next().unwrap().to_owned();
    let names =
        |records: Vec<ListedRecord>| -> Vec<String> { records.into_iter().map(|r| r.0).collect() };
    assert!(names(zone_records(&clients, &zone_id).await)
        .iter()
        .any(|n| n.starts_with(&gone_id)));

    // The cluster is deleted with its task (its stop event lost), and a task starts in the
    // other one (its RUNNING event lost too).
    clients
        .ecs
        .stop_task()
        .cluster(&gone.cluster_name)
        .task(&gone_task)
        .send()
        .await
        .expect("StopTask");
    clients
        .ecs
        .delete_cluster()
        .cluster(&gone.cluster_name)
        .send()
        .await
        .expect("DeleteCluster");
    let (main_task, _) = run_task(&clients, &main, &web, "service:main", false).await;
    let (ok, report) = reconcile_binary(&zone_id, &clusters);
    assert!(
        ok,
        "the others are repaired and the run succeeds: {report:#}"
    );
    assert!(
        report["skipped_clusters"].get(&gone.cluster_arn).is_some(),
        "the deleted cluster is reported: {report:#}"
    );
    let after = names(zone_records(&clients, &zone_id).await);
    let main_id = main_task.rsplit('/').next().unwrap();
    assert!(
        after.iter().any(|n| n.starts_with(main_id)),
        "the live task is published: {after:?}"
    );
    assert!(
        !after.iter().any(|n| n.starts_with(&gone_id)),
        "the deleted cluster runs nothing: {after:?}"
    );
}

/// A deployment over doubles: ECS answering `ecs_rules`, Route 53 holding one owned task
/// and recording every change it is sent.
async fn deployment_over(
    ecs_rules: &[&aws_smithy_mocks::Rule],
    route53_extra: &[&aws_smithy_mocks::Rule],
    flags: &[&str],
) -> (
    ecs_srv::run::deployment::Deployment,
    Arc<Mutex<Vec<ChangeResourceRecordSetsInput>>>,
) {
    let held = crate::support::task_mark(
        "feedfeedfeedfeedfeedfeedfeedfeed",
        ecs_srv::plan::naming::RecordRole::ServiceAddress,
        "demo",
        &format!("web.{ZONE}"),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listing = listing_rule(vec![weighted(
        &format!("web.{ZONE}"),
        aws_sdk_route53::types::RrType::A,
        &held,
        1,
        10,
        "10.0.0.1",
    )]);
    let changes = recording_change_rule(Arc::clone(&seen));
    let zone = hosted_zone_rule();
    let mut route53: Vec<&aws_smithy_mocks::Rule> = route53_extra.to_vec();
    route53.extend([&zone, &listing, &changes]);
    let clients = mocked_clients(ecs_rules, &[], &route53);
    let settings = crate::support::config::publisher_config(ZONE_ID, flags);
    let deployment = crate::support::config::deployment(settings, clients)
        .await
        .expect("a deployment");
    (deployment, seen)
}

#[tokio::test]
async fn a_list_tasks_that_fails_aborts_with_nothing_written() {
    let throttled = mock!(aws_sdk_ecs::Client::list_tasks)
        .sequence()
        .http_response(|| ecs_error("ThrottlingException"))
        .repeatedly()
        .build();
    let active = crate::simulated::account::active_clusters_rule();
    let (deployment, seen) =
        deployment_over(&[&throttled, &active], &[], &["--clusters", "demo"]).await;
    let result = reconcile(&deployment, Mode::Write).await;
    assert!(matches!(result, Err(ReconcileError::Ecs(_))), "{result:?}");
    assert!(result.unwrap_err().to_string().contains("nothing written"));
    assert!(
        seen.lock().unwrap().is_empty(),
        "not one change: the owned task would have been withdrawn"
    );
}

#[tokio::test]
async fn a_list_clusters_that_fails_aborts_with_nothing_written() {
    let failing = mock!(aws_sdk_ecs::Client::list_clusters)
        .sequence()
        .http_response(|| ecs_error("ServerException"))
        .repeatedly()
        .build();
    let (deployment, seen) = deployment_over(&[&failing], &[], &[]).await;
    let result = reconcile(&deployment, Mode::Write).await;
    assert!(matches!(result, Err(ReconcileError::Ecs(_))), "{result:?}");
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_zone_listing_that_fails_aborts_with_nothing_written() {
    let failing = mock!(aws_sdk_route53::Client::list_resource_record_sets)
        .sequence()
        .http_response(|| route53_error(400, "Throttling"))
        .repeatedly()
        .build();
    let (deployment, seen) = deployment_over(&[], &[&failing], &["--clusters", "demo"]).await;
    let result = reconcile(&deployment, Mode::Write).await;
    assert!(matches!(result, Err(ReconcileError::Zone(_))), "{result:?}");
    assert!(seen.lock().unwrap().is_empty());
}
