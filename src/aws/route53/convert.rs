//! Record sets to and from the SDK's shapes. Only the shapes ecs-srv writes can be ours;
//! every other listed set is described just enough to stay out of its way.

use aws_sdk_route53::types::{self as sdk, ChangeAction, RrType};

use crate::plan::records::{Change, ForeignPolicy, ForeignRecord, RecordSet, RecordType, Routing};

/// Builds the SDK's form of a change to zone `zone_id` (an alias names its own zone).
pub fn to_sdk_change(change: &Change, zone_id: &str) -> Result<sdk::Change, String> {
    let action = match change {
        Change::Create(_) => ChangeAction::Create,
        Change::Delete(_) => ChangeAction::Delete,
    };
    let set = change.record_set();
    let mut builder =
        sdk::ResourceRecordSet::builder()
            .name(&set.name)
            .r#type(match set.record_type {
                RecordType::A => RrType::A,
                RecordType::Aaaa => RrType::Aaaa,
                RecordType::Srv => RrType::Srv,
            });
    builder = match &set.alias {
        None => {
            let records = set
                .values
                .iter()
                .map(|value| sdk::ResourceRecord::builder().value(value).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            builder
                .ttl(i64::from(set.ttl))
                .set_resource_records(Some(records))
        }
        // An alias answers with its target's sets; their health is not checked (ecs-srv
        // writes no health checks), so the alias never skips a target for it.
        Some(target) => builder.alias_target(
            sdk::AliasTarget::builder()
                .hosted_zone_id(zone_id.trim_start_matches("/hostedzone/"))
                .dns_name(target)
                .evaluate_target_health(false)
                .build()
                .map_err(|e| e.to_string())?,
        ),
    };
    builder = with_routing(builder, &set.routing);
    let record_set = builder.build().map_err(|e| e.to_string())?;
    sdk::Change::builder()
        .action(action)
        .resource_record_set(record_set)
        .build()
        .map_err(|e| e.to_string())
}

/// The routing fields of a set: a SetIdentifier and the policy's own field.
fn with_routing(
    builder: sdk::builders::ResourceRecordSetBuilder,
    routing: &Routing,
) -> sdk::builders::ResourceRecordSetBuilder {
    match routing {
        Routing::Simple => builder,
        Routing::Weighted {
            set_identifier,
            weight,
        } => builder
            .set_identifier(set_identifier)
            .weight(i64::from(*weight)),
        Routing::Multivalue { set_identifier } => builder
            .set_identifier(set_identifier)
            .multi_value_answer(true),
        Routing::Latency {
            set_identifier,
            region,
        } => builder
            .set_identifier(set_identifier)
            .region(sdk::ResourceRecordSetRegion::from(region.as_str())),
    }
}

/// A listed set of a shape ecs-srv writes, or how to stay out of its way.
pub fn listed_set(listed: &sdk::ResourceRecordSet) -> Result<RecordSet, ForeignRecord> {
    owned_candidate(listed).ok_or_else(|| foreign_record(listed))
}

/// An A, AAAA or SRV set with plain values and simple, weighted or multivalue routing, a
/// weighted alias to another name of the zone, or a latency alias: the only shapes
/// ecs-srv ever writes, so the only shapes that can be ours.
fn owned_candidate(listed: &sdk::ResourceRecordSet) -> Option<RecordSet> {
    let record_type = match listed.r#type() {
        RrType::A => RecordType::A,
        RrType::Aaaa => RecordType::Aaaa,
        RrType::Srv => RecordType::Srv,
        _ => return None,
    };
    let exotic = listed.failover().is_some()
        || listed.geo_location().is_some()
        || listed.health_check_id().is_some()
        || listed.traffic_policy_instance_id().is_some()
        || listed.cidr_routing_config().is_some()
        || listed.geo_proximity_location().is_some();
    if exotic {
        return None;
    }
    let routing = routing(listed)?;
    let name = listed.name().to_ascii_lowercase();
    if let Some(alias) = listed.alias_target() {
        if !matches!(routing, Routing::Weighted { .. } | Routing::Latency { .. }) {
            return None;
        }
        let mut target = alias.dns_name().to_ascii_lowercase();
        if !target.ends_with('.') {
            target.push('.');
        }
        return Some(RecordSet {
            name,
            record_type,
            routing,
            ttl: 0,
            values: Vec::new(),
            alias: Some(target),
        });
    }
    if let Routing::Latency { .. } = routing {
        return None;
    }
    let mut values: Vec<String> = listed
        .resource_records()
        .iter()
        .map(|r| r.value().to_owned())
        .collect();
    values.sort();
    Some(RecordSet {
        name,
        record_type,
        routing,
        ttl: u32::try_from(listed.ttl()?).ok()?,
        values,
        alias: None,
    })
}

/// The routing of a listed set, when it is one ecs-srv writes.
fn routing(listed: &sdk::ResourceRecordSet) -> Option<Routing> {
    let region = listed.region().map(|region| region.as_str().to_owned());
    Some(
        match (
            listed.set_identifier(),
            listed.weight(),
            listed.multi_value_answer(),
            region,
        ) {
            (None, None, None, None) => Routing::Simple,
            (Some(id), Some(weight), None, None) => Routing::Weighted {
                set_identifier: id.to_owned(),
                weight: u8::try_from(weight).ok()?,
            },
            (Some(id), None, Some(true), None) => Routing::Multivalue {
                set_identifier: id.to_owned(),
            },
            (Some(id), None, None, Some(region)) => Routing::Latency {
                set_identifier: id.to_owned(),
                region,
            },
            _ => return None,
        },
    )
}

fn foreign_record(listed: &sdk::ResourceRecordSet) -> ForeignRecord {
    let policy = match (
        listed.set_identifier(),
        listed.weight(),
        listed.multi_value_answer(),
        listed.region(),
    ) {
        (None, _, _, _) => ForeignPolicy::Simple,
        (Some(_), Some(_), _, _) => ForeignPolicy::Weighted,
        (Some(_), None, Some(true), _) => ForeignPolicy::Multivalue,
        (Some(_), None, _, Some(_)) => ForeignPolicy::Latency,
        _ => ForeignPolicy::Other,
    };
    ForeignRecord {
        name: listed.name().to_ascii_lowercase(),
        record_type: listed.r#type().as_str().to_owned(),
        set_identifier: listed.set_identifier().map(str::to_owned),
        policy,
        ttl: listed.ttl().and_then(|ttl| u32::try_from(ttl).ok()),
        region: listed.region().map(|region| region.as_str().to_owned()),
    }
}
