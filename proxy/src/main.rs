//! The `srv-proxy` binary: parse flags, start logging, run until a signal, exit 0 after draining.

use std::process::ExitCode;

use clap::Parser;
use srv_proxy::config::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    srv_proxy::logging::init_logging(cli.log_format);
    // Two workers are plenty for a sidecar and keep the idle footprint small.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
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
