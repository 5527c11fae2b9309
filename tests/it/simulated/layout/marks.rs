//! The documented marks (SetIdentifiers) and labels, written out from the README and the
//! mark format, apart from the crate's `naming`.
//!
//! A mark is `OWNER:ID:KIND:ORIGIN:HASH`:
//! - a task's set: ID the task id, KIND its role tag (`svc`, `task`, `srv`, `osvc`, `osrv`,
//!   `svc6`, `task6`, `osvc6`), ORIGIN `C.REGION.ACCOUNT` (C: the cluster's name as one
//!   label, cut to fit the longest mark in Route 53's 128 characters);
//! - a tree's alias to branch K: ID `bK`, KIND `tree`, ORIGIN `REGION.ACCOUNT`;
//! - a latency alias (REGIONAL_NAMES): ID the region, KIND `lat`, ORIGIN `REGION.ACCOUNT`;
//! - HASH: FNV-1a (64-bit) of `"<name> <type>"` folded to 32 bits, in 8 hex digits, of the
//!   set's own name (a member in a tree's branch hashes its branch's name).
//!
//! Older versions wrote `OWNER:TASK:KIND:HASH` (the first), `OWNER:TASK:KIND:CLUSTER:HASH`
//! (CLUSTER the 24-character name label) and `OWNER:bK:tree:HASH`: an upgrade replaces them.

/// Route 53's longest SetIdentifier.
const MAX_SET_IDENTIFIER: usize = 128;
/// The longest RECORD_OWNER, task id and kind tag a mark may carry.
const LONGEST_OWNER: usize = 32;
const LONGEST_TASK_ID: usize = 36;
const LONGEST_KIND: usize = "osvc6".len();
/// The cluster's label in names (CLUSTER_IN_NAMES) and in the second version's marks.
pub const CLUSTER_NAME_LABEL: usize = 24;

/// FNV-1a (64-bit) over the bytes, folded to 32 bits by xoring its halves.
pub fn fnv32(text: &str) -> u32 {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (hash ^ (hash >> 32)) as u32
}

/// The HASH of a mark on a set at `name` (lower case, trailing dot) of `record_type`.
pub fn mark_hash(name: &str, record_type: &str) -> String {
    format!("{:08x}", fnv32(&format!("{name} {record_type}")))
}

/// Any text as one DNS label of at most `max` characters: ASCII letters (lowered) and
/// digits kept, every run of anything else one `-`, none at either end; cut when too long
/// and given `-` and the hash of the whole text, so that long names stay apart; `x-` and
/// the hash when nothing is left.
pub fn label(raw: &str, max: usize) -> String {
    let mut out = String::new();
    for ch in raw.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    let hash = format!("{:08x}", fnv32(raw));
    if out.is_empty() {
        return format!("x-{hash}");
    }
    if out.len() <= max {
        return out;
    }
    let kept = out[..max - 9].trim_end_matches('-');
    format!("{kept}-{hash}")
}

/// A cluster's label in today's marks: the longest mark (longest owner, task id and kind,
/// four colons, the hash and the origin's two dots) must fit 128 characters, so the label
/// gets what is left beside the region and account, at least 8 and at most 24.
pub fn cluster_mark_label(cluster: &str, region: &str, account: &str) -> String {
    let fixed = LONGEST_OWNER + LONGEST_TASK_ID + LONGEST_KIND + 4 + 8 + 2;
    let room = MAX_SET_IDENTIFIER.saturating_sub(fixed + region.len() + account.len());
    label(cluster, room.clamp(8, CLUSTER_NAME_LABEL))
}

/// Which version wrote a mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Era {
    /// Today's: `OWNER:ID:KIND:ORIGIN:HASH`.
    Today,
    /// The first version's: `OWNER:TASK:KIND:HASH`, `OWNER:bK:tree:HASH`.
    First,
    /// The version before this release: `OWNER:TASK:KIND:CLUSTER:HASH` (the 24-character
    /// cluster label), `OWNER:bK:tree:HASH`.
    ClusterOnly,
}

