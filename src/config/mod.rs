//! The publisher's settings: read once at start, from flags or their environment
//! variables (the Lambda sets only the variables).
//!
//! Every value is checked here, so that a bad deployment fails at start-up with a message
//! that names the variable and what it accepts, instead of failing on the first event.

mod values;

use clap::Args;
use values::*;

use crate::plan::naming::{ClusterId, Scope};

pub use crate::plan::desired::RoutingPolicy;

/// The role in the zone's account that Route 53 calls go through (ZONE_ROLE_ARN).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneRole {
    /// The role's ARN.
    pub arn: String,
    /// The external id its trust policy asks for, if any.
    pub external_id: Option<String>,
}

/// Everything a deployment is told: every setting, with its flag and its variable.
#[derive(Args, Clone, Debug)]
pub struct Settings {
    /// The Route 53 private hosted zone that receives the records (its zone name is
    /// read from Route 53 at start). Required, unless PACK_INTO_QUEUE_URL makes the
    /// process the packer, which reads no zone.
    #[arg(long, env = "HOSTED_ZONE_ID", value_parser = parse_hosted_zone_id, default_value = "", hide_default_value = true, required_unless_present = "pack_into_queue_url")]
    pub hosted_zone_id: String,

    /// TTL of every record, in seconds. Short, so that clients follow tasks quickly.
    #[arg(long, env = "RECORD_TTL", default_value = "10", value_parser = parse_record_ttl)]
    pub record_ttl: u32,

    /// Routing policy of the service names: weighted or multivalue.
    #[arg(long, env = "ROUTING_POLICY", default_value = "weighted", value_parser = routing_policy())]
    pub routing_policy: RoutingPolicy,

    /// Clusters to publish, by name or ARN, comma separated. Empty (or unset) means every
    /// cluster: the SAM template passes an empty string when no cluster is named.
    #[arg(long, env = "CLUSTERS", default_value = "", value_parser = parse_cluster_list)]
    pub clusters: ClusterList,

    /// Weight of a task that has no `ecs-srv.weight` docker label (0 to 255).
    #[arg(long, env = "DEFAULT_WEIGHT", default_value = "1", value_parser = parse_default_weight)]
    pub default_weight: u8,

    /// Also keep one simple-routing SRV set per service and port (`_P._tcp._all.S.Z`)
    /// holding every running task: on or off. On by default, because the clients that
    /// read SRV (HAProxy, Prometheus, srv-proxy) balance and fail over only when they see
    /// every target, and a weighted name answers one.
    #[arg(long, env = "SRV_SETS", default_value = "on", value_parser = parse_srv_sets, action = clap::ArgAction::Set)]
    pub srv_sets: bool,

    /// Put the cluster in every service name (`S.C.Z`, `_P._tcp.S.C.Z`, ...): on for a
    /// zone that serves several clusters whose services share names. Off, a name that
    /// holds one cluster's tasks refuses another cluster's.
    #[arg(long, env = "CLUSTER_IN_NAMES", default_value = "off", value_parser = parse_cluster_in_names, action = clap::ArgAction::Set)]
    pub cluster_in_names: bool,

    /// Publish a task whose essential containers define health checks only once ECS
    /// reports it HEALTHY, and withdraw it while UNHEALTHY: on or off (off publishes at
    /// RUNNING, as tasks without health checks always are).
    #[arg(long, env = "HEALTH_GATE", default_value = "on", action = clap::ArgAction::Set, value_parser = parse_health_gate)]
    pub health_gate: bool,

    /// Route 53 requests (reads and writes) per second at most, for this function. The
    /// account allows about 10 per second for all callers together; the default leaves
    /// half of it to everyone else.
    #[arg(long, env = "ROUTE53_WRITE_RATE", default_value = "5", value_parser = parse_write_rate)]
    pub route53_write_rate: f64,

    /// Seconds a warm function may reuse its last view of the zone instead of reading it
    /// again (0: read on every invocation). Safe when one execution environment writes
    /// this deployment's tasks, as the SQS path's work queue (one message group) and the
    /// writer's reserved concurrency of 1 ensure: a view that missed one of its own writes
    /// would find nothing to withdraw. Other deployments on
    /// the zone (other accounts, regions) write only their own tasks' record sets, and a
    /// change a stale view gets wrong about a shared name is refused by Route 53 (exact
    /// DELETE and CREATE) and planned again on a fresh read.
    #[arg(long, env = "ZONE_CACHE_SECONDS", default_value = "0", value_parser = parse_zone_cache_seconds)]
    pub zone_cache_seconds: u64,

    /// Tag at the head of every SetIdentifier this deployment writes. Deployments in
    /// different regions or accounts may share one (the mark names the cluster's region
    /// and account); two deployments that serve the same clusters must not.
    #[arg(long, env = "RECORD_OWNER", default_value = "ecs-srv", value_parser = parse_record_owner)]
    pub record_owner: String,

