//! Lag, read from the zone after the run: every batch Route 53 accepted, at the virtual
//! time it was answered, replayed over a view of the zone; after each one, which tasks the
//! service's names answer with. A task is published when its own name `T.S.Z` holds its A
//! set and both `_P._tcp.S.Z` (the weighted sets, through any tree) and the whole set
//! `_P._tcp._all.S.Z` name it as a target; withdrawn when none of the three does.
//!
//! The timeline says what each task's records should do and since when: publish from its
//! RUNNING event (and, behind the health gate, from when ECS reports it HEALTHY), withdraw
//! from the event that asks it to stop. Event-to-record lag is measured for every change
//! the gate does not hold back; HEALTHY-to-record lag for the changes it does.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{json, Value};

use super::world::{Happening, Timeline};
use crate::scale::answers::{answer, ZoneView};
use crate::support::strict_zone::StrictZone;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    Published,
    Partial,
    Withdrawn,
}

#[derive(Clone, Debug)]
enum Expected {
    Publish {
        since: Duration,
        healthy_at: Option<Duration>,
    },
    Withdraw {
        since: Duration,
    },
}

/// The lags of a run and what went wrong on the way.
#[derive(Debug, Default)]
pub struct Lags {
    /// Event-to-record lags, in seconds, of changes the health gate did not hold.
    pub event: Vec<f64>,
    /// HEALTHY-to-record lags, in seconds, of gated publications.
    pub healthy: Vec<f64>,
    /// Event-to-record lags of the gated publications (the health wait included).
    pub gated_event: Vec<f64>,
    /// Expected changes that never reached the zone.
    pub never: usize,
    /// Tasks published before ECS reported them HEALTHY.
    pub before_healthy: usize,
    /// Running tasks that lost their records, and tasks published with nothing asking.
    pub unexpected: usize,
    /// Moments a task was neither published nor withdrawn (between batches' parts).
    pub partial: usize,
    /// The first few unexpected changes, described.
    pub examples: Vec<String>,
    /// How long (seconds) each task that had been withdrawn was answered again, fully or in
    /// part, before it was withdrawn once more.
    pub resurrected: Vec<f64>,
    /// How long (seconds) each running task, once published, was not fully answered.
    pub dropped: Vec<f64>,
    /// The slowest changes the gate did not hold: lag (seconds) and what changed when.
    pub slowest: Vec<(f64, String)>,
}

impl Lags {
    fn note_event_lag(&mut self, lag: f64, what: impl FnOnce() -> String) {
        self.event.push(lag);
        if self.slowest.len() < 5
            || self
                .slowest
                .last()
                .is_some_and(|(slowest, _)| lag > *slowest)
        {
            self.slowest.push((lag, what()));
            self.slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
            self.slowest.truncate(5);
        }
    }
}

/// `p` (0 to 1) of `values`, nearest rank.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied()
}

/// p50, p99 and max of some lags, as JSON (seconds, rounded to the millisecond).
pub fn summary(values: &[f64]) -> Value {
    let round = |v: Option<f64>| v.map(|s| (s * 1000.0).round() / 1000.0);
    json!({
        "count": values.len(),
        "p50": round(percentile(values, 0.50)),
        "p99": round(percentile(values, 0.99)),
        "max": round(values.iter().copied().reduce(f64::max)),
    })
}

/// What each task should do, in order, from the timeline.
fn expectations(timeline: &Timeline) -> BTreeMap<usize, Vec<Expected>> {
    let healthy_at: BTreeMap<usize, Duration> = timeline
        .happenings
        .iter()
        .filter_map(|(at, h)| match h {
            Happening::Healthy { task } => Some((*task, *at)),
            _ => None,
        })
        .collect();
    let mut expected: BTreeMap<usize, Vec<Expected>> = BTreeMap::new();
    for (at, happening) in &timeline.happenings {
        let Happening::Task {
            task,
            last,
            desired,
            ..
        } = happening
        else {
            continue;
        };
        let list = expected.entry(*task).or_default();
        let running = *last == "RUNNING" && *desired == "RUNNING";
        match list.last() {
            _ if running => list.push(Expected::Publish {
                since: *at,
                healthy_at: healthy_at
                    .get(task)
                    .copied()
                    .filter(|_| timeline.tasks[*task].gated),
            }),
            Some(Expected::Publish { .. }) => list.push(Expected::Withdraw { since: *at }),
            _ => {}
        }
    }
    expected
}

