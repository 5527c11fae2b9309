//! IPv6: AAAA records beside (dual-stack) or instead of (IPv6-only) the A records of an
//! awsvpc task, from the sample events through the planner, and end to end through the real
//! SDK clients into the strict Route 53 model: published, recognised as ours, withdrawn,
//! and rebuilt by the reconcile from DescribeTasks' view alone.

use std::net::Ipv6Addr;

use ecs_srv::plan::naming::RecordRole;
use ecs_srv::plan::records::{Change, RecordSet, RecordType, Routing};
use ecs_srv::plan::task::RunningTask;
use serde_json::{json, Value};

use crate::plan_samples::{expect, plan};
use crate::simulated::tasks::{simple_task, Mode, TaskSpec};
use crate::simulated::{self as sim, inputs, set_task, zone_contents};

const DUAL: &str = "2600:1f18:4c2:a001:7f3e:9b12:4c8d:21";
const ONLY: &str = "2600:1f18:4c2:a002:5a1b:e37c:910f:6";

#[test]
fn ipv6_samples_plan_to_a_and_aaaa_or_aaaa_alone() {
    use ecs_srv::config::RoutingPolicy::Weighted;
    use RecordType::{Aaaa, Srv, A};
    assert_eq!(
        plan("fargate-dualstack-running.json", Weighted),
        expect(&[
            (
                "_payments._tcp.payments.ecs.internal.",
                Srv,
                "1 256 8443 T.payments.ecs.internal.",
            ),
            ("payments.ecs.internal.", A, "10.0.3.21"),
            ("T.payments.ecs.internal.", A, "10.0.3.21"),
            ("payments.ecs.internal.", Aaaa, DUAL),
            ("T.payments.ecs.internal.", Aaaa, DUAL),
        ])
    );
    assert_eq!(
        plan("fargate-ipv6-running.json", Weighted),
        expect(&[
            (
                "_ledger._tcp.ledger.ecs.internal.",
                Srv,
                "1 256 9000 T.ledger.ecs.internal.",
            ),
            ("ledger.ecs.internal.", Aaaa, ONLY),
            ("T.ledger.ecs.internal.", Aaaa, ONLY),
        ]),
        "an IPv6-only task has no A record, and its SRV target answers AAAA"
    );
}

