//! Interop with the real SRV clients: HAProxy, Prometheus and srv-proxy read a zone that
//! the real `ecs-srv replay` binary wrote into moto, through the DNS front on loopback.
//!
//! Shared setup: a cluster whose one EC2 host has a loopback address, bridge tasks whose
//! weights come from the `ecs-srv.weight` docker label, a real server per task on the
//! host's address and a free port (what Docker gives a mapping without hostPort), and
//! their events replayed with the binary's defaults (whole SRV sets on).

mod documented;
mod haproxy;
mod prometheus;
mod srv_proxy;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Command;
use std::time::Duration;

use ecs_srv_demo::backend::TaskServer;
use ecs_srv_demo::dns_front::{self, FrontConfig, Route53Zone, RunningFront};
use serde_json::{json, Value};

use crate::support::{self, Host, World};

/// TTL of every record: HAProxy resolves on its own clock, srv-proxy and Prometheus
/// follow the TTL, so a short one keeps the drain checks quick.
pub const RECORD_TTL: Duration = Duration::from_secs(1);

/// How often the DNS front re-reads the zone.
const FRONT_REFRESH: Duration = Duration::from_millis(100);

/// A seeded cluster with a zone, and the tasks started in it so far.
pub struct Service {
    pub world: World,
    pub zone_id: String,
    pub zone: String,
    pub tasks: Vec<Task>,
    dir: tempfile::TempDir,
}

/// One running task: its id, its weight label, its server, its RUNNING event.
pub struct Task {
    pub id: String,
    pub weight: u8,
    pub server: TaskServer,
    pub running: Value,
}

impl Service {
    /// A cluster `name` with one host at `host_ip` (loopback), and zone `name.internal`.
    pub async fn seed(name: &str, host_ip: Ipv4Addr) -> Service {
        let clients = support::moto_clients();
        let world = support::seed_cluster(&clients, name, "127.0.0.0/16", &[host_ip]).await;
        let zone = format!("{name}.internal");
        let zone_id = support::create_private_zone(&clients, &world, &zone).await;
        Service {
            world,
            zone_id,
            zone,
            tasks: Vec::new(),
            dir: tempfile::tempdir().expect("a temp dir"),
        }
    }

    /// [`Service::seed`], then a task per weight label, all published.
    pub async fn published(name: &str, host_ip: Ipv4Addr, weights: &[u8]) -> Service {
        let mut service = Service::seed(name, host_ip).await;
        for weight in weights {
            service.start_task(*weight).await;
        }
        service.publish_all();
        service
    }

    /// The whole SRV set of the service `web`, fully qualified.
    pub fn whole_set_name(&self) -> String {
        format!("_web._tcp._all.web.{}.", self.zone)
    }

    /// The weighted SRV name of the service `web`, fully qualified.
    pub fn weighted_name(&self) -> String {
        format!("_web._tcp.web.{}.", self.zone)
    }

    /// A working directory for the clients' files.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Starts a `web` task labelled `ecs-srv.weight=weight` and its server.
    pub async fn start_task(&mut self, weight: u8) -> &Task {
        let clients = support::moto_clients();
        let definition = register_weighted(&clients, weight).await;
        let (arn, instance) =
            support::run_task(&clients, &self.world, &definition, "service:web", false).await;
        let host: &Host = self
            .world
            .hosts
            .iter()
            .find(|h| Some(&h.container_instance_arn) == instance.as_ref())
            .expect("the task runs on the seeded host");
        let listener = TaskServer::bind(IpAddr::V4(host.private_ip))
            .await
            .expect("binding the task's server");
        let id = arn.rsplit('/').next().expect("a task id").to_owned();
        let server = TaskServer::serve(listener, &id).expect("serving");
        let mut running = support::retarget(
            support::fixture("bridge-running.json"),
            &arn,
            &self.world,
            Some(host),
            &definition,
        );
        for binding in running["detail"]["containers"][0]["networkBindings"]
            .as_array_mut()
            .expect("the bridge sample has bindings")
        {
            binding["hostPort"] = json!(server.addr.port());
        }
        self.tasks.push(Task {
            id,
            weight,
            server,
            running,
        });
        self.tasks.last().expect("just pushed")
    }

