//! The `Resolve` seam with fixed answers: the cache, the stale answer and a gone name, without
//! any DNS server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use srv_proxy::discovery::Discovery;
use srv_proxy::metrics::ProxyMetrics;
use srv_proxy::resolve::{Resolve, ResolveError, Resolving, SrvAnswer, SrvTarget};

/// Answers whatever the test put in `next`, and counts the calls.
struct FixedResolver {
    next: Mutex<Result<SrvAnswer, ResolveError>>,
    calls: AtomicUsize,
}

impl Resolve for FixedResolver {
    fn resolve_srv<'a>(&'a self, _name: &'a str) -> Resolving<'a> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let answer = self.next.lock().expect("lock").clone();
        Box::pin(async move { answer })
    }
}

fn answer(port: u16, ttl_secs: u64) -> SrvAnswer {
    SrvAnswer {
        targets: vec![SrvTarget {
            host: "t.example.".into(),
            addr: ([127, 0, 0, 1], port).into(),
            priority: 1,
            weight: 1,
        }],
        ttl: Duration::from_secs(ttl_secs),
    }
}

fn setup(first: SrvAnswer) -> (Arc<FixedResolver>, Discovery, Arc<ProxyMetrics>) {
    let resolver = Arc::new(FixedResolver {
        next: Mutex::new(Ok(first)),
        calls: AtomicUsize::new(0),
    });
    let metrics = Arc::new(ProxyMetrics::default());
    let discovery = Discovery::new("_s._tcp.example.".into(), resolver.clone(), metrics.clone());
    (resolver, discovery, metrics)
}

#[tokio::test]
async fn a_cached_answer_is_reused_until_refresh_is_forced() {
    let (resolver, discovery, _) = setup(answer(1, 300));
    for _ in 0..5 {
        assert_eq!(
            discovery.targets(false).await.expect("answer").targets[0]
                .addr
                .port(),
            1
        );
    }
    assert_eq!(resolver.calls.load(Ordering::Relaxed), 1);
    *resolver.next.lock().expect("lock") = Ok(answer(2, 300));
    assert_eq!(
        discovery.targets(true).await.expect("answer").targets[0]
            .addr
            .port(),
        2
    );
}

#[tokio::test]
async fn ttl_zero_asks_every_time() {
    let (resolver, discovery, _) = setup(answer(1, 0));
    for _ in 0..3 {
        discovery.targets(false).await.expect("answer");
    }
    assert_eq!(resolver.calls.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn an_outage_serves_the_last_answer_and_a_gone_name_does_not() {
    let (resolver, discovery, metrics) = setup(answer(1, 0));
    discovery.targets(false).await.expect("answer");
    *resolver.next.lock().expect("lock") = Err(ResolveError::Unavailable {
        name: "_s._tcp.example.".into(),
        reason: "SERVFAIL".into(),
    });
    let stale = discovery.targets(true).await.expect("the last good answer");
    assert_eq!(stale.targets[0].addr.port(), 1);
    let route = ProxyMetrics::route("_s._tcp.example.");
    assert_eq!(
        metrics.dns_stale_answers_total.get_or_create(&route).get(),
        1
    );

    *resolver.next.lock().expect("lock") = Err(ResolveError::NotFound {
        name: "_s._tcp.example.".into(),
    });
    assert!(matches!(
        discovery.targets(true).await,
        Err(ResolveError::NotFound { .. })
    ));
    // Once gone, a later outage must not bring the old answer back.
    *resolver.next.lock().expect("lock") = Err(ResolveError::Unavailable {
        name: "_s._tcp.example.".into(),
        reason: "timeout".into(),
    });
    assert!(matches!(
        discovery.targets(true).await,
        Err(ResolveError::Unavailable { .. })
    ));
}
