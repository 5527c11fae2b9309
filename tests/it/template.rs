//! Checks on `template.yaml`, the SAM template users deploy: least-privilege IAM, the
//! cargo-lambda build settings, the environment the function reads, the event wiring, and
//! a clean `cfn-lint`.
//!
//! The YAML is read with its CloudFormation short-form tags (`!Ref`, `!Sub`, `!If`, ...)
//! expanded to the long form (`{"Ref": ...}`, `{"Fn::Sub": ...}`), so every check sees one
//! shape whichever form the template uses.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::template_env::Stack;

/// Environment variables the function needs whatever its settings parser says today.
const FUNCTION_ENVIRONMENT: &[&str] = &[
    "HOSTED_ZONE_ID",
    "CLUSTERS",
    "RECORD_TTL",
    "ROUTING_POLICY",
    "DEFAULT_WEIGHT",
    "SRV_SETS",
    "ROUTE53_WRITE_RATE",
    "RECORD_OWNER",
    "RUST_LOG",
];

/// cfn-lint, checkov and parliament take seconds; anything past this is a hang.
const CHECKER_TIMEOUT: Duration = Duration::from_secs(180);

pub(crate) fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

pub fn template() -> Value {
    read_template("template.yaml")
}

/// A template of the repository in the long form.
pub(crate) fn read_template(relative: &str) -> Value {
    let path = repo_path(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    let yaml: serde_norway::Value = serde_norway::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not valid YAML: {error}", path.display()));
    to_long_form(yaml)
}

/// Converts YAML to JSON, turning `!Ref x` into `{"Ref": x}`, `!Condition c` into
/// `{"Condition": c}` and every other `!Name v` into `{"Fn::Name": v}`.
fn to_long_form(yaml: serde_norway::Value) -> Value {
    use serde_norway::Value as Yaml;
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(flag) => Value::Bool(flag),
        Yaml::Number(number) => serde_json::to_value(number).unwrap_or(Value::Null),
        Yaml::String(text) => Value::String(text),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(to_long_form).collect()),
        Yaml::Mapping(entries) => {
            let mut object = Map::new();
            for (key, value) in entries {
                let key = match key {
                    Yaml::String(text) => text,
                    other => panic!("template keys are strings, found {other:?}"),
                };
                object.insert(key, to_long_form(value));
            }
            Value::Object(object)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let key = match name {
                "Ref" | "Condition" => name.to_owned(),
                _ => format!("Fn::{name}"),
            };
            json!({ key: to_long_form(tagged.value) })
        }
    }
}

pub(crate) fn resources_of_type<'a>(
    template: &'a Value,
    resource_type: &str,
) -> Vec<(&'a String, &'a Value)> {
    template["Resources"]
        .as_object()
        .expect("the template has Resources")
        .iter()
        .filter(|(_, resource)| resource["Type"] == resource_type)
        .collect()
}

/// The writer, the function that keeps the zone.
pub(crate) fn the_function(template: &Value) -> &Value {
    let function = &template["Resources"]["PublisherFunction"];
    assert_eq!(function["Type"], "AWS::Serverless::Function");
    function
}

/// Every IAM statement anywhere in the template, including both branches of `Fn::If`.
pub(crate) fn statements(value: &Value, found: &mut Vec<Value>) {
    match value {
        Value::Object(object) => {
            if object.contains_key("Effect") {
                found.push(value.clone());
            }
            object.values().for_each(|child| statements(child, found));
        }
        Value::Array(items) => items.iter().for_each(|child| statements(child, found)),
        _ => {}
    }
}

pub(crate) fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        single => vec![single.clone()],
    }
}

