//! Latency sets, as a name shared by several regions uses them: a SetIdentifier and a
//! known Region, one set per region at a name and type, no other policy beside them, and
//! latency aliases to names of the zone, which may hold a tree of weighted aliases.

use aws_sdk_route53::types::builders::ResourceRecordSetBuilder;
use aws_sdk_route53::types::{ResourceRecordSetRegion, RrType};

use super::{
    accepted, alias_here, built, create, delete, plain, refused, refused_as, simple, weighted,
    zone, APEX, ZONE_ID,
};
use crate::support::answers::{leaf_values, AnswerIndex};
use crate::support::strict_zone::route53_client;

fn in_region(
    builder: ResourceRecordSetBuilder,
    id: &str,
    region: &str,
) -> ResourceRecordSetBuilder {
    builder
        .set_identifier(id)
        .region(ResourceRecordSetRegion::from(region))
}

/// A latency alias at `label` for `region`, to `target_label`.
fn latency_alias(
    label: &str,
    region: &str,
    target_label: &str,
) -> aws_sdk_route53::types::ResourceRecordSet {
    built(in_region(
        alias_here(label, RrType::A, target_label),
        region,
        region,
    ))
}

/// [RRSET] "SetIdentifier" for every policy but simple, and "Region … Valid Values:
/// us-east-1 | us-east-2 | …": a region Route 53 does not list is refused.
#[tokio::test]
async fn a_latency_set_needs_a_set_identifier_and_a_known_region() {
    let model = zone();
    let no_id =
        built(plain("web", RrType::A, 10, &["10.0.0.1"]).region(ResourceRecordSetRegion::UsEast1));
    refused_as(
        &model,
        vec![create(no_id)],
        "InvalidInput",
        "Missing field 'SetIdentifier'",
    )
    .await;
    let unknown = built(in_region(
        plain("web", RrType::A, 10, &["10.0.0.1"]),
        "moon",
        "moon-east-1",
    ));
    refused_as(
        &model,
        vec![create(unknown)],
        "InvalidInput",
        "Value 'moon-east-1' at 'region'",
    )
    .await;
    let known = built(in_region(
        plain("web", RrType::A, 10, &["10.0.0.1"]),
        "use1",
        "us-east-1",
    ));
    accepted(&model, vec![create(known)], "a latency set").await;
}

/// [LATENCY] "You can only create one latency record for each Amazon EC2 Region"; [RRSET]
/// "Region": "You can only create one latency resource record set for each Amazon EC2
/// Region." A swap within one batch keeps one.
#[tokio::test]
async fn one_latency_set_per_region_per_name_and_type() {
    let model = zone();
    let in_use1 = |id: &str, value: &str| {
        built(in_region(
            plain("web", RrType::A, 10, &[value]),
            id,
            "us-east-1",
        ))
    };
    accepted(
        &model,
        vec![create(in_use1("a", "10.0.0.1"))],
        "one set for us-east-1",
    )
    .await;
    refused(
        &model,
        vec![create(in_use1("b", "10.0.0.2"))],
        "two latency record sets for region us-east-1",
    )
    .await;
    accepted(
        &model,
        vec![
            delete(in_use1("a", "10.0.0.1")),
            create(in_use1("b", "10.0.0.2")),
        ],
        "a swap of the region's set",
    )
    .await;
    let eu = built(in_region(
        plain("web", RrType::A, 10, &["10.1.0.1"]),
        "c",
        "eu-west-1",
    ));
    accepted(&model, vec![create(eu)], "another region").await;
    let srv = built(in_region(
        plain("web", RrType::Srv, 10, &["1 1 80 a.model.internal."]),
        "d",
        "us-east-1",
    ));
    accepted(
        &model,
        vec![create(srv)],
        "another type at the same name and region",
    )
    .await;
}

