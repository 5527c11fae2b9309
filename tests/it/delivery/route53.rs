//! Route 53 in virtual time: the strict model answers each request at the virtual moment it
//! reaches Route 53, after the function's pacer slot at the default rate and the request's
//! latency, and only when the account's shared budget has a token for it.
//!
//! The strict model's own SDK rules (`support::strict_zone::route53_rules`) answer at the
//! moment the SDK serializes a request, which is right for tests without time but would let
//! a request change the zone before its slot, and before a concurrent writer's earlier
//! request. Here an interceptor keeps the typed input of each request, and the HTTP client
//! (an async one, so it can wait on the virtual clock) answers from the model when the
//! request arrives. The real pacer still runs, at the fastest rate allowed, on the wall
//! clock; the default rate is charged here, on the virtual one.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsInput;
use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneInput;
use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsInput;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::clock::Clock;
use crate::support::strict_zone::{throttled_response, StrictZone};

/// The account-wide Route 53 budget: a token bucket of 50, refilled at 10 a second, for
/// every caller's requests together, reads included (DESIGN.md, "Route 53 rules").
#[derive(Debug)]
pub struct AccountBudget {
    tokens: f64,
    at: Duration,
    capacity: f64,
    refill_per_second: f64,
}

impl AccountBudget {
    /// Route 53's budget since 2026-07-30.
    pub fn route53() -> Self {
        AccountBudget {
            tokens: 50.0,
            at: Duration::ZERO,
            capacity: 50.0,
            refill_per_second: 10.0,
        }
    }

    /// Takes a token at `now`, or says the request is throttled.
    fn take(&mut self, now: Duration) -> bool {
        let elapsed = now.saturating_sub(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.refill_per_second).min(self.capacity);
        self.at = self.at.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// One function instance's pacer at the rate it is charged: the real pacer's GCRA with a
/// burst of one (a request at least `1/rate` after the one before) and its jitter of up to
/// 20 ms on a request that had to wait.
#[derive(Debug)]
pub struct PacerSlots {
    period: Duration,
    last: Option<Duration>,
    jitter: StdRng,
}

impl PacerSlots {
    /// A pacer charging `rate` requests a second; `seed` makes its jitter replayable.
    pub fn new(rate: f64, seed: u64) -> Self {
        PacerSlots {
            period: Duration::from_secs_f64(1.0 / rate),
            last: None,
            jitter: StdRng::seed_from_u64(seed),
        }
    }

    /// When a request asked for at `now` may go.
    fn slot(&mut self, now: Duration) -> Duration {
        let earliest = self.last.map_or(now, |last| last + self.period);
        let slot = if earliest > now {
            earliest + Duration::from_millis(self.jitter.random_range(0..=20))
        } else {
            now
        };
        self.last = Some(slot);
        slot
    }
}

/// What Route 53 saw, in virtual time: when each call the model logged was answered, and
/// the attempts the account's budget throttled (the model never sees those).
#[derive(Debug, Default)]
pub struct Route53Ledger {
    /// For every call in the model's log, in order, the virtual time it was answered.
    pub answered_at: Vec<Duration>,
    /// Attempts refused with `Throttling` for the account's budget.
    pub throttled: usize,
}

/// The Route 53 side every function instance shares: the zone, the budget, the ledger.
#[derive(Clone, Debug)]
pub struct Route53World {
    /// The strict model.
    pub zone: Arc<Mutex<StrictZone>>,
    /// The account's budget.
    pub budget: Arc<Mutex<AccountBudget>>,
    /// The times of the calls.
    pub ledger: Arc<Mutex<Route53Ledger>>,
    /// Time from sending a request to Route 53's answer.
    pub latency: Duration,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A Route 53 request's typed input.
#[derive(Debug)]
enum Request {
    GetHostedZone(GetHostedZoneInput),
    List(ListResourceRecordSetsInput),
    Change(ChangeResourceRecordSetsInput),
}

impl Request {
    /// Whether the function's pacer spaces this request (reads and writes; not the
    /// start-up's GetHostedZone).
    fn paced(&self) -> bool {
        !matches!(self, Request::GetHostedZone(_))
    }
}

#[derive(Clone, Debug)]
struct Held(Arc<Request>);

impl Storable for Held {
    type Storer = StoreReplace<Self>;
}

/// What the HTTP client gets with each attempt.
#[derive(Clone, Debug)]
struct Captured {
    request: Arc<Request>,
    first_attempt: bool,
}

/// Keeps each request's typed input for the HTTP client, on every attempt.
#[derive(Debug)]
pub struct CaptureInput;

impl Intercept for CaptureInput {
    fn name(&self) -> &'static str {
        "CaptureRoute53Input"
    }

    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input();
        let request = if let Some(list) = input.downcast_ref::<ListResourceRecordSetsInput>() {
            Request::List(list.clone())
        } else if let Some(change) = input.downcast_ref::<ChangeResourceRecordSetsInput>() {
            Request::Change(change.clone())
        } else if let Some(get) = input.downcast_ref::<GetHostedZoneInput>() {
            Request::GetHostedZone(get.clone())
        } else {
            return Err(format!("the simulated Route 53 does not answer {input:?}").into());
        };
        cfg.interceptor_state().store_put(Held(Arc::new(request)));
        Ok(())
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let held = cfg.load::<Held>().ok_or("no Route 53 input was kept")?;
        let first_attempt = cfg
            .load::<RequestAttempts>()
            .is_none_or(|attempts| attempts.attempts() <= 1);
        context.request_mut().add_extension(Captured {
            request: Arc::clone(&held.0),
            first_attempt,
        });
        Ok(())
    }
}

/// One function instance's Route 53 HTTP client.
#[derive(Clone, Debug)]
pub struct Route53Wire {
    world: Route53World,
    clock: Clock,
    pacer: Arc<Mutex<PacerSlots>>,
}

impl Route53Wire {
    /// The client of an instance whose pacer is `pacer`.
    pub fn new(world: Route53World, clock: Clock, pacer: PacerSlots) -> Self {
        Route53Wire {
            world,
            clock,
            pacer: Arc::new(Mutex::new(pacer)),
        }
    }

    async fn answer(
        self,
        captured: Captured,
    ) -> aws_smithy_runtime_api::client::orchestrator::HttpResponse {
        if captured.first_attempt && captured.request.paced() {
            let slot = lock(&self.pacer).slot(self.clock.now());
            self.clock.sleep_until(slot).await;
        }
        self.clock.sleep(self.world.latency).await;
        let now = self.clock.now();
        if !lock(&self.world.budget).take(now) {
            lock(&self.world.ledger).throttled += 1;
            return throttled_response();
        }
        let mut zone = lock(&self.world.zone);
        let response = match captured.request.as_ref() {
            Request::GetHostedZone(input) => zone.get_hosted_zone(input.id()),
            Request::List(input) => zone.list(input),
            Request::Change(input) => zone.change(input),
        };
        let logged = zone.calls.len();
        let mut ledger = lock(&self.world.ledger);
        ledger.answered_at.resize(logged, now);
        response
    }
}

impl HttpConnector for Route53Wire {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let Some(captured) = request.extension::<Captured>().cloned() else {
            return HttpConnectorFuture::ready(Err(
                aws_smithy_runtime_api::client::result::ConnectorError::other(
                    "a Route 53 request without its captured input".into(),
                    None,
                ),
            ));
        };
        let wire = self.clone();
        HttpConnectorFuture::new(async move { Ok(wire.answer(captured).await) })
    }
}

impl HttpClient for Route53Wire {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}
