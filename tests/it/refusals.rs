//! What ecs-srv refuses to write, through the publisher and the strict Route 53 model: a
//! name that foreign records hold with another routing policy, a CNAME or another weighted
//! TTL, and a name past Route 53's 100 routed sets (foreign weighted sets in it, or a tree
//! of 100 full branches). Each refusal is reached before Route 53 would refuse a batch,
//! writes nothing of the task, leaves the foreign sets as they were, and says what to do.

use aws_sdk_route53::types::{ResourceRecordSet, RrType};

use crate::simulated::layout::render::render;
use crate::simulated::layout::trees::branch_of;
use crate::simulated::layout::{Era, Layout};
use crate::simulated::tasks::{simple_task, Mode, TaskSpec};
use crate::simulated::{
    config_with, failures, inputs, owned_names, record_set, running_events, stopped_events, world,
    APEX,
};
use ecs_srv::run::events::process;

/// What a person reads in the refusal, to know what to do.
const MOVE_THE_SERVICE: &str = "docker label ecs-srv.service";

fn foreign(name: &str, kind: RrType, ttl: i64, value: &str) -> ResourceRecordSet {
    record_set(name, kind, ttl, &[value])
        .build()
        .expect("a set")
}

fn weighted(name: &str, id: &str, ttl: i64, value: &str) -> ResourceRecordSet {
    record_set(name, RrType::A, ttl, &[value])
        .set_identifier(id)
        .weight(3)
        .build()
        .expect("a set")
}

/// Seeds `beside`, publishes one task of `web`, and checks the refusal: `words` in it,
/// retried or not as `retryable` says, nothing of the task written, the foreign sets as
/// they were, and no batch ever sent that Route 53 would refuse.
async fn refused_beside(
    flags: &[&str],
    beside: Vec<ResourceRecordSet>,
    words: &[&str],
    retryable: bool,
) {
    let (zone, account, publisher) = world(1, flags).await;
    zone.lock().unwrap().seed(beside.clone());
    let task: TaskSpec = simple_task(1, Mode::Bridge, "web", 0);
    let report = process(&publisher, inputs(running_events(&account, &[&task]))).await;
    let failed = failures(&report);
    assert_eq!(failed.len(), 1, "{words:?}: {report:#?}");
    for word in words {
        assert!(failed[0].0.contains(word), "{word:?} in {:?}", failed[0].0);
    }
    assert_eq!(failed[0].1, retryable, "{failed:?}");
    assert!(
        owned_names(&zone, &publisher).is_empty(),
        "nothing of the task was written"
    );
    let mut left = zone.lock().unwrap().record_sets();
    let mut seeded = beside;
    let key = |s: &ResourceRecordSet| {
        (
            s.name().to_owned(),
            s.r#type().clone(),
            s.set_identifier().map(str::to_owned),
        )
    };
    left.sort_by_key(key);
    seeded.sort_by_key(key);
    assert_eq!(left, seeded, "the foreign sets are untouched");
    assert!(
        zone.lock().unwrap().problems().is_empty(),
        "{:?}",
        zone.lock().unwrap().problems()
    );
}

#[tokio::test]
async fn a_name_held_by_a_foreign_record_of_another_routing_policy_is_refused() {
    let simple = foreign(&format!("web.{APEX}"), RrType::A, 10, "10.9.0.9");
    let words = [
        "already holds a simple record set that ecs-srv does not own",
        "Remove it",
        MOVE_THE_SERVICE,
    ];
    refused_beside(&[], vec![simple], &words, false).await;
}

#[tokio::test]
async fn a_foreign_weighted_group_with_another_ttl_is_never_rewritten() {
    let canary = weighted(&format!("web.{APEX}"), "manual-canary", 30, "10.9.0.6");
    let words = [
        "one TTL per weighted group, so writing TTL 10 would change them",
        "Set RECORD_TTL to 30",
        MOVE_THE_SERVICE,
    ];
    refused_beside(&[], vec![canary], &words, false).await;
}

/// Route 53 allows nothing beside a CNAME: at the service name or at an SRV name the task
/// is refused before a batch is sent, and says so.
#[tokio::test]
async fn a_foreign_cname_at_a_service_or_srv_name_is_refused_and_says_what_to_do() {
    let words = [
        "already holds a CNAME record set that ecs-srv does not own",
        "Remove it",
        MOVE_THE_SERVICE,
    ];
    for name in [format!("web.{APEX}"), format!("_app._tcp.web.{APEX}")] {
        let cname = foreign(&name, RrType::Cname, 300, "web.example.com.");
        refused_beside(&[], vec![cname], &words, false).await;
    }
}

/// A foreign CNAME or SRV set at a whole set's name `_P._tcp._all.S.Z` must be refused like
/// one at any other name: before a batch is sent, in words that say what to do.
///
/// Today the whole-set plan is not checked against foreign sets: the task is published,
/// and the whole set's CREATE is sent four times and refused by Route 53 each time
/// (InvalidChangeBatch), reported only as Route 53's message in `name_errors`. See the
/// report of issue 23 for the fix (the whole-set units through the name ledger).
#[tokio::test]
#[ignore = "crate bug (issue 23 report): a foreign set at a whole set's name is not refused before Route 53 refuses the batch"]
async fn a_foreign_set_at_a_whole_set_name_is_refused_before_route53_would_refuse_it() {
    let at_whole_set = format!("_app._tcp._all.web.{APEX}");
    let cname = foreign(&at_whole_set, RrType::Cname, 300, "web.example.com.");
    let srv = foreign(
        &at_whole_set,
        RrType::Srv,
        300,
        "0 5 389 ldap.corp.example.",
    );
    for set in [cname, srv] {
        let (zone, account, publisher) = world(1, &["--srv-sets", "on"]).await;
        zone.lock().unwrap().seed(vec![set.clone()]);
        let task = simple_task(1, Mode::Bridge, "web", 0);
        let report = process(&publisher, inputs(running_events(&account, &[&task]))).await;
        let problems = zone.lock().unwrap().problems();
        assert!(
            problems.is_empty(),
            "no batch Route 53 refuses is sent: {problems:?}"
        );
        let said = report.name_errors.join(" ");
        assert!(
            said.contains(&at_whole_set) && said.contains(MOVE_THE_SERVICE),
            "{said}"
        );
    }
}

