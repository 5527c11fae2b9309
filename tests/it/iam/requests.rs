//! A request as IAM authorises it: the action as IAM spells it, the resource ARNs it acts
//! on and the condition keys it carries, per the Service Authorization Reference
//! ("Actions, resources, and condition keys for …", one page per service).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::signed_request::{route53_zone, xml_texts, SignedRequest};

/// Each action the tests meet and the resource type IAM authorises it on (`None`: the
/// reference lists no resource type, so only `*` can grant it). This is knowledge of AWS,
/// not of the code, so it cannot be derived from a request: an action missing here fails
/// the test that meets it.
const RESOURCE_TYPES: &[(&str, Option<&str>)] = &[
    ("ecs:DescribeTasks", Some("task")),
    ("ecs:ListTasks", Some("container-instance")),
    ("ecs:DescribeContainerInstances", Some("container-instance")),
    ("ecs:DescribeClusters", Some("cluster")),
    ("ecs:ListClusters", None),
    ("ecs:DescribeTaskDefinition", None),
    ("ec2:DescribeInstances", None),
    ("route53:GetHostedZone", Some("hostedzone")),
    ("route53:ListResourceRecordSets", Some("hostedzone")),
    ("route53:ChangeResourceRecordSets", Some("hostedzone")),
    ("sqs:SendMessage", Some("queue")),
    ("sqs:ReceiveMessage", Some("queue")),
    ("sqs:DeleteMessage", Some("queue")),
    ("sqs:GetQueueAttributes", Some("queue")),
    ("sqs:ChangeMessageVisibility", Some("queue")),
    ("sts:AssumeRole", Some("role")),
    ("logs:CreateLogStream", Some("log-stream")),
    ("logs:PutLogEvents", Some("log-stream")),
];

/// Whether IAM can grant `action` on less than `*`; panics for an action not in
/// [`RESOURCE_TYPES`].
pub fn scopable(action: &str) -> bool {
    resource_type(action).is_some()
}

fn resource_type(action: &str) -> Option<&'static str> {
    RESOURCE_TYPES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(action))
        .unwrap_or_else(|| {
            panic!(
                "{action}: not in RESOURCE_TYPES; add it from the Service Authorization Reference"
            )
        })
        .1
}

/// A request in IAM's terms.
#[derive(Clone, Debug)]
pub struct IamRequest {
    /// `service:Operation`.
    pub action: String,
    /// Each resource it acts on (`*` for an action without resource-level permissions).
    pub resources: Vec<String>,
    /// The condition keys of its request context, each with its values.
    pub context: BTreeMap<String, Vec<String>>,
    /// What it was, for messages.
    pub what: String,
}

impl IamRequest {
    /// A request made of its parts, in `region` (its `aws:RequestedRegion`).
    pub fn new(action: &str, resources: Vec<String>, region: &str, what: String) -> Self {
        let context = BTreeMap::from([("aws:RequestedRegion".to_owned(), vec![region.to_owned()])]);
        IamRequest {
            action: action.to_owned(),
            resources,
            context,
            what,
        }
    }

    fn with(mut self, key: &str, values: Vec<String>) -> Self {
        self.context.insert(key.to_owned(), values);
        self
    }
}

