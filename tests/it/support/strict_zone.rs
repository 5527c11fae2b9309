//! A strict, in-memory Route 53 hosted zone for tests, behind the real SDK client.
//!
//! moto accepts what Route 53 refuses: a DELETE with the wrong weight, a CREATE of a set
//! that exists, mixed routing policies, repeated changes in one batch; it never throttles
//! and cannot page weighted sets. This model refuses all of that the way Route 53 does
//! (the checks, each with its documentation, are in `rules.rs`), can inject `Throttling`
//! or `PriorRequestNotComplete` on every Nth call, and logs every call.
//!
//! It plugs in through `aws-smithy-mocks` rules. Not through `then_compute_response`:
//! on an SDK retry the mock layer calls the rule again with a placeholder input, which
//! makes a computing rule panic. Instead each rule's request matcher keeps the typed
//! input, and an input-free `http_response` generator answers from it, on the first
//! attempt and on every retry. Answers are XML, so the SDK's own deserializers read them.
//! One client serves one caller at a time (each Deployment gets its own client).

mod rules;
mod wire;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_route53::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsInput;
use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsInput;
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecordSet};
use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor, Rule, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

pub use rules::{normalise_name, ListKey, Rejection};

/// Route 53's largest page of ListResourceRecordSets.
pub const MAX_PAGE: usize = 300;

/// A transient error Route 53 answers under load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Too many requests per second for the account.
    Throttling,
    /// A change to this zone is still being applied.
    PriorRequestNotComplete,
}

impl Fault {
    fn code(self) -> &'static str {
        match self {
            Fault::Throttling => "Throttling",
            Fault::PriorRequestNotComplete => "PriorRequestNotComplete",
        }
    }
}

/// Which calls fail: every `every`th call to one of `operations` (all when empty).
#[derive(Clone, Debug)]
pub struct FaultPlan {
    /// 2 fails the 2nd, 4th, 6th... matching call.
    pub every: usize,
    /// The error.
    pub fault: Fault,
    /// Operation names such as `ChangeResourceRecordSets`; empty means every operation.
    pub operations: Vec<&'static str>,
}

/// How one call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answered normally; for a change, the changes were applied.
    Ok,
    /// Refused for good (InvalidChangeBatch, InvalidInput, NoSuchHostedZone).
    Rejected(Rejection),
    /// An injected transient fault.
    Faulted(Fault),
}

/// One call, as the model saw it.
#[derive(Clone, Debug)]
pub struct Call {
    /// `GetHostedZone`, `ListResourceRecordSets` or `ChangeResourceRecordSets`.
    pub operation: &'static str,
    /// For ChangeResourceRecordSets, the batch as sent.
    pub changes: Vec<Change>,
    /// What the model answered.
    pub outcome: Outcome,
}

/// The hosted zone.
#[derive(Debug)]
pub struct StrictZone {
    /// The zone id, without `/hostedzone/`.
    pub zone_id: String,
    /// The apex, lower case with the trailing dot.
    pub apex: String,
    /// Sets per ListResourceRecordSets page at most (Route 53: 300); lower it to make
    /// small zones page.
    pub page_size: usize,
    sets: rules::ZoneSets,
    faults: Option<FaultPlan>,
    fault_counter: usize,
    changes_applied: usize,
    /// Every call, in order, retries included.
    pub calls: Vec<Call>,
}

impl StrictZone {
    /// An empty zone.
    pub fn new(zone_id: &str, apex: &str) -> Self {
        StrictZone {
            zone_id: zone_id.to_owned(),
            apex: normalise_name(apex),
            page_size: MAX_PAGE,
            sets: rules::ZoneSets::new(),
            faults: None,
            fault_counter: 0,
            changes_applied: 0,
            calls: Vec::new(),
        }
    }

    /// The model, shared, as `route53_client` wants it.
    pub fn shared(self) -> Arc<Mutex<StrictZone>> {
        Arc::new(Mutex::new(self))
    }

