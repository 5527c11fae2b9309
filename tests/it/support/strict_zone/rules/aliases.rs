//! Alias sets: their own shape, their target when it is a name of this zone, and how deep
//! a chain of them may go. An alias to anything outside the zone (an ALB, a VPC endpoint,
//! an S3 website) is taken as it is: the model knows nothing of those targets.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_route53::types::{ResourceRecordSet, RrType};

use super::{
    describe, invalid_batch, normalise_name, policy_of, ListKey, Policy, Rejection, ZoneFacts,
    ZoneSets,
};

/// CloudFront's hosted zone id. [TARGET] "CloudFront distribution: Specify Z2FDTNDATAQYW2."
pub const CLOUDFRONT_ZONE_ID: &str = "Z2FDTNDATAQYW2";

/// Alias hops from a queried name to the names that hold values. [OVER100] "the first
/// 'level' of the tree may be up to 100 weighted alias records, each of which can, in
/// turn, point to up to 100 weighted records. Route 53 permits up to three levels of
/// recursion, allowing you to manage up to 1,000,000 unique weighted endpoints": three
/// levels of 100 make 1,000,000, so two levels of aliases over one of values.
pub const MAX_ALIAS_HOPS: usize = 2;

/// The target name of an alias into this zone, lower case with its dot; `None` for an
/// alias to anything else (or for a set that is no alias). moto keeps HostedZoneId as
/// written, so both spellings of the id count.
pub fn same_zone_target(zone_id: &str, set: &ResourceRecordSet) -> Option<String> {
    let alias = set.alias_target()?;
    let target_zone = alias.hosted_zone_id().trim_start_matches("/hostedzone/");
    target_zone
        .eq_ignore_ascii_case(zone_id)
        .then(|| normalise_name(alias.dns_name()))
}

/// One alias on its own. [RRSET] "MultiValueAnswer": "You can't create multivalue answer
/// alias records"; "AliasTarget": "You can't create an alias resource record set in a
/// private hosted zone to route traffic to a CloudFront distribution" (the model's zone is
/// private); [TARGET] "Another Route 53 resource record set in your hosted zone: Specify
/// the hosted zone ID of your hosted zone" and "the value of the Name element for a
/// resource record set in the current hosted zone"; [RRSET] "Type": for "Another resource
/// record set in this hosted zone … All values are supported except NS and SOA".
pub fn check_alias_shape(zone: &ZoneFacts, set: &ResourceRecordSet) -> Result<(), Rejection> {
    let Some(alias) = set.alias_target() else {
        return Ok(());
    };
    if policy_of(set) == Policy::Multivalue {
        return Err(invalid_batch(format!(
            "{} is a multivalue answer alias; Route 53 does not create multivalue answer alias records",
            describe(set)
        )));
    }
    if alias
        .hosted_zone_id()
        .eq_ignore_ascii_case(CLOUDFRONT_ZONE_ID)
    {
        return Err(invalid_batch(format!(
            "{} aliases a CloudFront distribution, which a private hosted zone cannot route traffic to",
            describe(set)
        )));
    }
    let Some(target) = same_zone_target(&zone.zone_id, set) else {
        return Ok(());
    };
    let apex = &zone.apex;
    if target != *apex && !target.ends_with(&format!(".{apex}")) {
        return Err(invalid_batch(format!(
            "Tried to create an alias that targets {target}, type {} in zone {}, but the alias target name does not lie within the target zone",
            set.r#type().as_str(),
            zone.zone_id
        )));
    }
    if matches!(set.r#type(), RrType::Ns | RrType::Soa) {
        return Err(invalid_batch(format!(
            "{} is an alias of type {} to a record of this zone, which Route 53 does not support",
            describe(set),
            set.r#type().as_str()
        )));
    }
    Ok(())
}

