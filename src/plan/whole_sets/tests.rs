//! Whole SRV sets and their shards, planned from owned routed sets.

use super::*;

const APEX: &str = "ecs.internal.";

fn naming() -> ZoneNaming {
    crate::plan::naming::testing::naming(APEX)
}

fn srv(name: &str, routing: Routing, values: &[&str]) -> RecordSet {
    RecordSet {
        name: name.to_owned(),
        record_type: RecordType::Srv,
        routing,
        ttl: 10,
        values: values.iter().map(|v| v.to_string()).collect(),
        alias: None,
    }
}

/// Task `task`'s weighted SRV set of the service `web`.
fn member(task: usize) -> RecordSet {
    let value = format!("1 256 80 {task:032x}.web.ecs.internal.");
    srv(
        "_web._tcp.web.ecs.internal.",
        Routing::Weighted {
            set_identifier: format!("x:{task}"),
            weight: 1,
        },
        &[&value],
    )
}

#[test]
fn set_names_sit_beside_the_weighted_name() {
    let naming = naming();
    assert_eq!(
        naming
            .whole_set_name("_web._tcp.web.ecs.internal.")
            .as_deref(),
        Some("_web._tcp._all.web.ecs.internal.")
    );
    assert_eq!(
        naming
            .routed_srv_name("_web._tcp._all.web.ecs.internal.")
            .as_deref(),
        Some("_web._tcp.web.ecs.internal.")
    );
    assert_eq!(naming.whole_set_name("web.ecs.internal."), None);
    assert_eq!(naming.whole_set_name("_web._tcp.web.other.zone."), None);
}

#[test]
fn only_sets_aimed_at_the_services_tasks_are_ours() {
    let naming = naming();
    let values = |v: &str| vec![v.to_owned()];
    assert!(naming.is_whole_set(
        "_web._tcp._all.web.ecs.internal.",
        &values("1 1 80 abc.web.ecs.internal.")
    ));
    assert!(!naming.is_whole_set(
        "_web._tcp._all.web.ecs.internal.",
        &values("1 1 80 db.example.com.")
    ));
    assert!(!naming.is_whole_set(
        "_web._tcp.web.ecs.internal.",
        &values("1 1 80 abc.web.ecs.internal.")
    ));
}

#[test]
fn swaps_follow_the_weighted_sets() {
    let naming = naming();
    let weighted = |task: &str, value: &str| {
        srv(
            "_web._tcp.web.ecs.internal.",
            Routing::Weighted {
                set_identifier: format!("ecs-srv:{task}:srv:0"),
                weight: 1,
            },
            &[value],
        )
    };
    let mut snapshot = ZoneSnapshot::default();
    snapshot.owned.insert(
        "a".into(),
        vec![weighted("a", "1 1 80 a.web.ecs.internal.")],
    );
    snapshot.owned.insert(
        "b".into(),
        vec![weighted("b", "1 1 81 b.web.ecs.internal.")],
    );
    let names = BTreeSet::from(["_web._tcp.web.ecs.internal.".to_owned()]);
    let created = plan_whole_sets(&naming, &names, &snapshot).changes();
    assert_eq!(created.len(), 1);
    let Change::Create(set) = &created[0] else {
        panic!("{created:?}")
    };
    assert_eq!(set.values.len(), 2);

    snapshot.whole_sets.insert(set.name.clone(), set.clone());
    assert!(
        plan_whole_sets(&naming, &names, &snapshot)
            .changes()
            .is_empty(),
        "nothing when it matches"
    );

    snapshot.owned.remove("b");
    let swapped = plan_whole_sets(&naming, &names, &snapshot).changes();
    assert!(
        matches!(&swapped[..], [Change::Delete(old), Change::Create(new)] if old.values.len() == 2 && new.values.len() == 1)
    );

    snapshot.owned.clear();
    assert!(matches!(
        &plan_whole_sets(&naming, &names, &snapshot).changes()[..],
        [Change::Delete(_)]
    ));
    let all = plan_whole_sets(
        &naming,
        &followed_names(&naming, WholeSetScope::All, &snapshot, &[]),
        &snapshot,
    );
    assert!(
        matches!(&all.changes()[..], [Change::Delete(_)]),
        "a reconcile deletes a whole set whose tasks are all gone: {all:?}"
    );
}