#[test]
fn route53_is_granted_on_the_hosted_zone_only() {
    let template = template();
    let zone_arn =
        json!({ "Fn::Sub": "arn:${AWS::Partition}:route53:::hostedzone/${HostedZoneId}" });
    let mut found = Vec::new();
    statements(&template["Resources"], &mut found);
    assert!(!found.is_empty(), "the template has IAM statements");

    let mut route53_statements = 0;
    for statement in &found {
        assert!(
            statement.get("NotAction").is_none(),
            "NotAction grants too much: {statement}"
        );
        assert!(
            statement.get("NotResource").is_none(),
            "NotResource grants too much: {statement}"
        );
        let actions: Vec<String> = as_list(&statement["Action"])
            .iter()
            .map(|action| action.as_str().unwrap_or("").to_lowercase())
            .collect();
        assert!(
            !actions.iter().any(|action| action == "*"),
            "Action * is never granted: {statement}"
        );
        if !actions.iter().any(|action| action.starts_with("route53:")) {
            continue;
        }
        route53_statements += 1;
        assert!(
            !actions.iter().any(|action| action.contains('*')),
            "no route53 wildcard action: {statement}"
        );
        assert_eq!(
            as_list(&statement["Resource"]),
            vec![zone_arn.clone()],
            "route53 only on the zone: {statement}"
        );
    }
    assert!(
        route53_statements > 0,
        "the function is granted its Route 53 actions"
    );

    let function = the_function(&template);
    for policy in as_list(&function["Properties"]["Policies"]) {
        let name = policy.as_str().unwrap_or("").to_lowercase();
        assert!(
            !name.contains("route53") && !name.contains("administrator"),
            "broad managed policy {policy}"
        );
    }
}

/// The Route 53 condition keys as the code's changes need them: CREATE and DELETE, A, AAAA
/// and SRV, names under `domain` (Route 53's normalized form) or anywhere in the zone.
pub(crate) fn route53_change_condition(domain: &str) -> Value {
    let names = if domain.is_empty() {
        "*".to_owned()
    } else {
        format!("*.{domain}")
    };
    json!({
        "ForAllValues:StringEquals": {
            "route53:ChangeResourceRecordSetsActions": ["CREATE", "DELETE"],
            "route53:ChangeResourceRecordSetsRecordTypes": ["A", "AAAA", "SRV"],
        },
        "ForAllValues:StringLike": {
            "route53:ChangeResourceRecordSetsNormalizedRecordNames": names,
        },
    })
}

/// The statements of one role of a stack, evaluated.
pub(crate) fn role_statements(stack: &Stack, role: &str) -> Vec<Value> {
    let (_, role) = stack
        .resources()
        .into_iter()
        .find(|(name, _)| name == role)
        .unwrap_or_else(|| panic!("no role {role}"));
    let mut found = Vec::new();
    statements(&role["Properties"]["Policies"], &mut found);
    found
}

fn lower_case_actions(statement: &Value) -> Vec<String> {
    as_list(&statement["Action"])
        .iter()
        .map(|action| action.as_str().unwrap_or_default().to_ascii_lowercase())
        .collect()
}

/// Both branches of HostedZoneRoleArn and of RecordDomain: in this account the role reads
/// the zone apart from changing it, and changes only what the code sends; with a zone role
/// it holds no Route 53 action at all, and may assume that one role.
#[test]
fn route53_changes_are_limited_to_what_the_code_sends_in_every_branch() {
    let template = template();
    let zone_role = "arn:aws:iam::210987654321:role/ecs-srv-zone";
    for (role_arn, domain) in [
        ("", ""),
        ("", "svc.example.internal"),
        (zone_role, ""),
        (zone_role, "svc.example.internal"),
    ] {
        let stack = Stack::new(
            &template,
            &[
                ("HostedZoneId", "Z0123456789ABCDEFGHIJ"),
                ("HostedZoneRoleArn", role_arn),
                ("RecordDomain", domain),
            ],
        );
        let found = role_statements(&stack, "PublisherRole");
        let route53: Vec<&Value> = found
            .iter()
            .filter(|s| {
                lower_case_actions(s)
                    .iter()
                    .any(|a| a.starts_with("route53:"))
            })
            .collect();
        let assume: Vec<&Value> = found
            .iter()
            .filter(|s| lower_case_actions(s).iter().any(|a| a.starts_with("sts:")))
            .collect();
        if !role_arn.is_empty() {
            assert!(
                route53.is_empty(),
                "the zone role holds Route 53: {route53:?}"
            );
            assert_eq!(assume.len(), 1, "{assume:?}");
            assert_eq!(lower_case_actions(assume[0]), ["sts:assumerole"]);
            assert_eq!(assume[0]["Resource"], role_arn);
            continue;
        }
        assert!(
            assume.is_empty(),
            "nothing to assume without a role: {assume:?}"
        );
        let (changes, reads): (Vec<&Value>, Vec<&Value>) = route53.iter().partition(|s| {
            lower_case_actions(s).contains(&"route53:changeresourcerecordsets".to_owned())
        });
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(
            lower_case_actions(changes[0]),
            ["route53:changeresourcerecordsets"],
            "changes apart from reads"
        );
        assert_eq!(changes[0]["Condition"], route53_change_condition(domain));
        let read_actions: BTreeSet<String> =
            reads.iter().flat_map(|s| lower_case_actions(s)).collect();
        assert_eq!(
            read_actions,
            BTreeSet::from([
                "route53:gethostedzone".to_owned(),
                "route53:listresourcerecordsets".to_owned()
            ])
        );
    }
}

