//! The real binary: bad flags exit at start, and SIGTERM drains an open connection then exits 0.

mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::dns::TestDns;
use support::{start_backend, Client};

const WEB: &str = "_web._tcp.web.ecs.test.";
const BINARY: &str = env!("CARGO_BIN_EXE_srv-proxy");

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

/// Waits for `child` to exit, bounded; kills it and fails if it does not.
fn wait_for_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("srv-proxy did not exit after SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_an_open_connection_then_exits_zero() {
    let dns = TestDns::start().await;
    let backend = start_backend("web").await;
    dns.set_targets(WEB, &[(10, 1, backend.port)]);

    let mut child = Command::new(BINARY)
        .args(["--route", &format!("127.0.0.1:0={WEB}")])
        .args([
            "--dns",
            &dns.addr.to_string(),
            "--log-format",
            "json",
            "--drain-timeout",
            "10s",
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start srv-proxy");
    let stderr = child.stderr.take().expect("stderr");
    let (lines_sender, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_sender.send(line).is_err() {
                return;
            }
        }
    });
    // The proxy logs the address it really bound; port 0 keeps the test free of fixed ports.
    let listen: SocketAddr = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a 'route ready' log line");
        if line.contains("route ready") {
            let field = line.split("\"listen\":\"").nth(1).expect("listen field");
            break field
                .split('"')
                .next()
                .expect("value")
                .parse()
                .expect("socket address");
        }
    };

    let mut client = Client::connect(listen).await;
    assert_eq!(client.line().await.as_deref(), Some("web"));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let drain_logged = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a shutdown log line");
        if line.contains("draining open connections") {
            break true;
        }
    };
    assert!(drain_logged);

    client.send(b"after sigterm\n").await;
    assert_eq!(client.line().await.as_deref(), Some("after sigterm"));
    client.finish_sending().await;
    assert_eq!(client.line().await.as_deref(), Some("done"));
    drop(client);

    let status = tokio::task::spawn_blocking(move || wait_for_exit(&mut child))
        .await
        .expect("wait task");
    assert_eq!(status.code(), Some(0));
}
