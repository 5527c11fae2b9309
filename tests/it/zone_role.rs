//! `zone-role.yaml`, the template for a zone's account: the role that ecs-srv functions of
//! other accounts assume for their Route 53 calls. It may do exactly what the workload
//! template's own Route 53 statements allow, and it trusts only whom its parameters name.

use serde_json::{json, Value};

use crate::template::{read_template, role_statements, route53_change_condition, template};
use crate::template_env::Stack;

const ZONE: &str = "Z0123456789ABCDEFGHIJ";

fn zone_role_stack<'a>(zone_role: &'a Value, chosen: &[(&str, &str)]) -> Stack<'a> {
    let mut chosen = chosen.to_vec();
    chosen.push(("HostedZoneId", ZONE));
    Stack::new(zone_role, &chosen)
}

#[test]
fn the_zone_role_may_do_what_the_function_may_do_in_its_own_account() {
    let workload = template();
    let zone_role = read_template("zone-role.yaml");
    for domain in ["", "svc.example.internal"] {
        let in_this_account = Stack::new(
            &workload,
            &[("HostedZoneId", ZONE), ("RecordDomain", domain)],
        );
        let route53_of_the_function: Vec<Value> =
            role_statements(&in_this_account, "PublisherRole")
                .into_iter()
                .filter(|statement| statement.to_string().contains("\"route53:"))
                .collect();
        let of_the_zone_role = role_statements(
            &zone_role_stack(&zone_role, &[("RecordDomain", domain)]),
            "ZoneRole",
        );
        assert_eq!(
            of_the_zone_role, route53_of_the_function,
            "RecordDomain {domain:?}: the zone role's policy and the function's Route 53 statements differ"
        );
        let change = of_the_zone_role
            .iter()
            .find(|statement| statement["Action"] == "route53:ChangeResourceRecordSets")
            .expect("the change statement");
        assert_eq!(change["Condition"], route53_change_condition(domain));
        assert_eq!(
            change["Resource"],
            format!("arn:aws:route53:::hostedzone/{ZONE}")
        );
    }
}

fn trust_statement(zone_role: &Value, chosen: &[(&str, &str)]) -> Value {
    let stack = zone_role_stack(zone_role, chosen);
    let (_, role) = stack
        .resources()
        .into_iter()
        .find(|(name, _)| name == "ZoneRole")
        .expect("the role");
    let statements = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        .as_array()
        .expect("trust statements")
        .clone();
    assert_eq!(statements.len(), 1, "{statements:?}");
    statements[0].clone()
}

#[test]
fn the_zone_role_trusts_only_the_given_accounts_or_organization() {
    let zone_role = read_template("zone-role.yaml");
    let roles_only = json!({ "aws:PrincipalArn": "arn:aws:iam::*:role/*-PublisherRole-*" });

    let accounts = trust_statement(
        &zone_role,
        &[("TrustedAccountIds", "111111111111,222222222222")],
    );
    assert_eq!(accounts["Action"], "sts:AssumeRole");
    assert_eq!(accounts["Effect"], "Allow");
    assert_eq!(
        accounts["Principal"],
        json!({ "AWS": ["111111111111", "222222222222"] })
    );
    assert_eq!(accounts["Condition"]["ArnLike"], roles_only);
    assert_eq!(
        accounts["Condition"]["StringEquals"],
        json!({ "aws:PrincipalType": "AssumedRole" })
    );

    let organization = trust_statement(&zone_role, &[("TrustedOrganizationId", "o-abcdefghij")]);
    assert_eq!(organization["Principal"], json!({ "AWS": "*" }));
    assert_eq!(
        organization["Condition"]["StringEquals"],
        json!({ "aws:PrincipalType": "AssumedRole", "aws:PrincipalOrgID": "o-abcdefghij" }),
        "every account, but only of the organization"
    );
    assert_eq!(organization["Condition"]["ArnLike"], roles_only);

    let both_with_external_id = trust_statement(
        &zone_role,
        &[
            ("TrustedAccountIds", "111111111111"),
            ("TrustedOrganizationId", "o-abcdefghij"),
            ("ExternalId", "shared-zone-2026"),
        ],
    );
    assert_eq!(
        both_with_external_id["Principal"],
        json!({ "AWS": ["111111111111"] })
    );
    assert_eq!(
        both_with_external_id["Condition"]["StringEquals"],
        json!({
            "aws:PrincipalType": "AssumedRole",
            "aws:PrincipalOrgID": "o-abcdefghij",
            "sts:ExternalId": "shared-zone-2026"
        })
    );

    // Nobody trusted is refused before anything is created.
    let rule = &zone_role["Rules"]["SomebodyIsTrusted"]["Assertions"][0]["Assert"];
    let holds = |chosen: &[(&str, &str)]| {
        zone_role_stack(&zone_role, chosen).eval(rule) == Some(json!(true))
    };
    assert!(!holds(&[]));
    assert!(holds(&[("TrustedAccountIds", "111111111111")]));
    assert!(holds(&[("TrustedOrganizationId", "o-abcdefghij")]));

    assert_eq!(
        zone_role["Outputs"]["RoleArn"]["Value"],
        json!({ "Fn::GetAtt": "ZoneRole.Arn" })
    );
}
