//! The judge, judged: the tests' own layout (`simulated::layout`) reads a zone rendered
//! from the README's rules back as the documented layout, under every setting that
//! changes names, and refuses a zone that strays from it in any one detail (a weight, a
//! mark, an alias, a foreign set, an older version's mark), so that a property that passes
//! against it says something.

use std::net::{Ipv4Addr, Ipv6Addr};

use aws_sdk_route53::types::ResourceRecordSet;

use crate::simulated::layout::marks::{cluster_mark_label, fnv32, label};
use crate::simulated::layout::render::render;
use crate::simulated::layout::{check_zone, expected, listed, Era, Layout};
use crate::simulated::tasks::{simple_task, ContainerSpec, Mode, TaskSpec};

fn layout(flags: &[&str]) -> Layout {
    Layout::of(&crate::simulated::config_with(flags))
}

/// `count` tasks of `web` (some weighted, some dual-stack, two containers each for the
/// first few) in two clusters, and one small service `api`.
fn tasks(count: usize) -> Vec<TaskSpec> {
    let mut tasks: Vec<TaskSpec> = (0..count)
        .map(|index| {
            let mut task = simple_task(index, Mode::Awsvpc, "web", 0);
            task.containers[0].weight = Some((index % 4) as u8 + 1);
            if index % 3 == 0 {
                task.ipv6 = Some(Ipv6Addr::new(
                    0x2600,
                    0x1f18,
                    0,
                    0,
                    0,
                    0,
                    0,
                    index as u16 + 1,
                ));
            }
            if index < 3 {
                task.containers.push(ContainerSpec {
                    name: "admin".to_owned(),
                    container_port: 9000,
                    host_port: 33000,
                    weight: Some(7),
                });
            }
            task
        })
        .collect();
    let mut api = simple_task(90_000, Mode::Bridge, "api", 1);
    api.cluster = "payments-Production_Cluster-2026".to_owned();
    api.eni_address = Ipv4Addr::new(10, 3, 0, 1);
    tasks.push(api);
    tasks
}

const SETTINGS: [&[&str]; 5] = [
    &["--srv-sets", "on"],
    &["--srv-sets", "on", "--routing-policy", "multivalue"],
    &["--cluster-in-names", "on", "--srv-sets", "off"],
    &["--regional-names", "on", "--srv-sets", "on"],
    &[
        "--record-owner",
        "blue",
        "--record-ttl",
        "30",
        "--srv-sets",
        "on",
    ],
];

/// Marks and labels as the brief states them: a cluster's mark label of at most 20
/// characters in us-east-1, cut with the hash of the whole name.
#[test]
fn labels_are_cut_with_a_hash_and_keep_only_letters_digits_and_dashes() {
    assert_eq!(label("Prod_Cluster--1", 24), "prod-cluster-1");
    assert_eq!(label("***", 24), format!("x-{:08x}", fnv32("***")));
    let long = "payments-Production_Cluster-2026";
    let cut = cluster_mark_label(long, "us-east-1", "123456789012");
    assert_eq!(cut.len(), 20, "{cut}");
    assert!(cut.starts_with("payments-pr") && cut.ends_with(&format!("{:08x}", fnv32(long))));
    assert_eq!(label(long, 24).len(), 24);
    assert_eq!(
        cluster_mark_label("demo", "us-east-1", "123456789012"),
        "demo"
    );
}

/// A zone of 1, 150 and 330 tasks rendered with trees and shards reads back as the flat
/// documented layout, with every task answered, under every setting that changes names.
#[test]
fn a_rendered_zone_reads_back_as_the_documented_layout() {
    for flags in SETTINGS {
        for count in [1, 150, 330] {
            let layout = layout(flags);
            let tasks = tasks(count);
            let running: Vec<&TaskSpec> = tasks.iter().collect();
            let zone = render(&layout, &running, Era::Today);
            let trees = zone
                .iter()
                .filter(|set| set.alias_target().is_some())
                .count();
            assert!(
                count < 150 || trees > 0,
                "{flags:?} {count}: a tree is rendered"
            );
            if let Err(difference) = check_zone(&layout, &zone, &[], &running) {
                panic!("{flags:?} {count}: {difference}");
            }
        }
    }
}

/// One change to a well-formed zone, and the words the oracle must refuse it with.
type Stray = (&'static str, fn(&mut Vec<ResourceRecordSet>), &'static str);

fn alias_of(zone: &mut [ResourceRecordSet]) -> &mut ResourceRecordSet {
    zone.iter_mut()
        .find(|s| s.alias_target().is_some() && s.weight().is_some())
        .expect("a tree")
}

