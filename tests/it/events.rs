//! Every file in `events/` and `events/invalid/` goes through the real parser, so a new
//! sample or a new hostile case is covered the moment it is added.
//!
//! - `events/*.json` must parse. The file name says what the event asks for:
//!   `*-running.json` publishes, `*-stopped.json` and `*-draining.json` withdraw.
//! - `events/invalid/*.json` must be refused with the fragment `events/invalid/expected.json`
//!   gives for it, and the message must name the event id whenever the file has one that
//!   can be read (it is JSON and within the size limit).
//! - Every file in either folder is listed in `events/README.md`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use ecs_srv::input::event::{parse_task_event, MAX_EVENT_BYTES};

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

/// The `.json` files directly in `dir`, sorted, as (file name, path).
fn json_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let entries = fs::read_dir(dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
    let mut files: Vec<(String, PathBuf)> = entries
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .expect("UTF-8 file names")
                .to_owned();
            (name, path)
        })
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The event id a reader could find in the file: none when it is not JSON or too large.
fn readable_event_id(raw: &[u8]) -> Option<String> {
    if raw.len() > MAX_EVENT_BYTES {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(raw).ok()?;
    value.get("id")?.as_str().map(str::to_owned)
}

#[test]
fn every_sample_event_parses_and_asks_for_what_its_name_says() {
    let samples = json_files(&events_dir());
    assert!(samples.len() >= 9, "the samples are missing: {samples:?}");
    for (name, path) in samples {
        let raw = read(&path);
        let event = parse_task_event(&raw).unwrap_or_else(|err| panic!("{name}: {err}"));
        let task = &event.detail;

        let arn_id = task.task_arn.rsplit('/').next().unwrap_or_default();
        assert_eq!(task.task_id(), arn_id, "{name}");
        assert!(
            task.task_id().len() == 32 && task.task_id().bytes().all(|b| b.is_ascii_hexdigit()),
            "{name}: samples use 32-hex task ids, got {}",
            task.task_id()
        );
        assert_eq!(event.account, "123456789012", "{name}");
        assert_eq!(event.region, "us-east-1", "{name}");

        let stem = name.trim_end_matches(".json");
        let (publish, withdraw) = if stem.ends_with("-running") {
            (true, false)
        } else if stem.ends_with("-stopped") || stem.ends_with("-draining") {
            (false, true)
        } else {
            panic!("{name}: name samples *-running, *-stopped or *-draining");
        };
        assert_eq!(
            task.wants_publication(),
            publish,
            "{name}: wants_publication"
        );
        assert_eq!(
            task.wants_withdrawal(),
            withdraw,
            "{name}: wants_withdrawal"
        );
    }
}

#[test]
fn samples_of_one_task_share_its_id_and_order_by_version() {
    let parse = |name: &str| {
        let raw = read(&events_dir().join(name));
        parse_task_event(&raw).unwrap_or_else(|err| panic!("{name}: {err}"))
    };
    let running = parse("bridge-running.json").detail;
    let draining = parse("bridge-draining.json").detail;
    let stopped = parse("bridge-stopped.json").detail;
    assert_eq!(running.task_arn, draining.task_arn);
    assert_eq!(running.task_arn, stopped.task_arn);
    assert!(running.version < draining.version && draining.version < stopped.version);
    assert!(stopped
        .containers
        .iter()
        .all(|c| c.network_bindings.is_empty()));

    let fargate_running = parse("fargate-running.json").detail;
    let fargate_stopped = parse("fargate-stopped.json").detail;
    assert_eq!(fargate_running.task_arn, fargate_stopped.task_arn);
    assert!(fargate_running.version < fargate_stopped.version);
    assert_eq!(
        fargate_running.eni_private_ipv4(),
        Some(std::net::Ipv4Addr::new(10, 0, 2, 40))
    );
}

#[test]
fn every_hostile_event_is_refused_with_its_specific_error() {
    let dir = events_dir().join("invalid");
    let expected_path = dir.join("expected.json");
    let expected: BTreeMap<String, String> = serde_json::from_slice(&read(&expected_path))
        .unwrap_or_else(|err| panic!("{}: {err}", expected_path.display()));

    let cases: Vec<(String, PathBuf)> = json_files(&dir)
        .into_iter()
        .filter(|(name, _)| name != "expected.json")
        .collect();
    let on_disk: Vec<&String> = cases.iter().map(|(name, _)| name).collect();
    let listed: Vec<&String> = expected.keys().collect();
    assert_eq!(
        on_disk, listed,
        "events/invalid/expected.json must list exactly the files in events/invalid/"
    );

    for (name, path) in &cases {
        let raw = read(path);
        let err = match parse_task_event(&raw) {
            Ok(event) => panic!("{name}: accepted event {}", event.id),
            Err(err) => err,
        };
        let message = err.to_string();
        let fragment = &expected[name];
        assert!(
            message.contains(fragment.as_str()),
            "{name}: the error\n  {message}\nlacks the expected\n  {fragment}"
        );
        if let Some(id) = readable_event_id(&raw) {
            assert!(
                message.contains(&id),
                "{name}: the error does not name event {id}: {message}"
            );
            assert_eq!(err.event_id(), Some(id.as_str()), "{name}");
        }
    }
}

#[test]
fn the_readme_describes_every_file() {
    let readme_path = events_dir().join("README.md");
    let readme = String::from_utf8(read(&readme_path)).expect("README.md is UTF-8");
    let samples = json_files(&events_dir()).into_iter().map(|(name, _)| name);
    let invalid = json_files(&events_dir().join("invalid"))
        .into_iter()
        .map(|(name, _)| format!("invalid/{name}"));
    for name in samples.chain(invalid) {
        assert!(
            readme.contains(&format!("`{name}`")),
            "events/README.md does not describe {name}"
        );
    }
}
