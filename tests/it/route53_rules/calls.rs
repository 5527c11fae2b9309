//! The calls around the rules: listings page the way Route 53 pages and carry every kind
//! of set, faults are retried by the real SDK client until its retry budget runs out, and
//! ecs-srv's own layout promises are reported beside Route 53's rules, never as them.

use aws_sdk_route53::types::{ResourceRecordSet, RrType};

use super::{
    accepted, alias, alias_here, built, create, delete, send, set, simple, weighted, zone, APEX,
    ZONE_ID,
};
use crate::support::strict_zone::{
    route53_client, Fault, FaultPlan, NO_ALIAS_WITHOUT_TARGET, ONE_VALUE_PER_WEIGHTED_SET,
    SDK_MAX_ATTEMPTS,
};

#[tokio::test]
async fn listings_page_in_route53_order_with_all_three_next_fields() {
    let model = zone();
    model.lock().unwrap().page_size = 2;
    let naming = crate::support::naming(APEX);
    let mut sets: Vec<ResourceRecordSet> = (0..5)
        .map(|i| weighted("web", &format!("w{i}"), 1, "10.0.0.1"))
        .collect();
    sets.push(set("a.web", RrType::A, None, None, 60, &["10.0.0.2"]));
    sets.push(set("zz", RrType::A, None, None, 60, &["10.0.0.3"]));
    sets.push(set(
        "web",
        RrType::Srv,
        None,
        None,
        60,
        &["1 1 80 a.web.model.internal."],
    ));
    // Sets of others that the crate must read past: an ALB alias and a CNAME.
    sets.push(built(alias(
        "zzz-alb",
        RrType::A,
        "Z35SXDOTRQ7X7K",
        "dualstack.internal-web-1.us-east-1.elb.amazonaws.com.",
    )));
    sets.push(simple("zzz-legacy", RrType::Cname, &["old.example.com"]));
    model.lock().unwrap().seed(sets.clone());
    let client = route53_client(model.clone());
    let pacer = ecs_srv::aws::route53::pacing::WritePacer::per_second(100.0);
    let listing = ecs_srv::aws::route53::read_zone(&client, ZONE_ID, &pacer)
        .await
        .expect("the crate's reader follows the pages");
    let snapshot = ecs_srv::plan::zone::ZoneSnapshot::from_listing(&naming, listing);
    assert_eq!(
        snapshot.foreign.len(),
        sets.len(),
        "every set once: {:?}",
        snapshot.foreign
    );
    let names: Vec<(String, String)> = snapshot
        .foreign
        .iter()
        .map(|f| (f.name.clone(), f.set_identifier.clone().unwrap_or_default()))
        .collect();
    // The crate's reader keeps the sets it does not read as A or SRV (the alias, the CNAME)
    // apart, ahead of the rest; each part keeps the listing's order.
    let expected: Vec<(String, String)> = [
        ("zzz-alb", ""),
        ("zzz-legacy", ""),
        ("web", "w0"),
        ("web", "w1"),
        ("web", "w2"),
        ("web", "w3"),
        ("web", "w4"),
        ("web", ""),
        ("a.web", ""),
        ("zz", ""),
    ]
    .iter()
    .map(|(n, id)| (format!("{n}.{APEX}"), id.to_string()))
    .collect();
    assert_eq!(
        names, expected,
        "labels reversed, then type, then SetIdentifier"
    );
    let pages = model
        .lock()
        .unwrap()
        .calls_to("ListResourceRecordSets")
        .count();
    assert_eq!(pages, 5, "10 sets in pages of 2");
}

#[tokio::test]
async fn injected_faults_are_retried_by_the_sdk_and_the_change_lands_once() {
    for fault in [Fault::Throttling, Fault::PriorRequestNotComplete] {
        let model = zone();
        model
            .lock()
            .unwrap()
            .inject(FaultPlan::every(2, fault, &["ChangeResourceRecordSets"]));
        for i in 0..4 {
            send(
                &model,
                vec![create(weighted("web", &format!("t{i}"), 1, "10.0.0.1"))],
            )
            .await
            .expect("retried until it lands");
        }
        let zone = model.lock().unwrap();
        assert_eq!(zone.record_sets().len(), 4);
        let faulted = zone.faults_met(fault);
        assert_eq!(
            zone.accepted_batches().len(),
            4,
            "each batch applied exactly once"
        );
        assert_eq!(
            faulted, 3,
            "every second call failed with {fault:?}: calls 2, 4 and 6 of 7"
        );
    }
}

