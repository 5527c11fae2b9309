//! Two regions on one zone: apart by default, one name for both with RegionalNames.

use super::*;

#[tokio::test]
async fn two_regions_on_one_zone_never_withdraw_each_others_tasks() {
    // An account of its own: every test here names its clusters `prod`.
    let here = Identity::of_account("444444444444").await;
    let (us_clients, eu_clients) = (here.clients(REGION), here.clients(EU));
    let (us, us_tasks) = prod_cluster(&us_clients, 231, &["web"]).await;
    let (eu, eu_tasks) = prod_cluster(&eu_clients, 232, &["web"]).await;
    let zone_id = create_private_zone(&us_clients, &us, "regions.internal").await;
    let stacks = [
        StackRun::new(&zone_id, REGION, &here, &[]),
        StackRun::new(&zone_id, EU, &here, &[]),
    ];
    // Each region's events reach its own stack.
    let (ok, replayed) = stacks[0].replay(&running_events(&us_clients, &us, &us_tasks).await);
    assert!(ok, "{replayed:#}");
    let (ok, refused) = stacks[1].replay(&running_events(&eu_clients, &eu, &eu_tasks).await);
    assert!(
        !ok,
        "eu-west-1's task cannot join us-east-1's under one name: {refused:#}"
    );
    for round in 0..3 {
        for stack in &stacks {
            stack.reconcile();
        }
        let records = zone(&us_clients, &zone_id).await;
        assert!(
            holds_task(&records, &us_tasks["web"]),
            "round {round}: us-east-1's task stays published: {records:?}"
        );
        assert!(
            !holds_task(&records, &eu_tasks["web"]),
            "round {round}: one name, one cluster: {records:?}"
        );
    }
    let (_, eu_report) = stacks[1].reconcile();
    let refusal = eu_report["failures"][&eu_tasks["web"]]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for part in [
        "arn:aws:ecs:us-east-1:444444444444:cluster/prod",
        "arn:aws:ecs:eu-west-1:444444444444:cluster/prod",
        "REGIONAL_NAMES=on",
    ] {
        assert!(
            refusal.contains(part),
            "the refusal names {part}: {eu_report:#}"
        );
    }
}

#[tokio::test]
async fn with_regional_names_each_region_is_answered_its_own_tasks_by_one_name() {
    let here = Identity::of_account("555555555555").await;
    let (us_clients, eu_clients) = (here.clients(REGION), here.clients(EU));
    let (us, us_tasks) = prod_cluster(&us_clients, 233, &["web"]).await;
    let (eu, eu_tasks) = prod_cluster(&eu_clients, 234, &["web"]).await;
    let zone_id = create_private_zone(&us_clients, &us, "latency.internal").await;
    let regional = [("RegionalNames", "on")];
    let stacks = [
        StackRun::new(&zone_id, REGION, &here, &regional),
        StackRun::new(&zone_id, EU, &here, &regional),
    ];
    for _ in 0..2 {
        for stack in &stacks {
            let (ok, report) = stack.reconcile();
            assert!(ok, "{report:#}");
        }
    }
    let records = zone(&us_clients, &zone_id).await;
    for (region, task) in [(REGION, &us_tasks["web"]), (EU, &eu_tasks["web"])] {
        assert!(
            records
                .iter()
                .any(|(n, _, _)| *n == format!("{task}.web.{region}.latency.internal.")),
            "{records:?}"
        );
    }
    let latency: Vec<&(String, String, Option<String>)> = records
        .iter()
        .filter(|(n, _, id)| n == "web.latency.internal." && id.is_some())
        .collect();
    assert_eq!(
        latency.len(),
        2,
        "one latency alias per region at the shared name: {records:?}"
    );

    let us_ip = eni_address(&us_clients, &us, &us_tasks["web"]).await;
    let eu_ip = eni_address(&eu_clients, &eu, &eu_tasks["web"]).await;
    assert_eq!(
        answered_at(&us_clients, &zone_id, REGION).await,
        vec![us_ip],
        "us-east-1's VPCs get us-east-1's task"
    );
    assert_eq!(
        answered_at(&us_clients, &zone_id, EU).await,
        vec![eu_ip],
        "eu-west-1's VPCs get eu-west-1's task"
    );

    eu_clients
        .ecs
        .stop_task()
        .cluster("prod")
        .task(&eu_tasks["web"])
        .send()
        .await
        .expect("StopTask");
    stacks[1].reconcile();
    assert_eq!(
        answered_at(&us_clients, &zone_id, EU).await,
        vec![us_ip],
        "a region with no task left is answered by the other"
    );
}

/// What a VPC of `region` is answered for `web.latency.internal.` A by the DNS front.
async fn answered_at(zone_reader: &AwsClients, zone_id: &str, region: &str) -> Vec<Ipv4Addr> {
    let config = dns_front::FrontConfig {
        asking_region: Some(region.to_owned()),
        ..dns_front::FrontConfig::default()
    };
    let source = dns_front::Route53Zone::new(zone_reader.route53.clone(), zone_id);
    let front = dns_front::start(config, source)
        .await
        .expect("the DNS front starts");
    let client = ecs_srv_demo::dns::DnsClient::new(front.addr()).expect("a DNS client");
    let answer = client.a("web.latency.internal.").await.expect("an answer");
    front.shutdown().await;
    answer
}

/// The ENI address moto gave a Fargate task.
async fn eni_address(clients: &AwsClients, world: &World, task: &str) -> Ipv4Addr {
    let described = clients
        .ecs
        .describe_tasks()
        .cluster(&world.cluster_name)
        .tasks(task)
        .send()
        .await
        .expect("DescribeTasks");
    let details = described.tasks()[0].attachments()[0].details();
    let ip = details
        .iter()
        .find(|d| d.name() == Some("privateIPv4Address"))
        .and_then(|d| d.value())
        .expect("an ENI address");
    ip.parse().expect("an IPv4 address")
}
