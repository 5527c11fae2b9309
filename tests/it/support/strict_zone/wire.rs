//! Route 53's REST-XML answers, written by hand so that the model's replies go through
//! the SDK's real deserializers, as production replies do.
//!
//! Only the fields ecs-srv and its tests use are rendered; a seeded set that carries any
//! other field panics here rather than losing it silently.

use aws_sdk_route53::types::ResourceRecordSet;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;

const NAMESPACE: &str = "https://route53.amazonaws.com/doc/2013-04-01/";

/// Escapes text for an XML element.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            other => out.push(other),
        }
    }
    out
}

/// An HTTP response with an XML body.
pub fn response(status: u16, body: String) -> HttpResponse {
    let mut response = HttpResponse::new(
        StatusCode::try_from(status).expect("a valid status"),
        body.into(),
    );
    response.headers_mut().insert("content-type", "text/xml");
    response
}

/// Route 53's error envelope; the SDK reads Code and Message from it.
pub fn error(status: u16, code: &str, message: &str) -> HttpResponse {
    response(
        status,
        format!(
            r#"<?xml version="1.0"?><ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>strict-zone</RequestId></ErrorResponse>"#,
            escape(code),
            escape(message)
        ),
    )
}

/// GetHostedZone's answer.
pub fn hosted_zone(zone_id: &str, apex: &str, set_count: usize) -> HttpResponse {
    response(
        200,
        format!(
            r#"<?xml version="1.0"?><GetHostedZoneResponse xmlns="{NAMESPACE}"><HostedZone><Id>/hostedzone/{}</Id><Name>{}</Name><CallerReference>strict-zone</CallerReference><Config><PrivateZone>true</PrivateZone></Config><ResourceRecordSetCount>{set_count}</ResourceRecordSetCount></HostedZone></GetHostedZoneResponse>"#,
            escape(zone_id),
            escape(apex)
        ),
    )
}

/// ChangeResourceRecordSets' answer.
pub fn change_info(change_id: &str) -> HttpResponse {
    response(
        200,
        format!(
            r#"<?xml version="1.0"?><ChangeResourceRecordSetsResponse xmlns="{NAMESPACE}"><ChangeInfo><Id>/change/{}</Id><Status>PENDING</Status><SubmittedAt>2025-06-02T09:00:00.000Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>"#,
            escape(change_id)
        ),
    )
}

/// One page of ListResourceRecordSets; `next` is the first set not on the page.
pub fn listing(
    sets: &[&ResourceRecordSet],
    next: Option<&ResourceRecordSet>,
    max_items: usize,
) -> HttpResponse {
    let mut body = format!(
        r#"<?xml version="1.0"?><ListResourceRecordSetsResponse xmlns="{NAMESPACE}"><ResourceRecordSets>"#
    );
    for set in sets {
        body.push_str(&record_set(set));
    }
    body.push_str("</ResourceRecordSets>");
    body.push_str(&format!("<IsTruncated>{}</IsTruncated>", next.is_some()));
    if let Some(next) = next {
        body.push_str(&format!(
            "<NextRecordName>{}</NextRecordName>",
            escape(next.name())
        ));
        body.push_str(&format!(
            "<NextRecordType>{}</NextRecordType>",
            escape(next.r#type().as_str())
        ));
        if let Some(id) = next.set_identifier() {
            body.push_str(&format!(
                "<NextRecordIdentifier>{}</NextRecordIdentifier>",
                escape(id)
            ));
        }
    }
    body.push_str(&format!(
        "<MaxItems>{max_items}</MaxItems></ListResourceRecordSetsResponse>"
    ));
    response(200, body)
}

fn record_set(set: &ResourceRecordSet) -> String {
    let unrendered = set.geo_location().is_some()
        || set.traffic_policy_instance_id().is_some()
        || set.cidr_routing_config().is_some()
        || set.geo_proximity_location().is_some();
    assert!(
        !unrendered,
        "the strict zone cannot render every field of {set:?}"
    );
    let mut xml = format!(
        "<ResourceRecordSet><Name>{}</Name><Type>{}</Type>",
        escape(set.name()),
        escape(set.r#type().as_str())
    );
    if let Some(id) = set.set_identifier() {
        xml.push_str(&format!("<SetIdentifier>{}</SetIdentifier>", escape(id)));
    }
    if let Some(weight) = set.weight() {
        xml.push_str(&format!("<Weight>{weight}</Weight>"));
    }
    if let Some(region) = set.region() {
        xml.push_str(&format!("<Region>{}</Region>", escape(region.as_str())));
    }
    if let Some(failover) = set.failover() {
        xml.push_str(&format!(
            "<Failover>{}</Failover>",
            escape(failover.as_str())
        ));
    }
    if let Some(multi) = set.multi_value_answer() {
        xml.push_str(&format!("<MultiValueAnswer>{multi}</MultiValueAnswer>"));
    }
    if let Some(ttl) = set.ttl() {
        xml.push_str(&format!("<TTL>{ttl}</TTL>"));
    }
    if !set.resource_records().is_empty() {
        xml.push_str("<ResourceRecords>");
        for record in set.resource_records() {
            xml.push_str(&format!(
                "<ResourceRecord><Value>{}</Value></ResourceRecord>",
                escape(record.value())
            ));
        }
        xml.push_str("</ResourceRecords>");
    }
    if let Some(alias) = set.alias_target() {
        xml.push_str(&format!(
            "<AliasTarget><HostedZoneId>{}</HostedZoneId><DNSName>{}</DNSName><EvaluateTargetHealth>{}</EvaluateTargetHealth></AliasTarget>",
            escape(alias.hosted_zone_id()),
            escape(alias.dns_name()),
            alias.evaluate_target_health()
        ));
    }
    if let Some(check) = set.health_check_id() {
        xml.push_str(&format!("<HealthCheckId>{}</HealthCheckId>", escape(check)));
    }
    xml.push_str("</ResourceRecordSet>");
    xml
}
