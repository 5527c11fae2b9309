//! AAAA targets: where the answer gives an IPv6 address, the proxy connects over IPv6.

use std::net::{IpAddr, Ipv6Addr};

use crate::support::dns::TestDns;
use crate::support::WEB;
use crate::support::{backend_reached, start_backend_on, start_proxy, test_settings};

#[tokio::test]
async fn an_aaaa_target_is_reached_over_ipv6_with_or_without_glue() {
    // The backend listens on ::1 only, so reaching it proves the connect went over IPv6. A
    // machine without an IPv6 loopback fails here, saying so: this test never skips.
    if let Err(error) = std::net::TcpListener::bind("[::1]:0") {
        panic!(
            "this machine has no IPv6 loopback (binding [::1]:0 failed: {error}); the AAAA test \
             needs one: enable IPv6 on lo (sysctl net.ipv6.conf.lo.disable_ipv6=0)"
        );
    }
    let backend = start_backend_on("[::1]:0", "six").await;
    let dns = TestDns::start().await;
    dns.set_targets_at(
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        WEB,
        &[(10, 1, backend.port)],
    );
    for glue in [true, false] {
        dns.edit(|zone| zone.glue = glue);
        let proxy = start_proxy(dns.addr, &[WEB], test_settings()).await;
        assert_eq!(
            backend_reached(proxy.addr()).await.as_deref(),
            Some("six"),
            "glue: {glue}"
        );
        let label = format!("[::1]:{}", backend.port);
        assert_eq!(proxy.sample("srv_proxy_route_targets", ""), 1.0);
        assert_eq!(
            proxy.sample("srv_proxy_connect_failures_total", &label),
            0.0
        );
    }
}
