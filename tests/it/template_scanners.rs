//! Both templates through the tools a security review runs on them: checkov (every finding
//! fixed, or skipped in the template with its reason), parliament (every identity policy in
//! every combination of the conditions it depends on) and cfn-lint on `zone-role.yaml`
//! (`template.yaml`'s own run is in `template`).
//!
//! checkov and parliament live in their own venv, `.venv-scanners`, which `make deps`
//! creates from `tests/support/scanner-requirements.txt`: checkov pins boto3 far below the
//! version moto runs on. A missing tool fails the test and says what to run.

use std::collections::BTreeSet;
use std::ffi::OsString;

use serde_json::Value;

use crate::template::{checker, read_template, repo_path, run_checker};
use crate::template_env::Stack;

const SCANNERS: &str = ".venv-scanners";
const TEMPLATES: &[&str] = &["template.yaml", "zone-role.yaml"];

#[test]
fn checkov_finds_nothing_the_templates_do_not_answer_for() {
    let checkov = checker(SCANNERS, "checkov", "CHECKOV");
    let mut args: Vec<OsString> = Vec::new();
    for template in TEMPLATES {
        args.extend(["--file".into(), repo_path(template).into()]);
    }
    // --skip-download: no call to the vendor's platform (this machine has no way out, and
    // the checks ship with the package).
    args.extend(
        [
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
        ]
        .map(OsString::from),
    );
    let (status, report) = run_checker(&checkov, &args);
    let json_start = report.find('{').unwrap_or(0);
    let result: Value = serde_json::from_str(&report[json_start..])
        .unwrap_or_else(|error| panic!("checkov's report is not JSON ({error}):\n{report}"));
    let summary = &result["summary"];
    assert_eq!(
        summary["parsing_errors"], 0,
        "checkov could not parse: {summary}"
    );
    assert!(
        summary["passed"].as_u64().unwrap_or(0) > 0,
        "checkov ran no check: {summary}"
    );
    let failed: Vec<String> = result["results"]["failed_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|check| {
            format!(
                "{} on {}: {}",
                check["check_id"], check["resource"], check["check_name"]
            )
        })
        .collect();
    assert!(
        failed.is_empty(),
        "checkov findings: fix each or skip it in the template (Metadata: checkov: skip:) with its reason:\n{}",
        failed.join("\n")
    );
    assert!(status.success(), "checkov failed ({status}):\n{report}");
    for skipped in result["results"]["skipped_checks"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let reason = skipped["check_result"]["suppress_comment"]
            .as_str()
            .unwrap_or_default();
        assert!(
            reason.len() > 20 && !reason.contains("No comment provided"),
            "{} on {} is skipped without a reason",
            skipped["check_id"],
            skipped["resource"]
        );
    }
}

/// Parameter values that switch every condition a policy depends on, one list per template.
const TEMPLATE_CHOICES: &[(&str, &str, &[&str])] = &[
    (
        "HostedZoneRoleArn",
        "",
        &["arn:aws:iam::210987654321:role/ecs-srv-zone"],
    ),
    ("RecordDomain", "", &["svc.example.internal"]),
    (
        "ClusterArns",
        "",
        &["arn:aws:ecs:us-east-1:123456789012:cluster/prod"],
    ),
    ("UseSqsQueue", "true", &["false"]),
];
const ZONE_ROLE_CHOICES: &[(&str, &str, &[&str])] = &[
    (
        "TrustedAccountIds",
        "123456789012",
        &["", "123456789012,210987654321"],
    ),
    ("TrustedOrganizationId", "", &["o-abcdefghij"]),
    ("ExternalId", "", &["ecs-srv-external-id"]),
    ("RecordDomain", "", &["svc.example.internal"]),
];

