//! What a zone answers, read from its record sets the way Route 53 evaluates them: the DNS
//! front's answer rules (`dns_front::answer_shares`), the one reading of Route 53's answers
//! that the front, the demo and these tests share, over the strict model's record sets.
//! Written apart from the crate: nothing here asks ecs-srv what its records mean.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use aws_sdk_route53::types::ResourceRecordSet;
use dns_front::{LeafShare, RecordSetEntry, RecordSets};
use hickory_proto::rr::{LowerName, Name, RData, RecordType};

use super::strict_zone::normalise_name;

/// Record sets by name and type, as the answer rules read them, kept in step with the
/// zone one set at a time. Aliases out of the zone (an ALB, a VPC endpoint) are left out:
/// nothing here can answer for them, and no ecs-srv name points at one.
#[derive(Debug, Default)]
pub struct AnswerIndex {
    zone_id: String,
    sets: HashMap<(LowerName, RecordType), BTreeMap<Option<String>, RecordSetEntry>>,
}

impl AnswerIndex {
    /// An empty index for zone `zone_id` (aliases into it are followed).
    pub fn new(zone_id: &str) -> Self {
        AnswerIndex {
            zone_id: zone_id.trim_start_matches("/hostedzone/").to_owned(),
            sets: HashMap::new(),
        }
    }

    /// The index of `sets`.
    pub fn of(zone_id: &str, sets: &[ResourceRecordSet]) -> Self {
        let mut index = AnswerIndex::new(zone_id);
        for set in sets {
            index.insert(set);
        }
        index
    }

    fn key(set: &ResourceRecordSet) -> Option<(LowerName, RecordType)> {
        let name = Name::from_ascii(normalise_name(set.name())).ok()?;
        let kind = RecordType::from_str(set.r#type().as_str()).ok()?;
        Some((LowerName::new(&name), kind))
    }

    /// Adds or replaces `set`.
    pub fn insert(&mut self, set: &ResourceRecordSet) {
        let mut problems = Vec::new();
        let (Some(key), Some(entry)) = (
            Self::key(set),
            dns_front::record_set_entry(set, &self.zone_id, &mut problems),
        ) else {
            return;
        };
        self.sets
            .entry(key)
            .or_default()
            .insert(set.set_identifier().map(str::to_owned), entry);
    }

    /// Removes `set`, found by name, type and SetIdentifier.
    pub fn remove(&mut self, set: &ResourceRecordSet) {
        if let Some(group) = Self::key(set).and_then(|key| self.sets.get_mut(&key)) {
            group.remove(&set.set_identifier().map(str::to_owned));
        }
    }

    /// Every value set a query for `name` and `record_type` can be answered with, and the
    /// share of answers it is in (sets never answered left out), asked from no region in
    /// particular (a latency name answers each region's set in turn).
    pub fn shares(&self, name: &str, record_type: &str) -> Vec<LeafShare<'_>> {
        self.shares_from(name, record_type, None)
    }

    /// Like [`Self::shares`], asked from a VPC in `region`: a latency name answers that
    /// region's set, else the closest region's.
    pub fn shares_from(
        &self,
        name: &str,
        record_type: &str,
        region: Option<&str>,
    ) -> Vec<LeafShare<'_>> {
        let parsed = Name::from_ascii(normalise_name(name)).expect("a test name parses");
        let kind = RecordType::from_str(record_type).expect("a known record type");
        dns_front::answer_shares(self, &LowerName::new(&parsed), kind, region)
    }
}

impl RecordSets for AnswerIndex {
    fn sets_at(&self, name: &LowerName, record_type: RecordType) -> Vec<&RecordSetEntry> {
        self.sets
            .get(&(name.clone(), record_type))
            .map(|group| group.values().collect())
            .unwrap_or_default()
    }
}

/// The values of a leaf, as Route 53 writes them in a listing (`1 256 8080 t.web.Z.`).
pub fn leaf_values(leaf: &LeafShare<'_>) -> Vec<String> {
    match &leaf.set.data {
        dns_front::SetData::Values { values, .. } => values.iter().map(RData::to_string).collect(),
        dns_front::SetData::Alias { .. } => Vec::new(),
    }
}

/// Every value a query for `name` and `record_type` in zone `zone_id` can be answered
/// with, with the probability Route 53 draws it: a weighted pick among the name's sets
/// (aliases included), then, for an alias, the same at its target.
pub fn answer_shares(
    zone_id: &str,
    sets: &[ResourceRecordSet],
    name: &str,
    record_type: &str,
) -> BTreeMap<String, f64> {
    let index = AnswerIndex::of(zone_id, sets);
    let mut shares = BTreeMap::new();
    for leaf in index.shares(name, record_type) {
        for value in leaf_values(&leaf) {
            *shares.entry(value).or_default() += leaf.probability;
        }
    }
    shares
}
