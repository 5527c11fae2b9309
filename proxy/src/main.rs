//! The `srv-proxy` binary: parse flags, start logging, run until a signal, exit 0 after draining;
//! or, as `srv-proxy health`, ask the running proxy whether it is healthy.

use std::process::ExitCode;

use clap::Parser;
use srv_proxy::config::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Health(args)) = &cli.command {
        return match srv_proxy::health::probe(args) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(reason) => {
                eprintln!("srv-proxy health: {reason}");
                ExitCode::FAILURE
            }
        };
    }
    srv_proxy::logging::init_logging(cli.log_format);
    // This thread only waits for the signal and serves /metrics; the connections run on the
    // worker threads that `serve` starts (`--workers`).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("srv-proxy: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(srv_proxy::app::run_cli(cli)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("srv-proxy: {error:#}");
            ExitCode::FAILURE
        }
    }
}
