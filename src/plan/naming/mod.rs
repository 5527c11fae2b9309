//! Record names and SetIdentifiers: how a task becomes DNS names, and how ecs-srv later
//! recognises the records it wrote.
//!
//! Names from ECS (families, services, containers, docker labels) are free text to DNS.
//! Every one passes through [`dns_label`], which can only produce a single valid label of
//! `[a-z0-9-]`, so no input can add a label, escape the zone, or start with the `_` that
//! SRV owner names reserve.

use crate::plan::records::RecordType;

/// Longest DNS label (RFC 1035, 2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// Longest domain name in presentation form without the trailing dot.
pub const MAX_NAME_LEN: usize = 253;
/// Longest SetIdentifier Route 53 accepts.
pub const MAX_SET_IDENTIFIER_LEN: usize = 128;

/// Turns any text into one DNS label: lower case ASCII letters, digits and `-`.
///
/// Every other character becomes `-`, runs of `-` collapse, and the label never starts
/// or ends with `-`. A label that would pass 63 characters is cut and given a short hash
/// of the whole input, so two long names that share a prefix stay apart. Input with no
/// letter or digit at all yields `x` plus its hash, never an empty label.
pub fn dns_label(raw: &str) -> String {
    label_within(raw, MAX_LABEL_LEN)
}

/// The `P` of an SRV owner name `_P._tcp...`: a [`dns_label`] one character shorter, so
/// that the leading `_` still fits in 63.
pub fn srv_port_label(raw: &str) -> String {
    label_within(raw, MAX_LABEL_LEN - 1)
}

fn label_within(raw: &str, max_len: usize) -> String {
    let mut label = String::with_capacity(raw.len().min(max_len));
    for ch in raw.chars() {
        let mapped = match ch {
            'a'..='z' | '0'..='9' => ch,
            'A'..='Z' => ch.to_ascii_lowercase(),
            _ => '-',
        };
        if mapped == '-' && (label.is_empty() || label.ends_with('-')) {
            continue;
        }
        label.push(mapped);
    }
    while label.ends_with('-') {
        label.pop();
    }
    if label.is_empty() {
        return format!("x-{:08x}", short_hash(raw));
    }
    if label.len() > max_len {
        let suffix = format!("-{:08x}", short_hash(raw));
        label.truncate(max_len - suffix.len());
        while label.ends_with('-') {
            label.pop();
        }
        label.push_str(&suffix);
    }
    label
}

/// FNV-1a folded to 32 bits: stable across builds and platforms, which std's hasher is
/// not, so a name hashed today matches the same name hashed by next year's binary.
pub fn short_hash(text: &str) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash ^ (hash >> 32)) as u32
}

/// The transport label of an SRV owner name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// `_tcp`
    Tcp,
    /// `_udp`
    Udp,
}

impl Transport {
    fn label(self) -> &'static str {
        match self {
            Transport::Tcp => "_tcp",
            Transport::Udp => "_udp",
        }
    }
}

/// The zone's apex and the owner tag, from which every owned name and SetIdentifier is
/// built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneNaming {
    /// The zone apex, lower case, with the trailing dot (`ecs.internal.`).
    apex: String,
    /// Tag at the head of every owned SetIdentifier.
    owner: String,
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
    /// `apex` is the hosted zone's name as Route 53 returns it; `owner` is the
    /// RECORD_OWNER tag, already validated by the config.
    pub fn new(apex: &str, owner: &str) -> Self {
        let mut apex = apex.trim().to_ascii_lowercase();
        if !apex.ends_with('.') {
            apex.push('.');
        }
        Self {
            apex,
            owner: owner.to_owned(),
        }
    }

    /// The zone apex with its trailing dot.
    pub fn apex(&self) -> &str {
        &self.apex
    }

    /// The owner tag of this deployment.
    pub fn owner(&self) -> &str {
        &self.owner
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

    /// The SetIdentifier of one owned record set: `OWNER:TASK:KIND:CLUSTER:HASH`, where
    /// CLUSTER is [`cluster_label`] of the task's cluster and HASH is [`short_hash`] of
    /// the record's name and type.
    ///
    /// Route 53 needs a SetIdentifier unique only per name and type; moto deletes every
    /// set sharing one, so each of ours is unique zone-wide. The hash also makes the mark
    /// self-checking: a foreign set cannot pass [`Self::owned_task_id`] by accident. The
    /// cluster lets every deployment sharing the zone see which cluster holds a name.
    pub fn set_identifier(
        &self,
        task_id: &str,
        role: RecordRole,
        cluster: &str,
        name: &str,
    ) -> String {
        format!(
            "{}:{task_id}:{}:{}:{:08x}",
            self.owner,
            role.tag(),
            cluster_label(cluster),
            mark_hash(name, role.record_type())
        )
    }

    /// The task id an owned record set belongs to, or `None` when the set is not ours:
    /// a different owner, a name outside the zone, or a SetIdentifier that does not match
    /// its name. Marks written before the cluster was part of them (`OWNER:TASK:KIND:HASH`)
    /// are still ours, so that an upgrade replaces them instead of orphaning them.
    pub fn owned_task_id<'a>(
        &self,
        name: &str,
        record_type: RecordType,
        set_identifier: &'a str,
    ) -> Option<&'a str> {
        if !name.ends_with(&self.apex) || name.len() <= self.apex.len() {
            return None;
        }
        let mark = parse_mark(set_identifier)?;
        let matches = mark.owner == self.owner
            && mark.role.record_type() == record_type
            && mark.hash == format!("{:08x}", mark_hash(name, record_type));
        matches.then_some(mark.task_id)
    }
}

