//! The zone as Route 53 would answer it: record sets grouped by name and type, answered
//! by the rules in `routing` (one weighted pick, up to eight multivalue sets, the asking
//! region's latency set, every simple value, and aliases followed to the records they
//! stand for), with NXDOMAIN and NODATA as Route 53 gives them.
//!
//! Everything here is pure: the random source is passed in, so tests can seed it and the
//! server can share one behind a lock.

use std::collections::{HashMap, HashSet};

use hickory_proto::rr::{rdata::SOA, LowerName, Name, RData, Record, RecordType};
use rand::Rng;

use crate::routing::{choose_sets, AliasWalk, RecordSets};

/// Route 53 returns at most this many record sets for one multivalue query.
pub const MULTIVALUE_ANSWER_LIMIT: usize = 8;

/// Aliases followed for one answer, at most. Route 53's weighted trees are two or three
/// levels deep; the bound only keeps an alias loop in a test zone from hanging a query.
pub const MAX_ALIAS_DEPTH: usize = 8;

/// How Route 53 chooses among the record sets of one name and type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Routing {
    /// No SetIdentifier: the only record set of its name and type; every value is returned.
    Simple,
    /// One record set per query, drawn with probability weight / total weight.
    Weighted(u8),
    /// Up to eight record sets per query, chosen at random.
    MultiValue,
    /// The set of this region answers queries from it, or from regions closer to it than
    /// to any other region that has a set.
    Latency(String),
    /// Geolocation, failover and the like. A laptop has no location or health to choose
    /// by, so these are answered like weighted sets of equal weight: one per query.
    OtherIdentified,
}

/// One record set as read from the zone, its values already parsed into DNS data.
#[derive(Clone, Debug)]
pub struct RecordSetEntry {
    /// The owner name, fully qualified.
    pub name: Name,
    /// The record type of every value, and of the alias target's records.
    pub record_type: RecordType,
    /// The routing policy that decides whether this set is in an answer.
    pub routing: Routing,
    /// What the set answers with when it is chosen.
    pub data: SetData,
}

/// What a chosen record set puts in the answer.
#[derive(Clone, Debug, PartialEq)]
pub enum SetData {
    /// Its own values, with its own TTL.
    Values {
        /// TTL in seconds, as set on the record set.
        ttl: u32,
        /// The values that parsed; values that did not were dropped with a warning.
        values: Vec<RData>,
    },
    /// A Route 53 alias to another name of this zone. It has no TTL or values of its own:
    /// the target name is answered for the same type, by its own routing, and its records
    /// are returned under the alias's name with the target's TTLs. Trees of weighted
    /// aliases are how Route 53 spreads more than 100 weighted record sets over one name.
    Alias {
        /// The alias target, fully qualified.
        target: Name,
    },
}

/// Everything read from the zone at one moment.
#[derive(Clone, Debug)]
pub struct ZoneSnapshot {
    /// The zone apex, fully qualified (for example `svc.internal.`).
    pub apex: Name,
    /// Every record set that could be served.
    pub record_sets: Vec<RecordSetEntry>,
}

/// What a query gets from the zone.
#[derive(Debug, PartialEq)]
pub enum ZoneAnswer {
    /// The name exists and has records of the type: these go in the answer section.
    Records(Vec<Record>),
    /// The name exists (perhaps only as a parent of other names) but has no record of the
    /// type. The SOA goes in the authority section so resolvers can cache the negative.
    NoData(Record),
    /// The name does not exist in the zone.
    NameError(Record),
    /// The name is outside this zone: this server is not an authority for it.
    NotInZone,
}

/// A snapshot indexed for lookups. Built once per zone read, then shared by every query
/// until the next read.
#[derive(Debug)]
pub struct IndexedZone {
    apex: LowerName,
    record_sets: HashMap<(LowerName, RecordType), Vec<RecordSetEntry>>,
    /// Every owner name and every name between an owner and the apex: a name in between
    /// (an "empty non-terminal" such as `_tcp.web.zone.`) exists, so it is NODATA and not
    /// NXDOMAIN.
    existing_names: HashSet<LowerName>,
    negative_soa: Record,
}

