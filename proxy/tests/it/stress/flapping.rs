//! A flapping target: down, ejected, up again, down again; each ejection lasts twice the last.

use std::time::{Duration, Instant};

use srv_proxy::ejection::EjectionPolicy;
use tokio::net::TcpListener;

use super::{greet_and_echo, one_exchange, KillableBackend, ONE_AT_A_TIME, WEB};
use crate::support::dns::TestDns;
use crate::support::{start_proxy, test_settings};

/// A target that can be taken down and brought back on the same port.
struct FlappingTarget {
    port: u16,
    serving: Option<tokio::task::JoinHandle<()>>,
}

impl FlappingTarget {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mut target = Self {
            port,
            serving: None,
        };
        target.serve(listener);
        target
    }

    fn serve(&mut self, listener: TcpListener) {
        self.serving = Some(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(greet_and_echo(stream, "flapping"));
            }
        }));
    }

    /// Returns once the listener is closed, so no connection can slip in afterwards.
    async fn down(&mut self) {
        if let Some(task) = self.serving.take() {
            task.abort();
            let _ = task.await;
        }
    }

    async fn up(&mut self) {
        for _ in 0..50 {
            if let Ok(listener) = TcpListener::bind(("127.0.0.1", self.port)).await {
                self.serve(listener);
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not listen on port {} again", self.port);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stress: run by make stress"]
async fn a_flapping_target_is_ejected_for_twice_as_long_each_time() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    const FLAPS: u32 = 3;
    let policy = EjectionPolicy {
        consecutive_failures: 3,
        base_ejection: Duration::from_millis(500),
        max_ejection: Duration::from_secs(2),
    };
    let dns = TestDns::start().await;
    let mut flapping = FlappingTarget::start().await;
    let steady = KillableBackend::start("steady").await;
    dns.set_targets(WEB, &[(10, 1, flapping.port), (10, 1, steady.port)]);
    let mut settings = test_settings();
    settings.ejection = policy;
    let proxy = start_proxy(dns.addr, &[WEB], settings).await;
    let addr = proxy.addr();
    let flapping_label = format!("127.0.0.1:{}", flapping.port);

    let mut clients = 0usize;
    let mut ejection_times = Vec::new();
    for flap in 1..=FLAPS {
        // Up: the flapping target takes its share.
        let mut reached_flapping = false;
        for _ in 0..200 {
            clients += 1;
            let reached = one_exchange(addr).await.expect("no client fails");
            if reached == "flapping" {
                reached_flapping = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(reached_flapping, "flap {flap}: the target is used when up");

        // Down: clients keep succeeding (retried on the steady target) until it is ejected.
        flapping.down().await;
        let mut ejected_at = None;
        for _ in 0..500 {
            let before_client = Instant::now();
            clients += 1;
            assert_eq!(
                one_exchange(addr).await.as_deref(),
                Ok("steady"),
                "flap {flap}: a down target costs no client"
            );
            if proxy.sample("srv_proxy_ejections_total", &flapping_label) >= f64::from(flap) {
                ejected_at = Some(before_client);
                break;
            }
        }
        let ejected_at = ejected_at.expect("the down target is ejected");
        ejection_times.push(ejected_at);

        // Up again: once the ejection runs out, the target is tried and used again.
        flapping.up().await;
        let mut restored_after = None;
        for _ in 0..300 {
            clients += 1;
            if one_exchange(addr).await.as_deref() == Ok("flapping") {
                restored_after = Some(ejected_at.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let restored_after = restored_after.expect("the target is restored after its ejection");
        // The ejection lasted at least its scheduled time, which doubles from flap to flap: the
        // connect that restored the target ended its run of failures, not its doubling.
        let scheduled = (policy.base_ejection * 2u32.pow(flap - 1)).min(policy.max_ejection);
        println!("stress: flap {flap}: ejected, used again after {restored_after:?} (scheduled ejection {scheduled:?})");
        assert!(
            restored_after >= scheduled,
            "flap {flap}: not used again before its ejection ran out"
        );
    }
    assert_eq!(
        proxy.sample("srv_proxy_ejections_total", &flapping_label),
        f64::from(FLAPS),
        "one ejection per flap"
    );
    println!("stress: {FLAPS} flaps, {clients} clients, none failed");
}
