//! The value parsers of the settings: each checks one variable and says, when it refuses
//! a value, which variable it was and what it accepts.

use super::{ClusterList, RoutingPolicy};

/// A comma-separated list; blanks around and between commas are ignored, so `""`, `" "`
/// and `"a,,b"` all mean what they plainly say.
pub(super) fn parse_cluster_list(raw: &str) -> Result<ClusterList, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| parse_cluster(item).map_err(|_| format!("CLUSTERS must list cluster names or cluster ARNs separated by commas, got {raw:?} (the entry {item:?} is neither)")))
        .collect::<Result<Vec<_>, _>>()
        .map(ClusterList)
}

/// Route 53 zone ids are upper-case letters and digits, optionally behind `/hostedzone/`.
/// Empty is what the packer, which reads no zone, is given by default; the writer
/// refuses to start with it.
pub(super) fn parse_hosted_zone_id(raw: &str) -> Result<String, String> {
    if raw.is_empty() {
        return Ok(String::new());
    }
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
pub(super) fn parse_record_ttl(raw: &str) -> Result<u32, String> {
    match raw.trim().parse::<u32>() {
        Ok(ttl) if ttl <= 604_800 => Ok(ttl),
        _ => Err(format!(
            "RECORD_TTL must be whole seconds from 0 to 604800, got {raw:?}"
        )),
    }
}

pub(super) fn parse_default_weight(raw: &str) -> Result<u8, String> {
    raw.trim()
        .parse::<u8>()
        .map_err(|_| format!("DEFAULT_WEIGHT must be a whole number from 0 to 255, got {raw:?}"))
}

pub(super) fn parse_cluster(raw: &str) -> Result<String, String> {
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

pub(super) fn parse_srv_sets(raw: &str) -> Result<bool, String> {
    parse_switch("SRV_SETS", raw)
}

pub(super) fn parse_cluster_in_names(raw: &str) -> Result<bool, String> {
    parse_switch("CLUSTER_IN_NAMES", raw)
}

pub(super) fn parse_health_gate(raw: &str) -> Result<bool, String> {
    parse_switch("HEALTH_GATE", raw)
}

pub(super) fn parse_regional_names(raw: &str) -> Result<bool, String> {
    parse_switch("REGIONAL_NAMES", raw)
}

/// An IAM role ARN, or empty.
pub(super) fn parse_role_arn(raw: &str) -> Result<String, String> {
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
pub(super) fn parse_external_id(raw: &str) -> Result<String, String> {
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
pub(super) fn parse_record_domain(raw: &str) -> Result<String, String> {
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

pub(super) fn parse_switch(variable: &str, raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" | "" => Ok(false),
        _ => Err(format!("{variable} must be on or off, got {raw:?}")),
    }
}

pub(super) fn parse_write_rate(raw: &str) -> Result<f64, String> {
    match raw.trim().parse::<f64>() {
        Ok(rate) if (0.1..=100.0).contains(&rate) => Ok(rate),
        _ => Err(format!(
            "ROUTE53_WRITE_RATE must be Route 53 requests per second from 0.1 to 100, got {raw:?}"
        )),
    }
}

pub(super) fn parse_zone_cache_seconds(raw: &str) -> Result<u64, String> {
    match raw.trim().parse::<u64>() {
        Ok(seconds) if seconds <= 3_600 => Ok(seconds),
        _ => Err(format!(
            "ZONE_CACHE_SECONDS must be whole seconds from 0 to 3600, got {raw:?}"
        )),
    }
}

/// The tag sits inside SetIdentifiers, split on `:`; keep it short and plain.
pub(super) fn parse_record_owner(raw: &str) -> Result<String, String> {
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

/// An SQS queue URL (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`, or an emulator's),
/// or empty.
pub(super) fn parse_queue_url(raw: &str) -> Result<String, String> {
    let url = raw.trim();
    let name = url.rsplit('/').next().unwrap_or_default();
    let valid = url.is_empty()
        || ((url.starts_with("https://") || url.starts_with("http://"))
            && (1..=80).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'));
    if valid {
        Ok(url.to_owned())
    } else {
        Err(format!(
            "queue URLs (EVENT_QUEUE_URL, INBOX_QUEUE_URL, DEAD_LETTER_QUEUE_URL) must look like https://sqs.us-east-1.amazonaws.com/111122223333/name, or be empty, got {raw:?}"
        ))
    }
}

/// The work queue the packer sends into: a FIFO queue, whose one message group keeps one
/// writer.
pub(super) fn parse_fifo_queue_url(raw: &str) -> Result<String, String> {
    let url = parse_queue_url(raw)?;
    if url.ends_with(".fifo") {
        Ok(url)
    } else {
        Err(format!(
            "PACK_INTO_QUEUE_URL must be the URL of a FIFO queue (its name ends with .fifo), got {raw:?}"
        ))
    }
}

/// SQS takes delays and visibility timeouts of 0 to 900 seconds.
pub(super) fn parse_recheck_seconds(raw: &str) -> Result<u64, String> {
    match raw.trim().parse::<u64>() {
        Ok(seconds) if (1..=900).contains(&seconds) => Ok(seconds),
        _ => Err(format!(
            "HEALTH_RECHECK_SECONDS must be whole seconds from 1 to 900, got {raw:?}"
        )),
    }
}

/// ROUTING_POLICY: its two values, listed in `--help` and in the error for any other.
pub(super) fn routing_policy() -> impl clap::builder::TypedValueParser<Value = RoutingPolicy> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["weighted", "multivalue"]).map(|value| {
        match value.as_str() {
            "multivalue" => RoutingPolicy::Multivalue,
            _ => RoutingPolicy::Weighted,
        }
    })
}
