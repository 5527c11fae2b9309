//! The checks real Route 53 makes on a ChangeBatch, as a pure function from the zone and
//! a batch to the zone after the batch, or the rejection.
//!
//! Each check names the documentation it comes from:
//! - [API] <https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html>
//! - [RRSET] <https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html>
//! - [QUOTAS] <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html>
//! - [POLICY] <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy.html>
//! - [WEIGHTED] <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-weighted.html>
//! - [VALUES] <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/ResourceRecordTypes.html>
//! - [ALIAS] <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-choosing-alias-non-alias.html>
//!   and [OVER100] <https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/TutorialManagingOver100WRR.html>
//!
//! Messages copy the shape of Route 53's own (`Tried to delete resource record set
//! [name='…', type='…'] but it was not found`), so that tests read like production logs.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use aws_sdk_route53::types::{Change, ChangeAction, ResourceRecordSet};

/// ResourceRecord elements per batch, UPSERT counted twice. [QUOTAS] "Elements and
/// characters in ChangeResourceRecordSets requests".
pub const MAX_VALUES: usize = 1_000;
/// Characters of all Value elements per batch, UPSERT counted twice. [QUOTAS] as above.
pub const MAX_VALUE_CHARS: usize = 32_000;
/// Weighted sets per name and type. [QUOTAS] "Records with the same name and type for
/// weighted, latency, geolocation… routing" and [WEIGHTED].
pub const MAX_WEIGHTED_PER_NAME: usize = 100;
/// Values in one record set. [QUOTAS] "Values per record".
pub const MAX_VALUES_PER_SET: usize = 400;
/// SetIdentifier length. [RRSET] "SetIdentifier … Length Constraints: Minimum length of
/// 1. Maximum length of 128."
pub const MAX_SET_IDENTIFIER: usize = 128;

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
}

/// Route 53 keeps names in lower case with the trailing dot. [RRSET] "Name".
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
    /// `InvalidChangeBatch` or `InvalidInput`.
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

/// The routing policy of a set. [POLICY]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Policy {
    Simple,
    Weighted,
    Multivalue,
    /// Latency, failover, geolocation and the others: never mixed with ours either.
    Other,
}

