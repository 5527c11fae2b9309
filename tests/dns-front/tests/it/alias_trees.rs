//! Trees of weighted aliases, the layout Route 53 documents for more than 100 weighted
//! record sets at one name, written into moto and asked over DNS: a query picks one alias
//! by weight, the target name is answered by its own routing, and the records come back
//! under the queried name with the target's TTL.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use aws_sdk_route53::types::RrType;
use dns_front::{FrontConfig, Route53Zone, RunningFront};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};

use crate::support::dns::{srv_targets, DnsClient, Transport};
use crate::support::moto::Moto;
use crate::support::zone::{Policy, TestZone};

const SRV_TREE: &str = "_web._tcp.web.svc.test.";
const ADDRESS_TREE: &str = "web.svc.test.";
const WHOLE_SET_TREE: &str = "_web._tcp._all.web.svc.test.";

/// Bucket weights and member counts of the SRV tree: unequal on purpose, so that a front
/// drawing buckets by member count, or members across buckets, fails the bounds below.
const SRV_BUCKETS: [(i64, usize); 3] = [(1, 2), (2, 5), (3, 9)];

/// Enough queries that the rarest member (bucket 2: half the picks over 9 members) is
/// expected about 167 times.
const QUERIES: usize = 3_000;

fn bucket_name(bucket: usize) -> String {
    format!("_b{bucket}.{SRV_TREE}")
}

/// The member target names of bucket `bucket`, which is also what its SRV values point to.
fn member_target(bucket: usize, member: usize) -> String {
    format!("t{bucket}-{member}.web.svc.test.")
}

/// Every tree of the tests in one zone. SetIdentifiers are unique across the zone, because
/// moto deletes by identifier alone.
async fn tree_zone(moto: &Moto) -> TestZone {
    let zone = TestZone::create(moto.route53().await, "svc.test.").await;
    for (bucket, (weight, members)) in SRV_BUCKETS.iter().enumerate() {
        let identifier = format!("srv-b{bucket}");
        zone.create_alias(
            SRV_TREE,
            RrType::Srv,
            Policy::Weighted(&identifier, *weight),
            &bucket_name(bucket),
        )
        .await;
        for member in 0..*members {
            let identifier = format!("srv-b{bucket}-m{member}");
            let value = format!("1 1 {} {}", 8000 + member, member_target(bucket, member));
            // Each bucket its own TTL, so the answer shows which target set it came from.
            let ttl = 10 + i64::try_from(bucket).expect("three buckets");
            zone.upsert(
                &bucket_name(bucket),
                RrType::Srv,
                ttl,
                Policy::Weighted(&identifier, 1),
                &[&value],
            )
            .await;
        }
    }

    // A and AAAA trees at the service name: multivalue members behind one bucket.
    for (record_type, prefix) in [(RrType::A, "a"), (RrType::Aaaa, "aaaa")] {
        let identifier = format!("{prefix}-b0");
        zone.create_alias(
            ADDRESS_TREE,
            record_type.clone(),
            Policy::Weighted(&identifier, 1),
            "_b0.web.svc.test.",
        )
        .await;
        for member in 1..=10 {
            let identifier = format!("{prefix}-b0-m{member}");
            let value = match record_type {
                RrType::A => format!("10.0.0.{member}"),
                _ => format!("fd00::{member}"),
            };
            zone.upsert(
                "_b0.web.svc.test.",
                record_type.clone(),
                20,
                Policy::MultiValue(&identifier),
                &[&value],
            )
            .await;
        }
    }

    // A whole-set tree: weighted aliases to simple sets, each answered whole.
    for (shard, targets) in [
        (0, ["s0-a", "s0-b", "s0-c"].as_slice()),
        (1, &["s1-a", "s1-b"]),
    ] {
        let identifier = format!("all-s{shard}");
        let child = format!("_s{shard}.{WHOLE_SET_TREE}");
        zone.create_alias(
            WHOLE_SET_TREE,
            RrType::Srv,
            Policy::Weighted(&identifier, 1),
            &child,
        )
        .await;
        let values: Vec<String> = targets
            .iter()
            .map(|target| format!("1 1 9000 {target}.web.svc.test."))
            .collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        zone.upsert(&child, RrType::Srv, 30, Policy::Simple, &values)
            .await;
    }

    // Broken trees: a missing target, a target with another type only, and loops.
    zone.create_alias(
        "_gone._tcp.web.svc.test.",
        RrType::Srv,
        Policy::Weighted("gone-b0", 1),
        "_b0._gone._tcp.web.svc.test.",
    )
    .await;
    zone.create_alias(
        "other-type.svc.test.",
        RrType::A,
        Policy::Weighted("other-type-b0", 1),
        &bucket_name(0),
    )
    .await;
    zone.create_alias(
        "loop.svc.test.",
        RrType::A,
        Policy::Simple,
        "loop.svc.test.",
    )
    .await;
    zone.create_alias(
        "ping.svc.test.",
        RrType::Srv,
        Policy::Weighted("ping-pong", 1),
        "pong.svc.test.",
    )
    .await;
    zone.create_alias(
        "pong.svc.test.",
        RrType::Srv,
        Policy::Weighted("pong-ping", 1),
        "ping.svc.test.",
    )
    .await;
    zone
}

