//! The simulator's own semantics, checked where they are cheap to check: the queues as the
//! SQS guide describes them, the clock stopping an invocation at its timeout, and the
//! mappings throttling beyond reserved concurrency (and only there).

use std::time::Duration;

use super::clock::{Clock, Woken};
use super::queue::{Outgoing, Queue, QueueKind, QueueSpec};
use super::report::simulate;
use super::{design, scenario};
use crate::scale::default_request_rate;

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

fn queue(kind: QueueKind, max_receive_count: Option<u32>) -> Queue {
    Queue::new(QueueSpec {
        name: "q".to_owned(),
        kind,
        visibility_timeout: secs(30),
        max_receive_count,
    })
}

fn fifo() -> Queue {
    queue(
        QueueKind::Fifo {
            content_based_deduplication: true,
        },
        Some(5),
    )
}

fn message(body: &str, group: Option<&str>) -> Outgoing {
    Outgoing {
        body: body.to_owned(),
        group: group.map(str::to_owned),
        ..Outgoing::default()
    }
}

fn bodies(received: &[super::queue::Message]) -> Vec<&str> {
    received.iter().map(|m| m.body.as_str()).collect()
}

#[test]
fn a_delayed_message_is_not_delivered_early() {
    let mut standard = queue(QueueKind::Standard, None);
    let delayed = Outgoing {
        delay: secs(10),
        ..message("later", None)
    };
    standard.send(delayed, secs(100)).expect("sent");
    let mut dead = Vec::new();
    assert!(standard.receive(10, secs(109), &mut dead).is_empty());
    assert_eq!(
        bodies(&standard.receive(10, secs(110), &mut dead)),
        ["later"]
    );
}

#[test]
fn a_fifo_failure_blocks_its_group_until_it_is_visible_again() {
    let mut queue = fifo();
    for body in ["a", "b", "c"] {
        queue.send(message(body, Some("g")), secs(0)).expect("sent");
    }
    queue
        .send(message("other", Some("h")), secs(0))
        .expect("sent");
    let mut dead = Vec::new();
    let first = queue.receive(2, secs(1), &mut dead);
    assert_eq!(bodies(&first), ["a", "b"], "in order, up to the batch");
    // `b` succeeded; `a` failed and waits out its visibility timeout.
    queue.delete(first[1].receipt.as_deref().expect("received"));
    assert_eq!(
        bodies(&queue.receive(10, secs(2), &mut dead)),
        ["other"],
        "group g waits behind its failed message; group h does not"
    );
    assert!(queue.receive(10, secs(30), &mut dead).is_empty());
    assert_eq!(
        bodies(&queue.receive(10, secs(31), &mut dead)),
        ["a", "c"],
        "the failed message comes back first, then the rest of its group"
    );
}

#[test]
fn fifo_deduplicates_for_five_minutes_and_refuses_per_message_delays() {
    let mut queue = fifo();
    queue
        .send(message("same", Some("g")), secs(0))
        .expect("sent");
    queue
        .send(message("same", Some("g")), secs(299))
        .expect("answered as sent");
    assert_eq!(queue.len(), 1, "dropped: same body within 5 minutes");
    queue
        .send(message("same", Some("g")), secs(300))
        .expect("sent");
    assert_eq!(queue.len(), 2, "taken again after 5 minutes");
    let explicit = Outgoing {
        deduplication_id: Some("relay-1".to_owned()),
        ..message("same", Some("g"))
    };
    queue.send(explicit, secs(301)).expect("sent");
    assert_eq!(queue.len(), 3, "an explicit id overrides the body's hash");
    let delayed = Outgoing {
        delay: secs(10),
        ..message("late", Some("g"))
    };
    let refused = queue.send(delayed, secs(302)).expect_err("refused");
    assert_eq!(refused.code, "InvalidParameterValue");
    let refused = queue
        .send(message("no group", None), secs(302))
        .expect_err("refused");
    assert_eq!(refused.code, "MissingParameter");
}

#[test]
fn a_message_past_its_max_receive_count_goes_to_the_dead_letter_queue() {
    let mut queue = queue(QueueKind::Standard, Some(2));
    queue.send(message("poison", None), secs(0)).expect("sent");
    let mut dead = Vec::new();
    for round in 0..2 {
        let at = secs(1 + 31 * round);
        assert_eq!(queue.receive(10, at, &mut dead).len(), 1, "receive {round}");
    }
    assert!(queue.receive(10, secs(70), &mut dead).is_empty());
    assert_eq!(bodies(&dead), ["poison"]);
    assert_eq!(queue.len(), 0);
}

#[test]
fn visibility_changes_only_reach_a_message_in_flight() {
    let mut queue = queue(QueueKind::Standard, None);
    queue.send(message("m", None), secs(0)).expect("sent");
    let mut dead = Vec::new();
    let received = queue.receive(1, secs(1), &mut dead);
    let receipt = received[0].receipt.clone().expect("received");
    queue
        .change_visibility(&receipt, secs(5), secs(2))
        .expect("in flight");
    assert!(queue.receive(1, secs(6), &mut dead).is_empty());
    let visible = queue
        .change_visibility(&receipt, secs(5), secs(7))
        .expect_err("visible again, so no longer in flight");
    assert_eq!(visible.code, "MessageNotInflight");
    assert_eq!(
        queue.receive(1, secs(7), &mut dead).len(),
        1,
        "back after 5 s"
    );
    let stale = queue
        .change_visibility(&receipt, secs(5), secs(8))
        .expect_err("the receipt handle of an earlier receive");
    assert_eq!(stale.code, "ReceiptHandleIsInvalid");
}

#[tokio::test]
async fn an_invocation_is_stopped_at_its_deadline() {
    let clock = Clock::default();
    let sleeper = clock.clone();
    let (task, handle) = clock.spawn(Some(secs(30)), async move {
        sleeper.sleep(secs(10)).await;
        sleeper.sleep(secs(60)).await;
        "finished"
    });
    let mut expired = None;
    for _ in 0..10 {
        clock.settle().await;
        let Some(at) = clock.next_wake() else { break };
        clock.advance_to(at);
        if let Woken::Expired(which) = clock.wake_next() {
            expired = Some((which, clock.now()));
        }
    }
    assert_eq!(
        expired,
        Some((task, secs(30))),
        "stopped at 30 s, not at 70 s"
    );
    assert!(handle.await.is_err_and(|err| err.is_cancelled()));
}

#[tokio::test]
async fn only_reserved_concurrency_throttles_a_burst() {
    let rate = default_request_rate();
    let timeline = scenario::burst_of(40);
    let before = simulate(&design::before(rate), &timeline, secs(900)).await;
    assert!(
        before.throttled > 0,
        "five pollers against reserved concurrency 1: {:#}",
        before.figures
    );
    for design in [
        design::standard_two_writers(rate),
        design::fifo_one_writer(rate),
        design::gathered_fifo(rate, design::TEMPLATE_WINDOW),
    ] {
        let run = simulate(&design, &timeline, secs(900)).await;
        assert_eq!(run.throttled, 0, "{}: {:#}", design.name, run.figures);
        assert!(run.zone_correct, "{}: {:#}", design.name, run.figures);
    }
}
