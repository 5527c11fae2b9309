//! srv-proxy behind the DNS front: on the whole set it sees every task and spreads by
//! weight; on the weighted name each answer holds one task, and it says once that it
//! cannot balance or fail over there.

use std::io::Write;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, PoisonError};

use ecs_srv_demo::traffic::{send_requests, RunningProxy};

use super::{hoeffding_tail, Service};

/// Requests through srv-proxy on the whole set. Weights 3 and 1 give the heavy task a
/// share of 0.75; srv-proxy's picks are independent weighted draws, so Hoeffding bounds
/// the chance of a correct proxy leaving 0.75 ± 0.1 by 2·exp(-2·1200·0.1²) ≈ 7.6e-11.
const REQUESTS: usize = 1200;
const BAND: f64 = 0.1;

/// Requests on the weighted name: enough to show every one of them lands on one task.
const WEIGHTED_REQUESTS: usize = 20;

/// What srv-proxy says when an answer holds a single target.
const SINGLE_TARGET_WARNING: &str = "cannot balance or fail over";

/// The log lines of everything running on the test's thread.
#[derive(Clone, Default)]
struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

// One thread, so the proxy's tasks log to the subscriber set on it.
#[tokio::test(flavor = "current_thread")]
async fn srv_proxy_spreads_by_weight_on_the_whole_set_and_warns_once_on_the_weighted_name() {
    let log = CapturedLog::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let service = Service::published("srvproxy", Ipv4Addr::new(127, 0, 22, 1), &[3, 1]).await;
    let front = service.front().await;
    let names = [service.whole_set_name(), service.weighted_name()];
    let proxy = RunningProxy::start(front.addr(), &names)
        .await
        .expect("srv-proxy starts");

    let whole = send_requests(proxy.addr_of(&names[0]).expect("route"), REQUESTS).await;
    assert!(whole.failures.is_empty(), "{:?}", whole.failures);
    let heavy = whole.count(&service.tasks[0].id);
    let share = heavy as f64 / REQUESTS as f64;
    eprintln!(
        "srv-proxy on _all: weight 3 vs 1 got {heavy} of {REQUESTS} ({share:.3}); tail bound {:.1e}",
        hoeffding_tail(REQUESTS, BAND)
    );
    assert!((share - 0.75).abs() <= BAND, "{:?}", whole.by_task);

    let weighted = send_requests(proxy.addr_of(&names[1]).expect("route"), WEIGHTED_REQUESTS).await;
    assert!(weighted.failures.is_empty(), "{:?}", weighted.failures);
    eprintln!("srv-proxy on the weighted name: {:?}", weighted.by_task);
    proxy.stop().await;
    front.shutdown().await;

    let text = log.text();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|line| line.contains(SINGLE_TARGET_WARNING))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning, for the weighted name:\n{text}"
    );
    assert!(warnings[0].contains(&names[1]), "{}", warnings[0]);
}
