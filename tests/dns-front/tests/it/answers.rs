//! dns-front against a real moto server: Route 53's answer rules over UDP and TCP, the
//! negative answers, and how soon a zone change shows.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use aws_sdk_route53::types::RrType;
use dns_front::{FrontConfig, Route53Zone, RunningFront};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};

use crate::support::dns::{srv_targets, DnsClient, Transport};
use crate::support::moto::Moto;
use crate::support::zone::{Policy, TestZone};

const SRV_NAME: &str = "_http._tcp.web.svc.test.";
const POOL_NAME: &str = "pool.svc.test.";
const TASK_NAME: &str = "a.web.svc.test.";

/// The zone every answer test reads: weighted SRV sets (weights 1, 3 and 0), twelve
/// multivalue A sets, a simple A set with two values, an AAAA, and an SRV set with one value
/// that does not parse.
async fn seeded_zone(moto: &Moto) -> TestZone {
    let zone = TestZone::create(moto.route53().await, "svc.test.").await;
    zone.upsert(
        SRV_NAME,
        RrType::Srv,
        10,
        Policy::Weighted("srv-a", 1),
        &["1 1 8080 a.web.svc.test."],
    )
    .await;
    zone.upsert(
        SRV_NAME,
        RrType::Srv,
        10,
        Policy::Weighted("srv-b", 3),
        &["1 3 8081 b.web.svc.test."],
    )
    .await;
    zone.upsert(
        SRV_NAME,
        RrType::Srv,
        10,
        Policy::Weighted("srv-zero", 0),
        &["1 0 8082 zero.web.svc.test."],
    )
    .await;
    for octet in 1..=12 {
        let identifier = format!("pool-{octet}");
        let value = format!("10.0.0.{octet}");
        zone.upsert(
            POOL_NAME,
            RrType::A,
            10,
            Policy::MultiValue(&identifier),
            &[&value],
        )
        .await;
    }
    zone.upsert(
        TASK_NAME,
        RrType::A,
        30,
        Policy::Simple,
        &["10.0.1.1", "10.0.1.2"],
    )
    .await;
    zone.upsert(TASK_NAME, RrType::Aaaa, 30, Policy::Simple, &["fd00::1"])
        .await;
    zone.upsert(
        "mixed.svc.test.",
        RrType::Srv,
        10,
        Policy::Simple,
        &["1 1 80 ok.svc.test.", "not an srv value"],
    )
    .await;
    zone
}

async fn start_front(zone: &TestZone, config: FrontConfig) -> RunningFront {
    let source = Route53Zone::new(zone.client.clone(), &zone.id);
    dns_front::start(config, source)
        .await
        .expect("dns-front starts on the moto zone")
}

fn ipv4_answers(response: &Message) -> Vec<Ipv4Addr> {
    response
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RData::A(address) => Some(address.0),
            _ => None,
        })
        .collect()
}

fn assert_negative(response: &Message, expected_code: ResponseCode, what: &str) {
    assert_eq!(response.metadata.response_code, expected_code, "{what}");
    assert!(response.answers.is_empty(), "{what}: no answers");
    let authority_types: Vec<RecordType> = response
        .authorities
        .iter()
        .map(|record| record.record_type())
        .collect();
    assert_eq!(
        authority_types,
        vec![RecordType::SOA],
        "{what}: the SOA in authority"
    );
    // The zone's own SOA (moto names a Route 53 name server), not a made-up one.
    match &response.authorities[0].data {
        RData::SOA(soa) => assert!(soa.mname.to_ascii().contains("awsdns"), "{what}: {soa:?}"),
        other => panic!("{what}: expected an SOA, got {other:?}"),
    }
}

