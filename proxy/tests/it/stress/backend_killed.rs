//! A backend killed under load: the clients in flight on it are cut, every later one reaches the
//! survivor, and the dead backend is ejected once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::task::JoinSet;

use super::{one_exchange, KillableBackend, ONE_AT_A_TIME, WEB};
use crate::support::dns::TestDns;
use crate::support::{start_proxy, test_settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stress: run by make stress"]
async fn a_backend_killed_under_load_costs_no_client_after_the_retry() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    const WORKERS: usize = 8;
    const EXCHANGES_PER_WORKER: usize = 120;
    const KILL_AFTER: usize = 300;

    let dns = TestDns::start().await;
    let mut doomed = KillableBackend::start("doomed").await;
    let survivor = KillableBackend::start("survivor").await;
    dns.set_targets(WEB, &[(10, 1, doomed.port), (10, 1, survivor.port)]);
    let proxy = start_proxy(dns.addr, &[WEB], test_settings()).await;
    let addr = proxy.addr();

    let killed = Arc::new(AtomicBool::new(false));
    let completed = Arc::new(AtomicUsize::new(0));
    let mut workers = JoinSet::new();
    for _ in 0..WORKERS {
        let killed = killed.clone();
        let completed = completed.clone();
        workers.spawn(async move {
            // (started after the kill, outcome)
            let mut outcomes = Vec::new();
            for _ in 0..EXCHANGES_PER_WORKER {
                let after_kill = killed.load(Ordering::SeqCst);
                outcomes.push((after_kill, one_exchange(addr).await));
                completed.fetch_add(1, Ordering::SeqCst);
            }
            outcomes
        });
    }
    for _ in 0..600 {
        if completed.load(Ordering::SeqCst) >= KILL_AFTER {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    doomed.kill();
    // Clients count as "after the kill" only once the backend really refuses connections.
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", doomed.port))
            .await
            .is_err()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    killed.store(true, Ordering::SeqCst);

    let mut before = Vec::new();
    let mut after = Vec::new();
    while let Some(outcomes) = workers.join_next().await {
        for (after_kill, outcome) in outcomes.expect("worker") {
            if after_kill {
                after.push(outcome);
            } else {
                before.push(outcome);
            }
        }
    }
    let failed_after: Vec<_> = after.iter().filter(|o| o.is_err()).collect();
    let cut_in_flight = before.iter().filter(|o| o.is_err()).count();
    println!(
        "stress: backend killed after {} exchanges; {} exchanges started after the kill, {} failed; \
         {cut_in_flight} in flight on the killed backend were cut",
        before.len(),
        after.len(),
        failed_after.len()
    );
    assert!(!after.is_empty(), "load continued after the kill");
    assert!(
        failed_after.is_empty(),
        "no client started after the kill fails: {failed_after:?}"
    );
    assert!(
        after.iter().all(|o| o.as_deref() == Ok("survivor")),
        "after the kill every client reaches the survivor"
    );
    assert!(
        cut_in_flight <= WORKERS,
        "only exchanges in flight at the kill can be cut"
    );
    let doomed_label = format!("127.0.0.1:{}", doomed.port);
    assert!(proxy.sample("srv_proxy_connect_failures_total", &doomed_label) >= 1.0);
    assert_eq!(
        proxy.sample("srv_proxy_ejections_total", &doomed_label),
        1.0,
        "the dead backend is ejected once"
    );
}
