//! The long-lived state of one deployment: its settings, clients, identity and naming,
//! the warm caches, the pacer and the kept view of the zone. Built once per process; the
//! event path, the reconcile, `status` and `purge` borrow it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use crate::apply::{Applier, Sender, ZoneCache, ZoneReader};
use crate::aws::ecs::Lookups;
use crate::aws::route53::pacing::WritePacer;
use crate::aws::route53::{self, Route53Error};
use crate::aws::{AwsClients, IdentityError};
use crate::config::Settings;
use crate::plan::desired::RecordSettings;
use crate::plan::naming::{ClusterId, Identity, Scope, ZoneNaming};
use crate::plan::whole_sets::WholeSetScope;

/// Whether a run writes or only reports what it would write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Send every batch to Route 53.
    Write,
    /// Send nothing; report the batches a write would send.
    DryRun,
}

/// Why a deployment could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Where the function runs could not be learnt.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The zone could not be read (GetHostedZone): a wrong HOSTED_ZONE_ID, or a zone in
    /// another account without ZONE_ROLE_ARN.
    #[error("reading the hosted zone named by HOSTED_ZONE_ID: {0} (a zone in another account needs ZONE_ROLE_ARN)")]
    Zone(#[from] Route53Error),
    /// A setting that contradicts where the function runs or the zone.
    #[error("{0}")]
    Settings(String),
}

/// Everything an invocation needs that outlives it.
#[derive(Debug)]
pub struct Deployment {
    /// The deployment's settings.
    pub settings: Settings,
    /// The AWS clients.
    pub clients: AwsClients,
    /// How records are named, routed and timed.
    pub records: RecordSettings,
    /// The warm caches of task definitions and host addresses.
    pub lookups: Lookups,
    /// Spaces out Route 53 requests.
    pub pacer: WritePacer,
    /// The zone as last seen, when ZONE_CACHE_SECONDS allows.
    pub zone_cache: ZoneCache,
    /// When the tasks the health gate holds were last seen waiting.
    pub health_waits: HealthWaits,
}

/// When each task the health gate holds was last seen waiting, in this warm process: the
/// time from then to its records bounds the time from HEALTHY to its records (ECS says
/// when a task is healthy, not since when).
#[derive(Debug, Default)]
pub struct HealthWaits(Mutex<HashMap<String, SystemTime>>);

/// Tasks remembered at most: a cold start forgets them all anyway.
const MAX_HEALTH_WAITS: usize = 10_000;

impl HealthWaits {
    /// The task was seen waiting now.
    pub fn note(&self, task_id: &str) {
        let mut waits = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if waits.len() >= MAX_HEALTH_WAITS {
            waits.clear();
        }
        waits.insert(task_id.to_owned(), SystemTime::now());
    }

    /// When the task was last seen waiting, forgetting it.
    pub fn take(&self, task_id: &str) -> Option<SystemTime> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(task_id)
    }
}

impl Deployment {
    /// Learns where the function runs (STS GetCallerIdentity) and reads the zone's name
    /// (GetHostedZone); everything else is lazy. A writer without a zone (HOSTED_ZONE_ID may
    /// be left out only by the packer) is refused before any request.
    pub async fn new(settings: Settings, clients: AwsClients) -> Result<Self, StartError> {
        if settings.hosted_zone_id.is_empty() {
            return Err(StartError::Settings(
                "HOSTED_ZONE_ID is empty: the writer needs the id of the zone it keeps".to_owned(),
            ));
        }
        let scope = clients.scope().await?;
        Self::with_scope(settings, clients, scope).await
    }

    /// As [`Self::new`], with where the function runs already known.
    pub async fn with_scope(
        settings: Settings,
        clients: AwsClients,
        scope: Scope,
    ) -> Result<Self, StartError> {
        let apex = route53::hosted_zone_name(&clients.route53, &settings.hosted_zone_id).await?;
        let domain = record_domain(&settings.record_domain, &apex)?;
        let identity = Identity {
            owner: settings.record_owner.clone(),
            clusters: settings.cluster_ids(&scope).map_err(StartError::Settings)?,
            scope,
        };
        let records = RecordSettings {
            naming: ZoneNaming::new(&domain, identity, settings.regional_names),
            policy: settings.routing_policy,
            ttl: settings.record_ttl,
            cluster_in_names: settings.cluster_in_names,
        };
        Ok(Self {
            pacer: WritePacer::per_second(settings.route53_write_rate),
            zone_cache: ZoneCache::new(Duration::from_secs(settings.zone_cache_seconds)),
            lookups: Lookups::default(),
            health_waits: HealthWaits::default(),
            records,
            settings,
            clients,
        })
    }

    /// How records are named, and whose they are.
    pub fn naming(&self) -> &ZoneNaming {
        &self.records.naming
    }

    /// Reads the zone.
    pub fn reader(&self) -> ZoneReader<'_> {
        ZoneReader {
            client: &self.clients.route53,
            zone_id: &self.settings.hosted_zone_id,
            pacer: &self.pacer,
            naming: self.naming(),
        }
    }

    /// The apply pipeline every write goes through; `scope` says which whole SRV sets
    /// follow, `mode` whether batches are sent.
    pub fn applier(&self, scope: WholeSetScope, mode: Mode) -> Applier<'_> {
        Applier {
            naming: self.naming(),
            sender: match mode {
                Mode::Write => Sender::Route53 {
                    client: &self.clients.route53,
                    zone_id: &self.settings.hosted_zone_id,
                    pacer: &self.pacer,
                },
                Mode::DryRun => Sender::DryRun,
            },
            reader: self.reader(),
            whole_sets: self.settings.srv_sets.then_some(scope),
            ecs: &self.clients.ecs,
            cache: &self.zone_cache,
        }
    }

    /// The cluster of an ARN, when this deployment serves it: where it runs, and named in
    /// CLUSTERS when any is named.
    pub fn served_cluster(&self, cluster_arn: &str) -> Option<ClusterId> {
        let identity = self.naming().identity();
        let cluster = ClusterId::from_arn(cluster_arn)?;
        let served = cluster.scope == identity.scope
            && (identity.clusters.is_empty() || identity.clusters.contains(&cluster));
        served.then_some(cluster)
    }
}

/// The domain records go under: RECORD_DOMAIN when set (it must lie within the zone), or
/// the zone's apex.
fn record_domain(configured: &str, apex: &str) -> Result<String, StartError> {
    let apex = apex.to_ascii_lowercase();
    let apex = if apex.ends_with('.') {
        apex
    } else {
        format!("{apex}.")
    };
    if configured.is_empty() || configured == apex {
        return Ok(apex);
    }
    if configured.ends_with(&format!(".{apex}")) {
        Ok(configured.to_owned())
    } else {
        Err(StartError::Settings(format!(
            "RECORD_DOMAIN {configured} does not lie within the zone {apex}"
        )))
    }
}
