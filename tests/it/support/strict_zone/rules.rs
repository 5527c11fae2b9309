//! The checks real Route 53 makes on a ChangeBatch, as a pure function from the zone and a
//! batch to the zone after the batch, or the refusal.
//!
//! Every check names the page it comes from, quoted briefly where it is made:
//! - [API] <https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html>
//! - [BATCH] <https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeBatch.html>
//! - [RRSET] <https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html>
//! - [RECORD] <https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecord.html>
//! - [TARGET] <https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html>
//! - [QUOTAS] <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html>
//! - [NAMES] <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html>
//! - [TYPES] <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/ResourceRecordTypes.html>
//! - [WEIGHTED] <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-values-weighted.html>
//! - [LATENCY] <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-values-latency.html>
//! - [MULTI] <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-values-multivalue.html>
//! - [ALIAS] <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-choosing-alias-non-alias.html>
//! - [OVER100] <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/TutorialManagingOver100WRR.html>
//!
//! One set on its own is checked in `shape` (and its values in `values`), the sets of one
//! name in `groups`, aliases in `aliases`. Messages copy the shape of Route 53's own
//! (`Tried to delete resource record set [name='…', type='…'] but it was not found`), so
//! that tests read like production logs and the crate's reading of them is exercised.

mod aliases;
mod groups;
mod shape;
mod values;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_route53::types::{Change, ChangeAction, ResourceRecordSet};

pub use aliases::dangling_aliases;

/// ResourceRecord elements per batch, UPSERT counted twice. [QUOTAS] "A request cannot
/// contain more than 1,000 ResourceRecord elements".
pub const MAX_VALUES: usize = 1_000;
/// Characters of all Value elements per batch, UPSERT counted twice. [QUOTAS] "cannot
/// exceed 32,000 characters".
pub const MAX_VALUE_CHARS: usize = 32_000;
/// Record sets per zone by default. [QUOTAS] "Records: 10,000 per hosted zone" (a quota
/// that can be raised, so each model may set its own).
pub const DEFAULT_MAX_RECORD_SETS: usize = 10_000;

/// What the checks know of the zone a batch is sent to.
#[derive(Clone, Debug)]
pub struct ZoneFacts {
    /// The zone id, without `/hostedzone/`.
    pub zone_id: String,
    /// The apex, lower case with the trailing dot.
    pub apex: String,
    /// The zone's record set quota, the SOA and NS sets it was created with included.
    pub max_record_sets: usize,
}

/// The record sets the zone holds in Route 53's count: its own SOA and NS sets, which
/// Route 53 creates with every zone, count even when a test has not seeded them.
pub fn counted_sets(zone: &ZoneFacts, sets: &ZoneSets) -> usize {
    let unseeded = ["SOA", "NS"]
        .into_iter()
        .filter(|kind| !sets.contains_key(&ListKey::new(&zone.apex, kind, None)))
        .count();
    sets.len() + unseeded
}

/// The position of a set in Route 53's listing order, which is also its identity.
/// [LIST] <https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html>:
/// "sorts results first by DNS name with the labels reversed, for example: com.example.www.
/// Note the trailing dot, which can change the sort order when the record name contains
/// characters that appear before . (decimal 46) in the ASCII table… then by type": the
/// reversed name is compared as text, so `web-x.Z` sorts before `web.Z`. Sets with one
/// name and type are told apart (and paged) by SetIdentifier.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListKey {
    /// `www.example.com.` becomes `com.example.www.`.
    pub reversed_name: String,
    /// The type as Route 53 spells it.
    pub record_type: String,
    /// `None` for simple routing, which sorts first.
    pub set_identifier: Option<String>,
}

