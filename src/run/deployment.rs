//! The long-lived state of the function: configuration, clients, the task resolver with
//! its caches, the pacer and the zone view. Built once per process; the event path
//! ([`crate::run::events::process`]) and the reconcile ([`crate::run::reconcile::reconcile`])
//! borrow it.

use std::time::Duration;

use crate::apply::view::ZoneCache;
use crate::apply::ZoneWriter;
use crate::aws::route53::pacing::WritePacer;
use crate::aws::route53::{self, Route53Error};
use crate::aws::AwsClients;
use crate::config::PublisherConfig;
use crate::plan::desired::RecordSettings;
use crate::plan::naming::ZoneNaming;
use crate::plan::whole_sets::WholeSetScope;
use crate::run::intents::TaskResolver;

/// Everything an invocation needs that outlives it.
#[derive(Debug)]
pub struct Publisher {
    /// The deployment's settings.
    pub config: PublisherConfig,
    /// The AWS clients.
    pub clients: AwsClients,
    /// Running tasks to records, with the warm caches.
    pub resolver: TaskResolver,
    /// Spaces out Route 53 requests.
    pub pacer: WritePacer,
    /// The zone as last seen, when ZONE_CACHE_SECONDS allows.
    pub zone_cache: ZoneCache,
}

impl Publisher {
    /// Reads the zone's name once (GetHostedZone); everything else is lazy.
    pub async fn new(config: PublisherConfig, clients: AwsClients) -> Result<Self, Route53Error> {
        let apex = route53::hosted_zone_name(&clients.route53, &config.hosted_zone_id).await?;
        let settings = RecordSettings {
            naming: ZoneNaming::new(&apex, &config.record_owner),
            policy: config.routing_policy,
            ttl: config.record_ttl,
            cluster_in_names: config.cluster_in_names,
        };
        Ok(Self {
            pacer: WritePacer::per_second(config.route53_write_rate),
            zone_cache: ZoneCache::new(Duration::from_secs(config.zone_cache_seconds)),
            resolver: TaskResolver {
                health_gate: config.health_gate,
                ..TaskResolver::new(settings, config.default_weight)
            },
            config,
            clients,
        })
    }

    /// How records are named, and whose they are.
    pub fn naming(&self) -> &ZoneNaming {
        &self.resolver.settings.naming
    }

    /// The writer every write goes through; `scope` says which whole SRV sets follow.
    pub fn writer(&self, scope: WholeSetScope) -> ZoneWriter<'_> {
        ZoneWriter {
            route53: &self.clients.route53,
            zone_id: &self.config.hosted_zone_id,
            naming: self.naming(),
            pacer: &self.pacer,
            whole_sets: self.config.srv_sets.then_some(scope),
            coverage: crate::plan::zone::Coverage::Zone,
        }
    }
}
