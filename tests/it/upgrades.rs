//! Upgrades: a zone an older version wrote (first-version marks `OWNER:TASK:KIND:HASH`, the
//! last release's `OWNER:TASK:KIND:CLUSTER:HASH`, tree aliases `OWNER:bK:tree:HASH`),
//! rendered from the README's layout by the tests' own code, converges to today's layout
//! through the reconcile and the event path, with every running task answered after every
//! accepted ChangeBatch, each older set replaced by today's in one exact DELETE and CREATE
//! pair of one batch, an older version's orphans removed, and the foreign sets untouched.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use aws_sdk_route53::types::{Change, ChangeAction, ResourceRecordSet};

use crate::simulated::account::Account;
use crate::simulated::layout::answered::unanswered;
use crate::simulated::layout::marks::ReadMark;
use crate::simulated::layout::render::render;
use crate::simulated::layout::{check_zone, Era, Layout};
use crate::simulated::tasks::{simple_task, Mode, TaskSpec};
use crate::simulated::{self as sim, inputs, record_set};
use crate::support::strict_zone::{Outcome, StrictZone};
use ecs_srv::run::deployment::{Deployment, Mode as RunMode};

/// The zone before the upgrade: `running` and `gone` as `era` wrote them (every set of a
/// task that has since stopped is an orphan), beside foreign sets; ECS reports `running`
/// RUNNING and `gone` STOPPED.
struct OldZone {
    zone: Arc<Mutex<StrictZone>>,
    account: Arc<Mutex<Account>>,
    layout: Layout,
    foreign: Vec<ResourceRecordSet>,
}

fn foreign(layout: &Layout) -> Vec<ResourceRecordSet> {
    let apex = &layout.apex;
    vec![
        record_set(
            &format!("db.web.{apex}"),
            aws_sdk_route53::types::RrType::A,
            300,
            &["10.9.0.5"],
        )
        .build()
        .expect("a set"),
        record_set(
            &format!("www.web.{apex}"),
            aws_sdk_route53::types::RrType::Cname,
            300,
            &["web.example.com."],
        )
        .build()
        .expect("a set"),
    ]
}

fn old_zone(flags: &[&str], era: Era, running: &[&TaskSpec], gone: &[&TaskSpec]) -> OldZone {
    let layout = Layout::of(&sim::config_with(flags));
    let zone = sim::empty_zone();
    let foreign = foreign(&layout);
    let everyone: Vec<&TaskSpec> = running.iter().chain(gone).copied().collect();
    let mut sets = render(&layout, &everyone, era);
    sets.extend(foreign.clone());
    zone.lock().unwrap().seed(sets);
    let account = sim::account_with_hosts(2);
    for task in running {
        sim::set_task(&account, task, "RUNNING", "RUNNING", 2);
    }
    for task in gone {
        sim::set_task(&account, task, "STOPPED", "STOPPED", 3);
    }
    OldZone {
        zone,
        account,
        layout,
        foreign,
    }
}

/// The accepted batches since call `since`.
fn batches_since(zone: &StrictZone, since: usize) -> Vec<Vec<Change>> {
    zone.calls[since..]
        .iter()
        .filter(|call| call.operation == "ChangeResourceRecordSets" && call.outcome == Outcome::Ok)
        .map(|call| call.changes.clone())
        .collect()
}

/// Every DELETE of a running task's older set is paired, in its own batch, with the CREATE
/// of the same task's set of the same kind, name, type and values under today's mark.
fn replaced_in_pairs(batches: &[Vec<Change>], running: &BTreeSet<String>) -> Result<usize, String> {
    let mut pairs = 0;
    let read = |change: &Change| {
        let set = change.resource_record_set().expect("a set");
        let mark = set.set_identifier().and_then(ReadMark::parse)?;
        let values = crate::support::sorted_values(set);
        Some((
            mark,
            set.name().to_owned(),
            set.r#type().as_str().to_owned(),
            values,
        ))
    };
    for batch in batches {
        for deleted in batch
            .iter()
            .filter(|c| *c.action() == ChangeAction::Delete)
            .filter_map(read)
        {
            let (mark, name, kind, values) = &deleted;
            let older = mark.is_task() && mark.origin.as_deref().is_none_or(|o| !o.contains('.'));
            if !older || !running.contains(&mark.id) {
                continue;
            }
            let paired = batch
                .iter()
                .filter(|c| *c.action() == ChangeAction::Create)
                .filter_map(read)
                .any(|(new, new_name, new_kind, new_values)| {
                    new.id == mark.id
                        && new.kind == mark.kind
                        && new.origin.as_deref().is_some_and(|o| o.contains('.'))
                        && (new_name, new_kind, new_values)
                            == (name.clone(), kind.clone(), values.clone())
                });
            pairs += 1;
            if !paired {
                return Err(format!(
                    "{name} {kind} {mark:?} was deleted without today's set in its batch"
                ));
            }
        }
    }
    Ok(pairs)
}

