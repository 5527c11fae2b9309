//! Record names: how a task becomes DNS names in the zone, and how ecs-srv later reads a
//! name back (whole sets, their routed names, subtrees in listing order).
//!
//! [`labels`] makes every label, [`marks`] every SetIdentifier; a [`ZoneNaming`] puts
//! them together for one zone and one deployment.

pub(crate) mod identity;
pub(crate) mod labels;
pub mod marks;
#[cfg(test)]
mod tests;

pub use identity::{cluster_label, ClusterId, Identity, Scope};
pub use labels::{dns_label, short_hash, srv_port_label, Transport, MAX_LABEL_LEN, MAX_NAME_LEN};
pub use marks::{RecordRole, SetMark};

use crate::plan::tree::names::tree_root;
use labels::srv_owner_parts;

/// The label that marks a whole SRV set's name, `_P._tcp._all.S.Z`.
pub const WHOLE_SET_LABEL: &str = "_all";

/// The zone's apex and the deployment's identity, from which every owned name and mark
/// is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneNaming {
    /// The zone apex, lower case, with the trailing dot (`ecs.internal.`).
    apex: String,
    /// Whose records are ours.
    identity: Identity,
    /// With REGIONAL_NAMES: the region label every service name carries (`S.R.Z`), whose
    /// shared name `S.Z` answers through a latency alias.
    region_label: Option<String>,
}

/// A name that cannot be written, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record name {name} is {len} characters long; DNS allows {MAX_NAME_LEN}: shorten the service or port label (docker labels ecs-srv.service / ecs-srv.port) or use a shorter zone")]
pub struct NameTooLong {
    /// The name that was too long.
    pub name: String,
    /// Its length without the trailing dot.
    pub len: usize,
}

impl ZoneNaming {
    /// `apex` is the hosted zone's name as Route 53 returns it (or RECORD_DOMAIN, a name
    /// within it); `regional` puts the deployment's region in every service name.
    pub fn new(apex: &str, identity: Identity, regional: bool) -> Self {
        let mut apex = apex.trim().to_ascii_lowercase();
        if !apex.ends_with('.') {
            apex.push('.');
        }
        let region_label = regional.then(|| identity.scope.region.clone());
        Self {
            apex,
            identity,
            region_label,
        }
    }

    /// The zone apex with its trailing dot.
    pub fn apex(&self) -> &str {
        &self.apex
    }

    /// Whose records are ours.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The owner tag of this deployment.
    pub fn owner(&self) -> &str {
        &self.identity.owner
    }

    /// The region label service names carry, with REGIONAL_NAMES.
    pub fn region_label(&self) -> Option<&str> {
        self.region_label.as_deref()
    }

    /// `X.R.Z` → `X.Z`: the shared name a regional name answers under (a service name, an
    /// SRV owner or a whole set's name); `None` without REGIONAL_NAMES or outside them.
    pub fn shared_name(&self, regional: &str) -> Option<String> {
        let region = self.region_label.as_deref()?;
        let prefix = regional.strip_suffix(&format!(".{region}.{}", self.apex))?;
        (!prefix.is_empty()).then(|| format!("{prefix}.{}", self.apex))
    }

    /// `X.Z` → `X.R.Z`, the inverse of [`Self::shared_name`].
    pub fn regional_name(&self, shared: &str) -> Option<String> {
        let region = self.region_label.as_deref()?;
        let prefix = shared.strip_suffix(&format!(".{}", self.apex))?;
        (!prefix.is_empty()).then(|| format!("{prefix}.{region}.{}", self.apex))
    }

    /// `S.Z`: the service's weighted A name.
    pub fn service_name(&self, service_label: &str) -> Result<String, NameTooLong> {
        self.checked(format!("{service_label}.{}", self.apex))
    }

    /// `T.S.Z`: the task's own A name, which the SRV records point at.
    pub fn task_name(&self, task_label: &str, service_label: &str) -> Result<String, NameTooLong> {
        self.checked(format!("{task_label}.{service_label}.{}", self.apex))
    }

    /// `_P._tcp.S.Z`: the SRV owner name of one port of a service.
    pub fn srv_name(
        &self,
        port_label: &str,
        transport: Transport,
        service_label: &str,
    ) -> Result<String, NameTooLong> {
        self.checked(format!(
            "_{port_label}.{}.{service_label}.{}",
            transport.label(),
            self.apex
        ))
    }

