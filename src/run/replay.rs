//! Replaying events from files: the same event path the Lambda handler runs, fed from
//! disk instead of Lambda, one invocation per file.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;

use crate::input::payload::{payload_from_text, read_payload};
use crate::run::deployment::Deployment;
use crate::run::report::InvocationReport;

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

/// Runs each file's events through the event path, one invocation per file; `-` reads
/// standard input.
pub async fn replay(deployment: &Deployment, files: &[PathBuf]) -> anyhow::Result<ReplaySummary> {
    let mut summary = ReplaySummary::default();
    for file in files {
        let name = file.display().to_string();
        let text = if name == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading events from standard input")?;
            text
        } else {
            std::fs::read_to_string(file).with_context(|| format!("reading {name}"))?
        };
        let invocation = read_payload(payload_from_text(&text), &name)
            .with_context(|| format!("reading events from {name}"))?;
        let report = crate::run::events::process(deployment, invocation.inputs).await;
        summary.add(name, report);
    }
    Ok(summary)
}
