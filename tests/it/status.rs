//! `ecs-srv status` against moto, with every reason a task is not simply published: drift
//! (a task running with its event lost; records of a task ECS no longer runs), a one-off
//! task kept to its own name, a task withdrawn and draining, a refusal (a foreign CNAME in
//! the way), and, on the simulated account (moto reports every task HEALTHY), a task
//! waiting for health. Read-only: the zone is the same before and after.

use std::process::Command;

use aws_sdk_ecs::types::HealthStatus;
use aws_sdk_route53::types::RrType;
use ecs_srv::plan::naming::RecordRole;
use ecs_srv::run::status::Verdict;
use serde_json::Value;

use crate::simulated::tasks::{simple_task, Mode};
use crate::support::*;

const ZONE: &str = "status.internal.";

fn run_status(zone_id: &str, cluster: &str, extra: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ecs-srv"))
        .arg("status")
        .args(extra)
        .envs(moto_env(zone_id))
        .env("CLUSTERS", cluster)
        .output()
        .expect("running ecs-srv status");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn reconcile_once(zone_id: &str, cluster: &str) {
    let output = Command::new(env!("CARGO_BIN_EXE_ecs-srv"))
        .arg("reconcile")
        .envs(moto_env(zone_id))
        .env("CLUSTERS", cluster)
        .output()
        .expect("running ecs-srv reconcile");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

fn id_of(arn: &str) -> String {
    arn.rsplit('/').next().unwrap().to_owned()
}

fn verdict_of<'a>(status: &'a Value, task: &str) -> &'a Value {
    status["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["task"] == task)
        .unwrap_or_else(|| panic!("{task} in {status:#}"))
}

#[tokio::test]
async fn status_explains_every_task_and_asks_for_a_person_on_a_refusal() {
    let clients = moto_clients();
    let world = seed_one_host_cluster(&clients, "status-main", 201, 10).await;
    let zone_id = create_private_zone(&clients, &world, "status.internal").await;
    let web =
        register_task_definition_with(&clients, "web", "web", &[(80, Some(8070))], true).await;
    let api =
        register_task_definition_with(&clients, "api", "api", &[(81, Some(8071))], true).await;
    let (published, _) = run_task(&clients, &world, &web, "service:web", true).await;
    let (stopping, _) = run_task(&clients, &world, &web, "service:web", true).await;
    reconcile_once(&zone_id, &world.cluster_arn);
    // After the reconcile: a task whose RUNNING event was lost, a one-off of the same
    // family, a task asked to stop, a foreign CNAME where api's name goes, an orphan.
    let (lost, _) = run_task(&clients, &world, &web, "service:web", true).await;
    let (one_off, _) = run_task(&clients, &world, &web, "family:web", true).await;
    let (refused, _) = run_task(&clients, &world, &api, "service:api", true).await;
    clients
        .ecs
        .stop_task()
        .cluster(&world.cluster_name)
        .task(&stopping)
        .send()
        .await
        .unwrap();
    put_record(
        &clients,
        &zone_id,
        &format!("api.{ZONE}"),
        RrType::Cname,
        None,
        "api.example.com",
    )
    .await;
    let orphan = "0123456789abcdef0123456789abcd99";
    let orphan_name = format!("{orphan}.web.{ZONE}");
    let mark = task_mark(orphan, RecordRole::TaskAddress, "status-main", &orphan_name);
    put_record(
        &clients,
        &zone_id,
        &orphan_name,
        RrType::A,
        Some((&mark, 1)),
        "10.201.9.9",
    )
    .await;
    let before = zone_records(&clients, &zone_id).await;

    let (code, text) = run_status(&zone_id, &world.cluster_arn, &[]);
    assert_eq!(code, 1, "a refusal needs a person:\n{text}");
    assert!(text.contains(&format!("web.{ZONE}")), "{text}");
    assert!(text.contains("needs a person: yes"), "{text}");
    let (code, json) = run_status(&zone_id, &world.cluster_arn, &["--json"]);
    assert_eq!(code, 1);
    let status: Value = serde_json::from_str(&json).expect("JSON");
    let expect = [
        (&published, "published"),
        (&lost, "drift"),
        (&one_off, "kept_to_its_own_name"),
        (&stopping, "draining"),
        (&refused, "refused"),
    ];
    for (arn, verdict) in expect {
        let task = verdict_of(&status, &id_of(arn));
        assert_eq!(task["verdict"], verdict, "{task:#}");
    }
    assert!(verdict_of(&status, &id_of(&refused))["reason"]
        .as_str()
        .unwrap()
        .contains("CNAME"));
    assert_eq!(verdict_of(&status, orphan)["verdict"], "drift");
    let web_service = status["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == format!("web.{ZONE}"))
        .expect("web");
    let answered = web_service["answers"][format!("web.{ZONE} A")]
        .as_array()
        .map(Vec::len);
    assert_eq!(
        answered,
        Some(2),
        "the published task and the stopping one: {web_service:#}"
    );

    let (code, one) = run_status(&zone_id, &world.cluster_arn, &["--task", &id_of(&lost)]);
    assert_eq!(code, 0, "drift the reconcile repairs needs no person");
    assert!(
        one.contains("drift") && one.contains("next reconcile publishes it"),
        "{one}"
    );
    assert_eq!(
        zone_records(&clients, &zone_id).await,
        before,
        "status writes nothing"
    );
}

#[tokio::test]
async fn status_says_a_task_waits_for_health_and_since_when() {
    let (_zone, account, deployment) = crate::simulated::world(1, &[]).await;
    let task = simple_task(1, Mode::Awsvpc, "web", 0);
    crate::simulated::set_task(&account, &task, "RUNNING", "RUNNING", 2);
    crate::health::add_health_check(&account, &task);
    crate::health::report_health(
        &account,
        &task,
        HealthStatus::UnknownValue,
        std::time::Duration::from_secs(12),
    );
    let status = ecs_srv::run::status::status(&deployment)
        .await
        .expect("a status");
    let found = status
        .tasks
        .iter()
        .find(|t| t.task == task.task_id)
        .expect("the task");
    let Verdict::WaitingForHealth(reason) = &found.verdict else {
        panic!("{found:?}")
    };
    assert!(reason.contains("12s since it started"), "{reason}");
    assert!(!status.needs_a_person, "waiting is no fault");
}