    /// Injects faults from now on.
    pub fn inject(&mut self, plan: FaultPlan) {
        self.faults = Some(plan);
        self.fault_counter = 0;
    }

    /// Seeds sets that somebody else wrote, through the same rules as any CREATE, in
    /// batches of a few hundred (a request's limits hold for seeding too).
    pub fn seed(&mut self, sets: Vec<ResourceRecordSet>) {
        let changes: Vec<Change> = sets
            .into_iter()
            .map(|s| change(ChangeAction::Create, s))
            .collect();
        for batch in changes.chunks(200) {
            if let Err(rejection) = self.apply(batch) {
                panic!("seeding the strict zone failed: {rejection:?}");
            }
        }
    }

    /// Applies a batch all or nothing, outside any call log (the SDK path is `handle_*`).
    pub fn apply(&mut self, changes: &[Change]) -> Result<String, Rejection> {
        let after = rules::apply_batch(&self.apex, &self.sets, changes)?;
        self.sets = after;
        self.changes_applied += 1;
        Ok(format!("C{:06}", self.changes_applied))
    }

    /// Every set, in Route 53's listing order.
    pub fn record_sets(&self) -> Vec<ResourceRecordSet> {
        self.sets.values().cloned().collect()
    }

    /// The zone after each batch accepted since call `since` (an index into `calls`),
    /// starting from `start`: every moment a client could have queried it.
    pub fn states_since(
        &self,
        start: &[ResourceRecordSet],
        since: usize,
    ) -> Vec<Vec<ResourceRecordSet>> {
        let mut state: rules::ZoneSets = start
            .iter()
            .map(|set| (ListKey::of(set), set.clone()))
            .collect();
        let mut states = Vec::new();
        for call in &self.calls[since..] {
            if call.operation == "ChangeResourceRecordSets" && call.outcome == Outcome::Ok {
                state = rules::apply_batch(&self.apex, &state, &call.changes)
                    .expect("an accepted batch applies again");
                states.push(state.values().cloned().collect());
            }
        }
        states
    }

    /// One page from `start`, as ListResourceRecordSets would return it, and the first
    /// set after the page when the listing is truncated.
    pub fn page(
        &self,
        start: Option<&ListKey>,
        max_items: usize,
    ) -> (Vec<&ResourceRecordSet>, Option<&ResourceRecordSet>) {
        let mut rest = self
            .sets
            .iter()
            .filter(|(key, _)| start.is_none_or(|s| *key >= s))
            .map(|(_, set)| set);
        let page: Vec<&ResourceRecordSet> = rest.by_ref().take(max_items).collect();
        (page, rest.next())
    }

