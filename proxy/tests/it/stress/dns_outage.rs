//! DNS away for a while, then back with a changed answer: service goes on from the last answer
//! and the new one is picked up.

use std::time::{Duration, Instant};

use super::{ONE_AT_A_TIME, WEB};
use crate::support::{backend_reached, eventually, start_proxy, test_settings, MovingAnswer};

/// How long the DNS server stays away: longer than one lookup takes to give up (2 s × 2
/// attempts, which no client waits for), so that several failed refreshes and 1 s failure holds
/// fall inside it.
const DNS_OUTAGE: Duration = Duration::from_secs(7);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stress: run by make stress"]
async fn service_continues_through_a_dns_outage_and_the_new_answer_is_picked_up() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let MovingAnswer {
        mut dns,
        old: _old,
        new,
    } = MovingAnswer::start(1).await;
    let proxy = start_proxy(dns.addr, &[WEB], test_settings()).await;
    assert_eq!(backend_reached(proxy.addr()).await.as_deref(), Some("old"));

    dns.take_away().await;
    let outage_started = Instant::now();
    let mut served_during_outage = 0;
    // Bounded: the outage is a few seconds and each client waits at most a DNS timeout or two.
    for _ in 0..200 {
        if outage_started.elapsed() >= DNS_OUTAGE {
            break;
        }
        assert_eq!(
            backend_reached(proxy.addr()).await.as_deref(),
            Some("old"),
            "served from the last good answer while DNS is away"
        );
        served_during_outage += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served_during_outage > 0);
    // The refresh beside the traffic gives up in the end (no client waits for it); from then on
    // the answers served count as stale.
    let failed = eventually(100, Duration::from_millis(100), || async {
        proxy.sample("srv_proxy_dns_errors_total", "unavailable") >= 1.0
    })
    .await;
    let lookup_failed_after = outage_started.elapsed();
    assert!(failed, "a refresh against the stopped DNS fails");
    assert_eq!(backend_reached(proxy.addr()).await.as_deref(), Some("old"));
    assert!(proxy.sample("srv_proxy_dns_stale_answers_total", "") >= 1.0);

    dns.set_targets(WEB, &[(10, 1, new.port)]);
    dns.bring_back().await;
    let mut clients_until_new = None;
    for attempt in 1..=100 {
        let reached = backend_reached(proxy.addr()).await;
        assert!(reached.is_some(), "service continues while DNS comes back");
        if reached.as_deref() == Some("new") {
            clients_until_new = Some(attempt);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "stress: DNS away for {DNS_OUTAGE:?}: {served_during_outage} clients served from the last \
         good answer; the first refresh had failed by {lookup_failed_after:?}; the changed answer \
         was used from client {clients_until_new:?} on"
    );
    assert!(clients_until_new.is_some(), "the new answer is picked up");
    for _ in 0..5 {
        assert_eq!(backend_reached(proxy.addr()).await.as_deref(), Some("new"));
    }
}
