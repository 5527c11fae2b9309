//! The Lambda handler: every trigger the function serves, and the answer each expects.
//!
//! One function serves every trigger: a direct EventBridge event, an SQS batch whose
//! bodies are EventBridge events, EventBridge's schedule (a reconcile), and CloudFormation
//! (the stack's purge on deletion). The answer follows the trigger: SQS gets
//! `batchItemFailures` so that only the failed messages return to the queue; a direct
//! invocation fails as a whole when its event failed in a way a retry may fix, so that
//! Lambda's retries and the on-failure destination take over; a permanent failure is
//! logged once, at error level, and let go. Every invocation writes one metric line.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing::error;

use crate::input::payload::{is_scheduled_event, read_payload, Delivery, PayloadError};
use crate::run::deployment::{Deployment, Mode};
use crate::run::metrics::Metrics;
use crate::run::reconcile::{reconcile, ReconcileReport};
use crate::run::report::InvocationReport;

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

/// The Lambda handler: events in, records changed, failures reported the way the
/// trigger expects.
pub async fn handle(
    event: LambdaEvent<Value>,
    deployment: &Deployment,
) -> Result<Value, Diagnostic> {
    if crate::run::purge::is_stack_request(&event.payload) {
        return Ok(crate::run::purge::answer_stack(deployment, event.payload).await);
    }
    if is_scheduled_event(&event.payload) {
        let report = reconcile(deployment, Mode::Write).await.map_err(|err| {
            error!(error = %err, "reconcile aborted");
            Diagnostic {
                error_type: "ReconcileError".to_owned(),
                error_message: err.to_string(),
            }
        })?;
        Metrics::of_reconcile(&report).emit();
        return reconcile_response(report);
    }
    let invocation = read_payload(event.payload, &event.context.request_id)?;
    if invocation.delivery == Delivery::Sqs {
        let response = crate::run::delivery::answer_batch(deployment, invocation).await;
        return Ok(serde_json::to_value(response).unwrap_or(Value::Null));
    }
    let report = crate::run::events::process(deployment, invocation.inputs).await;
    Metrics::of_events(&report).emit();
    log_failures(&report);
    Ok(lambda_response(&report)?)
}

/// A reconcile asked for through the event queue (the schedule, delivered as a message):
/// its failure is logged and counted, and the next schedule tries again.
pub async fn scheduled_reconcile(deployment: &Deployment) {
    match reconcile(deployment, Mode::Write).await {
        Ok(report) => {
            Metrics::of_reconcile(&report).emit();
            if let Err(diagnostic) = reconcile_response(report) {
                error!(error = %diagnostic.error_message, "reconcile incomplete");
            }
        }
        Err(err) => error!(error = %err, "reconcile aborted"),
    }
}

/// Logs each permanent failure once, at error level: it is reported, not redelivered, so
/// that it is not retried for days and parked in a dead-letter queue beside real outages.
pub fn log_failures(report: &InvocationReport) {
    for failure in report.permanent_failures() {
        error!(
            source = %failure.source,
            event = failure.event_id.as_deref().unwrap_or("-"),
            task = failure.task_id.as_deref().unwrap_or("-"),
            error = failure.error.as_deref().unwrap_or_default(),
            "event failed permanently; it will not be retried"
        );
    }
    for problem in &report.name_errors {
        error!(error = %problem, "name not brought in line");
    }
}

/// What a direct invocation answers: it fails, so that Lambda retries it and then keeps
/// it in the dead-letter queue, only when an event failed in a way a retry may fix.
pub fn lambda_response(report: &InvocationReport) -> Result<Value, EventsFailed> {
    let failed: Vec<&String> = report
        .events
        .iter()
        .filter(|e| e.retryable)
        .filter_map(|e| e.error.as_ref())
        .collect();
    match failed.first() {
        Some(first) => Err(EventsFailed {
            failed: failed.len(),
            total: report.events.len(),
            first: first.to_string(),
        }),
        None => Ok(serde_json::to_value(report).unwrap_or(Value::Null)),
    }
}

/// A scheduled reconcile that left anything out of line fails its invocation, so that the
/// function's error alarm fires; the report is in the log either way.
fn reconcile_response(report: ReconcileReport) -> Result<Value, Diagnostic> {
    let value = serde_json::to_value(&report).unwrap_or(Value::Null);
    if report.failures.is_empty() && report.name_errors.is_empty() {
        return Ok(value);
    }
    for (task, reason) in &report.failures {
        error!(task = %task, error = %reason, "reconcile could not bring this task in line");
    }
    for problem in &report.name_errors {
        error!(error = %problem, "reconcile could not bring a name in line");
    }
    let first = report
        .failures
        .iter()
        .map(|(task, reason)| format!("{task}: {reason}"))
        .chain(report.name_errors.iter().cloned())
        .next()
        .unwrap_or_default();
    Err(Diagnostic {
        error_type: "ReconcileIncomplete".to_owned(),
        error_message: format!(
            "reconcile left {} task(s) and {} name problem(s) out of line; first: {first}",
            report.failures.len(),
            report.name_errors.len(),
        ),
    })
}
