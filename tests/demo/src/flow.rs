//! The demo's steps, in order, each returning its report. The state between steps lives
//! in [`Demo`]; dropping it at any point stops everything it started.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use dns_front::{FrontConfig, Route53Zone, RunningFront};
use moto_launcher::MotoServer;
use tokio::net::TcpListener;

use crate::account::{
    self, Account, AwsClients, Network, SeededTask, CLUSTER, FARGATE_ENI_IP, ZONE_NAME,
};
use crate::backend::TaskServer;
use crate::dns::{zone_records, DnsClient, ZoneRecord};
use crate::events::{self, Stage};
use crate::lambda::Function;
use crate::report::*;
use crate::traffic::RunningProxy;
use crate::DemoSetup;

mod clients;
mod drain;

/// How often the DNS front re-reads the zone: short, so a withdrawal shows at once.
const FRONT_REFRESH: Duration = Duration::from_millis(100);

/// Weighted answers hold one task each, so seeing all three takes a few queries; this
/// many without seeing them all means something is wrong (the odds are below 1e-10).
const MAX_SRV_QUERIES: usize = 60;

/// Checks, half a refresh apart, for a change to reach the DNS front (10 s in all).
const DNS_WAIT_ATTEMPTS: usize = 200;

/// The whole pipeline, started step by step.
pub struct Demo {
    setup: DemoSetup,
    work_dir: tempfile::TempDir,
    moto: Option<MotoServer>,
    clients: AwsClients,
    network: Network,
    front: Option<RunningFront>,
    function: Option<Function>,
    account: Option<Account>,
    api_listener: Option<TcpListener>,
    servers: BTreeMap<String, TaskServer>,
    host_ports: BTreeMap<String, u16>,
    proxy: Option<RunningProxy>,
    haproxy: Option<crate::haproxy::RunningHaproxy>,
    dns: DnsClient,
}

impl Demo {
    /// Step 1: moto, the VPC and its private zone, the DNS front on the zone, and the
    /// `ecs-srv` function behind cargo-lambda's Runtime API.
    pub async fn start(setup: DemoSetup) -> Result<(Self, StartReport)> {
        let work_dir = tempfile::Builder::new()
            .prefix("ecs-srv-demo-")
            .tempdir()
            .context("creating a work directory")?;
        let moto_log = work_dir.path().join("moto.log");
        let (python, script) = (setup.python.clone(), setup.moto_script.clone());
        let moto = tokio::task::spawn_blocking(move || {
            MotoServer::start_with(&python, &script, Some(&moto_log))
        })
        .await
        .context("starting moto")??;
        let endpoint = moto.endpoint().to_owned();
        let clients = AwsClients::for_endpoint(&endpoint);
        let network = account::create_network(&clients).await?;

        let front_config = FrontConfig {
            refresh: FRONT_REFRESH,
            ..FrontConfig::default()
        };
        let front = dns_front::start(
            front_config,
            Route53Zone::new(clients.route53.clone(), &network.zone_id),
        )
        .await
        .context("starting the DNS front")?;
        let dns = DnsClient::new(front.addr())?;

        let env = function_env(&endpoint, &network.zone_id);
        let function = Function::start(
            &setup.delivery,
            &setup.ecs_srv,
            &setup.repo_root,
            env,
            work_dir.path(),
        )
        .await?;
        let report = StartReport {
            moto_endpoint: endpoint,
            zone_id: network.zone_id.clone(),
            dns_addr: front.addr(),
            delivery: setup.delivery_words(),
            runtime_api: function.runtime_api(),
        };
        let demo = Self {
            setup,
            work_dir,
            moto: Some(moto),
            clients,
            network,
            front: Some(front),
            function: Some(function),
            account: None,
            api_listener: None,
            servers: BTreeMap::new(),
            host_ports: BTreeMap::new(),
            proxy: None,
            haproxy: None,
            dns,
        };
        Ok((demo, report))
    }

    /// Where the demo keeps its event files and the children's logs.
    pub fn work_dir(&self) -> &std::path::Path {
        self.work_dir.path()
    }

    /// A DNS client of the DNS front, for showing answers when dig is missing.
    pub fn dns(&self) -> &DnsClient {
        &self.dns
    }

    /// The DNS front's address, for `dig`.
    pub fn dns_addr(&self) -> Option<SocketAddr> {
        self.front.as_ref().map(RunningFront::addr)
    }

    /// The SRV name of a service label, fully qualified.
    pub fn srv_name(service: &str) -> String {
        format!("_{service}._tcp.{service}.{ZONE_NAME}.")
    }