/// A seeded front that reads the zone once: the same picks on every run.
async fn start_front(zone: &TestZone) -> RunningFront {
    let config = FrontConfig {
        rng_seed: Some(1_618),
        refresh: Duration::from_secs(3_600),
        ..FrontConfig::default()
    };
    dns_front::start(config, Route53Zone::new(zone.client.clone(), &zone.id))
        .await
        .expect("dns-front starts on the moto zone")
}

/// Every answer record is owned by the queried name: Route 53 answers an alias under the
/// alias's name, never the target's.
fn assert_owned_by(response: &Message, name: &str) {
    for record in &response.answers {
        assert_eq!(record.name.to_ascii(), name, "{record}");
    }
}

fn assert_nodata(response: &Message, what: &str) {
    assert_eq!(
        response.metadata.response_code,
        ResponseCode::NoError,
        "{what}"
    );
    assert!(
        response.answers.is_empty(),
        "{what}: {:?}",
        response.answers
    );
    assert_eq!(
        response
            .authorities
            .iter()
            .map(|record| record.record_type())
            .collect::<Vec<_>>(),
        vec![RecordType::SOA],
        "{what}: the SOA in authority"
    );
}

#[tokio::test]
async fn a_weighted_tree_answers_every_member_with_buckets_drawn_by_weight() {
    let moto = Moto::shared();
    let zone = tree_zone(&moto).await;
    let front = start_front(&zone).await;
    let mut dns = DnsClient::connect(front.addr(), Transport::Udp).await;

    let mut picks: HashMap<String, usize> = HashMap::new();
    for _ in 0..QUERIES {
        let response = dns.ask(SRV_TREE, RecordType::SRV).await;
        assert_owned_by(&response, SRV_TREE);
        let targets = srv_targets(&response);
        let [target] = targets.as_slice() else {
            panic!("one member per query, got {targets:?}");
        };
        let bucket = (0..SRV_BUCKETS.len())
            .find(|bucket| target.starts_with(&format!("t{bucket}-")))
            .unwrap_or_else(|| panic!("{target} is no member"));
        let expected_ttl = 10 + u32::try_from(bucket).expect("three buckets");
        assert_eq!(
            response.answers[0].ttl, expected_ttl,
            "the target set's TTL"
        );
        assert!(response.additionals.is_empty(), "no additional section");
        *picks.entry(target.clone()).or_default() += 1;
    }

    let total_weight: i64 = SRV_BUCKETS.iter().map(|(weight, _)| weight).sum();
    for (bucket, (weight, members)) in SRV_BUCKETS.iter().enumerate() {
        let bucket_picks: usize = (0..*members)
            .map(|member| {
                let count = picks
                    .get(&member_target(bucket, member))
                    .copied()
                    .unwrap_or(0);
                assert!(
                    count > 0,
                    "member {member} of bucket {bucket} never answered"
                );
                count
            })
            .sum();
        let expected = QUERIES * usize::try_from(*weight).expect("small weight")
            / usize::try_from(total_weight).expect("small total");
        // About five standard deviations each way: 100 around 500, 125 around 1,000 and
        // 1,500. The seed makes the run repeatable; the width makes a new seed safe.
        let slack = if expected <= 500 { 100 } else { 125 };
        assert!(
            bucket_picks.abs_diff(expected) <= slack,
            "bucket {bucket} answered {bucket_picks} times of {QUERIES}, expected about {expected}"
        );
    }
    front.shutdown().await;
}

