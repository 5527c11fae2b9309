//! The publisher's settings: read once at start, from flags or their environment
//! variables (the Lambda sets only the variables).
//!
//! Every value is checked here, so that a bad deployment fails at start-up with a message
//! that names the variable and what it accepts, instead of failing on the first event.

use clap::{Args, ValueEnum};

use crate::aws::ZoneRole;
use crate::plan::naming::{ClusterId, Scope};

/// Routing policy of the service-wide names (`S.Z` and `_P._tcp.S.Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoutingPolicy {
    /// One record set per answer, drawn by the task's weight: Route 53 balances.
    Weighted,
    /// Up to eight record sets per answer: the client balances.
    Multivalue,
}

/// Everything a deployment is told: every setting, with its flag and its variable.
#[derive(Args, Clone, Debug)]
pub struct Settings {
    /// The Route 53 private hosted zone that receives the records (its zone name is
    /// read from Route 53 at start).
    #[arg(long, env = "HOSTED_ZONE_ID", value_parser = parse_hosted_zone_id)]
    pub hosted_zone_id: String,

    /// TTL of every record, in seconds. Short, so that clients follow tasks quickly.
    #[arg(long, env = "RECORD_TTL", default_value = "10", value_parser = parse_record_ttl)]
    pub record_ttl: u32,

    /// Routing policy of the service names: weighted or multivalue.
    #[arg(long, env = "ROUTING_POLICY", value_enum, default_value = "weighted")]
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
    /// again (0: read on every invocation). Only safe when this function is the zone's
    /// only writer, as on the SQS path with reserved concurrency 1.
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

/// A comma-separated list; blanks around and between commas are ignored, so `""`, `" "`
/// and `"a,,b"` all mean what they plainly say.
fn parse_cluster_list(raw: &str) -> Result<ClusterList, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| parse_cluster(item).map_err(|_| format!("CLUSTERS must list cluster names or cluster ARNs separated by commas, got {raw:?} (the entry {item:?} is neither)")))
        .collect::<Result<Vec<_>, _>>()
        .map(ClusterList)
}

/// Route 53 zone ids are upper-case letters and digits, optionally behind `/hostedzone/`.
fn parse_hosted_zone_id(raw: &str) -> Result<String, String> {
    let id = raw.trim().trim_start_matches("/hostedzone/");
    let valid = !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if valid {
        Ok(id.to_owned())
    } else {
        Err(format!(
            "HOSTED_ZONE_ID must be a Route 53 zone id such as Z0123456789ABCDEFGHIJ, got {raw:?}"
        ))
    }
}

/// Route 53 accepts 0 to 2147483647; a week is already far longer than any sane TTL
/// for records that follow tasks.
fn parse_record_ttl(raw: &str) -> Result<u32, String> {
    match raw.trim().parse::<u32>() {
        Ok(ttl) if ttl <= 604_800 => Ok(ttl),
        _ => Err(format!(
            "RECORD_TTL must be whole seconds from 0 to 604800, got {raw:?}"
        )),
    }
}

fn parse_default_weight(raw: &str) -> Result<u8, String> {
    raw.trim()
        .parse::<u8>()
        .map_err(|_| format!("DEFAULT_WEIGHT must be a whole number from 0 to 255, got {raw:?}"))
}

