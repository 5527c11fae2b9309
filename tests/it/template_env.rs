//! The function runs with the environment template.yaml really gives it.
//!
//! The template's `Environment.Variables` are evaluated the way CloudFormation evaluates
//! them (parameters with their defaults, `Ref`, `Fn::If` on the template's own
//! conditions, `AWS::NoValue`, `Fn::Sub`, `Fn::Split`, numbers passed as strings), for the
//! defaults and for the values a user would pick, and the real `ecs-srv` binary is run
//! with exactly that environment (and nothing else of this process's) against moto.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

use crate::support::{create_private_zone, moto_clients, moto_env, seed_one_host_cluster};

/// A stack: the template with its parameter values, able to evaluate expressions. The
/// scanner checks (`template_scanners`) evaluate the policies and the dashboard through it.
pub(crate) struct Stack<'a> {
    template: &'a Value,
    parameters: BTreeMap<String, String>,
    account: String,
}

impl<'a> Stack<'a> {
    /// The template's defaults, overridden by `chosen`.
    pub(crate) fn new(template: &'a Value, chosen: &[(&str, &str)]) -> Self {
        let mut parameters = BTreeMap::new();
        for (name, spec) in template["Parameters"].as_object().expect("Parameters") {
            if let Some(default) = spec.get("Default") {
                parameters.insert(name.clone(), scalar(default));
            }
        }
        for (name, value) in chosen {
            assert!(
                template["Parameters"].get(*name).is_some(),
                "the template has no parameter {name}"
            );
            parameters.insert((*name).to_owned(), (*value).to_owned());
        }
        Stack {
            template,
            parameters,
            account: crate::support::ACCOUNT.to_owned(),
        }
    }

    /// The same stack deployed in `account` (moto's default account otherwise): a test with
    /// an account of its own sees only its own clusters and queues.
    pub(crate) fn in_account(mut self, account: &str) -> Self {
        self.account = account.to_owned();
        self
    }

    pub(crate) fn condition(&self, name: &str) -> bool {
        let expression = &self.template["Conditions"][name];
        assert!(!expression.is_null(), "no condition {name}");
        self.eval(expression) == Some(Value::Bool(true))
    }

    fn reference(&self, name: &str) -> Option<Value> {
        match name {
            "AWS::NoValue" => None,
            "AWS::Region" => Some(Value::from("us-east-1")),
            "AWS::AccountId" => Some(Value::from(self.account.as_str())),
            "AWS::Partition" => Some(Value::from("aws")),
            "AWS::StackName" => Some(Value::from("ecs-srv")),
            _ => match self.parameters.get(name) {
                Some(value) => Some(Value::from(value.as_str())),
                None => match name.split_once('.') {
                    // `${Resource.Attribute}` inside Fn::Sub.
                    Some((resource, attribute)) => Some(self.attribute(resource, attribute)),
                    None => {
                        let kind = self.template["Resources"][name]["Type"].as_str();
                        assert!(
                            kind.is_some(),
                            "Ref to {name}, neither a parameter nor a resource"
                        );
                        // A queue's Ref is its URL, a log group's its name.
                        Some(Value::from(match kind {
                            Some("AWS::SQS::Queue") => format!(
                                "https://sqs.us-east-1.amazonaws.com/{}/{}",
                                self.account,
                                self.queue_name(name)
                            ),
                            Some("AWS::Logs::LogGroup") => name.to_owned(),
                            _ => format!("ref:{name}"),
                        }))
                    }
                },
            },
        }
    }

