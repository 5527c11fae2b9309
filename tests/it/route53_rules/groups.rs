//! The sets of one name: one routing policy per name and type, at most 100 routed sets,
//! one TTL per weighted group, and a CNAME that shares its name with nothing.

use aws_sdk_route53::types::{Change, ResourceRecord, ResourceRecordSet, RrType};

use super::{
    accepted, alias_here, built, create, delete, plain, refused, send, set, simple, weighted, zone,
    APEX,
};

#[tokio::test]
async fn routing_policies_never_mix_on_one_name_and_type() {
    let model = zone();
    send(
        &model,
        vec![create(set("db", RrType::A, None, None, 60, &["10.0.0.5"]))],
    )
    .await
    .unwrap();
    refused(
        &model,
        vec![create(weighted("db", "a", 1, "10.0.0.6"))],
        "non-routed (simple) set",
    )
    .await;
    send(&model, vec![create(weighted("web", "a", 1, "10.0.0.1"))])
        .await
        .unwrap();
    refused(
        &model,
        vec![create(set("web", RrType::A, None, None, 60, &["10.0.0.2"]))],
        "weighted set",
    )
    .await;
    let multivalue = ResourceRecordSet::builder()
        .name(format!("web.{APEX}"))
        .r#type(RrType::A)
        .set_identifier("m")
        .multi_value_answer(true)
        .ttl(10)
        .resource_records(ResourceRecord::builder().value("10.0.0.3").build().unwrap())
        .build()
        .unwrap();
    refused(&model, vec![create(multivalue)], "weighted set").await;
    send(
        &model,
        vec![create(set(
            "web",
            RrType::Srv,
            None,
            None,
            60,
            &["1 1 80 web.model.internal."],
        ))],
    )
    .await
    .expect("another type of the same name is separate");
}

#[tokio::test]
async fn at_most_one_hundred_weighted_or_multivalue_sets_per_name_and_type() {
    let model = zone();
    let hundred: Vec<Change> = (0..100)
        .map(|i| create(weighted("web", &format!("t{i}"), 1, "10.0.0.1")))
        .collect();
    send(&model, hundred)
        .await
        .expect("100 weighted sets are allowed");
    refused(
        &model,
        vec![create(weighted("web", "t100", 1, "10.0.0.1"))],
        "would have 101 weighted record sets",
    )
    .await;
    send(
        &model,
        vec![
            delete(weighted("web", "t0", 1, "10.0.0.1")),
            create(weighted("web", "t100", 1, "10.0.0.1")),
        ],
    )
    .await
    .expect("a swap at the limit stays at 100");
    let multivalue = |i: usize| {
        built(
            plain("pool", RrType::A, 10, &["10.0.0.1"])
                .set_identifier(format!("m{i}"))
                .multi_value_answer(true),
        )
    };
    let hundred: Vec<Change> = (0..100).map(|i| create(multivalue(i))).collect();
    accepted(&model, hundred, "100 multivalue sets are allowed").await;
    refused(
        &model,
        vec![create(multivalue(100))],
        "would have 101 multivalue record sets",
    )
    .await;
}

#[tokio::test]
async fn a_weighted_group_shares_one_ttl() {
    let model = zone();
    let canary = set("web", RrType::A, Some("canary"), Some(3), 30, &["10.0.0.6"]);
    send(&model, vec![create(canary)]).await.unwrap();
    send(&model, vec![create(weighted("web", "a", 1, "10.0.0.1"))])
        .await
        .expect("another TTL is accepted, and rewrites the group");
    let ttls: Vec<Option<i64>> = model
        .lock()
        .unwrap()
        .record_sets()
        .iter()
        .map(ResourceRecordSet::ttl)
        .collect();
    assert_eq!(
        ttls,
        vec![Some(10), Some(10)],
        "the canary now has the TTL written last"
    );
}

/// [TYPES] "If you create a CNAME record for a subdomain, you cannot create any other
/// records for that subdomain", and the other way round; an alias too ([ALIAS]: "as long as
/// www.example.com doesn't already have a CNAME record"). The swap the API page shows, a
/// DELETE of the CNAME and a CREATE of an alias in one batch, goes through.
#[tokio::test]
async fn a_cname_shares_its_name_with_nothing() {
    let model = zone();
    accepted(
        &model,
        vec![create(simple("web", RrType::Cname, &["lb.example.com"]))],
        "a CNAME",
    )
    .await;
    for other in [
        simple("web", RrType::A, &["10.0.0.1"]),
        simple("web", RrType::Txt, &["\"note\""]),
        weighted("web", "a", 1, "10.0.0.1"),
    ] {
        refused(
            &model,
            vec![create(other)],
            "is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists",
        )
        .await;
    }
    accepted(
        &model,
        vec![create(simple("db", RrType::A, &["10.0.0.9"]))],
        "an A elsewhere",
    )
    .await;
    refused(
        &model,
        vec![create(built(alias_here("web", RrType::A, "db")))],
        "conflicting RRSet of type CNAME",
    )
    .await;
    refused(
        &model,
        vec![create(simple("db", RrType::Cname, &["lb.example.com"]))],
        "RRSet of type CNAME with DNS name db.model.internal. is not permitted because a conflicting RRSet of type A",
    )
    .await;
    accepted(
        &model,
        vec![
            delete(simple("web", RrType::Cname, &["lb.example.com"])),
            create(built(alias_here("web", RrType::A, "db"))),
        ],
        "the CNAME swapped for an alias in one batch",
    )
    .await;
    accepted(
        &model,
        vec![
            create(set(
                "www",
                RrType::Cname,
                Some("blue"),
                Some(1),
                60,
                &["blue.example.com"],
            )),
            create(set(
                "www",
                RrType::Cname,
                Some("green"),
                Some(1),
                60,
                &["green.example.com"],
            )),
        ],
        "weighted CNAMEs of one name are one group",
    )
    .await;
}

/// [RECORD] "You can specify more than one value for all record types except CNAME and
/// SOA"; [TYPES] "You cannot create a CNAME record for example.com" (the apex), alias or not
/// ([ALIAS]); [MULTI] "Select any value except NS or CNAME" for multivalue answers.
#[tokio::test]
async fn a_cname_holds_one_value_and_stays_off_the_apex_and_multivalue() {
    let model = zone();
    refused(
        &model,
        vec![create(simple(
            "web",
            RrType::Cname,
            &["a.example.com", "b.example.com"],
        ))],
        "holds 2 values; a CNAME record set holds one",
    )
    .await;
    refused(
        &model,
        vec![create(simple("@", RrType::Cname, &["a.example.com"]))],
        "is not permitted at apex",
    )
    .await;
    accepted(
        &model,
        vec![create(simple("web", RrType::Cname, &["a.example.com"]))],
        "a CNAME",
    )
    .await;
    refused(
        &model,
        vec![create(built(alias_here("@", RrType::Cname, "web")))],
        "is not permitted at apex",
    )
    .await;
    let multivalue = built(
        plain("pool", RrType::Cname, 10, &["a.example.com"])
            .set_identifier("m")
            .multi_value_answer(true),
    );
    refused(
        &model,
        vec![create(multivalue)],
        "multivalue answer set of type CNAME",
    )
    .await;
    assert_eq!(
        model
            .lock()
            .unwrap()
            .record_sets()
            .iter()
            .map(|s| s.name().to_owned())
            .collect::<Vec<_>>(),
        vec![format!("web.{APEX}")]
    );
}
