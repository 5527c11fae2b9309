//! The child processes the demo starts itself (cargo-lambda's runtime emulator, the
//! `ecs-srv` function, HAProxy, Prometheus) and the small waits around them. moto is
//! started by `moto-launcher`, the workspace's one launcher.
//!
//! Every child lives in a [`ChildGuard`], which kills it when dropped. A failed step, a
//! panicking test or Ctrl-C in the demo unwinds through the guards, so nothing is left
//! running. Output of each child goes to a log file, so the demo's own output stays clean
//! and a failure can still show what the child said.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// How often a readiness check looks again.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// How long a child gets to exit after it is asked to stop, before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Lines of a child's log shown when it fails.
const LOG_TAIL_LINES: usize = 15;

/// A child process that is killed when the guard is dropped.
pub struct ChildGuard {
    name: String,
    child: Child,
    log: PathBuf,
}

impl ChildGuard {
    /// Starts `command` with its stderr written to `log`; stdout is the caller's to set.
    pub fn spawn(name: &str, command: &mut Command, log: &Path) -> Result<Self> {
        let file = std::fs::File::create(log)
            .with_context(|| format!("creating the log file {}", log.display()))?;
        let stderr = file.try_clone().context("duplicating a log file handle")?;
        command.stderr(Stdio::from(stderr)).kill_on_drop(true);
        let program = command
            .as_std()
            .get_program()
            .to_string_lossy()
            .into_owned();
        let child = command
            .spawn()
            .with_context(|| format!("starting {name} ({program})"))?;
        drop(file);
        Ok(Self {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
        })
    }

    /// The child's process id, for the cleanup report.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// The name given at spawn.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The child itself, to take its pipes.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// `Some` once the child has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The end of the child's log, for error messages.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// Fails with the child's log when it has exited: a dead child explains most hangs.
    pub fn ensure_running(&mut self) -> Result<()> {
        match self.exited() {
            None => Ok(()),
            Some(status) => bail!(
                "{} exited ({status}); the end of its log:\n{}",
                self.name,
                self.log_tail()
            ),
        }
    }

    /// Stops the child: a child with a stdin pipe is asked by closing it and gets a moment
    /// to exit cleanly; any other, or one that lingers, is killed.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(stdin) = self.child.stdin.take() {
            drop(stdin);
            if let Ok(waited) = tokio::time::timeout(STOP_GRACE, self.child.wait()).await {
                waited.with_context(|| format!("waiting for {} to exit", self.name))?;
                return Ok(());
            }
        }
        self.child.start_kill().ok();
        tokio::time::timeout(STOP_GRACE, self.child.wait())
            .await
            .with_context(|| format!("{} did not exit after it was killed", self.name))?
            .with_context(|| format!("waiting for {} to exit", self.name))?;
        Ok(())
    }
}

/// The last lines of a log file, indented, or a note that it is empty.
pub fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return "    (empty)".to_owned();
    }
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..]
        .iter()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A port that was free on 127.0.0.1 a moment ago, for programs that cannot be told to
/// bind port 0 and report it (cargo-lambda). The caller retries if it is taken meanwhile.
pub fn free_loopback_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("binding 127.0.0.1:0 to find a free port")?;
    Ok(listener
        .local_addr()
        .context("reading a bound port")?
        .port())
}

/// Waits until `addr` accepts TCP connections, failing early if `child` exits.
pub async fn wait_for_listener(
    child: &mut ChildGuard,
    addr: SocketAddr,
    within: Duration,
) -> Result<()> {
    let attempts = (within.as_millis() / POLL_INTERVAL.as_millis()).max(1);
    for _ in 0..attempts {
        child.ensure_running()?;
        if TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    bail!(
        "{} did not listen on {addr} within {within:?}; the end of its log:\n{}",
        child.name(),
        child.log_tail()
    )
}
