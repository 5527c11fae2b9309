//! Writes record sets, and the alias sets of weighted trees, into a moto hosted zone the way
//! ecs-srv would.
//!
//! moto deletes every record with a SetIdentifier when one is deleted, whatever the name,
//! so each record set here gets an identifier of its own.

use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, HostedZoneConfig, ResourceRecord,
    ResourceRecordSet, ResourceRecordSetRegion, RrType,
};

/// How a record set is routed.
#[derive(Clone, Copy, Debug)]
pub enum Policy<'a> {
    /// No SetIdentifier.
    Simple,
    /// A SetIdentifier and a weight.
    Weighted(&'a str, i64),
    /// A SetIdentifier and MultiValueAnswer.
    MultiValue(&'a str),
    /// A SetIdentifier and a Region.
    Latency(&'a str, &'a str),
}

/// Tells apart the zones the tests of one binary create in their shared moto.
static NEXT_ZONE: AtomicUsize = AtomicUsize::new(0);

/// A hosted zone in moto.
pub struct TestZone {
    pub client: aws_sdk_route53::Client,
    pub id: String,
}

impl TestZone {
    /// Creates `name` as a new zone.
    pub async fn create(client: aws_sdk_route53::Client, name: &str) -> TestZone {
        let created = client
            .create_hosted_zone()
            .name(name)
            .caller_reference(format!(
                "dns-front-test-{name}-{}",
                NEXT_ZONE.fetch_add(1, Ordering::Relaxed)
            ))
            .hosted_zone_config(
                HostedZoneConfig::builder()
                    .comment("dns-front test")
                    .build(),
            )
            .send()
            .await
            .unwrap_or_else(|error| panic!("creating zone {name} in moto: {error:?}"));
        let id = created
            .hosted_zone()
            .map(|zone| zone.id().to_owned())
            .expect("CreateHostedZone returns the zone");
        TestZone { client, id }
    }

    /// Creates or replaces one record set.
    pub async fn upsert(
        &self,
        name: &str,
        record_type: RrType,
        ttl: i64,
        policy: Policy<'_>,
        values: &[&str],
    ) {
        self.change(ChangeAction::Upsert, name, record_type, ttl, policy, values)
            .await;
    }

    /// Deletes one record set, which must be given exactly as it was written.
    pub async fn delete(
        &self,
        name: &str,
        record_type: RrType,
        ttl: i64,
        policy: Policy<'_>,
        values: &[&str],
    ) {
        self.change(ChangeAction::Delete, name, record_type, ttl, policy, values)
            .await;
    }

    /// Creates an alias record set (no TTL, no values) pointing at `target` in this zone,
    /// as a weighted alias tree holds them.
    pub async fn create_alias(
        &self,
        name: &str,
        record_type: RrType,
        policy: Policy<'_>,
        target: &str,
    ) {
        let record_set = self.alias_set(name, record_type, policy, target);
        self.send(ChangeAction::Create, record_set).await;
    }

    /// Deletes an alias record set, given exactly as it was created.
    pub async fn delete_alias(
        &self,
        name: &str,
        record_type: RrType,
        policy: Policy<'_>,
        target: &str,
    ) {
        let record_set = self.alias_set(name, record_type, policy, target);
        self.send(ChangeAction::Delete, record_set).await;
    }

    fn alias_set(
        &self,
        name: &str,
        record_type: RrType,
        policy: Policy<'_>,
        target: &str,
    ) -> ResourceRecordSet {
        let alias = AliasTarget::builder()
            .hosted_zone_id(self.id.trim_start_matches("/hostedzone/"))
            .dns_name(target)
            .evaluate_target_health(false)
            .build()
            .expect("complete alias target");
        with_policy(
            ResourceRecordSet::builder()
                .name(name)
                .r#type(record_type)
                .alias_target(alias),
            policy,
        )
        .build()
        .expect("name and type are set")
    }

    async fn change(
        &self,
        action: ChangeAction,
        name: &str,
        record_type: RrType,
        ttl: i64,
        policy: Policy<'_>,
        values: &[&str],
    ) {
        let mut record_set = with_policy(
            ResourceRecordSet::builder()
                .name(name)
                .r#type(record_type)
                .ttl(ttl),
            policy,
        );
        for value in values {
            let record = ResourceRecord::builder()
                .value(*value)
                .build()
                .expect("value is set");
            record_set = record_set.resource_records(record);
        }
        let record_set = record_set.build().expect("name and type are set");
        self.send(action, record_set).await;
    }

    /// Sends one change, failing the test with what was refused.
    async fn send(&self, action: ChangeAction, record_set: ResourceRecordSet) {
        let (name, record_type) = (record_set.name().to_owned(), record_set.r#type().clone());
        let change = Change::builder()
            .action(action.clone())
            .resource_record_set(record_set)
            .build()
            .expect("complete change");
        let batch = ChangeBatch::builder()
            .changes(change)
            .build()
            .expect("one change");
        self.client
            .change_resource_record_sets()
            .hosted_zone_id(&self.id)
            .change_batch(batch)
            .send()
            .await
            .unwrap_or_else(|error| panic!("{action:?} {name} {record_type:?} in moto: {error:?}"));
    }
}

/// Adds the routing fields of `policy` to a record set being built.
fn with_policy(
    record_set: aws_sdk_route53::types::builders::ResourceRecordSetBuilder,
    policy: Policy<'_>,
) -> aws_sdk_route53::types::builders::ResourceRecordSetBuilder {
    match policy {
        Policy::Simple => record_set,
        Policy::Weighted(identifier, weight) => {
            record_set.set_identifier(identifier).weight(weight)
        }
        Policy::MultiValue(identifier) => record_set
            .set_identifier(identifier)
            .multi_value_answer(true),
        Policy::Latency(identifier, region) => record_set
            .set_identifier(identifier)
            .region(ResourceRecordSetRegion::from(region)),
    }
}
