//! One set on its own: a name inside the zone and of legal length, exactly one routing
//! field with a SetIdentifier, a weight from 0 to 255, a TTL in range, 1 to 400 values of
//! at most 4,000 characters, each of its type's syntax.

use aws_sdk_route53::types::{ResourceRecord, ResourceRecordSet, ResourceRecordSetRegion, RrType};

use super::{
    accepted, built, create, plain, refused, refused_as, send, set, simple, weighted, zone,
};

#[tokio::test]
async fn values_names_and_identifiers_are_checked() {
    let model = zone();
    refused(
        &model,
        vec![create(set(
            "web",
            RrType::A,
            None,
            None,
            60,
            &["10.0.0.256"],
        ))],
        "ARRDATAIllegalIPv4Address",
    )
    .await;
    refused(
        &model,
        vec![create(set(
            "web",
            RrType::Srv,
            None,
            None,
            60,
            &["1 1 http web."],
        ))],
        "SRVRDATA",
    )
    .await;
    let outside = ResourceRecordSet::builder()
        .name("web.example.com.")
        .r#type(RrType::A)
        .ttl(1)
        .resource_records(ResourceRecord::builder().value("10.0.0.1").build().unwrap())
        .build()
        .unwrap();
    refused(
        &model,
        vec![create(outside)],
        "is not permitted in zone model.internal.",
    )
    .await;
    refused(
        &model,
        vec![create(set(
            &"x".repeat(64),
            RrType::A,
            None,
            None,
            60,
            &["10.0.0.1"],
        ))],
        "DomainLabelTooLong",
    )
    .await;
    let long_id = "i".repeat(129);
    let (code, _) = send(
        &model,
        vec![create(weighted("web", &long_id, 1, "10.0.0.1"))],
    )
    .await
    .unwrap_err();
    assert_eq!(code, "InvalidInput");
}

/// [NAMES] "Each label can be up to 63 bytes long. The total length of a domain name cannot
/// exceed 255 bytes, including the dots": the dots between labels, not the trailing dot
/// that only marks the name absolute. An octal escape is one byte.
#[tokio::test]
async fn names_are_measured_without_the_trailing_dot() {
    let model = zone();
    // "model.internal" is 14 bytes; with its dot, 15 more are taken by the apex.
    let label = |len: usize| "a".repeat(len);
    let name_of = |total: usize| {
        let mut left = total - "model.internal".len() - 1;
        let mut labels = Vec::new();
        while left > 0 {
            let len = left.min(63);
            labels.push(label(len));
            left -= len;
            left = left.saturating_sub(1);
        }
        labels.join(".")
    };
    let longest = name_of(255);
    assert_eq!(
        format!("{longest}.model.internal").len(),
        255,
        "the test's own arithmetic"
    );
    accepted(
        &model,
        vec![create(simple(&longest, RrType::A, &["10.0.0.1"]))],
        "255 bytes without the trailing dot",
    )
    .await;
    refused(
        &model,
        vec![create(simple(&name_of(256), RrType::A, &["10.0.0.1"]))],
        "DomainNameTooLong (256 bytes; at most 255)",
    )
    .await;
    accepted(
        &model,
        vec![create(simple(&label(63), RrType::A, &["10.0.0.1"]))],
        "a label of 63 bytes",
    )
    .await;
    refused(
        &model,
        vec![create(simple(&label(64), RrType::A, &["10.0.0.1"]))],
        "DomainLabelTooLong",
    )
    .await;
    refused(
        &model,
        vec![create(simple("a..b", RrType::A, &["10.0.0.1"]))],
        "DomainLabelEmpty",
    )
    .await;
    let escaped = format!("{}\\052", label(62));
    accepted(
        &model,
        vec![create(simple(&escaped, RrType::A, &["10.0.0.1"]))],
        "an escape counts as the one byte it stands for",
    )
    .await;
}

