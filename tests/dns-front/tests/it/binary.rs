//! The `dns-front` binary as a script uses it: configured by environment (the asking
//! region included), port 0, the address read back from its first stdout line.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::time::Duration;

use aws_sdk_route53::types::RrType;
use hickory_proto::rr::{RData, RecordType};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::support::dns::{DnsClient, Transport};
use crate::support::moto::Moto;
use crate::support::zone::{Policy, TestZone};

/// Covers the AWS SDK's start-up (it may look for instance metadata) on a loaded machine.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn the_binary_prints_its_address_and_answers() {
    let moto = Moto::shared();
    let zone = TestZone::create(moto.route53().await, "bin.test.").await;
    zone.upsert(
        "app.bin.test.",
        RrType::A,
        10,
        Policy::Simple,
        &["10.2.0.1"],
    )
    .await;
    // A latency name with a set per region: the binary answers the region it is told it
    // stands for.
    for (region, value) in [("us-east-1", "10.3.0.1"), ("eu-west-1", "10.3.0.2")] {
        zone.upsert(
            "geo.bin.test.",
            RrType::A,
            10,
            Policy::Latency(region, region),
            &[value],
        )
        .await;
    }

    let mut child = Command::new(env!("CARGO_BIN_EXE_dns-front"))
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOSTED_ZONE_ID", &zone.id)
        .env("DNS_FRONT_REFRESH", "100ms")
        .env("DNS_FRONT_ASKING_REGION", "eu-west-1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the dns-front binary runs");
    let stdout = child.stdout.take().expect("stdout is piped");
    let first_line =
        tokio::time::timeout(STARTUP_TIMEOUT, BufReader::new(stdout).lines().next_line())
            .await
            .expect("dns-front printed its address in time")
            .expect("stdout is readable")
            .expect("dns-front printed a line before exiting");
    let addr: SocketAddr = first_line
        .strip_prefix("listening ")
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("expected `listening 127.0.0.1:PORT`, got {first_line:?}"));
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");

    for transport in [Transport::Udp, Transport::Tcp] {
        let mut dns = DnsClient::connect(addr, transport).await;
        for (name, address) in [
            ("app.bin.test.", Ipv4Addr::new(10, 2, 0, 1)),
            ("geo.bin.test.", Ipv4Addr::new(10, 3, 0, 2)),
        ] {
            let response = dns.ask(name, RecordType::A).await;
            let addresses: Vec<Ipv4Addr> = response
                .answers
                .iter()
                .filter_map(|record| match &record.data {
                    RData::A(address) => Some(address.0),
                    _ => None,
                })
                .collect();
            assert_eq!(addresses, vec![address], "{name} over {transport:?}");
        }
    }

    child.start_kill().expect("dns-front can be stopped");
    let _ = tokio::time::timeout(STARTUP_TIMEOUT, child.wait()).await;
}
