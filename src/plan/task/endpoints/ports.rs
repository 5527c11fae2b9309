//! A container's published ports and their labels, per network mode: host ports from the
//! bindings in bridge mode, container ports in host and awsvpc mode.

use super::*;

/// A port as clients reach it.
pub(super) struct PublishedPort {
    pub(super) container_port: u16,
    pub(super) published_port: u16,
    pub(super) transport: Transport,
}

/// The container's ports in this network mode, in declaration order, without repeats
/// (ECS lists one binding per address family for the same port).
pub(super) fn container_ports(
    detail: &TaskStateChange,
    mode: NetworkMode,
    container: &ContainerDefinitionFacts,
    warnings: &mut Vec<String>,
) -> Result<Vec<PublishedPort>, ResolveError> {
    let mut missing_bindings: Vec<u16> = Vec::new();
    let mut ports: Vec<PublishedPort> = Vec::new();
    let mut push = |port: PublishedPort| {
        let seen = ports
            .iter()
            .any(|p| p.container_port == port.container_port && p.transport == port.transport);
        if !seen {
            ports.push(port);
        }
    };
    let bindings: &[NetworkBinding] = detail
        .containers
        .iter()
        .find(|c| c.name == container.name)
        .map(|c| c.network_bindings.as_slice())
        .unwrap_or_default();
    let use_bindings =
        matches!(mode, NetworkMode::Bridge | NetworkMode::Host) && !bindings.is_empty();
    if use_bindings {
        for binding in bindings {
            match (binding.container_port, binding.host_port) {
                _ if binding.host_port_range.is_some()
                    || binding.container_port_range.is_some() =>
                {
                    warnings.push(format!(
                        "container {}: a port range binding is not published (SRV names one port)",
                        container.name
                    ))
                }
                (Some(container_port), Some(host_port)) if host_port != 0 => push(PublishedPort {
                    container_port,
                    published_port: host_port,
                    transport: transport_of(binding.protocol),
                }),
                _ => warnings.push(format!(
                    "container {}: a network binding without a host port is skipped",
                    container.name
                )),
            }
        }
        return Ok(ports);
    }
    for mapping in &container.port_mappings {
        let Some(container_port) = mapping
            .container_port
            .filter(|_| mapping.container_port_range.is_none())
        else {
            warnings.push(format!(
                "container {}: a port range mapping is not published (SRV names one port)",
                container.name
            ));
            continue;
        };
        match mode {
            NetworkMode::Awsvpc | NetworkMode::Host => push(PublishedPort {
                container_port,
                published_port: container_port,
                transport: mapping.transport,
            }),
            NetworkMode::Bridge => match mapping.host_port.filter(|port| *port != 0) {
                Some(host_port) => push(PublishedPort {
                    container_port,
                    published_port: host_port,
                    transport: mapping.transport,
                }),
                None => missing_bindings.push(container_port),
            },
            NetworkMode::None => {}
        }
    }
    if !missing_bindings.is_empty() {
        return Err(ResolveError::MissingBindings {
            task_id: detail.task_id().to_owned(),
            container: container.name.clone(),
            ports: missing_bindings,
        });
    }
    Ok(ports)
}

fn transport_of(protocol: Option<TransportProtocol>) -> Transport {
    match protocol {
        Some(TransportProtocol::Udp) => Transport::Udp,
        Some(TransportProtocol::Tcp) | None => Transport::Tcp,
    }
}

/// `ecs-srv.port.<N>` wins; a single-port container may use `ecs-srv.port`; otherwise the
/// container name, with `-<N>` when the container has several ports.
pub(super) fn port_label(
    container: &ContainerDefinitionFacts,
    container_port: u16,
    distinct_ports: usize,
) -> String {
    let per_port = container
        .labels
        .get(&format!("{LABEL_PORT_PREFIX}{container_port}"));
    let whole_container = container
        .labels
        .get(LABEL_PORT)
        .filter(|_| distinct_ports <= 1);
    match per_port.or(whole_container) {
        Some(raw) => srv_port_label(raw),
        None if distinct_ports > 1 => {
            srv_port_label(&format!("{}-{container_port}", container.name))
        }
        None => srv_port_label(&container.name),
    }
}
