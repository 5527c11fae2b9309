//! The ECS and EC2 look-ups through the real SDK clients, against moto: container
//! instance ARN → EC2 instance → private IP, batched, and cached in a warm process.

use std::net::Ipv4Addr;

use crate::support::{moto_clients, seed_cluster, seed_one_host_cluster};
use ecs_srv::aws::ecs::Lookups;

#[tokio::test]
async fn container_instances_resolve_to_private_ips_and_stay_cached() {
    let clients = moto_clients();
    let addresses = [Ipv4Addr::new(10, 20, 0, 10), Ipv4Addr::new(10, 20, 0, 11)];
    let world = seed_cluster(&clients, "lookups", "10.20.0.0/16", &addresses).await;
    let arns: Vec<String> = world
        .hosts
        .iter()
        .map(|h| h.container_instance_arn.clone())
        .collect();
    let lookups = Lookups::default();

    let first = lookups
        .instance_addresses(&clients.ecs, &clients.ec2, &world.cluster_arn, &arns)
        .await;
    for host in &world.hosts {
        assert_eq!(
            first[&host.container_instance_arn].as_ref().map(|h| h.ipv4),
            Ok(host.private_ip),
            "{host:?}"
        );
    }
    // Both hosts in one call of each kind: the look-up is batched.
    assert_eq!(clients.calls.count("ECS.DescribeContainerInstances"), 1);
    assert_eq!(clients.calls.count("EC2.DescribeInstances"), 1);

    let calls_before = clients.calls.snapshot();
    let second = lookups
        .instance_addresses(&clients.ecs, &clients.ec2, &world.cluster_arn, &arns[..1])
        .await;
    assert_eq!(second[&arns[0]].as_ref().map(|h| h.ipv4), Ok(addresses[0]));
    assert_eq!(
        clients.calls.snapshot(),
        calls_before,
        "a cached instance costs no API call"
    );
}

#[tokio::test]
async fn an_unknown_container_instance_is_an_error_of_its_own() {
    let clients = moto_clients();
    let world = seed_one_host_cluster(&clients, "lookups-missing", 21, 5).await;
    let known = world.hosts[0].container_instance_arn.clone();
    let unknown = format!(
        "{}/0123456789abcdef0123456789abcdef",
        world
            .cluster_arn
            .replace(":cluster/", ":container-instance/")
    );
    let lookups = Lookups::default();
    let result = lookups
        .instance_addresses(
            &clients.ecs,
            &clients.ec2,
            &world.cluster_arn,
            &[known.clone(), unknown.clone()],
        )
        .await;
    assert_eq!(
        result[&known].as_ref().map(|h| h.ipv4),
        Ok(Ipv4Addr::new(10, 21, 0, 5))
    );
    let err = result[&unknown]
        .as_ref()
        .expect_err("unknown instance must fail")
        .to_string();
    assert!(
        err.contains(&unknown),
        "the error names the container instance: {err}"
    );
}
