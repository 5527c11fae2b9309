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
/// (ECS lists one binding per address family for the same port): from the task's network
/// bindings in bridge and host mode when it has any, else from the definition's mappings.
pub(super) fn container_ports(
    detail: &TaskStateChange,
    mode: NetworkMode,
    container: &ContainerDefinitionFacts,
    warnings: &mut Vec<String>,
) -> Result<Vec<PublishedPort>, ResolveError> {
    let bindings: &[NetworkBinding] = detail
        .containers
        .iter()
        .find(|c| c.name == container.name)
        .map(|c| c.network_bindings.as_slice())
        .unwrap_or_default();
    let use_bindings =
        matches!(mode, NetworkMode::Bridge | NetworkMode::Host) && !bindings.is_empty();
    let mut ports = Vec::new();
    if use_bindings {
        for port in bound_ports(bindings, container, warnings) {
            push_new(&mut ports, port);
        }
        return Ok(ports);
    }
    let (mapped, missing_bindings) = mapped_ports(mode, container, warnings);
    if !missing_bindings.is_empty() {
        return Err(ResolveError::MissingBindings {
            task_id: detail.task_id().to_owned(),
            container: container.name.clone(),
            ports: missing_bindings,
        });
    }
    for port in mapped {
        push_new(&mut ports, port);
    }
    Ok(ports)
}

fn push_new(ports: &mut Vec<PublishedPort>, port: PublishedPort) {
    let seen = ports
        .iter()
        .any(|p| p.container_port == port.container_port && p.transport == port.transport);
    if !seen {
        ports.push(port);
    }
}

/// The ports of the task's network bindings (bridge and host mode).
fn bound_ports(
    bindings: &[NetworkBinding],
    container: &ContainerDefinitionFacts,
    warnings: &mut Vec<String>,
) -> Vec<PublishedPort> {
    let mut ports = Vec::new();
    for binding in bindings {
        match (binding.container_port, binding.host_port) {
            _ if binding.host_port_range.is_some() || binding.container_port_range.is_some() => {
                warnings.push(format!(
                    "container {}: a port range binding is not published (SRV names one port)",
                    container.name
                ))
            }
            (Some(container_port), Some(host_port)) if host_port != 0 => {
                ports.push(PublishedPort {
                    container_port,
                    published_port: host_port,
                    transport: transport_of(binding.protocol),
                })
            }
            _ => warnings.push(format!(
                "container {}: a network binding without a host port is skipped",
                container.name
            )),
        }
    }
    ports
}

/// The ports of the definition's mappings, and the container ports of bridge mappings to
/// dynamic host ports, which only bindings could tell.
fn mapped_ports(
    mode: NetworkMode,
    container: &ContainerDefinitionFacts,
    warnings: &mut Vec<String>,
) -> (Vec<PublishedPort>, Vec<u16>) {
    let (mut ports, mut missing_bindings) = (Vec::new(), Vec::new());
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
        let published = match mode {
            NetworkMode::Awsvpc | NetworkMode::Host => Some(container_port),
            NetworkMode::Bridge => mapping.host_port.filter(|port| *port != 0),
            NetworkMode::None => continue,
        };
        match published {
            Some(published_port) => ports.push(PublishedPort {
                container_port,
                published_port,
                transport: mapping.transport,
            }),
            None => missing_bindings.push(container_port),
        }
    }
    (ports, missing_bindings)
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