/// [TARGET] and [ALIAS] "The alias record must have the same type as the record you're
/// routing traffic to": an alias into this zone that the batch created aims at a name that
/// holds sets of its type once the batch applied (Route 53: "Tried to create an alias that
/// targets …, but that target was not found").
pub fn check_targets(
    zone: &ZoneFacts,
    after: &ZoneSets,
    touched: &BTreeSet<ListKey>,
) -> Result<(), Rejection> {
    let held = held_groups(after);
    for (key, set) in after {
        let group = ListKey::new(set.name(), &key.record_type, None);
        if !touched.contains(&group) {
            continue;
        }
        let Some(target) = same_zone_target(&zone.zone_id, set) else {
            continue;
        };
        if !held.contains(&(target.clone(), key.record_type.clone())) {
            return Err(invalid_batch(format!(
                "Tried to create an alias that targets {target}, type {} in zone {}, but that target was not found ({} aims at it)",
                key.record_type,
                zone.zone_id,
                describe(set)
            )));
        }
    }
    Ok(())
}

fn held_groups(sets: &ZoneSets) -> BTreeSet<(String, String)> {
    sets.values()
        .map(|set| (set.name().to_owned(), set.r#type().as_str().to_owned()))
        .collect()
}

/// Aliases into this zone whose target holds no set of their type: Route 53 answers them
/// empty. Whether a batch may leave one behind is not stated on any page, so this is not a
/// refusal; the caller reports it as ecs-srv's own promise (a tree never has a branch
/// without members).
pub fn dangling_aliases(zone_id: &str, sets: &ZoneSets) -> Vec<String> {
    let held = held_groups(sets);
    sets.values()
        .filter_map(|set| {
            let target = same_zone_target(zone_id, set)?;
            let kind = set.r#type().as_str().to_owned();
            (!held.contains(&(target.clone(), kind))).then(|| {
                format!(
                    "{} aims at {target}, which holds no set of its type",
                    describe(set)
                )
            })
        })
        .collect()
}

/// [OVER100] "Route 53 permits up to three levels of recursion": no chain of aliases into
/// this zone is longer than [`MAX_ALIAS_HOPS`], and so none loops.
pub fn check_depth(zone: &ZoneFacts, sets: &ZoneSets) -> Result<(), Rejection> {
    let mut targets: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for set in sets.values() {
        if let Some(target) = same_zone_target(&zone.zone_id, set) {
            targets
                .entry((set.name().to_owned(), set.r#type().as_str().to_owned()))
                .or_default()
                .insert(target);
        }
    }
    let mut hops: BTreeMap<(String, String), usize> = BTreeMap::new();
    for start in targets.keys() {
        let mut path = Vec::new();
        let depth = hops_from(start, &targets, &mut hops, &mut path);
        if depth > MAX_ALIAS_HOPS {
            return Err(invalid_batch(format!(
                "The aliases from {} type {} chain {} deep ({}); Route 53 permits up to three levels of recursion",
                start.0,
                start.1,
                if depth == usize::MAX { "without end".to_owned() } else { format!("{depth} aliases") },
                path.join(" -> ")
            )));
        }
    }
    Ok(())
}

/// The longest chain of alias hops from `group`; `usize::MAX` for a loop. `path` is the
/// chain being followed, for the message.
fn hops_from(
    group: &(String, String),
    targets: &BTreeMap<(String, String), BTreeSet<String>>,
    memo: &mut BTreeMap<(String, String), usize>,
    path: &mut Vec<String>,
) -> usize {
    if let Some(known) = memo.get(group) {
        return *known;
    }
    let Some(next) = targets.get(group) else {
        return 0;
    };
    if path.contains(&group.0) {
        path.push(group.0.clone());
        return usize::MAX;
    }
    path.push(group.0.clone());
    let mut deepest = 0;
    for target in next {
        let below = hops_from(&(target.clone(), group.1.clone()), targets, memo, path);
        deepest = deepest.max(below.saturating_add(1));
        if deepest > MAX_ALIAS_HOPS {
            return deepest;
        }
    }
    path.pop();
    memo.insert(group.clone(), deepest);
    deepest
}
