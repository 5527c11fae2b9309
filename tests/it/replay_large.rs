//! The real `ecs-srv replay` binary against moto with a service past Route 53's 100 sets
//! per name: 120 Fargate tasks are published through a tree of weighted aliases (what
//! moto lists is read back and followed alias by alias), and withdrawn to nothing.

use std::collections::BTreeSet;
use std::process::Command;

use crate::support::*;
use ecs_srv::plan::records::{RecordSet, RecordType};
use serde_json::{json, Value};

const TASKS: usize = 120;

/// The event of a running task with its own ENI address.
fn running_event(world: &World, arn: &str, definition: &str, index: usize) -> Value {
    let mut event = retarget(
        fixture("fargate-running.json"),
        arn,
        world,
        None,
        definition,
    );
    let address = format!("10.40.{}.{}", index / 200, index % 200 + 10);
    let detail = &mut event["detail"];
    for attachment in detail["attachments"].as_array_mut().unwrap() {
        for pair in attachment["details"].as_array_mut().unwrap() {
            if pair["name"] == "privateIPv4Address" {
                pair["value"] = json!(address);
            }
        }
    }
    for container in detail["containers"].as_array_mut().unwrap() {
        for interface in container["networkInterfaces"].as_array_mut().unwrap() {
            interface["privateIpv4Address"] = json!(address);
        }
    }
    event
}

fn replay(zone_id: &str, dir: &std::path::Path, name: &str, events: &[Value]) -> Value {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(&json!(events)).unwrap()).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ecs-srv"))
        .arg("replay")
        .arg(&path)
        .envs(moto_env(zone_id))
        .output()
        .expect("running ecs-srv");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "replay printed no JSON summary ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert!(output.status.success(), "{summary:#}");
    summary
}

/// The task names a query for `name` and `record_type` can reach: SRV targets, following
/// each weighted alias to the branch it names.
fn reachable_targets(sets: &[RecordSet], name: &str, depth: usize) -> BTreeSet<String> {
    assert!(depth < 4, "aliases chain deeper than a tree");
    sets.iter()
        .filter(|set| set.name == name && set.record_type == RecordType::Srv)
        .flat_map(|set| match &set.alias {
            Some(target) => reachable_targets(sets, target, depth + 1),
            None => set
                .values
                .iter()
                .filter_map(|value| value.rsplit(' ').next().map(str::to_owned))
                .collect(),
        })
        .collect()
}

#[tokio::test]
async fn a_service_of_120_tasks_goes_through_replay_and_moto_in_a_tree() {
    let clients = moto_clients();
    let world = seed_cluster(&clients, "large", "10.40.0.0/16", &[]).await;
    let zone_id = create_private_zone(&clients, &world, "large.internal").await;
    let definition = register_task_definition(&clients, "api", "api", &[8080], true).await;
    let arns = run_fargate_tasks(&clients, &world, &definition, "service:api", TASKS).await;
    let running: Vec<Value> = arns
        .iter()
        .enumerate()
        .map(|(index, arn)| running_event(&world, arn, &definition, index))
        .collect();
    // Neighbours that moto lists inside api's run (it compares reversed names without the
    // trailing dot, so `api-x` sorts between `api.` and `_b0.api.`): the subtree read
    // must read past them and leave them alone.
    let neighbours = ["api-x.large.internal.", "x.api-x.large.internal."];
    for name in neighbours {
        put_record(
            &clients,
            &zone_id,
            name,
            aws_sdk_route53::types::RrType::A,
            None,
            "10.40.9.9",
        )
        .await;
    }
    let dir = tempfile::tempdir().unwrap();

    let summary = replay(&zone_id, dir.path(), "running.json", &running);
    let failed: Vec<&Value> = summary["invocations"][0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["error"].is_null())
        .collect();
    assert!(failed.is_empty(), "every task is published: {failed:?}");

    let pacer = ecs_srv::aws::route53::pacing::WritePacer::per_second(100.0);
    let listing = ecs_srv::aws::route53::read_zone(&clients.route53, &zone_id, &pacer)
        .await
        .expect("the zone lists");
    let srv_name = "_api._tcp.api.large.internal.";
    let aliases: Vec<&RecordSet> = listing
        .sets
        .iter()
        .filter(|set| set.name == srv_name && set.alias.is_some())
        .collect();
    assert_eq!(
        aliases.len(),
        2,
        "120 members need two branches: {aliases:?}"
    );
    let wanted: BTreeSet<String> = arns
        .iter()
        .map(|arn| format!("{}.api.large.internal.", arn.rsplit('/').next().unwrap()))
        .collect();
    assert_eq!(
        reachable_targets(&listing.sets, srv_name, 0),
        wanted,
        "every task is reached from the SRV name through the aliases moto holds"
    );
    let address_name = "api.large.internal.";
    let at_root: Vec<&RecordSet> = listing
        .sets
        .iter()
        .filter(|s| s.name == address_name && s.record_type == RecordType::A)
        .collect();
    assert!(
        !at_root.is_empty() && at_root.iter().all(|s| s.alias.is_some()),
        "{address_name} holds aliases only: {at_root:?}"
    );

    let stopped: Vec<Value> = running
        .iter()
        .map(|event| {
            let mut event = event.clone();
            event["detail"]["lastStatus"] = json!("STOPPED");
            event["detail"]["desiredStatus"] = json!("STOPPED");
            event["detail"]["version"] = json!(event["detail"]["version"].as_i64().unwrap() + 2);
            event
        })
        .collect();
    let _ = replay(&zone_id, dir.path(), "stopped.json", &stopped);
    let left: Vec<_> = owned_records(&zone_records_paged(&clients, &zone_id).await)
        .cloned()
        .collect();
    assert!(left.is_empty(), "nothing of the service is left: {left:?}");
    let whole = zone_records_paged(&clients, &zone_id).await;
    assert!(
        whole.iter().all(|r| !r.0.contains("api.large.internal.")),
        "no alias or whole set either: {whole:?}"
    );
    let kept: Vec<&str> = whole
        .iter()
        .filter(|r| neighbours.contains(&r.0.as_str()))
        .map(|r| r.0.as_str())
        .collect();
    assert_eq!(kept, neighbours, "the neighbours are untouched");
}
