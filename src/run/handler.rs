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

use crate::input::payload::{is_scheduled_event, read_payload, Delivery, PayloadError};
use crate::run::deployment::Deployment;
use crate::run::metrics::Metrics;
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
        return crate::run::schedule::reconcile_now(deployment).await;
    }
    let invocation = read_payload(event.payload, &event.context.request_id)?;
    if invocation.delivery == Delivery::Sqs {
        let response = crate::run::delivery::answer_batch(deployment, invocation).await;
        return Ok(serde_json::to_value(response).unwrap_or(Value::Null));
    }
    let report = crate::run::events::process(deployment, invocation.inputs).await;
    Metrics::of_events(&report).emit();
    report.log_failures();
    Ok(lambda_response(&report)?)
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
