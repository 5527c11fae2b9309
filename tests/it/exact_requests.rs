//! The real SDK clients against canned responses (`aws-smithy-mocks`), where moto is too
//! lax: the exact content of a DELETE, retries on Throttling and PriorRequestNotComplete,
//! the DescribeTasks guard, and a refused batch that must not hold back other tasks.

use std::sync::{Arc, Mutex};

use crate::support::mock_aws::*;
use aws_sdk_route53::types::{ChangeAction, ResourceRecordSet, RrType};
use aws_smithy_mocks::mock;
use ecs_srv::input::event::parse_task_event_value;
use ecs_srv::input::payload::EventInput;
use ecs_srv::plan::naming::RecordRole;
use ecs_srv::run::report::Decision;
use serde_json::Value;

fn input(value: Value) -> EventInput {
    EventInput {
        source: "mock".to_owned(),
        parsed: parse_task_event_value(value),
        message: None,
    }
}

/// The held records of the sample bridge task, written long ago with another TTL and
/// weight than today's config would produce: a withdrawal must delete them as they are.
fn held_bridge_records(task_id: &str) -> Vec<ResourceRecordSet> {
    let service = format!("web.{ZONE}");
    let task = format!("{task_id}.web.{ZONE}");
    let srv = format!("_web._tcp.web.{ZONE}");
    vec![
        weighted(
            &service,
            RrType::A,
            &crate::support::task_mark(task_id, RecordRole::ServiceAddress, "demo", &service),
            7,
            60,
            "10.9.9.9",
        ),
        weighted(
            &task,
            RrType::A,
            &crate::support::task_mark(task_id, RecordRole::TaskAddress, "demo", &task),
            1,
            60,
            "10.9.9.9",
        ),
        weighted(
            &srv,
            RrType::Srv,
            &crate::support::task_mark(task_id, RecordRole::ServicePort, "demo", &srv),
            7,
            60,
            &format!("1 7 31000 {task}"),
        ),
        // Somebody else's weighted set on the same name: never touched.
        weighted(&service, RrType::A, "manual-canary", 1, 300, "10.1.1.1"),
    ]
}

#[tokio::test]
async fn a_withdrawal_deletes_exactly_what_the_zone_holds() {
    let event = crate::support::fixture("bridge-draining.json");
    let task_id = crate::support::task_id_of(&event);
    let held = held_bridge_records(&task_id);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (zone, listing, change) = (
        hosted_zone_rule(),
        listing_rule(held.clone()),
        recording_change_rule(seen.clone()),
    );
    let clients = mocked_clients(&[], &[], &[&zone, &listing, &change]);
    let publisher = crate::support::config::deployment(config(), clients)
        .await
        .unwrap();

    let report = ecs_srv::run::events::process(&publisher, vec![input(event)]).await;
    assert_eq!(report.events[0].error, None, "{report:?}");
    assert_eq!(report.events[0].decision, Decision::Withdraw);

    let batches = seen.lock().unwrap();
    assert_eq!(batches.len(), 1, "one ChangeBatch");
    let sent = batches[0].change_batch().unwrap().changes();
    assert!(sent.iter().all(|c| *c.action() == ChangeAction::Delete));
    let mut deleted: Vec<ResourceRecordSet> = sent
        .iter()
        .map(|c| c.resource_record_set().unwrap().clone())
        .collect();
    let mut expected: Vec<ResourceRecordSet> = held[..3].to_vec();
    let key = |s: &ResourceRecordSet| (s.name().to_owned(), s.set_identifier().map(str::to_owned));
    deleted.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(
        deleted, expected,
        "DELETEs carry the held TTL, weight and values exactly"
    );
}