impl ListKey {
    /// The key of a set whose name is already normalised.
    pub fn of(set: &ResourceRecordSet) -> Self {
        Self::new(set.name(), set.r#type().as_str(), set.set_identifier())
    }

    /// A key from its parts; also a listing's start position.
    pub fn new(name: &str, record_type: &str, set_identifier: Option<&str>) -> Self {
        let name = normalise_name(name);
        ListKey {
            reversed_name: format!(
                "{}.",
                name.trim_end_matches('.')
                    .split('.')
                    .rev()
                    .collect::<Vec<_>>()
                    .join(".")
            ),
            record_type: record_type.to_owned(),
            set_identifier: set_identifier.map(str::to_owned),
        }
    }

    /// Whether `other` is of the same name and type.
    fn same_group(&self, other: &ListKey) -> bool {
        self.reversed_name == other.reversed_name && self.record_type == other.record_type
    }
}

/// Route 53 keeps names in lower case with the trailing dot. [RRSET] "Name": "Route 53
/// treats www.example.com (without a trailing dot) and www.example.com. (with a trailing
/// dot) as identical"; [NAMES] "stores alphabetic characters as lowercase letters".
pub fn normalise_name(name: &str) -> String {
    let mut name = name.to_ascii_lowercase();
    if !name.ends_with('.') {
        name.push('.');
    }
    name
}

/// The zone's record sets in listing order.
pub type ZoneSets = BTreeMap<ListKey, ResourceRecordSet>;

/// Why Route 53 refused a request: its error code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// `InvalidChangeBatch`, `InvalidInput` or `NoSuchHostedZone`.
    pub code: &'static str,
    /// Route 53-like wording.
    pub message: String,
}

fn invalid_batch(message: String) -> Rejection {
    Rejection {
        code: "InvalidChangeBatch",
        message,
    }
}

fn invalid_input(message: String) -> Rejection {
    Rejection {
        code: "InvalidInput",
        message,
    }
}

/// The routing policy of a set, from the one routing field it carries. [RRSET]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// No SetIdentifier.
    Simple,
    /// `Weight`.
    Weighted,
    /// `MultiValueAnswer` true.
    Multivalue,
    /// `Region`.
    Latency,
    /// Failover, geolocation, geoproximity and CIDR routing: never written by ecs-srv.
    Other,
}

/// The routing fields a set carries, by their API names.
fn routing_fields(set: &ResourceRecordSet) -> Vec<&'static str> {
    [
        ("Weight", set.weight().is_some()),
        ("Region", set.region().is_some()),
        ("Failover", set.failover().is_some()),
        ("GeoLocation", set.geo_location().is_some()),
        ("MultiValueAnswer", set.multi_value_answer() == Some(true)),
        (
            "GeoProximityLocation",
            set.geo_proximity_location().is_some(),
        ),
        ("CidrRoutingConfig", set.cidr_routing_config().is_some()),
    ]
    .into_iter()
    .filter_map(|(field, present)| present.then_some(field))
    .collect()
}

/// The policy of a set that passed `shape` (so it has at most one routing field).
pub fn policy_of(set: &ResourceRecordSet) -> Policy {
    match routing_fields(set).first().copied() {
        None => Policy::Simple,
        Some("Weight") => Policy::Weighted,
        Some("Region") => Policy::Latency,
        Some("MultiValueAnswer") => Policy::Multivalue,
        Some(_) => Policy::Other,
    }
}

