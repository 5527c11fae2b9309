//! The real binary: bad flags exit at start, and SIGTERM drains an open connection then exits 0.

use std::process::Command;

use crate::support::dns::TestDns;
use crate::support::process::{ProxyProcess, BINARY};
use crate::support::WEB;
use crate::support::{start_backend, Client};

#[test]
fn an_invalid_flag_or_env_value_stops_the_start_with_a_reason() {
    let output = Command::new(BINARY)
        .args(["--route", "8080=_a._tcp.b", "--connect-timeout", "soon"])
        .output()
        .expect("run srv-proxy");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("connect-timeout"));

    let output = Command::new(BINARY)
        .env("SRV_PROXY_ROUTES", "not-a-route")
        .output()
        .expect("run srv-proxy");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("LISTEN=SRVNAME"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_an_open_connection_then_exits_zero() {
    let dns = TestDns::start().await;
    let backend = start_backend("web").await;
    dns.set_targets(WEB, &[(10, 1, backend.port)]);
    let mut proxy = ProxyProcess::start(WEB, dns.addr, &["--drain-timeout", "10s"]);

    let mut client = Client::connect(proxy.listen).await;
    assert_eq!(client.line().await.as_deref(), Some("web"));
    proxy.terminate();
    proxy.wait_for_log("draining open connections");

    client.send(b"after sigterm\n").await;
    assert_eq!(client.line().await.as_deref(), Some("after sigterm"));
    client.finish_sending().await;
    assert_eq!(client.line().await.as_deref(), Some("done"));
    drop(client);

    let status = tokio::task::spawn_blocking(move || proxy.wait_for_exit())
        .await
        .expect("wait task");
    assert_eq!(status.code(), Some(0));
}
