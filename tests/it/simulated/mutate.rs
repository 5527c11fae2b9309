//! Hostile variations of valid events, for fuzzing on the stable toolchain: delete a
//! field, replace any node with a value of another type, put dots, stars, homographs,
//! control characters or 70,000 characters into a string, duplicate array elements.
//!
//! Driven by a seeded RNG, so a failing case is reproduced from its seed.

use rand::rngs::StdRng;
use rand::Rng;
use serde_json::{json, Map, Value};

/// Strings that have broken DNS names, ARNs or parsers somewhere before.
const NASTY: &[&str] = &[
    "",
    ".",
    "..",
    "*",
    "_",
    "-",
    "--",
    "a.b",
    "web.evil.example.com",
    "ünïcødé",
    "w\u{0435}b",
    "\u{0}",
    "\u{202e}moc",
    "\n",
    "%2e",
    "/",
    ":",
    "@",
    " ",
    "service:",
    "family:",
    "service:web",
    "family:_x_",
    "service:a.b",
    "arn:aws:ecs:us-east-1:123456789012:task/demo/abc",
    "arn:aws:ecs:us-east-1:123456789012:task/abc",
    "arn:aws:ecs:eu-west-1:123456789012:task/demo/abc",
    "arn:aws-cn:ecs:cn-north-1:123456789012:task/demo/abc",
    "arn:aws:ecs:us-east-1:123456789012:container-instance/demo/x",
    "arn:aws:ecs:us-east-1:123456789012:task-definition/web:0",
    "arn:aws:ecs:us-east-1:123456789012:cluster/demo",
    "RUNNING",
    "STOPPED",
    "PENDING",
    "DEACTIVATING",
    "EC2",
    "FARGATE",
    "EXTERNAL",
    "tcp",
    "udp",
    "eni",
    "privateIPv4Address",
    "10.0.0.1",
    "255.255.255.255",
    "0.0.0.0",
    "10.0.0.256",
    "::1",
    "-1",
    "65536",
    "1e9",
];

/// A string of ECS's name charset, `A-Z a-z 0-9 _ -`, 1 to `max` long.
pub fn ecs_name(rng: &mut StdRng, max: usize) -> String {
    const CHARSET: &[u8] = b"ABCXYZabcxyz0189_-";
    let len = rng.random_range(1..=max);
    (0..len)
        .map(|_| CHARSET[rng.random_range(0..CHARSET.len())] as char)
        .collect()
}

/// A string from anywhere: nasty tokens, long runs, ECS-legal names, random unicode.
pub fn string(rng: &mut StdRng) -> String {
    match rng.random_range(0..10) {
        0..=3 => NASTY[rng.random_range(0..NASTY.len())].to_owned(),
        4 => "a"
            .repeat([63, 64, 128, 129, 253, 254, 255, 256, 1_000, 70_000][rng.random_range(0..10)]),
        5 | 6 => {
            let max = if rng.random_bool(0.2) { 255 } else { 24 };
            ecs_name(rng, max)
        }
        7 => format!("{}-{}", ecs_name(rng, 8), rng.random::<u32>()),
        _ => (0..rng.random_range(0..12))
            .map(|_| char::from_u32(rng.random_range(0..0x3_0000)).unwrap_or('?'))
            .collect(),
    }
}

/// Any JSON value, sometimes nested far past serde_json's recursion limit.
pub fn value(rng: &mut StdRng) -> Value {
    match rng.random_range(0..14) {
        0 => Value::Null,
        1 => json!(rng.random_bool(0.5)),
        2 => [
            json!(0),
            json!(-1),
            json!(80),
            json!(65_535),
            json!(65_536),
            json!(i64::MIN),
            json!(u64::MAX),
        ][rng.random_range(0..7)]
        .clone(),
        3 => json!(rng.random::<f64>() * 1e6),
        4..=8 => json!(string(rng)),
        9 => json!([]),
        10 => json!({}),
        11 => json!([string(rng), rng.random::<u16>()]),
        12 => json!({ "name": string(rng), "value": string(rng) }),
        _ => {
            let depth = if rng.random_bool(0.5) { 10 } else { 200 };
            (0..depth).fold(json!(1), |inner, _| json!([inner]))
        }
    }
}

/// Paths to every node, as object keys and array indexes.
fn paths(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                prefix.push(Step::Key(key.clone()));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                prefix.push(Step::Index(index));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn node<'a>(value: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter()
        .try_fold(value, |current, step| match (step, current) {
            (Step::Key(key), Value::Object(map)) => map.get_mut(key),
            (Step::Index(index), Value::Array(items)) => items.get_mut(*index),
            _ => None,
        })
}

/// Applies 1 to 3 random mutations to `event`.
pub fn mutate(event: &mut Value, rng: &mut StdRng) {
    for _ in 0..rng.random_range(1..=3) {
        let mut all = Vec::new();
        paths(event, &mut Vec::new(), &mut all);
        let path = &all[rng.random_range(0..all.len())];
        let Some((last, parent_path)) = path.split_last() else {
            if rng.random_bool(0.1) {
                *event = value(rng);
            }
            continue;
        };
        let Some(parent) = node(event, parent_path) else {
            continue;
        };
        match (rng.random_range(0..6), parent, last) {
            (0, Value::Object(map), Step::Key(key)) => {
                map.remove(key);
            }
            (0, Value::Array(items), Step::Index(index)) => {
                items.remove(*index);
            }
            (1, Value::Array(items), Step::Index(index)) => {
                let copy = items[*index].clone();
                items.push(copy);
            }
            (2, Value::Object(map), _) => {
                map.insert(string(rng), value(rng));
            }
            (_, parent, last) => {
                let target = match (parent, last) {
                    (Value::Object(map), Step::Key(key)) => map.get_mut(key),
                    (Value::Array(items), Step::Index(index)) => items.get_mut(*index),
                    _ => None,
                };
                if let Some(target) = target {
                    *target = replacement(target, rng);
                }
            }
        }
    }
}

/// A new value for a node: mostly of the same kind (a string stays a string), sometimes
/// of another kind entirely.
fn replacement(current: &Value, rng: &mut StdRng) -> Value {
    if rng.random_bool(0.3) {
        return value(rng);
    }
    match current {
        Value::String(text) if rng.random_bool(0.3) => json!(format!("{text}{}", string(rng))),
        Value::String(_) => json!(string(rng)),
        Value::Number(_) => {
            json!([0, 1, 255, 256, 32_768, 65_535, 65_536, -80][rng.random_range(0..8)])
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .cloned()
                .chain(std::iter::once(value(rng)))
                .collect(),
        ),
        Value::Object(map) => {
            let mut map: Map<String, Value> = map.clone();
            map.insert(string(rng), value(rng));
            Value::Object(map)
        }
        _ => value(rng),
    }
}