/// Whether each action is needed is judged from the binary's own requests, branch by branch
/// (`iam`); what stays here is the shape: every statement allows, and an action IAM can
/// scope to a resource is never granted on `*` without a condition.
#[test]
fn every_statement_scopes_what_iam_can() {
    let template = template();
    let mut found = Vec::new();
    statements(
        &template["Resources"]["PublisherRole"]["Properties"]["Policies"],
        &mut found,
    );
    assert!(!found.is_empty(), "the function's role has statements");
    for statement in &found {
        assert_eq!(statement["Effect"], "Allow", "{statement}");
        let wildcard = as_list(&statement["Resource"]).iter().any(|r| r == "*");
        for action in as_list(&statement["Action"]) {
            let action = action.as_str().unwrap_or_default();
            assert!(
                !(wildcard && crate::iam::scopable(action) && statement.get("Condition").is_none()),
                "{action} can be scoped, yet it is granted on * without a condition: {statement}"
            );
        }
    }
}

#[test]
fn both_functions_are_the_binary_built_by_cargo_lambda_for_arm64_by_default() {
    let template = template();
    let functions = resources_of_type(&template, "AWS::Serverless::Function");
    let names: BTreeSet<&str> = functions.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["PackerFunction", "PublisherFunction"])
    );
    for (_, function) in functions {
        assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda");
        assert_eq!(function["Metadata"]["BuildProperties"]["Binary"], "ecs-srv");
        let properties = &function["Properties"];
        assert_eq!(properties["Runtime"], "provided.al2023");
        assert_eq!(
            properties["Architectures"],
            json!([{ "Ref": "Architecture" }])
        );
        assert_eq!(properties["Handler"], "bootstrap");
        assert_eq!(properties["LoggingConfig"]["LogFormat"], "JSON");
    }
    assert_eq!(template["Parameters"]["Architecture"]["Default"], "arm64");
}