/// Every combination of the choices: each parameter at its first value or one of the others.
fn combinations(
    choices: &[(&'static str, &'static str, &[&'static str])],
) -> Vec<Vec<(&'static str, &'static str)>> {
    let mut all = vec![Vec::new()];
    for (name, first, others) in choices {
        let values: Vec<&str> = std::iter::once(*first)
            .chain(others.iter().copied())
            .collect();
        all = all
            .into_iter()
            .flat_map(|chosen: Vec<(&str, &str)>| {
                values.iter().map(move |value| {
                    let mut next = chosen.clone();
                    next.push((*name, *value));
                    next
                })
            })
            .collect();
    }
    all
}

/// The resources a stack with these parameters holds, evaluated.
fn evaluated_resources(template: &Value, chosen: &[(&str, &str)]) -> Vec<(String, Value)> {
    let mut chosen = chosen.to_vec();
    if template["Parameters"].get("HostedZoneId").is_some() {
        chosen.push(("HostedZoneId", "Z0123456789ABCDEFGHIJ"));
    }
    Stack::new(template, &chosen).resources()
}

/// Every policy document in a value: anything with a `Statement`.
fn policy_documents(value: &Value, found: &mut Vec<Value>) {
    match value {
        Value::Object(object) => {
            if object.contains_key("Statement") {
                found.push(value.clone());
            } else {
                object
                    .values()
                    .for_each(|child| policy_documents(child, found));
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|child| policy_documents(child, found)),
        _ => {}
    }
}

/// The identity policies (what a role may do) and the resource policies (who may use a
/// queue, who may assume a role) of every combination, each once.
fn policies_of(
    template: &str,
    choices: &[(&'static str, &'static str, &[&'static str])],
) -> BTreeSet<String> {
    let parsed = read_template(template);
    let mut documents = BTreeSet::new();
    for chosen in combinations(choices) {
        for (_, resource) in evaluated_resources(&parsed, &chosen) {
            let mut found = Vec::new();
            policy_documents(&resource["Properties"], &mut found);
            documents.extend(found.iter().map(Value::to_string));
        }
    }
    documents
}

/// parliament lints identity policies: it asks every statement for a `Resource`, so a role's
/// trust policy (which has none, by IAM's rules) is left to checkov and to
/// `the_zone_role_trusts_only_the_given_accounts_or_organization`; queue policies name their
/// resource and are linted like the rest.
#[test]
fn parliament_accepts_every_policy_in_every_branch() {
    let parliament = checker(SCANNERS, "parliament", "PARLIAMENT");
    let directory = tempfile::tempdir().expect("a temporary directory");
    let mut files = Vec::new();
    for (template, choices) in [
        ("template.yaml", TEMPLATE_CHOICES),
        ("zone-role.yaml", ZONE_ROLE_CHOICES),
    ] {
        for document in policies_of(template, choices) {
            let parsed: Value = serde_json::from_str(&document).expect("JSON");
            let is_trust_policy = parsed["Statement"].as_array().is_some_and(|statements| {
                statements.iter().all(|statement| {
                    statement["Action"] == "sts:AssumeRole" && statement.get("Principal").is_some()
                })
            });
            if is_trust_policy {
                continue;
            }
            let path = directory.path().join(format!(
                "{}-{}.json",
                template.trim_end_matches(".yaml"),
                files.len()
            ));
            std::fs::write(&path, serde_json::to_string_pretty(&parsed).expect("JSON"))
                .expect("writing a policy");
            files.push(path);
        }
    }
    assert!(
        files.len() >= 8,
        "the policies of both templates: {files:?}"
    );
    let list = files
        .iter()
        .map(|path| path.display().to_string())
        .collect::<Vec<_>>()
        .join(",");
    let (status, report) = run_checker(
        &parliament,
        &[
            "--minimum_severity".into(),
            "LOW".into(),
            "--files".into(),
            list.into(),
        ],
    );
    // parliament reads the Service Authorization Reference, whose only resource type for
    // ecs:ListTasks is the container instance; a listing of a whole cluster names none, so
    // AWS authorises it on `*`, which ListTasksOfTheClusters narrows by ecs:cluster (the
    // `iam` tests hold the policy to the binary's real requests). That finding, and only
    // it, is expected.
    let expected = "Unnecessary use of Resource * -  - ['ecs:ListTasks'] -";
    let findings: Vec<&str> = report
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.contains(expected))
        .collect();
    let clean = findings.is_empty() && (status.success() || report.contains(expected));
    let mut details = String::new();
    if !clean {
        for path in &files {
            details.push_str(&format!(
                "{}:\n{}\n",
                path.display(),
                std::fs::read_to_string(path).unwrap_or_default()
            ));
        }
    }
    assert!(
        clean,
        "parliament has findings ({status}):\n{report}\nthe policies:\n{details}"
    );
}

#[test]
fn cfn_lint_accepts_the_zone_role_template() {
    let cfn_lint = checker(".venv", "cfn-lint", "CFN_LINT");
    let (status, report) = run_checker(
        &cfn_lint,
        &["--".into(), repo_path("zone-role.yaml").into()],
    );
    assert!(
        status.success(),
        "cfn-lint zone-role.yaml failed ({status}):\n{report}"
    );
}