/// Every rule, asked the same way over one transport.
async fn check_answer_rules(server: SocketAddr, transport: Transport) {
    let mut dns = DnsClient::connect(server, transport).await;

    for _ in 0..20 {
        let response = dns.ask(SRV_NAME, RecordType::SRV).await;
        assert_eq!(response.metadata.response_code, ResponseCode::NoError);
        assert!(
            response.metadata.authoritative,
            "{transport:?}: answers are authoritative"
        );
        let targets = srv_targets(&response);
        assert_eq!(
            targets.len(),
            1,
            "{transport:?}: one weighted set per query, got {targets:?}"
        );
        assert!(
            targets[0] != "zero.web.svc.test.",
            "{transport:?}: weight 0 is never drawn"
        );
        assert_eq!(
            response.answers[0].ttl, 10,
            "{transport:?}: the record set's TTL"
        );
        assert!(
            response.additionals.is_empty(),
            "{transport:?}: Route 53 adds no additional section to SRV"
        );
    }

    for _ in 0..20 {
        let pool = ipv4_answers(&dns.ask(POOL_NAME, RecordType::A).await);
        let distinct: HashSet<Ipv4Addr> = pool.iter().copied().collect();
        assert_eq!(
            pool.len(),
            8,
            "{transport:?}: multivalue answers eight of twelve, got {pool:?}"
        );
        assert_eq!(distinct.len(), 8, "{transport:?}: no value twice");
        assert!(distinct
            .iter()
            .all(|address| address.octets()[..3] == [10, 0, 0]));
    }

    let task = dns.ask(TASK_NAME, RecordType::A).await;
    let mut addresses = ipv4_answers(&task);
    addresses.sort_unstable();
    assert_eq!(
        addresses,
        vec![Ipv4Addr::new(10, 0, 1, 1), Ipv4Addr::new(10, 0, 1, 2)],
        "{transport:?}: simple is all"
    );
    assert!(task.answers.iter().all(|record| record.ttl == 30));

    let ipv6 = dns.ask(TASK_NAME, RecordType::AAAA).await;
    let ipv6_values: Vec<String> = ipv6
        .answers
        .iter()
        .map(|record| record.data.to_string())
        .collect();
    assert_eq!(
        ipv6_values,
        vec!["fd00::1".to_owned()],
        "{transport:?}: AAAA"
    );

    let mixed = dns.ask("mixed.svc.test.", RecordType::SRV).await;
    assert_eq!(
        srv_targets(&mixed),
        vec!["ok.svc.test.".to_owned()],
        "{transport:?}: the bad value is skipped"
    );

    assert_negative(
        &dns.ask("missing.svc.test.", RecordType::A).await,
        ResponseCode::NXDomain,
        "missing name",
    );
    assert_negative(
        &dns.ask(TASK_NAME, RecordType::SRV).await,
        ResponseCode::NoError,
        "name without SRV",
    );
    assert_negative(
        &dns.ask("web.svc.test.", RecordType::A).await,
        ResponseCode::NoError,
        "a parent name exists",
    );

    let elsewhere = dns.ask("elsewhere.example.", RecordType::A).await;
    assert_eq!(
        elsewhere.metadata.response_code,
        ResponseCode::Refused,
        "{transport:?}: not our zone"
    );
}

#[tokio::test]
async fn answers_follow_route53_rules_over_udp_and_tcp() {
    let moto = Moto::shared();
    let zone = seeded_zone(&moto).await;
    let front = start_front(&zone, FrontConfig::default()).await;

    check_answer_rules(front.addr(), Transport::Udp).await;
    check_answer_rules(front.addr(), Transport::Tcp).await;
    front.shutdown().await;
}

#[tokio::test]
async fn weighted_picks_follow_the_weights() {
    let moto = Moto::shared();
    let zone = seeded_zone(&moto).await;
    // A long refresh and a fixed seed: the same picks on every run, one zone read.
    let config = FrontConfig {
        rng_seed: Some(2_718),
        refresh: Duration::from_secs(3_600),
        ..FrontConfig::default()
    };
    let front = start_front(&zone, config).await;
    let mut dns = DnsClient::connect(front.addr(), Transport::Udp).await;

    let queries = 800;
    let mut picks_of_b = 0;
    for _ in 0..queries {
        match srv_targets(&dns.ask(SRV_NAME, RecordType::SRV).await).as_slice() {
            [target] if target == "b.web.svc.test." => picks_of_b += 1,
            [target] => assert_eq!(target, "a.web.svc.test.", "weight 0 is never drawn"),
            other => panic!("one weighted set per query, got {other:?}"),
        }
    }
    // Weights 1:3 give b three quarters: 600 expected, standard deviation about 12.
    assert!(
        (500..=700).contains(&picks_of_b),
        "b drawn {picks_of_b} times of {queries}"
    );
    front.shutdown().await;
}