    /// The whole SRV set of a service label (`_P._tcp._all.S.Z`), fully qualified: what
    /// SRV clients (srv-proxy, HAProxy) should read.
    pub fn whole_set_name(service: &str) -> String {
        format!("_{service}._tcp._all.{service}.{ZONE_NAME}.")
    }

    /// The per-task A name ecs-srv writes.
    pub fn task_name(task: &SeededTask) -> String {
        format!("{}.{}.{ZONE_NAME}.", task.id, task.service)
    }

    /// Step 2: two EC2 hosts, the cluster, service `web` with three bridge tasks and a
    /// Fargate task of service `api`.
    pub async fn seed(&mut self) -> Result<SeedReport> {
        // An awsvpc task is reached on its containerPort, which the task definition fixes,
        // so the port its server will use is taken now, before the definition exists.
        let api_listener = TaskServer::bind(IpAddr::V4(FARGATE_ENI_IP)).await?;
        let api_port = api_listener
            .local_addr()
            .context("reading the api server's port")?
            .port();
        let account = crate::seed::seed_account(&self.clients, &self.network, api_port).await?;
        let mut tasks: Vec<TaskLine> = account
            .web_tasks
            .iter()
            .map(|t| TaskLine {
                task_id: t.id.clone(),
                service: "web".to_owned(),
                placement: format!("bridge on {}", t.ip),
            })
            .collect();
        tasks.push(TaskLine {
            task_id: account.api_task.id.clone(),
            service: "api".to_owned(),
            placement: format!("Fargate, ENI {FARGATE_ENI_IP}, containerPort {api_port}"),
        });
        let report = SeedReport {
            vpc: format!("{} (127.0.0.0/16)", self.network.vpc_id),
            hosts: account
                .hosts
                .iter()
                .map(|h| (h.instance_id.clone(), h.ip))
                .collect(),
            cluster_arn: account.cluster_arn.clone(),
            tasks,
        };
        self.api_listener = Some(api_listener);
        self.account = Some(account);
        Ok(report)
    }

    /// Step 3: a server on each task's address and port. Bridge tasks get a free port on
    /// their host's IP, as Docker gives a mapping without hostPort.
    pub async fn start_servers(&mut self) -> Result<ServersReport> {
        let account = self.account.clone().context("seed the account first")?;
        let mut servers = Vec::new();
        for task in &account.web_tasks {
            let listener = TaskServer::bind(IpAddr::V4(task.ip)).await?;
            let server = TaskServer::serve(listener, &task.id)?;
            self.host_ports.insert(task.id.clone(), server.addr.port());
            servers.push((task.id.clone(), "web".to_owned(), server.addr));
            self.servers.insert(task.id.clone(), server);
        }
        let listener = self
            .api_listener
            .take()
            .context("the api port was not reserved")?;
        let server = TaskServer::serve(listener, &account.api_task.id)?;
        servers.push((account.api_task.id.clone(), "api".to_owned(), server.addr));
        self.servers.insert(account.api_task.id.clone(), server);
        Ok(ServersReport { servers })
    }

    /// Step 4: one RUNNING event per task, through the real `ecs-srv`.
    pub async fn publish_running(&mut self) -> Result<DeliveryReport> {
        let account = self.account.clone().context("seed the account first")?;
        let mut report = DeliveryReport::default();
        for task in &account.web_tasks {
            let event =
                events::bridge_event(Stage::Running, task, &account, self.host_port(task)?)?;
            let invocation = self.function()?.deliver(&event).await?;
            report
                .invocations
                .push((format!("RUNNING web {}", task.id), invocation));
        }
        let event = events::fargate_running(&account.api_task, &account)?;
        let invocation = self.function()?.deliver(&event).await?;
        report
            .invocations
            .push((format!("RUNNING api {}", account.api_task.id), invocation));
        Ok(report)
    }

