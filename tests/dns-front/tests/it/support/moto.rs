//! Starts a private moto server for one test and stops it when the test ends.
//!
//! Kept small and local to this crate on purpose: the root crate has its own helper, and
//! the two should not be coupled through test code.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_route53::config::{Credentials, Region};

/// moto usually answers within a couple of seconds; a loaded CI machine gets much longer.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const READY_POLL: Duration = Duration::from_millis(100);
/// The free port is found by binding and closing, so another process may take it before
/// moto does; a few fresh tries make that race harmless.
const START_ATTEMPTS: usize = 3;

/// A running moto server on 127.0.0.1; killed on drop.
pub struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    /// Starts moto, or fails the test with the way to install it. Never skips: a test that
    /// silently does nothing would hide a broken setup.
    pub async fn start() -> Moto {
        let program = moto_program();
        assert!(
            program.exists(),
            "moto server not found: run `make deps` (installs moto[server] into .venv); looked at {}",
            program.display()
        );
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let child = Command::new(&program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|error| panic!("cannot run {}: {error}", program.display()));
            let mut moto = Moto {
                child,
                endpoint: format!("http://127.0.0.1:{port}"),
            };
            match moto
                .wait_until_ready(SocketAddr::from(([127, 0, 0, 1], port)))
                .await
            {
                Ok(()) => return moto,
                Err(reason) => failures.push(reason),
            }
        }
        panic!("moto server did not start: {failures:?}");
    }

    /// A Route 53 client for this server, with dummy credentials.
    pub async fn route53(&self) -> aws_sdk_route53::Client {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "moto-test",
            ))
            .load()
            .await;
        aws_sdk_route53::Client::new(&config)
    }

    /// The URL to pass as AWS_ENDPOINT_URL to a child process.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    async fn wait_until_ready(&mut self, addr: SocketAddr) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "moto exited with {status} before listening on {addr}"
                ));
            }
            if TcpStream::connect_timeout(&addr, READY_POLL).is_ok() {
                return Ok(());
            }
            tokio::time::sleep(READY_POLL).await;
        }
        Err(format!(
            "moto did not listen on {addr} within {READY_TIMEOUT:?}"
        ))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `MOTO_SERVER` if set, else the project venv's moto_server, found from this crate.
fn moto_program() -> PathBuf {
    match std::env::var_os("MOTO_SERVER") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server"),
    }
}

fn free_port() -> u16 {
    let listener =
        TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0 to find a free port");
    listener
        .local_addr()
        .expect("a bound listener has an address")
        .port()
}
