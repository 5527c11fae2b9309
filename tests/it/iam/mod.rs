//! IAM from what the code calls. The real binary runs every path of a configuration
//! (`paths`) behind a proxy that records each request as AWS reads it; each request becomes
//! what IAM authorises (`requests`), and a small evaluator (`evaluate`) holds it against
//! the policy of whoever signed it: the function's role (`PublisherRole` of template.yaml),
//! on the SQS path the packer's (`PackerRole`, its own credentials), or the zone role the
//! function assumed (zone-role.yaml), each resolved for the configuration's parameters, so
//! that each `Fn::If` branch is judged on its own. Both ways:
//!
//! - every request is allowed (and every request Lambda makes with each role, below);
//! - every action, and every resource, a statement grants is needed by one of them.
//!
//! Five configurations take each of UseSqs, HasClusterFilter, UseZoneRole and
//! HasRecordDomain both ways, and every pair of them each of its four ways.

mod behalf;
mod denials;
mod evaluate;
mod judge;
mod paths;
mod requests;
mod scene;

pub use requests::scopable;

use scene::Configuration;

async fn holds_least_privilege(config: Configuration) {
    let (scene, recorded) = paths::run(&config).await;
    judge::judge(&config, &scene, &recorded);
}

#[tokio::test]
async fn direct_path_reconciling_every_cluster_into_its_own_zone() {
    holds_least_privilege(Configuration {
        name: "iam-direct-open",
        account: "710000000001",
        octet: 121,
        use_sqs: false,
        cluster_filter: false,
        zone_account: None,
        record_domain: false,
    })
    .await;
}

#[tokio::test]
async fn direct_path_every_cluster_through_the_zone_role_under_a_domain() {
    holds_least_privilege(Configuration {
        name: "iam-direct-role",
        account: "710000000002",
        octet: 122,
        use_sqs: false,
        cluster_filter: false,
        zone_account: Some("720000000002"),
        record_domain: true,
    })
    .await;
}

#[tokio::test]
async fn direct_path_one_cluster_under_a_domain() {
    holds_least_privilege(Configuration {
        name: "iam-direct-filter",
        account: "710000000003",
        octet: 123,
        use_sqs: false,
        cluster_filter: true,
        zone_account: None,
        record_domain: true,
    })
    .await;
}

#[tokio::test]
async fn sqs_path_every_cluster_under_a_domain() {
    holds_least_privilege(Configuration {
        name: "iam-queue-open",
        account: "710000000004",
        octet: 124,
        use_sqs: true,
        cluster_filter: false,
        zone_account: None,
        record_domain: true,
    })
    .await;
}

#[tokio::test]
async fn sqs_path_one_cluster_through_the_zone_role() {
    holds_least_privilege(Configuration {
        name: "iam-queue-role",
        account: "710000000005",
        octet: 125,
        use_sqs: true,
        cluster_filter: true,
        zone_account: Some("720000000005"),
        record_domain: false,
    })
    .await;
}