/// [RRSET]: each routing field belongs to one policy ("Weighted resource record sets
/// only", "Latency-based resource record sets only", "Multivalue answer resource record
/// sets only"), and a set with a SetIdentifier names exactly one of them.
#[tokio::test]
async fn a_set_identifier_needs_exactly_one_routing_field() {
    let model = zone();
    let none = built(plain("web", RrType::A, 10, &["10.0.0.1"]).set_identifier("a"));
    refused_as(&model, vec![create(none)], "InvalidInput", "but found none").await;
    let two = built(
        plain("web", RrType::A, 10, &["10.0.0.1"])
            .set_identifier("a")
            .weight(1)
            .region(ResourceRecordSetRegion::UsEast1),
    );
    refused_as(
        &model,
        vec![create(two)],
        "InvalidInput",
        "but found Weight, Region",
    )
    .await;
    let weighted_and_multivalue = built(
        plain("web", RrType::A, 10, &["10.0.0.1"])
            .set_identifier("a")
            .weight(1)
            .multi_value_answer(true),
    );
    refused_as(
        &model,
        vec![create(weighted_and_multivalue)],
        "InvalidInput",
        "but found Weight, MultiValueAnswer",
    )
    .await;
    accepted(
        &model,
        vec![create(weighted("web", "a", 1, "10.0.0.1"))],
        "one field",
    )
    .await;
}

/// [RRSET] "SetIdentifier": "Resource record sets that have a routing policy other than
/// simple" carry one, of 1 to 128 characters.
#[tokio::test]
async fn routing_fields_need_a_set_identifier() {
    let model = zone();
    let routed = [
        plain("web", RrType::A, 10, &["10.0.0.1"]).weight(1),
        plain("web", RrType::A, 10, &["10.0.0.1"]).multi_value_answer(true),
        plain("web", RrType::A, 10, &["10.0.0.1"]).region(ResourceRecordSetRegion::EuWest1),
    ];
    for builder in routed {
        refused_as(
            &model,
            vec![create(built(builder))],
            "InvalidInput",
            "Missing field 'SetIdentifier'",
        )
        .await;
    }
    refused_as(
        &model,
        vec![create(weighted("web", "", 1, "10.0.0.1"))],
        "InvalidInput",
        "Member must have length between 1 and 128",
    )
    .await;
    accepted(
        &model,
        vec![create(weighted("web", &"i".repeat(128), 1, "10.0.0.1"))],
        "128 characters",
    )
    .await;
}

/// [RRSET] "Weight … Valid Range: Minimum value of 0. Maximum value of 255"; [WEIGHTED]
/// "Enter an integer between 0 and 255".
#[tokio::test]
async fn weights_run_from_0_to_255() {
    let model = zone();
    for weight in [-1, 256] {
        refused_as(
            &model,
            vec![create(weighted("web", "a", weight, "10.0.0.1"))],
            "InvalidInput",
            "Member must have value between 0 and 255",
        )
        .await;
    }
    accepted(
        &model,
        vec![
            create(weighted("web", "zero", 0, "10.0.0.1")),
            create(weighted("web", "most", 255, "10.0.0.2")),
        ],
        "0 and 255 are weights",
    )
    .await;
}

/// [RRSET] "TTL": required for a set that is no alias, "Valid Range: Minimum value of 0.
/// Maximum value of 2147483647".
#[tokio::test]
async fn a_plain_set_needs_a_ttl_in_range() {
    let model = zone();
    let no_ttl = ResourceRecordSet::builder()
        .name("web.model.internal.")
        .r#type(RrType::A)
        .resource_records(ResourceRecord::builder().value("10.0.0.1").build().unwrap())
        .build()
        .unwrap();
    refused_as(
        &model,
        vec![create(no_ttl)],
        "InvalidInput",
        "[AliasTarget, all of [TTL, and ResourceRecords]], but found none",
    )
    .await;
    for ttl in [-1, 2_147_483_648] {
        refused_as(
            &model,
            vec![create(set(
                "web",
                RrType::A,
                None,
                None,
                ttl,
                &["10.0.0.1"],
            ))],
            "InvalidInput",
            "Member must have value between 0 and 2147483647",
        )
        .await;
    }
    accepted(
        &model,
        vec![
            create(set("a", RrType::A, None, None, 0, &["10.0.0.1"])),
            create(set(
                "b",
                RrType::A,
                None,
                None,
                2_147_483_647,
                &["10.0.0.1"],
            )),
        ],
        "0 and 2147483647 are TTLs",
    )
    .await;
}