/// What IAM makes of a request signed in `account`.
#[derive(Debug)]
pub enum Authorisation {
    /// It is allowed only if a policy of the signer allows this.
    Needs(IamRequest),
    /// It needs no permission; why.
    Free(&'static str),
}

/// A wire request in IAM's terms. Names in a request (a cluster's, a task's id) are
/// expanded to ARNs with the signer's `account` and the request's region, as AWS does.
pub fn authorisation(request: &SignedRequest, account: &str) -> Authorisation {
    let region = request.region.as_str();
    // IAM has no action of its own for a batch: SendMessageBatch is authorised as
    // sqs:SendMessage for each of its messages (SQS API reference, SendMessageBatch).
    let operation = match (request.service.as_str(), request.operation.as_str()) {
        ("sqs", "SendMessageBatch") => "SendMessage",
        (_, operation) => operation,
    };
    let action = format!("{}:{operation}", request.service);
    let what = format!("{} ({} {})", request.name(), request.method, request.path);
    let need = |resources: Vec<String>| IamRequest::new(&action, resources, region, what.clone());
    if action == "sts:GetCallerIdentity" {
        return Authorisation::Free(
            "STS GetCallerIdentity: no permission is required, and an explicit deny cannot stop it (STS API reference)",
        );
    }
    let ecs = || Ecs {
        body: serde_json::from_str(&request.body).unwrap_or_else(|e| {
            panic!(
                "{}: an ECS body that is not JSON ({e}): {}",
                request.name(),
                request.body
            )
        }),
        region,
        account,
    };
    let iam = match (request.service.as_str(), resource_type(&action)) {
        ("ecs", Some("task")) => {
            let ecs = ecs();
            let cluster = ecs.cluster();
            let tasks = ecs
                .list("tasks")
                .iter()
                .map(|t| ecs.child("task", &cluster, t))
                .collect();
            need(tasks).with("ecs:cluster", vec![cluster])
        }
        ("ecs", Some("container-instance")) => {
            let ecs = ecs();
            let cluster = ecs.cluster();
            let mut named = ecs.list("containerInstances");
            named.extend(ecs.body["containerInstance"].as_str().map(str::to_owned));
            let instances = match named.is_empty() {
                // A ListTasks of a whole cluster names no container instance: IAM
                // authorises it on `*`, and only ecs:cluster can narrow it ("not authorized
                // to perform: ecs:ListTasks on resource: *", cdklabs/construct-hub#1207).
                true => vec!["*".to_owned()],
                false => named
                    .iter()
                    .map(|i| ecs.child("container-instance", &cluster, i))
                    .collect(),
            };
            need(instances).with("ecs:cluster", vec![cluster])
        }
        ("ecs", Some("cluster")) => {
            let ecs = ecs();
            let mut clusters = ecs.list("clusters");
            if clusters.is_empty() {
                clusters.push("default".to_owned());
            }
            need(clusters.iter().map(|c| ecs.cluster_arn(c)).collect())
        }
        ("route53", Some("hostedzone")) => {
            let zone = route53_zone(&request.path)
                .unwrap_or_else(|| panic!("{what}: no hosted zone in the path"));
            let arn = format!("arn:aws:route53:::hostedzone/{zone}");
            match request.operation.as_str() {
                "ChangeResourceRecordSets" => change_keys(need(vec![arn]), &request.body),
                _ => need(vec![arn]),
            }
        }
        ("sqs", Some("queue")) => {
            let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
            let url = body["QueueUrl"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| request.form("QueueUrl"))
                .unwrap_or_else(|| panic!("{what}: no QueueUrl in {}", request.body));
            need(vec![queue_arn(&url, region)])
        }
        ("sts", Some("role")) => {
            let role = request
                .form("RoleArn")
                .unwrap_or_else(|| panic!("{what}: no RoleArn in {}", request.body));
            let iam = need(vec![role]);
            match request.form("ExternalId") {
                Some(id) => iam.with("sts:ExternalId", vec![id]),
                None => iam,
            }
        }
        (_, None) => need(vec!["*".to_owned()]),
        (service, Some(kind)) => {
            panic!("{what}: no way to name a {kind} of {service}; teach iam::requests")
        }
    };
    Authorisation::Needs(iam)
}

/// The ECS request's parameters, and how it names its resources.
struct Ecs<'a> {
    body: Value,
    region: &'a str,
    account: &'a str,
}

impl Ecs<'_> {
    /// The cluster's ARN (ECS's `default` cluster when none is named).
    fn cluster(&self) -> String {
        self.cluster_arn(self.body["cluster"].as_str().unwrap_or("default"))
    }

    fn cluster_arn(&self, name_or_arn: &str) -> String {
        match name_or_arn.starts_with("arn:") {
            true => name_or_arn.to_owned(),
            false => format!(
                "arn:aws:ecs:{}:{}:cluster/{name_or_arn}",
                self.region, self.account
            ),
        }
    }

    /// A task's or container instance's ARN from its ARN or id: `kind/cluster-name/id`.
    fn child(&self, kind: &str, cluster_arn: &str, id_or_arn: &str) -> String {
        if id_or_arn.starts_with("arn:") {
            return id_or_arn.to_owned();
        }
        let cluster = cluster_arn.rsplit('/').next().unwrap_or(cluster_arn);
        format!(
            "arn:aws:ecs:{}:{}:{kind}/{cluster}/{id_or_arn}",
            self.region, self.account
        )
    }

    fn list(&self, field: &str) -> Vec<String> {
        self.body[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    }
}

/// A queue's ARN from its URL (`…/ACCOUNT/NAME`); the region is the URL's
/// (`sqs.REGION.amazonaws.com`) or else the request's.
fn queue_arn(url: &str, region: &str) -> String {
    let mut parts = url.trim_end_matches('/').rsplit('/');
    let (Some(name), Some(account)) = (parts.next(), parts.next()) else {
        panic!("a queue URL without an account and a name: {url}")
    };
    let host = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("");
    let region = host
        .strip_prefix("sqs.")
        .and_then(|rest| rest.split('.').next())
        .unwrap_or(region);
    format!("arn:aws:sqs:{region}:{account}:{name}")
}

/// Route 53's condition keys of a ChangeResourceRecordSets, one value per change.
fn change_keys(iam: IamRequest, body: &str) -> IamRequest {
    let changes: Vec<&str> = body.split("<Change>").skip(1).collect();
    assert!(
        !changes.is_empty(),
        "a ChangeResourceRecordSets without a change: {body}"
    );
    let first = |change: &str, tag: &str| {
        xml_texts(change, tag)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("a change without <{tag}>: {change}"))
    };
    let actions = changes.iter().map(|c| first(c, "Action")).collect();
    let types = changes.iter().map(|c| first(c, "Type")).collect();
    let names = changes
        .iter()
        .map(|c| normalized_name(&first(c, "Name")))
        .collect();
    iam.with("route53:ChangeResourceRecordSetsActions", actions)
        .with("route53:ChangeResourceRecordSetsRecordTypes", types)
        .with(
            "route53:ChangeResourceRecordSetsNormalizedRecordNames",
            names,
        )
}

/// A name as Route 53's condition key holds it: lower case, no trailing dot, and any
/// character but `a-z 0-9 - _ .` as `\` and three octal digits.
pub fn normalized_name(name: &str) -> String {
    name.trim_end_matches('.')
        .to_ascii_lowercase()
        .bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (byte as char).to_string(),
            other => format!("\\{other:03o}"),
        })
        .collect()
}
