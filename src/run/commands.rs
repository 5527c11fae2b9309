//! The command line: the same binary serves the Lambda runtime API and runs the
//! operator's commands (replay, reconcile, status, purge) against a real or emulated
//! account. Every flag has an environment variable, which is how Lambda sets them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

use crate::aws::AwsClients;
use crate::config::Settings;
use crate::run::deployment::{Deployment, Mode};
use crate::run::packer::Packer;

/// Keeps Route 53 SRV and A records in step with running ECS tasks.
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Cli {
    #[command(flatten)]
    settings: Settings,

    /// Log format; `auto` is JSON when Lambda asks for it (AWS_LAMBDA_LOG_FORMAT=JSON).
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_enum,
        default_value = "auto",
        global = true
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the Lambda runtime API, as the writer or (with PACK_INTO_QUEUE_URL) as the
    /// packer; the default when AWS_LAMBDA_RUNTIME_API is set.
    Serve,
    /// Run events from files through the handler, one invocation per file, and print a
    /// JSON summary. Files hold an EventBridge event, an SQS event, a JSON array of them,
    /// or newline-delimited JSON; `-` reads standard input.
    Replay {
        /// Event files, in the order to apply them.
        #[arg(required = true, env = "REPLAY_FILES", value_delimiter = ',')]
        files: Vec<PathBuf>,
    },
    /// Compare the running tasks of the served clusters with the zone and repair both
    /// sides, as the scheduled reconcile does; print the result as JSON.
    Reconcile {
        /// Print the changes that would be made, as JSON, and change nothing.
        #[arg(long, env = "DRY_RUN")]
        dry_run: bool,
    },
    /// Say, per service and per task, what ECS runs, what DNS answers and why they differ
    /// (read-only: the reconcile's own dry run). Exits non-zero when a person must act.
    Status {
        /// Explain this one task (its id, the last part of its ARN).
        #[arg(long, env = "STATUS_TASK")]
        task: Option<String>,
        /// Print JSON, for scripts.
        #[arg(long, env = "STATUS_JSON")]
        json: bool,
    },
    /// Withdraw every record this deployment owns (uninstall), and print what was done.
    Purge {
        /// Print the changes that would be made, as JSON, and change nothing.
        #[arg(long, env = "DRY_RUN")]
        dry_run: bool,
    },
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    /// JSON under Lambda when it asks for JSON, text otherwise.
    Auto,
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

/// Runs the command the line asks for.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let under_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let command = match cli.command {
        Some(command) => command,
        None if under_lambda => Command::Serve,
        None => bail!("no command given: run `ecs-srv status`, `ecs-srv replay FILE...`, `ecs-srv reconcile`, `ecs-srv purge`, or `ecs-srv --help`"),
    };
    if let Some(work_queue_url) = cli.settings.pack_into_queue_url.clone() {
        if !matches!(command, Command::Serve) {
            bail!("PACK_INTO_QUEUE_URL makes this process the packer, which only serves the Lambda runtime API; unset it to run {command:?}");
        }
        let packer = Packer {
            sqs: aws_sdk_sqs::Client::new(&crate::aws::sdk_config().await),
            work_queue_url,
        };
        return serve(|event| crate::run::packer::handle(event, &packer)).await;
    }
    let clients = AwsClients::from_environment(cli.settings.zone_role().as_ref()).await;
    let deployment = Deployment::new(cli.settings, clients)
        .await
        .context("starting the deployment")?;
    let mode = |dry_run: bool| if dry_run { Mode::DryRun } else { Mode::Write };
    match command {
        Command::Serve => serve(|event| crate::run::handler::handle(event, &deployment)).await,
        Command::Replay { files } => {
            let summary = crate::run::replay::replay(&deployment, &files).await?;
            print_json(&summary)?;
            Ok(exit_code(summary.failed_events == 0))
        }
        Command::Reconcile { dry_run } => {
            let report = crate::run::reconcile::reconcile(&deployment, mode(dry_run)).await?;
            print_json(&report)?;
            Ok(exit_code(
                report.failures.is_empty() && report.name_errors.is_empty(),
            ))
        }
        Command::Status { task, json } => status(&deployment, task.as_deref(), json).await,
        Command::Purge { dry_run } => {
            let report = crate::run::purge::purge(&deployment, mode(dry_run)).await?;
            print_json(&report)?;
            Ok(exit_code(
                report.failures.is_empty() && report.name_errors.is_empty(),
            ))
        }
    }
}

/// Serves the Lambda runtime API with `handler` (the writer's or the packer's), one
/// invocation at a time, until the runtime stops.
async fn serve<F, Answer>(handler: F) -> Result<ExitCode>
where
    F: Fn(LambdaEvent<Value>) -> Answer,
    Answer: std::future::Future<Output = Result<Value, Diagnostic>>,
{
    lambda_runtime::run(service_fn(handler))
        .await
        .map_err(|e| anyhow::anyhow!("the Lambda runtime stopped: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

async fn status(deployment: &Deployment, task: Option<&str>, json: bool) -> Result<ExitCode> {
    let status = crate::run::status::status(deployment).await?;
    let Some(wanted) = task else {
        if json {
            print_json(&status)?;
        } else {
            print!("{}", crate::run::status::render::text(&status));
        }
        return Ok(exit_code(!status.needs_a_person));
    };
    let Some(found) = status.tasks.iter().find(|t| t.task == wanted) else {
        bail!("task {wanted} is neither listed by ECS in a served cluster nor held in the zone");
    };
    if json {
        print_json(found)?;
    } else {
        print!("{}", crate::run::status::render::task(found));
    }
    Ok(exit_code(!found.verdict.needs_a_person()))
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn exit_code(success: bool) -> ExitCode {
    if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
