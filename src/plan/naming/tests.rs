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
    let zone = testing::naming("ECS.internal");
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
    let zone = testing::naming(&format!("{}.{}.internal", "z".repeat(60), "y".repeat(60)));
    let label = "p".repeat(63);
    let err = zone
        .srv_name(&label, Transport::Tcp, &"s".repeat(63))
        .unwrap_err();
    assert!(err.to_string().contains("characters long"));
}

#[test]
fn regional_names_map_to_their_shared_names_and_back() {
    let mut identity = testing::naming("ecs.internal.").identity().clone();
    identity.scope.region = "eu-west-1".into();
    let zone = ZoneNaming::new("ecs.internal.", identity, true);
    assert_eq!(
        zone.shared_name("_web._tcp._all.web.eu-west-1.ecs.internal.")
            .as_deref(),
        Some("_web._tcp._all.web.ecs.internal.")
    );
    assert_eq!(
        zone.regional_name("web.ecs.internal.").as_deref(),
        Some("web.eu-west-1.ecs.internal.")
    );
    assert_eq!(
        zone.shared_name("web.us-east-1.ecs.internal."),
        None,
        "another region's"
    );
    assert_eq!(
        zone.shared_name("eu-west-1.ecs.internal."),
        None,
        "the region itself"
    );
    assert_eq!(
        testing::naming("ecs.internal.").shared_name("web.ecs.internal."),
        None
    );
}
