//! What a zone answers, read from its record sets the way Route 53 evaluates them, written
//! apart from the crate: the values a name can answer with (following weighted aliases
//! into their branches), and the weight every value is drawn with.

use std::collections::BTreeMap;

use aws_sdk_route53::types::ResourceRecordSet;

use super::sorted_values;

/// How deep aliases may chain before the reading gives up (Route 53's trees here are two
/// levels deep).
const MAX_DEPTH: usize = 8;

/// Every value a query for `name` and `record_type` can be answered with, with the
/// probability Route 53 draws it: a weighted pick among the name's sets (aliases
/// included), then, for an alias, the same at its target. Simple and multivalue sets
/// answer every value they hold (multivalue counts each set evenly).
pub fn answer_shares(
    sets: &[ResourceRecordSet],
    name: &str,
    record_type: &str,
) -> BTreeMap<String, f64> {
    let mut shares = BTreeMap::new();
    visit(sets, name, record_type, 1.0, 0, &mut shares);
    shares
}

fn visit(
    sets: &[ResourceRecordSet],
    name: &str,
    record_type: &str,
    share: f64,
    depth: usize,
    shares: &mut BTreeMap<String, f64>,
) {
    assert!(
        depth < MAX_DEPTH,
        "aliases under {name} chain deeper than {MAX_DEPTH}"
    );
    let here: Vec<&ResourceRecordSet> = sets
        .iter()
        .filter(|set| set.name() == name && set.r#type().as_str() == record_type)
        .collect();
    let weight = |set: &&ResourceRecordSet| set.weight().map_or(1.0, |w| w as f64);
    let total: f64 = here.iter().map(weight).sum();
    for set in &here {
        // Weight 0 is drawn only when every set weighs 0.
        let part = if total > 0.0 {
            weight(set) / total
        } else {
            1.0 / here.len() as f64
        };
        match set.alias_target() {
            Some(alias) => visit(
                sets,
                &alias.dns_name().to_ascii_lowercase(),
                record_type,
                share * part,
                depth + 1,
                shares,
            ),
            None => {
                for value in sorted_values(set) {
                    *shares.entry(value).or_default() += share * part;
                }
            }
        }
    }
}
