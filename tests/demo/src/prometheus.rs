//! A real Prometheus discovering a service with `dns_sd_configs` (type SRV), configured
//! as docs/clients.md says, in a private network namespace (see [`crate::netns`]): Prometheus
//! asks only the nameserver of `/etc/resolv.conf`, on port 53. What it discovered is
//! read back from its own `/api/v1/targets`.
//!
//! Prometheus comes from the Debian package `prometheus` (`make deps` installs it); a
//! missing binary is an error that names the package, never a skip.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::netns::NetNamespace;
use crate::processes::ChildGuard;

/// How often Prometheus asks DNS again (`refresh_interval`; its default is 30 s): the
/// records' default TTL, so that a drained task leaves within about twice that.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// Where the web API listens, inside the namespace only (nothing else listens there).
const API: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 9090);

/// Connects and answers within this, or the API is not up (yet).
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// Attempts, 200 ms apart, for the API to come up (Prometheus starts in a second or two).
const START_POLLS: usize = 150;

/// The scrape configuration of docs/clients.md for the whole set `srv_name`.
pub fn scrape_config(srv_name: &str) -> String {
    format!(
        "scrape_configs:
  - job_name: web
    dns_sd_configs:
      - names: [\"{srv_name}\"]
        type: SRV
        refresh_interval: {}s
",
        REFRESH_INTERVAL.as_secs()
    )
}

/// A running Prometheus inside a namespace; killed when dropped.
pub struct RunningPrometheus {
    child: ChildGuard,
}

impl RunningPrometheus {
    /// Starts Prometheus in `namespace` for `srv_name`, its data and log in `work_dir`,
    /// and waits until its API answers.
    pub async fn start(namespace: &NetNamespace, srv_name: &str, work_dir: &Path) -> Result<Self> {
        let program = PathBuf::from("/usr/bin/prometheus");
        if !program.is_file() {
            bail!("prometheus not found at {}: install the Debian package `prometheus` (`make deps` does)", program.display());
        }
        let config_path = work_dir.join("prometheus.yml");
        let config = format!(
            "global:\n  scrape_interval: 1s\n{}",
            scrape_config(srv_name)
        );
        std::fs::write(&config_path, config)
            .with_context(|| format!("writing {}", config_path.display()))?;
        let mut command = namespace.command(&program.to_string_lossy());
        command
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                work_dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={API}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let mut child =
            ChildGuard::spawn("prometheus", &mut command, &work_dir.join("prometheus.log"))?;
        for _ in 0..START_POLLS {
            child.ensure_running()?;
            if get(namespace, "/-/ready").is_ok_and(|body| body.contains("Ready")) {
                return Ok(Self { child });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        bail!(
            "Prometheus's API did not come up; the end of its log:\n{}",
            child.log_tail()
        )
    }

    /// The addresses (`host:port`) of the active targets Prometheus discovered.
    pub fn targets(&mut self, namespace: &NetNamespace) -> Result<Vec<String>> {
        self.child.ensure_running()?;
        let body = get(namespace, "/api/v1/targets?state=active")?;
        let answer: Value = serde_json::from_str(&body)
            .with_context(|| format!("Prometheus's targets are not JSON: {body}"))?;
        let mut addresses: Vec<String> = answer["data"]["activeTargets"]
            .as_array()
            .with_context(|| format!("no activeTargets in {answer}"))?
            .iter()
            .filter_map(|target| target["discoveredLabels"]["__address__"].as_str())
            .map(str::to_owned)
            .collect();
        addresses.sort();
        Ok(addresses)
    }

    /// The end of Prometheus's log, for error messages.
    pub fn log_tail(&self) -> String {
        self.child.log_tail()
    }

    /// Stops Prometheus.
    pub async fn stop(self) -> Result<()> {
        self.child.stop().await
    }
}

/// One HTTP/1.0 GET to the API, from inside the namespace; the body.
fn get(namespace: &NetNamespace, path: &str) -> Result<String> {
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    let response = namespace.run(move || {
        let mut stream = TcpStream::connect_timeout(&API, HTTP_TIMEOUT)?;
        stream.set_read_timeout(Some(HTTP_TIMEOUT))?;
        stream.set_write_timeout(Some(HTTP_TIMEOUT))?;
        stream.write_all(request.as_bytes())?;
        let mut response = String::new();
        stream
            .take(16 * 1024 * 1024)
            .read_to_string(&mut response)?;
        Ok(response)
    })?;
    match response.split_once("\r\n\r\n") {
        Some((status, body)) if status.contains(" 200 ") => Ok(body.to_owned()),
        _ => bail!(
            "Prometheus answered {path} with {:?}",
            response.chars().take(200).collect::<String>()
        ),
    }
}
