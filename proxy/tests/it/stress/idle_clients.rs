//! Silent clients hold every slot of the connection limit until the idle timeout frees them.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::{settle, ONE_AT_A_TIME, WEB};
use crate::support::dns::TestDns;
use crate::support::{start_proxy, test_settings, STEP_LIMIT};

/// A backend that accepts and never says anything, so the only traffic is what clients send.
async fn silent_backend() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let mut held = JoinSet::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            held.spawn(async move {
                let mut buffer = [0u8; 64];
                while let Ok(1..) = stream.read(&mut buffer).await {}
            });
        }
    });
    (port, task)
}

/// Reads until EOF or a reset, bounded by the step limit; true when the proxy closed us.
async fn closed_by_proxy(stream: &mut TcpStream) -> bool {
    let mut buffer = [0u8; 64];
    matches!(
        tokio::time::timeout(STEP_LIMIT, stream.read(&mut buffer)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stress: run by make stress"]
async fn idle_clients_are_closed_and_cannot_exhaust_the_connection_limit() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    const LIMIT: usize = 20;
    let dns = TestDns::start().await;
    let (port, _backend) = silent_backend().await;
    dns.set_targets(WEB, &[(10, 1, port)]);
    let mut settings = test_settings();
    settings.max_connections = LIMIT as u32;
    // Long enough that the checks of the limit below happen well inside it.
    settings.idle_timeout = Duration::from_secs(3);
    let proxy = start_proxy(dns.addr, &[WEB], settings).await;

    let mut silent = Vec::new();
    for _ in 0..LIMIT {
        silent.push(
            TcpStream::connect(proxy.addr())
                .await
                .expect("connect a silent client"),
        );
    }
    let admitted = settle(
        || proxy.sample("srv_proxy_connections_active", "") as usize,
        LIMIT,
    )
    .await;
    assert_eq!(admitted, LIMIT, "the silent clients are all admitted");

    let mut one_too_many = TcpStream::connect(proxy.addr()).await.expect("connect");
    assert!(
        closed_by_proxy(&mut one_too_many).await,
        "over the limit: closed at once"
    );
    assert_eq!(
        proxy.sample("srv_proxy_connections_rejected_total", ""),
        1.0
    );

    for (index, stream) in silent.iter_mut().enumerate() {
        assert!(
            closed_by_proxy(stream).await,
            "silent client {index} is closed by the idle timeout"
        );
    }
    let active = settle(
        || proxy.sample("srv_proxy_connections_active", "") as usize,
        0,
    )
    .await;
    assert_eq!(active, 0, "the idle timeout freed every slot");

    // The freed slots admit new clients: proof that they were really given back.
    let mut fresh = Vec::new();
    for _ in 0..LIMIT {
        let mut stream = TcpStream::connect(proxy.addr()).await.expect("connect");
        stream.write_all(b"hello\n").await.expect("send");
        fresh.push(stream);
    }
    let readmitted = settle(
        || proxy.sample("srv_proxy_connections_active", "") as usize,
        LIMIT,
    )
    .await;
    println!(
        "stress: {LIMIT} silent clients held every slot, the next was refused, the idle timeout \
         closed all {LIMIT}, and {readmitted} new clients were admitted"
    );
    assert_eq!(readmitted, LIMIT);
    assert_eq!(
        proxy.sample("srv_proxy_connections_rejected_total", ""),
        1.0,
        "no further rejections"
    );
}
