//! The exact shares against the random answers they describe, and latency answers by the
//! asking region, on hand-built zones.

use std::collections::HashMap;

use hickory_proto::rr::RData;
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::*;
use crate::test_sets::{a_set, alias, name, zone};
use crate::zone::{IndexedZone, ZoneAnswer};

fn octet(set: &RecordSetEntry) -> u8 {
    match &set.data {
        SetData::Values { values, .. } => match values.first() {
            Some(RData::A(address)) => address.0.octets()[3],
            other => panic!("not an A value: {other:?}"),
        },
        SetData::Alias { .. } => panic!("a leaf is never an alias"),
    }
}

/// The share of each leaf (by its last octet) when `owner` is asked from `region`.
fn shares(zone: &IndexedZone, owner: &str, region: Option<&str>) -> HashMap<u8, f64> {
    let mut by_octet = HashMap::new();
    for leaf in answer_shares(zone, &LowerName::from(name(owner)), RecordType::A, region) {
        *by_octet.entry(octet(leaf.set)).or_insert(0.0) += leaf.probability;
    }
    by_octet
}

/// How often each octet is in the answers to `queries` random queries.
fn drawn(zone: &IndexedZone, owner: &str, region: Option<&str>, queries: u32) -> HashMap<u8, f64> {
    let mut rng = StdRng::seed_from_u64(17);
    let mut seen: HashMap<u8, u32> = HashMap::new();
    for _ in 0..queries {
        match zone.answer(
            &LowerName::from(name(owner)),
            RecordType::A,
            region,
            &mut rng,
        ) {
            ZoneAnswer::Records(records) => {
                for record in records {
                    if let RData::A(address) = &record.data {
                        *seen.entry(address.0.octets()[3]).or_default() += 1;
                    }
                }
            }
            other => panic!("expected records, got {other:?}"),
        }
    }
    seen.into_iter()
        .map(|(octet, count)| (octet, f64::from(count) / f64::from(queries)))
        .collect()
}

/// A tree of weighted aliases (weights 1 and 3) over weighted leaves, one of weight 0.
fn tree() -> Vec<RecordSetEntry> {
    vec![
        alias(
            "web.zone.",
            RecordType::A,
            Routing::Weighted(1),
            "_b0.web.zone.",
        ),
        alias(
            "web.zone.",
            RecordType::A,
            Routing::Weighted(3),
            "_b1.web.zone.",
        ),
        a_set("_b0.web.zone.", Routing::Weighted(1), &[1]),
        a_set("_b0.web.zone.", Routing::Weighted(1), &[2]),
        a_set("_b1.web.zone.", Routing::Weighted(2), &[3]),
        a_set("_b1.web.zone.", Routing::Weighted(1), &[4]),
        a_set("_b1.web.zone.", Routing::Weighted(0), &[5]),
    ]
}

#[test]
fn shares_through_a_weighted_tree_are_exact_and_skip_weight_zero() {
    let got = shares(&zone(tree()), "web.zone.", None);
    let want = HashMap::from([(1, 0.125), (2, 0.125), (3, 0.5), (4, 0.25)]);
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (octet, share) in want {
        assert!((got[&octet] - share).abs() < 1e-12, "{octet}: {got:?}");
    }
}

#[test]
fn multivalue_and_all_zero_weights_share_evenly() {
    let mut sets: Vec<RecordSetEntry> = (1..=12)
        .map(|o| a_set("pool.zone.", Routing::MultiValue, &[o]))
        .collect();
    sets.push(a_set("zero.zone.", Routing::Weighted(0), &[20]));
    sets.push(a_set("zero.zone.", Routing::Weighted(0), &[21]));
    let zone = zone(sets);
    let pool = shares(&zone, "pool.zone.", None);
    assert!(
        pool.values().all(|s| (s - 8.0 / 12.0).abs() < 1e-12),
        "eight of twelve: {pool:?}"
    );
    let zero = shares(&zone, "zero.zone.", None);
    assert!(zero.values().all(|s| (s - 0.5).abs() < 1e-12), "{zero:?}");
}

/// The one oracle describes the server: over many seeded queries, each value is answered
/// as often as its share says (the bounds are many standard deviations wide).
#[test]
fn random_answers_follow_the_shares() {
    let mut sets = tree();
    sets.extend((1..=10).map(|o| a_set("pool.zone.", Routing::MultiValue, &[100 + o])));
    let zone = zone(sets);
    for owner in ["web.zone.", "pool.zone."] {
        let exact = shares(&zone, owner, None);
        let seen = drawn(&zone, owner, None, 20_000);
        assert_eq!(exact.len(), seen.len(), "{owner}: {exact:?} {seen:?}");
        for (octet, share) in &exact {
            assert!(
                (seen[octet] - share).abs() < 0.02,
                "{owner} {octet}: {share} vs {seen:?}"
            );
        }
    }
}

/// Two regions' latency aliases at one name, over a tree in one region and a flat name in
/// the other: each region is answered its own, a third by the closest, and without a region
/// each is drawn half the time.
#[test]
fn latency_names_answer_the_asking_region_else_the_closest() {
    let mut sets = vec![
        alias(
            "api.zone.",
            RecordType::A,
            Routing::Latency("us-east-1".into()),
            "web.zone.",
        ),
        alias(
            "api.zone.",
            RecordType::A,
            Routing::Latency("eu-west-1".into()),
            "api.eu.zone.",
        ),
        a_set("api.eu.zone.", Routing::Weighted(1), &[50]),
        a_set("api.eu.zone.", Routing::Weighted(1), &[51]),
    ];
    sets.extend(tree());
    let zone = zone(sets);
    let us: Vec<u8> = sorted_keys(shares(&zone, "api.zone.", Some("us-east-1")));
    assert_eq!(us, vec![1, 2, 3, 4], "us-east-1 through its tree");
    let eu = sorted_keys(shares(&zone, "api.zone.", Some("eu-west-1")));
    assert_eq!(eu, vec![50, 51]);
    let frankfurt = sorted_keys(shares(&zone, "api.zone.", Some("eu-central-1")));
    assert_eq!(frankfurt, vec![50, 51], "Frankfurt is closest to Ireland");
    let ohio = sorted_keys(drawn(&zone, "api.zone.", Some("us-east-2"), 200));
    assert_eq!(ohio, vec![1, 2, 3, 4], "the random answers agree");
    let anywhere = shares(&zone, "api.zone.", None);
    assert!(
        (anywhere[&50] - 0.25).abs() < 1e-12 && (anywhere[&3] - 0.25).abs() < 1e-12,
        "{anywhere:?}"
    );
}

fn sorted_keys(map: HashMap<u8, f64>) -> Vec<u8> {
    let mut keys: Vec<u8> = map.into_keys().collect();
    keys.sort_unstable();
    keys
}
