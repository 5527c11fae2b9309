//! ecs-srv's own layout promises, stricter than Route 53: checked on every batch the SDK
//! sends, reported beside Route 53's refusals and never as one of them. The batch still
//! applies, as Route 53 would apply it; a test that drives ecs-srv asserts there are none.

use aws_sdk_route53::types::{Change, ChangeAction};

use super::rules::{dangling_aliases, ZoneSets};

/// ecs-srv writes one value per weighted set, so that a weighted pick is a pick of one
/// task. Route 53 itself allows more: [WEIGHTED] "Value/Route traffic to": "For all types
/// except CNAME, you can enter more than one value", and [RECORD] "You can specify more
/// than one value for all record types except CNAME and SOA". (The API reference's note
/// on `Weight`, "You can only specify one ResourceRecord per weighted resource record
/// set", says otherwise; the developer guide page on weighted values and ResourceRecord
/// agree with each other, so the model follows them and keeps this check as ecs-srv's.)
pub const ONE_VALUE_PER_WEIGHTED_SET: &str = "ecs-srv's own choice: one value per weighted set";

/// ecs-srv never leaves an alias of a tree aimed at a name with nothing of its type: no
/// Route 53 page says whether a batch may, and Route 53 would answer such an alias empty.
pub const NO_ALIAS_WITHOUT_TARGET: &str =
    "ecs-srv's own choice: no alias left aimed at a name without sets of its type";

/// One broken promise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnChoiceBreach {
    /// Which promise, one of the constants above.
    pub choice: &'static str,
    /// The set or alias that broke it.
    pub detail: String,
}

/// What an accepted batch broke of ecs-srv's promises, given the zone after it.
pub fn breaches(zone_id: &str, changes: &[Change], after: &ZoneSets) -> Vec<OwnChoiceBreach> {
    let mut found: Vec<OwnChoiceBreach> = changes
        .iter()
        .filter(|c| *c.action() != ChangeAction::Delete)
        .filter_map(|c| c.resource_record_set())
        .filter(|set| set.weight().is_some() && set.resource_records().len() > 1)
        .map(|set| OwnChoiceBreach {
            choice: ONE_VALUE_PER_WEIGHTED_SET,
            detail: format!(
                "{} {} set-identifier {:?} holds {} values",
                set.name(),
                set.r#type().as_str(),
                set.set_identifier().unwrap_or_default(),
                set.resource_records().len()
            ),
        })
        .collect();
    found.extend(
        dangling_aliases(zone_id, after)
            .into_iter()
            .map(|detail| OwnChoiceBreach {
                choice: NO_ALIAS_WITHOUT_TARGET,
                detail,
            }),
    );
    found
}
