//! `docs/clients.md` gives the HAProxy and Prometheus settings users copy; the interop tests
//! run the same text, so it cannot drift.

use std::net::SocketAddr;

use ecs_srv_demo::haproxy::client_config;
use ecs_srv_demo::prometheus::scrape_config;

/// The page's example: the VPC resolver and the whole set of `web`.
const VPC_RESOLVER: &str = "169.254.169.253:53";
const EXAMPLE_SET: &str = "_web._tcp._all.web.ecs.internal.";

#[test]
fn the_clients_page_shows_what_the_interop_tests_run() {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/clients.md"))
        .expect("reading docs/clients.md");
    let resolver: SocketAddr = VPC_RESOLVER.parse().expect("an address");
    for (client, text) in [
        ("HAProxy", client_config(resolver, EXAMPLE_SET)),
        ("Prometheus", scrape_config(EXAMPLE_SET)),
    ] {
        assert!(
            page.contains(&text),
            "docs/clients.md must show the {client} settings the interop tests run:\n{text}"
        );
    }
}