#[test]
fn a_set_past_one_record_set_is_sharded_and_targets_keep_their_shard() {
    let naming = naming();
    let mut snapshot = ZoneSnapshot::default();
    for task in 0..MAX_SET_VALUES {
        snapshot
            .owned
            .insert(format!("t{task}"), vec![member(task)]);
    }
    let names = BTreeSet::from(["_web._tcp.web.ecs.internal.".to_owned()]);
    let plan = plan_whole_sets(&naming, &names, &snapshot);
    assert!(plan.too_large.is_empty());
    let shards: Vec<RecordSet> = plan
        .changes()
        .into_iter()
        .filter_map(|c| match c {
            Change::Create(set) => Some(set),
            Change::Delete(_) => None,
        })
        .collect();
    assert!(
        shards.len() >= 2,
        "400 targets of 58 characters need two shards"
    );
    for shard in &shards {
        assert!(shard.value_chars() <= MAX_SET_CHARS && shard.values.len() <= MAX_SET_VALUES);
        assert_eq!(
            naming.routed_srv_name(&shard.name).as_deref(),
            Some("_web._tcp.web.ecs.internal.")
        );
        assert!(naming.is_whole_set(&shard.name, &shard.values));
    }
    assert_eq!(plan.sharded[0].targets, MAX_SET_VALUES);
    assert!(plan.sharded[0]
        .to_string()
        .contains("_b1._web._tcp._all.web.ecs.internal."));
    for shard in &shards {
        snapshot
            .whole_sets
            .insert(shard.name.clone(), shard.clone());
    }
    snapshot.owned.insert("new".into(), vec![member(9_999)]);
    let next = plan_whole_sets(&naming, &names, &snapshot);
    assert!(
        matches!(&next.changes()[..], [Change::Delete(old), Change::Create(new)] if old.name == new.name && new.values.len() == old.values.len() + 1),
        "one new target changes one shard: {:?}",
        next.changes()
    );
}

#[test]
fn shards_fold_back_only_when_the_fold_fits_one_request() {
    let naming = naming();
    let names = BTreeSet::from(["_web._tcp.web.ecs.internal.".to_owned()]);
    let mut snapshot = ZoneSnapshot::default();
    for task in 0..1_000 {
        snapshot
            .owned
            .insert(format!("t{task}"), vec![member(task)]);
    }
    for set in plan_whole_sets(&naming, &names, &snapshot)
        .changes()
        .into_iter()
        .filter_map(|c| match c {
            Change::Create(set) => Some(set),
            Change::Delete(_) => None,
        })
    {
        snapshot.whole_sets.insert(set.name.clone(), set);
    }
    // A reconcile finds 10 of the 1,000: folding would delete 58,000 characters of
    // shards and create the set in one request, which no request holds.
    snapshot.owned.retain(|task, _| task.len() == 2);
    let plan = plan_whole_sets(&naming, &names, &snapshot);
    for unit in &plan.units {
        let chars: usize = unit
            .changes
            .iter()
            .map(|c| c.record_set().value_chars())
            .sum();
        assert!(
            chars <= 32_000,
            "every unit fits a request: {chars} in {}",
            unit.kind
        );
    }
    assert!(!plan.sharded.is_empty(), "the shards shrink first");
    for change in plan.changes() {
        if let Change::Create(set) = change {
            snapshot.whole_sets.insert(set.name.clone(), set);
        } else if let Change::Delete(set) = change {
            snapshot.whole_sets.remove(&set.name);
        }
    }
    let next = plan_whole_sets(&naming, &names, &snapshot);
    assert!(next.sharded.is_empty(), "then they fold: {next:?}");
}
