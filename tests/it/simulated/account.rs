//! The ECS and EC2 side of a simulated account: what ECS says of each task now, the task
//! definitions, the container instances and their EC2 hosts, which may vanish.
//!
//! The real ECS and EC2 clients answer from it through `aws-smithy-mocks` rules. Faults
//! come first in each client's rules: a failing operation answers an error on every
//! attempt, so the SDK's retries end in a visible error.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, PoisonError};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_ec2::types::{Instance, InstanceState, InstanceStateName, Reservation};
use aws_sdk_ecs::operation::describe_task_definition::{
    DescribeTaskDefinitionError, DescribeTaskDefinitionOutput,
};
use aws_sdk_ecs::types::{ContainerInstance, Failure, Task, TaskDefinition};
use aws_smithy_mocks::{create_mock_http_client, mock, MockResponse, Rule};

use crate::support::strict_zone::{interceptor, quick_retries, test_credentials};
use failing::{failing_rule, json_error, xml_error};

mod failing;

/// What ECS says of a task now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskTruth {
    /// lastStatus.
    pub last_status: String,
    /// desiredStatus.
    pub desired_status: String,
    /// ECS's version counter.
    pub version: i64,
}

impl TaskTruth {
    /// A task ECS wants stopped, or that is past RUNNING: it must never be published.
    pub fn is_stopping(&self) -> bool {
        self.desired_status == "STOPPED"
            || !matches!(
                self.last_status.as_str(),
                "PROVISIONING" | "PENDING" | "ACTIVATING" | "RUNNING"
            )
    }
}

/// An EC2 host as DescribeInstances sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// Running with this private IP.
    Running(Ipv4Addr),
    /// Still listed, terminated, without an address.
    Terminated,
    /// Not listed at all any more.
    Vanished,
}

/// How an operation fails while it is in [`Account::failing`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failing {
    /// 400 AccessDenied: not retried.
    Denied,
    /// 500: retried by the SDK until its attempts run out.
    ServerError,
}

/// The account's ECS and EC2 state.
#[derive(Debug, Default)]
pub struct Account {
    /// Task ARN → its state now.
    pub tasks: BTreeMap<String, TaskTruth>,
    /// Task ARN → what DescribeTasks shows besides the state (containers, bindings,
    /// ENI); a task without one is described with its state only.
    pub details: BTreeMap<String, Task>,
    /// Task ARNs per ListTasks page (ECS: up to 100); small values make reconciles page.
    pub list_page: usize,
    /// Task definition ARN → the definition.
    pub task_definitions: BTreeMap<String, TaskDefinition>,
    /// Container instance ARN → EC2 instance id.
    pub container_instances: BTreeMap<String, String>,
    /// EC2 instance id → the host.
    pub hosts: BTreeMap<String, Host>,
    /// Operations (`DescribeTasks`, `DescribeInstances`...) that fail for now.
    pub failing: BTreeMap<&'static str, Failing>,
    /// Requests per operation, every attempt counted.
    pub calls: BTreeMap<&'static str, usize>,
    /// Task ARN → the DescribeTasks call (counting from 1) from which ECS reports the
    /// task STOPPED: a task that stops while an invocation is under way.
    pub stops_at_describe: BTreeMap<String, usize>,
}

impl Account {
    /// The account, shared, as the clients want it.
    pub fn shared(self) -> Arc<Mutex<Account>> {
        Arc::new(Mutex::new(self))
    }

    fn count(&mut self, operation: &'static str) {
        *self.calls.entry(operation).or_default() += 1;
    }

    fn describe_tasks(
        &mut self,
        arns: &[String],
    ) -> aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput {
        self.count("DescribeTasks");
        let call = self.calls["DescribeTasks"];
        for (arn, from) in &self.stops_at_describe {
            if let Some(truth) = self.tasks.get_mut(arn).filter(|_| call >= *from) {
                truth.last_status = "STOPPED".to_owned();
                truth.desired_status = "STOPPED".to_owned();
                truth.version += 1;
            }
        }
        let mut output = aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput::builder();
        for asked in arns {
            // DescribeTasks takes "a list of up to 100 task IDs or full ARN entries" (the ECS
            // API reference); its answer names the ARN.
            let arn = self.task_arn(asked).unwrap_or(asked);
            output = match self.tasks.get(arn) {
                Some(truth) => {
                    let mut task = self
                        .details
                        .get(arn)
                        .cloned()
                        .unwrap_or_else(|| Task::builder().task_arn(arn).build());
                    task.last_status = Some(truth.last_status.clone());
                    task.desired_status = Some(truth.desired_status.clone());
                    task.version = truth.version;
                    output.tasks(task)
                }
                None => output.failures(Failure::builder().arn(asked).reason("MISSING").build()),
            };
        }
        output.build()
    }

