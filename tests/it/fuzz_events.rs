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
//!   most 128 characters that mark the set as the task's own, and batches the strict
//!   Route 53 model accepts, both to publish and to withdraw.
//!
//! `PROPTEST_CASES` sets the cases per target (default 256 for `make test`); each
//! target prints its executions.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::simulated::mutate;
use crate::support::strict_zone::StrictZone;
use ecs_srv::config::RoutingPolicy;
use ecs_srv::input::event::{parse_task_event, parse_task_event_value, EventError, TaskEvent};
use ecs_srv::plan::batch::{pack_batches, BatchLimits};
use ecs_srv::plan::desired::{desired_records, RecordSettings};
use ecs_srv::plan::naming::{Transport, ZoneNaming};
use ecs_srv::plan::records::Change;
use ecs_srv::plan::task::{
    resolve_running_task, ContainerDefinitionFacts, NetworkMode, PortMapping, ResolveError,
    TaskDefinitionFacts,
};
use ecs_srv::plan::unit::Unit;
use ecs_srv::plan::{task_changes, TaskIntent};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
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
        failure_persistence: None,
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

/// Docker labels an operator (or an attacker with a task definition) could set.
fn labels(rng: &mut StdRng, ports: &[u16]) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut keys = vec![
        "ecs-srv.service".to_owned(),
        "ecs-srv.port".to_owned(),
        "ecs-srv.weight".to_owned(),
        "ecs-srv.enable".to_owned(),
    ];
    keys.extend(ports.iter().map(|p| format!("ecs-srv.port.{p}")));
    for key in keys {
        if rng.random_bool(0.3) {
            let value = if key == "ecs-srv.weight" && rng.random_bool(0.5) {
                rng.random_range(0..300).to_string()
            } else {
                mutate::string(rng)
            };
            labels.insert(key, value);
        }
    }
    labels
}

/// A task definition for the event's containers (plus, sometimes, a stranger).
fn definition(event: &TaskEvent, rng: &mut StdRng) -> TaskDefinitionFacts {
    let modes = [
        NetworkMode::Bridge,
        NetworkMode::Host,
        NetworkMode::Awsvpc,
        NetworkMode::None,
    ];
    let mut names: Vec<String> = event
        .detail
        .containers
        .iter()
        .map(|c| c.name.clone())
        .collect();
    if rng.random_bool(0.2) {
        names.push(mutate::ecs_name(rng, 255));
    }
    let containers = names
        .into_iter()
        .map(|name| {
            let mut ports: Vec<u16> = event
                .detail
                .containers
                .iter()
                .filter(|c| c.name == name)
                .flat_map(|c| c.network_bindings.iter().filter_map(|b| b.container_port))
                .collect();
            for _ in 0..rng.random_range(0..3) {
                ports.push(rng.random());
            }
            let port_mappings = ports
                .iter()
                .map(|port| PortMapping {
                    container_port: Some(*port),
                    host_port: rng.random_bool(0.3).then(|| rng.random()),
                    transport: if rng.random_bool(0.2) {
                        Transport::Udp
                    } else {
                        Transport::Tcp
                    },
                    container_port_range: rng.random_bool(0.05).then(|| "8000-8010".to_owned()),
                })
                .collect();
            ContainerDefinitionFacts {
                labels: labels(rng, &ports),
                name,
                port_mappings,
                essential: true,
                health_check: None,
            }
        })
        .collect();
    TaskDefinitionFacts {
        arn: event.detail.task_definition_arn.clone(),
        family: mutate::ecs_name(rng, 255),
        network_mode: modes[rng.random_range(0..modes.len())],
        containers,
    }
}

fn zone_naming(rng: &mut StdRng) -> ZoneNaming {
    let long = format!(
        "{}.{}.{}.internal.",
        "z".repeat(63),
        "y".repeat(63),
        "x".repeat(63)
    );
    let apexes = [
        "svc.internal.".to_owned(),
        "ecs.prod.eu.example.com.".to_owned(),
        long,
    ];
    let owners = ["ecs-srv", "blue", "abcdefghijklmnopqrstuvwxyz012345"];
    crate::support::naming_of(
        &apexes[rng.random_range(0..apexes.len())],
        owners[rng.random_range(0..owners.len())],
    )
}

