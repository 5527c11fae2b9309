//! The scheduled reconcile as Lambda runs it: through the event queue on the SQS path (a
//! message that carries EventBridge's scheduled event) or invoked directly by the schedule.
//! An incomplete reconcile fails its direct invocation, so that the function's error alarm
//! fires; the report is in the log either way.

use lambda_runtime::Diagnostic;
use serde_json::Value;
use tracing::error;

use crate::run::deployment::{Deployment, Mode};
use crate::run::metrics::Metrics;
use crate::run::reconcile::{reconcile, ReconcileReport};

/// Runs a reconcile for the schedule and answers as a direct invocation answers.
pub async fn reconcile_now(deployment: &Deployment) -> Result<Value, Diagnostic> {
    let report = reconcile(deployment, Mode::Write).await.map_err(|err| {
        error!(error = %err, "reconcile aborted");
        Diagnostic {
            error_type: "ReconcileError".to_owned(),
            error_message: err.to_string(),
        }
    })?;
    Metrics::of_reconcile(&report).emit();
    reconcile_response(report)
}

/// A reconcile asked for through the event queue (the schedule, delivered as a message):
/// its failure is logged and counted, and the next schedule tries again.
pub async fn reconcile_from_queue(deployment: &Deployment) {
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
