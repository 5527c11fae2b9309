//! The real `ecs-srv replay` binary against moto: publish, duplicate, drain, stop,
//! late RUNNING, malformed input, and a foreign record that survives all of it.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

use crate::support::*;
use serde_json::{json, Value};

struct Replay {
    zone_id: String,
    dir: tempfile::TempDir,
}

impl Replay {
    /// Writes `events` to a file and replays it; returns the exit success and the summary.
    fn run(&self, file_name: &str, events: &Value) -> (bool, Value) {
        let path = self.dir.path().join(file_name);
        std::fs::write(&path, serde_json::to_vec_pretty(events).unwrap()).unwrap();
        self.run_files(&[&path])
    }

    fn run_files(&self, files: &[&Path]) -> (bool, Value) {
        let output = Command::new(env!("CARGO_BIN_EXE_ecs-srv"))
            .arg("replay")
            .args(files)
            .envs(moto_env(&self.zone_id))
            .output()
            .expect("running ecs-srv");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let summary = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "replay printed no JSON summary ({e}); stdout: {stdout}; stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.success(), summary)
    }
}

fn owned(
    records: &[(String, String, Option<String>, Vec<String>)],
) -> Vec<(String, String, Vec<String>)> {
    records
        .iter()
        .filter(|(_, _, id, _)| id.as_deref().is_some_and(|id| id.starts_with("ecs-srv:")))
        .map(|(name, kind, _, values)| (name.clone(), kind.clone(), values.clone()))
        .collect()
}

