//! Turns one record set of the Route 53 API into a zone entry: its owner name, its routing,
//! and either its values, parsed with hickory's zone-file parsers, or its alias target.
//!
//! Pure, so that what moto actually returns (checked by hand, kept in the tests below) is
//! tested without a server.

use std::str::FromStr;

use aws_sdk_route53::types::{AliasTarget, ResourceRecordSet};
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::txt::ParseError;

use crate::zone::{RecordSetEntry, Routing, SetData};

/// Converts one API record set read from hosted zone `zone_id` (moto's listing, or the
/// root crate's strict model), or says why it cannot be served. A set of an unknown type, or an alias to anything but a name of this zone, is
/// skipped; a value that does not parse is dropped and the rest of its set kept. Every
/// problem found is pushed onto `problems` for the caller to log.
pub fn to_entry(
    record_set: &ResourceRecordSet,
    zone_id: &str,
    problems: &mut Vec<String>,
) -> Option<RecordSetEntry> {
    let Some(name) = parse_owner_name(record_set.name()) else {
        problems.push(format!(
            "record set name {:?} does not parse, skipped",
            record_set.name()
        ));
        return None;
    };
    let Ok(record_type) = RecordType::from_str(record_set.r#type().as_str()) else {
        let record_type = record_set.r#type().as_str();
        problems.push(format!(
            "{name} {record_type}: unknown record type, skipped"
        ));
        return None;
    };
    // moto also stores a TTL or values given beside an AliasTarget, which Route 53 refuses;
    // the alias is what Route 53 would answer, so it wins.
    let data = match (record_set.alias_target(), record_set.ttl()) {
        (Some(alias), _) => alias_data(&name, record_type, alias, zone_id, problems)?,
        (None, Some(ttl)) => SetData::Values {
            ttl: u32::try_from(ttl.max(0)).unwrap_or(u32::MAX),
            values: parse_values(record_set, &name, record_type, problems),
        },
        (None, None) => {
            problems.push(format!(
                "{name} {record_type}: neither a TTL nor an alias target, skipped"
            ));
            return None;
        }
    };
    Some(RecordSetEntry {
        name,
        record_type,
        routing: routing_of(record_set),
        data,
    })
}

/// An alias to another record set of the same zone, the only kind dns-front can follow.
/// moto keeps HostedZoneId as it was written, with or without `/hostedzone/`, and does
/// not check it, so both spellings of this zone's id are accepted.
fn alias_data(
    name: &Name,
    record_type: RecordType,
    alias: &AliasTarget,
    zone_id: &str,
    problems: &mut Vec<String>,
) -> Option<SetData> {
    let target_zone = alias.hosted_zone_id().trim_start_matches("/hostedzone/");
    if !target_zone.eq_ignore_ascii_case(zone_id) {
        problems.push(format!(
            "{name} {record_type}: alias into hosted zone {target_zone:?} (not this zone, \
             {zone_id}) cannot be followed, skipped"
        ));
        return None;
    }
    let Some(target) = parse_owner_name(alias.dns_name()) else {
        problems.push(format!(
            "{name} {record_type}: alias target {:?} does not parse, skipped",
            alias.dns_name()
        ));
        return None;
    };
    Some(SetData::Alias { target })
}

fn parse_values(
    record_set: &ResourceRecordSet,
    name: &Name,
    record_type: RecordType,
    problems: &mut Vec<String>,
) -> Vec<RData> {
    record_set
        .resource_records()
        .iter()
        .filter_map(|record| match parse_value(record_type, record.value()) {
            Ok(value) => Some(value),
            Err(error) => {
                let value = record.value();
                problems.push(format!(
                    "{name} {record_type}: value {value:?} does not parse ({error}), skipped"
                ));
                None
            }
        })
        .collect()
}

/// Parses one value with hickory's zone-file parser for its type.
fn parse_value(record_type: RecordType, text: &str) -> Result<RData, ParseError> {
    let text = if record_type == RecordType::SOA {
        unwrap_moto_soa(text)
    } else {
        text
    };
    RData::try_from_str(record_type, text)
}

/// moto 5.2 stores the SOA it creates with a zone as the text of a Python dict,
/// `{'Value': '<the SOA>'}`. Unwrapping it lets negative answers carry the zone's own SOA.
fn unwrap_moto_soa(text: &str) -> &str {
    text.strip_prefix("{'Value': '")
        .and_then(|rest| rest.strip_suffix("'}"))
        .unwrap_or(text)
}

fn routing_of(record_set: &ResourceRecordSet) -> Routing {
    if record_set.set_identifier().is_none() {
        return Routing::Simple;
    }
    if let Some(weight) = record_set.weight() {
        return Routing::Weighted(u8::try_from(weight.clamp(0, 255)).unwrap_or(u8::MAX));
    }
    if let Some(region) = record_set.region() {
        return Routing::Latency(region.as_str().to_owned());
    }
    match record_set.multi_value_answer() {
        Some(true) => Routing::MultiValue,
        _ => Routing::OtherIdentified,
    }
}

/// Route 53 writes names with a trailing dot and octal escapes (`\052` for `*`); hickory's
/// parser reads both. A name without the dot is still absolute in Route 53 (moto returns an
/// alias target exactly as it was written, dot or not).
pub(crate) fn parse_owner_name(text: &str) -> Option<Name> {
    if text.is_empty() {
        return None;
    }
    let mut name = Name::from_ascii(text).ok()?;
    name.set_fqdn(true);
    Some(name)
}

