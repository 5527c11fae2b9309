//! Prometheus `dns_sd_configs` (type SRV) on the whole set, configured as docs/clients.md says:
//! it discovers every task at its own address and port, and forgets a drained one.
//!
//! Prometheus asks only the nameserver of `/etc/resolv.conf`, and only on port 53, so it
//! runs in a private network namespace whose resolv.conf names 127.0.0.1, where the DNS
//! front listens (see `ecs_srv_demo::netns`).

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use ecs_srv_demo::dns_front;
use ecs_srv_demo::netns::NetNamespace;
use ecs_srv_demo::prometheus::{RunningPrometheus, REFRESH_INTERVAL};

use super::{front_config, Service, RECORD_TTL};

/// Prometheus's first discovery runs at start; a loaded machine may take a while.
const DISCOVERY_DEADLINE: Duration = Duration::from_secs(30);

const POLL: Duration = Duration::from_millis(200);

/// Prometheus's discovery manager passes new target sets on at most every 5 s.
const DISCOVERY_UPDATE_THROTTLE: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_dns_sd_discovers_every_task_of_the_whole_set() {
    let service = Service::published("prometheus", Ipv4Addr::new(127, 0, 23, 1), &[3, 1, 1]).await;
    let namespace = NetNamespace::create("ecs-srv-interop")
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    let (udp, tcp) = namespace
        .run(|| {
            Ok((
                UdpSocket::bind("127.0.0.1:53")?,
                TcpListener::bind("127.0.0.1:53")?,
            ))
        })
        .unwrap_or_else(|e| panic!("{e:#}"));
    let front = dns_front::start_on(front_config(), service.zone_source(), udp, tcp)
        .await
        .expect("the DNS front starts inside the namespace");
    let mut prometheus =
        RunningPrometheus::start(&namespace, &service.whole_set_name(), service.dir())
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));

    let address = |index: usize| {
        let task = &service.tasks[index];
        format!(
            "{}.web.{}:{}",
            task.id,
            service.zone,
            task.server.addr.port()
        )
    };
    let mut every_task: Vec<String> = (0..service.tasks.len()).map(address).collect();
    every_task.sort();
    let started = Instant::now();
    wait_for(&mut prometheus, &namespace, &every_task, DISCOVERY_DEADLINE).await;
    eprintln!(
        "prometheus: discovered {every_task:?} after {:.1}s",
        started.elapsed().as_secs_f64()
    );

    service.drain(2);
    let remaining: Vec<String> = every_task
        .iter()
        .filter(|a| **a != address(2))
        .cloned()
        .collect();
    let started = Instant::now();
    wait_for(
        &mut prometheus,
        &namespace,
        &remaining,
        RECORD_TTL + REFRESH_INTERVAL + DISCOVERY_UPDATE_THROTTLE + Duration::from_secs(5),
    )
    .await;
    eprintln!(
        "prometheus: forgot the drained task after {:.1}s",
        started.elapsed().as_secs_f64()
    );

    prometheus.stop().await.expect("prometheus stops");
    front.shutdown().await;
}

/// Reads Prometheus's targets until they are `expected`, failing with its view and log
/// at the deadline.
async fn wait_for(
    prometheus: &mut RunningPrometheus,
    namespace: &NetNamespace,
    expected: &[String],
    deadline: Duration,
) {
    let started = Instant::now();
    let mut last = Vec::new();
    while started.elapsed() < deadline {
        last = prometheus
            .targets(namespace)
            .unwrap_or_else(|e| panic!("{e:#}"));
        if last == expected {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!(
        "Prometheus's targets were {last:?}, not {expected:?}, after {deadline:?}; its log:\n{}",
        prometheus.log_tail()
    )
}
