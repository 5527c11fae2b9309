//! What template.yaml gives an operator: the dashboard and alarms over the function's own
//! metrics, the purge that runs when the stack is deleted (and when, relative to the other
//! resources). That every parameter's default and range agree with what the binary accepts
//! is `config_reference`'s.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::template::template;
use crate::template_env::Stack;

/// Every metric the function writes in the embedded metric format (namespace `ecs-srv`,
/// dimension `FunctionName`).
pub(crate) const FUNCTION_METRICS: &[&str] = &[
    "TasksPublished",
    "TasksWithdrawn",
    "RecordChanges",
    "Refusals",
    "RefusedForeignRecord",
    "RefusedOtherCluster",
    "RefusedFullName",
    "RefusedBadInput",
    "RetryableFailures",
    "EventLag",
    "HealthyLag",
    "Route53Requests",
    "Route53Throttles",
    "TasksAwaitingHealth",
    "ReconcileDrift",
    "ShardedWholeSets",
    "ShardedTargets",
];

fn stack_resources(template: &Value, chosen: &[(&str, &str)]) -> BTreeMap<String, Value> {
    let mut chosen = chosen.to_vec();
    chosen.push(("HostedZoneId", "Z0123456789ABCDEFGHIJ"));
    Stack::new(template, &chosen)
        .resources()
        .into_iter()
        .collect()
}

/// Every metric line of the dashboard as (namespace, name, dimension value).
fn dashboard_metrics(resources: &BTreeMap<String, Value>) -> BTreeSet<(String, String, String)> {
    let body = resources["Dashboard"]["Properties"]["DashboardBody"]
        .as_str()
        .expect("a dashboard body");
    let body: Value = serde_json::from_str(body)
        .unwrap_or_else(|error| panic!("the dashboard body is not JSON ({error}):\n{body}"));
    let mut lines = BTreeSet::new();
    for widget in body["widgets"].as_array().expect("widgets") {
        for metric in widget["properties"]["metrics"].as_array().expect("metrics") {
            let text = |index: usize| metric[index].as_str().unwrap_or_default().to_owned();
            lines.insert((text(0), text(1), text(3)));
        }
    }
    lines
}

#[test]
fn the_dashboard_shows_every_figure_and_the_queues_the_stack_has() {
    let template = template();
    for use_sqs in ["true", "false"] {
        let resources = stack_resources(&template, &[("UseSqsQueue", use_sqs)]);
        let lines = dashboard_metrics(&resources);
        for metric in FUNCTION_METRICS {
            assert!(
                lines.contains(&("ecs-srv".into(), (*metric).into(), "ref:PublisherFunction".into())),
                "UseSqsQueue={use_sqs}: the dashboard lacks {metric} of this stack's function: {lines:?}"
            );
        }
        let queue = |metric: &str, queue: &str| {
            lines.contains(&(
                "AWS/SQS".into(),
                metric.into(),
                format!("getatt:{queue}.QueueName"),
            ))
        };
        let sqs = use_sqs == "true";
        assert!(queue(
            "ApproximateNumberOfMessagesVisible",
            "DeadLetterQueue"
        ));
        assert_eq!(
            queue(
                "ApproximateNumberOfMessagesVisible",
                "TaskEventDeadLetterQueue"
            ),
            sqs
        );
        // Both queues of the SQS path: how long their oldest message waited and how many
        // wait; the inbox's re-checks waiting out their delay apart.
        for (metric, name) in [
            ("ApproximateAgeOfOldestMessage", "TaskEventQueue"),
            ("ApproximateNumberOfMessagesVisible", "TaskEventQueue"),
            ("ApproximateAgeOfOldestMessage", "InboxQueue"),
            ("ApproximateNumberOfMessagesVisible", "InboxQueue"),
            ("ApproximateNumberOfMessagesDelayed", "InboxQueue"),
        ] {
            assert_eq!(
                queue(metric, name),
                sqs,
                "UseSqsQueue={use_sqs}: {metric} of {name}"
            );
        }
    }
}

