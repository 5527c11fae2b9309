//! Reading the ECS ARNs in an event: `arn:PARTITION:ecs:REGION:ACCOUNT:RESOURCE`.
//!
//! The task id becomes a DNS label and the cluster and account decide whether the event
//! is ours at all, so each part is checked against what ECS itself would produce.

/// An ECS ARN split into the parts the checks need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EcsArn<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

/// Splits an ECS ARN, or `None` when it is not one.
pub(crate) fn parse(arn: &str) -> Option<EcsArn<'_>> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    let partition_ok = partition.starts_with("aws")
        && partition
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-');
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (prefix == "arn" && partition_ok && service == "ecs" && region_ok && account_ok).then_some(
        EcsArn {
            region,
            account,
            resource,
        },
    )
}

/// A task resource, `task/CLUSTER/ID` or the old `task/ID`: the cluster (if named) and id.
pub(crate) fn task_resource(resource: &str) -> Option<(Option<&str>, &str)> {
    let rest = resource.strip_prefix("task/")?;
    let (cluster, id) = match rest.split_once('/') {
        Some((cluster, id)) => (Some(cluster), id),
        None => (None, rest),
    };
    let cluster_ok = cluster.is_none_or(is_ecs_name);
    (cluster_ok && is_task_id(id)).then_some((cluster, id))
}

/// A cluster resource, `cluster/NAME`: the name.
pub(crate) fn cluster_resource(resource: &str) -> Option<&str> {
    resource
        .strip_prefix("cluster/")
        .filter(|name| is_ecs_name(name))
}

/// A task definition resource, `task-definition/FAMILY:REVISION`.
pub(crate) fn task_definition_resource(resource: &str) -> Option<(&str, u32)> {
    let (family, revision) = resource.strip_prefix("task-definition/")?.split_once(':')?;
    let revision: u32 = revision.parse().ok().filter(|r| *r > 0)?;
    is_ecs_name(family).then_some((family, revision))
}

/// A container instance resource, `container-instance/CLUSTER/ID` or the old
/// `container-instance/ID`.
pub(crate) fn container_instance_resource(resource: &str) -> Option<&str> {
    let rest = resource.strip_prefix("container-instance/")?;
    let id = match rest.split_once('/') {
        Some((cluster, id)) => is_ecs_name(cluster).then_some(id)?,
        None => rest,
    };
    is_task_id(id).then_some(id)
}

/// ECS's rule for cluster, service, family and container names: 1–255 of
/// `A-Z a-z 0-9 _ -`.
pub(crate) fn is_ecs_name(name: &str) -> bool {
    (1..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A task or container instance id: 32 hex digits today, a dashed UUID for old tasks;
/// accepted as 1–64 of `a-z 0-9 -`, which keeps it a safe DNS label.
pub(crate) fn is_task_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_task_arn_in_both_formats() {
        let arn =
            parse("arn:aws:ecs:us-east-1:123456789012:task/demo/0123456789abcdef0123456789abcdef")
                .expect("a valid ARN");
        assert_eq!((arn.region, arn.account), ("us-east-1", "123456789012"));
        assert_eq!(
            task_resource(arn.resource),
            Some((Some("demo"), "0123456789abcdef0123456789abcdef"))
        );
        let old = "task/0b69d5c0-d655-4695-98cd-5d2d526d9d5a";
        assert_eq!(
            task_resource(old),
            Some((None, "0b69d5c0-d655-4695-98cd-5d2d526d9d5a"))
        );
    }

    #[test]
    fn accepts_other_partitions() {
        assert!(parse("arn:aws-cn:ecs:cn-north-1:123456789012:cluster/a").is_some());
        assert!(parse("arn:aws-us-gov:ecs:us-gov-west-1:123456789012:cluster/a").is_some());
    }

    #[test]
    fn refuses_what_is_not_an_ecs_arn() {
        for bad in [
            "",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
            "arn:aws:ecs:us-east-1:12345678901:cluster/a",
            "arn:aws:ecs:US-EAST-1:123456789012:cluster/a",
            "arn:aws:ecs::123456789012:cluster/a",
            "urn:aws:ecs:us-east-1:123456789012:cluster/a",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn task_ids_stay_dns_safe() {
        assert!(task_resource("task/demo/ABC").is_none());
        assert!(task_resource("task/demo/a.b").is_none());
        assert!(task_resource("task/demo/").is_none());
        assert!(task_resource("task/demo/a/b").is_none());
        assert!(task_resource(&format!("task/demo/{}", "a".repeat(65))).is_none());
        assert!(task_resource("service/demo/web").is_none());
    }

    #[test]
    fn reads_task_definitions_and_clusters() {
        assert_eq!(
            task_definition_resource("task-definition/web:7"),
            Some(("web", 7))
        );
        assert_eq!(task_definition_resource("task-definition/web:0"), None);
        assert_eq!(task_definition_resource("task-definition/web"), None);
        assert_eq!(task_definition_resource("task-definition/w.b:1"), None);
        assert_eq!(cluster_resource("cluster/demo"), Some("demo"));
        assert_eq!(cluster_resource("cluster/de mo"), None);
        assert_eq!(
            container_instance_resource("container-instance/demo/0123456789abcdef0123456789abcdef"),
            Some("0123456789abcdef0123456789abcdef")
        );
    }

    #[test]
    fn ecs_names_follow_the_ecs_charset() {
        assert!(is_ecs_name("_legacy-API_2"));
        assert!(is_ecs_name(&"a".repeat(255)));
        assert!(!is_ecs_name(&"a".repeat(256)));
        assert!(!is_ecs_name(""));
        for bad in ["a.b", "*", "wéb", "a b", "a/b", "a:b"] {
            assert!(!is_ecs_name(bad), "{bad}");
        }
    }
}
