//! A whole SRV set of a large service does not fit a UDP answer. Route 53 then answers
//! over UDP with as many records as fit and the TC bit, and serves the whole set over TCP;
//! dns-front must do the same, or HAProxy and Prometheus would never be tested against
//! the answers they get in a VPC. Asked with `dig`, a real client, as a user would.

use std::net::SocketAddr;
use std::time::Duration;

use aws_sdk_route53::types::RrType;
use dns_front::FrontConfig;
use tokio::process::Command;

use crate::support::moto::Moto;
use crate::support::zone::{Policy, TestZone};

const SET_NAME: &str = "_web._tcp._all.web.big.test.";

/// Values in the whole set: each SRV record with its 32-character task label is about
/// 60 bytes on the wire, so the set is far past 512 bytes and past a 1,232-byte EDNS
/// buffer, and still within Route 53's 400 values per set.
const TASKS: usize = 120;

/// One `dig` run; it answers in well under a second on loopback.
const DIG_TIMEOUT: Duration = Duration::from_secs(20);

/// What `dig` printed about one answer.
#[derive(Debug)]
struct DigAnswer {
    /// The header flags line, e.g. `qr aa tc`.
    flags: Vec<String>,
    /// SRV records in the answer section.
    srv_records: usize,
    /// The received message size.
    size: usize,
    /// Everything dig printed, for failure messages.
    text: String,
}

async fn dig(server: SocketAddr, options: &[&str]) -> DigAnswer {
    let mut command = Command::new("dig");
    command
        .arg(format!("@{}", server.ip()))
        .args(["-p", &server.port().to_string(), "+tries=1", "+time=5"])
        .args(options)
        .args(["SRV", SET_NAME])
        .kill_on_drop(true);
    let output = tokio::time::timeout(DIG_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("dig {options:?} gave no answer within {DIG_TIMEOUT:?}"))
        .unwrap_or_else(|error| {
            panic!("cannot run dig ({error}): install bind9-dnsutils (`make deps` does)")
        });
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "dig {options:?} failed: {text}");
    let flags = text
        .lines()
        .find_map(|line| line.strip_prefix(";; flags: "))
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("dig printed no flags line: {text}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let srv_records = text
        .lines()
        .filter(|line| !line.starts_with(';') && line.contains("\tSRV\t"))
        .count();
    let size = text
        .lines()
        .find_map(|line| line.strip_prefix(";; MSG SIZE  rcvd: "))
        .and_then(|size| size.trim().parse().ok())
        .unwrap_or_else(|| panic!("dig printed no message size: {text}"));
    DigAnswer {
        flags,
        srv_records,
        size,
        text,
    }
}

#[tokio::test]
async fn a_set_too_large_for_udp_is_truncated_there_and_whole_over_tcp() {
    let moto = Moto::shared();
    let zone = TestZone::create(moto.route53().await, "big.test.").await;
    let values: Vec<String> = (0..TASKS)
        .map(|task| format!("1 256 {} {task:032x}.web.big.test.", 30000 + task))
        .collect();
    let value_refs: Vec<&str> = values.iter().map(String::as_str).collect();
    zone.upsert(SET_NAME, RrType::Srv, 10, Policy::Simple, &value_refs)
        .await;
    let source = dns_front::Route53Zone::new(zone.client.clone(), &zone.id);
    let front = dns_front::start(FrontConfig::default(), source)
        .await
        .expect("dns-front starts on the moto zone");
    let server = front.addr();

    // A client without EDNS gets at most 512 bytes, and the TC bit.
    let plain = dig(server, &["+ignore", "+noedns"]).await;
    assert!(plain.flags.iter().any(|f| f == "tc"), "{}", plain.text);
    assert!(plain.size <= 512, "{} bytes: {}", plain.size, plain.text);
    assert!(plain.srv_records < TASKS, "{}", plain.text);

    // A client's EDNS buffer raises the limit to its size, and no further.
    let edns = dig(server, &["+ignore", "+bufsize=1232"]).await;
    assert!(edns.flags.iter().any(|f| f == "tc"), "{}", edns.text);
    assert!(edns.size <= 1232, "{} bytes: {}", edns.size, edns.text);
    assert!(
        edns.srv_records > plain.srv_records && edns.srv_records < TASKS,
        "{}",
        edns.text
    );

    // TCP carries the whole set, untruncated.
    let tcp = dig(server, &["+tcp"]).await;
    assert!(!tcp.flags.iter().any(|f| f == "tc"), "{}", tcp.text);
    assert_eq!(tcp.srv_records, TASKS, "{}", tcp.text);

    // And a client that sees TC retries over TCP by itself, as resolvers do.
    let retried = dig(server, &["+noedns"]).await;
    assert_eq!(retried.srv_records, TASKS, "{}", retried.text);

    front.shutdown().await;
}
