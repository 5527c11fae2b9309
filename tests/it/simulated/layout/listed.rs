//! A zone's listing read back in the documented form, without asking the crate what is
//! whose: the foreign sets are the ones a test seeded, each found exactly as seeded (a
//! foreign TTL rewritten by a weighted group, a foreign set deleted or changed, is a
//! failure here); every other set must be one the documentation describes, with a mark
//! that checks out for its own name, and every tree and shard is checked and folded.

use aws_sdk_route53::types::ResourceRecordSet;

use super::marks::{mark_hash, ReadMark};
use super::{DocumentedSet, Layout, Routing};
use crate::support::sorted_values;
use crate::support::strict_zone::normalise_name;

/// The zone's sets beside `foreign`, in the documented form, every tree folded.
pub fn read_zone(
    layout: &Layout,
    listed: &[ResourceRecordSet],
    foreign: &[ResourceRecordSet],
) -> Result<Vec<DocumentedSet>, String> {
    let mut rest: Vec<&ResourceRecordSet> = listed.iter().collect();
    for seeded in foreign {
        match rest.iter().position(|set| *set == seeded) {
            Some(index) => {
                rest.remove(index);
            }
            None => {
                let now = listed.iter().find(|set| {
                    set.name() == seeded.name()
                        && set.r#type() == seeded.r#type()
                        && set.set_identifier() == seeded.set_identifier()
                });
                return Err(format!(
                    "the foreign set {} {} was changed or removed: seeded {seeded:?}, now {now:?}",
                    seeded.name(),
                    seeded.r#type().as_str()
                ));
            }
        }
    }
    let sets = rest
        .into_iter()
        .map(|set| documented_form(layout, set))
        .collect::<Result<Vec<_>, _>>()?;
    super::trees::fold(layout, sets)
}

/// One set in the documented form, when it is one the documentation describes: a task's
/// set of this owner whose mark hashes its own name, a whole set or shard, a tree's or a
/// latency alias into this zone.
pub fn documented_form(layout: &Layout, set: &ResourceRecordSet) -> Result<DocumentedSet, String> {
    let name = normalise_name(set.name());
    let record_type = set.r#type().as_str().to_owned();
    let routing = match (set.weight(), set.multi_value_answer(), set.region()) {
        (Some(weight), None, None) => Routing::Weighted(weight),
        (None, Some(true), None) => Routing::Multivalue,
        (None, None, Some(region)) => Routing::Latency(region.as_str().to_owned()),
        (None, None | Some(false), None) if set.set_identifier().is_none() => Routing::Simple,
        _ => return Err(format!("a set of no documented routing: {set:?}")),
    };
    let alias = match set.alias_target() {
        Some(target) => {
            let here = target.hosted_zone_id().trim_start_matches("/hostedzone/") == layout.zone_id;
            if !here || target.evaluate_target_health() {
                return Err(format!(
                    "an alias out of the zone or evaluating health: {set:?}"
                ));
            }
            Some(normalise_name(target.dns_name()))
        }
        None => None,
    };
    let documented = DocumentedSet {
        name,
        record_type,
        routing,
        set_identifier: set.set_identifier().map(str::to_owned),
        ttl: set.ttl(),
        values: sorted_values(set),
        alias,
    };
    check_kind(layout, &documented)?;
    Ok(documented)
}

/// Whether a set is of a documented kind, with a mark of this owner that checks out.
fn check_kind(layout: &Layout, set: &DocumentedSet) -> Result<(), String> {
    let whole_set = set.routing == Routing::Simple
        && set.record_type == "SRV"
        && set.alias.is_none()
        && set.name.contains("._all.");
    if whole_set {
        return Ok(());
    }
    let Some(mark) = set.set_identifier.as_deref().and_then(ReadMark::parse) else {
        return Err(format!(
            "a set neither seeded as foreign nor documented: {set:?}"
        ));
    };
    let ours = mark.owner == layout.writer.owner;
    let kind_fits = match (&set.alias, &set.routing, mark.kind.as_str()) {
        (None, Routing::Weighted(_) | Routing::Multivalue, _) => mark.is_task(),
        (Some(_), Routing::Weighted(_), "tree") => true,
        (Some(_), Routing::Latency(_), "lat") => true,
        _ => false,
    };
    // A member in a branch hashes its branch's name, which is its own name too.
    let hashed = mark.hash == mark_hash(&set.name, &set.record_type);
    if ours && kind_fits && hashed {
        Ok(())
    } else {
        Err(format!(
            "a set whose mark is not a documented mark of {} for its own name: {set:?}",
            layout.writer.owner
        ))
    }
}
