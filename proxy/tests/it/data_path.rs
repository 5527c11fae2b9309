//! The byte path and the limits around it: half-close, idle timeout, connection limit, drain,
//! and the metrics scrape.

use std::sync::Arc;
use std::time::Duration;

use crate::support::{eventually, test_settings, Client, WebRoute, STEP_LIMIT};
use srv_proxy::metrics_http::serve_metrics;
use srv_proxy::server::DrainOutcome;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn bytes_flow_both_ways_and_half_close_is_passed_on() {
    let WebRoute {
        dns: _dns,
        proxy,
        backend: _backend,
    } = WebRoute::start(test_settings()).await;

    let mut client = Client::connect(proxy.addr()).await;
    assert_eq!(client.line().await.as_deref(), Some("web"));
    let payload = vec![b'x'; 256 * 1024];
    client.send(&payload).await;
    client.send(b"\n").await;
    // The backend only says "done" after it saw our FIN: that proves the half-close went through
    // while the other direction stayed open.
    client.finish_sending().await;
    let echoed = client.line().await.expect("echo");
    assert_eq!(echoed.len(), payload.len());
    assert_eq!(client.line().await.as_deref(), Some("done"));
    assert_eq!(client.line().await, None);
    assert!(proxy.sample("srv_proxy_bytes_total", "upstream") >= payload.len() as f64);
    assert!(proxy.sample("srv_proxy_bytes_total", "downstream") >= payload.len() as f64);
}

#[tokio::test]
async fn an_idle_pair_is_closed_after_the_idle_timeout() {
    let mut settings = test_settings();
    settings.idle_timeout = Duration::from_millis(300);
    let WebRoute {
        dns: _dns,
        proxy,
        backend: _backend,
    } = WebRoute::start(settings).await;

    let mut client = Client::connect(proxy.addr()).await;
    assert_eq!(client.line().await.as_deref(), Some("web"));
    // Silence now: the proxy must close us (EOF), well before the step limit.
    assert_eq!(client.line().await, None);
}

#[tokio::test]
async fn max_connections_is_enforced() {
    let mut settings = test_settings();
    settings.max_connections = 2;
    let WebRoute {
        dns: _dns,
        proxy,
        backend: _backend,
    } = WebRoute::start(settings).await;

    let mut first = Client::connect(proxy.addr()).await;
    let mut second = Client::connect(proxy.addr()).await;
    assert_eq!(first.line().await.as_deref(), Some("web"));
    assert_eq!(second.line().await.as_deref(), Some("web"));
    let mut third = Client::connect(proxy.addr()).await;
    assert_eq!(
        third.line().await,
        None,
        "the third client is closed at once"
    );
    assert_eq!(
        proxy.sample("srv_proxy_connections_rejected_total", ""),
        1.0
    );

    drop(first);
    let proxy = &proxy;
    let admitted = eventually(50, Duration::from_millis(50), || async move {
        Client::connect(proxy.addr()).await.line().await.is_some()
    })
    .await;
    assert!(admitted, "a freed slot admits a new client");
}

#[tokio::test]
async fn shutdown_drains_open_connections() {
    let WebRoute {
        dns: _dns,
        proxy,
        backend: _backend,
    } = WebRoute::start(test_settings()).await;
    let addr = proxy.addr();
    let mut client = Client::connect(addr).await;
    assert_eq!(client.line().await.as_deref(), Some("web"));

    let stopping = tokio::spawn(proxy.stop());
    // The open connection still works while the proxy drains.
    client.send(b"still here\n").await;
    assert_eq!(client.line().await.as_deref(), Some("still here"));
    client.finish_sending().await;
    assert_eq!(client.line().await.as_deref(), Some("done"));
    drop(client);
    let outcome = tokio::time::timeout(STEP_LIMIT, stopping)
        .await
        .expect("stops")
        .expect("task");
    assert_eq!(outcome, DrainOutcome::Drained);
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn the_metrics_scrape_parses() {
    let WebRoute {
        dns: _dns,
        proxy,
        backend: _backend,
    } = WebRoute::start(test_settings()).await;
    assert_eq!(
        crate::support::backend_reached(proxy.addr())
            .await
            .as_deref(),
        Some("web")
    );

    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind metrics");
    let metrics_addr = listener.local_addr().expect("addr");
    let health = Arc::new(srv_proxy::health::ProxyHealth::default());
    tokio::spawn(serve_metrics(listener, Arc::clone(&proxy.registry), health));
    let mut stream = TcpStream::connect(metrics_addr)
        .await
        .expect("connect metrics");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("request");
    let mut response = String::new();
    tokio::time::timeout(STEP_LIMIT, stream.read_to_string(&mut response))
        .await
        .expect("response in time")
        .expect("read");

    let (head, body) = response.split_once("\r\n\r\n").expect("head and body");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(head.contains("application/openmetrics-text"), "{head}");
    assert_eq!(body.lines().last(), Some("# EOF"));
    let mut samples = 0;
    for line in body.lines().filter(|line| !line.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').expect("series and value");
        value
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("numeric value in {line:?}"));
        let name_end = series.find('{').unwrap_or(series.len());
        assert!(series[..name_end].starts_with("srv_proxy_"), "{line}");
        if series.contains('{') {
            assert!(series.ends_with('}'), "{line}");
        }
        samples += 1;
    }
    assert!(samples > 0);
    for family in [
        "srv_proxy_connections_total",
        "srv_proxy_connections_active",
        "srv_proxy_bytes_total",
        "srv_proxy_dns_lookups_total",
        "srv_proxy_route_targets",
    ] {
        assert!(body.contains(family), "{family} in the scrape");
    }
}