    /// `Fn::GetAtt`: an ARN shaped as the resource's type has it (policy linters check the
    /// shape against the action), anything else a placeholder.
    fn attribute(&self, resource: &str, attribute: &str) -> Value {
        let kind = self.template["Resources"][resource]["Type"]
            .as_str()
            .unwrap_or_else(|| panic!("GetAtt of {resource}, which is not a resource"));
        let account = &self.account;
        let arn = match (kind, attribute) {
            ("AWS::SQS::Queue", "Arn") => {
                format!(
                    "arn:aws:sqs:us-east-1:{account}:{}",
                    self.queue_name(resource)
                )
            }
            ("AWS::Logs::LogGroup", "Arn") => {
                format!("arn:aws:logs:us-east-1:{account}:log-group:{resource}:*")
            }
            ("AWS::Events::Rule", "Arn") => {
                format!("arn:aws:events:us-east-1:{account}:rule/{resource}")
            }
            ("AWS::IAM::Role", "Arn") => format!("arn:aws:iam::{account}:role/{resource}"),
            ("AWS::Serverless::Function", "Arn") => {
                format!("arn:aws:lambda:us-east-1:{account}:function:{resource}")
            }
            _ => format!("getatt:{resource}.{attribute}"),
        };
        Value::from(arn)
    }

    /// The name CloudFormation gives a queue: a FIFO queue's name ends in `.fifo`.
    fn queue_name(&self, resource: &str) -> String {
        let fifo = self.template["Resources"][resource]["Properties"]["FifoQueue"] == true;
        match fifo {
            true => format!("{resource}.fifo"),
            false => resource.to_owned(),
        }
    }

    /// The value of an expression; `None` is `AWS::NoValue` (the key is left out).
    pub(crate) fn eval(&self, value: &Value) -> Option<Value> {
        let Value::Object(object) = value else {
            return match value {
                Value::Array(items) => Some(Value::Array(
                    items.iter().filter_map(|item| self.eval(item)).collect(),
                )),
                other => Some(other.clone()),
            };
        };
        if object.len() == 1 {
            let (key, argument) = object.iter().next().expect("one entry");
            let args = argument.as_array();
            let arg = |index: usize| &args.expect("a list of arguments")[index];
            match key.as_str() {
                "Ref" => return self.reference(argument.as_str().expect("Ref names")),
                "Condition" => {
                    return Some(Value::Bool(
                        self.condition(argument.as_str().expect("a name")),
                    ))
                }
                "Fn::If" => {
                    let branch = if self.condition(arg(0).as_str().expect("a condition")) {
                        arg(1)
                    } else {
                        arg(2)
                    };
                    return self.eval(branch);
                }
                "Fn::Equals" => return Some(Value::Bool(self.eval(arg(0)) == self.eval(arg(1)))),
                "Fn::Not" => {
                    return Some(Value::Bool(self.eval(arg(0)) != Some(Value::Bool(true))))
                }
                "Fn::And" | "Fn::Or" => {
                    let values: Vec<bool> = args
                        .expect("a list")
                        .iter()
                        .map(|a| self.eval(a) == Some(Value::Bool(true)))
                        .collect();
                    let all = key == "Fn::And";
                    return Some(Value::Bool(if all {
                        values.iter().all(|v| *v)
                    } else {
                        values.iter().any(|v| *v)
                    }));
                }
                "Fn::Split" => {
                    let delimiter = scalar(&self.eval(arg(0))?);
                    let text = scalar(&self.eval(arg(1))?);
                    return Some(text.split(delimiter.as_str()).map(Value::from).collect());
                }
                "Fn::Sub" => {
                    let mut text = argument.as_str().expect("Fn::Sub of a string").to_owned();
                    while let Some(start) = text.find("${") {
                        let end = start + text[start..].find('}').expect("a closed ${");
                        let name = &text[start + 2..end];
                        let value = self.reference(name).map(|v| scalar(&v)).unwrap_or_default();
                        text.replace_range(start..=end, &value);
                    }
                    return Some(Value::from(text));
                }
                "Fn::Join" => {
                    let delimiter = scalar(&self.eval(arg(0))?);
                    let parts = self.eval(arg(1))?;
                    let parts: Vec<String> = parts
                        .as_array()
                        .expect("Fn::Join of a list")
                        .iter()
                        .map(scalar)
                        .collect();
                    return Some(Value::from(parts.join(&delimiter)));
                }
                "Fn::GetAtt" => {
                    let (resource, attribute) = match argument {
                        Value::String(dotted) => {
                            dotted.split_once('.').expect("Resource.Attribute")
                        }
                        _ => (
                            arg(0).as_str().expect("a name"),
                            arg(1).as_str().expect("a name"),
                        ),
                    };
                    return Some(self.attribute(resource, attribute));
                }
                _ => {}
            }
        }
        Some(Value::Object(
            object
                .iter()
                .filter_map(|(key, value)| Some((key.clone(), self.eval(value)?)))
                .collect(),
        ))
    }