/// A name that foreign weighted sets share cannot become a tree: past 100 sets in all the
/// next task is refused (retried: a slot frees when a task stops), and goes through once
/// one does.
#[tokio::test]
async fn foreign_weighted_sets_hold_a_name_to_100_sets_and_the_next_task_waits_for_a_slot() {
    let full: Vec<ResourceRecordSet> = (0..100)
        .map(|k| {
            weighted(
                &format!("web.{APEX}"),
                &format!("canary-{k}"),
                10,
                &format!("10.9.0.{k}"),
            )
        })
        .collect();
    let words = [
        "would hold 101 routed record sets",
        "Route 53 allows 100 per name and type",
        MOVE_THE_SERVICE,
        "remove the foreign sets",
    ];
    refused_beside(&[], full, &words, true).await;

    let (zone, account, publisher) = world(1, &[]).await;
    let canaries: Vec<ResourceRecordSet> = (0..70)
        .map(|k| {
            weighted(
                &format!("web.{APEX}"),
                &format!("canary-{k}"),
                10,
                &format!("10.9.0.{k}"),
            )
        })
        .collect();
    zone.lock().unwrap().seed(canaries);
    let tasks: Vec<TaskSpec> = (0..31)
        .map(|i| simple_task(i, Mode::Awsvpc, "web", 0))
        .collect();
    let refs: Vec<&TaskSpec> = tasks.iter().collect();
    let report = process(&publisher, inputs(running_events(&account, &refs))).await;
    let failed = failures(&report);
    assert_eq!(
        failed.len(),
        1,
        "the 31st task beside 70 foreign sets: {failed:?}"
    );
    assert!(
        failed[0].1 && failed[0].0.contains("would hold 101"),
        "{failed:?}"
    );
    let position = report
        .events
        .iter()
        .position(|e| e.error.is_some())
        .expect("a refusal");
    let waiting = &tasks[position];
    let leaving = tasks
        .iter()
        .find(|t| t.task_id != waiting.task_id)
        .expect("another task");
    let mut events = stopped_events(&account, &[leaving]);
    events.push(waiting.event("RUNNING", "RUNNING", 2));
    let retried = process(&publisher, inputs(events)).await;
    assert!(!retried.has_failures(), "a slot freed: {retried:?}");
    let (owned, _) = crate::simulated::zone_contents(&zone, &publisher);
    assert!(
        owned
            .iter()
            .any(|set| set.values.iter().any(|v| v.contains(&waiting.task_id))),
        "the waiting task is published"
    );
    assert!(zone.lock().unwrap().problems().is_empty());
}

/// A tree holds 100 branches of 100: the 10,001st task of a name is refused, and says so.
/// Seeding 10,100 sets through the strict model's checks takes about 80 s, so `make fuzz`
/// runs it.
#[tokio::test]
#[ignore = "seeds 10,100 sets through the strict model (about 80 s): run by make fuzz"]
async fn a_tree_of_100_full_branches_refuses_the_next_task_and_says_what_to_do() {
    let flags = ["--srv-sets", "off"];
    let (zone, account, publisher) = world(1, &flags).await;
    let layout = Layout::of(&config_with(&flags));
    let members: Vec<TaskSpec> = (0..10_000)
        .map(|i| simple_task(i, Mode::Awsvpc, "web", 0))
        .collect();
    let refs: Vec<&TaskSpec> = members.iter().collect();
    let root = format!("web.{APEX}");
    let tree: Vec<ResourceRecordSet> = render(&layout, &refs, Era::Today)
        .into_iter()
        .filter(|set| set.r#type() == &RrType::A)
        .filter(|set| set.name() == root || branch_of(set.name()).is_some_and(|(at, _)| at == root))
        .collect();
    assert_eq!(tree.len(), 10_100, "100 aliases and 10,000 members");
    // Aliases after the members they aim at, as Route 53 wants them created.
    let (aliases, mut tree): (Vec<_>, Vec<_>) = tree
        .into_iter()
        .partition(|set| set.alias_target().is_some());
    tree.extend(aliases);
    zone.lock().unwrap().max_record_sets = 20_000;
    zone.lock().unwrap().seed(tree);
    let next = simple_task(10_000, Mode::Awsvpc, "web", 0);
    let report = process(&publisher, inputs(running_events(&account, &[&next]))).await;
    let failed = failures(&report);
    assert_eq!(failed.len(), 1, "{report:#?}");
    for word in [
        "web.svc.internal. A would hold 101 routed record sets",
        "past 100 branches",
        MOVE_THE_SERVICE,
    ] {
        assert!(failed[0].0.contains(word), "{word:?} in {:?}", failed[0].0);
    }
    assert!(zone.lock().unwrap().problems().is_empty());
    assert_eq!(
        zone.lock().unwrap().record_sets().len(),
        10_100,
        "nothing was written"
    );
}
