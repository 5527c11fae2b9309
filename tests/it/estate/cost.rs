//! What a task costs in the zone and in Route 53 requests, with and without
//! RegionalNames, through the real binary at the template's settings: the figures the
//! README's cost arithmetic and the request budget rest on.
//!
//! A task holds three record sets of its own (its share of the service's A and SRV names,
//! and its own A name) either way; a service adds its whole SRV set, and with
//! RegionalNames its three latency aliases at the shared names, per region. An event
//! costs one ChangeBatch, and one read of the service's subtree (two with RegionalNames:
//! the regional names and the shared names they hang from).

use std::collections::BTreeMap;

use serde_json::Value;

use super::*;

/// The record sets the zone gained, and the Route 53 requests of one invocation.
struct Step {
    sets_added: usize,
    route53: BTreeMap<String, u64>,
}

async fn publish(stack: &StackRun, clients: &AwsClients, zone_id: &str, events: &[Value]) -> Step {
    let before = zone_records(clients, zone_id).await.len();
    let (ok, report) = stack.replay(events);
    assert!(ok, "{report:#}");
    let calls = report["invocations"][0]["api_calls"]
        .as_object()
        .unwrap_or_else(|| panic!("the replay counts its requests: {report:#}"));
    Step {
        sets_added: zone_records(clients, zone_id).await.len() - before,
        route53: calls
            .iter()
            .filter(|(call, _)| call.starts_with("Route53."))
            .map(|(call, count)| (call.clone(), count.as_u64().unwrap_or_default()))
            .collect(),
    }
}

/// The first and the second task of one service in a stack with `parameters`.
async fn two_tasks(account: &str, octet: u8, parameters: &[(&str, &str)]) -> (Step, Step) {
    let here = Identity::of_account(account).await;
    let clients = here.clients(REGION);
    let (world, first) = prod_cluster(&clients, octet, &["web"]).await;
    let zone_id = create_private_zone(&clients, &world, &format!("cost{octet}.internal")).await;
    let stack = StackRun::new(&zone_id, REGION, &here, parameters);
    let first_step = publish(
        &stack,
        &clients,
        &zone_id,
        &running_events(&clients, &world, &first).await,
    )
    .await;
    let definition = register_task_definition(&clients, "web", "web", &[80], true).await;
    let (arn, _) = run_task(&clients, &world, &definition, "service:web", true).await;
    let second = BTreeMap::from([(
        "web".to_owned(),
        arn.rsplit('/').next().expect("a task id").to_owned(),
    )]);
    let second_step = publish(
        &stack,
        &clients,
        &zone_id,
        &running_events(&clients, &world, &second).await,
    )
    .await;
    (first_step, second_step)
}

/// One ChangeBatch and `list` reads.
fn requests(list: u64) -> BTreeMap<String, u64> {
    BTreeMap::from([
        ("Route53.ChangeResourceRecordSets".to_owned(), 1),
        ("Route53.ListResourceRecordSets".to_owned(), list),
    ])
}

#[tokio::test]
async fn a_task_costs_three_record_sets_and_an_event_one_change_batch_with_or_without_regional_names(
) {
    let (first, second) = two_tasks("666666666601", 201, &[]).await;
    assert_eq!(
        first.sets_added,
        3 + 1,
        "the task's three and the whole SRV set"
    );
    assert_eq!(second.sets_added, 3, "a second task adds its own three");
    assert_eq!(first.route53, requests(1));
    assert_eq!(second.route53, requests(1));

    let (first, second) = two_tasks("666666666602", 202, &[("RegionalNames", "on")]).await;
    assert_eq!(
        first.sets_added,
        3 + 1 + 3,
        "the task's three, the regional whole SRV set, and the region's latency aliases at \
         the shared A, SRV and whole-set names"
    );
    assert_eq!(second.sets_added, 3, "a second task adds its own three");
    assert_eq!(first.route53, requests(2));
    assert_eq!(second.route53, requests(2));
}