/// A packer that stops draining the inbox leaves the writer without events, so EventLag
/// has no data: the inbox's own age says so, above the longest re-check delay a message
/// may wait there by design.
#[test]
fn an_inbox_that_is_not_drained_raises_an_alarm() {
    let template = template();
    let alarm = &template["Resources"]["InboxAgeAlarm"];
    assert_eq!(alarm["Condition"], "UseSqs");
    let p = &alarm["Properties"];
    assert_eq!(p["Namespace"], "AWS/SQS");
    assert_eq!(p["MetricName"], "ApproximateAgeOfOldestMessage");
    assert_eq!(
        p["Dimensions"],
        json!([{ "Name": "QueueName", "Value": { "Fn::GetAtt": "InboxQueue.QueueName" } }])
    );
    assert_eq!(p["Statistic"], "Maximum");
    assert_eq!(p["ComparisonOperator"], "GreaterThanThreshold");
    let longest_delay = template["Parameters"]["HealthRecheckSeconds"]["MaxValue"]
        .as_u64()
        .expect("a largest re-check delay");
    let window = template["Parameters"]["BatchingWindowSeconds"]["MaxValue"]
        .as_u64()
        .expect("a largest window");
    let threshold = p["Threshold"].as_u64().expect("a threshold in seconds");
    assert!(
        threshold > longest_delay + window,
        "a re-check waiting out its delay is no stall: {threshold} s"
    );
}

#[test]
fn alarms_watch_sustained_drift_the_lag_p99_and_refusals() {
    let template = template();
    let resources = &template["Resources"];
    let this_function =
        json!([{ "Name": "FunctionName", "Value": { "Ref": "PublisherFunction" } }]);

    let drift = &resources["ReconcileDriftAlarm"]["Properties"];
    assert_eq!(drift["Namespace"], "ecs-srv");
    assert_eq!(drift["MetricName"], "ReconcileDrift");
    assert_eq!(drift["Dimensions"], this_function);
    assert_eq!(drift["Period"], 300);
    assert_eq!(drift["EvaluationPeriods"], 3, "three periods in a row");
    assert_eq!(drift["DatapointsToAlarm"], 3, "all three breach");
    assert_eq!(drift["ComparisonOperator"], "GreaterThanThreshold");

    let refusals = &resources["RefusalsAlarm"]["Properties"];
    assert_eq!(refusals["MetricName"], "Refusals");
    assert_eq!(refusals["Dimensions"], this_function);
    assert_eq!(refusals["Threshold"], 0);

    // EventLag is in milliseconds; the alarm divides its p99 by 1,000 and compares it with
    // LagAlarmSeconds.
    let lag = &resources["EventLagAlarm"]["Properties"];
    let metrics = lag["Metrics"].as_array().expect("metric queries");
    let stat = metrics
        .iter()
        .find(|query| !query["MetricStat"].is_null())
        .expect("the EventLag query");
    assert_eq!(stat["MetricStat"]["Metric"]["MetricName"], "EventLag");
    assert_eq!(stat["MetricStat"]["Metric"]["Namespace"], "ecs-srv");
    assert_eq!(stat["MetricStat"]["Metric"]["Dimensions"], this_function);
    assert_eq!(stat["MetricStat"]["Stat"], "p99");
    assert_eq!(stat["ReturnData"], false);
    let returned = metrics
        .iter()
        .find(|query| query["ReturnData"] == true)
        .expect("the returned expression");
    assert_eq!(
        returned["Expression"],
        format!("{} / 1000", stat["Id"].as_str().expect("an id"))
    );
    assert_eq!(lag["Threshold"], json!({ "Ref": "LagAlarmSeconds" }));
    assert_eq!(template["Parameters"]["LagAlarmSeconds"]["Default"], 60);
}

