//! Whole SRV sets, pure: per service and port, one simple-routing SRV record set that holds
//! every running task, for clients that want all targets at once (HAProxy
//! `server-template`, Prometheus `dns_sd`, srv-proxy) instead of Route 53's one weighted
//! pick per query.
//!
//! A whole set is derived state: it is always rebuilt from the owned routed SRV sets of its
//! sibling name (see [`ZoneNaming::whole_set_name`]) in the zone as it stands after the
//! task changes, and written by compare-and-swap (the DELETE names the set as read).

use std::collections::BTreeSet;

use crate::naming::ZoneNaming;
use crate::records::{Change, RecordSet, RecordType, Routing};
use crate::zone::{routed_srv_names, ZoneSnapshot};

/// Route 53 allows at most this many values in one record set.
pub const MAX_SET_VALUES: usize = 400;
/// Compare-and-swap attempts before giving up until the next invocation or reconcile.
pub const MAX_SWAP_ATTEMPTS: u32 = 3;

/// Why a whole SRV set cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("whole SRV set {name} would hold {count} values; Route 53 allows {MAX_SET_VALUES} per record set. The weighted name keeps working; split the service to keep whole sets")]
pub struct SetTooLarge {
    /// The set's name.
    pub name: String,
    /// How many values it would hold.
    pub count: usize,
}

/// Which whole sets a write brings in line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WholeSetScope {
    /// Those of the SRV names the task changes touched (the event path).
    Touched,
    /// Every one in the zone (the reconcile repairs sets it did not touch, too).
    All,
}

/// The whole-set changes that follow `task_changes` on `before`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WholeSetPlan {
    /// Compare-and-swap changes, each set's DELETE directly before its CREATE.
    pub changes: Vec<Change>,
    /// Sets that cannot be written; every other set is in `changes`.
    pub too_large: Vec<SetTooLarge>,
}

/// Plans the whole sets that follow `task_changes`, made to the zone `before`, given the
/// zone `after` them. The writer passes the zone as it stands after the batches Route 53
/// accepted; the dry run passes `before` with every planned change folded in.
pub fn plan_whole_sets(
    naming: &ZoneNaming,
    scope: WholeSetScope,
    before: &ZoneSnapshot,
    task_changes: &[Change],
    after: &ZoneSnapshot,
) -> WholeSetPlan {
    let mut names = routed_srv_names(task_changes.iter().map(Change::record_set));
    if scope == WholeSetScope::All {
        names.extend(routed_srv_names(
            before.owned_sets().chain(after.owned_sets()),
        ));
        // A set whose every task is gone is repaired (deleted) too.
        names.extend(
            after
                .whole_sets
                .keys()
                .filter_map(|name| naming.routed_srv_name(name)),
        );
    }
    swaps_for(naming, &names, after)
}