impl ZoneNaming {
    /// The SetIdentifier of a tree's alias to branch `index` of `root`:
    /// `OWNER:bINDEX:tree:HASH`, with the hash of the root's name and type, so that the
    /// mark checks itself like a task's does (see [`crate::plan::tree::aliases`]).
    pub fn branch_set_identifier(
        &self,
        root: &str,
        record_type: RecordType,
        index: usize,
    ) -> String {
        format!(
            "{}:b{index}:{BRANCH_TAG}:{:08x}",
            self.owner,
            mark_hash(root, record_type)
        )
    }

    /// Whether an alias set at `name` aiming at `target` is one of this deployment's tree
    /// aliases: its mark names this owner, the hash of its own name and type, and the very
    /// branch it aims at.
    pub fn owns_branch_alias(
        &self,
        name: &str,
        record_type: RecordType,
        set_identifier: &str,
        target: &str,
    ) -> bool {
        let parts: Vec<&str> = set_identifier.split(':').collect();
        let [owner, branch, tag, hash] = parts[..] else {
            return false;
        };
        let aimed = branch_of(target).filter(|(root, _)| *root == name);
        owner == self.owner
            && tag == BRANCH_TAG
            && hash == format!("{:08x}", mark_hash(name, record_type))
            && aimed.is_some_and(|(_, index)| branch == format!("b{index}"))
            && name.ends_with(&self.apex)
    }

    /// The same task set at another name of its tree (a root or one of its branches), its
    /// mark's hash made for the new name.
    pub fn moved(
        &self,
        set: &crate::plan::records::RecordSet,
        name: &str,
    ) -> crate::plan::records::RecordSet {
        let mut moved = set.clone();
        moved.name = name.to_owned();
        let hash = format!("{:08x}", mark_hash(name, set.record_type));
        let retag = |id: &str| match id.rsplit_once(':') {
            Some((head, _)) => format!("{head}:{hash}"),
            None => id.to_owned(),
        };
        moved.routing = match &set.routing {
            crate::plan::records::Routing::Weighted {
                set_identifier,
                weight,
            } => crate::plan::records::Routing::Weighted {
                set_identifier: retag(set_identifier),
                weight: *weight,
            },
            crate::plan::records::Routing::Multivalue { set_identifier } => {
                crate::plan::records::Routing::Multivalue {
                    set_identifier: retag(set_identifier),
                }
            }
            crate::plan::records::Routing::Simple => crate::plan::records::Routing::Simple,
        };
        moved
    }
}

/// The kind tag of a tree alias's mark.
const BRANCH_TAG: &str = "tree";
/// The first characters of a branch label: `_b0` … `_b99`.
const BRANCH_PREFIX: &str = "_b";
/// Branches one root may have: the root holds one weighted alias per branch, and Route 53
/// allows 100 weighted sets per name and type.
pub const MAX_BRANCHES: usize = 100;

/// `N` → `_bINDEX.N`: a branch of the tree at a shared name. The `_` keeps it apart from
/// every task, service and port label ([`dns_label`] never yields one), and the branch sits
/// under `N`, so it is read with the service's subtree.
pub fn branch_name(root: &str, index: usize) -> String {
    format!("{BRANCH_PREFIX}{index}.{root}")
}

/// `_bINDEX.N` → `(N, INDEX)`, when the name is a branch of a shared name (a service name
/// `S.Z` or an SRV owner `_P._tcp….`); `None` for every other name, such as the SRV owner
/// of a port labelled `b3` (`_b3._tcp.S.Z`).
pub fn branch_of(name: &str) -> Option<(&str, usize)> {
    let (label, root) = name.split_once('.')?;
    let digits = label.strip_prefix(BRANCH_PREFIX)?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    let index: usize = digits.parse().ok().filter(|_| canonical)?;
    let shared_root = !root.starts_with('_') || srv_owner_parts(root).is_some();
    (index < MAX_BRANCHES && shared_root && root.contains('.')).then_some((root, index))
}

/// The shared name a set stands for: the root of a branch, or the name itself.
pub fn tree_root(name: &str) -> &str {
    branch_of(name).map_or(name, |(root, _)| root)
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

/// What a SetIdentifier written by any ecs-srv deployment says, whatever its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetMark<'a> {
    /// RECORD_OWNER of the deployment that wrote it.
    pub owner: &'a str,
    /// The task.
    pub task_id: &'a str,
    /// Which of the task's sets it is.
    pub role: RecordRole,
    /// The [`cluster_label`] of the task's cluster; `None` on marks of older versions.
    pub cluster: Option<&'a str>,
    /// The hash of the set's name and type.
    pub hash: &'a str,
}

