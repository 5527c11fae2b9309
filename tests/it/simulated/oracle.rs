//! The documented record layout (README, "Records"), written out a second time, apart
//! from the crate: the property tests compare the zone with this, so that names,
//! SetIdentifiers, TTL, routing and values are checked against the documentation and not
//! against the code under test.
//!
//! Per running task `T` of service label `S`, in zone `Z`:
//! - `S.Z` A, routed, weight the highest of the task's containers, SetIdentifier
//!   `OWNER:T:svc:C:<hash>` (C: the cluster, `demo` here);
//! - `T.S.Z` A, routed, weight 1, `OWNER:T:task:C:<hash>`;
//! - per container `P`, `_P._tcp.S.Z` SRV, routed, weight the container's, value
//!   `1 <weight> <port> T.S.Z.`, `OWNER:T:srv:C:<hash>`;
//! - with whole sets on, per SRV name, `_P._tcp._all.S.Z` SRV, simple, every value.
//!
//! `<hash>` is the documented mark: FNV-1a (64-bit) of `"<name> <type>"`, folded to 32
//! bits, in eight hex digits. A set whose mark does not check out is a look-alike, not
//! ours.

use std::collections::BTreeMap;

use aws_sdk_route53::types::ResourceRecordSet;

use super::tasks::{host_address, Mode, TaskSpec};
use crate::support::sorted_values;

/// How the deployment under test publishes.
#[derive(Clone, Copy, Debug)]
pub struct Layout<'a> {
    /// The zone apex with its trailing dot.
    pub apex: &'a str,
    /// RECORD_OWNER.
    pub owner: &'a str,
    /// RECORD_TTL.
    pub ttl: i64,
    /// ROUTING_POLICY=multivalue.
    pub multivalue: bool,
    /// SRV_SETS=on.
    pub whole_sets: bool,
}

/// One record set as the documentation describes it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DocumentedSet {
    /// Name, with the trailing dot.
    pub name: String,
    /// `A` or `SRV`.
    pub record_type: String,
    /// `weighted`, `multivalue` or `simple`.
    pub policy: &'static str,
    /// The routing weight of a weighted set.
    pub weight: Option<i64>,
    /// `OWNER:T:KIND`, the readable head of the SetIdentifier.
    pub mark: Option<String>,
    /// TTL.
    pub ttl: i64,
    /// The values, sorted.
    pub values: Vec<String>,
}

/// The zone's owned sets the documentation promises for `running`, sorted.
pub fn documented_zone(layout: &Layout, running: &[&TaskSpec]) -> Vec<DocumentedSet> {
    let mut sets = Vec::new();
    let mut whole: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let policy = if layout.multivalue {
        "multivalue"
    } else {
        "weighted"
    };
    let routed =
        |name: String, record_type: &str, weight: i64, mark: String, value: String| DocumentedSet {
            name,
            record_type: record_type.to_owned(),
            policy,
            weight: (!layout.multivalue).then_some(weight),
            mark: Some(mark),
            ttl: layout.ttl,
            values: vec![value],
        };
    for task in running {
        let (service, id, owner, apex) = (&task.service, &task.task_id, layout.owner, layout.apex);
        let address = match task.mode {
            Mode::Awsvpc => task.eni_address,
            Mode::Bridge | Mode::Host => host_address(task.host),
        };
        let highest = task
            .containers
            .iter()
            .map(|c| i64::from(c.weight.unwrap_or(1)))
            .max()
            .unwrap_or(1);
        let target = format!("{id}.{service}.{apex}");
        sets.push(routed(
            format!("{service}.{apex}"),
            "A",
            highest,
            format!("{owner}:{id}:svc:demo"),
            address.to_string(),
        ));
        sets.push(routed(
            target.clone(),
            "A",
            1,
            format!("{owner}:{id}:task:demo"),
            address.to_string(),
        ));
        for container in &task.containers {
            let weight = i64::from(container.weight.unwrap_or(1));
            let port = match task.mode {
                Mode::Bridge => container.host_port,
                Mode::Host | Mode::Awsvpc => container.container_port,
            };
            let value = format!("1 {} {port} {target}", srv_weight_field(weight));
            let port_name = format!("_{}._tcp.{service}.{apex}", container.name);
            whole
                .entry(format!("_{}._tcp._all.{service}.{apex}", container.name))
                .or_default()
                .push(value.clone());
            sets.push(routed(
                port_name,
                "SRV",
                weight,
                format!("{owner}:{id}:srv:demo"),
                value,
            ));
        }
    }
    if layout.whole_sets {
        for (name, mut values) in whole {
            values.sort();
            sets.push(DocumentedSet {
                name,
                record_type: "SRV".to_owned(),
                policy: "simple",
                weight: None,
                mark: None,
                ttl: layout.ttl,
                values,
            });
        }
    }
    sets.sort();
    sets
}

/// The SRV weight field for a container's weight label, as the README documents it: the
/// label × 256, so that HAProxy keeps the ratios.
fn srv_weight_field(label: i64) -> i64 {
    label * 256
}

/// The zone's sets that carry `layout.owner`'s mark (or sit at a whole-set name), in the
/// documented form.
pub fn listed_zone(layout: &Layout, listed: &[ResourceRecordSet]) -> Vec<DocumentedSet> {
    let mut sets: Vec<DocumentedSet> = listed
        .iter()
        .filter_map(|set| {
            let name = set.name().to_ascii_lowercase();
            let whole_set = set.set_identifier().is_none() && name.contains("._all.");
            let record_type = set.r#type().as_str();
            let ours = set.set_identifier().is_some_and(|id| {
                id.starts_with(&format!("{}:", layout.owner))
                    && id.ends_with(&format!(":{:08x}", mark_hash(&name, record_type)))
            });
            if !(ours || whole_set) {
                return None;
            }
            let policy = match (set.weight(), set.multi_value_answer()) {
                (Some(_), _) => "weighted",
                (None, Some(true)) => "multivalue",
                _ => "simple",
            };
            let mark = set
                .set_identifier()
                .and_then(|id| id.rsplit_once(':'))
                .map(|(head, _)| head.to_owned());
            Some(DocumentedSet {
                name,
                record_type: set.r#type().as_str().to_owned(),
                policy,
                weight: set.weight(),
                mark,
                ttl: set.ttl().unwrap_or(-1),
                values: sorted_values(set),
            })
        })
        .collect();
    sets.sort();
    sets
}

/// The documented hash of a mark: FNV-1a over the bytes, folded to 32 bits.
fn mark_hash(name: &str, record_type: &str) -> u32 {
    let hash = format!("{name} {record_type}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    (hash ^ (hash >> 32)) as u32
}