/// The changes that make the whole sets of `names` (routed SRV names) match the owned
/// sets of `snapshot`: nothing where they match, a CREATE for a new set, a DELETE for an
/// emptied one, and DELETE-then-CREATE where the set changed.
pub fn swaps_for(
    naming: &ZoneNaming,
    names: &BTreeSet<String>,
    snapshot: &ZoneSnapshot,
) -> WholeSetPlan {
    let mut plan = WholeSetPlan::default();
    for routed_name in names {
        let Some(name) = naming.whole_set_name(routed_name) else {
            continue;
        };
        let members: Vec<&RecordSet> = snapshot
            .owned_sets()
            .filter(|set| set.record_type == RecordType::Srv && &set.name == routed_name)
            .collect();
        let mut values: Vec<String> = members
            .iter()
            .flat_map(|set| set.values.iter().cloned())
            .collect();
        values.sort();
        values.dedup();
        if values.len() > MAX_SET_VALUES {
            plan.too_large.push(SetTooLarge {
                name,
                count: values.len(),
            });
            continue;
        }
        let wanted = members
            .first()
            .filter(|_| !values.is_empty())
            .map(|first| RecordSet {
                name: name.clone(),
                record_type: RecordType::Srv,
                routing: Routing::Simple,
                ttl: first.ttl,
                values,
                alias: None,
            });
        match (snapshot.whole_sets.get(&name), wanted) {
            (Some(held), Some(wanted)) if *held == wanted => {}
            (Some(held), Some(wanted)) => {
                plan.changes.push(Change::Delete(held.clone()));
                plan.changes.push(Change::Create(wanted));
            }
            (Some(held), None) => plan.changes.push(Change::Delete(held.clone())),
            (None, Some(wanted)) => plan.changes.push(Change::Create(wanted)),
            (None, None) => {}
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    const APEX: &str = "ecs.internal.";

    fn naming() -> ZoneNaming {
        ZoneNaming::new(APEX, "ecs-srv")
    }

    fn srv(name: &str, routing: Routing, values: &[&str]) -> RecordSet {
        RecordSet {
            name: name.to_owned(),
            record_type: RecordType::Srv,
            routing,
            ttl: 10,
            values: values.iter().map(|v| v.to_string()).collect(),
            alias: None,
        }
    }

    #[test]
    fn set_names_sit_beside_the_weighted_name() {
        let naming = naming();
        assert_eq!(
            naming
                .whole_set_name("_web._tcp.web.ecs.internal.")
                .as_deref(),
            Some("_web._tcp._all.web.ecs.internal.")
        );
        assert_eq!(
            naming
                .routed_srv_name("_web._tcp._all.web.ecs.internal.")
                .as_deref(),
            Some("_web._tcp.web.ecs.internal.")
        );
        assert_eq!(naming.whole_set_name("web.ecs.internal."), None);
        assert_eq!(naming.whole_set_name("_web._tcp.web.other.zone."), None);
    }

    #[test]
    fn only_sets_aimed_at_the_services_tasks_are_ours() {
        let naming = naming();
        let values = |v: &str| vec![v.to_owned()];
        assert!(naming.is_whole_set(
            "_web._tcp._all.web.ecs.internal.",
            &values("1 1 80 abc.web.ecs.internal.")
        ));
        assert!(!naming.is_whole_set(
            "_web._tcp._all.web.ecs.internal.",
            &values("1 1 80 db.example.com.")
        ));
        assert!(!naming.is_whole_set(
            "_web._tcp.web.ecs.internal.",
            &values("1 1 80 abc.web.ecs.internal.")
        ));
    }

    #[test]
    fn swaps_follow_the_weighted_sets() {
        let naming = naming();
        let weighted = |task: &str, value: &str| {
            srv(
                "_web._tcp.web.ecs.internal.",
                Routing::Weighted {
                    set_identifier: format!("ecs-srv:{task}:srv:0"),
                    weight: 1,
                },
                &[value],
            )
        };
        let mut snapshot = ZoneSnapshot::default();
        snapshot.owned.insert(
            "a".into(),
            vec![weighted("a", "1 1 80 a.web.ecs.internal.")],
        );
        snapshot.owned.insert(
            "b".into(),
            vec![weighted("b", "1 1 81 b.web.ecs.internal.")],
        );
        let names = BTreeSet::from(["_web._tcp.web.ecs.internal.".to_owned()]);
        let created = swaps_for(&naming, &names, &snapshot).changes;
        assert_eq!(created.len(), 1);
        let Change::Create(set) = &created[0] else {
            panic!("{created:?}")
        };
        assert_eq!(set.values.len(), 2);

        snapshot.whole_sets.insert(set.name.clone(), set.clone());
        assert!(
            swaps_for(&naming, &names, &snapshot).changes.is_empty(),
            "nothing when it matches"
        );

        snapshot.owned.remove("b");
        let swapped = swaps_for(&naming, &names, &snapshot).changes;
        assert!(
            matches!(&swapped[..], [Change::Delete(old), Change::Create(new)] if old.values.len() == 2 && new.values.len() == 1)
        );

        snapshot.owned.clear();
        assert!(matches!(
            &swaps_for(&naming, &names, &snapshot).changes[..],
            [Change::Delete(_)]
        ));
        let all = plan_whole_sets(&naming, WholeSetScope::All, &snapshot, &[], &snapshot);
        assert!(
            matches!(&all.changes[..], [Change::Delete(_)]),
            "a reconcile deletes a whole set whose tasks are all gone: {all:?}"
        );
    }

    #[test]
    fn sets_are_capped_at_route53s_limit() {
        let naming = naming();
        let mut snapshot = ZoneSnapshot::default();
        for task in 0..=MAX_SET_VALUES {
            let value = format!("1 1 80 t{task}.web.ecs.internal.");
            snapshot.owned.insert(
                format!("t{task}"),
                vec![srv(
                    "_web._tcp.web.ecs.internal.",
                    Routing::Weighted {
                        set_identifier: format!("x:{task}"),
                        weight: 1,
                    },
                    &[&value],
                )],
            );
        }
        let names = BTreeSet::from(["_web._tcp.web.ecs.internal.".to_owned()]);
        let plan = swaps_for(&naming, &names, &snapshot);
        assert!(plan.changes.is_empty());
        assert_eq!(plan.too_large[0].count, MAX_SET_VALUES + 1);
        assert!(plan.too_large[0].to_string().contains("allows 400"));
    }
}
