//! One name for every region (REGIONAL_NAMES), pure.
//!
//! Each deployment publishes its tasks under its region's names (`S.R.Z`, `_P._tcp.S.R.Z`,
//! `_P._tcp._all.S.R.Z`: the usual layout, trees and shards included) and keeps, at each
//! shared name (`S.Z`, `_P._tcp.S.Z`, `_P._tcp._all.S.Z`), one latency alias for its region
//! aiming at its regional name. Route 53 answers a latency record in a private zone from
//! the region of the VPC that asked, or the closest region that has one, so a client in
//! every region asks one name and gets its own region's tasks, and another region's when
//! its own has none. Each deployment writes only its own region's alias, so deployments
//! never coordinate. The alias is derived state: it stands while its regional name has
//! members, and leaves with the last of them (`plan::aliases`).

use crate::plan::naming::marks::latency_mark;
use crate::plan::naming::ZoneNaming;
use crate::plan::records::{NameKey, RecordSet, Routing};

/// The latency alias at the shared name of regional `root`, given the root's members
/// (this deployment's sets at the root and its branches); `None` when the root is no
/// shared name (a task's own name) or holds no member.
pub fn wanted_latency_alias(
    naming: &ZoneNaming,
    root: &NameKey,
    members: &[RecordSet],
) -> Option<RecordSet> {
    let shared = naming.shared_name(&root.name)?;
    let region = naming.region_label()?;
    let answers = members.iter().any(|set| {
        set.routing == Routing::Simple
            || set
                .mark()
                .and_then(|mark| mark.role())
                .is_some_and(|role| role.is_shared_name())
    });
    answers.then(|| RecordSet {
        routing: Routing::Latency {
            set_identifier: latency_mark(
                naming.owner(),
                &naming.identity().scope,
                &shared,
                root.record_type,
            ),
            region: region.to_owned(),
        },
        name: shared,
        record_type: root.record_type,
        ttl: 0,
        values: Vec::new(),
        alias: Some(root.name.clone()),
    })
}