    /// The full ARN of a task given by its ARN or its ID.
    fn task_arn<'a>(&'a self, asked: &'a str) -> Option<&'a String> {
        self.tasks
            .get_key_value(asked)
            .map(|(arn, _)| arn)
            .or_else(|| {
                let suffix = format!("/{asked}");
                self.tasks.keys().find(|arn| arn.ends_with(&suffix))
            })
    }

    /// Tasks ECS wants running (the only `desiredStatus` filter a reconcile uses), a
    /// page at a time; the token is the offset of the next page.
    fn list_tasks(
        &mut self,
        input: &aws_sdk_ecs::operation::list_tasks::ListTasksInput,
    ) -> aws_sdk_ecs::operation::list_tasks::ListTasksOutput {
        self.count("ListTasks");
        let wanted = input.desired_status().map_or("RUNNING", |s| s.as_str());
        let arns: Vec<&String> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.desired_status == wanted)
            .map(|(arn, _)| arn)
            .collect();
        // The token is the last ARN handed out, so a page starts after it however the set of
        // tasks changed in between (an offset would skip tasks when others stop).
        let start = input
            .next_token()
            .map_or(0, |last| arns.partition_point(|arn| arn.as_str() <= last));
        let page = self.list_page.clamp(1, 100);
        let end = (start + page).min(arns.len());
        let mut output = aws_sdk_ecs::operation::list_tasks::ListTasksOutput::builder()
            .set_task_arns(Some(
                arns[start.min(end)..end]
                    .iter()
                    .map(|a| a.to_string())
                    .collect(),
            ));
        if end < arns.len() {
            output = output.next_token(arns[end - 1].as_str());
        }
        output.build()
    }

    /// The default cluster and every cluster a task of the account runs in.
    fn list_clusters(&mut self) -> aws_sdk_ecs::operation::list_clusters::ListClustersOutput {
        let mut clusters = BTreeSet::from([crate::simulated::tasks::CLUSTER_ARN.to_owned()]);
        for arn in self.tasks.keys() {
            if let Some((head, rest)) = arn.split_once(":task/") {
                let cluster = rest.split('/').next().unwrap_or_default();
                clusters.insert(format!("{head}:cluster/{cluster}"));
            }
        }
        aws_sdk_ecs::operation::list_clusters::ListClustersOutput::builder()
            .set_cluster_arns(Some(clusters.into_iter().collect()))
            .build()
    }

    fn describe_container_instances(
        &mut self,
        arns: &[String],
    ) -> aws_sdk_ecs::operation::describe_container_instances::DescribeContainerInstancesOutput
    {
        self.count("DescribeContainerInstances");
        let mut output = aws_sdk_ecs::operation::describe_container_instances::DescribeContainerInstancesOutput::builder();
        for arn in arns {
            output = match self.container_instances.get(arn) {
                Some(id) => output.container_instances(
                    ContainerInstance::builder()
                        .container_instance_arn(arn)
                        .ec2_instance_id(id)
                        .build(),
                ),
                None => output.failures(Failure::builder().arn(arn).reason("MISSING").build()),
            };
        }
        output.build()
    }

    fn describe_instances(
        &mut self,
        input: &aws_sdk_ec2::operation::describe_instances::DescribeInstancesInput,
    ) -> aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput {
        self.count("DescribeInstances");
        let wanted: BTreeSet<&str> = input
            .filters()
            .iter()
            .filter(|f| f.name() == Some("instance-id"))
            .flat_map(|f| f.values())
            .map(String::as_str)
            .collect();
        let mut reservation = Reservation::builder();
        for id in wanted {
            let state = |name| InstanceState::builder().name(name).build();
            reservation = match self.hosts.get(id) {
                Some(Host::Running(ip)) => reservation.instances(
                    Instance::builder()
                        .instance_id(id)
                        .private_ip_address(ip.to_string())
                        .state(state(InstanceStateName::Running))
                        .build(),
                ),
                Some(Host::Terminated) => reservation.instances(
                    Instance::builder()
                        .instance_id(id)
                        .state(state(InstanceStateName::Terminated))
                        .build(),
                ),
                Some(Host::Vanished) | None => reservation,
            };
        }
        aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput::builder()
            .reservations(reservation.build())
            .build()
    }
}

