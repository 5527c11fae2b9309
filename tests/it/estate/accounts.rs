//! Two workload accounts writing into a zone of a third through its role.

use super::*;

#[tokio::test]
async fn two_workload_accounts_write_to_a_zone_in_a_third_through_its_role() {
    let (network, first, second) = (
        Identity::of_account("333333333333").await,
        Identity::of_account("111111111111").await,
        Identity::of_account("222222222222").await,
    );
    let network_clients = network.clients(REGION);
    let dns_vpc = seed_cluster(
        &network_clients,
        "dns",
        "10.235.0.0/16",
        &[Ipv4Addr::new(10, 235, 0, 10)],
    )
    .await;
    let zone_id = create_private_zone(&network_clients, &dns_vpc, "shared.internal").await;
    let (_, first_tasks) = prod_cluster(&first.clients(REGION), 236, &["web"]).await;
    let (_, second_tasks) = prod_cluster(&second.clients(REGION), 237, &["api", "web"]).await;
    let role = [(
        "HostedZoneRoleArn",
        "arn:aws:iam::333333333333:role/ecs-srv-zone",
    )];

    // Without the zone's role, a workload account cannot see the zone: nothing is written.
    let (ok, without) = StackRun::new(&zone_id, REGION, &first, &[]).reconcile();
    assert!(!ok, "{without}");
    assert!(
        without.to_string().contains("ZONE_ROLE_ARN"),
        "the error says what to set: {without}"
    );
    assert!(zone(&network_clients, &zone_id)
        .await
        .iter()
        .all(|(_, _, id)| id.is_none()));

    let stacks = [
        StackRun::new(&zone_id, REGION, &first, &role),
        StackRun::new(&zone_id, REGION, &second, &role),
    ];
    for round in 0..3 {
        for stack in &stacks {
            stack.reconcile();
        }
        let records = zone(&network_clients, &zone_id).await;
        assert!(
            holds_task(&records, &first_tasks["web"]),
            "round {round}: {records:?}"
        );
        assert!(
            holds_task(&records, &second_tasks["api"]),
            "round {round}: {records:?}"
        );
        assert!(
            !holds_task(&records, &second_tasks["web"]),
            "round {round}: web is account 111's prod: {records:?}"
        );
    }
    let (_, report) = stacks[1].reconcile();
    let refusal = report["failures"][&second_tasks["web"]]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        refusal.contains("arn:aws:ecs:us-east-1:111111111111:cluster/prod")
            && refusal.contains("arn:aws:ecs:us-east-1:222222222222:cluster/prod"),
        "{report:#}"
    );
}