#[test]
fn aaaa_sets_carry_their_own_ownership_mark() {
    let zone = crate::support::naming("ecs.internal.");
    let name = "t1.web.ecs.internal.";
    let v6 = crate::support::task_mark("t1", RecordRole::TaskAddress6, "demo", name);
    let v4 = crate::support::task_mark("t1", RecordRole::TaskAddress, "demo", name);
    assert!(v6.starts_with("ecs-srv:t1:task6:"), "{v6}");
    assert_ne!(v4, v6);
    let owner_of = |record_type: RecordType, set_identifier: &str| {
        let set = RecordSet {
            name: name.to_owned(),
            record_type,
            routing: Routing::Weighted {
                set_identifier: set_identifier.to_owned(),
                weight: 1,
            },
            ttl: 10,
            values: vec![ONLY.to_owned()],
            alias: None,
        };
        ecs_srv::plan::ownership::ownership(&zone, &set)
    };
    use ecs_srv::plan::ownership::Ownership;
    assert_eq!(
        owner_of(RecordType::Aaaa, &v6),
        Ownership::Task("t1".into())
    );
    assert_eq!(owner_of(RecordType::A, &v6), Ownership::Foreign);
    assert_eq!(owner_of(RecordType::Aaaa, &v4), Ownership::Foreign);

    // The Route 53 edge converts both ways.
    let set = RecordSet {
        name: name.to_owned(),
        record_type: RecordType::Aaaa,
        routing: Routing::Weighted {
            set_identifier: v6,
            weight: 1,
        },
        ttl: 10,
        values: vec![ONLY.to_owned()],
        alias: None,
    };
    let sdk = ecs_srv::aws::route53::to_sdk_change(&Change::Create(set.clone()), "ZIPV6").unwrap();
    let sdk_set = sdk.resource_record_set().unwrap();
    assert_eq!(*sdk_set.r#type(), aws_sdk_route53::types::RrType::Aaaa);
    assert_eq!(ecs_srv::aws::route53::convert::listed_set(sdk_set), Ok(set));
}

/// Gives an awsvpc task's event the IPv6 address on its container interfaces, and takes
/// its IPv4 address away unless `keep_ipv4`.
fn with_ipv6(event: &mut Value, keep_ipv4: bool) {
    let detail = &mut event["detail"];
    for container in detail["containers"].as_array_mut().unwrap() {
        for interface in container["networkInterfaces"].as_array_mut().unwrap() {
            interface["ipv6Address"] = json!(ONLY);
            if !keep_ipv4 {
                interface
                    .as_object_mut()
                    .unwrap()
                    .remove("privateIpv4Address");
            }
        }
    }
    if !keep_ipv4 {
        for attachment in detail["attachments"].as_array_mut().unwrap() {
            attachment["details"]
                .as_array_mut()
                .unwrap()
                .retain(|d| d["name"] != "privateIPv4Address");
        }
    }
}

/// ECS runs the task with an IPv6 address (and its IPv4 one when `keep_ipv4`); returns its
/// RUNNING event.
fn running_with_ipv6(
    account: &std::sync::Arc<std::sync::Mutex<sim::account::Account>>,
    task: &TaskSpec,
    keep_ipv4: bool,
) -> Value {
    set_task(account, task, "RUNNING", "RUNNING", 2);
    let mut world = account.lock().unwrap();
    let described = world.details.get_mut(&task.task_arn()).unwrap();
    for container in described.containers.iter_mut().flatten() {
        for interface in container.network_interfaces.iter_mut().flatten() {
            interface.ipv6_address = Some(ONLY.to_owned());
            if !keep_ipv4 {
                interface.private_ipv4_address = None;
            }
        }
    }
    if !keep_ipv4 {
        for attachment in described.attachments.iter_mut().flatten() {
            if let Some(details) = attachment.details.as_mut() {
                details.retain(|d| d.name() != Some("privateIPv4Address"));
            }
        }
    }
    drop(world);
    let mut event = task.event("RUNNING", "RUNNING", 2);
    with_ipv6(&mut event, keep_ipv4);
    event
}

fn expected(
    publisher: &ecs_srv::run::deployment::Deployment,
    task: &RunningTask,
) -> Vec<RecordSet> {
    let mut sets =
        ecs_srv::plan::desired::desired_records(task, &publisher.records).expect("names fit");
    sets.sort();
    sets
}

fn types_at(sets: &[RecordSet], name: &str) -> Vec<RecordType> {
    let mut types: Vec<RecordType> = sets
        .iter()
        .filter(|s| s.name == name)
        .map(|s| s.record_type)
        .collect();
    types.sort();
    types
}

#[tokio::test]
async fn an_ipv6_only_task_is_published_withdrawn_and_reconciled() {
    let (zone, account, publisher) = sim::world(1, &[]).await;
    let task = simple_task(30, Mode::Awsvpc, "web", 0);
    let event = running_with_ipv6(&account, &task, false);

    let report = ecs_srv::run::events::process(&publisher, inputs([event])).await;
    assert!(!report.has_failures(), "no MissingEniAddress: {report:?}");
    let owned = zone_contents(&zone, &publisher).0;
    let six = RunningTask {
        ipv4: None,
        ipv6: Some(ONLY.parse::<Ipv6Addr>().unwrap()),
        ..task.running_task()
    };
    assert_eq!(owned, expected(&publisher, &six));
    let task_name = format!("{}.web.{}", task.task_id, sim::APEX);
    assert_eq!(types_at(&owned, &task_name), vec![RecordType::Aaaa]);
    assert_eq!(
        types_at(&owned, &format!("web.{}", sim::APEX)),
        vec![RecordType::Aaaa]
    );

    // The reconcile reads the AAAA sets as ours and finds nothing to change.
    let report =
        ecs_srv::run::reconcile::reconcile(&publisher, ecs_srv::run::deployment::Mode::Write)
            .await
            .unwrap();
    assert!(report.failures.is_empty(), "{report:?}");
    assert_eq!(report.changes, Vec::new());

    // Stopped: every AAAA set goes.
    let stopped = sim::stopped_events(&account, &[&task]);
    assert!(!ecs_srv::run::events::process(&publisher, inputs(stopped))
        .await
        .has_failures());
    assert_eq!(zone_contents(&zone, &publisher).0, Vec::new());

    // Running again (DescribeTasks only): the reconcile rebuilds it from its view.
    running_with_ipv6(&account, &task, false);
    ecs_srv::run::reconcile::reconcile(&publisher, ecs_srv::run::deployment::Mode::Write)
        .await
        .unwrap();
    assert_eq!(
        zone_contents(&zone, &publisher).0,
        expected(&publisher, &six)
    );
}

#[tokio::test]
async fn a_dual_stack_task_answers_a_and_aaaa() {
    let (zone, account, publisher) = sim::world(1, &[]).await;
    let task = simple_task(31, Mode::Awsvpc, "web", 0);
    let event = running_with_ipv6(&account, &task, true);

    assert!(!ecs_srv::run::events::process(&publisher, inputs([event]))
        .await
        .has_failures());
    let owned = zone_contents(&zone, &publisher).0;
    let dual = RunningTask {
        ipv6: Some(ONLY.parse::<Ipv6Addr>().unwrap()),
        ..task.running_task()
    };
    assert_eq!(owned, expected(&publisher, &dual));
    let task_name = format!("{}.web.{}", task.task_id, sim::APEX);
    assert_eq!(
        types_at(&owned, &task_name),
        vec![RecordType::A, RecordType::Aaaa]
    );
}

#[tokio::test]
async fn a_bridge_task_on_a_host_with_an_ipv6_address_answers_aaaa_too() {
    use aws_sdk_ec2::types::{Instance, InstanceState, InstanceStateName, Reservation};
    let zone = sim::empty_zone();
    let account = sim::account_with_hosts(1);
    let host_ipv6: Ipv6Addr = "2600:1f18:4c2:a100::10".parse().unwrap();
    let dual_stack_host = aws_smithy_mocks::mock!(aws_sdk_ec2::Client::describe_instances)
        .then_output(move || {
            let instance = Instance::builder()
                .instance_id(sim::tasks::instance_id(0))
                .private_ip_address(sim::tasks::host_address(0).to_string())
                .ipv6_address(host_ipv6.to_string())
                .state(
                    InstanceState::builder()
                        .name(InstanceStateName::Running)
                        .build(),
                )
                .build();
            aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput::builder()
                .reservations(Reservation::builder().instances(instance).build())
                .build()
        });
    let clients = ecs_srv::aws::AwsClients::from_parts(
        sim::account::ecs_client(&account),
        sim::account::ec2_client_with(&account, vec![dual_stack_host]),
        crate::support::strict_zone::route53_client(zone.clone()),
        ecs_srv::aws::ApiCallLog::default(),
    );
    let publisher = crate::support::config::deployment(sim::config(), clients)
        .await
        .unwrap();
    let task = simple_task(32, Mode::Bridge, "web", 0);

    let events = sim::running_events(&account, &[&task]);
    assert!(!ecs_srv::run::events::process(&publisher, inputs(events))
        .await
        .has_failures());
    let on_host = RunningTask {
        ipv6: Some(host_ipv6),
        ..task.running_task()
    };
    assert_eq!(
        zone_contents(&zone, &publisher).0,
        expected(&publisher, &on_host),
        "A and AAAA of the host, SRV with the host port"
    );
}
