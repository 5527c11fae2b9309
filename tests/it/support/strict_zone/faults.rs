//! Transient errors the model can answer instead of a call: Route 53's throttling and its
//! "still busy" refusal, on a schedule of calls, for as long as a test wants.

/// A transient error Route 53 answers under load. [QUOTAS] "Frequency of Amazon Route 53
/// API requests": `Throttling` with "Rate exceeded", and `PriorRequestNotComplete` "if
/// Route 53 can't process a request before the next request arrives".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Too many requests per second for the account.
    Throttling,
    /// A change to this zone is still being applied.
    PriorRequestNotComplete,
}

impl Fault {
    /// The error code, as the SDK reads it.
    pub fn code(self) -> &'static str {
        match self {
            Fault::Throttling => "Throttling",
            Fault::PriorRequestNotComplete => "PriorRequestNotComplete",
        }
    }

    /// Route 53's message for it.
    pub fn message(self) -> &'static str {
        match self {
            Fault::Throttling => "Rate exceeded",
            Fault::PriorRequestNotComplete => {
                "The request was rejected because Route 53 was still processing a prior request."
            }
        }
    }
}

/// Which calls fail: every `every`th call to one of `operations` (all when empty), the
/// first `times` such failures only when `times` is set. Retries are calls too: the SDK's
/// second attempt is the next call the model sees.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    /// 2 fails the 2nd, 4th, 6th... matching call.
    pub every: usize,
    /// The error.
    pub fault: Fault,
    /// Operation names such as `ChangeResourceRecordSets`; empty means every operation.
    pub operations: Vec<&'static str>,
    /// How many failures in all before the fault clears; `None` for ever.
    pub times: Option<usize>,
}

impl FaultPlan {
    /// Fails every `every`th matching call, for ever.
    pub fn every(every: usize, fault: Fault, operations: &[&'static str]) -> Self {
        FaultPlan {
            every,
            fault,
            operations: operations.to_vec(),
            times: None,
        }
    }

    /// Fails every matching call on every attempt until the test clears the plan
    /// (`StrictZone::clear_faults`): each call outlasts the SDK's retry budget
    /// ([`super::SDK_MAX_ATTEMPTS`] attempts) and the caller sees the fault itself, however
    /// often it tries again on its own.
    pub fn past_retry_budget(fault: Fault, operations: &[&'static str]) -> Self {
        FaultPlan::every(1, fault, operations)
    }

    /// Fails the next `times` matching calls, then clears.
    pub fn next(times: usize, fault: Fault, operations: &[&'static str]) -> Self {
        FaultPlan {
            times: Some(times),
            ..FaultPlan::every(1, fault, operations)
        }
    }
}

/// A plan and how far it has got.
#[derive(Debug, Default)]
pub struct FaultSchedule {
    plan: Option<FaultPlan>,
    matching_calls: usize,
    failed: usize,
}

impl FaultSchedule {
    /// Ends the plan: every call from now on is answered.
    pub fn clear(&mut self) {
        *self = FaultSchedule::default();
    }

    /// Starts `plan` from now on.
    pub fn start(&mut self, plan: FaultPlan) {
        *self = FaultSchedule {
            plan: Some(plan),
            ..FaultSchedule::default()
        };
    }

    /// The fault the next call to `operation` meets, if any.
    pub fn next(&mut self, operation: &str) -> Option<Fault> {
        let plan = self.plan.as_ref()?;
        if !plan.operations.is_empty() && !plan.operations.contains(&operation) {
            return None;
        }
        if plan.times.is_some_and(|times| self.failed >= times) {
            return None;
        }
        self.matching_calls += 1;
        let fails = self.matching_calls.is_multiple_of(plan.every.max(1));
        self.failed += usize::from(fails);
        fails.then_some(plan.fault)
    }
}
