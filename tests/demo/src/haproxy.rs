//! A real HAProxy reading the zone through the DNS front: the configuration that
//! docs/clients.md gives, with the VPC resolver's address replaced by the
//! DNS front's loopback port, and HAProxy's own view read back from its runtime API.
//!
//! HAProxy comes from the Debian package `haproxy` (`make deps` installs it); a missing
//! binary is an error that names the package, never a skip.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::process::Command;

use crate::processes::{free_loopback_port, wait_for_listener, ChildGuard};

/// The backend (and frontend) name in the configuration.
pub const BACKEND: &str = "web";

/// Server slots of the template: more than any test or the demo starts.
pub const SLOTS: usize = 10;

/// How long HAProxy keeps the last valid answer when DNS fails (`hold valid`). A task
/// that left the answer is dropped at the next resolution (`hold obsolete 0s`).
pub const HOLD_VALID: Duration = Duration::from_secs(10);

/// How often HAProxy resolves (`timeout resolve`).
pub const RESOLVE_INTERVAL: Duration = Duration::from_secs(1);

/// Free-port picks before giving up: another program may take the port first.
const START_ATTEMPTS: usize = 3;

/// How often [`RunningHaproxy::wait_for_servers`] reads the servers.
const POLL: Duration = Duration::from_millis(100);

/// The runtime API answers at once; anything slower is a hang.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(5);

/// The `resolvers` and `backend` sections of docs/clients.md, for the VPC resolver at `dns`.
/// A nameserver over UDP and one over TCP at the same address: HAProxy takes the first
/// valid answer, and TCP carries the whole set when UDP is truncated.
pub fn client_config(dns: SocketAddr, srv_name: &str) -> String {
    format!(
        "resolvers vpc
    nameserver vpc-udp {dns}
    nameserver vpc-tcp tcp@{dns}
    accepted_payload_size 8192
    resolve_retries 3
    timeout resolve {resolve}s
    timeout retry 1s
    hold valid {hold}s
    hold obsolete 0s

backend {BACKEND}
    balance roundrobin
    server-template task {SLOTS} {srv_name} resolvers vpc resolve-prefer ipv4 init-addr none check inter 1s
",
        resolve = RESOLVE_INTERVAL.as_secs(),
        hold = HOLD_VALID.as_secs(),
    )
}

/// The whole file: a runtime API socket, loopback-only frontend, and the client sections.
fn full_config(dns: SocketAddr, srv_name: &str, listen: SocketAddr, socket: &Path) -> String {
    format!(
        "global
    stats socket {socket} level admin

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend {BACKEND}
    bind {listen}
    default_backend {BACKEND}

{client}",
        socket = socket.display(),
        client = client_config(dns, srv_name),
    )
}

/// One filled slot of the server template, as HAProxy's runtime API shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSlot {
    /// The slot's name (`task1`...).
    pub name: String,
    /// The SRV target it was filled from (`T.S.Z`).
    pub fqdn: String,
    /// Where HAProxy sends its traffic.
    pub addr: SocketAddr,
    /// HAProxy's server weight, derived from the SRV weight as `(w + 255) / 256`.
    pub weight: u32,
}

/// A running HAProxy; killed when dropped.
pub struct RunningHaproxy {
    /// Where its frontend listens (127.0.0.1 only).
    pub listen: SocketAddr,
    /// The configuration it runs.
    pub config: String,
    socket: PathBuf,
    child: ChildGuard,
}