/// [RRSET] "Region": "You can't create non-latency resource record sets that have the same
/// values for the Name and Type elements as latency resource record sets", and "Weight":
/// "You can't create latency … resource record sets that have the same values for the Name
/// and Type elements as weighted resource record sets".
#[tokio::test]
async fn latency_never_mixes_with_other_policies() {
    let model = zone();
    accepted(
        &model,
        vec![create(weighted("web", "w", 1, "10.0.0.1"))],
        "a weighted set",
    )
    .await;
    let latency = built(in_region(
        plain("web", RrType::A, 10, &["10.0.0.2"]),
        "l",
        "us-east-1",
    ));
    refused(&model, vec![create(latency.clone())], "a weighted set").await;
    let mut elsewhere = latency;
    elsewhere.name = format!("api.{APEX}");
    accepted(&model, vec![create(elsewhere)], "elsewhere").await;
    for other in [
        weighted("api", "w", 1, "10.0.0.3"),
        simple("api", RrType::A, &["10.0.0.3"]),
        built(
            plain("api", RrType::A, 10, &["10.0.0.3"])
                .set_identifier("m")
                .multi_value_answer(true),
        ),
    ] {
        refused(&model, vec![create(other)], "because a latency set").await;
    }
}

/// ecs-srv's regional layout: a latency alias per region at the shared name, each to the
/// region's name, which may itself be a tree of weighted aliases over weighted sets (two
/// alias levels over one of values, the deepest Route 53 permits). The listing returns
/// each set's Region, which the crate reads back.
#[tokio::test]
async fn a_latency_alias_may_aim_at_a_tree_of_weighted_aliases() {
    let model = zone();
    let branch = |region: &str, b: usize| format!("_b{b}.web.{region}");
    let mut tree = Vec::new();
    for b in 0..2 {
        tree.push(create(weighted(
            &branch("us-east-1", b),
            &format!("t{b}"),
            1,
            "10.0.0.1",
        )));
        tree.push(create(built(
            alias_here("web.us-east-1", RrType::A, &branch("us-east-1", b))
                .set_identifier(format!("tree-{b}"))
                .weight(1),
        )));
    }
    tree.push(create(weighted("web.eu-west-1", "t9", 1, "10.1.0.1")));
    accepted(
        &model,
        tree,
        "a tree in us-east-1, a flat name in eu-west-1",
    )
    .await;
    accepted(
        &model,
        vec![
            create(latency_alias("web", "us-east-1", "web.us-east-1")),
            create(latency_alias("web", "eu-west-1", "web.eu-west-1")),
        ],
        "a latency alias per region",
    )
    .await;
    refused(
        &model,
        vec![create(latency_alias("web", "ap-south-1", "web.ap-south-1"))],
        "but that target was not found",
    )
    .await;
    let listing = route53_client(model.clone())
        .list_resource_record_sets()
        .hosted_zone_id(ZONE_ID)
        .start_record_name(format!("web.{APEX}"))
        .start_record_type(RrType::A)
        .max_items(2)
        .send()
        .await
        .expect("the zone lists");
    let regions: Vec<(Option<&str>, Option<&str>)> = listing
        .resource_record_sets()
        .iter()
        .map(|s| (s.set_identifier(), s.region().map(|r| r.as_str())))
        .collect();
    assert_eq!(
        regions,
        vec![
            (Some("eu-west-1"), Some("eu-west-1")),
            (Some("us-east-1"), Some("us-east-1"))
        ],
        "the listing carries each latency set's Region"
    );
    // What the zone answers, by the one oracle: each region its own, Frankfurt Ireland's.
    let index = AnswerIndex::of(ZONE_ID, &model.lock().unwrap().record_sets());
    let answered = |region: &str| -> Vec<String> {
        let mut values: Vec<String> = index
            .shares_from(&format!("web.{APEX}"), "A", Some(region))
            .iter()
            .flat_map(leaf_values)
            .collect();
        values.sort();
        values.dedup();
        values
    };
    assert_eq!(
        answered("us-east-1"),
        vec!["10.0.0.1"],
        "through the us-east-1 tree"
    );
    assert_eq!(answered("eu-west-1"), vec!["10.1.0.1"]);
    assert_eq!(
        answered("eu-central-1"),
        vec!["10.1.0.1"],
        "the closest region's"
    );
}
