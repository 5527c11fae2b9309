//! A strict, in-memory Route 53 hosted zone for tests, behind the real SDK client.
//!
//! moto accepts what Route 53 refuses: a DELETE with the wrong weight, a CREATE of a set
//! that exists, mixed routing policies, repeated changes in one batch; it never throttles
//! and cannot page weighted sets. This model refuses all of that the way Route 53 does
//! (the checks, each with the page it comes from, are in `rules.rs` and its modules),
//! takes anything Route 53 takes, aliases out of the zone included, can inject `Throttling`
//! or `PriorRequestNotComplete` on a schedule of calls or past the SDK's retry budget
//! (`faults.rs`), and logs every call. Beside Route 53's rules it records, never refuses,
//! breaches of ecs-srv's own stricter layout promises (`own_choices.rs`).
//!
//! It sits behind the real SDK client (`client.rs`), answering in Route 53's XML
//! (`wire.rs`).

mod client;
mod faults;
mod own_choices;
mod rules;
mod wire;

use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsInput;
use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsInput;
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecordSet};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use std::sync::{Arc, Mutex};

pub use client::{interceptor, quick_retries, route53_client, test_credentials, SDK_MAX_ATTEMPTS};
pub use faults::{Fault, FaultPlan};
pub use own_choices::{OwnChoiceBreach, NO_ALIAS_WITHOUT_TARGET, ONE_VALUE_PER_WEIGHTED_SET};
pub use rules::{normalise_name, ListKey, Rejection, DEFAULT_MAX_RECORD_SETS};

/// Route 53's largest page of ListResourceRecordSets.
pub const MAX_PAGE: usize = 300;

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

/// The hosted zone: a private zone, as ecs-srv's are.
#[derive(Debug)]
pub struct StrictZone {
    /// The zone id, without `/hostedzone/`.
    pub zone_id: String,
    /// The apex, lower case with the trailing dot.
    pub apex: String,
    /// Sets per ListResourceRecordSets page at most (Route 53: 300); lower it to make
    /// small zones page.
    pub page_size: usize,
    /// The zone's record set quota (Route 53's default: 10,000, the zone's own SOA and NS
    /// included); lower it to reach it cheaply.
    pub max_record_sets: usize,
    sets: rules::ZoneSets,
    faults: faults::FaultSchedule,
    changes_applied: usize,
    breaches: Vec<OwnChoiceBreach>,
    /// Every call, in order, retries included.
    pub calls: Vec<Call>,
}

impl StrictZone {
    /// An empty zone.
    pub fn new(zone_id: &str, apex: &str) -> Self {
        StrictZone {
            zone_id: zone_id.trim_start_matches("/hostedzone/").to_owned(),
            apex: normalise_name(apex),
            page_size: MAX_PAGE,
            max_record_sets: DEFAULT_MAX_RECORD_SETS,
            sets: rules::ZoneSets::new(),
            faults: faults::FaultSchedule::default(),
            changes_applied: 0,
            breaches: Vec::new(),
            calls: Vec::new(),
        }
    }

    /// The model, shared, as `route53_client` wants it.
    pub fn shared(self) -> Arc<Mutex<StrictZone>> {
        Arc::new(Mutex::new(self))
    }

    /// Injects faults from now on.
    pub fn inject(&mut self, plan: FaultPlan) {
        self.faults.start(plan);
    }

    /// Answers every call from now on.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    fn facts(&self) -> rules::ZoneFacts {
        rules::ZoneFacts {
            zone_id: self.zone_id.clone(),
            apex: self.apex.clone(),
            max_record_sets: self.max_record_sets,
        }
    }

    /// Seeds sets that somebody else wrote, through the same rules as any CREATE, in
    /// batches of a few hundred (a request's limits hold for seeding too). Anything Route 53
    /// accepts can be seeded; what it refuses fails the test here, with Route 53's reason.
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

    /// Applies a batch all or nothing, outside any call log (the SDK path is `change`).
    pub fn apply(&mut self, changes: &[Change]) -> Result<String, Rejection> {
        let after = rules::apply_batch(&self.facts(), &self.sets, changes)?;
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
        let facts = self.facts();
        let mut state: rules::ZoneSets = start
            .iter()
            .map(|set| (ListKey::of(set), set.clone()))
            .collect();
        let mut states = Vec::new();
        for call in &self.calls[since..] {
            if call.operation == "ChangeResourceRecordSets" && call.outcome == Outcome::Ok {
                state = rules::apply_batch(&facts, &state, &call.changes)
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

    /// How many calls met `fault`, retries included.
    pub fn faults_met(&self, fault: Fault) -> usize {
        self.calls
            .iter()
            .filter(|c| c.outcome == Outcome::Faulted(fault))
            .count()
    }

    /// Every refusal so far (faults excluded): in a correct run this is empty.
    pub fn rejections(&self) -> Vec<&Call> {
        self.calls
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Rejected(_)))
            .collect()
    }

    /// ecs-srv's own promises that accepted batches broke (see `own_choices`): Route 53
    /// took these batches, so they are not refusals.
    pub fn own_choice_breaches(&self) -> &[OwnChoiceBreach] {
        &self.breaches
    }

    /// Route 53's refusals and ecs-srv's broken promises, each saying which it is: what a
    /// test that drives ecs-srv expects to be empty.
    pub fn problems(&self) -> Vec<String> {
        let refused = self
            .rejections()
            .into_iter()
            .map(|call| match &call.outcome {
                Outcome::Rejected(r) => format!(
                    "Route 53 refused {}: {} {}",
                    call.operation, r.code, r.message
                ),
                other => format!("{other:?}"),
            });
        let broken = self
            .breaches
            .iter()
            .map(|b| format!("{}: {}", b.choice, b.detail));
        refused.chain(broken).collect()
    }

    /// Batches applied through the SDK, in order.
    pub fn accepted_batches(&self) -> Vec<&[Change]> {
        self.calls_to("ChangeResourceRecordSets")
            .filter(|c| c.outcome == Outcome::Ok)
            .map(|c| c.changes.as_slice())
            .collect()
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

    /// Answers one call early: an injected fault, or a zone id that is not this zone's.
    /// [API] Errors: "NoSuchHostedZone: No hosted zone exists with the ID that you
    /// specified. HTTP Status Code: 404".
    fn handle(
        &mut self,
        operation: &'static str,
        zone_id: Option<&str>,
        changes: Vec<Change>,
    ) -> Option<HttpResponse> {
        if let Some(fault) = self.faults.next(operation) {
            self.log(operation, changes, Outcome::Faulted(fault));
            return Some(wire::error(400, fault.code(), fault.message()));
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
        wire::hosted_zone(
            &self.zone_id,
            &self.apex,
            rules::counted_sets(&self.facts(), &self.sets),
        )
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
                let broken = own_choices::breaches(&self.zone_id, &changes, &self.sets);
                self.breaches.extend(broken);
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
