//! The rule of one latency set per region and name, which Route 53 holds too: the ledger
//! refuses the second in words before Route 53 would refuse the whole batch.

use super::*;
use crate::plan::naming::testing::naming;
use crate::plan::records::RecordType;
use crate::plan::zone::ZoneListing;

const APEX: &str = "ecs.internal.";

/// A zone where somebody else keeps a latency alias for `region` at `web.ecs.internal.`
fn ledger_beside_a_latency_set_for(region: &str) -> NameLedger {
    let naming = naming(APEX);
    let listing = ZoneListing {
        sets: Vec::new(),
        others: vec![ForeignRecord {
            name: "web.ecs.internal.".to_owned(),
            record_type: "A".to_owned(),
            set_identifier: Some("hand-made".to_owned()),
            policy: ForeignPolicy::Latency,
            ttl: None,
            region: Some(region.to_owned()),
        }],
    };
    NameLedger::new(
        &ZoneSnapshot::from_listing(&naming, listing),
        naming.identity(),
    )
}

/// This deployment's latency alias for us-east-1 at the shared name.
fn our_alias() -> Change {
    Change::Create(RecordSet {
        name: "web.ecs.internal.".to_owned(),
        record_type: RecordType::A,
        routing: Routing::Latency {
            set_identifier: "ecs-srv:us-east-1:L:aws.us-east-1.123456789012:00000000".to_owned(),
            region: "us-east-1".to_owned(),
        },
        ttl: 10,
        values: Vec::new(),
        alias: Some("web.us-east-1.ecs.internal.".to_owned()),
    })
}

#[test]
fn a_second_latency_set_for_one_region_is_refused_with_its_holder() {
    let mut ledger = ledger_beside_a_latency_set_for("us-east-1");
    let refused = ledger.admit(None, &[our_alias()]).unwrap_err();
    assert!(
        matches!(&refused, ConflictError::RegionTaken { region, holder, .. }
            if region == "us-east-1" && holder == "hand-made"),
        "{refused:?}"
    );
    let words = refused.to_string();
    assert!(words.contains("RecordDomain"), "{words}");
    assert!(!words.contains("CLUSTER_IN_NAMES"), "{words}");
}

#[test]
fn another_regions_latency_set_leaves_room_for_ours() {
    let mut ledger = ledger_beside_a_latency_set_for("eu-west-1");
    assert_eq!(ledger.admit(None, &[our_alias()]), Ok(()));
}