fn describe(set: &ResourceRecordSet) -> String {
    match set.set_identifier() {
        Some(id) => format!(
            "[name='{}', type='{}', set-identifier='{id}']",
            set.name(),
            set.r#type().as_str()
        ),
        None => format!("[name='{}', type='{}']", set.name(), set.r#type().as_str()),
    }
}

/// Two sets are the same for a DELETE when everything but the order of values matches.
/// [API] "To delete a resource record set, you must specify all the same values that you
/// specified when you created it."
fn same_content(a: &ResourceRecordSet, b: &ResourceRecordSet) -> bool {
    let values = |s: &ResourceRecordSet| {
        let mut v: Vec<String> = s
            .resource_records()
            .iter()
            .map(|r| r.value().to_owned())
            .collect();
        v.sort();
        v
    };
    let mut a_plain = a.clone();
    let mut b_plain = b.clone();
    a_plain.resource_records = None;
    b_plain.resource_records = None;
    a_plain == b_plain && values(a) == values(b)
}

/// Applies `changes` to a copy of `sets`, in order, and returns the copy; the original is
/// untouched whatever happens. [API] "Change batches are considered transactional
/// changes… Route 53 either makes all or none of the changes in a change batch request."
pub fn apply_batch(
    zone: &ZoneFacts,
    sets: &ZoneSets,
    changes: &[Change],
) -> Result<ZoneSets, Rejection> {
    check_batch_limits(changes)?;
    let mut after = sets.clone();
    let mut seen: BTreeSet<(ListKey, &'static str)> = BTreeSet::new();
    let mut touched: BTreeSet<ListKey> = BTreeSet::new();
    for change in changes {
        let Some(requested) = change.resource_record_set() else {
            return Err(invalid_input(
                "Invalid request: a Change has no ResourceRecordSet".to_owned(),
            ));
        };
        let mut set = requested.clone();
        set.name = normalise_name(set.name());
        shape::check(zone, &set)?;
        let key = ListKey::of(&set);
        let action: &'static str = match change.action() {
            ChangeAction::Create => "CREATE",
            ChangeAction::Delete => "DELETE",
            ChangeAction::Upsert => "UPSERT",
            other => {
                return Err(invalid_input(format!(
                    "Invalid request: unknown action {other:?}"
                )))
            }
        };
        // [API] "you cannot delete the same resource record set more than once in a single
        // change batch"; Route 53 refuses any repeated action on one set the same way.
        // A DELETE then a CREATE of one set is the compare-and-swap the docs show.
        if !seen.insert((key.clone(), action)) {
            return Err(invalid_batch(format!(
                "The request contains an invalid set of changes for a resource record set '{} {}'",
                set.r#type().as_str(),
                set.name()
            )));
        }
        touched.insert(ListKey::new(set.name(), set.r#type().as_str(), None));
        apply_one(&mut after, action, key, set)?;
    }
    for group in &touched {
        groups::check_group(&after, group)?;
    }
    check_zone_quota(zone, sets, &after)?;
    aliases::check_targets(zone, &after, &touched)?;
    aliases::check_depth(zone, &after)?;
    Ok(after)
}

/// One change on the zone as the batch has left it so far.
fn apply_one(
    zone: &mut ZoneSets,
    action: &str,
    key: ListKey,
    set: ResourceRecordSet,
) -> Result<(), Rejection> {
    match action {
        "DELETE" => match zone.get(&key) {
            None => Err(invalid_batch(format!(
                "Tried to delete resource record set {} but it was not found",
                describe(&set)
            ))),
            Some(held) if !same_content(held, &set) => Err(invalid_batch(format!(
                "Tried to delete resource record set {} but the values provided do not match the current values",
                describe(&set)
            ))),
            Some(_) => {
                zone.remove(&key);
                Ok(())
            }
        },
        "CREATE" if zone.contains_key(&key) => Err(invalid_batch(format!(
            "Tried to create resource record set {} but it already exists",
            describe(&set)
        ))),
        _ => {
            groups::check_policy_mix(zone, &set, &key)?;
            groups::check_cname_exclusive(zone, &set, &key)?;
            groups::share_weighted_ttl(zone, &set);
            zone.insert(key, set);
            Ok(())
        }
    }
}

/// [BATCH] "Changes … Array Members: Minimum number of 1 item"; [QUOTAS]: at most 1,000
/// values and 32,000 value characters, "When the value of the Action element is UPSERT,
/// each ResourceRecord element is counted twice". There is no cap on the number of
/// changes any more: the 100 of the 2012 API guide is gone.
fn check_batch_limits(changes: &[Change]) -> Result<(), Rejection> {
    if changes.is_empty() {
        return Err(invalid_input("1 validation error detected: Value '[]' at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1".to_owned()));
    }
    let (mut values, mut chars) = (0usize, 0usize);
    for change in changes {
        let weight = if *change.action() == ChangeAction::Upsert {
            2
        } else {
            1
        };
        let records = change
            .resource_record_set()
            .map(|s| s.resource_records())
            .unwrap_or_default();
        values += weight * records.len();
        chars += weight
            * records
                .iter()
                .map(|r| r.value().chars().count())
                .sum::<usize>();
    }
    if values > MAX_VALUES {
        return Err(invalid_batch(format!(
            "Number of records limit of {MAX_VALUES} exceeded ({values} records)."
        )));
    }
    if chars > MAX_VALUE_CHARS {
        return Err(invalid_batch(format!(
            "Number of characters limit of {MAX_VALUE_CHARS} exceeded ({chars} characters)."
        )));
    }
    Ok(())
}

/// [QUOTAS] "Records: 10,000 per hosted zone", the SOA and NS sets included. A batch that
/// does not grow an already full zone (a swap, a delete) still goes through.
fn check_zone_quota(
    zone: &ZoneFacts,
    before: &ZoneSets,
    after: &ZoneSets,
) -> Result<(), Rejection> {
    let held = counted_sets(zone, after);
    if held > zone.max_record_sets && held > counted_sets(zone, before) {
        return Err(invalid_batch(format!(
            "The hosted zone {} would hold {held} record sets; the limit is {} (the quota \"Records per hosted zone\")",
            zone.zone_id, zone.max_record_sets
        )));
    }
    Ok(())
}