    /// `_P._tcp.S.Z` → `_P._tcp._all.S.Z`: the whole SRV set beside a weighted SRV name.
    ///
    /// It is a sibling, not the same name, because Route 53 cannot mix simple and weighted
    /// sets on one name; and no label from [`dns_label`] holds `_`, so the `_all` label
    /// never collides with a service, task or port label.
    pub fn whole_set_name(&self, weighted_srv_name: &str) -> Option<String> {
        let (port, transport, rest) = srv_owner_parts(weighted_srv_name)?;
        (rest.ends_with(self.apex.as_str()) && !rest.starts_with(WHOLE_SET_LABEL))
            .then(|| format!("{port}.{transport}.{WHOLE_SET_LABEL}.{rest}"))
    }

    /// `_P._tcp._all.S.Z` (or one of its shards) → `_P._tcp.S.Z`: the routed name a whole
    /// set follows.
    pub fn routed_srv_name(&self, whole_set_name: &str) -> Option<String> {
        let (port, transport, rest) = srv_owner_parts(tree_root(whole_set_name))?;
        let service_and_zone = rest.strip_prefix(WHOLE_SET_LABEL)?.strip_prefix('.')?;
        service_and_zone
            .ends_with(self.apex.as_str())
            .then(|| format!("{port}.{transport}.{service_and_zone}"))
    }

    /// Whether a simple SRV set at `name` with these values has the shape of a whole set
    /// ecs-srv keeps: the name is `_P._tcp._all.S.Z` in this zone and every value aims at a
    /// task name `T.S.Z.` of the same service. A shard of a whole set too large for one
    /// set (`_bK._P._tcp._all.S.Z`, see `srv_sets.rs`) has the same shape below its branch
    /// label. Anything else there is somebody else's.
    pub fn is_whole_set(&self, name: &str, values: &[String]) -> bool {
        let name = tree_root(name);
        let Some((_, _, rest)) = srv_owner_parts(name) else {
            return false;
        };
        let Some(service_and_zone) = rest
            .strip_prefix(WHOLE_SET_LABEL)
            .and_then(|r| r.strip_prefix('.'))
        else {
            return false;
        };
        let in_zone = service_and_zone.len() > self.apex.len()
            && service_and_zone.ends_with(self.apex.as_str());
        in_zone
            && values.iter().all(|value| {
                value
                    .rsplit(' ')
                    .next()
                    .and_then(|target| target.split_once('.'))
                    .is_some_and(|(task, rest)| {
                        !task.is_empty() && !task.starts_with('_') && rest == service_and_zone
                    })
            })
    }

    fn checked(&self, name: String) -> Result<String, NameTooLong> {
        let len = name.len() - 1;
        if len > MAX_NAME_LEN {
            return Err(NameTooLong { name, len });
        }
        Ok(name)
    }
}

/// Where a listed name stands against the subtree of `root` (`S.Z` and every name under
/// it) in Route 53's listing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubtreeOrder {
    /// In the subtree.
    Inside,
    /// Outside it, but not yet past it: keep reading.
    Beside,
    /// Past the subtree: no name of it can follow.
    Past,
}

/// Route 53 lists names in the order of their labels reversed and joined with dots, the
/// trailing dot included (`www.example.com.` is `com.example.www.`), compared as text:
/// so `S.Z` and everything under it come as one run from `S.Z` on, and the first name whose
/// reversed form sorts after `S.Z`'s without lying under it ends the run. A name that
/// sorts before (a neighbour holding a character below `.`, such as `web-x` beside `web`,
/// which an emulator may list inside the run) is only skipped.
pub fn subtree_order(name: &str, root: &str) -> SubtreeOrder {
    let name = name.to_ascii_lowercase();
    let inside = name == root || name.ends_with(&format!(".{root}"));
    if inside {
        return SubtreeOrder::Inside;
    }
    let reversed = |name: &str| {
        let mut labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
        labels.reverse();
        format!("{}.", labels.join("."))
    };
    if reversed(&name) > reversed(root) {
        SubtreeOrder::Past
    } else {
        SubtreeOrder::Beside
    }
}

/// A deployment's naming for unit tests: owner `ecs-srv`, account 123456789012 in
/// us-east-1, every cluster.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// The scope of the unit tests.
    pub fn scope() -> Scope {
        Scope {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
        }
    }

    /// The naming of a default deployment for zone `apex`.
    pub fn naming(apex: &str) -> ZoneNaming {
        ZoneNaming::new(
            apex,
            Identity {
                owner: "ecs-srv".into(),
                scope: scope(),
                clusters: Vec::new(),
            },
            false,
        )
    }
}
