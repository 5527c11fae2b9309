//! The Lambda handler and the shapes of input it accepts.
//!
//! One function serves every trigger: a direct EventBridge event, an SQS batch whose
//! bodies are EventBridge events, and (for replay) a JSON array or newline-delimited JSON
//! of either. The answer follows the trigger: SQS gets `batchItemFailures` so that only
//! the failed messages return to the queue; a direct invocation fails as a whole when its
//! event failed, so that Lambda's retries and the on-failure destination take over.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

use tracing::error;

use crate::input::event::{parse_task_event, parse_task_event_value, EventError};
use crate::run::deployment::Publisher;
use crate::run::events::EventInput;
use crate::run::reconcile::ReconcileReport;
use crate::run::report::InvocationReport;

/// How the events of an invocation arrived, which decides how failures are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// EventBridge invoked the function with one event (or a replay gave a list).
    Direct,
    /// An SQS event source delivered a batch of messages.
    Sqs,
}

/// The events of one invocation, ready for [`Publisher::process`].
#[derive(Debug)]
pub struct Invocation {
    /// How they arrived.
    pub delivery: Delivery,
    /// Each event, parsed or with the reason it was refused.
    pub inputs: Vec<EventInput>,
}

/// Why a whole payload was refused: nothing in it could be attributed to an event.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// An SQS-shaped payload that does not match the SQS event format.
    #[error("payload looks like an SQS event but is not one: {0}")]
    BadSqsEvent(String),
    /// Neither an event, an SQS batch, nor a list of them.
    #[error(
        "payload is a JSON {0}; expected an EventBridge event, an SQS event or an array of them"
    )]
    Unrecognised(&'static str),
}

impl From<PayloadError> for Diagnostic {
    fn from(err: PayloadError) -> Self {
        Diagnostic {
            error_type: "PayloadError".to_owned(),
            error_message: err.to_string(),
        }
    }
}

/// The direct invocation's event failed in a way a retry may fix; Lambda should retry it.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} events failed: {first}")]
pub struct EventsFailed {
    failed: usize,
    total: usize,
    first: String,
}

impl From<EventsFailed> for Diagnostic {
    fn from(err: EventsFailed) -> Self {
        Diagnostic {
            error_type: "EventsFailed".to_owned(),
            error_message: err.to_string(),
        }
    }
}

/// Sorts a payload into events. `origin` names it in sources (`file.json`, `lambda`).
pub fn read_payload(payload: Value, origin: &str) -> Result<Invocation, PayloadError> {
    match payload {
        Value::Object(ref object) if object.contains_key("Records") => {
            let sqs: SqsEvent = serde_json::from_value(payload)
                .map_err(|e| PayloadError::BadSqsEvent(e.to_string()))?;
            let inputs = sqs
                .records
                .into_iter()
                .enumerate()
                .map(|(index, message)| EventInput {
                    source: message
                        .message_id
                        .unwrap_or_else(|| format!("{origin}:{index}")),
                    parsed: match message.body {
                        Some(body) => parse_task_event(body.as_bytes()),
                        None => Err(EventError::NotJson {
                            reason: "the SQS message has no body".to_owned(),
                        }),
                    },
                })
                .collect();
            Ok(Invocation {
                delivery: Delivery::Sqs,
                inputs,
            })
        }
        Value::Object(_) => Ok(Invocation {
            delivery: Delivery::Direct,
            inputs: vec![EventInput {
                source: origin.to_owned(),
                parsed: parse_task_event_value(payload),
            }],
        }),
        Value::Array(items) => {
            let mut inputs = Vec::new();
            for (index, item) in items.into_iter().enumerate() {
                let source = format!("{origin}:{index}");
                match read_payload(item, &source) {
                    Ok(nested) => inputs.extend(nested.inputs),
                    Err(err) => inputs.push(EventInput {
                        source,
                        parsed: Err(EventError::NotJson {
                            reason: err.to_string(),
                        }),
                    }),
                }
            }
            Ok(Invocation {
                delivery: Delivery::Direct,
                inputs,
            })
        }
        Value::Null => Err(PayloadError::Unrecognised("null")),
        Value::Bool(_) => Err(PayloadError::Unrecognised("boolean")),
        Value::Number(_) => Err(PayloadError::Unrecognised("number")),
        Value::String(_) => Err(PayloadError::Unrecognised("string")),
    }
}

/// Whether a payload is EventBridge's scheduled event, which asks for a reconcile.
pub fn is_scheduled_event(payload: &Value) -> bool {
    payload.get("source").and_then(Value::as_str) == Some("aws.events")
        && payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
}

/// What a finished invocation answers to Lambda. Only retryable failures go back to the
/// trigger; a permanent one is logged here, once, at error level, and let go, so that it
/// is not redelivered for days and parked in a dead-letter queue beside real outages.
pub fn lambda_response(
    delivery: Delivery,
    report: &InvocationReport,
) -> Result<Value, EventsFailed> {
    for failure in report.permanent_failures() {
        error!(
            source = %failure.source,
            event = failure.event_id.as_deref().unwrap_or("-"),
            task = failure.task_id.as_deref().unwrap_or("-"),
            error = failure.error.as_deref().unwrap_or_default(),
            "event failed permanently; it will not be retried"
        );
    }
    for problem in &report.whole_set_errors {
        error!(error = %problem, "whole SRV set not brought in line");
    }
    sharded_metric(&report.sharded_whole_sets);
    match delivery {
        Delivery::Sqs => {
            let mut response = SqsBatchResponse::default();
            response.batch_item_failures = report
                .retryable_sources()
                .into_iter()
                .map(|id| {
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = id.to_owned();
                    failure
                })
                .collect();
            Ok(serde_json::to_value(response).unwrap_or(Value::Null))
        }
        Delivery::Direct if !report.retryable_sources().is_empty() => {
            let failed: Vec<&String> = report
                .events
                .iter()
                .filter(|e| e.retryable)
                .filter_map(|e| e.error.as_ref())
                .collect();
            Err(EventsFailed {
                failed: failed.len(),
                total: report.events.len(),
                first: failed.first().map(|s| s.to_string()).unwrap_or_default(),
            })
        }
        Delivery::Direct => Ok(serde_json::to_value(report).unwrap_or(Value::Null)),
    }
}

