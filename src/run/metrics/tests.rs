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
