//! The byte path and the limits around it: half-close, idle timeout, connection limit, drain,
//! and the metrics scrape.

use std::os::fd::AsRawFd;
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

/// A backend that answers `bye\n` and its FIN in one segment (`MSG_MORE`, then `shutdown`), as a
/// server does that closes after a short answer.
async fn bye_and_fin_backend() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::task::spawn_blocking(move || {
        let (stream, _) = listener.accept().expect("accept");
        let bye = b"bye\n";
        // SAFETY: a plain send(2) of a live buffer on a socket this function owns.
        let sent = unsafe {
            libc::send(
                stream.as_raw_fd(),
                bye.as_ptr().cast(),
                bye.len(),
                libc::MSG_MORE,
            )
        };
        assert_eq!(sent, 4);
        stream
            .shutdown(std::net::Shutdown::Write)
            .expect("shutdown");
        // Held open for reading until the proxy closes its side.
        let _ = std::io::Read::read(&mut &stream, &mut [0u8; 16]);
    });
    (port, task)
}

/// Segments the socket has received, from `TCP_INFO`.
fn segments_in(stream: &TcpStream) -> u32 {
    // SAFETY: getsockopt(2) writes at most `len` bytes into a zeroed `tcp_info` we own.
    unsafe {
        let mut info: libc::tcp_info = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        let status = libc::getsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        );
        assert_eq!(status, 0, "TCP_INFO");
        info.tcpi_segs_in
    }
}

#[tokio::test]
async fn a_last_answer_and_its_fin_reach_the_client_in_one_segment() {
    let dns = crate::support::dns::TestDns::start().await;
    let (port, backend) = bye_and_fin_backend().await;
    dns.set_targets(crate::support::WEB, &[(10, 1, port)]);
    let proxy =
        crate::support::start_proxy(dns.addr, &[crate::support::WEB], test_settings()).await;

    let mut client = TcpStream::connect(proxy.addr()).await.expect("connect");
    let mut answer = Vec::new();
    tokio::time::timeout(STEP_LIMIT, client.read_to_end(&mut answer))
        .await
        .expect("the answer and EOF in time")
        .expect("read");
    assert_eq!(answer, b"bye\n");
    // The SYN-ACK, then `bye\n` with the FIN: the proxy held the bytes back for the FIN it
    // already knew of, rather than sending them and then a segment of its own for the FIN.
    assert_eq!(segments_in(&client), 2);
    drop(client);
    tokio::time::timeout(STEP_LIMIT, backend)
        .await
        .expect("backend ends")
        .expect("backend task");
}
