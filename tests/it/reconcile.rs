//! `ecs-srv reconcile` against moto: a dry run that changes nothing, a repair that
//! publishes missed tasks and removes orphans, a second run that writes nothing, and a
//! stopped task withdrawn. Foreign records survive throughout.

use std::process::Command;

use crate::support::*;
use aws_sdk_route53::types::RrType;
use ecs_srv::plan::naming::RecordRole;
use serde_json::Value;

const ZONE: &str = "recon.internal.";

fn reconcile(zone_id: &str, cluster: &str, dry_run: bool) -> Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecs-srv"));
    command
        .arg("reconcile")
        .envs(moto_env(zone_id))
        .env("CLUSTERS", cluster);
    if dry_run {
        command.arg("--dry-run");
    }
    let output = command.output().expect("running ecs-srv reconcile");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "reconcile failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("reconcile printed no JSON ({e}): {stdout}"))
}

fn owned_names(records: &[ListedRecord]) -> Vec<String> {
    owned_records(records)
        .map(|r| format!("{} {}", r.0, r.1))
        .collect()
}

#[tokio::test]
async fn reconcile_repairs_both_sides_and_then_writes_nothing() {
    let clients = moto_clients();
    let world = seed_one_host_cluster(&clients, "recon", 40, 10).await;
    let zone_id = create_private_zone(&clients, &world, "recon.internal").await;
    let api = register_task_definition(&clients, "api", "api", &[8080], true).await;
    let web =
        register_task_definition_with(&clients, "web", "web", &[(80, Some(8081))], false).await;
    let (api_a, _) = run_task(&clients, &world, &api, "service:api", true).await;
    let (_api_b, _) = run_task(&clients, &world, &api, "service:api", true).await;
    let (web_task, _) = run_task(&clients, &world, &web, "service:web", false).await;

    // An orphan an older deployment left behind, and a record somebody else owns.
    let orphan = "0123456789abcdef0123456789abcdef";
    let orphan_name = format!("api.{ZONE}");
    let orphan_id =
        crate::support::task_mark(orphan, RecordRole::ServiceAddress, "recon", &orphan_name);
    put_record(
        &clients,
        &zone_id,
        &orphan_name,
        RrType::A,
        Some((&orphan_id, 1)),
        "10.40.9.9",
    )
    .await;
    put_record(
        &clients,
        &zone_id,
        &format!("db.{ZONE}"),
        RrType::A,
        None,
        "10.40.8.8",
    )
    .await;
    let foreign_before: Vec<_> = zone_records(&clients, &zone_id)
        .await
        .into_iter()
        .filter(|r| r.0.starts_with("db."))
        .collect();

    // A dry run lists what it would do and changes nothing.
    let before = zone_records(&clients, &zone_id).await;
    let dry = reconcile(&zone_id, "recon", true);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["running_tasks"], 3, "{dry:#}");
    let planned = dry["changes"].as_array().unwrap();
    let creates = planned.iter().filter(|c| c["action"] == "CREATE").count();
    let deletes = planned.iter().filter(|c| c["action"] == "DELETE").count();
    assert_eq!(
        (creates, deletes),
        (11, 1),
        "three tasks of three sets each, the whole SRV set of each service (on by default), one orphan: {dry:#}"
    );
    assert!(dry["api_calls"]
        .get("Route53.ChangeResourceRecordSets")
        .is_none());
    assert_eq!(
        zone_records(&clients, &zone_id).await,
        before,
        "a dry run writes nothing"
    );

    // The real run repairs both sides and swaps in the whole SRV sets (rebuilt from the
    // weighted sets as planned) in one batch.
    let repaired = reconcile(&zone_id, "recon", false);
    let batches = repaired["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 1, "{repaired:#}");
    let whole_set_names: Vec<&str> = batches[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["record_set"]["name"].as_str().unwrap())
        .filter(|name| name.contains("._all."))
        .collect();
    assert_eq!(
        whole_set_names,
        [
            format!("_api._tcp._all.api.{ZONE}"),
            format!("_web._tcp._all.web.{ZONE}")
        ],
        "{repaired:#}"
    );
    let owned = owned_names(&zone_records(&clients, &zone_id).await);
    assert_eq!(owned.len(), 9, "{owned:?}");
    assert!(
        owned
            .iter()
            .any(|n| n == &format!("_web._tcp.web.{ZONE} SRV")),
        "{owned:?}"
    );
    let records = zone_records(&clients, &zone_id).await;
    assert!(
        !records
            .iter()
            .any(|r| r.2.as_deref() == Some(orphan_id.as_str())),
        "the orphan is gone"
    );
    let web_srv = records
        .iter()
        .find(|r| r.0 == format!("_web._tcp.web.{ZONE}"))
        .unwrap();
    let web_id = web_task.rsplit('/').next().unwrap();
    assert_eq!(
        web_srv.3,
        vec![format!("1 256 8081 {web_id}.web.{ZONE}")],
        "a fixed host port needs no bindings"
    );

    // Nothing differs now, so nothing is written. The API calls are the reconcile's cost.
    let idle = reconcile(&zone_id, "recon", false);
    assert_eq!(idle["changes"].as_array().unwrap().len(), 0, "{idle:#}");
    assert!(
        idle["api_calls"]
            .get("Route53.ChangeResourceRecordSets")
            .is_none(),
        "{idle:#}"
    );
    eprintln!(
        "API calls of an idle reconcile of 3 tasks: {}",
        idle["api_calls"]
    );

    // A task stopped behind our back is withdrawn.
    clients
        .ecs
        .stop_task()
        .cluster("recon")
        .task(&api_a)
        .send()
        .await
        .unwrap();
    let after_stop = reconcile(&zone_id, "recon", false);
    let (whole_set, deleted): (Vec<&Value>, Vec<&Value>) = after_stop["changes"]
        .as_array()
        .unwrap()
        .iter()
        .partition(|c| c["record_set"]["name"] == format!("_api._tcp._all.api.{ZONE}"));
    assert_eq!(deleted.len(), 3, "{after_stop:#}");
    assert!(deleted.iter().all(|c| c["action"] == "DELETE"));
    let actions: Vec<&Value> = whole_set.iter().map(|c| &c["action"]).collect();
    assert_eq!(
        actions,
        ["DELETE", "CREATE"],
        "the api set loses the task: {after_stop:#}"
    );
    assert_eq!(
        owned_names(&zone_records(&clients, &zone_id).await).len(),
        6
    );

    let foreign_after: Vec<_> = zone_records(&clients, &zone_id)
        .await
        .into_iter()
        .filter(|r| r.0.starts_with("db."))
        .collect();
    assert_eq!(foreign_after, foreign_before);
}
