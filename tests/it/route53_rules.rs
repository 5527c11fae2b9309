//! Route 53's rules, held by the strict model: each test sends what Route 53 refuses
//! through the real SDK client and checks the refusal (its code, its words, and a zone left
//! as it was), and sends the nearest thing Route 53 accepts and checks that it lands. A
//! change to the model that dropped a rule fails the test named for it.
//!
//! - `batches`: a batch as a whole: all or nothing, exact DELETEs, request limits, an empty
//!   batch, an unknown zone, the zone's record set quota.
//! - `shapes`: one set on its own: name length, routing fields, weight, TTL, values.
//! - `groups`: the sets of one name: one policy, 100 routed sets, one TTL, CNAMEs alone.
//! - `aliases`: alias shape, targets, depth, and aliases out of the zone.
//! - `latency`: latency sets and latency aliases.
//! - `calls`: listings, faults, and ecs-srv's own choices beside Route 53's rules.

mod aliases;
mod batches;
mod calls;
mod groups;
mod latency;
mod shapes;

use std::sync::{Arc, Mutex};

use aws_sdk_route53::error::ProvideErrorMetadata;
use aws_sdk_route53::types::builders::ResourceRecordSetBuilder;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ResourceRecord, ResourceRecordSet, RrType,
};

use crate::support::strict_zone::{batch, change, route53_client, StrictZone};

const ZONE_ID: &str = "ZMODEL1";
const APEX: &str = "model.internal.";

fn zone() -> Arc<Mutex<StrictZone>> {
    StrictZone::new(ZONE_ID, APEX).shared()
}

/// `label` under the apex; `@` is the apex itself.
fn fqdn(label: &str) -> String {
    if label == "@" {
        APEX.to_owned()
    } else {
        format!("{label}.{APEX}")
    }
}

/// A plain set under construction: name, type, TTL and values.
fn plain(label: &str, kind: RrType, ttl: i64, values: &[&str]) -> ResourceRecordSetBuilder {
    let records = values
        .iter()
        .map(|v| ResourceRecord::builder().value(*v).build().unwrap())
        .collect();
    ResourceRecordSetBuilder::default()
        .name(fqdn(label))
        .r#type(kind)
        .ttl(ttl)
        .set_resource_records(Some(records))
}

/// An alias under construction, to `target` in hosted zone `target_zone`.
fn alias(label: &str, kind: RrType, target_zone: &str, target: &str) -> ResourceRecordSetBuilder {
    ResourceRecordSetBuilder::default()
        .name(fqdn(label))
        .r#type(kind)
        .alias_target(
            AliasTarget::builder()
                .hosted_zone_id(target_zone)
                .dns_name(target)
                .evaluate_target_health(false)
                .build()
                .unwrap(),
        )
}

/// An alias to `target_label` in this zone.
fn alias_here(label: &str, kind: RrType, target_label: &str) -> ResourceRecordSetBuilder {
    alias(label, kind, ZONE_ID, &fqdn(target_label))
}

fn set(
    name: &str,
    kind: RrType,
    id: Option<&str>,
    weight: Option<i64>,
    ttl: i64,
    values: &[&str],
) -> ResourceRecordSet {
    plain(name, kind, ttl, values)
        .set_set_identifier(id.map(str::to_owned))
        .set_weight(weight)
        .build()
        .unwrap()
}

fn simple(name: &str, kind: RrType, values: &[&str]) -> ResourceRecordSet {
    set(name, kind, None, None, 60, values)
}

fn weighted(name: &str, id: &str, weight: i64, value: &str) -> ResourceRecordSet {
    set(name, RrType::A, Some(id), Some(weight), 10, &[value])
}

fn built(builder: ResourceRecordSetBuilder) -> ResourceRecordSet {
    builder.build().expect("name and type are set")
}

fn create(set: ResourceRecordSet) -> Change {
    change(ChangeAction::Create, set)
}

fn delete(set: ResourceRecordSet) -> Change {
    change(ChangeAction::Delete, set)
}

fn upsert(set: ResourceRecordSet) -> Change {
    change(ChangeAction::Upsert, set)
}

/// Sends through the real SDK client; a refusal comes back as (code, message).
async fn send(
    model: &Arc<Mutex<StrictZone>>,
    changes: Vec<Change>,
) -> Result<(), (String, String)> {
    send_to(model, ZONE_ID, changes).await
}

/// Sends to zone `zone_id`, whether or not it is the model's.
async fn send_to(
    model: &Arc<Mutex<StrictZone>>,
    zone_id: &str,
    changes: Vec<Change>,
) -> Result<(), (String, String)> {
    let client = route53_client(Arc::clone(model));
    client
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(batch(changes))
        .send()
        .await
        .map(|_| ())
        .map_err(|err| {
            let service = err.into_service_error();
            (
                service.code().unwrap_or("?").to_owned(),
                service.message().unwrap_or("").to_owned(),
            )
        })
}

/// Sends a batch that must be accepted, naming `why` when it is not.
async fn accepted(model: &Arc<Mutex<StrictZone>>, changes: Vec<Change>, why: &str) {
    if let Err((code, message)) = send(model, changes).await {
        panic!("{why}: Route 53 accepts this batch, the model said {code}: {message}");
    }
}

/// Sends a batch Route 53 refuses with InvalidChangeBatch, and checks the words and that
/// the zone is as it was.
async fn refused(model: &Arc<Mutex<StrictZone>>, changes: Vec<Change>, fragment: &str) {
    refused_as(model, changes, "InvalidChangeBatch", fragment).await;
}

/// Like [`refused`], with the error code Route 53 answers.
async fn refused_as(
    model: &Arc<Mutex<StrictZone>>,
    changes: Vec<Change>,
    code: &str,
    fragment: &str,
) {
    let before = model.lock().unwrap().record_sets();
    let (got, message) = send(model, changes)
        .await
        .expect_err("Route 53 refuses this batch");
    assert_eq!(got, code, "{message}");
    assert!(
        message.contains(fragment),
        "expected {fragment:?} in {message:?}"
    );
    assert_eq!(
        model.lock().unwrap().record_sets(),
        before,
        "a refused batch changes nothing"
    );
}
