//! `dns-front`: serves an emulated Route 53 zone (moto server) over DNS on loopback, for
//! the demo and for poking at the zone with `dig`.
//!
//! It prints one line, `listening 127.0.0.1:PORT`, on stdout once it answers, so a script
//! can start it with port 0 and read the port back. Logs go to stderr.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use dns_front::{FrontConfig, Route53Zone};

/// Serve a Route 53 hosted zone, read through the API at AWS_ENDPOINT_URL, over DNS on
/// loopback with Route 53's answer rules.
#[derive(Debug, Parser)]
#[command(name = "dns-front", version)]
struct Args {
    /// Address for both UDP and TCP. Loopback only; port 0 picks a free port.
    #[arg(long, env = "DNS_FRONT_LISTEN", default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// The hosted zone to serve (with or without the /hostedzone/ prefix).
    #[arg(long, env = "HOSTED_ZONE_ID")]
    zone_id: String,

    /// A query re-reads the zone when the last read is older than this (e.g. 200ms, 2s).
    #[arg(long, env = "DNS_FRONT_REFRESH", default_value = "200ms", value_parser = humantime::parse_duration)]
    refresh: Duration,

    /// Seed for the weighted and multivalue picks, for repeatable runs. Random if unset.
    #[arg(long, env = "DNS_FRONT_SEED")]
    seed: Option<u64>,

    /// The AWS region of the VPC this server stands for (e.g. us-east-1): a latency name
    /// answers that region's set, else the closest region's. Unset: one region at random.
    #[arg(long, env = "DNS_FRONT_ASKING_REGION")]
    asking_region: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();

    let aws_config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let zone = Route53Zone::new(aws_sdk_route53::Client::new(&aws_config), &args.zone_id);
    let config = FrontConfig {
        listen: args.listen,
        refresh: args.refresh,
        rng_seed: args.seed,
        asking_region: args.asking_region,
    };
    let front = dns_front::start(config, zone)
        .await
        .with_context(|| format!("starting dns-front for hosted zone {}", args.zone_id))?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening {}", front.addr())
        .context("writing the listening line to stdout")?;
    stdout.flush().context("flushing stdout")?;
    drop(stdout);

    wait_for_stop_signal().await?;
    tracing::info!("stopping");
    front.shutdown().await;
    Ok(())
}

/// Ctrl-C for a person at a terminal, SIGTERM for the demo script that started us.
async fn wait_for_stop_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("waiting for Ctrl-C"),
        _ = terminate.recv() => Ok(()),
    }
}
