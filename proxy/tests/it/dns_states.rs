//! How the proxy reacts to DNS: outages keep the last answer, a gone name closes clients, the
//! TTL decides when a changed answer is seen, and both glue and separate A lookups work.

use std::time::Duration;

use crate::support::dns::{DnsMode, TestDns};
use crate::support::{backend_reached, start_backend, start_proxy, test_settings};

const WEB: &str = "_web._tcp.web.ecs.test.";

#[tokio::test]
async fn a_dns_outage_keeps_the_last_good_answer() {
    let mut dns = TestDns::start().await;
    let backend = start_backend("web").await;
    dns.set_targets(WEB, &[(10, 1, backend.port)]);
    dns.edit(|zone| zone.ttl = 0);
    let proxy = start_proxy(dns.addr, &[WEB], test_settings()).await;
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
    let dns = TestDns::start().await;
    let backend = start_backend("web").await;
    dns.set_targets(WEB, &[(10, 1, backend.port)]);
    dns.edit(|zone| zone.ttl = 0);
    let proxy = start_proxy(dns.addr, &[WEB], test_settings()).await;
    assert_eq!(backend_reached(proxy.addr()).await.as_deref(), Some("web"));

    for mode in [DnsMode::NxDomain, DnsMode::Empty] {
        dns.edit(|zone| zone.mode = mode);
        // A failure is remembered for a second; bounded wait until the new state is seen.
        let mut closed = false;
        for _ in 0..50 {
            if backend_reached(proxy.addr()).await.is_none() {
                closed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(closed, "{mode:?} closes the client without a backend");
        dns.edit(|zone| zone.mode = DnsMode::Normal);
        let mut back = false;
        for _ in 0..50 {
            if backend_reached(proxy.addr()).await.is_some() {
                back = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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
    let dns = TestDns::start().await;
    let old = start_backend("old").await;
    let new = start_backend("new").await;
    dns.set_targets(WEB, &[(10, 1, old.port)]);
    dns.edit(|zone| zone.ttl = 300);
    let cached = start_proxy(dns.addr, &[WEB], test_settings()).await;
    assert_eq!(backend_reached(cached.addr()).await.as_deref(), Some("old"));
    dns.set_targets(WEB, &[(10, 1, new.port)]);
    for _ in 0..5 {
        assert_eq!(
            backend_reached(cached.addr()).await.as_deref(),
            Some("old"),
            "within TTL 300"
        );
    }

    // TTL 1: the change shows once the second has passed (bounded wait, no timing assert).
    dns.set_targets(WEB, &[(10, 1, old.port)]);
    dns.edit(|zone| zone.ttl = 1);
    let short = start_proxy(dns.addr, &[WEB], test_settings()).await;
    assert_eq!(backend_reached(short.addr()).await.as_deref(), Some("old"));
    dns.set_targets(WEB, &[(10, 1, new.port)]);
    let mut renewed = false;
    for _ in 0..50 {
        if backend_reached(short.addr()).await.as_deref() == Some("new") {
            renewed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(renewed, "a changed answer is seen after the TTL");
}

#[tokio::test]
async fn ttl_zero_refreshes_beside_every_connection() {
    let dns = TestDns::start().await;
    let old = start_backend("old").await;
    let new = start_backend("new").await;
    dns.set_targets(WEB, &[(10, 1, old.port)]);
    dns.edit(|zone| zone.ttl = 0);
    let proxy = start_proxy(dns.addr, &[WEB], test_settings()).await;
    for _ in 0..5 {
        assert_eq!(backend_reached(proxy.addr()).await.as_deref(), Some("old"));
    }
    // Each connection starts a lookup unless one is in flight, and none waits for it.
    let queries = dns.srv_queries();
    assert!(
        (2..=5).contains(&queries),
        "{queries} queries for 5 connections"
    );

    // The next answer is used from the connection after the lookup that brought it.
    dns.set_targets(WEB, &[(10, 1, new.port)]);
    let mut renewed = false;
    for _ in 0..50 {
        if backend_reached(proxy.addr()).await.as_deref() == Some("new") {
            renewed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(renewed, "a changed answer is used at TTL 0");
}

#[tokio::test]
async fn target_addresses_come_from_a_lookups_without_glue() {
    let dns = TestDns::start().await;
    let backend = start_backend("web").await;
    dns.set_targets(WEB, &[(10, 1, backend.port)]);
    dns.edit(|zone| zone.glue = false);
    let proxy = start_proxy(dns.addr, &[WEB], test_settings()).await;
    assert_eq!(backend_reached(proxy.addr()).await.as_deref(), Some("web"));
}
