//! The documented layout as record sets a zone holds, trees and shards included, in the
//! marks of any version: how a test seeds a zone that an earlier version (or this one)
//! wrote, without asking the crate to write it.

use std::collections::BTreeMap;

use aws_sdk_route53::types::{
    AliasTarget, ResourceRecord, ResourceRecordSet, ResourceRecordSetRegion, RrType,
};

use super::expected::documented_in;
use super::marks::{Era, ReadMark};
use super::trees::{alias_weights, member_weight, MAX_ROUTED, MAX_SET_CHARS, MAX_SET_VALUES};
use super::{DocumentedSet, Layout, Routing};
use crate::simulated::tasks::TaskSpec;

/// The zone `running` leaves as the version of `era` wrote it: a shared name past 100 sets
/// a tree of full branches in order, a whole set past one record set in full shards.
pub fn render(layout: &Layout, running: &[&TaskSpec], era: Era) -> Vec<ResourceRecordSet> {
    let mut groups: BTreeMap<(String, String), Vec<DocumentedSet>> = BTreeMap::new();
    for set in documented_in(layout, running, era) {
        groups
            .entry((set.name.clone(), set.record_type.clone()))
            .or_default()
            .push(set);
    }
    let mut out = Vec::new();
    for ((name, record_type), sets) in groups {
        let branches = match sets.as_slice() {
            [whole] if whole.routing == Routing::Simple => shards(whole),
            _ if sets.len() > MAX_ROUTED => sets.chunks(MAX_ROUTED).map(<[_]>::to_vec).collect(),
            _ => {
                out.extend(sets.iter().map(|set| record_set(layout, set)));
                continue;
            }
        };
        if branches.len() == 1 {
            out.extend(branches[0].iter().map(|set| record_set(layout, set)));
            continue;
        }
        let totals: BTreeMap<usize, i64> = branches
            .iter()
            .enumerate()
            .map(|(k, members)| (k, members.iter().map(member_weight).sum()))
            .collect();
        for (k, weight) in alias_weights(&totals) {
            let branch = format!("_b{k}.{name}");
            let alias = DocumentedSet {
                name: name.clone(),
                record_type: record_type.clone(),
                routing: Routing::Weighted(weight),
                set_identifier: Some(layout.writer.branch_mark(era, &name, &record_type, k)),
                ttl: None,
                values: Vec::new(),
                alias: Some(branch.clone()),
            };
            out.push(record_set(layout, &alias));
            for member in &branches[k] {
                let mut moved = member.clone();
                moved.set_identifier = member.set_identifier.as_deref().map(|id| {
                    ReadMark::parse(id)
                        .expect("a documented mark")
                        .rehashed(&branch, &record_type)
                });
                moved.name = branch.clone();
                out.push(record_set(layout, &moved));
            }
        }
    }
    out
}

/// A whole set's shards, each as full as one record set allows (one, when it fits).
fn shards(whole: &DocumentedSet) -> Vec<Vec<DocumentedSet>> {
    let mut shards: Vec<Vec<String>> = vec![Vec::new()];
    for value in &whole.values {
        let last = shards.last_mut().expect("one shard at least");
        let chars: usize = last.iter().map(String::len).sum::<usize>() + value.len();
        if last.len() == MAX_SET_VALUES || chars > MAX_SET_CHARS {
            shards.push(vec![value.clone()]);
        } else {
            last.push(value.clone());
        }
    }
    shards
        .into_iter()
        .map(|values| {
            vec![DocumentedSet {
                values,
                ..whole.clone()
            }]
        })
        .collect()
}

/// The SDK's shape of a documented set.
pub fn record_set(layout: &Layout, set: &DocumentedSet) -> ResourceRecordSet {
    let mut builder = ResourceRecordSet::builder()
        .name(&set.name)
        .r#type(RrType::from(set.record_type.as_str()))
        .set_set_identifier(set.set_identifier.clone())
        .set_ttl(set.ttl);
    builder = match &set.routing {
        Routing::Weighted(weight) => builder.weight(*weight),
        Routing::Multivalue => builder.multi_value_answer(true),
        Routing::Latency(region) => builder.region(ResourceRecordSetRegion::from(region.as_str())),
        Routing::Simple => builder,
    };
    if let Some(target) = &set.alias {
        builder = builder.alias_target(
            AliasTarget::builder()
                .hosted_zone_id(&layout.zone_id)
                .dns_name(target)
                .evaluate_target_health(false)
                .build()
                .expect("a complete alias target"),
        );
    }
    for value in &set.values {
        builder = builder.resource_records(
            ResourceRecord::builder()
                .value(value)
                .build()
                .expect("a value"),
        );
    }
    builder.build().expect("a complete record set")
}
