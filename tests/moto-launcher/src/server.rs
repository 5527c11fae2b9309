//! moto server as a child process, through `tests/support/moto_server.py`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::{LaunchError, Workspace};

/// How long moto gets to report READY: a couple of seconds usually, much longer on a
/// loaded CI machine.
pub const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// How long moto gets to exit once its stdin closes, before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
const STOP_POLL: Duration = Duration::from_millis(20);

/// A running moto server on 127.0.0.1. Dropping it kills it; [`MotoServer::stop`] asks
/// first. Kept for the life of a process (a `static`), it stops when the process exits,
/// because its launcher's stdin closes then.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    endpoint: String,
}

impl MotoServer {
    /// Starts moto with the workspace's Python and script, its stderr inherited.
    pub fn start(workspace: &Workspace) -> Result<Self, LaunchError> {
        Self::start_with(&workspace.python(), &workspace.moto_script(), None)
    }

    /// Starts `script` with `python`; moto's stderr goes to `log` when given (the demo keeps
    /// its output clean), else to this process's stderr. Fails, saying how to install moto,
    /// when it does not report READY within [`READY_TIMEOUT`]: never a silent skip.
    pub fn start_with(
        python: &Path,
        script: &Path,
        log: Option<&Path>,
    ) -> Result<Self, LaunchError> {
        let stderr = match log {
            Some(path) => Stdio::from(File::create(path).map_err(|source| LaunchError::Io {
                doing: format!("creating moto's log {}", path.display()),
                source,
            })?),
            None => Stdio::inherit(),
        };
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|source| LaunchError::Io {
                doing: format!(
                    "starting moto with {} (run `make deps`, or set {})",
                    python.display(),
                    crate::PYTHON_ENV
                ),
                source,
            })?;
        match read_ready_line(&mut child) {
            Ok(endpoint) => Ok(MotoServer { child, endpoint }),
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(error)
            }
        }
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL` or an SDK config.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The launcher's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes moto's stdin, which asks it to stop, and waits a moment for it; kills it if
    /// it lingers.
    pub fn stop(mut self) -> Result<(), LaunchError> {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) => return Ok(()),
                Ok(None) => std::thread::sleep(STOP_POLL),
                Err(source) => {
                    return Err(LaunchError::Io {
                        doing: "waiting for moto to exit".to_owned(),
                        source,
                    })
                }
            }
        }
        self.child.kill().map_err(|source| LaunchError::Io {
            doing: "killing moto".to_owned(),
            source,
        })?;
        self.child
            .wait()
            .map(drop)
            .map_err(|source| LaunchError::Io {
                doing: "waiting for moto to exit".to_owned(),
                source,
            })
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The endpoint from the launcher's first line, `READY http://127.0.0.1:PORT`, read on a
/// thread so that a launcher that never prints cannot hang the caller.
fn read_ready_line(child: &mut Child) -> Result<String, LaunchError> {
    let stdout = child.stdout.take().ok_or_else(|| LaunchError::NotReady {
        printed: String::new(),
    })?;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(read.map(|_| line));
    });
    let printed = match receiver.recv_timeout(READY_TIMEOUT) {
        Ok(Ok(line)) => line,
        Ok(Err(source)) => {
            return Err(LaunchError::Io {
                doing: "reading moto's READY line".to_owned(),
                source,
            })
        }
        Err(_) => String::new(),
    };
    printed
        .trim()
        .strip_prefix("READY ")
        .map(str::to_owned)
        .ok_or(LaunchError::NotReady { printed })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real launcher from this checkout's venv: moto answers on loopback and stops.
    #[test]
    fn moto_starts_reports_a_loopback_endpoint_and_stops() {
        let workspace = Workspace::find().expect("run from the checkout");
        let moto = MotoServer::start(&workspace).expect("moto starts (`make deps` installs it)");
        assert!(
            moto.endpoint().starts_with("http://127.0.0.1:"),
            "{}",
            moto.endpoint()
        );
        let addr = moto.endpoint().trim_start_matches("http://").to_owned();
        std::net::TcpStream::connect(&addr).expect("moto listens");
        moto.stop().expect("moto stops");
        assert!(
            std::net::TcpStream::connect(&addr).is_err(),
            "nothing listens after stop"
        );
    }

    #[test]
    fn a_python_that_does_not_exist_fails_with_the_way_to_install_moto() {
        let error =
            MotoServer::start_with(Path::new("/nonexistent/python"), Path::new("x.py"), None)
                .expect_err("no python there");
        assert!(error.to_string().contains("make deps"), "{error}");
    }

    #[test]
    fn a_launcher_that_prints_something_else_is_not_ready() {
        let error = MotoServer::start_with(Path::new("echo"), Path::new("hello"), None)
            .expect_err("echo is no moto");
        assert!(error.to_string().contains("\"hello\\n\""), "{error}");
    }
}