#[tokio::test]
async fn throttling_and_prior_request_not_complete_are_retried_until_the_change_lands() {
    let event = crate::support::fixture("bridge-draining.json");
    let task_id = crate::support::task_id_of(&event);
    let change = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .sequence()
        .http_response(|| route53_error(400, "Throttling"))
        .http_response(|| route53_error(400, "PriorRequestNotComplete"))
        .output(change_accepted)
        .build();
    let (zone, listing) = (
        hosted_zone_rule(),
        listing_rule(held_bridge_records(&task_id)),
    );
    let clients = mocked_clients(&[], &[], &[&zone, &listing, &change]);
    let publisher = crate::support::config::deployment(config(), clients)
        .await
        .unwrap();

    let report = ecs_srv::run::events::process(&publisher, vec![input(event)]).await;
    assert_eq!(report.events[0].error, None, "{report:?}");
    assert_eq!(
        change.num_calls(),
        3,
        "two throttled attempts, then the one that lands"
    );
    assert_eq!(report.batches.len(), 1, "applied once, not doubled");
}

#[tokio::test]
async fn an_unconfirmed_running_task_is_never_published() {
    let describe = mock!(aws_sdk_ecs::Client::describe_tasks)
        .sequence()
        .http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
                aws_smithy_types::body::SdkBody::from(
                    r#"{"__type":"AccessDeniedException","message":"not allowed (mock)"}"#,
                ),
            )
        })
        .repeatedly()
        .build();
    let change =
        mock!(aws_sdk_route53::Client::change_resource_record_sets).then_output(change_accepted);
    let (zone, listing) = (hosted_zone_rule(), listing_rule(Vec::new()));
    let clients = mocked_clients(&[&describe], &[], &[&zone, &listing, &change]);
    let publisher = crate::support::config::deployment(config(), clients)
        .await
        .unwrap();

    let report = ecs_srv::run::events::process(
        &publisher,
        vec![input(crate::support::fixture("bridge-running.json"))],
    )
    .await;
    let error = report.events[0]
        .error
        .as_deref()
        .expect("the event must fail visibly");
    assert!(
        error.contains("could not be confirmed") && error.contains("DescribeTasks"),
        "{error}"
    );
    assert_eq!(
        change.num_calls(),
        0,
        "nothing written without confirmation"
    );
}

#[tokio::test]
async fn a_refused_batch_is_retried_task_by_task_so_one_conflict_blocks_nothing_else() {
    let draining = crate::support::fixture("bridge-draining.json");
    let stopped = crate::support::fixture("fargate-stopped.json");
    let bridge_id = crate::support::task_id_of(&draining);
    let fargate_id = crate::support::task_id_of(&stopped);
    let mut held = held_bridge_records(&bridge_id);
    let api = format!("api.{ZONE}");
    held.push(weighted(
        &api,
        RrType::A,
        &crate::support::task_mark(&fargate_id, RecordRole::ServiceAddress, "demo", &api),
        1,
        10,
        "10.0.2.40",
    ));
    // The merged batch and the Fargate task's own batch are refused; the bridge task's
    // own batch goes through.
    let fargate_set =
        crate::support::task_mark(&fargate_id, RecordRole::ServiceAddress, "demo", &api);
    let refuse_fargate = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .match_requests(move |input| {
            input.change_batch().is_some_and(|b| {
                b.changes().iter().any(|c| {
                    c.resource_record_set().and_then(|s| s.set_identifier())
                        == Some(fargate_set.as_str())
                })
            })
        })
        .sequence()
        .http_response(|| route53_error(400, "InvalidChangeBatch"))
        .repeatedly()
        .build();
    let accept =
        mock!(aws_sdk_route53::Client::change_resource_record_sets).then_output(change_accepted);
    let (zone, listing) = (hosted_zone_rule(), listing_rule(held));
    let clients = mocked_clients(&[], &[], &[&zone, &listing, &refuse_fargate, &accept]);
    let publisher = crate::support::config::deployment(config(), clients)
        .await
        .unwrap();

    let report =
        ecs_srv::run::events::process(&publisher, vec![input(draining), input(stopped)]).await;
    assert_eq!(
        report.events[0].error, None,
        "the bridge task is withdrawn: {report:?}"
    );
    let error = report.events[1]
        .error
        .as_deref()
        .expect("the refused task fails");
    assert!(error.contains("InvalidChangeBatch"), "{error}");
    assert_eq!(
        refuse_fargate.num_calls(),
        2,
        "the merged batch, then the task alone"
    );
    assert_eq!(accept.num_calls(), 1);
    assert_eq!(report.batches.len(), 1);
    assert_eq!(report.batches[0].task_ids, vec![bridge_id]);
}
