//! The record sets ecs-srv reasons about, independent of the AWS SDK.
//!
//! The planner, the batcher and the strict test model all speak these types; only
//! `route53.rs` converts them to and from the SDK's shapes. Keeping them plain makes the
//! planning code pure and lets tests compare whole zones with `==`.

use std::fmt;

/// The record types ecs-srv writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum RecordType {
    /// An IPv4 address: the service name and the per-task name.
    A,
    /// An IPv6 address, at the same names, for tasks whose ENI (or host) has one.
    #[serde(rename = "AAAA")]
    Aaaa,
    /// A service record: priority, weight, port and target.
    #[serde(rename = "SRV")]
    Srv,
}

impl RecordType {
    /// The type's name as Route 53 spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Srv => "SRV",
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name and a record type: what Route 53's per-name rules count by (one routing policy,
/// 100 routed sets, one TTL per weighted group), and what a tree or a policy move is of.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct NameKey {
    /// Fully qualified, lower case, with the trailing dot.
    pub name: String,
    /// The record type.
    #[serde(rename = "type")]
    pub record_type: RecordType,
}

impl NameKey {
    /// The key of `name` and `record_type`.
    pub fn new(name: impl Into<String>, record_type: RecordType) -> Self {
        NameKey {
            name: name.into(),
            record_type,
        }
    }
}

impl fmt::Display for NameKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.record_type)
    }
}

/// How Route 53 answers for a record set. Owned sets are never simple, because a
/// SetIdentifier is what marks them as ours (see `naming::SetIdentifier`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "policy")]
pub enum Routing {
    /// One set per name and type; every value is returned.
    Simple,
    /// One set per query, drawn by weight.
    Weighted {
        /// Distinguishes this set among the name's weighted sets.
        set_identifier: String,
        /// Relative weight, 0 to 255.
        weight: u8,
    },
    /// Up to eight healthy sets per query, at random.
    Multivalue {
        /// Distinguishes this set among the name's multivalue sets.
        set_identifier: String,
    },
    /// The set of the asking VPC's region (or the closest region that has one): how one
    /// shared name answers each region with its own tasks (REGIONAL_NAMES).
    Latency {
        /// Distinguishes this set among the name's latency sets.
        set_identifier: String,
        /// The AWS region the set answers for.
        region: String,
    },
}

impl Routing {
    /// The SetIdentifier, when the policy has one.
    pub fn set_identifier(&self) -> Option<&str> {
        match self {
            Routing::Simple => None,
            Routing::Weighted { set_identifier, .. }
            | Routing::Multivalue { set_identifier }
            | Routing::Latency { set_identifier, .. } => Some(set_identifier),
        }
    }

    /// A short name for the policy, for error messages and the strict model.
    pub fn policy_name(&self) -> &'static str {
        match self {
            Routing::Simple => "simple",
            Routing::Weighted { .. } => "weighted",
            Routing::Multivalue { .. } => "multivalue",
            Routing::Latency { .. } => "latency",
        }
    }

    /// Whether the policy answers with one of several sets of a name (weighted or
    /// multivalue): the sets a service's tasks share a name with, and trees are built of.
    pub fn is_routed(&self) -> bool {
        matches!(self, Routing::Weighted { .. } | Routing::Multivalue { .. })
    }
}

/// One Route 53 resource record set.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct RecordSet {
    /// Fully qualified, lower case, with the trailing dot.
    pub name: String,
    /// The record type.
    #[serde(rename = "type")]
    pub record_type: RecordType,
    /// Routing policy and its SetIdentifier.
    pub routing: Routing,
    /// Time to live, in seconds.
    pub ttl: u32,
    /// The values in presentation form, sorted so that equal sets compare equal. An alias
    /// has none.
    pub values: Vec<String>,
    /// For an alias set, the name in this zone it answers from (a branch of a tree, see
    /// `tree.rs`). An alias has no TTL of its own (the target's is used) and no values;
    /// its `ttl` is 0 here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

