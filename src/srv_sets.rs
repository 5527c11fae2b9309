//! Whole SRV sets: per service and port, one simple-routing SRV record set that holds
//! every running task, for clients that want all targets at once (HAProxy
//! `server-template`, Prometheus `dns_sd`, srv-proxy) instead of Route 53's one weighted
//! pick per query.
//!
//! The set lives at `_P._tcp._all.S.Z`, a sibling of the weighted `_P._tcp.S.Z`: Route 53
//! forbids mixing routing policies on one name, and no label that [`crate::naming::dns_label`]
//! makes can contain `_`, so `_all` never collides with a service, task or port label.
//! The set is derived state: it is always rebuilt from the owned weighted SRV sets of
//! its sibling name, and written by compare-and-swap.

use std::collections::BTreeSet;

use crate::plan::ZoneSnapshot;
use crate::records::{Change, RecordSet, RecordType, Routing};

/// The label that marks a whole SRV set's name.
pub const SET_LABEL: &str = "_all";
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

/// `_P._tcp.S.Z` → `_P._tcp._all.S.Z`.
pub fn set_name(weighted_name: &str) -> Option<String> {
    let mut labels = weighted_name.splitn(3, '.');
    let (port, transport, rest) = (labels.next()?, labels.next()?, labels.next()?);
    let is_srv_owner = port.starts_with('_') && matches!(transport, "_tcp" | "_udp");
    is_srv_owner.then(|| format!("{port}.{transport}.{SET_LABEL}.{rest}"))
}

/// Whether a listed simple SRV set has the shape of one ecs-srv keeps: a name
/// `_P._tcp._all.S.Z` in the zone, and every value aimed at a task name `T.S.Z.` of the
/// same service. Anything else at such a name is somebody else's and left alone.
pub fn is_owned_set(set: &RecordSet, apex: &str) -> bool {
    if set.record_type != RecordType::Srv
        || set.routing != Routing::Simple
        || !set.name.ends_with(apex)
    {
        return false;
    }
    let labels: Vec<&str> = set.name.split('.').collect();
    if labels.len() < 5
        || labels[2] != SET_LABEL
        || !labels[0].starts_with('_')
        || !matches!(labels[1], "_tcp" | "_udp")
    {
        return false;
    }
    let service_and_zone = labels[3..].join(".");
    set.values.iter().all(|value| {
        value
            .rsplit(' ')
            .next()
            .and_then(|target| target.split_once('.'))
            .is_some_and(|(task, rest)| {
                !task.is_empty() && !task.starts_with('_') && rest == service_and_zone
            })
    })
}

/// The weighted (or multivalue) SRV names among some record sets.
pub fn weighted_names_in<'a>(sets: impl IntoIterator<Item = &'a RecordSet>) -> BTreeSet<String> {
    sets.into_iter()
        .filter(|set| set.record_type == RecordType::Srv && set.routing != Routing::Simple)
        .map(|set| set.name.clone())
        .collect()
}

/// The changes that make the whole sets of `names` match the zone's owned weighted SRV
/// sets: nothing where they match, a CREATE for a new set, a DELETE for an emptied one,
/// and DELETE-then-CREATE where the set changed.
pub fn swaps_for(
    names: &BTreeSet<String>,
    snapshot: &ZoneSnapshot,
) -> Result<Vec<Change>, SetTooLarge> {
    let mut changes = Vec::new();
    for weighted_name in names {
        let Some(name) = set_name(weighted_name) else {
            continue;
        };
        let members: Vec<&RecordSet> = snapshot
            .owned
            .values()
            .flatten()
            .filter(|set| set.record_type == RecordType::Srv && &set.name == weighted_name)
            .collect();
        let mut values: Vec<String> = members
            .iter()
            .flat_map(|set| set.values.iter().cloned())
            .collect();
        values.sort();
        values.dedup();
        if values.len() > MAX_SET_VALUES {
            return Err(SetTooLarge {
                name,
                count: values.len(),
            });
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
            });
        let held = snapshot.srv_sets.get(&name);
        match (held, wanted) {
            (Some(held), Some(wanted)) if *held == wanted => {}
            (Some(held), Some(wanted)) => {
                changes.push(Change::Delete(held.clone()));
                changes.push(Change::Create(wanted));
            }
            (Some(held), None) => changes.push(Change::Delete(held.clone())),
            (None, Some(wanted)) => changes.push(Change::Create(wanted)),
            (None, None) => {}
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn srv(name: &str, routing: Routing, values: &[&str]) -> RecordSet {
        RecordSet {
            name: name.to_owned(),
            record_type: RecordType::Srv,
            routing,
            ttl: 10,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn set_names_sit_beside_the_weighted_name() {
        assert_eq!(
            set_name("_web._tcp.web.ecs.internal.").as_deref(),
            Some("_web._tcp._all.web.ecs.internal.")
        );
        assert_eq!(set_name("web.ecs.internal."), None);
    }

    #[test]
    fn only_sets_aimed_at_the_services_tasks_are_ours() {
        let apex = "ecs.internal.";
        let ours = srv(
            "_web._tcp._all.web.ecs.internal.",
            Routing::Simple,
            &["1 1 80 abc.web.ecs.internal."],
        );
        assert!(is_owned_set(&ours, apex));
        let elsewhere = srv(
            "_web._tcp._all.web.ecs.internal.",
            Routing::Simple,
            &["1 1 80 db.example.com."],
        );
        assert!(!is_owned_set(&elsewhere, apex));
        let other_name = srv(
            "_web._tcp.web.ecs.internal.",
            Routing::Simple,
            &["1 1 80 abc.web.ecs.internal."],
        );
        assert!(!is_owned_set(&other_name, apex));
    }

    #[test]
    fn swaps_follow_the_weighted_sets() {
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
        let created = swaps_for(&names, &snapshot).unwrap();
        assert_eq!(created.len(), 1);
        let Change::Create(set) = &created[0] else {
            panic!("{created:?}")
        };
        assert_eq!(set.values.len(), 2);

        snapshot.srv_sets.insert(set.name.clone(), set.clone());
        assert!(
            swaps_for(&names, &snapshot).unwrap().is_empty(),
            "nothing when it matches"
        );

        snapshot.owned.remove("b");
        let swapped = swaps_for(&names, &snapshot).unwrap();
        assert!(
            matches!(&swapped[..], [Change::Delete(old), Change::Create(new)] if old.values.len() == 2 && new.values.len() == 1)
        );

        snapshot.owned.clear();
        assert!(matches!(
            &swaps_for(&names, &snapshot).unwrap()[..],
            [Change::Delete(_)]
        ));
    }

    #[test]
    fn sets_are_capped_at_route53s_limit() {
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
        let err = swaps_for(&names, &snapshot).unwrap_err();
        assert_eq!(err.count, MAX_SET_VALUES + 1);
        assert!(err.to_string().contains("allows 400"));
    }
}