#[cfg(test)]
mod tests {
    use aws_sdk_route53::types::{ResourceRecord, RrType};

    use super::*;

    const ZONE_ID: &str = "ZTEST";

    fn record_set(
        name: &str,
        record_type: RrType,
        values: &[&str],
    ) -> aws_sdk_route53::types::builders::ResourceRecordSetBuilder {
        let mut builder = ResourceRecordSet::builder()
            .name(name)
            .r#type(record_type)
            .ttl(10);
        for value in values {
            builder = builder.resource_records(
                ResourceRecord::builder()
                    .value(*value)
                    .build()
                    .expect("value is set"),
            );
        }
        builder
    }

    /// A weighted alias as moto lists it: no TTL, no values.
    fn weighted_alias(name: &str, target_zone: &str, target: &str) -> ResourceRecordSet {
        ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::Srv)
            .set_identifier("b0")
            .weight(3)
            .alias_target(
                AliasTarget::builder()
                    .hosted_zone_id(target_zone)
                    .dns_name(target)
                    .evaluate_target_health(false)
                    .build()
                    .expect("complete alias target"),
            )
            .build()
            .expect("complete record set")
    }

    fn convert(record_set: &ResourceRecordSet) -> (Option<RecordSetEntry>, Vec<String>) {
        let mut problems = Vec::new();
        let entry = to_entry(record_set, ZONE_ID, &mut problems);
        (entry, problems)
    }

    #[test]
    fn the_soa_moto_wraps_in_a_dict_is_read() {
        let moto_soa =
            "{'Value': 'ns-2048.awsdns-64.com. hostmaster.example.com. 1 7200 900 1209600 86400'}";
        match parse_value(RecordType::SOA, moto_soa) {
            Ok(RData::SOA(soa)) => assert_eq!(soa.minimum, 86_400),
            other => panic!("expected an SOA, got {other:?}"),
        }
    }

    #[test]
    fn bad_values_are_dropped_and_good_ones_kept() {
        let set = record_set(
            "_http._tcp.web.zone.",
            RrType::Srv,
            &["1 5 8080 t1.web.zone.", "not an srv", "1 1 80 t2.web.zone."],
        )
        .build()
        .expect("complete record set");
        let (entry, problems) = convert(&set);
        let entry = entry.expect("entry");
        match entry.data {
            SetData::Values { ttl, values } => assert_eq!((ttl, values.len()), (10, 2)),
            other => panic!("expected values, got {other:?}"),
        }
        assert_eq!(entry.routing, Routing::Simple);
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn routing_follows_identifier_weight_and_multivalue() {
        let weighted = record_set("web.zone.", RrType::A, &["10.0.0.1"])
            .set_identifier("a")
            .weight(7)
            .build()
            .expect("set");
        let multivalue = record_set("web.zone.", RrType::A, &["10.0.0.1"])
            .set_identifier("b")
            .multi_value_answer(true)
            .build()
            .expect("set");
        let latency = record_set("web.zone.", RrType::A, &["10.0.0.1"])
            .set_identifier("c")
            .region(aws_sdk_route53::types::ResourceRecordSetRegion::EuWest1)
            .build()
            .expect("set");
        assert_eq!(routing_of(&weighted), Routing::Weighted(7));
        assert_eq!(routing_of(&multivalue), Routing::MultiValue);
        assert_eq!(
            routing_of(&latency),
            Routing::Latency("eu-west-1".to_owned())
        );
    }

    #[test]
    fn a_weighted_alias_into_this_zone_keeps_its_weight_and_target() {
        // moto returns HostedZoneId as written and DNSName with or without its dot.
        for (target_zone, target) in [
            ("ZTEST", "_b0._web._tcp.web.zone."),
            ("/hostedzone/ZTEST", "_b0._web._tcp.web.zone"),
        ] {
            let (entry, problems) =
                convert(&weighted_alias("_web._tcp.web.zone.", target_zone, target));
            let entry = entry.expect("an alias in this zone is served");
            assert!(problems.is_empty(), "{problems:?}");
            assert_eq!(entry.routing, Routing::Weighted(3));
            assert_eq!(entry.record_type, RecordType::SRV);
            assert_eq!(
                entry.data,
                SetData::Alias {
                    target: Name::from_ascii("_b0._web._tcp.web.zone.").expect("valid name")
                }
            );
        }
    }

    #[test]
    fn an_alias_into_another_zone_is_skipped_with_a_reason() {
        let (entry, problems) = convert(&weighted_alias(
            "web.zone.",
            "Z2FDTNDATAQYW2",
            "d111.cloudfront.net.",
        ));
        assert!(entry.is_none());
        assert!(problems[0].contains("Z2FDTNDATAQYW2"), "{problems:?}");
    }

    #[test]
    fn names_become_absolute_and_escapes_are_read() {
        assert_eq!(
            parse_owner_name("web.zone").map(|name| name.to_ascii()),
            Some("web.zone.".to_owned())
        );
        assert_eq!(
            parse_owner_name("\\052.zone.").map(|name| name.to_ascii()),
            Some("*.zone.".to_owned())
        );
        assert_eq!(parse_owner_name(""), None);
    }
}