#[tokio::test]
async fn zone_changes_show_after_the_refresh_interval() {
    let moto = Moto::shared();
    let zone = TestZone::create(moto.route53().await, "fresh.test.").await;
    zone.upsert(
        "app.fresh.test.",
        RrType::A,
        10,
        Policy::Simple,
        &["10.1.0.1"],
    )
    .await;
    zone.upsert(
        "gone.fresh.test.",
        RrType::A,
        10,
        Policy::Simple,
        &["10.1.0.2"],
    )
    .await;
    let refresh = Duration::from_millis(200);
    let quick = start_front(
        &zone,
        FrontConfig {
            refresh,
            ..FrontConfig::default()
        },
    )
    .await;
    let slow = start_front(
        &zone,
        FrontConfig {
            refresh: Duration::from_secs(3_600),
            ..FrontConfig::default()
        },
    )
    .await;
    let mut quick_dns = DnsClient::connect(quick.addr(), Transport::Udp).await;
    let mut slow_dns = DnsClient::connect(slow.addr(), Transport::Tcp).await;
    assert_eq!(
        ipv4_answers(&quick_dns.ask("app.fresh.test.", RecordType::A).await),
        vec![Ipv4Addr::new(10, 1, 0, 1)]
    );

    zone.upsert(
        "app.fresh.test.",
        RrType::A,
        10,
        Policy::Simple,
        &["10.1.0.9"],
    )
    .await;
    zone.delete(
        "gone.fresh.test.",
        RrType::A,
        10,
        Policy::Simple,
        &["10.1.0.2"],
    )
    .await;
    zone.upsert(
        "new.fresh.test.",
        RrType::A,
        10,
        Policy::Simple,
        &["10.1.0.3"],
    )
    .await;
    // Any read that starts after the changes sees them, and a query one interval later
    // always starts such a read.
    tokio::time::sleep(refresh + Duration::from_millis(50)).await;

    assert_eq!(
        ipv4_answers(&quick_dns.ask("app.fresh.test.", RecordType::A).await),
        vec![Ipv4Addr::new(10, 1, 0, 9)]
    );
    assert_eq!(
        ipv4_answers(&quick_dns.ask("new.fresh.test.", RecordType::A).await),
        vec![Ipv4Addr::new(10, 1, 0, 3)]
    );
    assert_negative(
        &quick_dns.ask("gone.fresh.test.", RecordType::A).await,
        ResponseCode::NXDomain,
        "deleted name",
    );

    // The hour-long interval has not passed, so the first read is still served.
    assert_eq!(
        ipv4_answers(&slow_dns.ask("app.fresh.test.", RecordType::A).await),
        vec![Ipv4Addr::new(10, 1, 0, 1)]
    );
    assert_eq!(
        ipv4_answers(&slow_dns.ask("gone.fresh.test.", RecordType::A).await),
        vec![Ipv4Addr::new(10, 1, 0, 2)]
    );

    quick.shutdown().await;
    slow.shutdown().await;
}

#[tokio::test]
async fn an_unknown_zone_fails_at_start_with_its_id() {
    let moto = Moto::shared();
    let source = Route53Zone::new(moto.route53().await, "ZNOSUCHZONE");
    let error = match dns_front::start(FrontConfig::default(), source).await {
        Ok(_) => panic!("a zone that does not exist must not start"),
        Err(error) => error.to_string(),
    };
    assert!(
        error.contains("ZNOSUCHZONE"),
        "the message names the zone: {error}"
    );
}