#[tokio::test]
async fn trees_answer_the_targets_own_routing_for_a_aaaa_and_whole_sets() {
    let moto = Moto::shared();
    let zone = tree_zone(&moto).await;
    let front = start_front(&zone).await;

    for transport in [Transport::Udp, Transport::Tcp] {
        let mut dns = DnsClient::connect(front.addr(), transport).await;
        for record_type in [RecordType::A, RecordType::AAAA] {
            let response = dns.ask(ADDRESS_TREE, record_type).await;
            assert_owned_by(&response, ADDRESS_TREE);
            let addresses: Vec<IpAddr> = response
                .answers
                .iter()
                .filter_map(|record| match &record.data {
                    RData::A(address) => Some(IpAddr::V4(address.0)),
                    RData::AAAA(address) => Some(IpAddr::V6(address.0)),
                    _ => None,
                })
                .collect();
            assert_eq!(
                addresses.len(),
                dns_front::MULTIVALUE_ANSWER_LIMIT,
                "{transport:?} {record_type}: eight of the ten multivalue members, {addresses:?}"
            );
            assert!(response.answers.iter().all(|record| record.ttl == 20));
        }

        let mut seen_shards = [false; 2];
        for _ in 0..40 {
            let response = dns.ask(WHOLE_SET_TREE, RecordType::SRV).await;
            assert_owned_by(&response, WHOLE_SET_TREE);
            let mut targets = srv_targets(&response);
            targets.sort_unstable();
            let shard = match targets.as_slice() {
                [a, b, c] if [a, b, c].iter().all(|t| t.starts_with("s0-")) => 0,
                [a, b] if [a, b].iter().all(|t| t.starts_with("s1-")) => 1,
                other => panic!("{transport:?}: one whole child set per query, got {other:?}"),
            };
            seen_shards[shard] = true;
            assert!(response.answers.iter().all(|record| record.ttl == 30));
        }
        assert_eq!(
            seen_shards,
            [true, true],
            "{transport:?}: both shards drawn"
        );
    }
    front.shutdown().await;
}

#[tokio::test]
async fn broken_trees_answer_nodata_and_loops_end() {
    let moto = Moto::shared();
    let zone = tree_zone(&moto).await;
    let front = start_front(&zone).await;
    let mut dns = DnsClient::connect(front.addr(), Transport::Udp).await;

    assert_nodata(
        &dns.ask("_gone._tcp.web.svc.test.", RecordType::SRV).await,
        "alias to a missing name",
    );
    assert_nodata(
        &dns.ask("other-type.svc.test.", RecordType::A).await,
        "alias to a name with SRV only",
    );
    assert_nodata(
        &dns.ask("loop.svc.test.", RecordType::A).await,
        "alias to itself",
    );
    assert_nodata(
        &dns.ask("ping.svc.test.", RecordType::SRV).await,
        "two aliases pointing at each other",
    );
    // The tree's name has SRV aliases only; its other types are NODATA, as before.
    assert_nodata(
        &dns.ask(SRV_TREE, RecordType::A).await,
        "no A at the SRV name",
    );

    // The server is still answering after the loops.
    let response = dns.ask(SRV_TREE, RecordType::SRV).await;
    assert_eq!(srv_targets(&response).len(), 1);
    front.shutdown().await;
}