    /// The resources this stack holds (those whose condition is true), evaluated.
    pub(crate) fn resources(&self) -> Vec<(String, Value)> {
        self.template["Resources"]
            .as_object()
            .expect("Resources")
            .iter()
            .filter(|(_, resource)| {
                resource["Condition"]
                    .as_str()
                    .is_none_or(|condition| self.condition(condition))
            })
            .map(|(name, resource)| (name.clone(), self.eval(resource).expect("a resource")))
            .collect()
    }

    /// The function's environment as Lambda would set it: every value a string.
    pub(crate) fn function_environment(&self) -> BTreeMap<String, String> {
        self.environment_of("PublisherFunction")
    }

    /// The environment the template gives one of its functions (`PackerFunction`).
    pub(crate) fn environment_of(&self, function: &str) -> BTreeMap<String, String> {
        let variables =
            &self.template["Resources"][function]["Properties"]["Environment"]["Variables"];
        let evaluated = self.eval(variables).expect("the variables exist");
        evaluated
            .as_object()
            .expect("a map of variables")
            .iter()
            .map(|(name, value)| (name.clone(), scalar(value)))
            .collect()
    }
}

/// A scalar as CloudFormation passes it to Lambda: numbers and booleans as their text.
pub(crate) fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        other => panic!("not a scalar: {other}"),
    }
}

/// Parameter choices a user would make, beside the defaults.
const CHOICES: &[&[(&str, &str)]] = &[
    &[],
    &[("UseSqsQueue", "true")],
    &[("UseSqsQueue", "false")],
    &[("ClusterArns", "arn:aws:ecs:us-east-1:123456789012:cluster/prod")],
    &[(
        "ClusterArns",
        "arn:aws:ecs:us-east-1:123456789012:cluster/prod,arn:aws:ecs:us-east-1:123456789012:cluster/staging",
    )],
    &[("RoutingPolicy", "multivalue"), ("RecordTtl", "0")],
    &[("SrvSets", "on"), ("DefaultWeight", "0")],
    &[("SrvSets", "off"), ("RecordOwner", "blue-stack")],
    &[("ClusterInNames", "on"), ("Route53WriteRate", "10")],
    &[("AlarmTopicArn", "arn:aws:sns:us-east-1:123456789012:pager"), ("Architecture", "x86_64")],
    &[("ReconcileSchedule", "")],
];

#[tokio::test]
async fn the_binary_starts_and_works_with_the_templates_own_environment() {
    let clients = moto_clients();
    let world = seed_one_host_cluster(&clients, "template-env", 71, 10).await;
    let zone_id = create_private_zone(&clients, &world, "template.internal").await;
    let template = crate::template::template();
    let event = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events/bridge-stopped.json");
    for choice in CHOICES {
        let mut chosen = vec![("HostedZoneId", zone_id.as_str())];
        chosen.extend_from_slice(choice);
        let environment = Stack::new(&template, &chosen).function_environment();
        // The AWS side of the environment comes from Lambda itself (credentials, region)
        // and, here, moto's endpoint; everything ecs-srv reads comes from the template.
        let aws: Vec<(&str, String)> = moto_env(&zone_id)
            .into_iter()
            .filter(|(name, _)| name.starts_with("AWS_"))
            .collect();
        let output = Command::new(env!("CARGO_BIN_EXE_ecs-srv"))
            .arg("replay")
            .arg(&event)
            .env_clear()
            .envs(&environment)
            .envs(aws)
            .output()
            .expect("running ecs-srv");
        assert!(
            output.status.success(),
            "ecs-srv failed with the template's environment for {choice:?}:\n{environment:#?}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let summary: Value = serde_json::from_slice(&output.stdout).expect("a JSON summary");
        assert_eq!(summary["failed_events"], 0, "{choice:?}: {summary:#}");
    }
}
