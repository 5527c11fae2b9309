//! Route 53's answer rules, in the two forms the tests need: a random answer to one query
//! (what the server sends), and the exact share of answers each record set is in (what
//! tests compare a zone against). Both follow aliases into the zone the same way, so the
//! server and every test that reasons about answers share one reading of the rules.
//!
//! Per name and type: a simple set answers every value; weighted sets answer one set drawn
//! by weight (all equally when every weight is zero); multivalue sets answer up to eight
//! sets at random; latency sets answer the asking region's set, else the closest region's
//! (`latency`), or, when the asking region is not known, one set at random; other routed
//! sets (failover, geolocation…) answer one at random. An alias stands for what its target
//! name answers for the same type, by the target's own rules.

use hickory_proto::rr::{LowerName, RecordType};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;

use crate::latency;
use crate::zone::{RecordSetEntry, Routing, SetData, MAX_ALIAS_DEPTH, MULTIVALUE_ANSWER_LIMIT};

/// Aliases followed for one answer in all. Depth alone does not bound the work: moto
/// accepts multivalue aliases, which Route 53 refuses, and eight of them looping back would
/// be followed eight to the eighth times.
pub(crate) const MAX_ALIAS_FOLLOWS: usize = 64;

/// The record sets of a zone by name and type: what the rules read.
pub trait RecordSets {
    /// The sets of one name and type, in the zone's order; empty when there are none.
    fn sets_at(&self, name: &LowerName, record_type: RecordType) -> Vec<&RecordSetEntry>;
}

/// A set whose values can be in an answer, and the share of answers they are in.
#[derive(Clone, Copy, Debug)]
pub struct LeafShare<'z> {
    /// A set of values (never an alias).
    pub set: &'z RecordSetEntry,
    /// The probability that one query's answer holds this set's values, through every
    /// alias that leads to it.
    pub probability: f64,
}

/// Where an answer is in following aliases: how deep, and how many follows it may still make.
pub(crate) struct AliasWalk {
    depth: usize,
    follows_left: usize,
}

impl AliasWalk {
    pub(crate) fn new() -> Self {
        AliasWalk {
            depth: 0,
            follows_left: MAX_ALIAS_FOLLOWS,
        }
    }

    /// Whether one more alias may be followed.
    pub(crate) fn may_follow(&self) -> bool {
        self.depth < MAX_ALIAS_DEPTH && self.follows_left > 0
    }

    /// Follows one alias.
    pub(crate) fn enter(&mut self) {
        self.follows_left -= 1;
        self.depth += 1;
    }

    /// Comes back from it.
    pub(crate) fn leave(&mut self) {
        self.depth -= 1;
    }
}

/// Every value set a query for `name` and `record_type` from `asking_region` can be
/// answered with, with the share of answers it is in. Sets that are never answered (weight
/// zero beside weights above zero, another region's latency set) are left out.
pub fn answer_shares<'z, Z: RecordSets>(
    zone: &'z Z,
    name: &LowerName,
    record_type: RecordType,
    asking_region: Option<&str>,
) -> Vec<LeafShare<'z>> {
    let mut leaves = Vec::new();
    let sets = zone.sets_at(name, record_type);
    collect_shares(
        zone,
        &sets,
        asking_region,
        1.0,
        &mut AliasWalk::new(),
        &mut leaves,
    );
    leaves
}

fn collect_shares<'z, Z: RecordSets>(
    zone: &'z Z,
    sets: &[&'z RecordSetEntry],
    asking_region: Option<&str>,
    share: f64,
    walk: &mut AliasWalk,
    leaves: &mut Vec<LeafShare<'z>>,
) {
    for (set, part) in set_shares(sets, asking_region) {
        let probability = share * part;
        match &set.data {
            SetData::Values { .. } => leaves.push(LeafShare { set, probability }),
            SetData::Alias { target } if walk.may_follow() => {
                let target_sets = zone.sets_at(&LowerName::new(target), set.record_type);
                walk.enter();
                collect_shares(zone, &target_sets, asking_region, probability, walk, leaves);
                walk.leave();
            }
            SetData::Alias { .. } => {}
        }
    }
}