fn parse_cluster(raw: &str) -> Result<String, String> {
    let cluster = raw.trim();
    let valid_name = |name: &str| {
        !name.is_empty()
            && name.len() <= 255
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let ok = match cluster.strip_prefix("arn:") {
        Some(_) => {
            cluster.contains(":cluster/") && valid_name(cluster.rsplit('/').next().unwrap_or(""))
        }
        None => valid_name(cluster),
    };
    if ok {
        Ok(cluster.to_owned())
    } else {
        Err(format!(
            "CLUSTERS must list cluster names or cluster ARNs separated by commas, got {raw:?}"
        ))
    }
}

fn parse_srv_sets(raw: &str) -> Result<bool, String> {
    parse_switch("SRV_SETS", raw)
}

fn parse_cluster_in_names(raw: &str) -> Result<bool, String> {
    parse_switch("CLUSTER_IN_NAMES", raw)
}

fn parse_health_gate(raw: &str) -> Result<bool, String> {
    parse_switch("HEALTH_GATE", raw)
}

fn parse_regional_names(raw: &str) -> Result<bool, String> {
    parse_switch("REGIONAL_NAMES", raw)
}

/// An IAM role ARN, or empty.
fn parse_role_arn(raw: &str) -> Result<String, String> {
    let arn = raw.trim();
    let mut parts = arn.splitn(6, ':');
    let fields: Vec<&str> = parts.by_ref().collect();
    let valid = arn.is_empty()
        || matches!(fields[..], ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.starts_with("role/")
                && resource.len() > 5);
    if valid {
        Ok(arn.to_owned())
    } else {
        Err(format!(
            "ZONE_ROLE_ARN must be an IAM role ARN such as arn:aws:iam::111122223333:role/ecs-srv-zone, or empty, got {raw:?}"
        ))
    }
}

/// STS takes external ids of 2 to 1,224 characters of `[\w+=,.@:/-]`.
fn parse_external_id(raw: &str) -> Result<String, String> {
    let id = raw.trim();
    let valid = id.is_empty()
        || ((2..=1224).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b)));
    if valid {
        Ok(id.to_owned())
    } else {
        Err(format!(
            "ZONE_ROLE_EXTERNAL_ID must be 2 to 1224 characters of letters, digits and _+=,.@:/-, or empty, got {raw:?}"
        ))
    }
}

/// A domain name of DNS labels, lower case, with its trailing dot; or empty.
fn parse_record_domain(raw: &str) -> Result<String, String> {
    let domain = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() {
        return Ok(String::new());
    }
    let valid = domain.len() <= 200
        && domain.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if valid {
        Ok(format!("{domain}."))
    } else {
        Err(format!(
            "RECORD_DOMAIN must be a domain name within the zone, such as ecs.example.internal, or empty, got {raw:?}"
        ))
    }
}

fn parse_switch(variable: &str, raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" | "" => Ok(false),
        _ => Err(format!("{variable} must be on or off, got {raw:?}")),
    }
}

fn parse_write_rate(raw: &str) -> Result<f64, String> {
    match raw.trim().parse::<f64>() {
        Ok(rate) if (0.1..=100.0).contains(&rate) => Ok(rate),
        _ => Err(format!(
            "ROUTE53_WRITE_RATE must be change requests per second from 0.1 to 100, got {raw:?}"
        )),
    }
}

fn parse_zone_cache_seconds(raw: &str) -> Result<u64, String> {
    match raw.trim().parse::<u64>() {
        Ok(seconds) if seconds <= 3_600 => Ok(seconds),
        _ => Err(format!(
            "ZONE_CACHE_SECONDS must be whole seconds from 0 to 3600, got {raw:?}"
        )),
    }
}