fn policy_of(set: &ResourceRecordSet) -> Policy {
    match (set.set_identifier(), set.weight(), set.multi_value_answer()) {
        (None, _, _) => Policy::Simple,
        (Some(_), Some(_), _) => Policy::Weighted,
        (Some(_), None, Some(true)) => Policy::Multivalue,
        _ => Policy::Other,
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
pub fn apply_batch(apex: &str, sets: &ZoneSets, changes: &[Change]) -> Result<ZoneSets, Rejection> {
    check_batch_limits(changes)?;
    let mut zone = sets.clone();
    let mut seen: BTreeSet<(ListKey, &'static str)> = BTreeSet::new();
    let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
    for change in changes {
        let Some(requested) = change.resource_record_set() else {
            return Err(Rejection {
                code: "InvalidInput",
                message: "Invalid request: a Change has no ResourceRecordSet".to_owned(),
            });
        };
        let mut set = requested.clone();
        set.name = normalise_name(set.name());
        check_shape(apex, &set)?;
        let key = ListKey::of(&set);
        let action: &'static str = match change.action() {
            ChangeAction::Create => "CREATE",
            ChangeAction::Delete => "DELETE",
            ChangeAction::Upsert => "UPSERT",
            other => {
                return Err(Rejection {
                    code: "InvalidInput",
                    message: format!("Invalid request: unknown action {other:?}"),
                })
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
        touched.insert((set.name().to_owned(), set.r#type().as_str().to_owned()));
        match action {
            "DELETE" => match zone.get(&key) {
                None => {
                    return Err(invalid_batch(format!(
                        "Tried to delete resource record set {} but it was not found",
                        describe(&set)
                    )))
                }
                Some(held) if !same_content(held, &set) => {
                    return Err(invalid_batch(format!(
                        "Tried to delete resource record set {} but the values provided do not match the current values",
                        describe(&set)
                    )))
                }
                Some(_) => {
                    zone.remove(&key);
                }
            },
            "CREATE" if zone.contains_key(&key) => {
                return Err(invalid_batch(format!(
                    "Tried to create resource record set {} but it already exists",
                    describe(&set)
                )))
            }
            _ => {
                check_policy_mix(&zone, &set, &key)?;
                share_weighted_ttl(&mut zone, &set);
                zone.insert(key, set);
            }
        }
    }
    for (name, record_type) in touched {
        check_weighted_count(&zone, &name, &record_type)?;
    }
    check_alias_targets(&zone)?;
    Ok(zone)
}

/// [QUOTAS]: at most 1,000 values and 32,000 value characters, "UPSERT actions are
/// counted twice". There is no cap on the number of changes any more: the 100 of the 2012
/// API guide is gone, so a batch of more than 100 changes is accepted.
fn check_batch_limits(changes: &[Change]) -> Result<(), Rejection> {
    if changes.is_empty() {
        return Err(Rejection {
            code: "InvalidInput",
            message: "Invalid request: the ChangeBatch holds no Change".to_owned(),
        });
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

/// [WEIGHTED] "Values for weighted records": all weighted sets of a name and type share
/// one TTL; writing one with another TTL changes the TTL of every set of the group to the
/// value last written, foreign sets included.
fn share_weighted_ttl(
    zone: &mut BTreeMap<ListKey, ResourceRecordSet>,
    written: &ResourceRecordSet,
) {
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

/// One set on its own: inside the zone, a valid name, one routing policy with its
/// SetIdentifier, a TTL, and values of its type.
fn check_shape(apex: &str, set: &ResourceRecordSet) -> Result<(), Rejection> {
    let name = set.name();
    // [RRSET] "Name": the name must be the zone or below it.
    if name != apex && !name.ends_with(&format!(".{apex}")) {
        return Err(invalid_batch(format!(
            "RRSet with DNS name {name} is not permitted in zone {apex}"
        )));
    }
    // RFC 1035 2.3.4, which [RRSET] defers to: labels of 1-63 octets, 255 in all.
    let labels_ok = name
        .trim_end_matches('.')
        .split('.')
        .all(|l| !l.is_empty() && l.len() <= 63);
    if !labels_ok || name.len() > 255 {
        return Err(invalid_batch(format!(
            "FATAL problem: DomainLabelTooLong or empty label encountered with '{name}'"
        )));
    }
    let policy = policy_of(set);
    if let Some(id) = set.set_identifier() {
        // [RRSET] "SetIdentifier": 1-128 characters.
        if id.is_empty() || id.chars().count() > MAX_SET_IDENTIFIER {
            return Err(Rejection {
                code: "InvalidInput",
                message: format!("1 validation error detected: Value '{id}' at 'setIdentifier' failed to satisfy constraint: Member must have length less than or equal to {MAX_SET_IDENTIFIER}"),
            });
        }
        // [RRSET]: exactly one routing field per set with a SetIdentifier.
        if policy == Policy::Other
            && set.region().is_none()
            && set.failover().is_none()
            && set.geo_location().is_none()
            && set.cidr_routing_config().is_none()
            && set.geo_proximity_location().is_none()
        {
            return Err(Rejection {
                code: "InvalidInput",
                message: format!("Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found none in Change with [Name={name}, Type={}, SetIdentifier={id}]", set.r#type().as_str()),
            });
        }
    } else if set.weight().is_some() || set.multi_value_answer().is_some() {
        return Err(Rejection {
            code: "InvalidInput",
            message: format!("Invalid request: Missing field 'SetIdentifier' in Change with [Name={name}, Type={}]", set.r#type().as_str()),
        });
    }
    // [RRSET] "Weight": 0-255.
    if let Some(weight) = set.weight() {
        if !(0..=255).contains(&weight) {
            return Err(invalid_batch(format!(
                "Invalid weight {weight} for {}; a weight is 0 to 255",
                describe(set)
            )));
        }
    }
    if let Some(alias) = set.alias_target() {
        // [ALIAS]: an alias has no TTL and no values of its own; one aimed at a record of
        // the same zone names a name inside it.
        if set.ttl().is_some() || !set.resource_records().is_empty() {
            return Err(invalid_batch(format!(
                "{} is an alias and may carry neither a TTL nor ResourceRecords",
                describe(set)
            )));
        }
        let target = normalise_name(alias.dns_name());
        if target != apex && !target.ends_with(&format!(".{apex}")) {
            return Err(invalid_batch(format!(
                "Tried to create an alias that targets {target}, type {} in zone {apex}, but the alias target name does not lie within the target zone",
                set.r#type().as_str()
            )));
        }
        return Ok(());
    }
    // [RRSET] "TTL": required for non-alias sets, 0 to 2147483647.
    match set.ttl() {
        Some(ttl) if (0..=2_147_483_647).contains(&ttl) => {}
        _ => return Err(invalid_batch(format!("Invalid TTL for {}", describe(set)))),
    }
    let records = set.resource_records();
    // [WEIGHTED]: a weighted record set carries one value (DESIGN.md, "Route 53 rules").
    if set.weight().is_some() && records.len() > 1 {
        return Err(invalid_batch(format!(
            "{} is weighted and holds {} values; a weighted set holds one",
            describe(set),
            records.len()
        )));
    }
    // [RRSET] "ResourceRecords": at least one; [QUOTAS] "Values per record".
    if records.is_empty() || records.len() > MAX_VALUES_PER_SET {
        return Err(invalid_batch(format!(
            "{} holds {} values; a record set holds 1 to {MAX_VALUES_PER_SET}",
            describe(set),
            records.len()
        )));
    }
    for record in records {
        check_value(set.r#type().as_str(), record.value())?;
    }
    Ok(())
}

/// [VALUES]: an A value is a dotted IPv4 address, an SRV value is `priority weight port
/// target` with three numbers from 0 to 65535.
fn check_value(record_type: &str, value: &str) -> Result<(), Rejection> {
    let fatal = |problem: &str| {
        invalid_batch(format!(
            "Invalid Resource Record: FATAL problem: {problem} encountered with '{value}'"
        ))
    };
    match record_type {
        "A" if value.parse::<Ipv4Addr>().is_err() => Err(fatal(
            "ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)",
        )),
        "AAAA" if value.parse::<Ipv6Addr>().is_err() => Err(fatal(
            "AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)",
        )),
        "SRV" => {
            let fields: Vec<&str> = value.split(' ').collect();
            let numbers_ok =
                fields.len() == 4 && fields[..3].iter().all(|f| f.parse::<u16>().is_ok());
            let target_ok = fields
                .get(3)
                .is_some_and(|t| !t.is_empty() && t.len() <= 255);
            if numbers_ok && target_ok {
                Ok(())
            } else {
                Err(fatal("SRVRDATATooFewFields or illegal field (Value should be of the format [priority] [weight] [port] [target])"))
            }
        }
        _ => Ok(()),
    }
}

/// [POLICY]: all sets of one name and type share one routing policy; simple routing
/// allows one set, weighted and multivalue many, told apart by SetIdentifier.
fn check_policy_mix(
    zone: &ZoneSets,
    set: &ResourceRecordSet,
    key: &ListKey,
) -> Result<(), Rejection> {
    let mine = policy_of(set);
    let clash = zone
        .iter()
        .filter(|(k, _)| {
            k.reversed_name == key.reversed_name && k.record_type == key.record_type && *k != key
        })
        .find(|(_, other)| policy_of(other) != mine);
    match clash {
        None => Ok(()),
        Some((_, other)) => Err(invalid_batch(format!(
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
        Policy::Other => "differently routed",
    }
}

/// [QUOTAS] and [WEIGHTED]: at most 100 weighted sets per name and type, counted once
/// the whole batch has applied (a swap at the limit is fine).
fn check_weighted_count(zone: &ZoneSets, name: &str, record_type: &str) -> Result<(), Rejection> {
    let key = ListKey::new(name, record_type, None);
    let count = zone
        .iter()
        .filter(|(k, s)| {
            k.reversed_name == key.reversed_name
                && k.record_type == record_type
                && policy_of(s) == Policy::Weighted
        })
        .count();
    if count > MAX_WEIGHTED_PER_NAME {
        return Err(invalid_batch(format!(
            "RRSet with DNS name {name}, type {record_type} would have {count} weighted record sets; the limit is {MAX_WEIGHTED_PER_NAME} per name and type"
        )));
    }
    Ok(())
}

/// [ALIAS] and [OVER100]: an alias to a record of the same zone must aim at a name and type
/// the zone holds ("Tried to create an alias that targets …, but that target was not
/// found"). The model also refuses a batch that leaves an alias aimed at nothing (Route 53
/// would answer it empty), so that a tree never has a branch without members.
fn check_alias_targets(zone: &ZoneSets) -> Result<(), Rejection> {
    let held: BTreeSet<(String, String)> = zone
        .values()
        .map(|set| (set.name().to_owned(), set.r#type().as_str().to_owned()))
        .collect();
    for set in zone.values() {
        let Some(alias) = set.alias_target() else {
            continue;
        };
        let target = normalise_name(alias.dns_name());
        if !held.contains(&(target.clone(), set.r#type().as_str().to_owned())) {
            return Err(invalid_batch(format!(
                "Tried to create an alias that targets {target}, type {} in zone, but that target was not found ({} aims at it)",
                set.r#type().as_str(),
                describe(set)
            )));
        }
    }
    Ok(())
}
