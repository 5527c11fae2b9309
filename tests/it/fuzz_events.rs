//! Fuzzing of event parsing and planning on the stable toolchain, driven by proptest.
//!
//! Inputs: arbitrary bytes, and the sample events under random mutation (fields deleted,
//! values replaced by other types, dots, stars, homographs, control characters, huge
//! strings, deep nesting), planned against random task definitions (docker labels with
//! hostile values, any network mode) in zones with short and very long apexes.
//!
//! What must hold for every input:
//! - nothing panics;
//! - every refusal says what it refused ("event…"/"input…") in a bounded message;
//! - an event that parses plans only names strictly inside the zone, each a valid DNS
//!   name (labels of 1-63 of `a-z 0-9 - _`, at most 253 characters), SetIdentifiers of at
//!   most 128 characters, each the documented mark of the task's set (read by the tests'
//!   own mark rules, `planning`), and batches the strict Route 53 model accepts, both to
//!   publish and to withdraw.
//!
//! `PROPTEST_CASES` sets the cases per target (default 256 for `make test`); each
//! target prints its executions. Failures persist in `tests/proptest-regressions/` and
//! replay first.

mod planning;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::simulated::mutate;
use ecs_srv::input::event::{parse_task_event, parse_task_event_value, EventError};
use planning::check_plan;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// What one target got through, for its closing line.
#[derive(Default)]
struct Tally {
    parsed: AtomicUsize,
    planned: AtomicUsize,
    record_sets: AtomicUsize,
    /// Parsed events the planner refused, each for a documented reason.
    refused_by_planner: AtomicUsize,
}

impl Tally {
    fn add(counter: &AtomicUsize, n: usize) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn run<S: Strategy>(
    name: &str,
    strategy: S,
    test: impl Fn(S::Value, &Tally) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..Config::default()
    });
    let tally = Tally::default();
    let started = std::time::Instant::now();
    if let Err(failure) = runner.run(&strategy, |input| test(input, &tally)) {
        panic!("{name}: {failure}");
    }
    let parsed = tally.parsed.load(Ordering::Relaxed);
    eprintln!(
        "fuzz {name}: {} executions in {:.1?}, {parsed} parsed, {} planned, {} refused by the planner, {} record sets checked, no crash",
        cases(),
        started.elapsed(),
        tally.planned.load(Ordering::Relaxed),
        tally.refused_by_planner.load(Ordering::Relaxed),
        tally.record_sets.load(Ordering::Relaxed)
    );
    // Most inputs start from a real sample and stay close to it, so that the parser's
    // acceptance and the planner are exercised, not just the refusals. One case in three
    // parsing is far below the expected rate (above one in two for every target), so this
    // cannot flake, yet it fails if the generators drift into producing only junk.
    assert!(
        parsed * 3 >= cases() as usize,
        "{name}: only {parsed} of {} inputs parsed; the generator no longer reaches the planner",
        cases()
    );
}

/// A sample's bytes with a few bytes changed, inserted or deleted: mostly still an event.
fn edited_bytes(sample: &[u8], rng: &mut StdRng) -> Vec<u8> {
    let mut bytes = sample.to_vec();
    for _ in 0..rng.random_range(0..=1) {
        let at = rng.random_range(0..bytes.len());
        match rng.random_range(0..3) {
            0 => bytes[at] = rng.random(),
            1 => bytes.insert(at, rng.random()),
            _ => {
                bytes.remove(at);
            }
        }
    }
    bytes
}

/// A sample with one value somewhere inside replaced by an arbitrary JSON shape (or,
/// for some, left alone).
fn sample_with_one_value_replaced(sample: &Value, rng: &mut StdRng) -> Value {
    let mut event = sample.clone();
    if !rng.random_bool(0.3) {
        return event;
    }
    let mut pointer = String::new();
    let mut slot = &event;
    for _ in 0..rng.random_range(0..6) {
        let step = match slot {
            Value::Object(map) if !map.is_empty() => {
                let key = map.keys().nth(rng.random_range(0..map.len()));
                key.map(|key| (key.replace('~', "~0").replace('/', "~1"), &map[key]))
            }
            Value::Array(items) if !items.is_empty() => {
                let at = rng.random_range(0..items.len());
                Some((at.to_string(), &items[at]))
            }
            _ => None,
        };
        let Some((token, next)) = step else { break };
        pointer.push('/');
        pointer.push_str(&token);
        slot = next;
    }
    if let Some(target) = event.pointer_mut(&pointer) {
        *target = mutate::value(rng);
    }
    event
}

