//! The function's metrics: one CloudWatch embedded-metric-format line per invocation
//! (namespace `ecs-srv`, dimension `FunctionName`), which Lambda's log turns into metrics
//! with no API call and no IAM permission.
//!
//! What each figure says: `TasksPublished` and `TasksWithdrawn`, the tasks whose records
//! a batch changed; `RecordChanges`, the changes sent; `Refusals` and `Refused<Kind>`
//! (`ForeignRecord`, `OtherCluster`, `FullName`, `BadInput`), events or reconciled tasks
//! refused for good; `RetryableFailures`, events sent back to be tried again (waiting for
//! health is not a failure); `EventLag`, from each event's `time` to the batch that
//! changed its task, a distribution; `HealthyLag`, at most how long after HEALTHY a held
//! task reached DNS; `Route53Requests` and `Route53Throttles` (attempts the SDK retried);
//! `TasksAwaitingHealth`; `ReconcileDrift`, tasks a reconcile had to publish or withdraw
//! that no event had; `ShardedWholeSets` and `ShardedTargets`.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::aws::calls::RETRIED;
use crate::plan::whole_sets::ShardedSet;
use crate::run::reconcile::ReconcileReport;
use crate::run::report::{Decision, InvocationReport};

/// The namespace of every metric.
pub const NAMESPACE: &str = "ecs-srv";
/// A metric may carry at most this many values in one line.
const MAX_VALUES: usize = 100;

/// The refusal kinds counted apart, by the failure kinds that fall in each.
const REFUSAL_KINDS: [(&str, &[&str]); 4] = [
    ("RefusedForeignRecord", &["Conflict:ForeignRecord"]),
    ("RefusedOtherCluster", &["Conflict:OtherCluster"]),
    ("RefusedFullName", &["Conflict:FullName"]),
    (
        "RefusedBadInput",
        &[
            "BadInput",
            "Resolve",
            "NameTooLong",
            "Oversized",
            "NotServed",
        ],
    ),
];

/// The figures of one invocation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    counts: BTreeMap<&'static str, u64>,
    distributions: BTreeMap<&'static str, Vec<u64>>,
    /// Every AWS request, by `Service.Operation`: a property of the line (searchable in
    /// Logs Insights), not a metric.
    calls: BTreeMap<String, u64>,
}

impl Metrics {
    /// The figures of an event invocation.
    pub fn of_events(report: &InvocationReport) -> Self {
        let mut metrics = Metrics::default();
        let mut published = std::collections::BTreeSet::new();
        let mut withdrawn = std::collections::BTreeSet::new();
        let mut kinds = Vec::new();
        for event in &report.events {
            match (event.written, event.decision, &event.task_id) {
                (true, Decision::Publish, Some(task)) => published.insert(task),
                (true, Decision::Withdraw, Some(task)) => withdrawn.insert(task),
                _ => false,
            };
            if event.retryable && event.error_kind.as_deref() != Some("NotHealthyYet") {
                *metrics.count("RetryableFailures") += 1;
            }
            if let (false, Some(kind)) = (event.retryable, &event.error_kind) {
                kinds.push(kind.clone());
            }
            metrics.add("EventLag", event.lag_ms);
            metrics.add("HealthyLag", event.healthy_lag_ms);
        }
        metrics.set("TasksPublished", published.len());
        metrics.set("TasksWithdrawn", withdrawn.len());
        metrics.set("RecordChanges", report.change_count());
        metrics.set("TasksAwaitingHealth", report.awaiting_health);
        metrics.refusals(kinds.iter().map(String::as_str));
        metrics.calls(&report.api_calls);
        metrics.sharding(&report.sharded_whole_sets);
        metrics
    }

    /// The figures of a reconcile.
    pub fn of_reconcile(report: &ReconcileReport) -> Self {
        let mut metrics = Metrics::default();
        metrics.set("ReconcileDrift", report.drift.len());
        metrics.set("RecordChanges", report.changes.len());
        metrics.set("TasksAwaitingHealth", report.awaiting_health.len());
        let kinds = report
            .refusals
            .iter()
            .flat_map(|(kind, count)| std::iter::repeat_n(kind.as_str(), *count));
        metrics.refusals(kinds);
        metrics.calls(&report.api_calls);
        metrics.sharding(&report.sharded_whole_sets);
        metrics
    }

    fn count(&mut self, name: &'static str) -> &mut u64 {
        self.counts.entry(name).or_default()
    }

    fn set(&mut self, name: &'static str, value: usize) {
        *self.count(name) = value as u64;
    }

    fn add(&mut self, name: &'static str, value: Option<u64>) {
        let values = self.distributions.entry(name).or_default();
        values.extend(value);
    }

    fn refusals<'a>(&mut self, kinds: impl Iterator<Item = &'a str>) {
        self.set("Refusals", 0);
        for (metric, _) in REFUSAL_KINDS {
            self.set(metric, 0);
        }
        for kind in kinds {
            *self.count("Refusals") += 1;
            if let Some((metric, _)) = REFUSAL_KINDS.iter().find(|(_, of)| of.contains(&kind)) {
                *self.count(metric) += 1;
            }
        }
    }

    fn calls(&mut self, calls: &BTreeMap<String, u64>) {
        self.calls = calls.clone();
        let retried = format!("Route53.{RETRIED}");
        let requests = calls
            .iter()
            .filter(|(operation, _)| operation.starts_with("Route53.") && **operation != retried)
            .map(|(_, count)| count)
            .sum();
        *self.count("Route53Requests") = requests;
        *self.count("Route53Throttles") = calls.get(&retried).copied().unwrap_or(0);
    }

    fn sharding(&mut self, sharded: &[ShardedSet]) {
        self.set("ShardedWholeSets", sharded.len());
        self.set(
            "ShardedTargets",
            sharded.iter().map(|set| set.targets).sum(),
        );
    }

    /// The embedded-metric-format line for function `function` at `now`.
    pub fn line(&self, function: &str, now: SystemTime) -> Value {
        let mut root = Map::new();
        let mut definitions = Vec::new();
        for (name, value) in &self.counts {
            definitions.push(json!({"Name": name, "Unit": "Count"}));
            root.insert((*name).to_owned(), json!(value));
        }
        for (name, values) in self.distributions.iter().filter(|(_, v)| !v.is_empty()) {
            definitions.push(json!({"Name": name, "Unit": "Milliseconds"}));
            root.insert((*name).to_owned(), json!(spread(values)));
        }
        root.insert("FunctionName".to_owned(), json!(function));
        root.insert("ApiCalls".to_owned(), json!(self.calls));
        root.insert(
            "_aws".to_owned(),
            json!({
                "Timestamp": now.duration_since(UNIX_EPOCH).map_or(0, |t| t.as_millis() as u64),
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["FunctionName"]],
                    "Metrics": definitions,
                }],
            }),
        );
        Value::Object(root)
    }

    /// Writes the line to standard output, where Lambda's log picks it up. Lambda names
    /// the function in its environment, so each stack's alarms watch their own.
    pub fn emit(&self) {
        let function =
            std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "ecs-srv".into());
        println!("{}", self.line(&function, SystemTime::now()));
    }
}

/// At most 100 values, as the format allows: all of them, or 100 evenly spaced quantiles
/// of their distribution (the 0th to the 99th percentile, and the largest).
fn spread(values: &[u64]) -> Vec<u64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    if sorted.len() <= MAX_VALUES {
        return sorted;
    }
    let last = sorted.len() - 1;
    (0..MAX_VALUES)
        .map(|i| sorted[i * last / (MAX_VALUES - 1)])
        .collect()
}

#[cfg(test)]
mod tests;
