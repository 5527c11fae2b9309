//! The verdict on one configuration: whose request each is (the function's own key, or a
//! key the zone role's AssumeRole handed out), whether that principal's policy, resolved
//! for the configuration, allows it, and whether each grant of the policy is needed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::behalf::lambda_requests;
use super::evaluate::{allowed, applies, glob, resource_patterns};
use super::requests::{authorisation, Authorisation, IamRequest};
use super::scene::{Configuration, Scene};
use crate::support::signed_request::SignedRequest;
use crate::template::{as_list, read_template, role_statements, template};
use crate::template_env::Stack;

/// A principal: its policy, resolved, and the requests it must answer for.
struct Principal {
    name: String,
    /// How its requests are told apart: by a function's own key, or by the role whose
    /// credentials AssumeRole handed out.
    signs_with: Signer,
    account: String,
    statements: Vec<Value>,
    requests: Vec<IamRequest>,
}

#[derive(PartialEq, Eq)]
enum Signer {
    Key(String),
    AssumedRole(String),
}

pub fn judge(config: &Configuration, scene: &Scene, recorded: &[SignedRequest]) {
    assert!(
        !recorded.is_empty(),
        "{}: the proxy saw no request",
        config.name
    );
    let mut principals = principals(config, scene);
    // Keys handed out by AssumeRole, and for which role.
    let issued: BTreeMap<&str, String> = recorded
        .iter()
        .filter_map(|r| Some((r.issued_key.as_deref()?, r.form("RoleArn")?)))
        .collect();
    for request in recorded {
        let key = Signer::Key(request.access_key.clone());
        let signer = match principals.iter().any(|p| p.signs_with == key) {
            true => key,
            false => Signer::AssumedRole(
                issued
                    .get(request.access_key.as_str())
                    .unwrap_or_else(|| {
                        panic!(
                            "{}: {} is signed by {}, neither a function's key nor one AssumeRole handed out",
                            config.name,
                            request.name(),
                            request.access_key
                        )
                    })
                    .clone(),
            ),
        };
        let principal = principals
            .iter_mut()
            .find(|p| p.signs_with == signer)
            .unwrap_or_else(|| {
                panic!(
                    "{}: {} is signed with credentials of a role that is not the zone role",
                    config.name,
                    request.name()
                )
            });
        if let Authorisation::Needs(iam) = authorisation(request, &principal.account) {
            principal.requests.push(iam);
        }
    }

    let mut problems = BTreeSet::new();
    for principal in &principals {
        for request in &principal.requests {
            if let Err(why) = allowed(&principal.statements, request) {
                let what = &request.what;
                problems.insert(format!("{}: {what} is not allowed: {why}", principal.name));
            }
        }
        problems.extend(unneeded(principal));
    }
    let problems: Vec<String> = problems.into_iter().collect();
    assert!(
        problems.is_empty(),
        "{}:\n{}",
        config.name,
        problems.join("\n")
    );
    paths_were_taken(config, scene, recorded);
}

/// The function's role (with what Lambda does with it), on the SQS path the packer's role
/// (likewise) and, when there is one, the zone role, each with its policy resolved for the
/// configuration.
fn principals(config: &Configuration, scene: &Scene) -> Vec<Principal> {
    let workload = template();
    let stack = resolved(&workload, &scene.parameters, config.account);
    let mut principals = vec![Principal {
        name: "PublisherRole (template.yaml)".to_owned(),
        signs_with: Signer::Key(scene.function.key.clone()),
        account: config.account.to_owned(),
        statements: role_statements(&stack, "PublisherRole"),
        requests: lambda_requests(&stack, config.account, "PublisherFunction"),
    }];
    if let Some((packer, _)) = &scene.packer {
        principals.push(Principal {
            name: "PackerRole (template.yaml)".to_owned(),
            signs_with: Signer::Key(packer.key.clone()),
            account: config.account.to_owned(),
            statements: role_statements(&stack, "PackerRole"),
            requests: lambda_requests(&stack, config.account, "PackerFunction"),
        });
    }
    if let (Some((arn, parameters)), Some(account)) = (&scene.zone_role, config.zone_account) {
        let zone_template = read_template("zone-role.yaml");
        let stack = resolved(&zone_template, parameters, account);
        principals.push(Principal {
            name: format!("ZoneRole (zone-role.yaml) as {arn}"),
            signs_with: Signer::AssumedRole(arn.clone()),
            account: account.to_owned(),
            statements: role_statements(&stack, "ZoneRole"),
            requests: Vec::new(),
        });
    }
    principals
}