/// The Lambda handler: events in, records changed, failures reported the way the
/// trigger expects.
pub async fn handle(event: LambdaEvent<Value>, publisher: &Publisher) -> Result<Value, Diagnostic> {
    if is_scheduled_event(&event.payload) {
        let report = crate::run::reconcile::reconcile(publisher, false)
            .await
            .map_err(|err| Diagnostic {
                error_type: "ReconcileError".to_owned(),
                error_message: err.to_string(),
            })?;
        return reconcile_response(report);
    }
    let invocation = read_payload(event.payload, &event.context.request_id)?;
    let report = crate::run::events::process(publisher, invocation.inputs).await;
    Ok(lambda_response(invocation.delivery, &report)?)
}

/// One CloudWatch metric line (the embedded metric format, which Lambda's log turns into
/// metrics without an API call) when whole SRV sets are served as shards: such a set answers
/// one shard per query, which SRV clients that expect every target should know about. The
/// log line of each set is written where the shards are planned (`write.rs`).
fn sharded_metric(sharded: &[crate::plan::whole_sets::ShardedSet]) {
    // Lambda names the function in its environment; the metric carries it, so that each
    // stack's alarm watches its own function.
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "ecs-srv".into());
    if let Some(line) = sharded_metric_line(sharded, &function, std::time::SystemTime::now()) {
        println!("{line}");
    }
}

/// The metric line of [`sharded_metric`], `None` when no set is sharded.
fn sharded_metric_line(
    sharded: &[crate::plan::whole_sets::ShardedSet],
    function: &str,
    now: std::time::SystemTime,
) -> Option<Value> {
    if sharded.is_empty() {
        return None;
    }
    Some(serde_json::json!({
        "_aws": {
            "Timestamp": now
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_millis() as u64),
            "CloudWatchMetrics": [{
                "Namespace": "ecs-srv",
                "Dimensions": [["FunctionName"]],
                "Metrics": [
                    {"Name": "ShardedWholeSets", "Unit": "Count"},
                    {"Name": "ShardedTargets", "Unit": "Count"}
                ]
            }]
        },
        "FunctionName": function,
        "ShardedWholeSets": sharded.len(),
        "ShardedTargets": sharded.iter().map(|set| set.targets).sum::<usize>(),
        "sets": sharded.iter().map(|set| set.name.as_str()).collect::<Vec<_>>(),
    }))
}

/// A scheduled reconcile that left anything out of line fails its invocation, so that the
/// function's error alarm fires; the report is in the log either way.
fn reconcile_response(report: ReconcileReport) -> Result<Value, Diagnostic> {
    sharded_metric(&report.sharded_whole_sets);
    let value = serde_json::to_value(&report).unwrap_or(Value::Null);
    if report.failures.is_empty() && report.whole_set_errors.is_empty() {
        return Ok(value);
    }
    for (task, reason) in &report.failures {
        error!(task = %task, error = %reason, "reconcile could not bring this task in line");
    }
    for problem in &report.whole_set_errors {
        error!(error = %problem, "reconcile could not bring a whole SRV set in line");
    }
    Err(Diagnostic {
        error_type: "ReconcileIncomplete".to_owned(),
        error_message: format!(
            "reconcile left {} task(s) and {} whole SRV set problem(s) out of line; first: {}",
            report.failures.len(),
            report.whole_set_errors.len(),
            report
                .failures
                .iter()
                .map(|(task, reason)| format!("{task}: {reason}"))
                .chain(report.whole_set_errors.iter().cloned())
                .next()
                .unwrap_or_default()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::whole_sets::ShardedSet;

    #[test]
    fn sharded_whole_sets_make_one_embedded_metric_line() {
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        assert_eq!(
            sharded_metric_line(&[], "f", now),
            None,
            "no line when nothing is sharded"
        );
        let sets = [
            ShardedSet {
                name: "_web._tcp._all.web.ecs.internal.".into(),
                targets: 400,
                shards: 2,
            },
            ShardedSet {
                name: "_api._tcp._all.api.ecs.internal.".into(),
                targets: 300,
                shards: 2,
            },
        ];
        let line = sharded_metric_line(&sets, "ecs-srv-PublisherFunction-1", now).expect("a line");
        // CloudWatch reads the embedded metric format from exactly these fields.
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(line["_aws"]["Timestamp"], 1_800_000_000_000u64);
        assert_eq!(directive["Namespace"], "ecs-srv");
        let names: Vec<&str> = directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["ShardedWholeSets", "ShardedTargets"]);
        assert_eq!(
            directive["Dimensions"],
            serde_json::json!([["FunctionName"]])
        );
        assert_eq!(line["FunctionName"], "ecs-srv-PublisherFunction-1");
        assert_eq!(line["ShardedWholeSets"], 2);
        assert_eq!(line["ShardedTargets"], 700);
    }
}