/// Where a deployment runs and whose marks it writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Writer {
    /// RECORD_OWNER.
    pub owner: String,
    /// The deployment's region.
    pub region: String,
    /// Its account.
    pub account: String,
}

impl Writer {
    /// The mark of a task's set of `kind` at `name`, in `era`.
    pub fn task_mark(
        &self,
        era: Era,
        task: &str,
        kind: &str,
        cluster: &str,
        name: &str,
        record_type: &str,
    ) -> String {
        let hash = mark_hash(name, record_type);
        let owner = &self.owner;
        match era {
            Era::Today => {
                let label = cluster_mark_label(cluster, &self.region, &self.account);
                let origin = format!("{label}.{}.{}", self.region, self.account);
                format!("{owner}:{task}:{kind}:{origin}:{hash}")
            }
            Era::First => format!("{owner}:{task}:{kind}:{hash}"),
            Era::ClusterOnly => {
                let cluster = label(cluster, CLUSTER_NAME_LABEL);
                format!("{owner}:{task}:{kind}:{cluster}:{hash}")
            }
        }
    }

    /// The mark of a tree's alias at `root` to branch `index`, in `era`.
    pub fn branch_mark(&self, era: Era, root: &str, record_type: &str, index: usize) -> String {
        let hash = mark_hash(root, record_type);
        match era {
            Era::Today => format!(
                "{}:b{index}:tree:{}.{}:{hash}",
                self.owner, self.region, self.account
            ),
            Era::First | Era::ClusterOnly => format!("{}:b{index}:tree:{hash}", self.owner),
        }
    }

    /// The mark of this region's latency alias at shared name `name`.
    pub fn latency_mark(&self, name: &str, record_type: &str) -> String {
        let (region, account) = (&self.region, &self.account);
        let hash = mark_hash(name, record_type);
        format!("{}:{region}:lat:{region}.{account}:{hash}", self.owner)
    }
}

/// A mark read back: its fields, split at the colons, of any era.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadMark {
    /// OWNER.
    pub owner: String,
    /// ID: the task id, `bK` or the region.
    pub id: String,
    /// KIND.
    pub kind: String,
    /// ORIGIN (or the second version's CLUSTER); `None` in the first version's marks.
    pub origin: Option<String>,
    /// HASH.
    pub hash: String,
}

/// The task kinds a mark may carry.
pub const TASK_KINDS: [&str; 8] = [
    "svc", "task", "srv", "osvc", "osrv", "svc6", "task6", "osvc6",
];

impl ReadMark {
    /// Splits a SetIdentifier of four or five fields whose hash is 8 hex digits.
    pub fn parse(set_identifier: &str) -> Option<ReadMark> {
        let fields: Vec<&str> = set_identifier.split(':').collect();
        let (owner, id, kind, origin, hash) = match fields[..] {
            [owner, id, kind, hash] => (owner, id, kind, None, hash),
            [owner, id, kind, origin, hash] => (owner, id, kind, Some(origin), hash),
            _ => return None,
        };
        let hex = hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        hex.then(|| ReadMark {
            owner: owner.to_owned(),
            id: id.to_owned(),
            kind: kind.to_owned(),
            origin: origin.map(str::to_owned),
            hash: hash.to_owned(),
        })
    }

    /// Whether it marks one of a task's sets.
    pub fn is_task(&self) -> bool {
        TASK_KINDS.contains(&self.kind.as_str())
    }

    /// The same mark with the hash of another name (a member shown at its tree's root).
    pub fn rehashed(&self, name: &str, record_type: &str) -> String {
        let hash = mark_hash(name, record_type);
        match &self.origin {
            Some(origin) => format!("{}:{}:{}:{origin}:{hash}", self.owner, self.id, self.kind),
            None => format!("{}:{}:{}:{hash}", self.owner, self.id, self.kind),
        }
    }
}
