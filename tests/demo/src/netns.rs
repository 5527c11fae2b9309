//! A private network namespace for a client that can only ask the nameserver of
//! `/etc/resolv.conf` on port 53, as Prometheus's `dns_sd_configs` does (it reads that
//! file itself and always uses port 53).
//!
//! `ip netns add` makes the namespace, with its own loopback; `ip netns exec` runs the
//! client in it with `/etc/netns/NAME/resolv.conf` mounted over `/etc/resolv.conf`, which
//! names 127.0.0.1. The DNS front's sockets are bound on 127.0.0.1:53 *inside* the
//! namespace by a thread that enters it (setns), while the front itself, and its reads of
//! the zone from moto, stay in the test's own namespace. Port 53 is fixed only there,
//! where nothing else listens; the host's port 53 and resolv.conf are never touched.
//! Needs root (CAP_SYS_ADMIN), as `ip netns` does.

use std::fs::File;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Context, Result};
use rustix::thread::{move_into_link_name_space, LinkNameSpaceType};
use tokio::process::Command;

/// Namespaces made by this process, for unique names.
static CREATED: AtomicUsize = AtomicUsize::new(0);

/// A network namespace, deleted (with its resolv.conf) when dropped.
pub struct NetNamespace {
    name: String,
    etc_dir: PathBuf,
}

impl NetNamespace {
    /// Creates `PREFIX-PID-N` with its loopback up and a resolv.conf naming 127.0.0.1.
    pub async fn create(prefix: &str) -> Result<Self> {
        let name = format!(
            "{prefix}-{}-{}",
            std::process::id(),
            CREATED.fetch_add(1, Ordering::Relaxed)
        );
        ip(&["netns", "add", &name]).await?;
        let namespace = Self {
            etc_dir: PathBuf::from("/etc/netns").join(&name),
            name,
        };
        ip(&["-n", &namespace.name, "link", "set", "lo", "up"]).await?;
        std::fs::create_dir_all(&namespace.etc_dir)
            .with_context(|| format!("creating {}", namespace.etc_dir.display()))?;
        std::fs::write(
            namespace.etc_dir.join("resolv.conf"),
            "nameserver 127.0.0.1\n",
        )
        .context("writing the namespace's resolv.conf")?;
        Ok(namespace)
    }

    /// The namespace's name, for `ip netns exec`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `work` on a thread that has entered the namespace: the sockets it opens live
    /// there, whatever thread uses them afterwards.
    pub fn run<T: Send>(&self, work: impl FnOnce() -> std::io::Result<T> + Send) -> Result<T> {
        let path = PathBuf::from("/run/netns").join(&self.name);
        let handle = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    move_into_link_name_space(
                        std::os::fd::AsFd::as_fd(&handle),
                        Some(LinkNameSpaceType::Network),
                    )
                    .context("entering the network namespace (needs root)")?;
                    work().context("working inside the network namespace")
                })
                .join()
                .map_err(|_| anyhow::anyhow!("the namespace thread panicked"))?
        })
    }

    /// `program` run inside the namespace, with its resolv.conf.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }
}

impl Drop for NetNamespace {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "delete", &self.name])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.etc_dir);
    }
}

/// Runs `ip ARGS`, failing with its message.
async fn ip(args: &[&str]) -> Result<()> {
    let output = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .context("running ip (Debian package iproute2)")?;
    if !output.status.success() {
        bail!(
            "ip {} failed (network namespaces need root): {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