fn lock(account: &Mutex<Account>) -> std::sync::MutexGuard<'_, Account> {
    account.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The rules of the ECS client: faults first, then the account's answers.
pub fn ecs_rules(account: &Arc<Mutex<Account>>) -> Vec<Rule> {
    let (tasks, definitions, instances, listing, clusters) = (
        Arc::clone(account),
        Arc::clone(account),
        Arc::clone(account),
        Arc::clone(account),
        Arc::clone(account),
    );
    vec![
        failing_rule!(
            aws_sdk_ecs::Client::describe_tasks,
            account,
            "DescribeTasks",
            json_error
        ),
        failing_rule!(
            aws_sdk_ecs::Client::describe_task_definition,
            account,
            "DescribeTaskDefinition",
            json_error
        ),
        failing_rule!(
            aws_sdk_ecs::Client::describe_container_instances,
            account,
            "DescribeContainerInstances",
            json_error
        ),
        mock!(aws_sdk_ecs::Client::describe_tasks)
            .then_compute_output(move |input| lock(&tasks).describe_tasks(input.tasks())),
        mock!(aws_sdk_ecs::Client::describe_task_definition).then_compute_response(move |input| {
            let mut world = lock(&definitions);
            world.count("DescribeTaskDefinition");
            let arn = input.task_definition().unwrap_or_default();
            match world.task_definitions.get(arn) {
                Some(definition) => MockResponse::Output(
                    DescribeTaskDefinitionOutput::builder()
                        .task_definition(definition.clone())
                        .build(),
                ),
                None => MockResponse::Error(DescribeTaskDefinitionError::ClientException(
                    aws_sdk_ecs::types::error::ClientException::builder()
                        .message(format!("Unable to describe task definition {arn}."))
                        .build(),
                )),
            }
        }),
        mock!(aws_sdk_ecs::Client::describe_container_instances).then_compute_output(
            move |input| lock(&instances).describe_container_instances(input.container_instances()),
        ),
        failing_rule!(
            aws_sdk_ecs::Client::list_tasks,
            account,
            "ListTasks",
            json_error
        ),
        mock!(aws_sdk_ecs::Client::list_tasks)
            .then_compute_output(move |input| lock(&listing).list_tasks(input)),
        mock!(aws_sdk_ecs::Client::list_clusters)
            .then_compute_output(move |_| lock(&clusters).list_clusters()),
        active_clusters_rule(),
    ]
}

/// DescribeClusters: every cluster asked about is ACTIVE.
pub fn active_clusters_rule() -> Rule {
    mock!(aws_sdk_ecs::Client::describe_clusters).then_compute_output(|input| {
        let clusters = input.clusters().iter().map(|arn| {
            aws_sdk_ecs::types::Cluster::builder()
                .cluster_arn(arn)
                .status("ACTIVE")
                .build()
        });
        aws_sdk_ecs::operation::describe_clusters::DescribeClustersOutput::builder()
            .set_clusters(Some(clusters.collect()))
            .build()
    })
}

/// The rules of the EC2 client.
pub fn ec2_rules(account: &Arc<Mutex<Account>>) -> Vec<Rule> {
    let hosts = Arc::clone(account);
    vec![
        failing_rule!(
            aws_sdk_ec2::Client::describe_instances,
            account,
            "DescribeInstances",
            xml_error
        ),
        mock!(aws_sdk_ec2::Client::describe_instances)
            .then_compute_output(move |input| lock(&hosts).describe_instances(input)),
    ]
}

/// The real ECS client, answered by `account`.
pub fn ecs_client(account: &Arc<Mutex<Account>>) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::from_conf(
        aws_sdk_ecs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(test_credentials())
            .http_client(create_mock_http_client())
            .retry_config(quick_retries())
            .interceptor(interceptor(&ecs_rules(account)))
            .build(),
    )
}

/// The real EC2 client, answered by `account`.
pub fn ec2_client(account: &Arc<Mutex<Account>>) -> aws_sdk_ec2::Client {
    ec2_client_with(account, Vec::new())
}

/// The real EC2 client with `first` consulted before the account's own rules, for a
/// test that must hook into one call.
pub fn ec2_client_with(account: &Arc<Mutex<Account>>, first: Vec<Rule>) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(test_credentials())
            .http_client(create_mock_http_client())
            .retry_config(quick_retries())
            .interceptor(interceptor(
                &first
                    .into_iter()
                    .chain(ec2_rules(account))
                    .collect::<Vec<_>>(),
            ))
            .build(),
    )
}