/// Plans a parsed event and checks every name, SetIdentifier and batch.
fn check_plan(event: &TaskEvent, rng: &mut StdRng, tally: &Tally) -> Result<(), TestCaseError> {
    let naming = zone_naming(rng);
    let apex = naming.apex().to_owned();
    let policy = if rng.random_bool(0.5) {
        RoutingPolicy::Weighted
    } else {
        RoutingPolicy::Multivalue
    };
    let settings = RecordSettings {
        naming,
        policy,
        ttl: 10,
        cluster_in_names: false,
    };
    let definition = definition(event, rng);
    let resolution = match resolve_running_task(
        &event.detail,
        &definition,
        Some(Ipv4Addr::new(10, 0, 0, 1).into()),
        rng.random(),
    ) {
        Ok(resolution) => resolution,
        Err(err) => {
            // Refused for one of the documented reasons, never by accident: each says which
            // task, and which input made it refuse.
            prop_assert!(
                err.to_string().contains(event.detail.task_id()),
                "a resolve error that does not name the task: {err}"
            );
            let documented = match &err {
                ResolveError::MissingEniAddress { .. } => {
                    definition.network_mode == NetworkMode::Awsvpc
                }
                ResolveError::MissingHostAddress { .. } => false,
                ResolveError::MissingBindings { .. } => {
                    definition.network_mode == NetworkMode::Bridge
                }
                ResolveError::BadLabel { label, .. } => label.starts_with("ecs-srv."),
                ResolveError::BadClusterArn { .. } => false,
            };
            prop_assert!(
                documented,
                "refused for a reason its input does not explain: {err}"
            );
            Tally::add(&tally.refused_by_planner, 1);
            return Ok(());
        }
    };
    let sets = match desired_records(&resolution.task, &settings) {
        Ok(sets) => sets,
        Err(err) => {
            // Only a name past 253 characters, which only the longest apex can produce.
            prop_assert!(err.len > 253 && apex.len() > 150, "{err}");
            Tally::add(&tally.refused_by_planner, 1);
            return Ok(());
        }
    };
    Tally::add(&tally.planned, 1);
    Tally::add(&tally.record_sets, sets.len());
    for set in &sets {
        let name = &set.name;
        prop_assert!(
            name.ends_with(&format!(".{apex}")),
            "{name} is not strictly inside {apex}"
        );
        prop_assert!(name.len() - 1 <= 253, "{name} is longer than 253");
        let own = &name[..name.len() - apex.len() - 1];
        for label in own.split('.') {
            prop_assert!(
                !label.is_empty() && label.len() <= 63,
                "label {label:?} of {name}"
            );
            prop_assert!(
                label.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'-'
                    || b == b'_'),
                "label {label:?} of {name}"
            );
        }
        let id = set.routing.set_identifier().unwrap_or_default();
        prop_assert!(!id.is_empty() && id.len() <= 128, "SetIdentifier {id:?}");
        prop_assert_eq!(
            ecs_srv::plan::ownership::ownership(&settings.naming, set),
            ecs_srv::plan::ownership::Ownership::Task(event.detail.task_id().to_owned()),
            "the mark round-trips"
        );
    }
    let mut zone = StrictZone::new("ZFUZZ", &apex);
    let publish = task_changes(&[], &TaskIntent::Publish(sets.clone()));
    apply(&mut zone, event, publish)?;
    apply(&mut zone, event, task_changes(&sets, &TaskIntent::Withdraw))?;
    prop_assert!(
        zone.record_sets().is_empty(),
        "a withdrawal leaves nothing behind"
    );
    Ok(())
}

fn apply(
    zone: &mut StrictZone,
    event: &TaskEvent,
    changes: Vec<Change>,
) -> Result<(), TestCaseError> {
    let task = Unit::task(event.detail.task_id(), changes);
    let packed = pack_batches(std::slice::from_ref(&task), BatchLimits::ROUTE53);
    // One task's sets are a few short values: no change of them can outgrow a batch.
    prop_assert!(
        packed.oversized.is_empty(),
        "a task's change does not fit a ChangeBatch: {:?}",
        packed.oversized
    );
    let batches = packed.batches;
    for batch in batches {
        let sdk: Vec<_> = batch
            .changes
            .iter()
            .map(|c| ecs_srv::aws::route53::to_sdk_change(c, "ZFUZZ").expect("an SDK change"))
            .collect();
        if let Err(rejection) = zone.apply(&sdk) {
            return Err(TestCaseError::fail(format!(
                "Route 53 would refuse the plan: {rejection:?}"
            )));
        }
    }
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