/// The tag sits inside SetIdentifiers, split on `:`; keep it short and plain.
fn parse_record_owner(raw: &str) -> Result<String, String> {
    let owner = raw.trim();
    let valid = !owner.is_empty()
        && owner.len() <= 32
        && owner
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(owner.to_owned())
    } else {
        Err(format!(
            "RECORD_OWNER must be 1 to 32 characters of a-z, 0-9 and -, got {raw:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Harness {
        #[command(flatten)]
        config: Settings,
    }

    fn parse(args: &[&str]) -> Result<Settings, String> {
        let mut argv = vec!["ecs-srv"];
        argv.extend_from_slice(args);
        Harness::try_parse_from(argv)
            .map(|h| h.config)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_short_weighted_and_keep_whole_sets() {
        let config = parse(&["--hosted-zone-id", "/hostedzone/Z123ABC"]).unwrap();
        assert_eq!(config.hosted_zone_id, "Z123ABC");
        assert_eq!(config.record_ttl, 10);
        assert_eq!(config.routing_policy, RoutingPolicy::Weighted);
        assert!(config.clusters.is_empty());
        assert_eq!(config.default_weight, 1);
        assert_eq!(config.record_owner, "ecs-srv");
        assert!(config.srv_sets, "whole SRV sets are on by default");
        let off = parse(&["--hosted-zone-id", "Z1", "--srv-sets", "off"]).unwrap();
        assert!(!off.srv_sets, "and a value turns them off");
        assert!(config.health_gate);
        assert_eq!(config.route53_write_rate, 5.0);
        let switched = parse(&[
            "--hosted-zone-id",
            "Z1",
            "--health-gate",
            "off",
            "--srv-sets",
            "on",
        ])
        .unwrap();
        assert!(!switched.health_gate && switched.srv_sets);
    }

    #[test]
    fn bad_values_name_the_variable_and_what_it_accepts() {
        for (args, fragment) in [
            (
                vec!["--hosted-zone-id", "zone one"],
                "HOSTED_ZONE_ID must be",
            ),
            (
                vec!["--hosted-zone-id", "Z1", "--record-ttl=-1"],
                "RECORD_TTL must be whole seconds",
            ),
            (
                vec!["--hosted-zone-id", "Z1", "--default-weight", "256"],
                "DEFAULT_WEIGHT must be a whole number from 0 to 255",
            ),
            (
                vec!["--hosted-zone-id", "Z1", "--routing-policy", "latency"],
                "[possible values: weighted, multivalue]",
            ),
            (
                vec!["--hosted-zone-id", "Z1", "--clusters", "a b"],
                "CLUSTERS must list",
            ),
            (
                vec!["--hosted-zone-id", "Z1", "--health-gate", "maybe"],
                "HEALTH_GATE must be on or off",
            ),
            (
                vec!["--hosted-zone-id", "Z1", "--record-owner", "Blue:1"],
                "RECORD_OWNER must be",
            ),
        ] {
            let err = parse(&args).unwrap_err();
            assert!(err.contains(fragment), "{args:?}: {err}");
        }
        assert!(parse(&[]).unwrap_err().contains("--hosted-zone-id"));
    }

    #[test]
    fn named_clusters_are_arns_where_the_deployment_runs() {
        let scope = Scope {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
        };
        let config = parse(&[
            "--hosted-zone-id",
            "Z1",
            "--clusters",
            "demo,arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        ])
        .unwrap();
        let arns: Vec<String> = config
            .cluster_ids(&scope)
            .unwrap()
            .iter()
            .map(ClusterId::arn)
            .collect();
        assert_eq!(
            arns,
            [
                "arn:aws:ecs:us-east-1:123456789012:cluster/demo",
                "arn:aws:ecs:us-east-1:123456789012:cluster/prod"
            ]
        );
        let elsewhere = parse(&[
            "--hosted-zone-id",
            "Z1",
            "--clusters",
            "arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
        ])
        .unwrap();
        let err = elsewhere.cluster_ids(&scope).unwrap_err();
        assert!(
            err.contains("eu-west-1") && err.contains("us-east-1"),
            "{err}"
        );
    }

    #[test]
    fn zone_role_and_regional_names_are_read_and_checked() {
        let config = parse(&[
            "--hosted-zone-id",
            "Z1",
            "--zone-role-arn",
            "arn:aws:iam::111122223333:role/ecs-srv-zone",
            "--zone-role-external-id",
            "shared-secret",
            "--regional-names",
            "on",
            "--record-domain",
            "ECS.Example.Internal",
        ])
        .unwrap();
        let role = config.zone_role().expect("a role");
        assert_eq!(role.arn, "arn:aws:iam::111122223333:role/ecs-srv-zone");
        assert_eq!(role.external_id.as_deref(), Some("shared-secret"));
        assert!(config.regional_names);
        assert_eq!(config.record_domain, "ecs.example.internal.");
        let defaults = parse(&["--hosted-zone-id", "Z1"]).unwrap();
        assert!(defaults.zone_role().is_none() && !defaults.regional_names);
        for (args, fragment) in [
            (vec!["--zone-role-arn", "role/x"], "ZONE_ROLE_ARN must be"),
            (
                vec!["--zone-role-external-id", "a b"],
                "ZONE_ROLE_EXTERNAL_ID must be",
            ),
            (
                vec!["--regional-names", "sometimes"],
                "REGIONAL_NAMES must be on or off",
            ),
            (
                vec!["--record-domain", "bad_label.x"],
                "RECORD_DOMAIN must be",
            ),
        ] {
            let mut argv = vec!["--hosted-zone-id", "Z1"];
            argv.extend(args.iter().copied());
            let err = parse(&argv).unwrap_err();
            assert!(err.contains(fragment), "{argv:?}: {err}");
        }
    }
}
