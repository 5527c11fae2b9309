//! The SQS path through the Lambda handler, against moto: a bad message is reported
//! alone while the rest of its batch is applied in one ChangeBatch, the latest version of
//! a task wins inside a batch, and a burst converges with one change request per batch.

use std::net::Ipv4Addr;

use crate::support::config::publisher_config;
use crate::support::*;
use ecs_srv::config::Settings;
use ecs_srv::input::payload::read_payload;
use ecs_srv::run::deployment::Deployment;
use ecs_srv::run::handler::handle;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};

fn config(zone_id: &str) -> Settings {
    // `make bench` sets BURST_WRITE_RATE to show the pacing bound.
    let rate = std::env::var("BURST_WRITE_RATE").unwrap_or_else(|_| "50".to_owned());
    // The FIFO queue's one message group runs one batch at a time: the one writer a
    // cache needs.
    publisher_config(
        zone_id,
        &["--route53-write-rate", &rate, "--zone-cache-seconds", "60"],
    )
}

async fn invoke(publisher: &Deployment, payload: Value) -> Value {
    handle(LambdaEvent::new(payload, Context::default()), publisher)
        .await
        .unwrap_or_else(|e| panic!("the SQS path answers, it does not fail: {e:?}"))
}

fn owned_count(records: &[ListedRecord]) -> usize {
    owned_records(records).count()
}

#[tokio::test]
async fn a_bad_message_is_reported_alone_and_the_rest_lands_in_one_batch() {
    let clients = moto_clients();
    let world = seed_one_host_cluster(&clients, "sqs", 50, 10).await;
    let zone_id = create_private_zone(&clients, &world, "sqs.internal").await;
    let web = register_task_definition(&clients, "web", "web", &[80], false).await;
    let running = running_bridge_events(&clients, &world, &web, "service:web", 3, 32000).await;
    let publisher = crate::support::config::deployment(config(&zone_id), moto_clients())
        .await
        .unwrap();

    // Task 2 drains in the same batch, after (and with a higher version than) its RUNNING.
    let mut draining = running[2].clone();
    draining["detail"]["desiredStatus"] = json!("STOPPED");
    draining["detail"]["version"] = json!(9);
    let bad = json!({"id": "broken-1", "detail-type": "ECS Task State Change", "source": "aws.ecs", "account": ACCOUNT, "region": REGION});
    let response = invoke(
        &publisher,
        sqs_event(&[
            draining,
            running[0].clone(),
            bad.clone(),
            running[1].clone(),
            running[2].clone(),
        ]),
    )
    .await;
    // A message that can never be read is reported once, at error level, and let go:
    // redelivering it would only fail again until it reached the dead-letter queue.
    assert_eq!(response, json!({"batchItemFailures": []}));
    let alone = read_payload(sqs_event(&[bad]), "lambda").expect("an SQS payload");
    let report = ecs_srv::run::events::process(&publisher, alone.inputs).await;
    let permanent: Vec<&str> = report
        .permanent_failures()
        .map(|failure| failure.source.as_str())
        .collect();
    assert_eq!(
        permanent,
        ["m0"],
        "the bad message fails for good: {report:?}"
    );

    let records = zone_records(&clients, &zone_id).await;
    assert_eq!(
        owned_count(&records),
        6,
        "tasks 0 and 1 published, task 2 not: {records:#?}"
    );
    assert_eq!(
        publisher
            .clients
            .calls
            .count("Route53.ChangeResourceRecordSets"),
        1,
        "one merged ChangeBatch"
    );
}

/// The burst's size: 100 tasks in `make test`; `make bench` sets `BURST_TASKS=1000`.
fn burst_tasks() -> usize {
    std::env::var("BURST_TASKS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100)
}

#[tokio::test]
async fn a_burst_converges_with_one_change_request_per_batch() {
    const BATCH: usize = 10;
    const TASKS_PER_SERVICE: usize = 50;
    let tasks = burst_tasks();
    let services = tasks.div_ceil(TASKS_PER_SERVICE).max(4);
    let clients = moto_clients();
    let hosts: Vec<Ipv4Addr> = (0..4).map(|i| Ipv4Addr::new(10, 51, 0, 10 + i)).collect();
    let world = seed_cluster(&clients, "burst", "10.51.0.0/16", &hosts).await;
    let zone_id = create_private_zone(&clients, &world, "burst.internal").await;
    let web = register_task_definition(&clients, "web", "web", &[80], false).await;
    let mut events = Vec::new();
    for service in 0..services {
        let count = tasks / services + usize::from(service < tasks % services);
        let first_port = 20000 + u16::try_from(events.len()).unwrap();
        let group = format!("service:web{service}");
        events
            .extend(running_bridge_events(&clients, &world, &web, &group, count, first_port).await);
    }
    let publisher = crate::support::config::deployment(config(&zone_id), moto_clients())
        .await
        .unwrap();
    let started = std::time::Instant::now();
    for batch in events.chunks(BATCH) {
        let response = invoke(&publisher, sqs_event(batch)).await;
        assert_eq!(response["batchItemFailures"], json!([]), "{response}");
    }
    let elapsed = started.elapsed();
    let records = zone_records_paged(&clients, &zone_id).await;
    assert_eq!(owned_count(&records), tasks * 3, "every task, exactly once");
    let calls = &publisher.clients.calls;
    let batches = tasks.div_ceil(BATCH) as u64;
    assert_eq!(calls.count("Route53.ChangeResourceRecordSets"), batches);
    assert_eq!(
        calls.count("ECS.DescribeTasks"),
        2 * batches,
        "per batch, one call confirms the tasks and one re-checks them after the write"
    );
    assert_eq!(
        calls.count("ECS.DescribeTaskDefinition"),
        1,
        "a revision is cached for good"
    );
    assert!(
        calls.count("Route53.ListResourceRecordSets") <= services as u64,
        "a warm single writer reads each service's subtree once (one page each), not per batch: {:?}",
        calls.snapshot()
    );
    assert!(
        calls.count("ECS.DescribeContainerInstances") <= 4,
        "hosts are cached: {:?}",
        calls.snapshot()
    );
    // Figures for `make bench`, which runs this test with BURST_TASKS=1000 and names a file
    // in BURST_FIGURES; never asserted.
    let figures = json!({
        "tasks": tasks,
        "batch_size": BATCH,
        "seconds": elapsed.as_secs_f64(),
        "events_per_second": tasks as f64 / elapsed.as_secs_f64(),
        "write_rate_limit": config(&zone_id).route53_write_rate,
        "api_calls": calls.snapshot(),
    });
    if let Some(path) = std::env::var_os("BURST_FIGURES") {
        std::fs::write(&path, figures.to_string()).expect("writing the burst figures");
    }
}