/// A template deployed in `account` with `parameters`.
fn resolved<'a>(template: &'a Value, parameters: &[(&str, String)], account: &str) -> Stack<'a> {
    let chosen: Vec<(&str, &str)> = parameters.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Stack::new(template, &chosen).in_account(account)
}

/// Each action and each resource of each Allow statement that no request needs.
fn unneeded(principal: &Principal) -> Vec<String> {
    let mut found = Vec::new();
    for statement in principal
        .statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
    {
        let sid = statement["Sid"]
            .as_str()
            .unwrap_or("a statement without a Sid");
        let needed = |action: Option<&str>, resource: Option<&str>| {
            principal.requests.iter().any(|request| {
                let action_matches = action.is_none_or(|a| {
                    glob(
                        &a.to_ascii_lowercase(),
                        &request.action.to_ascii_lowercase(),
                    )
                });
                action_matches
                    && request.resources.iter().any(|arn| {
                        resource.is_none_or(|pattern| glob(pattern, arn))
                            && applies(statement, &request.action, arn, request)
                    })
            })
        };
        for action in as_list(&statement["Action"]) {
            let action = action.as_str().unwrap_or_default();
            if !needed(Some(action), None) {
                found.push(format!(
                    "{}: {sid} grants {action}, which no request of this configuration needs",
                    principal.name
                ));
            }
        }
        for pattern in resource_patterns(statement) {
            if !needed(None, Some(&pattern)) {
                found.push(format!(
                    "{}: {sid} grants on {pattern}, which no request of this configuration needs",
                    principal.name
                ));
            }
        }
    }
    found
}

/// The paths the configuration is about were taken: the record is complete.
fn paths_were_taken(config: &Configuration, scene: &Scene, recorded: &[SignedRequest]) {
    let sent: BTreeSet<String> = recorded.iter().map(|r| r.name()).collect();
    let expect = |name: &str, wanted: bool, why: &str| {
        assert_eq!(
            sent.contains(name),
            wanted,
            "{}: {name} {why}: {sent:?}",
            config.name
        );
    };
    expect(
        "ecs ListClusters",
        !config.cluster_filter,
        "only without ClusterArns",
    );
    expect(
        "sts AssumeRole",
        config.zone_account.is_some(),
        "only with a zone role",
    );
    // Who sent into which queue.
    let sender = |key: &str| match scene.packer.as_ref() {
        Some((packer, _)) if packer.key == key => "packer",
        _ => "writer",
    };
    let sent_to: BTreeSet<(&str, String)> = recorded
        .iter()
        .filter(|r| r.service == "sqs" && r.operation.starts_with("SendMessage"))
        .filter_map(|r| {
            let body = serde_json::from_str::<Value>(&r.body).ok()?;
            let queue = body["QueueUrl"].as_str()?.rsplit('/').next()?.to_owned();
            Some((sender(&r.access_key), queue))
        })
        .collect();
    let queues = match config.use_sqs {
        // The inbox's events packed into the work queue; a re-check delayed in the inbox,
        // and one re-checked too often parked.
        true => vec![
            ("packer", "TaskEventQueue.fifo"),
            ("writer", "InboxQueue"),
            ("writer", "DeadLetterQueue"),
        ],
        false => Vec::new(),
    };
    assert_eq!(
        sent_to,
        queues
            .into_iter()
            .map(|(who, q)| (who, q.to_owned()))
            .collect(),
        "{}: the queues each function sends to",
        config.name
    );
    for always in [
        "route53 GetHostedZone",
        "route53 ListResourceRecordSets",
        "route53 ChangeResourceRecordSets",
        "ecs DescribeTasks",
        "ecs ListTasks",
        "ecs DescribeClusters",
        "ecs DescribeContainerInstances",
        "ecs DescribeTaskDefinition",
        "ec2 DescribeInstances",
        "sts GetCallerIdentity",
    ] {
        expect(always, true, "on every configuration");
    }
}