/// A fault that lasts longer than the SDK's retry budget ([`SDK_MAX_ATTEMPTS`] attempts, as
/// production configures it) reaches the caller as the fault itself, with nothing applied,
/// call after call; once the test clears it, the same batch lands. A fault for the next few
/// calls only is ridden out by the SDK's retries.
#[tokio::test]
async fn a_fault_past_the_retry_budget_reaches_the_caller_until_it_clears() {
    for fault in [Fault::Throttling, Fault::PriorRequestNotComplete] {
        let model = zone();
        model.lock().unwrap().inject(FaultPlan::past_retry_budget(
            fault,
            &["ChangeResourceRecordSets"],
        ));
        let batch = || vec![create(weighted("web", "a", 1, "10.0.0.1"))];
        for _ in 0..2 {
            let (code, _) = send(&model, batch()).await.expect_err("the SDK gives up");
            assert_eq!(code, fault.code());
        }
        {
            let zone = model.lock().unwrap();
            assert!(zone.record_sets().is_empty(), "nothing applied");
            let faulted = zone.faults_met(fault);
            assert_eq!(
                faulted,
                2 * SDK_MAX_ATTEMPTS as usize,
                "every attempt of both calls met the fault"
            );
        }
        model.lock().unwrap().clear_faults();
        accepted(&model, batch(), "the fault has cleared").await;
        let within_budget = SDK_MAX_ATTEMPTS as usize - 1;
        model
            .lock()
            .unwrap()
            .inject(FaultPlan::next(within_budget, fault, &[]));
        accepted(
            &model,
            vec![create(weighted("web", "b", 1, "10.0.0.2"))],
            "the SDK's last attempt gets through",
        )
        .await;
        assert_eq!(model.lock().unwrap().record_sets().len(), 2);
    }
}

/// Route 53 takes several values in a weighted set: [WEIGHTED] "Value/Route traffic to":
/// "For all types except CNAME, you can enter more than one value", and [RECORD] "You can
/// specify more than one value for all record types except CNAME and SOA". ecs-srv writes
/// one a set all the same, and the model reports a batch that does not as a breach of
/// ecs-srv's own choice, not as a refusal.
#[tokio::test]
async fn several_values_in_a_weighted_set_are_route53s_to_take_and_ecs_srvs_to_refuse() {
    let model = zone();
    accepted(
        &model,
        vec![create(set(
            "web",
            RrType::A,
            Some("a"),
            Some(1),
            10,
            &["10.0.0.1", "10.0.0.2"],
        ))],
        "Route 53 takes a weighted set of two values",
    )
    .await;
    let zone = model.lock().unwrap();
    assert!(zone.rejections().is_empty());
    let breaches = zone.own_choice_breaches();
    assert_eq!(breaches.len(), 1, "{breaches:?}");
    assert_eq!(breaches[0].choice, ONE_VALUE_PER_WEIGHTED_SET);
    assert!(
        zone.problems()[0].starts_with("ecs-srv's own choice"),
        "{:?}",
        zone.problems()
    );
}

/// No page says whether a batch may delete what an alias aims at; Route 53 would answer
/// the alias empty. ecs-srv never leaves one so, and the model reports it as that promise.
#[tokio::test]
async fn an_alias_left_without_its_target_is_ecs_srvs_promise_not_a_refusal() {
    let model = zone();
    accepted(
        &model,
        vec![
            create(weighted("_b0.web", "t0", 1, "10.0.0.1")),
            create(built(
                alias_here("web", RrType::A, "_b0.web")
                    .set_identifier("b0")
                    .weight(1),
            )),
        ],
        "a branch and its alias",
    )
    .await;
    assert!(model.lock().unwrap().own_choice_breaches().is_empty());
    accepted(
        &model,
        vec![delete(weighted("_b0.web", "t0", 1, "10.0.0.1"))],
        "Route 53 takes the delete",
    )
    .await;
    let zone = model.lock().unwrap();
    let breaches = zone.own_choice_breaches();
    assert_eq!(breaches.len(), 1, "{breaches:?}");
    assert_eq!(breaches[0].choice, NO_ALIAS_WITHOUT_TARGET);
    assert!(
        breaches[0].detail.contains(&format!("_b0.web.{APEX}")),
        "{breaches:?}"
    );
    drop(zone);
}
