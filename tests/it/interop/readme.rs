//! The README's "Using SRV from clients" section gives the HAProxy and Prometheus
//! settings users copy; the interop tests run the same text, so it cannot drift.

use std::net::SocketAddr;

use ecs_srv_demo::haproxy::client_config;
use ecs_srv_demo::prometheus::scrape_config;

/// The README's example: the VPC resolver and the whole set of `web`.
const VPC_RESOLVER: &str = "169.254.169.253:53";
const EXAMPLE_SET: &str = "_web._tcp._all.web.ecs.internal.";

#[test]
fn the_readme_client_section_is_what_the_interop_tests_run() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("reading README.md");
    let resolver: SocketAddr = VPC_RESOLVER.parse().expect("an address");
    for (client, text) in [
        ("HAProxy", client_config(resolver, EXAMPLE_SET)),
        ("Prometheus", scrape_config(EXAMPLE_SET)),
    ] {
        assert!(
            readme.contains(&text),
            "README.md must show the {client} settings the interop tests run:\n{text}"
        );
    }
}