    /// Calls of one operation.
    pub fn calls_to<'a>(&'a self, operation: &'a str) -> impl Iterator<Item = &'a Call> + 'a {
        self.calls.iter().filter(move |c| c.operation == operation)
    }

    /// Every refusal so far (faults excluded): in a correct run this is empty.
    pub fn rejections(&self) -> Vec<&Call> {
        self.calls
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Rejected(_)))
            .collect()
    }

    /// Batches applied through the SDK, in order.
    pub fn accepted_batches(&self) -> Vec<&[Change]> {
        self.calls_to("ChangeResourceRecordSets")
            .filter(|c| c.outcome == Outcome::Ok)
            .map(|c| c.changes.as_slice())
            .collect()
    }

    fn fault_for(&mut self, operation: &'static str) -> Option<Fault> {
        let plan = self.faults.as_ref()?;
        if !plan.operations.is_empty() && !plan.operations.contains(&operation) {
            return None;
        }
        self.fault_counter += 1;
        self.fault_counter
            .is_multiple_of(plan.every.max(1))
            .then_some(plan.fault)
    }

    fn log(&mut self, operation: &'static str, changes: Vec<Change>, outcome: Outcome) {
        self.calls.push(Call {
            operation,
            changes,
            outcome,
        });
    }

    fn rejected(
        &mut self,
        operation: &'static str,
        changes: Vec<Change>,
        status: u16,
        rejection: Rejection,
    ) -> HttpResponse {
        let response = wire::error(status, rejection.code, &rejection.message);
        self.log(operation, changes, Outcome::Rejected(rejection));
        response
    }

    /// Answers one call: fault, wrong zone, or the operation itself.
    fn handle(
        &mut self,
        operation: &'static str,
        zone_id: Option<&str>,
        changes: Vec<Change>,
    ) -> Option<HttpResponse> {
        if let Some(fault) = self.fault_for(operation) {
            let message = match fault {
                Fault::Throttling => "Rate exceeded",
                Fault::PriorRequestNotComplete => "The request was rejected because Route 53 was still processing a prior request.",
            };
            self.log(operation, changes, Outcome::Faulted(fault));
            return Some(wire::error(400, fault.code(), message));
        }
        let asked = zone_id
            .unwrap_or_default()
            .trim_start_matches("/hostedzone/");
        if asked != self.zone_id {
            let message = format!("No hosted zone found with ID: {asked}");
            return Some(self.rejected(
                operation,
                changes,
                404,
                Rejection {
                    code: "NoSuchHostedZone",
                    message,
                },
            ));
        }
        None
    }

    /// Answers GetHostedZone. The SDK reaches this through [`route53_rules`]; a caller that
    /// routes requests itself (the delivery simulation, which answers at a virtual time of
    /// its own) calls it, [`Self::list`] and [`Self::change`] directly.
    pub fn get_hosted_zone(&mut self, zone_id: Option<&str>) -> HttpResponse {
        if let Some(early) = self.handle("GetHostedZone", zone_id, Vec::new()) {
            return early;
        }
        self.log("GetHostedZone", Vec::new(), Outcome::Ok);
        wire::hosted_zone(&self.zone_id, &self.apex, self.sets.len())
    }

    /// [LIST] <https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html>:
    /// start at StartRecordName/Type/Identifier, at most MaxItems (300), and name the
    /// next set in NextRecordName/Type/Identifier when truncated.
    pub fn list(&mut self, input: &ListResourceRecordSetsInput) -> HttpResponse {
        const OPERATION: &str = "ListResourceRecordSets";
        if let Some(early) = self.handle(OPERATION, input.hosted_zone_id(), Vec::new()) {
            return early;
        }
        if input.start_record_name().is_none()
            && (input.start_record_type().is_some() || input.start_record_identifier().is_some())
        {
            let rejection = Rejection {
                code: "InvalidInput",
                message: "The input is not valid: StartRecordType or StartRecordIdentifier without StartRecordName".to_owned(),
            };
            return self.rejected(OPERATION, Vec::new(), 400, rejection);
        }
        let start = input.start_record_name().map(|name| {
            ListKey::new(
                name,
                input.start_record_type().map(|t| t.as_str()).unwrap_or(""),
                input.start_record_identifier(),
            )
        });
        let requested = input
            .max_items()
            .and_then(|m| usize::try_from(m).ok())
            .unwrap_or(MAX_PAGE);
        let max_items = requested.clamp(1, MAX_PAGE).min(self.page_size.max(1));
        let (page, next) = self.page(start.as_ref(), max_items);
        let response = wire::listing(&page, next, max_items);
        self.log(OPERATION, Vec::new(), Outcome::Ok);
        response
    }

    /// Answers ChangeResourceRecordSets: the batch is applied whole or refused whole.
    pub fn change(&mut self, input: &ChangeResourceRecordSetsInput) -> HttpResponse {
        const OPERATION: &str = "ChangeResourceRecordSets";
        let changes: Vec<Change> = input
            .change_batch()
            .map(|b| b.changes().to_vec())
            .unwrap_or_default();
        if let Some(early) = self.handle(OPERATION, input.hosted_zone_id(), changes.clone()) {
            return early;
        }
        match self.apply(&changes) {
            Ok(change_id) => {
                self.log(OPERATION, changes, Outcome::Ok);
                wire::change_info(&change_id)
            }
            Err(rejection) => self.rejected(OPERATION, changes, 400, rejection),
        }
    }
}

