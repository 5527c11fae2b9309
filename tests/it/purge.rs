//! A clean uninstall against moto: `ecs-srv purge --dry-run` lists what would go and
//! changes nothing; `ecs-srv purge` withdraws every record this deployment owns (its
//! tasks' sets, whole SRV sets, trees) and nothing else: a foreign record, and another
//! owner's records beside ours, stay. The stack's deletion runs the same purge through a
//! CloudFormation custom resource backed by the function, which answers CloudFormation.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_route53::types::RrType;
use serde_json::{json, Value};
use tokio::io::BufReader;
use tokio::net::TcpListener;

use crate::support::http::{read_request, write_response};
use crate::support::runtime_api::{Answer, Function, RuntimeApi};
use crate::support::*;

fn ecs_srv(zone_id: &str, cluster: &str, args: &[&str], owner: &str) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_ecs-srv"))
        .args(args)
        .envs(moto_env(zone_id))
        .env("CLUSTERS", cluster)
        .env("RECORD_OWNER", owner)
        .output()
        .expect("running ecs-srv");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stdout}"))
}

/// A zone with this deployment's tasks (whole sets on), a foreign record, and the records
/// of another deployment (owner `blue`) of another cluster.
async fn populated(name: &str, octet: u8) -> (String, World, Vec<ListedRecord>) {
    let clients = moto_clients();
    let world = seed_one_host_cluster(&clients, &format!("{name}-main"), octet, 10).await;
    let blue = seed_one_host_cluster(&clients, &format!("{name}-blue"), octet + 1, 10).await;
    let zone_id = create_private_zone(&clients, &world, &format!("{name}.internal")).await;
    let web = register_task_definition(&clients, &format!("{name}-web"), "web", &[80], true).await;
    let api = register_task_definition(&clients, &format!("{name}-api"), "api", &[80], true).await;
    for _ in 0..3 {
        run_task(&clients, &world, &web, "service:web", true).await;
    }
    run_task(&clients, &blue, &api, "service:api", true).await;
    ecs_srv(&zone_id, &world.cluster_arn, &["reconcile"], "ecs-srv");
    ecs_srv(&zone_id, &blue.cluster_arn, &["reconcile"], "blue");
    put_record(
        &clients,
        &zone_id,
        &format!("db.{name}.internal."),
        RrType::A,
        None,
        "10.9.9.9",
    )
    .await;
    let theirs: Vec<ListedRecord> = zone_records(&clients, &zone_id)
        .await
        .into_iter()
        .filter(|r| {
            !r.2.as_deref().is_some_and(|id| id.starts_with("ecs-srv:")) && !r.0.contains(".web.")
        })
        .collect();
    (zone_id, world, theirs)
}

#[tokio::test]
async fn purge_withdraws_every_owned_record_and_nothing_else() {
    let clients = moto_clients();
    let (zone_id, world, theirs) = populated("uninstall", 211).await;
    let before = zone_records(&clients, &zone_id).await;
    assert!(
        before
            .iter()
            .any(|r| r.0.starts_with("_web._tcp._all.web.")),
        "whole sets are written"
    );

    let dry = ecs_srv(
        &zone_id,
        &world.cluster_arn,
        &["purge", "--dry-run"],
        "ecs-srv",
    );
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["tasks"], 3);
    assert_eq!(dry["left"], 0, "the plan leaves nothing of ours: {dry:#}");
    assert_eq!(
        zone_records(&clients, &zone_id).await,
        before,
        "a dry run writes nothing"
    );

    let done = ecs_srv(&zone_id, &world.cluster_arn, &["purge"], "ecs-srv");
    assert_eq!(done["left"], 0, "{done:#}");
    let after = zone_records(&clients, &zone_id).await;
    assert!(
        !after
            .iter()
            .any(|r| r.0.contains(".web.") || r.0.starts_with("web.")),
        "{after:?}"
    );
    assert_eq!(
        after, theirs,
        "the foreign record and blue's records stay exactly as they were"
    );
}

/// Serves one CloudFormation ResponseURL on loopback and keeps what is PUT to it.
pub(crate) async fn response_url() -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/cfn-response?signature=x",
        listener.local_addr().unwrap()
    );
    let answers = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&answers);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let mut stream = BufReader::new(stream);
            if let Some(request) = read_request(&mut stream).await {
                assert_eq!(request.method, "PUT");
                kept.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&request.body).unwrap_or(Value::Null));
                let _ = write_response(&mut stream, 200, &[], b"").await;
            }
        }
    });
    (url, answers)
}

#[tokio::test]
async fn deleting_the_stack_purges_the_zone_and_answers_cloudformation() {
    let clients = moto_clients();
    let (zone_id, world, theirs) = populated("stackdelete", 221).await;
    let (url, answers) = response_url().await;
    // moto lists a cluster's tasks by a substring of the cluster ARN: the two tests' names
    // share none.
    let api = RuntimeApi::start().await;
    let mut environment: Vec<(String, String)> = moto_env(&zone_id)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    environment.push(("CLUSTERS".into(), world.cluster_arn.clone()));
    let function = Function::start(&api, &environment);
    let request = |kind: &str, physical: Option<&str>| {
        let mut request = json!({
            "RequestType": kind, "ResponseURL": url, "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/ecs-srv/1",
            "RequestId": format!("req-{kind}"), "LogicalResourceId": "ZonePurge", "ResourceType": "Custom::EcsSrvZonePurge",
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:ecs-srv",
            "ResourceProperties": {"HostedZoneId": zone_id, "RecordOwner": "ecs-srv"},
        });
        if let Some(id) = physical {
            request["PhysicalResourceId"] = json!(id);
        }
        request
    };
    let within = Duration::from_secs(60);
    let before = zone_records(&clients, &zone_id).await;
    assert!(matches!(
        api.invoke(&function, request("Create", None), within).await,
        Answer::Response(_)
    ));
    let created = answers.lock().unwrap()[0].clone();
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    let physical = created["PhysicalResourceId"]
        .as_str()
        .expect("an id")
        .to_owned();
    assert!(matches!(
        api.invoke(&function, request("Update", Some(&physical)), within)
            .await,
        Answer::Response(_)
    ));
    assert_eq!(
        answers.lock().unwrap()[1]["PhysicalResourceId"],
        physical,
        "an Update keeps its id"
    );
    assert_eq!(
        zone_records(&clients, &zone_id).await,
        before,
        "Create and Update change nothing"
    );

    assert!(matches!(
        api.invoke(&function, request("Delete", Some(&physical)), within)
            .await,
        Answer::Response(_)
    ));
    let deleted = answers.lock().unwrap()[2].clone();
    assert_eq!(deleted["Status"], "SUCCESS", "{deleted}");
    assert_eq!(deleted["RequestId"], "req-Delete");
    assert_eq!(
        zone_records(&clients, &zone_id).await,
        theirs,
        "the zone as the stack found it"
    );
}
