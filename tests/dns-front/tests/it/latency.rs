//! Latency routing by the asking side's region, over real DNS on loopback: a moto zone
//! holds two regions' latency aliases at one name, each over its region's weighted sets
//! (a tree of weighted aliases in us-east-1, a flat name in eu-west-1), the layout ecs-srv
//! writes with regional names. A front per region answers its own region's targets, a
//! front for a region without a set answers the closest region's, and once a region's
//! alias leaves, its front answers the other region's.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use aws_sdk_route53::types::RrType;
use dns_front::{FrontConfig, Route53Zone, RunningFront};
use hickory_proto::rr::{RData, RecordType};

use crate::support::dns::{DnsClient, Transport};
use crate::support::moto::Moto;
use crate::support::zone::{Policy, TestZone};

const SHARED: &str = "web.geo.test.";
const US: &str = "web.us-east-1.geo.test.";
const EU: &str = "web.eu-west-1.geo.test.";

/// Queries per front: each region's answer is one of at most four addresses drawn by
/// weight, so missing one in this many has odds below 1e-9.
const QUERIES: usize = 80;

/// Checks, 50 ms apart, for a zone change to reach a front that re-reads every 100 ms.
const CHANGE_CHECKS: usize = 200;

fn us_addresses() -> BTreeSet<IpAddr> {
    ["10.1.0.1", "10.1.0.2", "10.1.1.1", "10.1.1.2"]
        .iter()
        .map(|a| a.parse().expect("an address"))
        .collect()
}

fn eu_addresses() -> BTreeSet<IpAddr> {
    ["10.2.0.1", "10.2.0.2", "10.2.0.3"]
        .iter()
        .map(|a| a.parse().expect("an address"))
        .collect()
}

/// The two regions' names and the shared name's latency aliases. SetIdentifiers are
/// unique in the zone: moto deletes by identifier alone.
async fn regional_zone(moto: &Moto) -> TestZone {
    let zone = TestZone::create(moto.route53().await, "geo.test.").await;
    for branch in 0..2 {
        let branch_name = format!("_b{branch}.{US}");
        for member in 1..=2 {
            let id = format!("us-b{branch}-t{member}");
            let value = format!("10.1.{branch}.{member}");
            zone.upsert(
                &branch_name,
                RrType::A,
                10,
                Policy::Weighted(&id, 1),
                &[&value],
            )
            .await;
        }
        let id = format!("us-tree-{branch}");
        zone.create_alias(US, RrType::A, Policy::Weighted(&id, 2), &branch_name)
            .await;
    }
    for member in 1..=3 {
        let id = format!("eu-t{member}");
        let value = format!("10.2.0.{member}");
        zone.upsert(EU, RrType::A, 10, Policy::Weighted(&id, 1), &[&value])
            .await;
    }
    for (region, target) in [("us-east-1", US), ("eu-west-1", EU)] {
        zone.create_alias(SHARED, RrType::A, Policy::Latency(region, region), target)
            .await;
    }
    zone
}

/// A front that stands for a VPC in `region`, re-reading the zone every 100 ms.
async fn front_in(zone: &TestZone, region: &str) -> RunningFront {
    let config = FrontConfig {
        refresh: Duration::from_millis(100),
        rng_seed: Some(7),
        asking_region: Some(region.to_owned()),
        ..FrontConfig::default()
    };
    dns_front::start(config, Route53Zone::new(zone.client.clone(), &zone.id))
        .await
        .expect("dns-front starts on the moto zone")
}

/// One query's addresses, each owned by the shared name as Route 53 answers an alias.
async fn ask(dns: &mut DnsClient) -> BTreeSet<IpAddr> {
    let response = dns.ask(SHARED, RecordType::A).await;
    response
        .answers
        .iter()
        .map(|record| {
            assert_eq!(record.name.to_ascii(), SHARED, "{record}");
            match &record.data {
                RData::A(address) => IpAddr::V4(address.0),
                other => panic!("an A record, got {other:?}"),
            }
        })
        .collect()
}

/// Every address `QUERIES` queries got, each query answering exactly one.
async fn answered(front: &RunningFront) -> BTreeSet<IpAddr> {
    let mut dns = DnsClient::connect(front.addr(), Transport::Udp).await;
    let mut seen = BTreeSet::new();
    for _ in 0..QUERIES {
        let addresses = ask(&mut dns).await;
        assert_eq!(
            addresses.len(),
            1,
            "one weighted pick per query: {addresses:?}"
        );
        seen.extend(addresses);
    }
    seen
}

#[tokio::test]
async fn each_region_is_answered_its_own_targets_and_the_other_regions_when_its_alias_leaves() {
    let moto = Moto::shared();
    let zone = regional_zone(&moto).await;
    let us = front_in(&zone, "us-east-1").await;
    let eu = front_in(&zone, "eu-west-1").await;
    let frankfurt = front_in(&zone, "eu-central-1").await;

    assert_eq!(
        answered(&us).await,
        us_addresses(),
        "us-east-1 through its tree"
    );
    assert_eq!(answered(&eu).await, eu_addresses(), "eu-west-1");
    assert_eq!(
        answered(&frankfurt).await,
        eu_addresses(),
        "eu-central-1 has no set: the closest region, eu-west-1, answers"
    );

    zone.delete_alias(
        SHARED,
        RrType::A,
        Policy::Latency("eu-west-1", "eu-west-1"),
        EU,
    )
    .await;
    let mut dns = DnsClient::connect(eu.addr(), Transport::Udp).await;
    let mut switched = false;
    for _ in 0..CHANGE_CHECKS {
        if ask(&mut dns).await.is_subset(&us_addresses()) {
            switched = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        switched,
        "the eu-west-1 front saw the alias leave within {CHANGE_CHECKS} checks"
    );
    assert_eq!(
        answered(&eu).await,
        us_addresses(),
        "with no eu-west-1 alias, us-east-1 answers eu-west-1's queries"
    );
    assert_eq!(
        answered(&us).await,
        us_addresses(),
        "and us-east-1 is unchanged"
    );

    for front in [us, eu, frankfurt] {
        front.shutdown().await;
    }
}
