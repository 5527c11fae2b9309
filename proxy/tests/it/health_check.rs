//! `srv-proxy health` against a real running proxy: its exit status is the proxy's own view of
//! whether it accepts clients and has a usable answer for its route.

use std::net::UdpSocket;

use crate::support::dns::TestDns;
use crate::support::process::{run_health, ProxyProcess};
use crate::support::{dead_port, start_backend, Client, WEB};

/// `srv-proxy health ARGS…` with `env`, off the test's runtime (it blocks until the probe ends).
async fn probe(args: &[&str], env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        run_health(&args, &env)
    })
    .await
    .expect("probe task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_with_an_answer_is_healthy_by_flag_and_by_environment() {
    let dns = TestDns::start().await;
    let backend = start_backend("web").await;
    dns.set_targets(WEB, &[(10, 1, backend.port)]);
    let proxy = ProxyProcess::start(WEB, dns.addr, &["--metrics", "127.0.0.1:0"]);
    let metrics = proxy.metrics_addr().to_string();

    // No client has come yet: the probe itself resolves the route, as a client would.
    let (status, text) = probe(&["--metrics", &metrics], &[]).await;
    assert!(status.success(), "{text}");
    assert!(text.contains("1 target(s)"), "{text}");

    let (status, text) = probe(&[], &[("SRV_PROXY_METRICS", &metrics)]).await;
    assert!(status.success(), "{text}");
    let mut client = Client::connect(proxy.listen).await;
    assert_eq!(client.line().await.as_deref(), Some("web"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_whose_dns_never_answered_is_unhealthy() {
    // A DNS server that takes every query and answers none.
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind a silent DNS port");
    let dns = silent.local_addr().expect("addr");
    let proxy = ProxyProcess::start(
        WEB,
        dns,
        &["--metrics", "127.0.0.1:0", "--connect-timeout", "500ms"],
    );
    let metrics = proxy.metrics_addr().to_string();
    let (status, text) = probe(&["--metrics", &metrics], &[]).await;
    assert!(!status.success(), "{text}");
    assert!(text.contains("unhealthy (503"), "{text}");
    assert!(text.contains(WEB), "the route is named: {text}");
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_proxy_listening_is_unhealthy_and_a_missing_address_is_an_error() {
    let nothing = format!("127.0.0.1:{}", dead_port().await);
    let (status, text) = probe(&["--metrics", &nothing], &[]).await;
    assert!(!status.success(), "{text}");
    assert!(text.contains("cannot ask srv-proxy"), "{text}");

    let (status, text) = probe(&[], &[]).await;
    assert!(!status.success(), "{text}");
    assert!(text.contains("--metrics"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_proxy_is_unhealthy() {
    let dns = TestDns::start().await;
    let backend = start_backend("web").await;
    dns.set_targets(WEB, &[(10, 1, backend.port)]);
    let proxy = ProxyProcess::start(
        WEB,
        dns.addr,
        &["--metrics", "127.0.0.1:0", "--drain-timeout", "10s"],
    );
    let metrics = proxy.metrics_addr().to_string();
    // An open connection keeps the proxy draining, not gone.
    let mut client = Client::connect(proxy.listen).await;
    assert_eq!(client.line().await.as_deref(), Some("web"));
    proxy.terminate();
    proxy.wait_for_log("draining open connections");
    let (status, text) = probe(&["--metrics", &metrics], &[]).await;
    assert!(!status.success(), "{text}");
    assert!(text.contains("not accepting"), "{text}");
}