/// Reads the shape of a mark; `None` for SetIdentifiers ecs-srv did not write. Only
/// [`ZoneNaming::owned_task_id`] decides that a set is this deployment's.
pub fn parse_mark(set_identifier: &str) -> Option<SetMark<'_>> {
    let parts: Vec<&str> = set_identifier.split(':').collect();
    let (owner, task_id, tag, cluster, hash) = match parts[..] {
        [owner, task, tag, hash] => (owner, task, tag, None, hash),
        [owner, task, tag, cluster, hash] => (owner, task, tag, Some(cluster), hash),
        _ => return None,
    };
    let role = RecordRole::from_tag(tag)?;
    let hex = hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    (hex && !owner.is_empty() && !task_id.is_empty()).then_some(SetMark {
        owner,
        task_id,
        role,
        cluster,
        hash,
    })
}

/// The cluster's part of a mark and of cluster-scoped names: one DNS label of at most 24
/// characters (a hash keeps long names apart), readable in the Route 53 console.
pub fn cluster_label(cluster: &str) -> String {
    label_within(cluster, 24)
}

fn mark_hash(name: &str, record_type: RecordType) -> u32 {
    short_hash(&format!("{name} {record_type}"))
}

/// The label that marks a whole SRV set's name, `_P._tcp._all.S.Z`.
pub const WHOLE_SET_LABEL: &str = "_all";

/// `_P`, `_tcp` or `_udp`, and the rest of an SRV owner name; `None` for other names.
fn srv_owner_parts(name: &str) -> Option<(&str, &str, &str)> {
    let mut labels = name.splitn(3, '.');
    let (port, transport, rest) = (labels.next()?, labels.next()?, labels.next()?);
    let is_srv_owner =
        port.len() > 1 && port.starts_with('_') && matches!(transport, "_tcp" | "_udp");
    is_srv_owner.then_some((port, transport, rest))
}

/// Which of a task's records a set is. Its tag sits in the SetIdentifier for the humans
/// reading the Route 53 console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecordRole {
    /// `S.Z` A: a service member's weighted address.
    ServiceAddress,
    /// `T.S.Z` A: the task's own address, the SRV target.
    TaskAddress,
    /// `_P._tcp.S.Z` SRV: one port of a service member.
    ServicePort,
    /// `S.Z` A of a one-off or scheduled task, where no service holds the name.
    StandaloneAddress,
    /// `_P._tcp.S.Z` SRV of a one-off or scheduled task, where no service holds the name.
    StandalonePort,
    /// `S.Z` AAAA: the service's weighted IPv6 address.
    ServiceAddress6,
    /// `T.S.Z` AAAA: the task's own IPv6 address, the SRV target over IPv6.
    TaskAddress6,
    /// `S.Z` AAAA of a one-off or scheduled task, where no service holds the name.
    StandaloneAddress6,
}

impl RecordRole {
    const ALL: [RecordRole; 8] = [
        RecordRole::ServiceAddress,
        RecordRole::TaskAddress,
        RecordRole::ServicePort,
        RecordRole::StandaloneAddress,
        RecordRole::StandalonePort,
        RecordRole::ServiceAddress6,
        RecordRole::TaskAddress6,
        RecordRole::StandaloneAddress6,
    ];

    fn tag(self) -> &'static str {
        match self {
            RecordRole::ServiceAddress => "svc",
            RecordRole::TaskAddress => "task",
            RecordRole::ServicePort => "srv",
            RecordRole::StandaloneAddress => "osvc",
            RecordRole::StandalonePort => "osrv",
            RecordRole::ServiceAddress6 => "svc6",
            RecordRole::TaskAddress6 => "task6",
            RecordRole::StandaloneAddress6 => "osvc6",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.tag() == tag)
    }

    /// The record type a set of this role has.
    pub fn record_type(self) -> RecordType {
        match self {
            RecordRole::ServicePort | RecordRole::StandalonePort => RecordType::Srv,
            RecordRole::ServiceAddress
            | RecordRole::TaskAddress
            | RecordRole::StandaloneAddress => RecordType::A,
            RecordRole::ServiceAddress6
            | RecordRole::TaskAddress6
            | RecordRole::StandaloneAddress6 => RecordType::Aaaa,
        }
    }

    /// Whether the set sits at a name every task of the service shares (`S.Z`,
    /// `_P._tcp.S.Z`), as opposed to the task's own `T.S.Z`.
    pub fn is_shared_name(self) -> bool {
        !matches!(self, RecordRole::TaskAddress | RecordRole::TaskAddress6)
    }

    /// Whether the set is a service member's: such a name is the service's, and one-off
    /// tasks keep out of it.
    pub fn is_service_member(self) -> bool {
        matches!(
            self,
            RecordRole::ServiceAddress | RecordRole::ServicePort | RecordRole::ServiceAddress6
        )
    }
}

#[cfg(test)]
mod tests;
