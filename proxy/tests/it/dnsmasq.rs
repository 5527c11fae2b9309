//! Interop with a stock DNS server: dnsmasq returns every SRV record of a name (unlike Route 53's
//! one weighted pick), so the proxy sees the whole set and does the weighting itself.
//!
//! dnsmasq comes from Debian's `dnsmasq-base`, installed by `make deps`. When it is missing this
//! test fails and says so; it never skips.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{dead_port, reached_counts, start_backend, start_proxy, test_settings};

const WEB: &str = "_web._tcp.web.ecs.test";

fn dnsmasq_binary() -> &'static str {
    for candidate in ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq"] {
        if Path::new(candidate).exists() {
            return candidate;
        }
    }
    panic!(
        "dnsmasq is not installed: run `make deps` (or `apt-get install -y dnsmasq-base`) \
         before `cargo test -p srv-proxy`"
    );
}

struct Dnsmasq {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts dnsmasq on a free 127.0.0.1 port with `records` as extra options. dnsmasq cannot bind
/// port 0 and report it, so a free port is found first and the start is retried a bounded number
/// of times should another process take it in between.
fn start_dnsmasq(records: &[String]) -> Dnsmasq {
    let binary = dnsmasq_binary();
    for _ in 0..10 {
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|socket| socket.local_addr())
            .expect("find a free port")
            .port();
        let mut child = Command::new(binary)
            .args([
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                "--conf-file=/dev/null",
            ])
            .args([
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--pid-file=",
            ])
            .arg(format!("--port={port}"))
            .arg("--user=root")
            .args(records)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dnsmasq");
        // Give it a bounded moment; if it exited (port taken), try another port.
        std::thread::sleep(Duration::from_millis(200));
        if child.try_wait().expect("try_wait").is_none() {
            return Dnsmasq {
                child,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
            };
        }
    }
    panic!("dnsmasq did not start on 127.0.0.1 in 10 tries");
}

#[tokio::test]
async fn interop_with_dnsmasq_returning_every_srv_record() {
    let one = start_backend("one").await;
    let three = start_backend("three").await;
    let dead = dead_port().await;
    let records = vec![
        format!("--srv-host={WEB},t1.ecs.test,{},10,1", one.port),
        format!("--srv-host={WEB},t3.ecs.test,{},10,3", three.port),
        format!("--srv-host={WEB},tdead.ecs.test,{dead},10,2"),
        "--host-record=t1.ecs.test,127.0.0.1".to_owned(),
        "--host-record=t3.ecs.test,127.0.0.1".to_owned(),
        "--host-record=tdead.ecs.test,127.0.0.1".to_owned(),
    ];
    let dnsmasq = start_dnsmasq(&records);
    let proxy = start_proxy(dnsmasq.addr, &[WEB], test_settings()).await;

    let counts = reached_counts(proxy.addr(), 200).await;
    assert_eq!(
        proxy.sample("srv_proxy_route_targets", ""),
        3.0,
        "all three SRV records seen"
    );
    let one_share = counts.get("one").copied().unwrap_or(0);
    let three_share = counts.get("three").copied().unwrap_or(0);
    assert_eq!(
        one_share + three_share,
        200,
        "the dead target cost no client: {counts:?}"
    );
    assert!(one_share > 20 && three_share > one_share, "{counts:?}");
}
