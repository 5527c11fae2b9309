//! Replaying events from files: the same handler code, fed from disk instead of Lambda.

use serde_json::Value;

use crate::run::report::InvocationReport;

/// Reads a file's text as one JSON document, or else as newline-delimited JSON (each
/// non-blank line a document, gathered into an array). Text that is neither comes back
/// as a JSON string, which the payload reader refuses with a clear message.
pub fn payload_from_text(text: &str) -> Value {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return value;
    }
    let lines: Result<Vec<Value>, _> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(serde_json::from_str::<Value>)
        .collect();
    match lines {
        Ok(values) if !values.is_empty() => Value::Array(values),
        _ => Value::String(text.chars().take(80).collect()),
    }
}

/// The JSON summary `ecs-srv replay` prints.
#[derive(Debug, Default, serde::Serialize)]
pub struct ReplaySummary {
    /// One entry per file, in order.
    pub invocations: Vec<ReplayedFile>,
    /// Events that failed, over all files.
    pub failed_events: usize,
    /// Changes applied, over all files.
    pub applied_changes: usize,
}

/// One file's invocation.
#[derive(Debug, serde::Serialize)]
pub struct ReplayedFile {
    /// The file as given.
    pub file: String,
    /// What the invocation did.
    #[serde(flatten)]
    pub report: InvocationReport,
}

impl ReplaySummary {
    /// Adds one file's report.
    pub fn add(&mut self, file: String, report: InvocationReport) {
        self.failed_events += report.events.iter().filter(|e| e.error.is_some()).count();
        self.applied_changes += report.change_count();
        self.invocations.push(ReplayedFile { file, report });
    }
}