    /// Step 5: the zone through the API, and through DNS as a client in the VPC sees it.
    pub async fn inspect_zone(&self) -> Result<ZoneReport> {
        let account = self.account.as_ref().context("seed the account first")?;
        let records = zone_records(&self.clients, &self.network.zone_id).await?;
        // The front re-reads the zone on its own schedule; once the last task's name
        // answers, its snapshot holds every record published before.
        if let Some(last) = account.web_tasks.last() {
            self.wait_for_dns(&Self::task_name(last), true).await?;
        }
        let web_srv_name = Self::srv_name("web");
        let mut srv_by_task = BTreeMap::new();
        let mut most_records_per_answer = 0;
        let mut srv_queries = 0;
        while srv_queries < MAX_SRV_QUERIES && srv_by_task.len() < account.web_tasks.len() {
            srv_queries += 1;
            let answer = self.dns.srv(&web_srv_name).await?;
            most_records_per_answer = most_records_per_answer.max(answer.len());
            for record in answer {
                let task_id = record
                    .target
                    .split('.')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                srv_by_task.insert(task_id, record);
            }
        }
        let mut task_names = Vec::new();
        for task in account.web_tasks.iter().chain([&account.api_task]) {
            let name = Self::task_name(task);
            let answer = self.dns.a(&name).await?;
            task_names.push((name, answer, task.ip));
        }
        Ok(ZoneReport {
            records,
            web_srv_name,
            srv_queries,
            most_records_per_answer,
            srv_by_task,
            task_names,
            expected_tasks: account
                .web_tasks
                .iter()
                .chain([&account.api_task])
                .map(|t| t.id.clone())
                .collect(),
        })
    }

    /// Step 8: stops everything, newest first, and says what it stopped.
    pub async fn shutdown(mut self) -> Result<CleanupReport> {
        let mut report = CleanupReport::default();
        if let Some(haproxy) = self.haproxy.take() {
            haproxy.stop().await?;
            report.stopped.push("haproxy".to_owned());
        }
        if let Some(proxy) = self.proxy.take() {
            proxy.stop().await;
            report.stopped.push("srv-proxy".to_owned());
        }
        let servers = std::mem::take(&mut self.servers);
        let count = servers.len();
        for (_, server) in servers {
            server.stop().await;
        }
        report.stopped.push(format!("{count} task servers"));
        if let Some(function) = self.function.take() {
            let processes = function.processes();
            function.stop().await?;
            report.stopped.extend(
                processes
                    .into_iter()
                    .map(|(name, pid)| with_pid(&name, pid)),
            );
        }
        if let Some(front) = self.front.take() {
            front.shutdown().await;
            report.stopped.push("the DNS front".to_owned());
        }
        if let Some(moto) = self.moto.take() {
            let line = with_pid("moto", Some(moto.pid()));
            tokio::task::spawn_blocking(move || moto.stop())
                .await
                .context("stopping moto")??;
            report.stopped.push(line);
        }
        Ok(report)
    }

    fn function(&mut self) -> Result<&mut Function> {
        self.function
            .as_mut()
            .context("the function is not running")
    }

    fn server(&self, task_id: &str) -> Result<&TaskServer> {
        self.servers
            .get(task_id)
            .with_context(|| format!("no server for task {task_id}"))
    }

    fn host_port(&self, task: &SeededTask) -> Result<u16> {
        self.host_ports
            .get(&task.id)
            .copied()
            .context("start the task servers first")
    }

    fn proxy_addr(&self, service: &str) -> Result<SocketAddr> {
        self.proxy
            .as_ref()
            .and_then(|p| p.addr_of(&Self::whole_set_name(service)))
            .context("start srv-proxy first")
    }

    /// Waits until the DNS front answers `name` (`present`) or no longer does. The
    /// front serves whole-zone snapshots, so this shows a change has reached DNS.
    async fn wait_for_dns(&self, name: &str, present: bool) -> Result<()> {
        for _ in 0..DNS_WAIT_ATTEMPTS {
            if self.dns.a(name).await?.is_empty() != present {
                return Ok(());
            }
            tokio::time::sleep(FRONT_REFRESH / 2).await;
        }
        let state = if present { "answer" } else { "stop answering" };
        bail!("the DNS front did not {state} for {name} within {DNS_WAIT_ATTEMPTS} tries")
    }

    async fn records_naming(&self, task_id: &str) -> Result<Vec<ZoneRecord>> {
        let records = zone_records(&self.clients, &self.network.zone_id).await?;
        Ok(records
            .into_iter()
            .filter(|r| r.name.contains(task_id) || r.values.iter().any(|v| v.contains(task_id)))
            .collect())
    }
}

/// The function's environment: moto as the AWS endpoint, the demo's zone and cluster,
/// and TTL 0, so that srv-proxy resolves for every connection and a withdrawal shows at
/// once (the default is 10 s).
fn function_env(endpoint: &str, zone_id: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", account::REGION),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("HOSTED_ZONE_ID", zone_id),
        ("RECORD_TTL", "0"),
        ("CLUSTERS", CLUSTER),
        ("RUST_LOG", "info"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn with_pid(name: &str, pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("{name} (pid {pid})"),
        None => name.to_owned(),
    }
}