/// [RRSET] "ResourceRecords … Array Members: Minimum number of 1 item"; [QUOTAS] "Values
/// in a record: 400 per record".
#[tokio::test]
async fn a_plain_set_holds_1_to_400_values() {
    let model = zone();
    refused_as(
        &model,
        vec![create(simple("web", RrType::A, &[]))],
        "InvalidInput",
        "but found none",
    )
    .await;
    let addresses: Vec<String> = (0..401)
        .map(|i| format!("10.1.{}.{}", i / 250, i % 250))
        .collect();
    let refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
    refused(
        &model,
        vec![create(simple("web", RrType::A, &refs))],
        "holds 401 values; a record set holds at most 400",
    )
    .await;
    accepted(
        &model,
        vec![create(simple("web", RrType::A, &refs[..400]))],
        "400 values",
    )
    .await;
}

/// [RECORD] "Value: The current or new DNS record value, not to exceed 4,000 characters".
#[tokio::test]
async fn a_value_holds_at_most_4000_characters() {
    let model = zone();
    let text = |len: usize| format!("\"{}\"", "t".repeat(len - 2));
    refused_as(
        &model,
        vec![create(simple("txt", RrType::Txt, &[&text(4_001)]))],
        "InvalidInput",
        "Member must have length less than or equal to 4000",
    )
    .await;
    accepted(
        &model,
        vec![create(simple("txt", RrType::Txt, &[&text(4_000)]))],
        "4,000 characters",
    )
    .await;
}

/// [TYPES]: an A value is "an IPv4 address in dotted decimal notation", an AAAA value "an
/// IPv6 address in colon-separated hexadecimal format", SRV "[priority] [weight] [port]
/// [server host name]", MX a priority and a domain name, CNAME a domain name.
#[tokio::test]
async fn values_follow_their_type() {
    let model = zone();
    let bad = [
        (RrType::A, "10.0.0", "ARRDATAIllegalIPv4Address"),
        (RrType::Aaaa, "2001:db8::g", "AAAARRDATAIllegalIPv6Address"),
        (RrType::Aaaa, "10.0.0.1", "AAAARRDATAIllegalIPv6Address"),
        (RrType::Srv, "1 1 65536 web.model.internal.", "SRVRDATA"),
        (RrType::Srv, "1 1 80", "SRVRDATA"),
        (RrType::Mx, "mail.example.com", "MXRDATATooFewFields"),
        (RrType::Cname, "a..b", "illegal domain name"),
    ];
    for (kind, value, fragment) in bad {
        refused(&model, vec![create(simple("v", kind, &[value]))], fragment).await;
    }
    let good = [
        ("a", RrType::A, "10.0.0.1"),
        ("aaaa", RrType::Aaaa, "2001:db8::1"),
        (
            "aaaa-full",
            RrType::Aaaa,
            "2001:0db8:85a3:0:0:8a2e:0370:7334",
        ),
        ("srv", RrType::Srv, "1 1 80 web.model.internal."),
        ("mx", RrType::Mx, "10 mail.example.com"),
        ("cname", RrType::Cname, "web.example.com"),
    ];
    for (label, kind, value) in good {
        accepted(&model, vec![create(simple(label, kind, &[value]))], value).await;
    }
}