    /// Replays `events` through the real `ecs-srv replay`, with its defaults and a short
    /// TTL, and fails unless every event succeeded.
    pub fn replay(&self, file_name: &str, events: &Value) -> Value {
        let path = self.dir.path().join(file_name);
        std::fs::write(&path, serde_json::to_vec_pretty(events).expect("JSON"))
            .expect("writing the events");
        let output = Command::new(env!("CARGO_BIN_EXE_ecs-srv"))
            .arg("replay")
            .arg(&path)
            .envs(support::moto_env(&self.zone_id))
            .env("RECORD_TTL", RECORD_TTL.as_secs().to_string())
            .output()
            .expect("running ecs-srv replay");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "ecs-srv replay failed: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(&stdout).expect("replay prints a JSON summary")
    }

    /// Publishes every task started so far.
    pub fn publish_all(&self) -> Value {
        let events: Vec<Value> = self.tasks.iter().map(|t| t.running.clone()).collect();
        self.replay("running.json", &Value::Array(events))
    }

    /// Withdraws task `index` the way ECS starts a stop: its draining event (desired
    /// STOPPED), while its server still runs.
    pub fn drain(&self, index: usize) -> Value {
        let mut draining = self.tasks[index].running.clone();
        draining["detail"]["desiredStatus"] = json!("STOPPED");
        draining["detail"]["version"] = json!(4);
        self.replay("draining.json", &draining)
    }

    /// The DNS front on this zone, on 127.0.0.1:0.
    pub async fn front(&self) -> RunningFront {
        dns_front::start(front_config(), self.zone_source())
            .await
            .expect("the DNS front starts")
    }

    /// The zone as the DNS front reads it.
    pub fn zone_source(&self) -> Route53Zone {
        Route53Zone::new(support::moto_clients().route53, &self.zone_id)
    }

    /// The task whose server is at `addr`.
    pub fn task_at(&self, addr: SocketAddr) -> Option<&Task> {
        self.tasks.iter().find(|t| t.server.addr == addr)
    }
}

/// The DNS front's settings: a quick refresh, so a withdrawal shows at once.
pub fn front_config() -> FrontConfig {
    FrontConfig {
        refresh: FRONT_REFRESH,
        ..FrontConfig::default()
    }
}

/// A `web` task definition (one container `web`, port 80, bridge, dynamic host port)
/// labelled with `weight`.
async fn register_weighted(clients: &ecs_srv::aws::AwsClients, weight: u8) -> String {
    use aws_sdk_ecs::types::{ContainerDefinition, NetworkMode, PortMapping, TransportProtocol};
    let container = ContainerDefinition::builder()
        .name("web")
        .image("public.ecr.aws/nginx/nginx:1.27")
        .memory(8)
        .essential(true)
        .docker_labels("ecs-srv.weight", weight.to_string())
        .port_mappings(
            PortMapping::builder()
                .container_port(80)
                .protocol(TransportProtocol::Tcp)
                .build(),
        )
        .build();
    clients
        .ecs
        .register_task_definition()
        .family(format!("web-w{weight}"))
        .network_mode(NetworkMode::Bridge)
        .container_definitions(container)
        .send()
        .await
        .expect("RegisterTaskDefinition")
        .task_definition()
        .and_then(|d| d.task_definition_arn())
        .expect("a task definition ARN")
        .to_owned()
}

/// `P(X/n outside p ± band)` for a binomial `X`, bounded by Hoeffding's inequality
/// `2·exp(-2·n·band²)`: the chance a correct client fails a share check.
pub fn hoeffding_tail(n: usize, band: f64) -> f64 {
    2.0 * (-2.0 * n as f64 * band * band).exp()
}
