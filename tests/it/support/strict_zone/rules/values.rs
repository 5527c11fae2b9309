//! The values of a set: their length, their count where a type allows one, and their
//! syntax for the types ecs-srv reads or writes (A, AAAA, SRV) and the common types other
//! writers keep beside them (CNAME, MX). Types the model has no parser for (TXT, CAA,
//! NAPTR…) pass with their length checked only.

use std::net::{Ipv4Addr, Ipv6Addr};

use aws_sdk_route53::types::{ResourceRecordSet, RrType};

use super::{describe, invalid_batch, invalid_input, Rejection};

/// [RECORD] "Value: The current or new DNS record value, not to exceed 4,000 characters …
/// Length Constraints: Maximum length of 4000."
pub const MAX_VALUE_LEN: usize = 4_000;

/// Checks every value of a non-alias set.
pub fn check_values(set: &ResourceRecordSet) -> Result<(), Rejection> {
    let kind = set.r#type();
    let records = set.resource_records();
    if let Some(long) = records
        .iter()
        .find(|r| r.value().chars().count() > MAX_VALUE_LEN)
    {
        return Err(invalid_input(format!(
            "1 validation error detected: Value of {} characters at 'resourceRecord.value' failed to satisfy constraint: Member must have length less than or equal to {MAX_VALUE_LEN}",
            long.value().chars().count()
        )));
    }
    // [RECORD] "You can specify more than one value for all record types except CNAME and
    // SOA."
    if matches!(kind, RrType::Cname | RrType::Soa) && records.len() > 1 {
        return Err(invalid_batch(format!(
            "{} holds {} values; a {} record set holds one",
            describe(set),
            records.len(),
            kind.as_str()
        )));
    }
    for record in records {
        check_value(kind, record.value())?;
    }
    Ok(())
}

/// [TYPES]: "The value for an A record is an IPv4 address in dotted decimal notation";
/// "The value for a AAAA record is an IPv6 address in colon-separated hexadecimal format";
/// SRV is "[priority] [weight] [port] [server host name]"; "A CNAME Value element is the
/// same format as a domain name"; an MX value is a priority and a domain name.
fn check_value(kind: &RrType, value: &str) -> Result<(), Rejection> {
    let fatal = |problem: &str| {
        invalid_batch(format!(
            "Invalid Resource Record: FATAL problem: {problem} encountered with '{value}'"
        ))
    };
    let fields: Vec<&str> = value.split(' ').collect();
    let numbers = |count: usize| {
        fields[..count.min(fields.len())]
            .iter()
            .all(|f| f.parse::<u16>().is_ok())
    };
    match kind {
        RrType::A if value.parse::<Ipv4Addr>().is_err() => Err(fatal(
            "ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)",
        )),
        RrType::Aaaa if value.parse::<Ipv6Addr>().is_err() => Err(fatal(
            "AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)",
        )),
        RrType::Srv if !(fields.len() == 4 && numbers(3) && is_domain_name(fields[3])) => {
            Err(fatal("SRVRDATATooFewFields or illegal field (Value should be of the format [priority] [weight] [port] [target])"))
        }
        RrType::Mx if !(fields.len() == 2 && numbers(1) && is_domain_name(fields[1])) => Err(
            fatal("MXRDATATooFewFields (Value should be of the format [priority] [mail server])"),
        ),
        RrType::Cname if !is_domain_name(value) => {
            Err(fatal("DomainLabelEmpty or illegal domain name"))
        }
        _ => Ok(()),
    }
}

/// A domain name as a value: non-empty labels of at most 63 bytes, 255 in all, the dot
/// at the end optional. (`.` alone is the root, which SRV uses for "no service".)
fn is_domain_name(text: &str) -> bool {
    if text == "." {
        return true;
    }
    let bare = text.strip_suffix('.').unwrap_or(text);
    !bare.is_empty()
        && bare.len() <= 255
        && !bare.contains(' ')
        && bare.split('.').all(|l| !l.is_empty() && l.len() <= 63)
}