#[tokio::test]
async fn replay_publishes_withdraws_and_never_resurrects() {
    let clients = moto_clients();
    let host_ip = Ipv4Addr::new(10, 30, 0, 10);
    let world = seed_cluster(&clients, "replay", "10.30.0.0/16", &[host_ip]).await;
    let zone_id = create_private_zone(&clients, &world, "replay.internal").await;
    let web_definition = register_task_definition(&clients, "web", "web", &[80], false).await;
    let api_definition = register_task_definition(&clients, "api", "api", &[8080], true).await;
    let (web_arn, web_instance) =
        run_task(&clients, &world, &web_definition, "service:web", false).await;
    let (api_arn, _) = run_task(&clients, &world, &api_definition, "service:api", true).await;
    let host = world
        .hosts
        .iter()
        .find(|h| Some(&h.container_instance_arn) == web_instance.as_ref())
        .expect("task placed on the host");
    let web_id = web_arn.rsplit('/').next().unwrap().to_owned();
    let api_id = api_arn.rsplit('/').next().unwrap().to_owned();

    // A record somebody else wrote, which must survive everything below.
    let foreign = aws_sdk_route53::types::Change::builder()
        .action(aws_sdk_route53::types::ChangeAction::Create)
        .resource_record_set(
            aws_sdk_route53::types::ResourceRecordSet::builder()
                .name("db.replay.internal.")
                .r#type(aws_sdk_route53::types::RrType::A)
                .ttl(300)
                .resource_records(
                    aws_sdk_route53::types::ResourceRecord::builder()
                        .value("10.30.9.9")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    clients
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(
            aws_sdk_route53::types::ChangeBatch::builder()
                .changes(foreign)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let foreign_before: Vec<_> = zone_records(&clients, &zone_id)
        .await
        .into_iter()
        .filter(|r| r.0 == "db.replay.internal.")
        .collect();
    assert_eq!(foreign_before.len(), 1);

    let replay = Replay {
        zone_id: zone_id.clone(),
        dir: tempfile::tempdir().unwrap(),
    };
    let web_running = retarget(
        fixture("bridge-running.json"),
        &web_arn,
        &world,
        Some(host),
        &web_definition,
    );
    let api_running = retarget(
        fixture("fargate-running.json"),
        &api_arn,
        &world,
        None,
        &api_definition,
    );

    // 1. RUNNING for a bridge task and a Fargate task, in one invocation.
    let (ok, summary) = replay.run("running.json", &json!([web_running, api_running]));
    assert!(ok, "{summary:#}");
    assert_eq!(
        summary["invocations"][0]["batches"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "both tasks and the whole SRV sets that follow them (on by default) in one ChangeBatch: {summary:#}"
    );
    let web_target = format!("{web_id}.web.replay.internal.");
    let api_target = format!("{api_id}.api.replay.internal.");
    let mut expected = vec![
        (
            "_api._tcp.api.replay.internal.".to_owned(),
            "SRV".to_owned(),
            vec![format!("1 256 8080 {api_target}")],
        ),
        (
            "_web._tcp.web.replay.internal.".to_owned(),
            "SRV".to_owned(),
            vec![format!("1 256 32768 {web_target}")],
        ),
        (
            "api.replay.internal.".to_owned(),
            "A".to_owned(),
            vec!["10.0.2.40".to_owned()],
        ),
        (
            api_target.clone(),
            "A".to_owned(),
            vec!["10.0.2.40".to_owned()],
        ),
        (
            "web.replay.internal.".to_owned(),
            "A".to_owned(),
            vec![host_ip.to_string()],
        ),
        (
            web_target.clone(),
            "A".to_owned(),
            vec![host_ip.to_string()],
        ),
    ];
    expected.sort();
    let mut published = owned(&zone_records(&clients, &zone_id).await);
    published.sort();
    assert_eq!(published, expected);
    let whole_sets: Vec<(String, Vec<String>)> = zone_records(&clients, &zone_id)
        .await
        .into_iter()
        .filter(|(name, _, _, _)| name.contains("._all."))
        .map(|(name, _, _, values)| (name, values))
        .collect();
    assert_eq!(
        whole_sets,
        [
            (
                "_api._tcp._all.api.replay.internal.".to_owned(),
                vec![format!("1 256 8080 {api_target}")]
            ),
            (
                "_web._tcp._all.web.replay.internal.".to_owned(),
                vec![format!("1 256 32768 {web_target}")]
            ),
        ],
        "the whole sets carry the same scaled weights"
    );

    // 2. The same events again change nothing.
    let (ok, summary) = replay.run("duplicate.json", &json!([web_running, api_running]));
    assert!(ok, "{summary:#}");
    assert_eq!(summary["applied_changes"], 0, "{summary:#}");
    assert!(summary["invocations"][0]["api_calls"]
        .get("Route53.ChangeResourceRecordSets")
        .is_none());

    // 3. Draining (desired STOPPED) withdraws at once.
    let draining = retarget(
        fixture("bridge-draining.json"),
        &web_arn,
        &world,
        Some(host),
        &web_definition,
    );
    let (ok, summary) = replay.run("draining.json", &draining);
    assert!(ok, "{summary:#}");
    assert_eq!(
        summary["applied_changes"], 4,
        "its three sets, and the web whole set it emptied: {summary:#}"
    );
    let remaining = owned(&zone_records(&clients, &zone_id).await);
    assert!(
        remaining.iter().all(|(name, _, _)| !name.contains("web")),
        "{remaining:?}"
    );

    // 4. STOPPED without bindings or addresses withdraws what the zone holds.
    let api_stopped = retarget(
        fixture("fargate-stopped.json"),
        &api_arn,
        &world,
        None,
        &api_definition,
    );
    let (ok, summary) = replay.run("stopped.json", &api_stopped);
    assert!(ok, "{summary:#}");
    assert!(owned(&zone_records(&clients, &zone_id).await).is_empty());

    // 5. A late RUNNING for a task ECS has stopped does not come back.
    clients
        .ecs
        .stop_task()
        .cluster(&world.cluster_name)
        .task(&web_arn)
        .send()
        .await
        .unwrap();
    let (ok, summary) = replay.run("late.json", &web_running);
    assert!(ok, "{summary:#}");
    assert_eq!(
        summary["invocations"][0]["events"][0]["decision"], "withdraw",
        "{summary:#}"
    );
    assert!(owned(&zone_records(&clients, &zone_id).await).is_empty());

    // 6. A malformed event fails the run and writes nothing; the good event beside it
    //    still goes through.
    let (web2_arn, web2_instance) =
        run_task(&clients, &world, &web_definition, "service:web", false).await;
    let host2 = world
        .hosts
        .iter()
        .find(|h| Some(&h.container_instance_arn) == web2_instance.as_ref())
        .unwrap();
    let good = retarget(
        fixture("bridge-running.json"),
        &web2_arn,
        &world,
        Some(host2),
        &web_definition,
    );
    let mut bad = good.clone();
    bad["id"] = json!("bad-event-1");
    bad["detail"]["containers"][0]["networkBindings"][0]["hostPort"] = json!("not a port");
    let (ok, summary) = replay.run("mixed.json", &json!([bad, good]));
    assert!(!ok, "a malformed event must fail the run");
    let error = summary["invocations"][0]["events"][0]["error"]
        .as_str()
        .unwrap();
    assert!(
        error.contains("bad-event-1") && error.contains("hostPort"),
        "{error}"
    );
    assert_eq!(summary["invocations"][0]["events"][1]["error"], Value::Null);
    assert_eq!(
        owned(&zone_records(&clients, &zone_id).await).len(),
        3,
        "the good task is published"
    );

    let (ok, summary) = replay.run_files(&[&repo_root().join("events/invalid/wrong-types.json")]);
    assert!(!ok);
    assert_eq!(summary["applied_changes"], 0);

    let foreign_after: Vec<_> = zone_records(&clients, &zone_id)
        .await
        .into_iter()
        .filter(|r| r.0 == "db.replay.internal.")
        .collect();
    assert_eq!(
        foreign_after, foreign_before,
        "the foreign record survives byte for byte"
    );
}
