//! Unit tests of the answer rules, on hand-built snapshots with a seeded generator.

use hickory_proto::rr::rdata::SRV;

use super::*;
use crate::test_sets::{a_set, alias, name, zone};
use rand::rngs::StdRng;
use rand::SeedableRng;

fn srv_set(owner: &str, routing: Routing, target: &str) -> RecordSetEntry {
    RecordSetEntry {
        name: name(owner),
        record_type: RecordType::SRV,
        routing,
        data: SetData::Values {
            ttl: 5,
            values: vec![RData::SRV(SRV::new(1, 1, 8080, name(target)))],
        },
    }
}

fn ask(zone: &IndexedZone, owner: &str, record_type: RecordType, rng: &mut StdRng) -> ZoneAnswer {
    zone.answer(&LowerName::from(name(owner)), record_type, None, rng)
}

fn records(answer: ZoneAnswer) -> Vec<Record> {
    match answer {
        ZoneAnswer::Records(records) => records,
        other => panic!("expected records, got {other:?}"),
    }
}

fn last_octets(records: &[Record]) -> Vec<u8> {
    records
        .iter()
        .filter_map(|record| match &record.data {
            RData::A(address) => Some(address.0.octets()[3]),
            _ => None,
        })
        .collect()
}

#[test]
fn simple_sets_answer_every_value_with_their_ttl() {
    let zone = zone(vec![a_set("task.web.zone.", Routing::Simple, &[1, 2, 3])]);
    let answer = records(ask(
        &zone,
        "Task.Web.Zone.",
        RecordType::A,
        &mut StdRng::seed_from_u64(1),
    ));
    assert_eq!(last_octets(&answer), vec![1, 2, 3]);
    assert!(answer.iter().all(|record| record.ttl == 10));
}

