//! The real binary on every path of one configuration, behind the recording proxy: the
//! function under a Lambda runtime API with the template's own environment (task events,
//! the health re-checks, the schedule, the purge custom resource), on the SQS path the
//! packer before it (the inbox's events packed into the work queue, which the writer is
//! then handed as Lambda would), and the operator's commands (`reconcile --dry-run`,
//! `status`) with the writer's environment. Each step checks that it did what it is for,
//! so that the record holds every path.

use std::time::Duration;

use serde_json::{json, Value};

use super::scene::{Configuration, Scene};
use crate::support::moto_proxy::{Faults, MotoProxy};
use crate::support::runtime_api::{Answer, Function, RuntimeApi};
use crate::support::signed_request::SignedRequest;
use crate::support::*;

/// Long enough for any invocation against moto on a loaded machine.
const ANSWER_WITHIN: Duration = Duration::from_secs(60);

/// Runs every path of `config`; the scene and every request the binary sent.
pub async fn run(config: &Configuration) -> (Scene, Vec<SignedRequest>) {
    let scene = Scene::new(config).await;
    let pending_arn = scene.pending["detail"]["taskArn"]
        .as_str()
        .expect("a task ARN");
    let faults = Faults {
        health_unknown: Some(pending_arn.to_owned()),
        ..Faults::default()
    };
    let proxy = MotoProxy::start(moto().endpoint(), faults).await;
    let environment = environment(&scene, &proxy);
    let api = RuntimeApi::start().await;
    let function = Function::start(&api, &environment);
    let name = config.name;

    let invoke = |event: Value| api.invoke(&function, event, ANSWER_WITHIN);
    let said = || function.stderr.lock().unwrap().join("\n");
    let (good, pending) = (&scene.good, &scene.pending);
    if config.use_sqs {
        let (_, packer) = scene.packer.as_ref().expect("the SQS path has a packer");
        let work = queue_arn(&packer["PACK_INTO_QUEUE_URL"]);
        let one =
            |id: &str, body: &Value, attempt| sqs_batch(&[(id, body.to_string())], &work, attempt);
        // EventBridge's events reach the inbox; the packer sends them on into the work queue.
        let packed = through_the_packer(&scene, &proxy, &[good, pending]).await;
        // The pending task goes back to the inbox with a delay, so nothing comes back.
        expect_no_failures(
            invoke(sqs_batch(&packed, &work, 0)).await,
            "RUNNING events, packed",
        );
        assert!(
            scene.good_is_published().await,
            "{name}: RUNNING publishes:\n{}",
            said()
        );
        // Re-checked too often: parked in the dead-letter queue.
        expect_no_failures(invoke(one("parked", pending, 400)).await, "parking");
        let schedule = one("schedule", &scheduled(config), 0);
        expect_no_failures(invoke(schedule).await, "the reconcile");
        stop_good_task(&scene).await;
        let stopped = one("stopped", &stopped(&scene), 0);
        expect_no_failures(invoke(stopped).await, "a STOPPED event");
    } else {
        expect_response(invoke(good.clone()).await, "a RUNNING event");
        assert!(
            scene.good_is_published().await,
            "{name}: RUNNING publishes:\n{}",
            said()
        );
        match invoke(pending.clone()).await {
            Answer::Error(error) => assert_eq!(error["errorType"], "EventsFailed", "{error}"),
            other => panic!("{name}: a task not healthy yet fails the invocation: {other:?}"),
        }
        expect_response(invoke(scheduled(config)).await, "the reconcile");
        stop_good_task(&scene).await;
        expect_response(invoke(stopped(&scene)).await, "a STOPPED event");
    }
    assert!(
        !scene.good_is_published().await,
        "{name}: STOPPED withdraws (the zone holds {:?}):\n{}",
        scene.owned_names().await,
        said()
    );

    operator_command(&["reconcile", "--dry-run"], &environment).await;
    operator_command(&["status", "--json"], &environment).await;
    purge_on_stack_deletion(&api, &function, &scene).await;
    let left = scene.owned_names().await;
    assert!(
        left.is_empty(),
        "{name}: the purge leaves nothing: {left:?}"
    );
    (scene, proxy.requests())
}

/// What Lambda gives the function: the template's variables, the account's credentials,
/// the region, and the proxy as every service's endpoint (STS's included).
fn environment(scene: &Scene, proxy: &MotoProxy) -> Vec<(String, String)> {
    let mut environment = lambda_environment(&scene.variables, proxy);
    // The template's rate is a production budget that moto does not need.
    environment.push(("ROUTE53_WRITE_RATE".to_owned(), "100".to_owned()));
    environment.extend(scene.function.environment());
    environment
}

