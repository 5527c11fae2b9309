//! Records other people keep in the zone, of every kind, at and under the service names a
//! case publishes: simple sets, weighted sets with another TTL, CNAMEs, aliases to an ALB
//! out of the zone, and a look-alike of ecs-srv's mark. Every one must survive byte for
//! byte, and none may stop a task from publishing.

use aws_sdk_route53::types::{AliasTarget, ResourceRecordSet, RrType};

use super::scenario::Scenario;
use crate::simulated::layout::expected::service_path;
use crate::simulated::layout::Layout;
use crate::simulated::record_set;

/// An internal ALB's hosted zone id in us-east-1, and a name of the shape ELB gives it.
const ALB_ZONE: &str = "Z35SXDOTRQ7X7K";
const ALB_NAME: &str = "dualstack.internal-web-1234567890.us-east-1.elb.amazonaws.com.";
/// The most sets of a service beside which a foreign weighted set may stand at its name:
/// with it, the name can never become a tree (that refusal has its own test).
const MAX_BESIDE_FOREIGN: usize = 60;

fn built(builder: aws_sdk_route53::types::builders::ResourceRecordSetBuilder) -> ResourceRecordSet {
    builder.build().expect("a complete set")
}

fn alias_to_alb(name: &str, kind: RrType) -> ResourceRecordSet {
    built(
        ResourceRecordSet::builder()
            .name(name)
            .r#type(kind)
            .alias_target(
                AliasTarget::builder()
                    .hosted_zone_id(ALB_ZONE)
                    .dns_name(ALB_NAME)
                    .evaluate_target_health(true)
                    .build()
                    .expect("a complete alias target"),
            ),
    )
}

/// The foreign sets of a case: some at the apex and elsewhere, and per service name `N`
/// (`S.Z`, `S.C.Z`, `S.R.Z`, as the settings name it) a TXT at `N`, a simple A, a CNAME,
/// ALB aliases and a weighted A of another TTL under `N`; beside weighted publishing, a
/// hand-made canary in `N`'s weighted group (with the group's TTL) while the service stays
/// small.
pub fn foreign_records(scenario: &Scenario, layout: &Layout) -> Vec<ResourceRecordSet> {
    let apex = &layout.apex;
    let mut sets = vec![
        built(record_set(
            apex,
            RrType::Txt,
            300,
            &["\"v=spf1 -all\"", "\"owner=<platform & team>\""],
        )),
        built(record_set(
            &format!("db.{apex}"),
            RrType::A,
            60,
            &["10.9.0.5"],
        )),
        built(record_set(
            &format!("_ldap._tcp.corp.{apex}"),
            RrType::Srv,
            600,
            &["0 5 389 ldap.corp.example."],
        )),
        built(
            record_set(&format!("legacy.{apex}"), RrType::A, 10, &["10.9.0.7"])
                .set_identifier(format!("{}:feedface:svc:00000000", layout.writer.owner))
                .weight(1),
        ),
    ];
    let mut names: Vec<(String, usize)> = Vec::new();
    for (task, _) in &scenario.tasks {
        let name = format!("{}.{apex}", service_path(layout, task));
        match names.iter_mut().find(|(held, _)| *held == name) {
            Some((_, count)) => *count += 1,
            None => names.push((name, 1)),
        }
    }
    for (name, tasks) in names {
        sets.push(built(record_set(
            &name,
            RrType::Txt,
            300,
            &["\"team=payments\""],
        )));
        sets.push(built(record_set(
            &format!("db.{name}"),
            RrType::A,
            60,
            &["10.9.1.5"],
        )));
        sets.push(built(record_set(
            &format!("www.{name}"),
            RrType::Cname,
            300,
            &["web.example.com."],
        )));
        sets.push(alias_to_alb(&format!("lb.{name}"), RrType::A));
        sets.push(alias_to_alb(&format!("lb.{name}"), RrType::Aaaa));
        sets.push(built(
            record_set(&format!("canary.{name}"), RrType::A, 300, &["10.9.1.6"])
                .set_identifier("manual-canary")
                .weight(3),
        ));
        if !scenario.multivalue && tasks <= MAX_BESIDE_FOREIGN {
            sets.push(built(
                record_set(&name, RrType::A, layout.ttl, &["10.9.1.7"])
                    .set_identifier("manual-canary")
                    .weight(3),
            ));
        }
    }
    sets
}
