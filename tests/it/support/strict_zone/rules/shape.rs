//! One record set on its own: a name inside the zone and of legal length, one routing
//! field with its SetIdentifier, a weight and region in range, a TTL, and values of its
//! type; or, for an alias, none of TTL and values.

use aws_sdk_route53::types::{ResourceRecordSet, ResourceRecordSetRegion, RrType};

use super::values::check_values;
use super::{
    aliases, describe, invalid_batch, invalid_input, policy_of, routing_fields, Policy, Rejection,
    ZoneFacts,
};

/// Longest label in bytes. [NAMES] "Each label can be up to 63 bytes long."
pub const MAX_LABEL: usize = 63;
/// Longest name in bytes. [NAMES] "The total length of a domain name cannot exceed 255
/// bytes, including the dots": the dots between labels, so the trailing dot that marks a
/// name absolute is not counted ([RRSET] "Name": a name with and without the trailing dot
/// is the same name).
pub const MAX_NAME: usize = 255;
/// SetIdentifier length. [RRSET] "SetIdentifier … Length Constraints: Minimum length of 1.
/// Maximum length of 128."
pub const MAX_SET_IDENTIFIER: usize = 128;
/// Values in one record set. [QUOTAS] "Values in a record: 400 per record".
pub const MAX_VALUES_PER_SET: usize = 400;
/// [RRSET] "TTL … Valid Range: Minimum value of 0. Maximum value of 2147483647."
const MAX_TTL: i64 = 2_147_483_647;

/// Checks one set whose name is already normalised.
pub fn check(zone: &ZoneFacts, set: &ResourceRecordSet) -> Result<(), Rejection> {
    check_name(zone, set.name())?;
    check_routing(set)?;
    check_cname_placement(zone, set)?;
    check_target_or_values(set)?;
    if set.alias_target().is_some() {
        return aliases::check_alias_shape(zone, set);
    }
    if let Some(ttl) = set.ttl().filter(|ttl| !(0..=MAX_TTL).contains(ttl)) {
        return Err(invalid_input(format!(
            "1 validation error detected: Value '{ttl}' at 'changeBatch.member.resourceRecordSet.tTL' failed to satisfy constraint: Member must have value between 0 and {MAX_TTL}"
        )));
    }
    // [QUOTAS] "Values in a record: 400 per record".
    let count = set.resource_records().len();
    if count > MAX_VALUES_PER_SET {
        return Err(invalid_batch(format!(
            "{} holds {count} values; a record set holds at most {MAX_VALUES_PER_SET}",
            describe(set)
        )));
    }
    check_values(set)
}

/// Either an alias target, or a TTL and at least one value, never both. [RRSET] "TTL":
/// "If you're creating or updating an alias resource record set, omit TTL"; "ResourceRecords":
/// "If you're creating an alias resource record set, omit ResourceRecords", and otherwise
/// "Array Members: Minimum number of 1 item". The words are Route 53's own InvalidInput.
fn check_target_or_values(set: &ResourceRecordSet) -> Result<(), Rejection> {
    let alias = set.alias_target().is_some();
    let (ttl, values) = (set.ttl().is_some(), !set.resource_records().is_empty());
    let found = match (alias, ttl || values, ttl && values) {
        (true, true, _) => "more than one",
        (false, _, false) => "none",
        _ => return Ok(()),
    };
    Err(invalid_input(format!(
        "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords]], but found {found} in Change with [Name={}, Type={}, SetIdentifier={}]",
        set.name(),
        set.r#type().as_str(),
        set.set_identifier().unwrap_or("null")
    )))
}

/// [RRSET] "Name": the name is the zone or below it; [NAMES]: labels of 1 to 63 bytes and
/// at most 255 bytes in all. An octal escape (`\052`) is one byte.
fn check_name(zone: &ZoneFacts, name: &str) -> Result<(), Rejection> {
    let apex = &zone.apex;
    if name != apex && !name.ends_with(&format!(".{apex}")) {
        return Err(invalid_batch(format!(
            "RRSet with DNS name {name} is not permitted in zone {apex}"
        )));
    }
    let bare = name.strip_suffix('.').unwrap_or(name);
    let labels: Vec<usize> = bare.split('.').map(escaped_len).collect();
    let total = labels.iter().sum::<usize>() + labels.len().saturating_sub(1);
    if labels.iter().any(|len| *len == 0 || *len > MAX_LABEL) {
        return Err(invalid_batch(format!(
            "FATAL problem: DomainLabelEmpty or DomainLabelTooLong (a label is 1 to {MAX_LABEL} bytes) encountered with '{name}'"
        )));
    }
    if total > MAX_NAME {
        return Err(invalid_batch(format!(
            "FATAL problem: DomainNameTooLong ({total} bytes; at most {MAX_NAME}) encountered with '{name}'"
        )));
    }
    Ok(())
}

