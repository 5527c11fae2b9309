//! Aliases: no TTL and no values of their own, never multivalue, never to CloudFront in a
//! private zone; an alias into this zone aims at a name that holds its type, of a type
//! other than NS and SOA, at most two aliases deep and never round; an alias out of the
//! zone (a load balancer, a VPC endpoint, an S3 website) is taken as it is, and so is any
//! other set Route 53 takes.

use aws_sdk_route53::types::{ResourceRecord, RrType};

use super::{
    accepted, alias, alias_here, built, create, delete, plain, refused, refused_as, set, simple,
    weighted, zone, ZONE_ID,
};

/// An ALB's hosted zone id in us-east-1 and a name of the shape ELB gives it.
const ALB_ZONE: &str = "Z35SXDOTRQ7X7K";
const ALB_NAME: &str = "dualstack.internal-web-1234567890.us-east-1.elb.amazonaws.com.";

/// [RRSET] "TTL": "If you're creating or updating an alias resource record set, omit TTL";
/// "ResourceRecords": "If you're creating an alias resource record set, omit
/// ResourceRecords".
#[tokio::test]
async fn an_alias_carries_no_ttl_and_no_values() {
    let model = zone();
    accepted(
        &model,
        vec![create(simple("db", RrType::A, &["10.0.0.9"]))],
        "a target",
    )
    .await;
    let with_ttl = built(alias_here("web", RrType::A, "db").ttl(60));
    refused_as(
        &model,
        vec![create(with_ttl)],
        "InvalidInput",
        "but found more than one",
    )
    .await;
    let with_values = built(
        alias_here("web", RrType::A, "db")
            .resource_records(ResourceRecord::builder().value("10.0.0.1").build().unwrap()),
    );
    refused_as(
        &model,
        vec![create(with_values)],
        "InvalidInput",
        "but found more than one",
    )
    .await;
    accepted(
        &model,
        vec![create(built(alias_here("web", RrType::A, "db")))],
        "a bare alias",
    )
    .await;
}

/// [RRSET] "MultiValueAnswer": "You can't create multivalue answer alias records"; [MULTI]
/// "Creating multivalue answer alias records is not supported."
#[tokio::test]
async fn multivalue_aliases_are_refused() {
    let model = zone();
    accepted(
        &model,
        vec![create(simple("db", RrType::A, &["10.0.0.9"]))],
        "a target",
    )
    .await;
    let multivalue = built(
        alias_here("web", RrType::A, "db")
            .set_identifier("m")
            .multi_value_answer(true),
    );
    refused(
        &model,
        vec![create(multivalue)],
        "is a multivalue answer alias",
    )
    .await;
    let weighted_alias = built(
        alias_here("web", RrType::A, "db")
            .set_identifier("w")
            .weight(1),
    );
    accepted(
        &model,
        vec![create(weighted_alias)],
        "a weighted alias is fine",
    )
    .await;
}

/// [TARGET] "Another Route 53 resource record set in your hosted zone: Specify the value of
/// the Name element for a resource record set in the current hosted zone", and [ALIAS]
/// "The alias record must have the same type as the record you're routing traffic to":
/// Route 53 answers "Tried to create an alias that targets …, but that target was not
/// found". The target may come in the same batch; [RRSET] "Type": NS and SOA aliases into
/// the zone are not supported.
#[tokio::test]
async fn an_alias_into_the_zone_needs_a_target_of_its_type() {
    let model = zone();
    refused(
        &model,
        vec![create(built(alias_here("web", RrType::A, "db")))],
        "targets db.model.internal., type A in zone ZMODEL1, but that target was not found",
    )
    .await;
    accepted(
        &model,
        vec![create(simple("db", RrType::Aaaa, &["2001:db8::9"]))],
        "an AAAA",
    )
    .await;
    refused(
        &model,
        vec![create(built(alias_here("web", RrType::A, "db")))],
        "but that target was not found",
    )
    .await;
    let outside = built(alias("web", RrType::A, ZONE_ID, "db.example.com."));
    refused(
        &model,
        vec![create(outside)],
        "does not lie within the target zone",
    )
    .await;
    accepted(
        &model,
        vec![
            create(built(alias_here("web", RrType::A, "db"))),
            create(simple("db", RrType::A, &["10.0.0.9"])),
        ],
        "an alias and its target in one batch",
    )
    .await;
    accepted(
        &model,
        vec![create(simple("ns", RrType::Ns, &["ns1.example.com."]))],
        "an NS",
    )
    .await;
    refused(
        &model,
        vec![create(built(alias_here("ns-alias", RrType::Ns, "ns")))],
        "is an alias of type NS to a record of this zone",
    )
    .await;
}

