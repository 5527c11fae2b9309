//! A client never waits on DNS while the route has an answer: with DNS gone after the first
//! answer, every connection is served from the last answer at once, TTL after TTL.

use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::support::{backend_reached, eventually, test_settings, WebRoute};

/// Far above what a connection through the proxy takes on loopback (about a millisecond) and far
/// below the stall this guards against (a lookup of 2 s × 2 attempts in front of the client).
const FAR_ABOVE_NORMAL: Duration = Duration::from_millis(100);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_dns_gone_no_connection_waits_on_a_lookup() {
    const CONNECTIONS: u32 = 200;
    const SPREAD: Duration = Duration::from_secs(5);
    let WebRoute {
        mut dns,
        proxy,
        backend: _backend,
    } = WebRoute::start(test_settings()).await;
    dns.edit(|zone| zone.ttl = 1);
    assert_eq!(backend_reached(proxy.addr()).await.as_deref(), Some("web"));
    dns.take_away().await;

    // Spread over five TTLs, so that expiries, refreshes and failure holds all fall among them.
    let mut clients = JoinSet::new();
    let addr = proxy.addr();
    for index in 0..CONNECTIONS {
        clients.spawn(async move {
            tokio::time::sleep(SPREAD * index / CONNECTIONS).await;
            let started = Instant::now();
            let reached = backend_reached(addr).await;
            (reached, started.elapsed())
        });
    }
    let mut slowest = Duration::ZERO;
    let mut served = 0;
    while let Some(outcome) = clients.join_next().await {
        let (reached, took) = outcome.expect("client task");
        assert_eq!(
            reached.as_deref(),
            Some("web"),
            "served from the last answer"
        );
        served += 1;
        slowest = slowest.max(took);
    }
    println!("stale answers: {served} connections with DNS gone, the slowest took {slowest:?}");
    assert_eq!(served, CONNECTIONS);
    assert!(
        slowest < FAR_ABOVE_NORMAL,
        "a connection waited {slowest:?}: it must not wait on DNS while an answer exists"
    );

    // The refresh beside the traffic times out in the end (2 s × 2 attempts); from then on the
    // route counts its answers as stale, and still serves them.
    let proxy = &proxy;
    let failed = eventually(100, Duration::from_millis(100), || async move {
        proxy.sample("srv_proxy_dns_errors_total", "unavailable") >= 1.0
    })
    .await;
    assert!(failed, "the refresh against the stopped DNS fails");
    assert_eq!(backend_reached(addr).await.as_deref(), Some("web"));
    assert!(proxy.sample("srv_proxy_dns_stale_answers_total", "") >= 1.0);
}