fn samples() -> Vec<Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("events/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            serde_json::from_slice(&std::fs::read(p).expect("readable")).expect("samples are JSON")
        })
        .collect()
}

/// A refusal names what it refused and stays short, however large the input.
fn check_refusal(error: &EventError) -> Result<(), TestCaseError> {
    let message = error.to_string();
    prop_assert!(
        message.contains("event") || message.contains("input"),
        "a refusal that names nothing: {message}"
    );
    prop_assert!(
        message.chars().count() <= 1_500,
        "an unbounded message ({} chars): {}",
        message.len(),
        message.chars().take(200).collect::<String>()
    );
    Ok(())
}

#[test]
fn arbitrary_bytes_are_refused_cleanly() {
    let samples: Vec<Vec<u8>> = samples()
        .iter()
        .map(|s| s.to_string().into_bytes())
        .collect();
    run(
        "bytes",
        (proptest::collection::vec(any::<u8>(), 0..512), any::<u64>()),
        |(junk, seed), tally| {
            let mut rng = StdRng::seed_from_u64(seed);
            // One input in five is arbitrary bytes; the rest are samples edited byte-wise.
            let bytes = if rng.random_bool(0.2) {
                junk
            } else {
                edited_bytes(&samples[rng.random_range(0..samples.len())], &mut rng)
            };
            match parse_task_event(&bytes) {
                Ok(event) => {
                    Tally::add(&tally.parsed, 1);
                    check_plan(&event, &mut rng, tally)
                }
                Err(err) => check_refusal(&err),
            }
        },
    );
}

#[test]
fn arbitrary_json_shapes_are_refused_cleanly() {
    let samples = samples();
    run("json", any::<u64>(), |seed, tally| {
        let mut rng = StdRng::seed_from_u64(seed);
        // One payload in four is an arbitrary shape; the rest are samples with one value
        // somewhere replaced by one (or left alone).
        let payload = if rng.random_bool(0.25) {
            mutate::value(&mut rng)
        } else {
            sample_with_one_value_replaced(&samples[rng.random_range(0..samples.len())], &mut rng)
        };
        let text = payload.to_string();
        if let Err(err) = parse_task_event(text.as_bytes()) {
            check_refusal(&err)?;
        }
        if let Ok(invocation) = ecs_srv::input::payload::read_payload(payload, "fuzz") {
            for input in invocation.inputs {
                match &input.parsed {
                    Err(err) => check_refusal(err)?,
                    Ok(event) => {
                        Tally::add(&tally.parsed, 1);
                        check_plan(event, &mut rng, tally)?;
                    }
                }
            }
        }
        Ok(())
    });
}

#[test]
fn mutated_sample_events_parse_or_are_refused_and_always_plan_inside_the_zone() {
    let samples = samples();
    run(
        "mutated",
        (0..samples.len(), any::<u64>()),
        |(index, seed), tally| {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut event = samples[index].clone();
            // Hostile mutations for one event in three; the rest stay plausible (one value
            // replaced, or none), so that most events reach the planner.
            if rng.random_bool(0.35) {
                mutate::mutate(&mut event, &mut rng);
            } else {
                event = sample_with_one_value_replaced(&event, &mut rng);
            }
            let text = event.to_string();
            let as_bytes = parse_task_event(text.as_bytes());
            let parsed = parse_task_event_value(event);
            // Deep nesting is refused by the JSON reader before a Value exists, so only the
            // bytes path can see it; otherwise both paths must agree.
            if !matches!(as_bytes, Err(EventError::TooDeeplyNested { .. })) {
                prop_assert_eq!(
                    as_bytes.is_ok(),
                    parsed.is_ok(),
                    "bytes and value paths agree on {}",
                    text.chars().take(400).collect::<String>()
                );
            }
            if let Err(err) = &as_bytes {
                check_refusal(err)?;
            }
            match parsed {
                Err(err) => check_refusal(&err),
                Ok(parsed) => {
                    Tally::add(&tally.parsed, 1);
                    check_plan(&parsed, &mut rng, tally)
                }
            }
        },
    );
}
