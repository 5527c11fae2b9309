//! The `Resolve` seam with scripted answers: stale while revalidating, one lookup in flight, the
//! stale answer and a gone name, without any DNS server. A gate holds lookups back, so that
//! "a lookup is in flight" is a state the test controls rather than a race.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use srv_proxy::answer::RouteAnswer;
use srv_proxy::discovery::{Discovery, DnsTiming};
use srv_proxy::metrics::ProxyMetrics;
use srv_proxy::resolve::{Resolve, ResolveError, Resolving, SrvAnswer, SrvTarget};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::support::{eventually, STEP_LIMIT};

const NAME: &str = "_s._tcp.example.";

/// Answers whatever the test put in `next` once the gate is open, and counts the lookups.
struct ScriptedResolver {
    next: Mutex<Result<SrvAnswer, ResolveError>>,
    calls: AtomicUsize,
    gate: watch::Sender<bool>,
}

impl ScriptedResolver {
    fn answer_with(&self, next: Result<SrvAnswer, ResolveError>) {
        *self.next.lock().expect("lock") = next;
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Open: lookups answer at once. Closed: they wait until it opens.
    fn set_gate(&self, open: bool) {
        self.gate.send_replace(open);
    }
}

impl Resolve for ScriptedResolver {
    fn resolve_srv<'a>(&'a self, _name: &'a str) -> Resolving<'a> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut gate = self.gate.subscribe();
        Box::pin(async move {
            let _ = gate.wait_for(|open| *open).await;
            self.next.lock().expect("lock").clone()
        })
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

/// A route with no floor on lookups: every refresh that is due starts one.
fn setup(first: SrvAnswer) -> (Arc<ScriptedResolver>, Arc<Discovery>, Arc<ProxyMetrics>) {
    setup_with_floor(first, Duration::ZERO)
}

fn setup_with_floor(
    first: SrvAnswer,
    min_ttl: Duration,
) -> (Arc<ScriptedResolver>, Arc<Discovery>, Arc<ProxyMetrics>) {
    let resolver = Arc::new(ScriptedResolver {
        next: Mutex::new(Ok(first)),
        calls: AtomicUsize::new(0),
        gate: watch::Sender::new(true),
    });
    let metrics = Arc::new(ProxyMetrics::default());
    let discovery = Discovery::new(
        NAME.into(),
        resolver.clone(),
        metrics.clone(),
        DnsTiming {
            wait_limit: Duration::from_secs(2),
            min_ttl,
        },
    );
    (resolver, Arc::new(discovery), metrics)
}

/// The port of the first target, bounded in time so that a wait that should not happen fails
/// the test instead of hanging it.
async fn port_of(discovery: &Discovery, fresh: bool) -> Result<u16, ResolveError> {
    let answer: Arc<RouteAnswer> = tokio::time::timeout(STEP_LIMIT, discovery.targets(fresh))
        .await
        .expect("targets in time")?;
    Ok(answer.targets[0].target.addr.port())
}

#[tokio::test]
async fn a_cached_answer_is_reused_until_refresh_is_forced() {
    let (resolver, discovery, _) = setup(answer(1, 300));
    for _ in 0..5 {
        assert_eq!(port_of(&discovery, false).await, Ok(1));
    }
    assert_eq!(resolver.calls(), 1);
    resolver.answer_with(Ok(answer(2, 300)));
    assert_eq!(port_of(&discovery, true).await, Ok(2));
}

#[tokio::test]
async fn connections_with_no_answer_yet_share_one_lookup() {
    let (resolver, discovery, _) = setup(answer(1, 300));
    resolver.set_gate(false);
    let mut waiting = JoinSet::new();
    for _ in 0..50 {
        let discovery = discovery.clone();
        waiting.spawn(async move { port_of(&discovery, false).await });
    }
    // Let every one of them reach the lookup; they all wait on the one in flight.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        resolver.calls(),
        1,
        "one query for fifty waiting connections"
    );
    resolver.set_gate(true);
    while let Some(port) = waiting.join_next().await {
        assert_eq!(port.expect("task"), Ok(1));
    }
    assert_eq!(resolver.calls(), 1);
}

#[tokio::test]
async fn an_expired_answer_is_used_at_once_while_one_refresh_runs() {
    // TTL 0: every answer is due for a refresh at once.
    let (resolver, discovery, _) = setup(answer(1, 0));
    assert_eq!(port_of(&discovery, false).await, Ok(1));
    resolver.set_gate(false);
    resolver.answer_with(Ok(answer(2, 0)));
    for _ in 0..20 {
        // The refresh cannot finish while the gate is shut: these answers come from the cache.
        assert_eq!(port_of(&discovery, false).await, Ok(1));
    }
    // Let the refresh task reach the resolver (this runtime has one thread).
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(
        resolver.calls(),
        2,
        "the first lookup and one refresh beside the traffic"
    );
    resolver.set_gate(true);
    let discovery = &discovery;
    let renewed = eventually(100, Duration::from_millis(10), || async move {
        port_of(discovery, false).await == Ok(2)
    })
    .await;
    assert!(renewed, "the refreshed answer is used once it arrives");
}

#[tokio::test]
async fn an_outage_serves_the_last_answer_and_a_gone_name_does_not() {
    let (resolver, discovery, metrics) = setup(answer(1, 0));
    assert_eq!(port_of(&discovery, false).await, Ok(1));
    resolver.answer_with(Err(ResolveError::Unavailable {
        name: NAME.into(),
        reason: "SERVFAIL".into(),
    }));
    assert_eq!(
        port_of(&discovery, true).await,
        Ok(1),
        "the last good answer"
    );
    let route = ProxyMetrics::route(NAME);
    assert_eq!(
        metrics.dns_stale_answers_total.get_or_create(&route).get(),
        1
    );

    resolver.answer_with(Err(ResolveError::NotFound { name: NAME.into() }));
    assert!(matches!(
        port_of(&discovery, true).await,
        Err(ResolveError::NotFound { .. })
    ));
    assert!(
        matches!(
            port_of(&discovery, false).await,
            Err(ResolveError::NotFound { .. })
        ),
        "a gone name closes clients at once"
    );
    // Once gone, a later outage must not bring the old answer back.
    resolver.answer_with(Err(ResolveError::Unavailable {
        name: NAME.into(),
        reason: "timeout".into(),
    }));
    assert!(matches!(
        port_of(&discovery, true).await,
        Err(ResolveError::Unavailable { .. })
    ));
}

#[tokio::test]
async fn with_no_answer_at_all_a_connection_waits_no_longer_than_the_limit() {
    let (resolver, discovery, _) = setup(answer(1, 300));
    resolver.set_gate(false);
    // The limit is 2 s; the paused clock moves on by itself while everything waits.
    tokio::time::pause();
    let outcome = port_of(&discovery, false).await;
    assert!(
        matches!(&outcome, Err(ResolveError::Unavailable { reason, .. }) if reason.contains("no DNS answer within")),
        "{outcome:?}"
    );
    assert_eq!(resolver.calls(), 1);
}

#[test]
fn a_lookup_lost_with_its_runtime_does_not_hold_the_route_up() {
    let (resolver, discovery, _) = setup(answer(1, 300));
    resolver.set_gate(false);
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    };
    // A worker's runtime starts the lookup, then shuts down with the lookup stuck at the gate.
    let going = runtime();
    going.block_on(async {
        let waiting = discovery.clone();
        tokio::spawn(async move { waiting.targets(false).await });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    });
    assert_eq!(resolver.calls(), 1);
    drop(going);