#[test]
fn weighted_sets_answer_one_set_drawn_by_weight() {
    let zone = zone(vec![
        srv_set("_http._tcp.web.zone.", Routing::Weighted(1), "a.web.zone."),
        srv_set("_http._tcp.web.zone.", Routing::Weighted(3), "b.web.zone."),
        srv_set(
            "_http._tcp.web.zone.",
            Routing::Weighted(0),
            "never.web.zone.",
        ),
    ]);
    let mut rng = StdRng::seed_from_u64(7);
    let mut picks_of_b = 0;
    for _ in 0..4_000 {
        let answer = records(ask(
            &zone,
            "_http._tcp.web.zone.",
            RecordType::SRV,
            &mut rng,
        ));
        assert_eq!(answer.len(), 1, "a weighted answer holds one record set");
        match &answer[0].data {
            RData::SRV(srv) if srv.target == name("b.web.zone.") => picks_of_b += 1,
            RData::SRV(srv) => {
                assert_eq!(srv.target, name("a.web.zone."), "weight 0 is never drawn")
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // Expected 3,000; the bounds are more than ten standard deviations wide.
    assert!(
        (2_700..=3_300).contains(&picks_of_b),
        "b drawn {picks_of_b} times of 4000"
    );
}

#[test]
fn all_zero_weights_are_drawn_uniformly() {
    let zone = zone(vec![
        a_set("web.zone.", Routing::Weighted(0), &[1]),
        a_set("web.zone.", Routing::Weighted(0), &[2]),
    ]);
    let mut rng = StdRng::seed_from_u64(3);
    let mut seen = [0_u32; 3];
    for _ in 0..1_000 {
        let answer = records(ask(&zone, "web.zone.", RecordType::A, &mut rng));
        assert_eq!(answer.len(), 1);
        for octet in last_octets(&answer) {
            seen[usize::from(octet)] += 1;
        }
    }
    assert!(
        seen[1] > 300 && seen[2] > 300,
        "both sets are drawn: {seen:?}"
    );
}

#[test]
fn multivalue_answers_at_most_eight_distinct_sets_and_all_of_them_over_time() {
    let sets = (1..=12)
        .map(|octet| a_set("web.zone.", Routing::MultiValue, &[octet]))
        .collect();
    let zone = zone(sets);
    let mut rng = StdRng::seed_from_u64(11);
    let mut ever_seen = HashSet::new();
    for _ in 0..200 {
        let mut answer = last_octets(&records(ask(&zone, "web.zone.", RecordType::A, &mut rng)));
        assert_eq!(answer.len(), MULTIVALUE_ANSWER_LIMIT);
        ever_seen.extend(answer.iter().copied());
        answer.sort_unstable();
        answer.dedup();
        assert_eq!(
            answer.len(),
            MULTIVALUE_ANSWER_LIMIT,
            "no set twice in one answer"
        );
    }
    assert_eq!(ever_seen.len(), 12);
}

#[test]
fn a_missing_name_is_nxdomain_with_the_soa_and_a_parent_name_is_nodata() {
    let zone = zone(vec![srv_set(
        "_http._tcp.web.zone.",
        Routing::Simple,
        "a.web.zone.",
    )]);
    let mut rng = StdRng::seed_from_u64(0);
    match ask(&zone, "nothing.zone.", RecordType::A, &mut rng) {
        ZoneAnswer::NameError(soa) => assert_eq!(soa.record_type(), RecordType::SOA),
        other => panic!("expected NXDOMAIN, got {other:?}"),
    }
    assert!(matches!(
        ask(&zone, "_tcp.web.zone.", RecordType::SRV, &mut rng),
        ZoneAnswer::NoData(_)
    ));
    assert!(matches!(
        ask(&zone, "_http._tcp.web.zone.", RecordType::A, &mut rng),
        ZoneAnswer::NoData(_)
    ));
    assert_eq!(
        ask(&zone, "elsewhere.example.", RecordType::A, &mut rng),
        ZoneAnswer::NotInZone
    );
}

#[test]
fn the_negative_ttl_is_the_smaller_of_the_soa_ttl_and_minimum() {
    let soa = SOA::new(
        name("ns.zone."),
        name("admin.zone."),
        1,
        7200,
        900,
        1_209_600,
        60,
    );
    let soa_set = RecordSetEntry {
        name: name("zone."),
        record_type: RecordType::SOA,
        routing: Routing::Simple,
        data: SetData::Values {
            ttl: 900,
            values: vec![RData::SOA(soa)],
        },
    };
    let zone = zone(vec![soa_set]);
    match ask(
        &zone,
        "missing.zone.",
        RecordType::A,
        &mut StdRng::seed_from_u64(0),
    ) {
        ZoneAnswer::NameError(record) => assert_eq!(record.ttl, 60),
        other => panic!("expected NXDOMAIN, got {other:?}"),
    }
}

#[test]
fn an_alias_answers_its_targets_records_under_the_queried_name_with_their_ttl() {
    let zone = zone(vec![
        alias(
            "web.zone.",
            RecordType::A,
            Routing::Weighted(1),
            "_b0.web.zone.",
        ),
        a_set("_b0.web.zone.", Routing::MultiValue, &[1]),
        a_set("_b0.web.zone.", Routing::MultiValue, &[2]),
    ]);
    let answer = records(ask(
        &zone,
        "web.zone.",
        RecordType::A,
        &mut StdRng::seed_from_u64(5),
    ));
    let mut octets = last_octets(&answer);
    octets.sort_unstable();
    assert_eq!(
        octets,
        vec![1, 2],
        "the target's multivalue routing applies"
    );
    assert!(answer
        .iter()
        .all(|record| record.name == name("web.zone.") && record.ttl == 10));
}

#[test]
fn an_alias_to_a_name_without_the_type_is_nodata() {
    let zone = zone(vec![
        alias("web.zone.", RecordType::A, Routing::Simple, "nothing.zone."),
        alias(
            "web.zone.",
            RecordType::AAAA,
            Routing::Simple,
            "_b0.web.zone.",
        ),
        a_set("_b0.web.zone.", Routing::Simple, &[1]),
    ]);
    let mut rng = StdRng::seed_from_u64(0);
    for record_type in [RecordType::A, RecordType::AAAA] {
        assert!(
            matches!(
                ask(&zone, "web.zone.", record_type, &mut rng),
                ZoneAnswer::NoData(_)
            ),
            "{record_type}"
        );
    }
}

#[test]
fn alias_loops_end_after_the_depth_bound_with_nodata() {
    let zone = zone(vec![
        alias("loop.zone.", RecordType::A, Routing::Simple, "loop.zone."),
        alias(
            "ping.zone.",
            RecordType::A,
            Routing::Weighted(1),
            "pong.zone.",
        ),
        alias(
            "pong.zone.",
            RecordType::A,
            Routing::Weighted(1),
            "ping.zone.",
        ),
    ]);
    let mut rng = StdRng::seed_from_u64(0);
    for owner in ["loop.zone.", "ping.zone."] {
        assert!(matches!(
            ask(&zone, owner, RecordType::A, &mut rng),
            ZoneAnswer::NoData(_)
        ));
    }
}

#[test]
fn multivalue_aliases_looping_back_end_quickly() {
    let sets = (0..MULTIVALUE_ANSWER_LIMIT)
        .map(|_| alias("fan.zone.", RecordType::A, Routing::MultiValue, "fan.zone."))
        .collect();
    assert!(matches!(
        ask(
            &zone(sets),
            "fan.zone.",
            RecordType::A,
            &mut StdRng::seed_from_u64(0)
        ),
        ZoneAnswer::NoData(_)
    ));
}

#[test]
fn a_chain_as_deep_as_the_bound_is_still_followed() {
    let mut sets: Vec<RecordSetEntry> = (0..MAX_ALIAS_DEPTH)
        .map(|level| {
            alias(
                &format!("l{level}.zone."),
                RecordType::A,
                Routing::Simple,
                &format!("l{}.zone.", level + 1),
            )
        })
        .collect();
    sets.push(a_set(
        &format!("l{MAX_ALIAS_DEPTH}.zone."),
        Routing::Simple,
        &[9],
    ));
    let answer = records(ask(
        &zone(sets),
        "l0.zone.",
        RecordType::A,
        &mut StdRng::seed_from_u64(0),
    ));
    assert_eq!(last_octets(&answer), vec![9]);
}