/// Which tasks the zone answers for, task by task.
fn seen(view: &ZoneView, timeline: &Timeline, apex: &str, port: &str) -> Vec<Seen> {
    let mut targets: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for task in &timeline.tasks {
        let service = &task.spec.service;
        targets.entry(service.clone()).or_insert_with(|| {
            let a = format!("{service}.{apex}");
            let weighted = answer(view, &format!("_{port}._tcp.{service}.{apex}"), &a).srv_targets;
            let whole =
                answer(view, &format!("_{port}._tcp._all.{service}.{apex}"), &a).srv_targets;
            (weighted, whole)
        });
    }
    timeline
        .tasks
        .iter()
        .map(|task| {
            let name = format!("{}.{}.{apex}", task.spec.task_id, task.spec.service);
            let (weighted, whole) = &targets[&task.spec.service];
            let parts = [
                view.holds(&name, "A"),
                weighted.contains(&name),
                whole.contains(&name),
            ];
            match parts.iter().filter(|p| **p).count() {
                3 => Seen::Published,
                0 => Seen::Withdrawn,
                _ => Seen::Partial,
            }
        })
        .collect()
}

/// Replays the batches the zone accepted after `start` (a view taken before the run) at the
/// times in `answered_at`, and measures every expected change.
pub fn measure(
    mut start: ZoneView,
    zone: &StrictZone,
    answered_at: &[Duration],
    timeline: &Timeline,
    port: &str,
) -> Lags {
    let expected = expectations(timeline);
    let mut met: BTreeMap<usize, usize> = BTreeMap::new();
    let mut lags = Lags::default();
    let mut before = seen(&start, timeline, &zone.apex, port);
    let mut wrong: BTreeMap<usize, (Duration, bool)> = BTreeMap::new();
    start.follow_calls(zone, |index, view| {
        let at = answered_at.get(index).copied().unwrap_or_default();
        let now = seen(view, timeline, &zone.apex, port);
        for (task, (old, new)) in before.iter().zip(&now).enumerate() {
            if old == new {
                continue;
            }
            if std::env::var("DELIVERY_TRACE_TASK")
                .is_ok_and(|id| id == timeline.tasks[task].spec.task_id)
            {
                eprintln!("{old:?} -> {new:?} at {at:?} (call {index})");
            }
            let list = expected.get(&task).map(Vec::as_slice).unwrap_or_default();
            let due = list.iter().enumerate().rfind(|(_, e)| match e {
                Expected::Publish { since, .. } | Expected::Withdraw { since } => *since <= at,
            });
            let done = met.get(&task).copied();
            match (new, due) {
                (Seen::Partial, _) => lags.partial += 1,
                (Seen::Published, Some((i, Expected::Publish { since, healthy_at })))
                    if done != Some(i) =>
                {
                    met.insert(task, i);
                    let lag = (at - *since).as_secs_f64();
                    match healthy_at {
                        Some(healthy) if at < *healthy => lags.before_healthy += 1,
                        Some(healthy) => {
                            lags.healthy.push((at - *healthy).as_secs_f64());
                            lags.gated_event.push(lag);
                        }
                        None => lags.note_event_lag(lag, || {
                            format!(
                                "{} published at {at:?}, RUNNING at {since:?}",
                                timeline.tasks[task].spec.task_id
                            )
                        }),
                    }
                }
                (Seen::Withdrawn, Some((i, Expected::Withdraw { since }))) if done != Some(i) => {
                    met.insert(task, i);
                    lags.note_event_lag((at - *since).as_secs_f64(), || {
                        format!(
                            "{} withdrawn at {at:?}, asked at {since:?}",
                            timeline.tasks[task].spec.task_id
                        )
                    });
                }
                (Seen::Withdrawn, _) if *old == Seen::Partial => {}
                _ => {
                    lags.unexpected += 1;
                    if lags.examples.len() < 5 {
                        lags.examples.push(format!(
                            "{}: {old:?} -> {new:?} at {at:?} (call {index}), expected {due:?}",
                            timeline.tasks[task].spec.task_id
                        ));
                    }
                }
            }
            // Once a change was made, the task should stay so until the next one is due.
            let target = match due {
                Some((i, expected)) if met.get(&task) == Some(&i) => Some(match expected {
                    Expected::Publish { .. } => Seen::Published,
                    Expected::Withdraw { .. } => Seen::Withdrawn,
                }),
                _ => None,
            };
            match target {
                Some(target) if *new != target => {
                    wrong.entry(task).or_insert((at, target == Seen::Withdrawn));
                }
                _ => {
                    if let Some((since, resurrected)) = wrong.remove(&task) {
                        let window = (at - since).as_secs_f64();
                        if lags.examples.len() < 8 {
                            lags.examples.push(format!(
                                "{}: back to {new:?} at {at:?} (call {index})",
                                timeline.tasks[task].spec.task_id
                            ));
                        }
                        match resurrected {
                            true => lags.resurrected.push(window),
                            false => lags.dropped.push(window),
                        }
                    }
                }
            }
        }
        before = now;
    });
    for (task, list) in &expected {
        if let Some(last) = list.len().checked_sub(1) {
            if met.get(task) != Some(&last) {
                lags.never += 1;
            }
        }
    }
    lags
}
