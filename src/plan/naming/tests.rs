//! The naming rules: labels, names, SetIdentifiers and whole-set names.

use super::*;

#[test]
fn labels_are_single_valid_dns_labels() {
    for raw in [
        "web",
        "My_Service",
        "a.b.c",
        "*",
        "_tcp",
        "ünïcødé-名前",
        "--x--",
        &"long".repeat(80),
        "",
        "...",
    ] {
        let label = dns_label(raw);
        assert!(
            !label.is_empty() && label.len() <= MAX_LABEL_LEN,
            "{raw:?} -> {label:?}"
        );
        assert!(
            label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{label}"
        );
        assert!(!label.starts_with('-') && !label.ends_with('-'), "{label}");
    }
    assert_eq!(dns_label("My_Service"), "my-service");
    assert_eq!(dns_label("a.b.c"), "a-b-c");
    assert_eq!(dns_label("web"), "web");
}

#[test]
fn long_labels_that_share_a_prefix_stay_apart() {
    let a = dns_label(&format!("{}a", "x".repeat(300)));
    let b = dns_label(&format!("{}b", "x".repeat(300)));
    assert_ne!(a, b);
    assert_eq!(a.len(), MAX_LABEL_LEN);
    assert_eq!(srv_port_label(&"p".repeat(90)).len(), MAX_LABEL_LEN - 1);
}

#[test]
fn names_follow_the_layout() {
    let zone = ZoneNaming::new("ECS.internal", "ecs-srv");
    assert_eq!(zone.service_name("web").unwrap(), "web.ecs.internal.");
    assert_eq!(
        zone.task_name("abc", "web").unwrap(),
        "abc.web.ecs.internal."
    );
    assert_eq!(
        zone.srv_name("web", Transport::Tcp, "web").unwrap(),
        "_web._tcp.web.ecs.internal."
    );
    assert_eq!(
        zone.srv_name("dns", Transport::Udp, "shop").unwrap(),
        "_dns._udp.shop.ecs.internal."
    );
}

#[test]
fn overlong_names_are_refused() {
    let zone = ZoneNaming::new(
        &format!("{}.{}.internal", "z".repeat(60), "y".repeat(60)),
        "ecs-srv",
    );
    let label = "p".repeat(63);
    let err = zone
        .srv_name(&label, Transport::Tcp, &"s".repeat(63))
        .unwrap_err();
    assert!(err.to_string().contains("characters long"));
}

#[test]
fn set_identifiers_round_trip_and_reject_look_alikes() {
    let zone = ZoneNaming::new("ecs.internal.", "ecs-srv");
    let name = "_web._tcp.web.ecs.internal.";
    let id = zone.set_identifier("0123abcd", RecordRole::ServicePort, "prod", name);
    assert!(id.len() <= MAX_SET_IDENTIFIER_LEN);
    assert_eq!(
        zone.owned_task_id(name, RecordType::Srv, &id),
        Some("0123abcd")
    );
    // Same identifier on another name, type, owner or zone: not ours.
    assert_eq!(
        zone.owned_task_id("web.ecs.internal.", RecordType::Srv, &id),
        None
    );
    assert_eq!(zone.owned_task_id(name, RecordType::A, &id), None);
    let other_owner = ZoneNaming::new("ecs.internal.", "blue");
    assert_eq!(other_owner.owned_task_id(name, RecordType::Srv, &id), None);
    assert_eq!(
        zone.owned_task_id("_web._tcp.web.other.", RecordType::Srv, &id),
        None
    );
    assert_eq!(zone.owned_task_id(name, RecordType::Srv, "manual-1"), None);
    assert_eq!(
        zone.owned_task_id(name, RecordType::Srv, &format!("{id}:x")),
        None
    );
}

#[test]
fn set_identifier_kinds_are_readable() {
    let zone = ZoneNaming::new("ecs.internal.", "ecs-srv");
    let service = zone.set_identifier(
        "t1",
        RecordRole::ServiceAddress,
        "prod",
        "web.ecs.internal.",
    );
    let task = zone.set_identifier(
        "t1",
        RecordRole::TaskAddress,
        "prod",
        "t1.web.ecs.internal.",
    );
    assert!(service.starts_with("ecs-srv:t1:svc:"), "{service}");
    assert!(task.starts_with("ecs-srv:t1:task:"), "{task}");
    assert_eq!(
        zone.owned_task_id("t1.web.ecs.internal.", RecordType::A, &task),
        Some("t1")
    );
}
