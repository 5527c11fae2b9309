//! The metric line, read back field by field as CloudWatch reads it.

use super::*;
use crate::run::report::EventOutcome;

fn event(task: &str, decision: Decision, written: bool) -> EventOutcome {
    EventOutcome {
        source: format!("m-{task}"),
        event_id: Some(format!("e-{task}")),
        task_id: Some(task.to_owned()),
        decision,
        error: None,
        error_kind: None,
        retryable: false,
        written,
        lag_ms: written.then_some(1_500),
        healthy_lag_ms: None,
    }
}

fn failed(task: &str, kind: &str, retryable: bool) -> EventOutcome {
    EventOutcome {
        error: Some("refused".into()),
        error_kind: Some(kind.into()),
        retryable,
        ..event(task, Decision::Publish, false)
    }
}

fn names(line: &Value) -> Vec<String> {
    line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .expect("a metric list")
        .iter()
        .map(|m| m["Name"].as_str().expect("a name").to_owned())
        .collect()
}

#[test]
fn an_event_invocation_counts_what_it_did_and_refused() {
    let report = InvocationReport {
        events: vec![
            event("a", Decision::Publish, true),
            event("a", Decision::Publish, true),
            event("b", Decision::Withdraw, true),
            event("c", Decision::Publish, false),
            failed("d", "Conflict:OtherCluster", false),
            failed("e", "BadInput", false),
            failed("f", "Conflict:FullName", true),
            failed("g", "NotHealthyYet", true),
        ],
        api_calls: BTreeMap::from([
            ("Route53.ChangeResourceRecordSets".to_owned(), 3),
            ("Route53.ListResourceRecordSets".to_owned(), 1),
            ("Route53.Retried".to_owned(), 2),
            ("ECS.DescribeTasks".to_owned(), 1),
        ]),
        awaiting_health: 1,
        ..InvocationReport::default()
    };
    let metrics = Metrics::of_events(&report);
    let now = UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
    let line = metrics.line("ecs-srv-Publisher-1", now);
    assert_eq!(line["_aws"]["Timestamp"], 1_800_000_000_000u64);
    assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "ecs-srv");
    assert_eq!(
        line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        json!([["FunctionName"]])
    );
    assert_eq!(line["FunctionName"], "ecs-srv-Publisher-1");
    assert_eq!(
        line["TasksPublished"], 1,
        "a task counts once however many events"
    );
    assert_eq!(line["TasksWithdrawn"], 1);
    assert_eq!(line["Refusals"], 2);
    assert_eq!(line["RefusedOtherCluster"], 1);
    assert_eq!(line["RefusedBadInput"], 1);
    assert_eq!(line["RefusedForeignRecord"], 0);
    assert_eq!(
        line["RetryableFailures"], 1,
        "waiting for health is no failure"
    );
    assert_eq!(line["TasksAwaitingHealth"], 1);
    assert_eq!(
        line["Route53Requests"], 4,
        "retries are attempts, not requests"
    );
    assert_eq!(line["Route53Throttles"], 2);
    assert_eq!(line["EventLag"], json!([1_500, 1_500, 1_500]));
    let listed = names(&line);
    for name in listed.iter() {
        assert!(line.get(name).is_some(), "{name} is declared and present");
    }
    assert!(
        !listed.contains(&"HealthyLag".to_owned()),
        "no empty distribution"
    );
}

#[test]
fn a_reconcile_reports_its_drift_and_a_long_distribution_is_spread() {
    let report = ReconcileReport {
        drift: vec!["t1".into(), "t2".into()],
        refusals: BTreeMap::from([("Conflict:ForeignRecord".to_owned(), 2)]),
        ..ReconcileReport::default()
    };
    let line = Metrics::of_reconcile(&report).line("f", UNIX_EPOCH);
    assert_eq!(line["ReconcileDrift"], 2);
    assert_eq!(line["RefusedForeignRecord"], 2);
    assert_eq!(line["Refusals"], 2);
    let values: Vec<u64> = (0..1_000).rev().collect();
    let spread = spread(&values);
    assert_eq!(spread.len(), MAX_VALUES);
    assert_eq!((spread[0], spread[99]), (0, 999), "the extremes are kept");
}

fn change(name: &str) -> crate::plan::records::Change {
    crate::plan::records::Change::Create(crate::plan::records::RecordSet {
        name: name.to_owned(),
        record_type: crate::plan::records::RecordType::A,
        routing: crate::plan::records::Routing::Simple,
        ttl: 10,
        values: vec!["10.0.0.1".to_owned()],
        alias: None,
    })
}

#[test]
fn changes_full_names_health_lag_shards_and_every_request_reach_the_line() {
    let batch = crate::apply::outcome::AppliedBatch {
        change_id: "C1".to_owned(),
        task_ids: vec!["a".to_owned()],
        changes: vec![change("a.web.svc."), change("web.svc.")],
        applied_at: UNIX_EPOCH,
    };
    let report = InvocationReport {
        events: vec![
            EventOutcome {
                healthy_lag_ms: Some(4_000),
                ..event("a", Decision::Publish, true)
            },
            failed("b", "Conflict:FullName", false),
        ],
        batches: vec![batch.clone(), batch],
        sharded_whole_sets: vec![
            ShardedSet {
                name: "_app._tcp._all.web.svc.".to_owned(),
                targets: 500,
                shards: 2,
            },
            ShardedSet {
                name: "_admin._tcp._all.web.svc.".to_owned(),
                targets: 450,
                shards: 2,
            },
        ],
        api_calls: BTreeMap::from([("ECS.DescribeTasks".to_owned(), 2)]),
        ..InvocationReport::default()
    };
    let line = Metrics::of_events(&report).line("f", UNIX_EPOCH);
    assert_eq!(line["RecordChanges"], 4, "every change of every batch");
    assert_eq!(line["RefusedFullName"], 1);
    assert_eq!(line["Refusals"], 1);
    assert_eq!(line["HealthyLag"], json!([4_000]));
    assert!(names(&line).contains(&"HealthyLag".to_owned()));
    assert_eq!(line["ShardedWholeSets"], 2);
    assert_eq!(line["ShardedTargets"], 950);
    assert_eq!(
        line["Route53Requests"], 0,
        "ECS requests are not Route 53's"
    );
    assert_eq!(
        line["ApiCalls"],
        json!({"ECS.DescribeTasks": 2}),
        "every request of the invocation, as a searchable property"
    );
    assert!(
        !names(&line).contains(&"ApiCalls".to_owned()),
        "a property, not a metric"
    );
}