impl IndexedZone {
    /// Indexes a snapshot. The SOA for negative answers comes from the zone's own SOA
    /// record set when it has one, with Route 53's negative TTL: the smaller of the record
    /// set TTL and the SOA minimum.
    pub fn new(snapshot: ZoneSnapshot) -> Self {
        let apex = LowerName::new(&snapshot.apex);
        let mut record_sets: HashMap<(LowerName, RecordType), Vec<RecordSetEntry>> = HashMap::new();
        let mut existing_names = HashSet::new();
        existing_names.insert(apex.clone());
        for entry in snapshot.record_sets {
            let owner = LowerName::new(&entry.name);
            if !apex.zone_of(&owner) {
                tracing::warn!(name = %entry.name, apex = %snapshot.apex, "record set outside the zone, ignored");
                continue;
            }
            let mut ancestor = owner.clone();
            while ancestor.num_labels() > apex.num_labels()
                && existing_names.insert(ancestor.clone())
            {
                ancestor = ancestor.base_name();
            }
            record_sets
                .entry((owner, entry.record_type))
                .or_default()
                .push(entry);
        }
        let negative_soa = negative_soa(
            &snapshot.apex,
            record_sets.get(&(apex.clone(), RecordType::SOA)),
        );
        Self {
            apex,
            record_sets,
            existing_names,
            negative_soa,
        }
    }

    /// Answers one question from a VPC in `asking_region` (when known) with Route 53's
    /// rules, drawing from `rng` where the rules are random.
    pub fn answer(
        &self,
        name: &LowerName,
        record_type: RecordType,
        asking_region: Option<&str>,
        rng: &mut impl Rng,
    ) -> ZoneAnswer {
        if !self.apex.zone_of(name) {
            return ZoneAnswer::NotInZone;
        }
        if !self.existing_names.contains(name) {
            return ZoneAnswer::NameError(self.negative_soa.clone());
        }
        let sets = self.sets_at(name, record_type);
        let records = match sets.first() {
            Some(first) => {
                let owner = first.name.clone();
                self.expand(&owner, &sets, asking_region, rng, &mut AliasWalk::new())
            }
            None => Vec::new(),
        };
        if records.is_empty() {
            ZoneAnswer::NoData(self.negative_soa.clone())
        } else {
            ZoneAnswer::Records(records)
        }
    }

    /// The records of the sets that Route 53's rules choose from `sets`, all under `owner`
    /// (the queried name). A chosen alias is replaced by what its target answers for the
    /// same type, so an alias whose target has no such set adds nothing, and a pick that
    /// adds nothing is NODATA, as in Route 53.
    fn expand(
        &self,
        owner: &Name,
        sets: &[&RecordSetEntry],
        asking_region: Option<&str>,
        rng: &mut impl Rng,
        walk: &mut AliasWalk,
    ) -> Vec<Record> {
        let mut records = Vec::new();
        for set in choose_sets(sets, asking_region, rng) {
            match &set.data {
                SetData::Values { ttl, values } => records.extend(
                    values
                        .iter()
                        .map(|value| Record::from_rdata(owner.clone(), *ttl, value.clone())),
                ),
                SetData::Alias { target } if !walk.may_follow() => {
                    tracing::warn!(
                        %owner, alias = %set.name, %target, record_type = %set.record_type,
                        "alias not followed: too deep or too many in one answer (an alias loop?)"
                    );
                }
                SetData::Alias { target } => {
                    let target_sets = self.sets_at(&LowerName::new(target), set.record_type);
                    walk.enter();
                    records.extend(self.expand(owner, &target_sets, asking_region, rng, walk));
                    walk.leave();
                }
            }
        }
        records
    }
}

impl RecordSets for IndexedZone {
    fn sets_at(&self, name: &LowerName, record_type: RecordType) -> Vec<&RecordSetEntry> {
        self.record_sets
            .get(&(name.clone(), record_type))
            .map(|sets| sets.iter().collect())
            .unwrap_or_default()
    }
}

/// The SOA record for the authority section of negative answers. A zone read from Route 53
/// always has one; a hand-built snapshot may not, so a plausible one is made up then.
fn negative_soa(apex: &Name, soa_sets: Option<&Vec<RecordSetEntry>>) -> Record {
    let found = soa_sets
        .into_iter()
        .flatten()
        .find_map(|set| match &set.data {
            SetData::Values { ttl, values } => values.iter().find_map(|value| match value {
                RData::SOA(soa) => Some((*ttl, soa.clone())),
                _ => None,
            }),
            SetData::Alias { .. } => None,
        });
    let (ttl, soa) = found.unwrap_or_else(|| {
        let admin = Name::from_ascii("hostmaster")
            .ok()
            .and_then(|label| label.append_domain(apex).ok());
        (
            900,
            SOA::new(
                apex.clone(),
                admin.unwrap_or_else(|| apex.clone()),
                1,
                7200,
                900,
                1_209_600,
                86_400,
            ),
        )
    });
    let negative_ttl = ttl.min(soa.minimum);
    Record::from_rdata(apex.clone(), negative_ttl, RData::SOA(soa))
}

#[cfg(test)]
#[path = "zone_tests.rs"]
mod tests;