/// A label's length in bytes, reading `\DDD` as the one byte it stands for. [NAMES]
/// "specify the characters by using escape codes in the format \three-digit octal code".
fn escaped_len(label: &str) -> usize {
    let bytes = label.as_bytes();
    let (mut index, mut len) = (0, 0);
    while index < bytes.len() {
        let escape = bytes[index] == b'\\'
            && bytes.len() >= index + 4
            && bytes[index + 1..index + 4].iter().all(u8::is_ascii_digit);
        index += if escape { 4 } else { 1 };
        len += 1;
    }
    len
}

/// [RRSET] "SetIdentifier": "Resource record sets that have a routing policy other than
/// simple" carry one, 1 to 128 characters; each routing field is for its policy only
/// ("Weighted resource record sets only", "Latency-based resource record sets only"…), so a
/// set names exactly one, in the words of Route 53's own InvalidInput. [RRSET] "Weight"
/// and [WEIGHTED] "Enter an integer between 0 and 255"; "Region": one of the listed
/// values.
fn check_routing(set: &ResourceRecordSet) -> Result<(), Rejection> {
    let name = set.name();
    let kind = set.r#type().as_str();
    let fields = routing_fields(set);
    match set.set_identifier() {
        None if !fields.is_empty() => {
            return Err(invalid_input(format!(
                "Invalid request: Missing field 'SetIdentifier' in Change with [Name={name}, Type={kind}]"
            )))
        }
        None => return Ok(()),
        Some(id) if id.is_empty() || id.chars().count() > MAX_SET_IDENTIFIER => {
            return Err(invalid_input(format!(
                "1 validation error detected: Value '{id}' at 'setIdentifier' failed to satisfy constraint: Member must have length between 1 and {MAX_SET_IDENTIFIER}"
            )))
        }
        Some(id) if fields.len() != 1 => {
            let found = if fields.is_empty() {
                "none".to_owned()
            } else {
                fields.join(", ")
            };
            return Err(invalid_input(format!(
                "Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found {found} in Change with [Name={name}, Type={kind}, SetIdentifier={id}]"
            )));
        }
        Some(_) => {}
    }
    if let Some(weight) = set.weight() {
        if !(0..=255).contains(&weight) {
            return Err(invalid_input(format!(
                "1 validation error detected: Value '{weight}' at 'weight' failed to satisfy constraint: Member must have value between 0 and 255 ({})",
                describe(set)
            )));
        }
    }
    if let Some(region) = set.region() {
        if ResourceRecordSetRegion::try_parse(region.as_str()).is_err() {
            return Err(invalid_input(format!(
                "1 validation error detected: Value '{}' at 'region' failed to satisfy constraint: Member must satisfy enum value set",
                region.as_str()
            )));
        }
    }
    Ok(())
}

/// [TYPES] "You cannot create a CNAME record for example.com" (the zone apex), alias or
/// not ([ALIAS]: "creating a CNAME record for the zone apex isn't supported even for an
/// alias record"); [MULTI] "Select any value except NS or CNAME" for multivalue records.
fn check_cname_placement(zone: &ZoneFacts, set: &ResourceRecordSet) -> Result<(), Rejection> {
    let kind = set.r#type();
    if *kind == RrType::Cname && set.name() == zone.apex {
        return Err(invalid_batch(format!(
            "RRSet of type CNAME with DNS name {} is not permitted at apex in zone {}",
            set.name(),
            zone.apex
        )));
    }
    if policy_of(set) == Policy::Multivalue && matches!(kind, RrType::Cname | RrType::Ns) {
        return Err(invalid_batch(format!(
            "{} is a multivalue answer set of type {}, which Route 53 does not allow",
            describe(set),
            kind.as_str()
        )));
    }
    Ok(())
}
