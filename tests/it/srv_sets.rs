//! Whole SRV sets (`SRV_SETS=on`): built from the weighted sets against moto, and the
//! compare-and-swap conflict path against canned responses, where moto's lax DELETE
//! could never produce a conflict.

use std::sync::{Arc, Mutex};

use crate::support::mock_aws;
use crate::support::*;
use aws_sdk_route53::types::{ChangeAction, ResourceRecord, ResourceRecordSet, RrType};
use aws_smithy_mocks::mock;
use ecs_srv::input::event::parse_task_event_value;
use ecs_srv::input::payload::EventInput;
use ecs_srv::plan::naming::RecordRole;
use serde_json::json;

fn input(value: serde_json::Value) -> EventInput {
    EventInput {
        source: "test".to_owned(),
        parsed: parse_task_event_value(value),
        message: None,
    }
}

#[tokio::test]
async fn the_whole_set_follows_the_running_tasks() {
    let clients = moto_clients();
    let world = seed_one_host_cluster(&clients, "sets", 60, 10).await;
    let zone_id = create_private_zone(&clients, &world, "sets.internal").await;
    let web = register_task_definition(&clients, "web", "web", &[80], false).await;
    let events = running_bridge_events(&clients, &world, &web, "service:web", 2, 34000).await;
    let mut config = mock_aws::config();
    config.hosted_zone_id = zone_id.clone();
    config.srv_sets = true;
    let publisher = crate::support::config::deployment(config, moto_clients())
        .await
        .unwrap();
    let set_of = |records: &[(String, String, Option<String>, Vec<String>)]| {
        records
            .iter()
            .find(|r| r.0 == "_web._tcp._all.web.sets.internal.")
            .map(|r| (r.2.clone(), r.3.len()))
    };

    let report =
        ecs_srv::run::events::process(&publisher, events.iter().cloned().map(input).collect())
            .await;
    assert!(
        !report.has_failures() && report.name_errors.is_empty(),
        "{report:#?}"
    );
    assert_eq!(
        set_of(&zone_records(&clients, &zone_id).await),
        Some((None, 2)),
        "simple routing, both tasks"
    );

    let mut draining = events[0].clone();
    draining["detail"]["desiredStatus"] = json!("STOPPED");
    draining["detail"]["version"] = json!(8);
    ecs_srv::run::events::process(&publisher, vec![input(draining)]).await;
    assert_eq!(
        set_of(&zone_records(&clients, &zone_id).await),
        Some((None, 1))
    );

    let mut stopped = events[1].clone();
    stopped["detail"]["lastStatus"] = json!("STOPPED");
    stopped["detail"]["desiredStatus"] = json!("STOPPED");
    stopped["detail"]["version"] = json!(9);
    ecs_srv::run::events::process(&publisher, vec![input(stopped)]).await;
    assert_eq!(
        set_of(&zone_records(&clients, &zone_id).await),
        None,
        "an empty set is deleted"
    );
}

fn srv_set(values: &[&str]) -> ResourceRecordSet {
    let mut set = ResourceRecordSet::builder()
        .name(format!("_web._tcp._all.web.{}", mock_aws::ZONE))
        .r#type(RrType::Srv)
        .ttl(10);
    for value in values {
        set = set.resource_records(ResourceRecord::builder().value(*value).build().unwrap());
    }
    set.build().unwrap()
}

#[tokio::test]
async fn a_conflicting_swap_rereads_and_swaps_against_what_is_there_now() {
    let event = fixture("bridge-draining.json");
    let task_id = task_id_of(&event);
    let srv_name = format!("_web._tcp.web.{}", mock_aws::ZONE);
    let survivor = format!("1 1 31001 survivor.web.{}", mock_aws::ZONE);
    let leaving = format!("1 1 31000 {task_id}.web.{}", mock_aws::ZONE);
    let port_set = |task: &str, value: &str| {
        let identifier =
            crate::support::task_mark(task, RecordRole::ServicePort, "demo", &srv_name);
        mock_aws::weighted(&srv_name, RrType::Srv, &identifier, 1, 10, value)
    };
    let leaving_set = port_set(&task_id, &leaving);
    let survivor_set = port_set("survivor", &survivor);
    let someone_elses = format!("1 1 31002 newcomer.web.{}", mock_aws::ZONE);
    let newcomer_set = port_set("newcomer", &someone_elses);
    let page = |sets: Vec<ResourceRecordSet>| move || mock_aws::listing_page(&sets);
    // 1: the invocation's read (the swap is planned from it and sent with the task's
    // changes, with no read of its own); 2: the re-read after the conflict, where another
    // writer has meanwhile removed the leaving task, added one and rewritten the set.
    let listing = mock!(aws_sdk_route53::Client::list_resource_record_sets)
        .sequence()
        .output(page(vec![
            leaving_set.clone(),
            survivor_set.clone(),
            srv_set(&[&leaving, &survivor]),
        ]))
        .output(page(vec![
            survivor_set.clone(),
            newcomer_set,
            srv_set(&[&leaving, &survivor, &someone_elses]),
        ]))
        .build();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let recorded = sent.clone();
    let change = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .sequence()
        .http_response(|| mock_aws::route53_error(400, "InvalidChangeBatch"))
        .output(mock_aws::change_accepted)
        .build();
    let recorder = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .match_requests(move |input| {
            recorded.lock().unwrap().push(input.clone());
            false
        })
        .then_output(mock_aws::change_accepted);
    let zone = mock_aws::hosted_zone_rule();
    let clients = mock_aws::mocked_clients(&[], &[], &[&zone, &listing, &recorder, &change]);
    let mut config = mock_aws::config();
    config.srv_sets = true;
    let publisher = crate::support::config::deployment(config, clients)
        .await
        .unwrap();

    let report = ecs_srv::run::events::process(&publisher, vec![input(event)]).await;
    assert!(!report.has_failures(), "{report:#?}");
    assert!(
        report.name_errors.is_empty(),
        "the retry succeeded: {:?}",
        report.name_errors
    );
    assert_eq!(
        change.num_calls(),
        2,
        "the task and the swap refused together, then the swap after the re-read (the task's records were already gone)"
    );
    assert_eq!(
        listing.num_calls(),
        2,
        "the zone is read once, and again only after the conflict"
    );
    let sent = sent.lock().unwrap();
    let last = sent.last().unwrap().change_batch().unwrap().changes();
    assert_eq!(last.len(), 2);
    assert_eq!(*last[0].action(), ChangeAction::Delete);
    let values_of = |change: &aws_sdk_route53::types::Change| {
        crate::support::sorted_values(change.resource_record_set().unwrap())
    };
    let deleted = values_of(&last[0]);
    assert_eq!(
        deleted.len(),
        3,
        "the DELETE carries the set as re-read, not as first seen"
    );
    assert_eq!(*last[1].action(), ChangeAction::Create);
    let mut expected = vec![survivor, someone_elses];
    expected.sort();
    assert_eq!(values_of(&last[1]), expected);
}