impl RunningHaproxy {
    /// Starts HAProxy on a free 127.0.0.1 port with the configuration of docs/clients.md for
    /// `srv_name`, resolving through `dns`. Its files and log go to `work_dir`.
    pub async fn start(dns: SocketAddr, srv_name: &str, work_dir: &Path) -> Result<Self> {
        let program = find_haproxy()?;
        let socket = work_dir.join("haproxy.sock");
        let mut last_error = None;
        for attempt in 1..=START_ATTEMPTS {
            let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, free_loopback_port()?));
            let config = full_config(dns, srv_name, listen, &socket);
            let config_path = work_dir.join("haproxy.cfg");
            std::fs::write(&config_path, &config)
                .with_context(|| format!("writing {}", config_path.display()))?;
            let mut command = Command::new(&program);
            command
                .arg("-db")
                .arg("-f")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(Stdio::null());
            let log = work_dir.join(format!("haproxy-{attempt}.log"));
            let mut child = ChildGuard::spawn("haproxy", &mut command, &log)?;
            match wait_for_listener(&mut child, listen, Duration::from_secs(10)).await {
                Ok(()) => {
                    return Ok(Self {
                        listen,
                        config,
                        socket,
                        child,
                    })
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("haproxy did not start")))
    }

    /// The filled slots of the backend, from `show servers state`: slots with an address.
    pub async fn servers(&mut self) -> Result<Vec<ServerSlot>> {
        self.child.ensure_running()?;
        let text = self
            .command(&format!("show servers state {BACKEND}"))
            .await?;
        parse_servers_state(&text)
    }

    /// Reads the servers every [`POLL`] until `done` holds, or fails at `deadline` with
    /// HAProxy's last view, its whole servers state and its log.
    pub async fn wait_for_servers(
        &mut self,
        deadline: Duration,
        done: impl Fn(&[ServerSlot]) -> bool,
    ) -> Result<Vec<ServerSlot>> {
        let started = Instant::now();
        let mut last = Vec::new();
        while started.elapsed() < deadline {
            last = self.servers().await?;
            if done(&last) {
                return Ok(last);
            }
            tokio::time::sleep(POLL).await;
        }
        let state = self.command("show servers state").await.unwrap_or_default();
        bail!(
            "HAProxy's servers were still {last:?} after {deadline:?}; its state:\n{state}\nits log:\n{}",
            self.log_tail()
        )
    }

    /// Sends one runtime API command and returns the whole answer.
    pub async fn command(&self, line: &str) -> Result<String> {
        let exchange = async {
            let mut stream = UnixStream::connect(&self.socket)
                .await
                .with_context(|| format!("connecting to {}", self.socket.display()))?;
            stream.write_all(format!("{line}\n").as_bytes()).await?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await?;
            Ok::<_, anyhow::Error>(answer)
        };
        tokio::time::timeout(SOCKET_TIMEOUT, exchange)
            .await
            .with_context(|| format!("HAProxy's runtime API did not answer {line:?}"))?
    }

    /// The end of HAProxy's log, for error messages.
    pub fn log_tail(&self) -> String {
        self.child.log_tail()
    }

    /// Stops HAProxy.
    pub async fn stop(self) -> Result<()> {
        self.child.stop().await
    }
}

/// HAProxy from PATH or /usr/sbin (Debian puts it there, outside a user's PATH).
fn find_haproxy() -> Result<PathBuf> {
    let from_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("haproxy"));
    let candidates: Vec<PathBuf> = from_path
        .chain([PathBuf::from("/usr/sbin/haproxy")])
        .collect();
    match candidates.iter().find(|path| path.is_file()) {
        Some(path) => Ok(path.clone()),
        None => bail!("haproxy not found: install the Debian package `haproxy` (`make deps` does)"),
    }
}

/// Admin-state bits of a server in maintenance (forced, inherited, configured, and
/// resolution: an empty slot, or one DNS no longer names). HAProxy marks slots filled from
/// an SRV answer with 0x40 as well; that one is not maintenance.
const MAINTENANCE_FLAGS: u32 = 0x01 | 0x02 | 0x04 | 0x20;

/// Reads `show servers state`: a version line, a `# name name ...` header, one line per
/// server. Empty template slots (no address, or in maintenance because DNS no longer
/// names them) are left out.
fn parse_servers_state(text: &str) -> Result<Vec<ServerSlot>> {
    let header: Vec<&str> = text
        .lines()
        .find_map(|line| line.strip_prefix("# "))
        .with_context(|| format!("no header in HAProxy's servers state: {text:?}"))?
        .split_whitespace()
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|c| *c == name)
            .with_context(|| format!("HAProxy's servers state has no {name} column"))
    };
    let admin = column("srv_admin_state")?;
    let (name, addr, weight, fqdn, port) = (
        column("srv_name")?,
        column("srv_addr")?,
        column("srv_uweight")?,
        column("srv_fqdn")?,
        column("srv_port")?,
    );
    let mut slots = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < header.len() {
            continue;
        }
        let (Ok(ip), Ok(port), Ok(weight), Ok(admin)) = (
            fields[addr].parse::<Ipv4Addr>(),
            fields[port].parse::<u16>(),
            fields[weight].parse::<u32>(),
            fields[admin].parse::<u32>(),
        ) else {
            continue;
        };
        if ip.is_unspecified() || port == 0 || admin & MAINTENANCE_FLAGS != 0 {
            continue;
        }
        slots.push(ServerSlot {
            name: fields[name].to_owned(),
            fqdn: fields[fqdn].trim_end_matches('.').to_owned(),
            addr: SocketAddr::from((ip, port)),
            weight,
        });
    }
    Ok(slots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_state_keeps_filled_slots_only() {
        let text = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n\
3 web 1 task1 127.0.21.1 2 64 3 3 5 6 3 4 6 0 0 0 abc.web.z 40001 _web._tcp._all.web.z\n\
3 web 2 task2 - 0 32 1 1 5 1 0 0 14 0 0 0 - 0 _web._tcp._all.web.z\n";
        let slots = parse_servers_state(text).unwrap();
        assert_eq!(
            slots,
            [ServerSlot {
                name: "task1".into(),
                fqdn: "abc.web.z".into(),
                addr: "127.0.21.1:40001".parse().unwrap(),
                weight: 3,
            }]
        );
    }
}