/// The names given to `env = "..."` in the function's settings parser.
fn environment_read_by_the_function() -> Vec<String> {
    let path = repo_path("src/config/mod.rs");
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    source
        .split("env = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// Variables the binary reads that the template leaves unset on the writer, and why.
const NOT_FOR_THE_WRITER: &[(&str, &str)] = &[
    (
        "PACK_INTO_QUEUE_URL",
        "it makes the process the packer; PackerFunction has it",
    ),
    (
        "EVENT_QUEUE_URL",
        "it shortens a waiting message's visibility on a standard queue; the template's re-checks go back through the inbox",
    ),
];

#[test]
fn every_variable_the_function_reads_is_passed() {
    let template = template();
    let variables = &the_function(&template)["Properties"]["Environment"]["Variables"];
    let parameters = &template["Parameters"];
    let mut wanted: Vec<String> = FUNCTION_ENVIRONMENT
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    wanted.extend(environment_read_by_the_function());
    wanted.retain(|name| NOT_FOR_THE_WRITER.iter().all(|(unset, _)| unset != name));
    for (name, why) in NOT_FOR_THE_WRITER {
        assert!(
            variables[name].is_null(),
            "{name} is set on the writer: {why}"
        );
    }
    let packer = &template["Resources"]["PackerFunction"]["Properties"]["Environment"];
    assert_eq!(
        packer["Variables"],
        json!({ "PACK_INTO_QUEUE_URL": { "Ref": "TaskEventQueue" }, "RUST_LOG": "info" }),
        "the packer is told where to pack into, and nothing else"
    );
    for name in wanted {
        let value = &variables[&name];
        assert!(
            !value.is_null(),
            "{name} is read by the function but not set in template.yaml"
        );
        if let Some(parameter) = value["Ref"].as_str() {
            assert!(
                parameters[parameter].is_object() || template["Resources"][parameter].is_object(),
                "{name} refers to {parameter}, neither a parameter nor a resource"
            );
        }
    }
}

#[test]
fn task_state_changes_are_filtered_before_they_invoke() {
    let template = template();
    let rules = resources_of_type(&template, "AWS::Events::Rule");
    let (_, rule) = rules
        .iter()
        .find(|(_, rule)| rule["Properties"]["EventPattern"]["source"] == json!(["aws.ecs"]))
        .expect("a rule for aws.ecs events");
    let pattern = &rule["Properties"]["EventPattern"];
    assert_eq!(pattern["detail-type"], json!(["ECS Task State Change"]));
    let alternatives = pattern["detail"]["$or"]
        .as_array()
        .expect("the detail is filtered with $or");
    assert!(
        alternatives.contains(&json!({ "lastStatus": ["RUNNING"], "desiredStatus": ["RUNNING"] }))
    );
    assert!(alternatives.contains(&json!({ "desiredStatus": ["STOPPED"] })));
    let late_statuses = alternatives
        .iter()
        .find_map(|alternative| {
            alternative
                .get("lastStatus")
                .filter(|_| alternative.get("desiredStatus").is_none())
        })
        .expect("an alternative for the statuses past RUNNING");
    for status in ["DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"] {
        assert!(
            as_list(late_statuses).contains(&json!(status)),
            "{status} withdraws"
        );
    }
}

#[test]
fn failed_events_are_kept_and_the_sqs_path_reports_per_message() {
    let template = template();
    let properties = &the_function(&template)["Properties"];
    let invoke_config = &properties["EventInvokeConfig"];
    assert!(
        invoke_config["MaximumRetryAttempts"].is_number(),
        "async retries are bounded"
    );
    assert_eq!(
        invoke_config["DestinationConfig"]["OnFailure"]["Type"],
        "SQS"
    );
    assert_eq!(
        properties["ReservedConcurrentExecutions"],
        json!({ "Fn::If": ["UseSqs", 1, { "Ref": "AWS::NoValue" }] }),
        "one writer on the SQS path; the direct path scales with events"
    );

    let mappings = resources_of_type(&template, "AWS::Lambda::EventSourceMapping");
    let consumers: BTreeSet<(String, String)> = mappings
        .iter()
        .map(|(_, mapping)| {
            let p = &mapping["Properties"];
            let reads = p["EventSourceArn"]["Fn::GetAtt"]
                .as_str()
                .unwrap_or_default();
            let invokes = p["FunctionName"]["Ref"].as_str().unwrap_or_default();
            (
                reads.trim_end_matches(".Arn").to_owned(),
                invokes.to_owned(),
            )
        })
        .collect();
    assert_eq!(
        consumers,
        BTreeSet::from([
            ("InboxQueue".to_owned(), "PackerFunction".to_owned()),
            ("TaskEventQueue".to_owned(), "PublisherFunction".to_owned()),
        ]),
        "the packer reads the inbox, the writer the work queue"
    );
    for (name, mapping) in &mappings {
        assert_eq!(mapping["Condition"], "UseSqs");
        let p = &mapping["Properties"];
        assert!(as_list(&p["FunctionResponseTypes"]).contains(&json!("ReportBatchItemFailures")));
        if *name == "TaskEventQueueSource" {
            assert!(
                p["MaximumBatchingWindowInSeconds"].is_null(),
                "FIFO batches take no batching window"
            );
            continue;
        }
        assert_eq!(
            p["MaximumBatchingWindowInSeconds"],
            json!({ "Ref": "BatchingWindowSeconds" })
        );
        // A batch of more than 10 needs a window of at least a second (Lambda's
        // parameters for SQS event source mappings).
        assert!(p["BatchSize"].as_u64() > Some(10), "{p}");
        assert_eq!(
            template["Parameters"]["BatchingWindowSeconds"]["MinValue"],
            1
        );
        assert_eq!(
            p["ScalingConfig"]["MaximumConcurrency"], 2,
            "the least Lambda takes"
        );
    }
}

/// One writer without throttling: the work queue is FIFO with one message group (set by
/// every rule and by the packer that send to it), each queue a function reads has a
/// visibility timeout of six times that function's timeout as Lambda asks, and a task
/// that is not healthy yet is re-checked through the inbox after HealthRecheckSeconds,
/// whatever those timeouts.
#[test]
fn the_work_queue_keeps_one_writer_and_rechecks_do_not_wait_for_its_timeout() {
    let template = template();
    let queue = |wanted: &str| &template["Resources"][wanted]["Properties"];
    assert_eq!(queue("TaskEventQueue")["FifoQueue"], true);
    assert_eq!(queue("TaskEventDeadLetterQueue")["FifoQueue"], true);
    assert!(
        queue("InboxQueue")["FifoQueue"].is_null(),
        "delays and batching windows need a standard queue"
    );
    for (name, mapping) in resources_of_type(&template, "AWS::Lambda::EventSourceMapping") {
        let p = &mapping["Properties"];
        let reads = p["EventSourceArn"]["Fn::GetAtt"]
            .as_str()
            .unwrap_or_default();
        let function = p["FunctionName"]["Ref"].as_str().unwrap_or_default();
        let timeout = template["Resources"][function]["Properties"]["Timeout"]
            .as_u64()
            .expect("a function timeout");
        let visibility = queue(reads.trim_end_matches(".Arn"))["VisibilityTimeout"]
            .as_u64()
            .expect("a number");
        assert!(
            visibility >= 6 * timeout,
            "{name}: {visibility} s < 6 × {timeout} s"
        );
    }
    for (name, rule) in resources_of_type(&template, "AWS::Events::Rule") {
        let targets = serde_json::to_string(&rule["Properties"]["Targets"]).unwrap();
        if targets.contains("TaskEventQueue") {
            assert!(
                targets.contains("\"MessageGroupId\":\"ecs-srv\""),
                "{name}: {targets}"
            );
        }
    }
    assert_eq!(
        ecs_srv::run::packer::MESSAGE_GROUP,
        "ecs-srv",
        "the packer's group is the schedule's"
    );
    let recheck = &template["Parameters"]["HealthRecheckSeconds"];
    assert_eq!(recheck["Default"], 10);
    assert_eq!(template["Parameters"]["HealthGate"]["Default"], "on");
}

#[test]
fn a_schedule_asks_for_a_reconcile_every_five_minutes_by_default() {
    let template = template();
    assert_eq!(
        template["Parameters"]["ReconcileSchedule"]["Default"],
        "rate(5 minutes)"
    );
    let rules = resources_of_type(&template, "AWS::Events::Rule");
    assert!(
        rules
            .iter()
            .any(|(_, rule)| rule["Properties"]["ScheduleExpression"]
                == json!({ "Ref": "ReconcileSchedule" })),
        "a rule runs on the ReconcileSchedule"
    );
}

#[test]
fn cfn_lint_accepts_the_template() {
    let cfn_lint = checker(".venv", "cfn-lint", "CFN_LINT");
    let (status, report) =
        run_checker(&cfn_lint, &["--".into(), repo_path("template.yaml").into()]);
    assert!(
        status.success(),
        "cfn-lint template.yaml failed ({status}):\n{report}"
    );
}

/// A checker installed by `make deps` into `venv` (or where the variable `override_variable`
/// points); a missing one fails the test with what to run.
pub(crate) fn checker(venv: &str, name: &str, override_variable: &str) -> PathBuf {
    let path = match std::env::var_os(override_variable) {
        Some(path) => PathBuf::from(path),
        None => repo_path(&format!("{venv}/bin/{name}")),
    };
    assert!(
        path.exists(),
        "{name} not found: run `make deps` (looked at {}; {override_variable} overrides)",
        path.display()
    );
    path
}

/// Runs a checker with its output (stdout and stderr together) kept in a file, so a large
/// report cannot fill a pipe, and stops it if it hangs.
pub(crate) fn run_checker(
    program: &Path,
    args: &[std::ffi::OsString],
) -> (std::process::ExitStatus, String) {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = program
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let output_path =
        std::env::temp_dir().join(format!("ecs-srv-{name}-{}-{run}.txt", std::process::id()));
    let output_file = std::fs::File::create(&output_path).expect("creating the output file");
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(
            output_file
                .try_clone()
                .expect("cloning the output file handle"),
        )
        .stderr(output_file)
        .spawn()
        .unwrap_or_else(|error| panic!("running {}: {error}", program.display()));
    let deadline = Instant::now() + CHECKER_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the checker") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name} ran longer than {CHECKER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let report = std::fs::read_to_string(&output_path).unwrap_or_default();
    let _ = std::fs::remove_file(&output_path);
    (status, report)
}

#[test]
fn failures_and_dead_letters_raise_alarms_that_page_the_optional_topic() {
    let template = template();
    let alarms = resources_of_type(&template, "AWS::CloudWatch::Alarm");
    let watched: Vec<String> = alarms
        .iter()
        .map(|(_, alarm)| {
            let dimension = &alarm["Properties"]["Dimensions"][0]["Value"];
            // `!Ref X`, or `!GetAtt X.Attribute` (short form: one dotted string).
            let reference = dimension
                .get("Ref")
                .or_else(|| dimension.get("Fn::GetAtt"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            reference.split('.').next().unwrap_or_default().to_owned()
        })
        .collect();
    for resource in [
        "PublisherFunction",
        "PackerFunction",
        "DeadLetterQueue",
        "TaskEventDeadLetterQueue",
        "InboxQueue",
    ] {
        assert!(
            watched.iter().any(|w| w == resource),
            "no alarm watches {resource}: {watched:?}"
        );
    }
    // The function's own metric (`handler::sharded_metric`): its namespace, name and
    // dimension, watched for this stack's function.
    let sharded = alarms
        .iter()
        .find(|(_, alarm)| alarm["Properties"]["MetricName"] == "ShardedWholeSets")
        .map(|(_, alarm)| &alarm["Properties"])
        .expect("an alarm on ShardedWholeSets");
    assert_eq!(sharded["Namespace"], "ecs-srv");
    assert_eq!(sharded["Dimensions"][0]["Name"], "FunctionName");
    assert_eq!(
        sharded["Dimensions"][0]["Value"],
        json!({ "Ref": "PublisherFunction" })
    );
    for (name, alarm) in &alarms {
        assert_eq!(
            alarm["Properties"]["AlarmActions"],
            json!({ "Fn::If": ["HasAlarmTopic", [{ "Ref": "AlarmTopicArn" }], { "Ref": "AWS::NoValue" }] }),
            "{name} notifies the AlarmTopicArn when one is given"
        );
        if ["EventLagAlarm", "InboxAgeAlarm"].contains(&name.as_str()) {
            // Ages, compared with thresholds of their own (template_operations checks them).
            continue;
        }
        assert_eq!(
            alarm["Properties"]["Threshold"], 0,
            "{name}: any failure counts"
        );
    }
}

#[test]
fn the_sqs_path_is_the_default_and_retries_within_a_minute() {
    let template = template();
    assert_eq!(template["Parameters"]["UseSqsQueue"]["Default"], "true");
    let variables = &the_function(&template)["Properties"]["Environment"]["Variables"];
    assert_eq!(
        variables["INBOX_QUEUE_URL"],
        json!({ "Fn::If": ["UseSqs", { "Ref": "InboxQueue" }, ""] }),
        "failed events wait in the inbox, with their own delay, not the work queue's timeout"
    );
    assert!(
        template["Parameters"]["HealthRecheckSeconds"]["Default"].as_u64() <= Some(60),
        "a task not healthy yet is looked at again within a minute"
    );
    let queue = &template["Resources"]["TaskEventQueue"]["Properties"];
    let visibility = queue["VisibilityTimeout"]
        .as_u64()
        .expect("a visibility timeout");
    let receives = queue["RedrivePolicy"]["maxReceiveCount"]
        .as_u64()
        .expect("a number");
    assert!(
        receives * visibility >= 3_600,
        "an hour's outage is ridden out"
    );
}

/// SRV clients (HAProxy, Prometheus, srv-proxy) balance and fail over only on the whole
/// set, so a deployment with the defaults keeps it, as the binary does.
#[test]
fn whole_srv_sets_are_on_by_default() {
    let template = template();
    assert_eq!(template["Parameters"]["SrvSets"]["Default"], "on");
    assert_eq!(
        the_function(&template)["Properties"]["Environment"]["Variables"]["SRV_SETS"],
        json!({ "Ref": "SrvSets" }),
        "the function reads SRV_SETS from the SrvSets parameter"
    );
}