/// `variables` as Lambda sets them beside its own: the region, and the proxy as every
/// service's endpoint.
fn lambda_environment(
    variables: &std::collections::BTreeMap<String, String>,
    proxy: &MotoProxy,
) -> Vec<(String, String)> {
    let mut environment: Vec<(String, String)> = variables.clone().into_iter().collect();
    let aws = [
        ("AWS_ENDPOINT_URL", proxy.endpoint.as_str()),
        ("AWS_REGION", REGION),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    environment.extend(aws.map(|(k, v)| (k.to_owned(), v.to_owned())));
    environment
}

/// The packer, with the template's environment and credentials of its own, handed
/// `events` as one inbox batch; what it sent into the work queue, read back (outside the
/// proxy) as `(message id, body)` for the writer's batch.
async fn through_the_packer(
    scene: &Scene,
    proxy: &MotoProxy,
    events: &[&Value],
) -> Vec<(&'static str, String)> {
    let (identity, variables) = scene.packer.as_ref().expect("the SQS path has a packer");
    let mut environment = lambda_environment(variables, proxy);
    environment.extend(identity.environment());
    let api = RuntimeApi::start().await;
    let packer = Function::start(&api, &environment);
    let inbox = queue_arn(&scene.variables["INBOX_QUEUE_URL"]);
    let ids = ["inbox-1", "inbox-2", "inbox-3"];
    let bodies: Vec<(&str, String)> = ids
        .iter()
        .zip(events)
        .map(|(id, e)| (*id, e.to_string()))
        .collect();
    let answer = api
        .invoke(&packer, sqs_batch(&bodies, &inbox, 0), ANSWER_WITHIN)
        .await;
    expect_no_failures(answer, "the packer");
    let received = scene
        .clients
        .sqs
        .receive_message()
        .queue_url(&variables["PACK_INTO_QUEUE_URL"])
        .max_number_of_messages(10)
        .send()
        .await
        .expect("ReceiveMessage from the work queue");
    let packed: Vec<(&'static str, String)> = received
        .messages()
        .iter()
        .zip(["work-1", "work-2", "work-3"])
        .map(|(message, id)| (id, message.body().unwrap_or_default().to_owned()))
        .collect();
    assert!(!packed.is_empty(), "the packer sent nothing on");
    packed
}

/// EventBridge's scheduled event, as the reconcile rule sends it.
fn scheduled(config: &Configuration) -> Value {
    let rule = format!(
        "arn:aws:events:{REGION}:{}:rule/ecs-srv-reconcile",
        config.account
    );
    json!({
        "version": "0", "id": "5e0b8c1a-0000-0000-0000-00000000a11a",
        "detail-type": "Scheduled Event", "source": "aws.events", "account": config.account,
        "time": "2026-12-07T00:00:00Z", "region": REGION, "resources": [rule], "detail": {}
    })
}

async fn stop_good_task(scene: &Scene) {
    scene
        .clients
        .ecs
        .stop_task()
        .cluster(&scene.world.cluster_name)
        .task(task_id_of(&scene.good))
        .send()
        .await
        .expect("StopTask");
}

/// The good task's STOPPED event.
fn stopped(scene: &Scene) -> Value {
    let arn = scene.good["detail"]["taskArn"].as_str().unwrap_or_default();
    let host = scene.world.hosts.first();
    let mut event = retarget(
        fixture("bridge-stopped.json"),
        arn,
        &scene.world,
        host,
        &scene.web,
    );
    event["account"] = scene.good["account"].clone();
    event
}

/// `…/ACCOUNT/NAME` → the queue's ARN, as Lambda names an SQS event's source.
fn queue_arn(url: &str) -> String {
    let mut parts = url.rsplit('/');
    let (name, account) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    format!("arn:aws:sqs:{REGION}:{account}:{name}")
}

fn expect_response(answer: Answer, what: &str) -> Value {
    match answer {
        Answer::Response(response) => response,
        Answer::Error(error) => panic!("{what} failed: {error}"),
    }
}

/// The SQS path reports no message back for the queue to deliver again.
fn expect_no_failures(answer: Answer, what: &str) {
    let response = expect_response(answer, what);
    let failures = response["batchItemFailures"].as_array().map_or(0, Vec::len);
    assert_eq!(failures, 0, "{what}: {response}");
}

/// Runs an operator's command with the function's environment; it must print JSON (its
/// exit code says whether a person must act, which is not this test's business). It runs
/// beside the proxy on this runtime, so it is awaited, never waited for.
async fn operator_command(args: &[&str], environment: &[(String, String)]) {
    let running = tokio::process::Command::new(env!("CARGO_BIN_EXE_ecs-srv"))
        .args(args)
        .env_clear()
        .envs(environment.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(ANSWER_WITHIN, running)
        .await
        .unwrap_or_else(|_| panic!("ecs-srv {args:?} ran longer than {ANSWER_WITHIN:?}"))
        .expect("running ecs-srv");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let printed: Result<Value, _> = serde_json::from_str(&stdout);
    assert!(
        printed.is_ok(),
        "ecs-srv {args:?} printed no JSON:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// CloudFormation deletes the stack: the function purges the zone and answers SUCCESS.
async fn purge_on_stack_deletion(api: &RuntimeApi, function: &Function, scene: &Scene) {
    let (url, answers) = crate::purge::response_url().await;
    let delete = json!({
        "RequestType": "Delete", "ResponseURL": url, "RequestId": "iam-delete",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/ecs-srv/1",
        "LogicalResourceId": "ZonePurge", "ResourceType": "Custom::EcsSrvZonePurge",
        "PhysicalResourceId": "ecs-srv-zone-purge",
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:ecs-srv",
        "ResourceProperties": {"HostedZoneId": scene.zone_id, "RecordOwner": "ecs-srv"},
    });
    expect_response(
        api.invoke(function, delete, ANSWER_WITHIN).await,
        "the purge",
    );
    let answered = answers.lock().unwrap().first().cloned();
    let status = answered.as_ref().map(|a| a["Status"].clone());
    assert_eq!(status, Some(json!("SUCCESS")), "{answered:?}");
}