    /// The IAM role in the zone's account that Route 53 calls go through, for a zone in
    /// another account (a networking account). Empty: the function's own role.
    #[arg(long, env = "ZONE_ROLE_ARN", default_value = "", value_parser = parse_role_arn)]
    pub zone_role_arn: String,

    /// The external id the zone role's trust policy asks for. Empty: none.
    #[arg(long, env = "ZONE_ROLE_EXTERNAL_ID", default_value = "", value_parser = parse_external_id)]
    pub zone_role_external_id: String,

    /// Publish under this region's names (`S.<region>.Z`, ...) and keep one latency alias
    /// per region at the shared names (`S.Z`, ...), so that one name answers every region
    /// with its own tasks: on or off.
    #[arg(long, env = "REGIONAL_NAMES", default_value = "off", value_parser = parse_regional_names, action = clap::ArgAction::Set)]
    pub regional_names: bool,

    /// The standard queue the function consumes task events from (its URL), where a task
    /// that is not healthy yet is looked at again sooner than the queue's visibility
    /// timeout (its message's visibility is shortened). Empty: not shortened. Not needed
    /// with INBOX_QUEUE_URL.
    #[arg(long, env = "EVENT_QUEUE_URL", default_value = "", value_parser = parse_queue_url)]
    pub event_queue_url: String,

    /// The packer's inbox (its URL), where a re-check waits: a task that is not healthy
    /// yet, or any other failure a retry may fix, goes back there with a delay, packed
    /// with the others due at the same time, and the packer sends it on into the work
    /// queue, which never waits for it. Empty: such failures are reported back to the
    /// queue they came from.
    #[arg(long, env = "INBOX_QUEUE_URL", default_value = "", value_parser = parse_queue_url)]
    pub inbox_queue_url: String,

    /// Where a re-check that failed too often is parked (a queue URL, the stack's
    /// dead-letter queue). Empty: it is reported back to the event queue.
    #[arg(long, env = "DEAD_LETTER_QUEUE_URL", default_value = "", value_parser = parse_queue_url)]
    pub dead_letter_queue_url: String,

    /// Seconds before a running task that is not healthy yet is looked at again, on the
    /// SQS path: what bounds the time from HEALTHY to its records.
    #[arg(long, env = "HEALTH_RECHECK_SECONDS", default_value = "10", value_parser = parse_recheck_seconds)]
    pub health_recheck_seconds: u64,

    /// Serve as the packer, the SQS path's second function: gather the inbox's task
    /// events into packed messages on this FIFO queue (its URL: the writer's work queue).
    /// The packer reads no zone and calls neither ECS, EC2 nor Route 53, so it needs no
    /// other setting. Unset: the process is the writer.
    #[arg(long, env = "PACK_INTO_QUEUE_URL", value_parser = parse_fifo_queue_url)]
    pub pack_into_queue_url: Option<String>,

    /// Write only under this domain, a name within the zone (`ecs.example.internal`).
    /// Empty: the zone's apex.
    #[arg(long, env = "RECORD_DOMAIN", default_value = "", value_parser = parse_record_domain)]
    pub record_domain: String,
}

impl Settings {
    /// The zone's role, when Route 53 calls go through one.
    pub fn zone_role(&self) -> Option<ZoneRole> {
        (!self.zone_role_arn.is_empty()).then(|| ZoneRole {
            arn: self.zone_role_arn.clone(),
            external_id: (!self.zone_role_external_id.is_empty())
                .then(|| self.zone_role_external_id.clone()),
        })
    }

    /// The clusters named in CLUSTERS, as ARNs where the deployment runs; a named cluster
    /// of another region or account is a mistake said at start.
    pub fn cluster_ids(&self, scope: &Scope) -> Result<Vec<ClusterId>, String> {
        self.clusters
            .iter()
            .map(|entry| {
                let arn = if entry.starts_with("arn:") {
                    entry.clone()
                } else {
                    format!(
                        "arn:{}:ecs:{}:{}:cluster/{entry}",
                        scope.partition, scope.region, scope.account
                    )
                };
                let cluster = ClusterId::from_arn(&arn)
                    .ok_or_else(|| format!("CLUSTERS names {entry:?}, which is no cluster ARN"))?;
                if cluster.scope != *scope {
                    return Err(format!(
                        "CLUSTERS names {arn}, but this deployment runs in {} account {}: deploy a stack in each region and account, each naming its own clusters",
                        scope.region, scope.account
                    ));
                }
                Ok(cluster)
            })
            .collect()
    }
}

/// The clusters named in `CLUSTERS`, in order. An empty list means "none named", which
/// publishes every cluster: CloudFormation cannot leave a variable out by a parameter's
/// default, so an empty string is what a default deployment passes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterList(Vec<String>);

impl ClusterList {
    /// Whether no cluster was named.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The named clusters, names or ARNs as given.
    pub fn iter(&self) -> impl Iterator<Item = &String> {
        self.0.iter()
    }

    /// The named clusters as a list.
    pub fn to_vec(&self) -> Vec<String> {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests;
