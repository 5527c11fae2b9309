//! HAProxy `server-template` over the whole set, configured as docs/clients.md says: every
//! task fills a slot with its weight, traffic follows the weight labels, and a drained
//! task leaves HAProxy within TTL + hold.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use ecs_srv_demo::haproxy::{RunningHaproxy, HOLD_VALID, RESOLVE_INTERVAL};
use ecs_srv_demo::traffic::send_requests;

use super::{hoeffding_tail, Service, RECORD_TTL};

/// Requests through HAProxy for the weight check. With weights 3 and 1 the heavy task's
/// share is 0.75; the check allows ±0.1. Were the picks independent draws (HAProxy's
/// roundrobin is steadier still), Hoeffding bounds the chance of a correct HAProxy
/// failing by 2·exp(-2·1200·0.1²) = 2·e⁻²⁴ ≈ 7.6e-11. An HAProxy that ignored the
/// weights (share 0.5, as before the × 256 scaling) fails it just as surely.
const REQUESTS: usize = 1200;
const BAND: f64 = 0.1;

/// HAProxy resolves every second; the first answer takes a resolution or two.
const FILL_DEADLINE: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_fills_every_task_follows_the_weights_and_drops_a_drained_task() {
    let service = Service::published("haproxy", Ipv4Addr::new(127, 0, 21, 1), &[3, 1, 1]).await;
    let front = service.front().await;
    let mut haproxy = RunningHaproxy::start(front.addr(), &service.whole_set_name(), service.dir())
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    // Every task fills a slot, at its own address and port, with its label as weight.
    let slots = haproxy
        .wait_for_servers(FILL_DEADLINE, |slots| slots.len() == 3)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    for slot in &slots {
        let task = service
            .task_at(slot.addr)
            .unwrap_or_else(|| panic!("slot {slot:?} is no task's server"));
        assert_eq!(slot.weight, u32::from(task.weight), "{slot:?}");
        assert!(slot.fqdn.starts_with(&task.id), "{slot:?}");
    }

    // The draining event withdraws the third task; HAProxy drops it at a resolution
    // after the DNS front sees the change: within TTL + hold, whatever the clock.
    let drained = service.tasks[2].server.addr;
    service.drain(2);
    let started = Instant::now();
    let deadline = RECORD_TTL + HOLD_VALID + 2 * RESOLVE_INTERVAL;
    let slots = haproxy
        .wait_for_servers(deadline, |slots| {
            slots.len() == 2 && slots.iter().all(|s| s.addr != drained)
        })
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!(
        "haproxy: the drained task left after {:.1}s (bound {deadline:?})",
        started.elapsed().as_secs_f64()
    );

    // Traffic follows the labels 3 and 1, and none reaches the drained task.
    let drained_before = service.tasks[2].server.connections();
    let spread = send_requests(haproxy.listen, REQUESTS).await;
    assert!(spread.failures.is_empty(), "{:?}", spread.failures);
    assert_eq!(spread.sent, REQUESTS);
    let heavy = spread.count(&service.tasks[0].id);
    let share = heavy as f64 / REQUESTS as f64;
    eprintln!(
        "haproxy: weight 3 vs 1 got {heavy} of {REQUESTS} ({share:.3}, ratio {:.2}); slots {slots:?}; tail bound {:.1e}",
        heavy as f64 / spread.count(&service.tasks[1].id).max(1) as f64,
        hoeffding_tail(REQUESTS, BAND)
    );
    assert!((share - 0.75).abs() <= BAND, "{:?}", spread.by_task);
    assert_eq!(spread.count(&service.tasks[2].id), 0);
    assert_eq!(service.tasks[2].server.connections(), drained_before);

    haproxy.stop().await.expect("haproxy stops");
    front.shutdown().await;
}
