//! The sets of one name: one routing policy per name and type, at most 100 routed sets of
//! a name and type, one latency set per region, one TTL per weighted group, and a CNAME
//! that shares its name with nothing.

use aws_sdk_route53::types::{ResourceRecordSet, RrType};

use super::{describe, invalid_batch, policy_of, ListKey, Policy, Rejection, ZoneSets};

/// Routed sets per name and type. [QUOTAS] "Geolocation, latency, multivalue answer, and
/// weighted records: 100 records that have the same name and type"; [RRSET] "Weight":
/// "You can create a maximum of 100 weighted resource record sets that have the same
/// values for the Name and Type elements."
pub const MAX_ROUTED_PER_NAME: usize = 100;

/// The sets of one name and type, `key` excepted.
fn others<'a>(
    zone: &'a ZoneSets,
    key: &'a ListKey,
) -> impl Iterator<Item = &'a ResourceRecordSet> + 'a {
    zone.iter()
        .filter(move |(k, _)| k.same_group(key) && *k != key)
        .map(|(_, set)| set)
}

/// All sets of one name and type share one routing policy. [RRSET] "Weight": "You can't
/// create latency, failover, or geolocation resource record sets that have the same values
/// for the Name and Type elements as weighted resource record sets"; "Region": "You can't
/// create non-latency resource record sets that have the same values for the Name and Type
/// elements as latency resource record sets"; [WEIGHTED] "You can't create non-weighted
/// records that have the same values for Record name and Record type as weighted records".
/// Simple routing allows one set a name and type, which its ListKey already ensures.
pub fn check_policy_mix(
    zone: &ZoneSets,
    set: &ResourceRecordSet,
    key: &ListKey,
) -> Result<(), Rejection> {
    let mine = policy_of(set);
    match others(zone, key).find(|other| policy_of(other) != mine) {
        None => Ok(()),
        Some(other) => Err(invalid_batch(format!(
            "RRSet {} cannot be created because a {} set {} exists with the same name and type",
            describe(set),
            policy_word(policy_of(other)),
            describe(other)
        ))),
    }
}

fn policy_word(policy: Policy) -> &'static str {
    match policy {
        Policy::Simple => "non-routed (simple)",
        Policy::Weighted => "weighted",
        Policy::Multivalue => "multivalue",
        Policy::Latency => "latency",
        Policy::Other => "differently routed",
    }
}

/// [TYPES] "If you create a CNAME record for a subdomain, you cannot create any other
/// records for that subdomain", aliases included ([ALIAS]: an alias at a name "as long as
/// www.example.com doesn't already have a CNAME record"). Route 53's refusal reads "RRSet
/// of type A with DNS name www.example.com. is not permitted because a conflicting RRSet of
/// type CNAME with the same DNS name already exists in zone example.com." Weighted or
/// latency CNAME sets of one name are one group and may stand together.
pub fn check_cname_exclusive(
    zone: &ZoneSets,
    set: &ResourceRecordSet,
    key: &ListKey,
) -> Result<(), Rejection> {
    let is_cname = *set.r#type() == RrType::Cname;
    let conflict = zone.iter().find(|(k, _)| {
        k.reversed_name == key.reversed_name
            && k.record_type != key.record_type
            && (is_cname || k.record_type == RrType::Cname.as_str())
    });
    match conflict {
        None => Ok(()),
        Some((_, held)) => Err(invalid_batch(format!(
            "RRSet of type {} with DNS name {} is not permitted because a conflicting RRSet of type {} with the same DNS name already exists in the zone",
            set.r#type().as_str(),
            set.name(),
            held.r#type().as_str()
        ))),
    }
}

/// [WEIGHTED] "If you create two or more weighted records that have the same name and
/// type, and you specify different values for TTL, Route 53 changes the value of TTL for
/// all of the records to the last value that you specified", foreign sets included.
pub fn share_weighted_ttl(zone: &mut ZoneSets, written: &ResourceRecordSet) {
    // An alias has no TTL: it answers with its target's.
    if written.weight().is_none() || written.alias_target().is_some() {
        return;
    }
    for held in zone.values_mut() {
        let same_group = held.name() == written.name()
            && held.r#type() == written.r#type()
            && held.alias_target().is_none()
            && held.weight().is_some();
        if same_group && held.ttl() != written.ttl() {
            held.ttl = written.ttl();
        }
    }
}

/// What a whole batch leaves at one name and type (`group` has no SetIdentifier), counted
/// once every change applied, so that a swap at a limit goes through: at most 100 routed
/// sets ([QUOTAS]), and one latency set per region. [LATENCY] "You can only create one
/// latency record for each Amazon EC2 Region"; [RRSET] "Region": "You can only create one
/// latency resource record set for each Amazon EC2 Region."
pub fn check_group(zone: &ZoneSets, group: &ListKey) -> Result<(), Rejection> {
    let sets: Vec<&ResourceRecordSet> = zone
        .iter()
        .filter(|(k, _)| k.same_group(group))
        .map(|(_, set)| set)
        .collect();
    let Some(first) = sets.first() else {
        return Ok(());
    };
    let policy = policy_of(first);
    if policy != Policy::Simple && sets.len() > MAX_ROUTED_PER_NAME {
        return Err(invalid_batch(format!(
            "RRSet with DNS name {}, type {} would have {} {} record sets; the limit is {MAX_ROUTED_PER_NAME} per name and type",
            first.name(),
            first.r#type().as_str(),
            sets.len(),
            policy_word(policy)
        )));
    }
    let mut regions: Vec<&str> = sets
        .iter()
        .filter_map(|s| s.region())
        .map(|r| r.as_str())
        .collect();
    regions.sort_unstable();
    if let Some(pair) = regions.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(invalid_batch(format!(
            "RRSet with DNS name {}, type {} would have two latency record sets for region {}; Route 53 allows one per region",
            first.name(),
            first.r#type().as_str(),
            pair[0]
        )));
    }
    Ok(())
}
