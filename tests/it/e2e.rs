//! End to end, the `make demo` flow with asserts: the real `ecs-srv` binary behind
//! cargo-lambda's Lambda Runtime API, moto, the DNS front, task servers on loopback and
//! srv-proxy. The steps live in the `ecs-srv-demo` crate, so the demo and this test can
//! never disagree about what the flow is; this file checks each step's report.
//!
//! Needs the project venv (`make deps`): moto[server] and cargo-lambda. Set
//! ECS_SRV_DEMO_DELIVERY=replay to deliver through `ecs-srv replay` instead.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use ecs_srv_demo::{Check, Demo, DemoSetup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_events_become_records_dns_answers_and_traffic() {
    let workspace = ecs_srv_demo::workspace_here().unwrap_or_else(|e| panic!("{e:#}"));
    let setup = DemoSetup::locate(&workspace, Path::new(env!("CARGO_BIN_EXE_ecs-srv")))
        .unwrap_or_else(|e| panic!("{e:#}"));
    let requests = setup.requests;

    // 1. Emulators and the function.
    let (mut demo, start) = Demo::start(setup)
        .await
        .unwrap_or_else(|e| panic!("step 1: {e:#}"));
    assert!(start.dns_addr.ip().is_loopback());

    // 2. The account: three bridge web tasks (two on one host) and a Fargate api task.
    let seed = demo
        .seed()
        .await
        .unwrap_or_else(|e| panic!("step 2: {e:#}"));
    assert_eq!(seed.hosts.len(), 2);
    let services: Vec<&str> = seed.tasks.iter().map(|t| t.service.as_str()).collect();
    assert_eq!(services, ["web", "web", "web", "api"]);

    // 3. One server per task, on the task's own address.
    let servers = demo
        .start_servers()
        .await
        .unwrap_or_else(|e| panic!("step 3: {e:#}"));
    let server_of: BTreeMap<String, SocketAddr> = servers
        .servers
        .iter()
        .map(|(task, _, addr)| (task.clone(), *addr))
        .collect();
    assert_eq!(server_of.len(), 4);
    assert!(server_of
        .values()
        .all(|addr| addr.ip().is_loopback() && addr.port() != 0));

    // 4. Every RUNNING event publishes the task's SRV, service A and task A records.
    let published = demo
        .publish_running()
        .await
        .unwrap_or_else(|e| panic!("step 4: {e:#}"));
    assert_eq!(published.invocations.len(), 4);
    for (label, invocation) in &published.invocations {
        assert_eq!(invocation.decision, "publish", "{label}: {invocation:?}");
        let (whole_set, own) = split_whole_set(&invocation.changes);
        assert_eq!(own.len(), 3, "{label}: {invocation:?}");
        assert!(
            own.iter().all(|c| c.starts_with("CREATE ")),
            "{label}: {invocation:?}"
        );
        // The whole set (on by default) is created or swapped to include the task.
        assert!(
            whole_set
                .last()
                .is_some_and(|c| c.starts_with("CREATE SRV _")),
            "{label}: {invocation:?}"
        );
    }
    assert_eq!(published.problems(), Vec::<String>::new());

    // 5. Records for every task, in the zone and through DNS, pointing at its server.
    let zone = demo
        .inspect_zone()
        .await
        .unwrap_or_else(|e| panic!("step 5: {e:#}"));
    for (task, addr) in &server_of {
        let srv = zone
            .records
            .iter()
            .find(|r| r.record_type == "SRV" && r.values.iter().any(|v| v.contains(task.as_str())))
            .unwrap_or_else(|| panic!("no SRV record for task {task}: {:#?}", zone.records));
        assert_eq!(srv.values.len(), 1);
        let port: u16 = srv.values[0]
            .split(' ')
            .nth(2)
            .and_then(|p| p.parse().ok())
            .expect("SRV value has a port");
        assert_eq!(
            port,
            addr.port(),
            "task {task}'s SRV port is its server's port"
        );
    }
    for (name, answer, expected) in &zone.task_names {
        assert_eq!(answer.as_slice(), [*expected], "A {name}");
        let task = name.split('.').next().unwrap_or_default();
        assert_eq!(
            Some(IpAddr::V4(*expected)),
            server_of.get(task).map(SocketAddr::ip),
            "{name}"
        );
    }
    assert_eq!(
        zone.srv_by_task.len(),
        3,
        "DNS showed every web task: {:?}",
        zone.srv_by_task
    );
    for (task, record) in &zone.srv_by_task {
        assert_eq!(
            Some(record.port),
            server_of.get(task).map(SocketAddr::port),
            "SRV answer for {task}"
        );
        assert_eq!(record.ttl, 0, "RECORD_TTL=0 reaches the answer");
    }
    assert_eq!(
        zone.most_records_per_answer, 1,
        "a weighted answer holds one record set"
    );
    assert_eq!(zone.problems(), Vec::<String>::new());

    // 6. Traffic through srv-proxy reaches every web task, and only web tasks.
    let traffic = demo
        .send_traffic()
        .await
        .unwrap_or_else(|e| panic!("step 6: {e:#}"));
    assert!(
        traffic.web.failures.is_empty(),
        "{:?}",
        traffic.web.failures
    );
    assert_eq!(traffic.web.by_task.values().sum::<usize>(), requests);
    for task in &traffic.web_tasks {
        assert!(
            traffic.web.count(task) > 0,
            "web task {task} got no traffic: {:?}",
            traffic.web.by_task
        );
    }
    assert_eq!(traffic.web.count(&traffic.api_task), 0);
    assert_eq!(
        traffic.api.count(&traffic.api_task),
        traffic.api.sent,
        "{:?}",
        traffic.api
    );
    assert_eq!(traffic.problems(), Vec::<String>::new());
    assert!(
        traffic
            .routes
            .iter()
            .all(|(name, _)| name.contains("._all.")),
        "srv-proxy reads the whole sets: {:?}",
        traffic.routes
    );

    // 6, continued. HAProxy's server template over the whole set fills every web task.
    let haproxy = demo
        .haproxy()
        .await
        .unwrap_or_else(|e| panic!("step 6 (HAProxy): {e:#}"));
    assert_eq!(haproxy.slots.len(), 3, "{:?}", haproxy.slots);
    for slot in &haproxy.slots {
        let task = slot.fqdn.split('.').next().unwrap_or_default();
        assert_eq!(server_of.get(task), Some(&slot.addr), "{slot:?}");
        assert_eq!(
            slot.weight, 1,
            "weight label 1 stays 1 in HAProxy: {slot:?}"
        );
    }
    assert_eq!(haproxy.spread.by_task.values().sum::<usize>(), requests);
    assert_eq!(haproxy.problems(), Vec::<String>::new());

    // 7. A drained task gets no traffic at all while its server still runs; the others
    //    take all of it; nothing of it is left in the zone after its STOPPED event.
    let drain = demo
        .drain_one()
        .await
        .unwrap_or_else(|e| panic!("step 7: {e:#}"));
    assert_eq!(drain.draining.decision, "withdraw");
    let (whole_set, own) = split_whole_set(&drain.draining.changes);
    assert_eq!(own.len(), 3, "{:?}", drain.draining);
    assert!(own.iter().all(|c| c.starts_with("DELETE ")));
    let swap: Vec<&str> = whole_set
        .iter()
        .map(|c| c.split(' ').next().unwrap_or_default())
        .collect();
    assert_eq!(swap, ["DELETE", "CREATE"], "{:?}", drain.draining);
    assert!(
        drain.haproxy_dropped_after.is_some(),
        "HAProxy dropped the drained task's slot"
    );
    assert_eq!(
        drain.during_drain.count(&drain.task_id),
        0,
        "{:?}",
        drain.during_drain
    );
    assert_eq!(
        drain.connections_while_draining, 0,
        "the drained task's server saw connections"
    );
    assert!(
        drain.during_drain.failures.is_empty(),
        "{:?}",
        drain.during_drain.failures
    );
    assert_eq!(drain.during_drain.by_task.values().sum::<usize>(), requests);
    for task in &drain.remaining_tasks {
        assert!(
            drain.during_drain.count(task) > 0,
            "{task} got nothing: {:?}",
            drain.during_drain
        );
    }
    assert_ne!(drain.stopped.decision, "publish");
    assert!(drain.stopped.changes.is_empty(), "{:?}", drain.stopped);
    assert!(drain.records_left.is_empty(), "{:?}", drain.records_left);
    assert_eq!(drain.problems(), Vec::<String>::new());

    // 7, continued. A late RUNNING for the task ECS has stopped does not bring it back.
    let late = demo
        .late_running()
        .await
        .unwrap_or_else(|e| panic!("step 7 (late RUNNING): {e:#}"));
    assert_eq!(late.task_id, drain.task_id);
    // ecs-srv asked ECS, which says the task is STOPPED, and so withdrew it (nothing was
    // left to delete) instead of publishing it again.
    assert!(late.describe_tasks_calls() >= 1, "{:?}", late.invocation);
    assert!(
        late.ecs_status.starts_with("STOPPED/"),
        "{}",
        late.ecs_status
    );
    assert_eq!(
        late.invocation.decision, "withdraw",
        "{:?}",
        late.invocation
    );
    assert!(late.invocation.changes.is_empty(), "{:?}", late.invocation);
    assert!(late.records_left.is_empty(), "{:?}", late.records_left);
    assert_eq!(late.srv_answers_naming_task, 0);
    assert_eq!(late.traffic.count(&late.task_id), 0);
    assert!(
        late.traffic.failures.is_empty(),
        "{:?}",
        late.traffic.failures
    );
    assert_eq!(late.problems(), Vec::<String>::new());

    // 8. Everything stops cleanly.
    let cleanup = demo
        .shutdown()
        .await
        .unwrap_or_else(|e| panic!("step 8: {e:#}"));
    assert!(
        cleanup.stopped.iter().any(|s| s.starts_with("moto")),
        "{:?}",
        cleanup.stopped
    );
}

/// Splits an invocation's changes into those of the whole SRV sets (`._all.`) and the
/// task's own, each in order.
fn split_whole_set(changes: &[String]) -> (Vec<&String>, Vec<&String>) {
    changes.iter().partition(|c| c.contains("._all."))
}
