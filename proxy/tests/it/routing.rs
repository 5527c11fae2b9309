//! Choosing targets through a real DNS server: weights, priorities, retries and ejection.

use std::time::Duration;

use crate::support::dns::TestDns;
use crate::support::WEB;
use crate::support::{
    assert_one_to_three, backend_reached, dead_port, light_and_heavy, start_backend, start_proxy,
    test_settings, Backend,
};
use srv_proxy::ejection::EjectionPolicy;

/// [`WEB`] at two equal targets: a backend `alive`, and a port where nothing listens.
async fn alive_and_dead() -> (TestDns, Backend, u16) {
    let dns = TestDns::start().await;
    let alive = start_backend("alive").await;
    let dead = dead_port().await;
    dns.set_targets(WEB, &[(10, 5, dead), (10, 5, alive.port)]);
    (dns, alive, dead)
}

#[tokio::test]
async fn distribution_follows_the_weights() {
    let dns = TestDns::start().await;
    let _backends = light_and_heavy(&dns).await;
    let proxy = start_proxy(dns.addr, &[WEB], test_settings()).await;
    assert_one_to_three(proxy.addr()).await;
}

#[tokio::test]
async fn lower_priority_is_used_and_higher_only_when_it_fails() {
    let dns = TestDns::start().await;
    let primary = start_backend("primary").await;
    let backup = start_backend("backup").await;
    dns.set_targets(WEB, &[(20, 100, backup.port), (10, 1, primary.port)]);
    let proxy = start_proxy(dns.addr, &[WEB], test_settings()).await;
    for _ in 0..20 {
        assert_eq!(
            backend_reached(proxy.addr()).await.as_deref(),
            Some("primary")
        );
    }

    // The primary dies: every client still gets through, to the backup.
    let primary_port = primary.port;
    let _dead = primary.stop().await;
    for _ in 0..20 {
        assert_eq!(
            backend_reached(proxy.addr()).await.as_deref(),
            Some("backup")
        );
    }
    let failures = proxy.sample(
        "srv_proxy_connect_failures_total",
        &format!(":{primary_port}\""),
    );
    assert!(
        failures >= 1.0,
        "failures against the dead primary are counted"
    );
}

#[tokio::test]
async fn a_dead_backend_costs_zero_client_connections() {
    let (dns, _alive, _dead) = alive_and_dead().await;
    let proxy = start_proxy(dns.addr, &[WEB], test_settings()).await;
    for _ in 0..50 {
        assert_eq!(
            backend_reached(proxy.addr()).await.as_deref(),
            Some("alive")
        );
    }
    assert!(proxy.sample("srv_proxy_connect_retries_total", "") >= 1.0);
}

#[tokio::test]
async fn a_failing_target_is_ejected_and_left_alone() {
    let (dns, _alive, dead) = alive_and_dead().await;
    let proxy = start_proxy(dns.addr, &[WEB], test_settings()).await;
    let dead_label = format!(":{dead}\"");

    // Bounded: the dead target is picked about half the time, so 5 failures come quickly.
    for _ in 0..200 {
        if proxy.sample("srv_proxy_ejections_total", &dead_label) >= 1.0 {
            break;
        }
        assert_eq!(
            backend_reached(proxy.addr()).await.as_deref(),
            Some("alive")
        );
    }
    assert_eq!(proxy.sample("srv_proxy_ejections_total", &dead_label), 1.0);
    let failures_at_ejection = proxy.sample("srv_proxy_connect_failures_total", &dead_label);
    assert_eq!(failures_at_ejection, 5.0);

    // Ejected for 30 s: the next clients never try it.
    for _ in 0..30 {
        assert_eq!(
            backend_reached(proxy.addr()).await.as_deref(),
            Some("alive")
        );
    }
    assert_eq!(
        proxy.sample("srv_proxy_connect_failures_total", &dead_label),
        failures_at_ejection
    );
}

#[tokio::test]
async fn an_ejection_expires_and_the_target_is_tried_again() {
    let (dns, _alive, dead) = alive_and_dead().await;
    let mut settings = test_settings();
    settings.ejection = EjectionPolicy {
        consecutive_failures: 5,
        base_ejection: Duration::from_millis(200),
        max_ejection: Duration::from_millis(200),
    };
    let proxy = start_proxy(dns.addr, &[WEB], settings).await;
    let dead_label = format!(":{dead}\"");

    let mut tried_again = false;
    for _ in 0..300 {
        assert_eq!(
            backend_reached(proxy.addr()).await.as_deref(),
            Some("alive")
        );
        let ejections = proxy.sample("srv_proxy_ejections_total", &dead_label);
        let failures = proxy.sample("srv_proxy_connect_failures_total", &dead_label);
        if ejections >= 1.0 && failures > 5.0 {
            tried_again = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        tried_again,
        "after the ejection ran out the target was tried again"
    );
}