impl RecordSet {
    /// The identity Route 53 uses: a batch may touch each key once, and a DELETE must
    /// name an existing key with exactly its current content.
    pub fn key(&self) -> RecordKey {
        RecordKey {
            name: self.name.clone(),
            record_type: self.record_type,
            set_identifier: self.routing.set_identifier().map(str::to_owned),
        }
    }

    /// The set's name and type.
    pub fn name_key(&self) -> NameKey {
        NameKey::new(self.name.clone(), self.record_type)
    }

    /// Characters of value text, as Route 53 counts them against a batch's limit.
    pub fn value_chars(&self) -> usize {
        self.values.iter().map(String::len).sum()
    }
}

/// Name, type and SetIdentifier: what makes a record set unique in a zone.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct RecordKey {
    /// Fully qualified name with the trailing dot.
    pub name: String,
    /// The record type.
    #[serde(rename = "type")]
    pub record_type: RecordType,
    /// The SetIdentifier, absent for simple routing.
    pub set_identifier: Option<String>,
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.record_type)?;
        if let Some(id) = &self.set_identifier {
            write!(f, " (SetIdentifier {id})")?;
        }
        Ok(())
    }
}

/// One change in a ChangeBatch. There is no UPSERT: a set that changes is deleted with
/// its exact current content and created anew, which fails instead of overwriting when
/// somebody changed the set in between.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "action", content = "record_set", rename_all = "UPPERCASE")]
pub enum Change {
    /// Add a set that must not exist yet.
    Create(RecordSet),
    /// Remove a set that must exist with exactly this content.
    Delete(RecordSet),
}

impl Change {
    /// The record set the change carries.
    pub fn record_set(&self) -> &RecordSet {
        match self {
            Change::Create(set) | Change::Delete(set) => set,
        }
    }

    /// The action's name as Route 53 spells it.
    pub fn action(&self) -> &'static str {
        match self {
            Change::Create(_) => "CREATE",
            Change::Delete(_) => "DELETE",
        }
    }
}

/// The routing policy of a set somebody else wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ForeignPolicy {
    /// No SetIdentifier.
    Simple,
    /// Weighted.
    Weighted,
    /// Multivalue answer.
    Multivalue,
    /// Latency.
    Latency,
    /// Geolocation, failover and the rest: never mixed with ours.
    Other,
}

impl ForeignPolicy {
    /// The policy's name for messages.
    pub fn name(self) -> &'static str {
        match self {
            ForeignPolicy::Simple => "simple",
            ForeignPolicy::Weighted => "weighted",
            ForeignPolicy::Multivalue => "multivalue",
            ForeignPolicy::Latency => "latency",
            ForeignPolicy::Other => "differently routed",
        }
    }

    /// Whether Route 53 lets a set of `ours` share a name and type with this one.
    pub fn mixes_with(self, ours: &Routing) -> bool {
        matches!(
            (self, ours),
            (ForeignPolicy::Weighted, Routing::Weighted { .. })
                | (ForeignPolicy::Multivalue, Routing::Multivalue { .. })
                | (ForeignPolicy::Latency, Routing::Latency { .. })
        )
    }
}

/// A record set somebody else wrote. ecs-srv only needs to know where it stands, to
/// avoid colliding with it and to count a name's weighted sets; it never edits one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ForeignRecord {
    /// Fully qualified name as Route 53 returned it.
    pub name: String,
    /// The type's name (foreign records may have any type).
    pub record_type: String,
    /// The SetIdentifier, if the set has one.
    pub set_identifier: Option<String>,
    /// Its routing policy.
    pub policy: ForeignPolicy,
    /// Its TTL; `None` for an alias, which takes its target's.
    pub ttl: Option<u32>,
    /// The region of a latency set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl ForeignRecord {
    /// The record type, when it is one ecs-srv writes.
    pub fn known_type(&self) -> Option<RecordType> {
        match self.record_type.as_str() {
            "A" => Some(RecordType::A),
            "AAAA" => Some(RecordType::Aaaa),
            "SRV" => Some(RecordType::Srv),
            _ => None,
        }
    }
}
