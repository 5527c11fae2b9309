//! How the proxy reacts to DNS: outages keep the last answer, a gone name closes clients, the
//! TTL decides when a changed answer is seen, and both glue and separate A lookups work.

use std::time::Duration;

use srv_proxy::config::ProxySettings;

use crate::support::dns::{DnsMode, TestDns};
use crate::support::{
    assert_one_to_three, backend_reached, eventually, eventually_reaches, light_and_heavy,
    start_proxy, test_settings, MovingAnswer, WebRoute, WEB,
};

#[tokio::test]
async fn a_dns_outage_keeps_the_last_good_answer() {
    // No floor: every connection asks again, so each mode below is met at once.
    let settings = ProxySettings {
        min_ttl: Duration::ZERO,
        ..test_settings()
    };
    let WebRoute {
        mut dns,
        proxy,
        backend: _backend,
    } = WebRoute::start(settings).await;
    dns.edit(|zone| zone.ttl = 0);
    assert_eq!(backend_reached(proxy.addr()).await.as_deref(), Some("web"));

    for mode in [DnsMode::ServFail, DnsMode::Refused] {
        dns.edit(|zone| zone.mode = mode);
        for _ in 0..3 {
            assert_eq!(
                backend_reached(proxy.addr()).await.as_deref(),
                Some("web"),
                "{mode:?}"
            );
        }
    }
    dns.take_away().await;
    for _ in 0..3 {
        assert_eq!(backend_reached(proxy.addr()).await.as_deref(), Some("web"));
    }
    assert!(proxy.sample("srv_proxy_dns_stale_answers_total", "") >= 1.0);
    assert!(proxy.sample("srv_proxy_dns_errors_total", "unavailable") >= 1.0);
}

#[tokio::test]
async fn nxdomain_or_an_empty_answer_closes_clients_at_once() {
    let WebRoute {
        dns,
        proxy,
        backend: _backend,
    } = WebRoute::start(test_settings()).await;
    dns.edit(|zone| zone.ttl = 0);
    assert_eq!(backend_reached(proxy.addr()).await.as_deref(), Some("web"));

    for mode in [DnsMode::NxDomain, DnsMode::Empty] {
        dns.edit(|zone| zone.mode = mode);
        // A failure is remembered for a second; bounded wait until the new state is seen.
        let proxy = &proxy;
        let closed = eventually(50, Duration::from_millis(100), || async move {
            backend_reached(proxy.addr()).await.is_none()
        })
        .await;
        assert!(closed, "{mode:?} closes the client without a backend");
        dns.edit(|zone| zone.mode = DnsMode::Normal);
        let proxy = &proxy;
        let back = eventually(50, Duration::from_millis(100), || async move {
            backend_reached(proxy.addr()).await.is_some()
        })
        .await;
        assert!(back, "the route recovers when the name is back");
    }
    assert!(proxy.sample("srv_proxy_dns_errors_total", "not_found") >= 2.0);
}

#[tokio::test]
async fn an_unknown_name_closes_clients_from_the_start() {
    let dns = TestDns::start().await;
    let proxy = start_proxy(dns.addr, &["_nothing._tcp.ecs.test."], test_settings()).await;
    assert_eq!(backend_reached(proxy.addr()).await, None);
}

#[tokio::test]
async fn the_answer_is_cached_for_its_ttl_and_renewed_after() {
    let moving = MovingAnswer::start(300).await;
    let cached = start_proxy(moving.dns.addr, &[WEB], test_settings()).await;
    assert_eq!(backend_reached(cached.addr()).await.as_deref(), Some("old"));
    moving.move_to_new();
    for _ in 0..5 {
        assert_eq!(
            backend_reached(cached.addr()).await.as_deref(),
            Some("old"),
            "within TTL 300"
        );
    }

    // TTL 1: the change shows once the second has passed (bounded wait, no timing assert).
    let moving = MovingAnswer::start(1).await;
    let short = start_proxy(moving.dns.addr, &[WEB], test_settings()).await;
    assert_eq!(backend_reached(short.addr()).await.as_deref(), Some("old"));
    moving.move_to_new();
    let renewed = eventually_reaches(short.addr(), "new").await;
    assert!(renewed, "a changed answer is seen after the TTL");
}

#[tokio::test]
async fn ttl_zero_is_asked_again_at_most_once_per_floor() {
    let moving = MovingAnswer::start(0).await;
    let proxy = start_proxy(moving.dns.addr, &[WEB], test_settings()).await;
    for _ in 0..20 {
        assert_eq!(backend_reached(proxy.addr()).await.as_deref(), Some("old"));
    }
    // Twenty connections well within the 1 s floor: the first one's lookup serves them all.
    let queries = moving.dns.srv_queries();
    assert_eq!(queries, 1, "{queries} queries for 20 connections");

    // Past the floor the next connection refreshes beside the traffic, and the answer it
    // brings is used from then on.
    moving.move_to_new();
    let renewed = eventually_reaches(proxy.addr(), "new").await;
    assert!(renewed, "a changed answer is used at TTL 0");
}

#[tokio::test]
async fn ttl_zero_with_the_floor_still_picks_by_weight_per_connection() {
    let dns = TestDns::start().await;
    let _backends = light_and_heavy(&dns).await;
    dns.edit(|zone| zone.ttl = 0);
    let proxy = start_proxy(dns.addr, &[WEB], test_settings()).await;
    // Few lookups for 400 connections, and still the weights' split: the pick is made per
    // connection, from the answer in use.
    assert_one_to_three(proxy.addr()).await;
    assert!(dns.srv_queries() < 400, "{} queries", dns.srv_queries());
}

#[tokio::test]
async fn target_addresses_come_from_a_lookups_without_glue() {
    let WebRoute {
        dns,
        proxy,
        backend: _backend,
    } = WebRoute::start(test_settings()).await;
    dns.edit(|zone| zone.glue = false);
    assert_eq!(backend_reached(proxy.addr()).await.as_deref(), Some("web"));
}