/// Checks the upgrade from `start` (the zone before it, at call `since`): no moment with a
/// task of `throughout` unanswered, pairs, today's layout of `at_end` at the end, nothing
/// refused.
fn check_upgrade(
    old: &OldZone,
    (start, since): (&[ResourceRecordSet], usize),
    throughout: &[&TaskSpec],
    at_end: &[&TaskSpec],
    case: &str,
) {
    let zone = old.zone.lock().unwrap();
    let states = zone.states_since(start, since);
    assert!(!states.is_empty(), "{case}: the upgrade wrote");
    for (moment, state) in states.iter().enumerate() {
        let missing = unanswered(&old.layout, state, throughout);
        assert!(
            missing.is_empty(),
            "{case}: after batch {moment}: {:?}",
            missing.first()
        );
    }
    let ids: BTreeSet<String> = at_end.iter().map(|t| t.task_id.clone()).collect();
    let pairs = replaced_in_pairs(&batches_since(&zone, since), &ids)
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    assert!(
        pairs >= throughout.len(),
        "{case}: {pairs} older sets replaced"
    );
    check_zone(&old.layout, &zone.record_sets(), &old.foreign, at_end)
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    assert!(zone.problems().is_empty(), "{case}: {:?}", zone.problems());
}

async fn reconcile(publisher: &Deployment) {
    let report = ecs_srv::run::reconcile::reconcile(publisher, RunMode::Write)
        .await
        .expect("the reconcile runs");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}

fn service(range: std::ops::Range<usize>, cluster: &str) -> Vec<TaskSpec> {
    range
        .map(|index| {
            let mut task = simple_task(index, Mode::Awsvpc, "web", 0);
            task.cluster = cluster.to_owned();
            task.containers[0].weight = Some((index % 3) as u8 + 1);
            task
        })
        .collect()
}

const SETTINGS: [&[&str]; 3] = [
    &["--srv-sets", "on"],
    &["--srv-sets", "on", "--routing-policy", "multivalue"],
    &["--srv-sets", "off", "--cluster-in-names", "on"],
];

/// The reconcile of a newly deployed version replaces every older mark, small and past
/// 100 sets a name (trees with the older alias marks), and removes the older orphans.
#[tokio::test]
async fn a_zone_of_older_marks_converges_through_the_reconcile_with_every_task_answered() {
    for era in [Era::First, Era::ClusterOnly] {
        for (index, flags) in SETTINGS.into_iter().enumerate() {
            // Every setting small; a tree in each era under one setting apiece.
            let large =
                (era == Era::First && index == 0) || (era == Era::ClusterOnly && index == 2);
            for count in if large { vec![4, 150] } else { vec![4] } {
                let case = format!("{era:?} {flags:?} {count} tasks");
                let tasks = service(0..count + 2, "payments-Production_Cluster-2026");
                let (running, gone) = tasks.split_at(count);
                let running: Vec<&TaskSpec> = running.iter().collect();
                let gone: Vec<&TaskSpec> = gone.iter().collect();
                let old = old_zone(flags, era, &running, &gone);
                let publisher =
                    sim::publisher_with(sim::config_with(flags), &old.zone, &old.account).await;
                let (start, since) = {
                    let zone = old.zone.lock().unwrap();
                    (zone.record_sets(), zone.calls.len())
                };
                reconcile(&publisher).await;
                check_upgrade(&old, (&start, since), &running, &running, &case);
            }
        }
    }
}

/// Before any reconcile, the event path meets the older marks: a stopping task's older
/// sets are withdrawn whole, a duplicate RUNNING event replaces its task's marks, and a
/// new task joins the name beside the older sets; the reconcile then finishes the move.
#[tokio::test]
async fn events_after_an_upgrade_withdraw_replace_and_join_beside_older_marks() {
    for era in [Era::First, Era::ClusterOnly] {
        let case = format!("{era:?}");
        let tasks = service(0..5, "demo");
        let newcomer = service(10..11, "demo").remove(0);
        let running: Vec<&TaskSpec> = tasks.iter().collect();
        let old = old_zone(&["--srv-sets", "on"], era, &running, &[]);
        let publisher = sim::publisher_with(
            sim::config_with(&["--srv-sets", "on"]),
            &old.zone,
            &old.account,
        )
        .await;
        let (start, since) = {
            let zone = old.zone.lock().unwrap();
            (zone.record_sets(), zone.calls.len())
        };
        let mut events = sim::stopped_events(&old.account, &[&tasks[0]]);
        events.push(tasks[1].event("RUNNING", "RUNNING", 2));
        events.extend(sim::running_events(&old.account, &[&newcomer]));
        let report = ecs_srv::run::events::process(&publisher, inputs(events)).await;
        assert!(!report.has_failures(), "{case}: {report:?}");
        let now: Vec<&TaskSpec> = tasks[1..].iter().chain([&newcomer]).collect();
        {
            let zone = old.zone.lock().unwrap();
            let listed = zone.record_sets();
            let marks: Vec<String> = listed
                .iter()
                .filter_map(|s| s.set_identifier().map(str::to_owned))
                .collect();
            assert!(
                marks.iter().all(|id| !id.contains(&tasks[0].task_id)),
                "{case}: the stopped task's older sets are gone: {marks:?}"
            );
            let of_task_1: Vec<&String> = marks
                .iter()
                .filter(|id| id.contains(&tasks[1].task_id))
                .collect();
            assert!(
                of_task_1.len() == 3
                    && of_task_1
                        .iter()
                        .all(|id| id.contains(".us-east-1.123456789012:")),
                "{case}: {of_task_1:?}"
            );
            assert!(
                unanswered(&old.layout, &listed, &now).is_empty(),
                "{case}: every running task answers"
            );
        }
        reconcile(&publisher).await;
        check_upgrade(&old, (&start, since), &now[..4], &now, &case);
    }
}