/// Route 53's answer to a request over the account's rate, as the SDK reads it (retried).
pub fn throttled_response() -> HttpResponse {
    wire::error(400, Fault::Throttling.code(), "Rate exceeded")
}

/// A Change of the SDK's shape.
pub fn change(action: ChangeAction, set: ResourceRecordSet) -> Change {
    Change::builder()
        .action(action)
        .resource_record_set(set)
        .build()
        .expect("action and set are given")
}

/// A ChangeBatch of the SDK's shape.
pub fn batch(changes: Vec<Change>) -> ChangeBatch {
    ChangeBatch::builder()
        .set_changes(Some(changes))
        .build()
        .expect("changes are given")
}

fn lock(model: &Mutex<StrictZone>) -> std::sync::MutexGuard<'_, StrictZone> {
    model.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A rule for one operation: the matcher keeps the typed input of the request in
/// flight; `answer` computes the reply from it on every attempt.
macro_rules! model_rule {
    ($operation:expr, $model:expr, $answer:expr) => {{
        let in_flight = Arc::new(Mutex::new(None));
        let keep = Arc::clone(&in_flight);
        let model = Arc::clone(&$model);
        mock!($operation)
            .match_requests(move |input| {
                *keep.lock().unwrap_or_else(PoisonError::into_inner) = Some(input.clone());
                true
            })
            .sequence()
            .http_response(move || {
                let input = in_flight
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone()
                    .expect("the matcher ran first");
                #[allow(clippy::redundant_closure_call)]
                ($answer)(&mut lock(&model), &input)
            })
            .repeatedly()
            .build()
    }};
}

/// The three rules that put `model` behind a Route 53 client.
pub fn route53_rules(model: &Arc<Mutex<StrictZone>>) -> Vec<Rule> {
    vec![
        model_rule!(
            aws_sdk_route53::Client::get_hosted_zone,
            model,
            |zone: &mut StrictZone,
             input: &aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneInput| {
                zone.get_hosted_zone(input.id())
            }
        ),
        model_rule!(
            aws_sdk_route53::Client::list_resource_record_sets,
            model,
            |zone: &mut StrictZone, input: &ListResourceRecordSetsInput| zone.list(input)
        ),
        model_rule!(
            aws_sdk_route53::Client::change_resource_record_sets,
            model,
            |zone: &mut StrictZone, input: &ChangeResourceRecordSetsInput| zone.change(input)
        ),
    ]
}

/// Standard retries as production configures them (`ecs_srv::aws::MAX_ATTEMPTS`), with
/// millisecond backoff so that injected faults cost no wall time.
pub fn quick_retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(ecs_srv::aws::MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(4))
}

/// Test credentials; the mock HTTP client never sends them anywhere.
pub fn test_credentials() -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new(
        "strict",
        "strict",
        None,
        None,
        "strict-zone",
    ))
}

/// An interceptor answering from `rules`, any rule in any order.
pub fn interceptor(rules: &[Rule]) -> MockResponseInterceptor {
    rules.iter().fold(
        MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny),
        |i, rule| i.with_rule(rule),
    )
}

/// The real Route 53 client, answered by `model`.
pub fn route53_client(model: Arc<Mutex<StrictZone>>) -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::from_conf(
        aws_sdk_route53::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(test_credentials())
            .http_client(create_mock_http_client())
            .retry_config(quick_retries())
            .interceptor(interceptor(&route53_rules(&model)))
            .build(),
    )
}