    resolver.set_gate(true);
    let port = runtime().block_on(port_of(&discovery, false));
    assert_eq!(port, Ok(1), "a new lookup, not a wait for the lost one");
    assert_eq!(resolver.calls(), 2);
}

/// Lets the lookup task that a call may have started run to its end (this runtime has one
/// thread and the gate is open).
async fn let_lookups_finish() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn at_ttl_zero_the_name_is_asked_again_at_most_once_per_floor() {
    let (resolver, discovery, _) = setup_with_floor(answer(1, 0), Duration::from_secs(1));
    for _ in 0..50 {
        assert_eq!(port_of(&discovery, false).await, Ok(1));
        let_lookups_finish().await;
    }
    assert_eq!(resolver.calls(), 1, "fifty connections within the floor");

    resolver.answer_with(Ok(answer(2, 0)));
    tokio::time::advance(Duration::from_millis(1001)).await;
    // The first connection past the floor starts the refresh and uses the answer it has.
    assert_eq!(port_of(&discovery, false).await, Ok(1));
    let_lookups_finish().await;
    assert_eq!(resolver.calls(), 2);
    for _ in 0..50 {
        assert_eq!(port_of(&discovery, false).await, Ok(2));
        let_lookups_finish().await;
    }
    assert_eq!(
        resolver.calls(),
        2,
        "the floor holds again after the refresh"
    );
}

#[tokio::test(start_paused = true)]
async fn within_the_floor_a_forced_refresh_gets_the_last_answer_without_asking() {
    let (resolver, discovery, _) = setup_with_floor(answer(1, 300), Duration::from_secs(1));
    assert_eq!(port_of(&discovery, false).await, Ok(1));
    resolver.answer_with(Ok(answer(2, 300)));
    for _ in 0..20 {
        assert_eq!(port_of(&discovery, true).await, Ok(1));
    }
    assert_eq!(resolver.calls(), 1);
    tokio::time::advance(Duration::from_millis(1001)).await;
    assert_eq!(
        port_of(&discovery, true).await,
        Ok(2),
        "past the floor it asks"
    );
    assert_eq!(resolver.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn connections_past_the_floor_share_the_one_refresh_in_flight() {
    let (resolver, discovery, _) = setup_with_floor(answer(1, 0), Duration::from_secs(1));
    assert_eq!(port_of(&discovery, false).await, Ok(1));
    tokio::time::advance(Duration::from_millis(1001)).await;
    resolver.set_gate(false);
    let mut forced = JoinSet::new();
    for _ in 0..20 {
        assert_eq!(port_of(&discovery, false).await, Ok(1));
        let discovery = discovery.clone();
        forced.spawn(async move { port_of(&discovery, true).await });
    }
    let_lookups_finish().await;
    assert_eq!(resolver.calls(), 2, "one refresh for forty connections");
    resolver.answer_with(Ok(answer(2, 0)));
    resolver.set_gate(true);
    while let Some(port) = forced.join_next().await {
        assert_eq!(port.expect("task"), Ok(2), "the forced ones wait for it");
    }
    assert_eq!(resolver.calls(), 2);
}