/// The share of answers each set of one name and type is in, by Route 53's rules; sets
/// never answered are left out. Route 53 refuses to mix policies at a name and type, moto
/// does not: mixed sets answer the union of each policy's choice, so the mistake shows.
fn set_shares<'a>(
    sets: &[&'a RecordSetEntry],
    asking_region: Option<&str>,
) -> Vec<(&'a RecordSetEntry, f64)> {
    let mut shares: Vec<(&RecordSetEntry, f64)> = Vec::new();
    let of = |wanted: fn(&Routing) -> bool| -> Vec<&'a RecordSetEntry> {
        sets.iter()
            .copied()
            .filter(|s| wanted(&s.routing))
            .collect()
    };
    shares.extend(of(|r| *r == Routing::Simple).into_iter().map(|s| (s, 1.0)));
    let one_of = of(|r| matches!(r, Routing::Weighted(_) | Routing::OtherIdentified));
    let total: u64 = one_of.iter().map(|s| weight_of(s)).sum();
    for set in &one_of {
        let part = if total == 0 {
            1.0 / one_of.len() as f64
        } else {
            weight_of(set) as f64 / total as f64
        };
        shares.push((set, part));
    }
    let multivalue = of(|r| *r == Routing::MultiValue);
    let drawn = multivalue.len().min(MULTIVALUE_ANSWER_LIMIT);
    shares.extend(
        multivalue
            .iter()
            .map(|s| (*s, drawn as f64 / multivalue.len() as f64)),
    );
    let by_region = of(|r| matches!(r, Routing::Latency(_)));
    match asking_region {
        Some(asking) => shares.extend(latency_pick(&by_region, asking).map(|s| (s, 1.0))),
        None => shares.extend(by_region.iter().map(|s| (*s, 1.0 / by_region.len() as f64))),
    }
    shares.retain(|(_, part)| *part > 0.0);
    shares
}

/// One query's choice among the sets of one name and type, drawn from `rng` where the
/// rules are random: the same rules as [`set_shares`], one draw of them.
pub(crate) fn choose_sets<'a>(
    sets: &[&'a RecordSetEntry],
    asking_region: Option<&str>,
    rng: &mut impl Rng,
) -> Vec<&'a RecordSetEntry> {
    let of = |wanted: fn(&Routing) -> bool| -> Vec<&'a RecordSetEntry> {
        sets.iter()
            .copied()
            .filter(|s| wanted(&s.routing))
            .collect()
    };
    let mut chosen = of(|r| *r == Routing::Simple);
    let one_of = of(|r| matches!(r, Routing::Weighted(_) | Routing::OtherIdentified));
    chosen.extend(pick_weighted(&one_of, rng));
    let mut sample: Vec<&RecordSetEntry> = of(|r| *r == Routing::MultiValue)
        .choose_multiple(rng, MULTIVALUE_ANSWER_LIMIT)
        .copied()
        .collect();
    sample.shuffle(rng);
    chosen.extend(sample);
    let by_region = of(|r| matches!(r, Routing::Latency(_)));
    match asking_region {
        Some(asking) => chosen.extend(latency_pick(&by_region, asking)),
        None => chosen.extend(by_region.choose(rng).copied()),
    }
    chosen
}

/// The latency set of the region closest to `asking`, among those the name has.
fn latency_pick<'a>(sets: &[&'a RecordSetEntry], asking: &str) -> Option<&'a RecordSetEntry> {
    let region_of = |set: &RecordSetEntry| match &set.routing {
        Routing::Latency(region) => Some(region.clone()),
        _ => None,
    };
    let regions: Vec<String> = sets.iter().filter_map(|s| region_of(s)).collect();
    let best = latency::closest(asking, regions.iter().map(String::as_str))?.to_owned();
    sets.iter()
        .copied()
        .find(|s| region_of(s).as_deref() == Some(best.as_str()))
}

fn weight_of(set: &RecordSetEntry) -> u64 {
    match set.routing {
        Routing::Weighted(weight) => u64::from(weight),
        _ => 1,
    }
}

/// Draws one record set with probability weight / total. When every weight is zero Route 53
/// answers as if they were equal, so this picks uniformly then.
fn pick_weighted<'a>(
    sets: &[&'a RecordSetEntry],
    rng: &mut impl Rng,
) -> Option<&'a RecordSetEntry> {
    let total: u64 = sets.iter().map(|set| weight_of(set)).sum();
    if total == 0 {
        return sets.choose(rng).copied();
    }
    let mut ticket = rng.random_range(0..total);
    for set in sets {
        let weight = weight_of(set);
        if ticket < weight {
            return Some(set);
        }
        ticket -= weight;
    }
    None
}

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;
