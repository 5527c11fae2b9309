//! The `ecs-srv` binary: the Lambda function, and the same handler from the command line.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use ecs_srv::aws::AwsClients;
use ecs_srv::config::PublisherConfig;
use ecs_srv::run::deployment::Publisher;
use ecs_srv::run::handler::{handle, read_payload};
use ecs_srv::run::replay::{payload_from_text, ReplaySummary};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

/// Keeps Route 53 SRV and A records in step with running ECS tasks.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    config: PublisherConfig,

    /// Log format; `auto` is JSON when Lambda asks for it (AWS_LAMBDA_LOG_FORMAT=JSON).
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_enum,
        default_value = "auto",
        global = true
    )]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the Lambda runtime API; the default when AWS_LAMBDA_RUNTIME_API is set.
    Serve,
    /// Run events from files through the handler, one invocation per file, and print a
    /// JSON summary. Files hold an EventBridge event, an SQS event, a JSON array of them,
    /// or newline-delimited JSON; `-` reads standard input.
    Replay {
        /// Event files, in the order to apply them.
        #[arg(required = true, env = "REPLAY_FILES", value_delimiter = ',')]
        files: Vec<PathBuf>,
    },
    /// Compare the running tasks of the configured clusters with the zone and repair
    /// both sides, as the scheduled reconcile does; print the result as JSON.
    Reconcile {
        /// Print the changes that would be made, as JSON, and change nothing.
        #[arg(long, env = "DRY_RUN")]
        dry_run: bool,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Auto,
    Text,
    Json,
}

fn init_tracing(format: LogFormat) {
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => {
            std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"))
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if json {
        builder.json().flatten_event(true).without_time().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    match run(cli).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("ecs-srv: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let under_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let command = match cli.command {
        Some(command) => command,
        None if under_lambda => Command::Serve,
        None => bail!("no command given: run `ecs-srv replay FILE...`, `ecs-srv reconcile`, or `ecs-srv --help`"),
    };
    let clients = AwsClients::from_environment().await;
    let publisher = Publisher::new(cli.config, clients)
        .await
        .context("reading the hosted zone named by HOSTED_ZONE_ID")?;
    match command {
        Command::Serve => {
            let publisher = &publisher;
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
                handle(event, publisher).await
            }))
            .await
            .map_err(|e| anyhow::anyhow!("the Lambda runtime stopped: {e}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay { files } => replay(&publisher, &files).await,
        Command::Reconcile { dry_run } => {
            let report = ecs_srv::run::reconcile::reconcile(&publisher, dry_run).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(
                if report.failures.is_empty() && report.whole_set_errors.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                },
            )
        }
    }
}

async fn replay(publisher: &Publisher, files: &[PathBuf]) -> Result<ExitCode> {
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
        let report = ecs_srv::run::events::process(publisher, invocation.inputs).await;
        summary.add(name, report);
    }
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(if summary.failed_events > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
