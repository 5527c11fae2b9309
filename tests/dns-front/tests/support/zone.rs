//! Writes record sets into a moto hosted zone the way ecs-srv would.
//!
//! moto deletes every record with a SetIdentifier when one is deleted, whatever the name,
//! so each record set here gets an identifier of its own.

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HostedZoneConfig, ResourceRecord, ResourceRecordSet, RrType,
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
}

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
            .caller_reference(format!("dns-front-test-{name}"))
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

    async fn change(
        &self,
        action: ChangeAction,
        name: &str,
        record_type: RrType,
        ttl: i64,
        policy: Policy<'_>,
        values: &[&str],
    ) {
        let mut record_set = ResourceRecordSet::builder()
            .name(name)
            .r#type(record_type.clone())
            .ttl(ttl);
        record_set = match policy {
            Policy::Simple => record_set,
            Policy::Weighted(identifier, weight) => {
                record_set.set_identifier(identifier).weight(weight)
            }
            Policy::MultiValue(identifier) => record_set
                .set_identifier(identifier)
                .multi_value_answer(true),
        };
        for value in values {
            let record = ResourceRecord::builder()
                .value(*value)
                .build()
                .expect("value is set");
            record_set = record_set.resource_records(record);
        }
        let record_set = record_set.build().expect("name and type are set");
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
