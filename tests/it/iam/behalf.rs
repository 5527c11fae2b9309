//! What Lambda itself does with a function's role (the writer's or the packer's), which no
//! proxy in front of the binary can see. Each request is derived from the stack's own resources, so a grant for a queue
//! or a log group the stack does not wire up is still an excess:
//!
//! - **its log**: Lambda writes the function's output to the log group of its
//!   `LoggingConfig` (logs:CreateLogStream and logs:PutLogEvents; the stack creates the
//!   group, so no logs:CreateLogGroup). Lambda developer guide, "Sending Lambda function
//!   logs to CloudWatch Logs".
//! - **its SQS event sources** (UseSqs): the event source mapping polls each queue with the
//!   execution role and deletes what the function handled. The SQS developer guide,
//!   "Configuring an Amazon SQS queue to trigger an AWS Lambda function", lists the
//!   execution role's permissions as exactly sqs:ReceiveMessage, sqs:DeleteMessage and
//!   sqs:GetQueueAttributes (the AWSLambdaSQSQueueExecutionRole managed policy holds the
//!   same three).
//! - **the on-failure destination** of asynchronous invocations: the direct path's rules
//!   and CloudFormation's custom resource invoke the function asynchronously, and a failed
//!   invocation is sent on with the execution role (sqs:SendMessage; Lambda developer guide,
//!   "Capturing records of Lambda asynchronous invocations").

use serde_json::{json, Value};

use super::requests::IamRequest;
use crate::support::REGION;
use crate::template_env::Stack;

/// Lambda's own requests with the role of `function_name` (`PublisherFunction`,
/// `PackerFunction`) in `stack`, deployed in `account`.
pub fn lambda_requests(stack: &Stack, account: &str, function_name: &str) -> Vec<IamRequest> {
    let resources = stack.resources();
    let of_type = |kind: &'static str| {
        resources
            .iter()
            .filter(move |(_, resource)| resource["Type"] == kind)
            .map(|(_, resource)| &resource["Properties"])
    };
    let function = resources
        .iter()
        .find(|(name, _)| name == function_name)
        .map(|(_, resource)| &resource["Properties"])
        .unwrap_or_else(|| panic!("no {function_name} in this stack"));
    let function_ref = text(
        &stack
            .eval(&json!({ "Ref": function_name }))
            .expect("the function's name"),
    );
    let request = |action: &str, resource: String, why: &str| {
        IamRequest::new(action, vec![resource], REGION, format!("Lambda, {why}"))
    };
    let mut requests = Vec::new();

    let group = function["LoggingConfig"]["LogGroup"]
        .as_str()
        .expect("the function names its log group");
    let stream = format!(
        "arn:aws:logs:{REGION}:{account}:log-group:{group}:log-stream:2026/12/07/[$LATEST]0123456789abcdef"
    );
    for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
        requests.push(request(
            action,
            stream.clone(),
            "writing the function's log",
        ));
    }

    let its_mappings = of_type("AWS::Lambda::EventSourceMapping")
        .filter(|mapping| text(&mapping["FunctionName"]) == function_ref);
    for mapping in its_mappings {
        let queue = text(&mapping["EventSourceArn"]);
        for action in [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
        ] {
            requests.push(request(
                action,
                queue.clone(),
                "polling an SQS event source",
            ));
        }
    }

    let function_arn = text(
        &stack
            .eval(&json!({ "Fn::GetAtt": [function_name, "Arn"] }))
            .expect("the function's ARN"),
    );
    let invoked_by_rule = of_type("AWS::Events::Rule").any(|rule| {
        rule["Targets"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|target| text(&target["Arn"]) == function_arn)
    });
    let custom_resource = resources.iter().any(|(_, resource)| {
        resource["Type"]
            .as_str()
            .is_some_and(|kind| kind.starts_with("Custom::"))
            && text(&resource["Properties"]["ServiceToken"]) == function_arn
    });
    let on_failure = &function["EventInvokeConfig"]["DestinationConfig"]["OnFailure"];
    if (invoked_by_rule || custom_resource) && on_failure["Type"] == "SQS" {
        let why = "sending a failed asynchronous invocation to its destination";
        requests.push(request(
            "sqs:SendMessage",
            text(&on_failure["Destination"]),
            why,
        ));
    }
    requests
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}