fn member_in_branch(zone: &mut [ResourceRecordSet]) -> &mut ResourceRecordSet {
    zone.iter_mut()
        .find(|s| s.name().starts_with("_b1.web.") && s.r#type().as_str() == "A")
        .expect("a branch member")
}

const STRAYS: [Stray; 7] = [
    (
        "an alias weight off by one",
        |zone| alias_of(zone).weight = alias_of(zone).weight.map(|w| w + 1),
        "alias weights",
    ),
    (
        "an alias dropped",
        |zone| {
            let index = zone
                .iter()
                .position(|s| s.alias_target().is_some() && s.weight().is_some())
                .expect("a tree");
            zone.remove(index);
        },
        "aliases to branches",
    ),
    (
        "a branch member's mark hashed for the root",
        |zone| {
            let member = member_in_branch(zone);
            let id = member.set_identifier.clone().expect("a mark");
            let root = member.name().trim_start_matches("_b1.").to_owned();
            let hash = format!("{:08x}", fnv32(&format!("{root} A")));
            member.set_identifier =
                Some(format!("{}:{hash}", id.rsplit_once(':').expect("a mark").0));
        },
        "not a documented mark",
    ),
    (
        "an SRV weight field not scaled by 256",
        |zone| {
            let srv = zone
                .iter_mut()
                .find(|s| {
                    s.set_identifier().is_some()
                        && s.resource_records()
                            .first()
                            .is_some_and(|r| r.value().starts_with("1 512 "))
                })
                .expect("an SRV set of weight 2");
            let record = &mut srv.resource_records.as_mut().expect("values")[0];
            record.value = record.value.replacen("1 512 ", "1 510 ", 1);
        },
        "not laid out as documented",
    ),
    (
        "a task's weight swapped",
        |zone| {
            let set = zone
                .iter_mut()
                .find(|s| s.weight() == Some(2) && s.alias_target().is_none())
                .expect("a weight 2");
            set.weight = Some(3);
        },
        "alias weights",
    ),
    (
        "a first-version mark",
        |zone| {
            let set = zone
                .iter_mut()
                .find(|s| s.name().starts_with("api."))
                .expect("api's A");
            let id = set.set_identifier.clone().expect("a mark");
            let fields: Vec<&str> = id.split(':').collect();
            set.set_identifier = Some(format!(
                "{}:{}:{}:{}",
                fields[0], fields[1], fields[2], fields[4]
            ));
        },
        "not laid out as documented",
    ),
    (
        "a foreign set's TTL rewritten",
        |zone| {
            let foreign = zone
                .iter_mut()
                .find(|s| s.name().starts_with("db."))
                .expect("the foreign set");
            foreign.ttl = Some(10);
        },
        "was changed or removed",
    ),
];

/// Each stray from the documentation alone is refused, and says what it found.
#[test]
fn the_oracle_refuses_a_zone_that_strays_from_the_documentation_in_one_detail() {
    let layout = layout(&["--srv-sets", "on"]);
    let tasks = tasks(150);
    let running: Vec<&TaskSpec> = tasks.iter().collect();
    let foreign = crate::simulated::record_set(
        &format!("db.web.{}", layout.apex),
        aws_sdk_route53::types::RrType::A,
        300,
        &["10.9.0.5"],
    )
    .build()
    .expect("a set");
    let mut well_formed = render(&layout, &running, Era::Today);
    well_formed.push(foreign.clone());
    check_zone(
        &layout,
        &well_formed,
        std::slice::from_ref(&foreign),
        &running,
    )
    .expect("the zone as rendered");
    for (stray, change, words) in STRAYS {
        let mut zone = well_formed.clone();
        change(&mut zone);
        match check_zone(&layout, &zone, std::slice::from_ref(&foreign), &running) {
            Ok(()) => panic!("{stray}: the oracle let it pass"),
            Err(found) => assert!(found.contains(words), "{stray}: {found}"),
        }
    }
}

/// A zone an older version wrote is read as this owner's (its marks check out), and as
/// not yet today's layout.
#[test]
fn a_zone_of_an_older_version_is_ours_but_not_yet_documented() {
    let layout = layout(&["--srv-sets", "on"]);
    let tasks = tasks(150);
    let running: Vec<&TaskSpec> = tasks.iter().collect();
    for era in [Era::First, Era::ClusterOnly] {
        let zone = render(&layout, &running, era);
        let found = check_zone(&layout, &zone, &[], &running).expect_err("older marks");
        assert!(
            found.contains("not laid out as documented") || found.contains(":tree:"),
            "{era:?}: {found}"
        );
        let trees = zone.iter().filter(|set| {
            set.set_identifier()
                .is_some_and(|id| id.contains(":tree:") && id.split(':').count() == 4)
        });
        assert_eq!(
            trees.count(),
            4,
            "{era:?}: two branches at web A and at _app._tcp.web SRV, their marks without an origin"
        );
    }
}

/// Reading a zone never asks the crate: a task's set whose mark names another owner, or
/// whose hash is not its name's, is neither ours nor seeded, and refused as such.
#[test]
fn a_look_alike_mark_is_no_documented_set() {
    let layout = layout(&[]);
    let task = simple_task(1, Mode::Awsvpc, "web", 0);
    let mut zone = render(&layout, &[&task], Era::Today);
    for (index, owner) in [(0, "green:"), (1, "ecs-srv:")] {
        let set = &mut zone[index];
        let id = set.set_identifier.clone().expect("a mark");
        let (_, rest) = id.split_once(':').expect("a mark");
        let (head, _) = rest.rsplit_once(':').expect("a mark");
        set.set_identifier = Some(format!("{owner}{head}:00000000"));
        let read = listed::documented_form(&layout, set);
        assert!(read.is_err(), "{read:?}");
    }
    let documented = expected::documented(&layout, &[&task]);
    assert_eq!(documented.len(), 3, "{documented:#?}");
}
