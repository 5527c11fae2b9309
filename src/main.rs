//! The `ecs-srv` binary: the Lambda function, and the operator's commands from the command
//! line (see `ecs_srv::run::commands`).

use std::process::ExitCode;

use clap::Parser;
use ecs_srv::run::commands::{run, Cli, LogFormat};

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
