//! The one rule that answers "is this record set ours?".
//!
//! Reading a listing, folding applied changes into a view, the whole SRV sets, the trees,
//! the reconcile's search for orphans, the dry run, `status` and `purge` all ask
//! [`ownership`], so they can never disagree about a record. A set is ours when its mark
//! names this deployment's RECORD_OWNER, comes from where this deployment runs (a cluster
//! is its ARN: `prod` of another region or account is somebody else's), names a cluster this
//! deployment serves, and checks itself (its hash is that of its own name and type).

use crate::plan::naming::marks::{MarkKind, Origin};
use crate::plan::naming::{cluster_label, ClusterId, Identity, SetMark, ZoneNaming};
use crate::plan::records::{RecordSet, RecordType, Routing};
use crate::plan::tree::names::branch_name;

/// Who a record set belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// One of a task's own sets, by task id.
    Task(String),
    /// A whole SRV set (`_P._tcp._all.S.Z`) or one of its shards.
    WholeSet,
    /// A weighted alias at a shared name, aiming at one branch of its tree.
    Branch,
    /// A latency alias at a shared name, aiming at this region's name (REGIONAL_NAMES).
    Latency,
    /// Somebody else's: never changed, but in the way of some names.
    Foreign,
}

/// The one ownership rule; see the module docs. A simple SRV set is ours when it has the
/// shape of a whole set (`ZoneSnapshot` then gives away those whose routed name holds
/// somebody else's sets).
pub fn ownership(naming: &ZoneNaming, set: &RecordSet) -> Ownership {
    if !in_zone(naming, &set.name) {
        return Ownership::Foreign;
    }
    if set.routing == Routing::Simple {
        let whole = set.alias.is_none()
            && set.record_type == RecordType::Srv
            && naming.is_whole_set(&set.name, &set.values);
        return if whole {
            Ownership::WholeSet
        } else {
            Ownership::Foreign
        };
    }
    let Some(mark) = set.mark() else {
        return Ownership::Foreign;
    };
    let identity = naming.identity();
    if mark.owner != identity.owner || !mark.hashes(&set.name, set.record_type) {
        return Ownership::Foreign;
    }
    let ours = match (mark.kind, &set.alias, &set.routing) {
        (MarkKind::Task(role), None, routing) if routing.is_routed() => {
            role.record_type() == set.record_type && serves(identity, &mark)
        }
        (MarkKind::Branch(index), Some(target), Routing::Weighted { .. }) => {
            *target == branch_name(&set.name, index) && runs_here(identity, &mark)
        }
        (MarkKind::Latency, Some(target), Routing::Latency { region, .. }) => {
            *region == identity.scope.region
                && mark.id == identity.scope.region
                && naming.regional_name(&set.name).as_deref() == Some(target.as_str())
                && runs_here(identity, &mark)
        }
        _ => false,
    };
    match (ours, mark.kind) {
        (false, _) => Ownership::Foreign,
        (true, MarkKind::Task(_)) => Ownership::Task(mark.id.to_owned()),
        (true, MarkKind::Branch(_)) => Ownership::Branch,
        (true, MarkKind::Latency) => Ownership::Latency,
    }
}

/// Whether a mark that names this owner is this deployment's, as far as any mark can
/// be: written where it runs (or by an older version, which wrote no region or account).
fn runs_here(identity: &Identity, mark: &SetMark<'_>) -> bool {
    match mark.origin.scope() {
        Some((region, account)) => {
            region == identity.scope.region && account == identity.scope.account
        }
        None => true,
    }
}

/// Whether a task's mark names a cluster this deployment serves: where it runs, and one
/// of CLUSTERS when it names any. A mark of an older version is read as this
/// deployment's when its cluster label (if any) is one of CLUSTERS: older versions
/// could only share a zone with one region and account per owner, so it was written here.
fn serves(identity: &Identity, mark: &SetMark<'_>) -> bool {
    if !runs_here(identity, mark) {
        return false;
    }
    let named = |matches: &dyn Fn(&ClusterId) -> bool| {
        identity.clusters.is_empty() || identity.clusters.iter().any(matches)
    };
    match mark.origin {
        Origin::Cluster { label, .. } => named(&|cluster| cluster.mark_label() == label),
        Origin::Legacy {
            cluster: Some(label),
        } => named(&|cluster| cluster_label(&cluster.name) == label),
        Origin::Legacy { cluster: None } => true,
        Origin::Deployment { .. } => false,
    }
}

/// Whether `name` lies in the part of the zone this deployment writes (below the apex).
fn in_zone(naming: &ZoneNaming, name: &str) -> bool {
    name.len() > naming.apex().len() && name.ends_with(&format!(".{}", naming.apex()))
}

/// Whether the mark is of an older version, to be replaced by today's.
pub fn is_legacy(set: &RecordSet) -> bool {
    set.mark()
        .is_some_and(|mark| matches!(mark.origin, Origin::Legacy { .. }))
}

#[cfg(test)]
mod tests;