/// [OVER100] "Route 53 permits up to three levels of recursion": two levels of aliases
/// over a level of values (100 × 100 × 100 endpoints). A third alias, or an alias that
/// comes back round, is refused.
#[tokio::test]
async fn alias_chains_stop_at_three_levels_and_never_loop() {
    let model = zone();
    let hop = |from: &str, id: &str, to: &str| {
        built(alias_here(from, RrType::A, to).set_identifier(id).weight(1))
    };
    accepted(
        &model,
        vec![
            create(weighted("leaf", "t0", 1, "10.0.0.1")),
            create(hop("mid", "b0", "leaf")),
            create(hop("top", "r0", "mid")),
        ],
        "top → mid → leaf: three levels",
    )
    .await;
    refused(
        &model,
        vec![create(hop("over", "x0", "top"))],
        "chain 3 aliases deep",
    )
    .await;
    refused(
        &model,
        vec![create(hop("self", "s0", "self"))],
        "chain without end",
    )
    .await;
    accepted(
        &model,
        vec![create(weighted("ping", "p", 1, "10.0.0.2"))],
        "a name",
    )
    .await;
    refused(
        &model,
        vec![
            delete(weighted("ping", "p", 1, "10.0.0.2")),
            create(hop("ping", "p-alias", "pong")),
            create(hop("pong", "q-alias", "ping")),
        ],
        "chain without end",
    )
    .await;
}

/// [RRSET] "AliasTarget": "You can't create an alias resource record set in a private
/// hosted zone to route traffic to a CloudFront distribution" (hosted zone Z2FDTNDATAQYW2);
/// the model's zone is private, as ecs-srv's are.
#[tokio::test]
async fn cloudfront_aliases_are_refused_in_a_private_zone() {
    let model = zone();
    let cdn = built(alias(
        "cdn",
        RrType::A,
        "Z2FDTNDATAQYW2",
        "d111111abcdef8.cloudfront.net.",
    ));
    refused(
        &model,
        vec![create(cdn)],
        "aliases a CloudFront distribution",
    )
    .await;
}

/// Real zones hold what others wrote: aliases to an ALB, a VPC endpoint and an S3 website
/// (each with its own hosted zone id), CNAME, TXT, MX and CAA sets, and a weighted set of
/// several values (which Route 53 takes; see `calls` for why ecs-srv writes one). All of
/// it seeds, and lists back as it went in.
#[tokio::test]
async fn seeding_takes_any_set_route53_takes() {
    let model = zone();
    let sets = vec![
        built(alias("alb", RrType::A, ALB_ZONE, ALB_NAME)),
        built(alias("alb", RrType::Aaaa, ALB_ZONE, ALB_NAME)),
        built(alias(
            "api-endpoint",
            RrType::A,
            "Z7HUB22UULQXV",
            "vpce-0123456789abcdef0-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com.",
        )),
        built(alias(
            "static",
            RrType::A,
            "Z3AQBSTGFYJSTF",
            "s3-website-us-east-1.amazonaws.com.",
        )),
        built(
            alias("blue-green", RrType::A, ALB_ZONE, ALB_NAME)
                .set_identifier("blue")
                .weight(9),
        ),
        simple("legacy", RrType::Cname, &["old-lb.example.com"]),
        simple("@", RrType::Txt, &["\"v=spf1 -all\"", "\"team=platform\""]),
        simple(
            "@",
            RrType::Mx,
            &["10 mail.example.com", "20 backup.example.com"],
        ),
        simple("@", RrType::Caa, &["0 issue \"amazon.com\""]),
        set(
            "canary",
            RrType::A,
            Some("pool"),
            Some(2),
            30,
            &["10.0.1.1", "10.0.1.2"],
        ),
        built(
            plain("@", RrType::Srv, 60, &["0 5 389 ldap.example.com."])
                .set_identifier("ldap")
                .multi_value_answer(true),
        ),
    ];
    model.lock().unwrap().seed(sets.clone());
    let held = model.lock().unwrap().record_sets();
    assert_eq!(held.len(), sets.len());
    for set in &sets {
        assert!(held.contains(set), "{set:?} is held as it was written");
    }
    assert!(
        model.lock().unwrap().own_choice_breaches().is_empty(),
        "seeding is not ecs-srv writing"
    );
}
