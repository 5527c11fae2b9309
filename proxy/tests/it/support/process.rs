//! The real `srv-proxy` binary as a child process: for what only a process shows (exit codes,
//! signals, its own descriptors and memory).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use super::STEP_LIMIT;

/// The binary cargo built for these tests.
pub const BINARY: &str = env!("CARGO_BIN_EXE_srv-proxy");

/// A running `srv-proxy` with one route, JSON logs on a pipe read line by line.
pub struct ProxyProcess {
    child: Child,
    /// The address the route really bound (it is asked for port 0).
    pub listen: SocketAddr,
    lines: Receiver<String>,
}

impl ProxyProcess {
    /// Starts `srv-proxy --route 127.0.0.1:0=SRV --dns DNS --log-format json ARGS…` with its soft
    /// descriptor limit raised to the hard one, and waits for its "route ready" line.
    pub fn start(srv_name: &str, dns: SocketAddr, args: &[&str]) -> Self {
        // `sh` raises the soft limit, then becomes the proxy.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"ulimit -n "$(ulimit -Hn)" && exec "$0" "$@""#)
            .arg(BINARY)
            .args(["--route", &format!("127.0.0.1:0={srv_name}")])
            .args(["--dns", &dns.to_string(), "--log-format", "json"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start srv-proxy");
        let stderr = child.stderr.take().expect("piped stderr");
        let (sender, lines) = channel();
        // Keeps reading, so that the proxy never blocks on a full pipe; ends with the proxy.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        let mut proxy = Self {
            child,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            lines,
        };
        let ready = proxy.wait_for_log("route ready");
        proxy.listen = listen_in(&ready);
        proxy
    }

    /// The address `--metrics 127.0.0.1:0` really bound, from its log line.
    pub fn metrics_addr(&self) -> SocketAddr {
        let line = self.wait_for_log("health at /health");
        listen_in(&line)
    }

    /// The process id, for `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits, bounded, for a log line containing `fragment`, and returns it.
    pub fn wait_for_log(&self, fragment: &str) -> String {
        let deadline = Instant::now() + STEP_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(fragment) => return line,
                Ok(_) => {}
                Err(error) => panic!("no srv-proxy log line with {fragment:?}: {error}"),
            }
        }
    }

    /// Sends SIGTERM, as ECS does on stop.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Waits, bounded, for the process to exit by itself.
    pub fn wait_for_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + STEP_LIMIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("srv-proxy did not exit in {STEP_LIMIT:?}");
    }
}

/// The `listen` field of a JSON log line.
fn listen_in(line: &str) -> SocketAddr {
    line.split_once(r#""listen":""#)
        .and_then(|(_, rest)| rest.split('"').next())
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("no listen address in {line:?}"))
}

/// Runs `srv-proxy health ARGS…` with `env`, bounded in time, and returns its exit status and
/// output.
pub fn run_health(args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String) {
    let mut command = Command::new(BINARY);
    command
        .arg("health")
        .args(args)
        .env_remove("SRV_PROXY_METRICS");
    for (name, value) in env {
        command.env(name, value);
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start srv-proxy health");
    let (sender, outcome) = channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    let output = outcome
        .recv_timeout(STEP_LIMIT)
        .expect("srv-proxy health ends in time")
        .expect("srv-proxy health output");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status, text)
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
