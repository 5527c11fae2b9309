//! Property-based fuzzing of what the proxy does with SRV answers: the RFC 2782 picker over
//! any targets, and the production hickory resolver over any answer a DNS server may send
//! (root targets, targets without addresses, with or without glue, any priority, weight,
//! port and TTL). `PROPTEST_CASES` raises the case count; `make fuzz` runs a long one.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::support::dns::{SrvEntry, TestDns};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use srv_proxy::hickory::HickoryResolver;
use srv_proxy::picker::pick_target;
use srv_proxy::resolve::{Resolve, ResolveError, SrvTarget};

fn targets_strategy() -> impl Strategy<Value = Vec<(u16, u16, bool)>> {
    // (priority, weight, usable): few priorities so that tiers really compete, weights with
    // plenty of zeros, and some targets ruled out (ejected or already tried).
    prop::collection::vec(
        (
            0u16..4,
            prop_oneof![Just(0u16), 0u16..=65535],
            any::<bool>(),
        ),
        0..24,
    )
}

proptest! {
    #[test]
    fn the_picker_keeps_to_rfc_2782(targets in targets_strategy(), seed in any::<u64>()) {
        let list: Vec<SrvTarget> = targets
            .iter()
            .enumerate()
            .map(|(index, (priority, weight, _))| SrvTarget {
                host: Arc::from(format!("t{index}.test.")),
                addr: SocketAddr::from(([127, 0, 0, 1], 10_000 + index as u16)),
                priority: *priority,
                weight: *weight,
            })
            .collect();
        let usable = |target: &SrvTarget| {
            let index = usize::from(target.addr.port() - 10_000);
            targets[index].2
        };
        let mut rng = StdRng::seed_from_u64(seed);
        let best = targets.iter().filter(|t| t.2).map(|t| t.0).min();
        match pick_target(&list, usable, &mut rng) {
            None => prop_assert!(best.is_none(), "a usable target exists but none was picked"),
            Some(chosen) => {
                prop_assert!(usable(chosen), "picked an unusable target");
                prop_assert_eq!(Some(chosen.priority), best, "picked outside the lowest usable priority");
            }
        }
    }
}

/// One SRV record of a random answer.
#[derive(Clone, Debug)]
struct RandomEntry {
    priority: u16,
    weight: u16,
    port: u16,
    /// None: the root target `.` ("not available here").
    target: Option<usize>,
}

fn entries_strategy() -> impl Strategy<Value = Vec<RandomEntry>> {
    prop::collection::vec(
        (
            any::<u16>(),
            any::<u16>(),
            1u16..=65535,
            prop::option::weighted(0.85, 0usize..6),
        )
            .prop_map(|(priority, weight, port, target)| RandomEntry {
                priority,
                weight,
                port,
                target,
            }),
        0..10,
    )
}

proptest! {
    // Each case starts a DNS server and resolves through it: 48 by default, PROPTEST_CASES
    // for more.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(48)
    ))]

    #[test]
    fn any_srv_answer_becomes_exactly_the_reachable_targets(
        entries in entries_strategy(),
        with_address in prop::collection::vec(any::<bool>(), 6),
        glue in any::<bool>(),
        ttl in 0u32..=600,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let outcome = runtime.block_on(async {
            let dns = TestDns::start().await;
            dns.edit(|zone| {
                zone.glue = glue;
                zone.ttl = ttl;
                for (index, has_address) in with_address.iter().enumerate() {
                    if *has_address {
                        zone.addresses.insert(format!("n{index}.fuzz.test"), IpAddr::V4(Ipv4Addr::new(127, 0, 3, index as u8 + 1)));
                    }
                }
                let records = entries
                    .iter()
                    .map(|entry| SrvEntry {
                        priority: entry.priority,
                        weight: entry.weight,
                        port: entry.port,
                        target: entry.target.map_or_else(|| ".".to_owned(), |i| format!("n{i}.fuzz.test.")),
                    })
                    .collect();
                zone.srv.insert("_svc._tcp.fuzz.test".to_owned(), records);
            });
            let resolver = HickoryResolver::with_nameserver(dns.addr).unwrap();
            tokio::time::timeout(Duration::from_secs(20), resolver.resolve_srv("_svc._tcp.fuzz.test."))
                .await
                .expect("a local resolution finishes")
        });
        let reachable: BTreeSet<(SocketAddr, u16, u16)> = entries
            .iter()
            .filter_map(|entry| {
                let index = entry.target?;
                with_address[index].then(|| {
                    (SocketAddr::from(([127, 0, 3, index as u8 + 1], entry.port)), entry.priority, entry.weight)
                })
            })
            .collect();
        let unreachable = entries.iter().any(|entry| entry.target.is_some_and(|index| !with_address[index]));
        match outcome {
            Ok(answer) => {
                let got: BTreeSet<(SocketAddr, u16, u16)> = answer.targets.iter().map(|t| (t.addr, t.priority, t.weight)).collect();
                prop_assert_eq!(got, reachable.clone());
                prop_assert_eq!(answer.ttl, Duration::from_secs(u64::from(ttl)));
            }
            Err(ResolveError::NotFound { .. }) => prop_assert!(reachable.is_empty() && !unreachable, "NotFound with usable or unresolvable targets"),
            Err(ResolveError::Unavailable { reason, .. }) => prop_assert!(reachable.is_empty() && unreachable, "Unavailable: {}", reason),
        }
    }
}