/// The resources each resource refers to: `Ref`, `Fn::GetAtt`, `${...}` in `Fn::Sub`, and
/// `DependsOn`.
fn references(resource: &Value, names: &BTreeSet<String>) -> BTreeSet<String> {
    fn walk(value: &Value, names: &BTreeSet<String>, found: &mut BTreeSet<String>) {
        match value {
            Value::Object(object) => {
                for (key, child) in object {
                    let mut take = |name: &str| {
                        let name = name.split('.').next().unwrap_or_default();
                        if names.contains(name) {
                            found.insert(name.to_owned());
                        }
                    };
                    match (key.as_str(), child) {
                        ("Ref", Value::String(name)) | ("Fn::GetAtt", Value::String(name)) => {
                            take(name)
                        }
                        ("Fn::GetAtt", Value::Array(parts)) => {
                            take(parts[0].as_str().unwrap_or_default())
                        }
                        ("Fn::Sub", Value::String(text)) => text
                            .split("${")
                            .skip(1)
                            .for_each(|rest| take(rest.split('}').next().unwrap_or_default())),
                        ("DependsOn", names_depended_on) => {
                            crate::template::as_list(names_depended_on)
                                .iter()
                                .for_each(|name| take(name.as_str().unwrap_or_default()))
                        }
                        _ => {}
                    }
                    walk(child, names, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|child| walk(child, names, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    walk(resource, names, &mut found);
    found
}

/// The value with every `Fn::If` replaced by the branch this stack takes.
fn branches_taken(stack: &Stack, value: &Value) -> Value {
    match value {
        Value::Object(object) => {
            if let Some(Value::Array(arguments)) = object.get("Fn::If") {
                let condition = arguments[0].as_str().expect("a condition");
                let branch = if stack.condition(condition) {
                    &arguments[1]
                } else {
                    &arguments[2]
                };
                return branches_taken(stack, branch);
            }
            Value::Object(
                object
                    .iter()
                    .map(|(key, child)| (key.clone(), branches_taken(stack, child)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| branches_taken(stack, item))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Everything `start` depends on, directly or not.
fn depends_on(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut next = vec![start.to_owned()];
    while let Some(name) = next.pop() {
        for dependency in &graph[&name] {
            if seen.insert(dependency.clone()) {
                next.push(dependency.clone());
            }
        }
    }
    seen
}

/// CloudFormation deletes a resource only after everything that depends on it. So the
/// event sources depend on ZonePurge (deleted first: no event publishes after the purge),
/// and ZonePurge depends on the function, its role and its log group (deleted after it).
#[test]
fn the_zone_is_purged_after_the_event_sources_and_before_the_function() {
    let template = template();
    let purge = &template["Resources"]["ZonePurge"];
    assert_eq!(purge["Type"], "Custom::EcsSrvZonePurge");
    assert_eq!(purge["Condition"], "PurgeZoneOnDelete");
    assert_eq!(template["Parameters"]["PurgeOnDelete"]["Default"], "true");
    let properties = &purge["Properties"];
    assert_eq!(
        properties["ServiceToken"],
        json!({ "Fn::GetAtt": "PublisherFunction.Arn" })
    );
    assert_eq!(properties["HostedZoneId"], json!({ "Ref": "HostedZoneId" }));
    assert_eq!(properties["RecordOwner"], json!({ "Ref": "RecordOwner" }));

    for (use_sqs, schedule) in [
        ("true", "rate(5 minutes)"),
        ("false", "rate(5 minutes)"),
        ("true", ""),
    ] {
        let stack = Stack::new(
            &template,
            &[
                ("HostedZoneId", "Z0123456789ABCDEFGHIJ"),
                ("UseSqsQueue", use_sqs),
                ("ReconcileSchedule", schedule),
            ],
        );
        let resources: BTreeMap<String, Value> = stack.resources().into_iter().collect();
        let names: BTreeSet<String> = resources.keys().cloned().collect();
        // A Ref inside a Fn::If branch that the stack does not take is no dependency.
        let graph: BTreeMap<String, BTreeSet<String>> = names
            .iter()
            .map(|name| {
                let taken = branches_taken(&stack, &template["Resources"][name]);
                (name.clone(), references(&taken, &names))
            })
            .collect();
        let sources: Vec<&String> = names
            .iter()
            .filter(|name| {
                matches!(
                    resources[*name]["Type"].as_str(),
                    Some("AWS::Events::Rule" | "AWS::Lambda::EventSourceMapping")
                )
            })
            .collect();
        // The task rule, the schedule, and on the SQS path the inbox's and the work queue's
        // mappings.
        let expected_sources =
            1 + 2 * usize::from(use_sqs == "true") + usize::from(!schedule.is_empty());
        assert_eq!(sources.len(), expected_sources, "{sources:?}");
        for source in sources {
            assert!(
                depends_on(&graph, source).contains("ZonePurge"),
                "UseSqsQueue={use_sqs}, schedule {schedule:?}: {source} must be deleted before ZonePurge"
            );
        }
        let purge_needs = depends_on(&graph, "ZonePurge");
        for needed in ["PublisherFunction", "PublisherRole", "PublisherLogGroup"] {
            assert!(
                purge_needs.contains(needed),
                "{needed} must outlive ZonePurge: {purge_needs:?}"
            );
        }
        assert!(
            !purge_needs.contains("ZonePurge"),
            "a dependency cycle through ZonePurge"
        );
    }

    // Without the purge, nothing refers to it.
    let stack = Stack::new(
        &template,
        &[
            ("HostedZoneId", "Z0123456789ABCDEFGHIJ"),
            ("PurgeOnDelete", "false"),
        ],
    );
    let resources = stack.resources();
    assert!(resources.iter().all(|(name, _)| name != "ZonePurge"));
    assert!(!serde_json::to_string(&resources)
        .expect("JSON")
        .contains("ZonePurge"));
}
