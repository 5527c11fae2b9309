//! moto-launcher: the one way the tests and the demo find their tools and start moto.
//! Test and demo infrastructure only; never deployed.
//!
//! Two things, both decided at run time from where the program runs, never from where it
//! was compiled (a second clone sharing one target directory must use its own venv):
//! - [`Workspace`]: the repository root (`ECS_SRV_ROOT`, or the nearest directory upwards
//!   from the current one whose `Cargo.toml` declares `[workspace]`), and the tools the
//!   project venv holds there (`make deps` creates `.venv`).
//! - [`MotoServer`]: moto on 127.0.0.1 through `tests/support/moto_server.py`, which prints
//!   `READY http://127.0.0.1:PORT` and exits when its stdin closes, so a test binary or a
//!   demo that dies, however it dies, leaves no moto behind.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod server;
mod workspace;

pub use server::{MotoServer, READY_TIMEOUT};
pub use workspace::{Workspace, PYTHON_ENV, ROOT_ENV};

/// Why the workspace or moto could not be had. Each says what to do about it.
#[derive(Debug)]
pub enum LaunchError {
    /// No `[workspace]` Cargo.toml above the directory the program runs in.
    NoWorkspace {
        /// Where the search started.
        from: std::path::PathBuf,
    },
    /// A file or process could not be used.
    Io {
        /// What was being done.
        doing: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// moto started but never said it was ready.
    NotReady {
        /// What its launcher printed instead, if anything.
        printed: String,
    },
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchError::NoWorkspace { from } => write!(
                f,
                "no Cargo.toml with [workspace] in {} or above it: run from the ecs-srv checkout, or set {ROOT_ENV}",
                from.display()
            ),
            LaunchError::Io { doing, source } => write!(f, "{doing}: {source}"),
            LaunchError::NotReady { printed } => write!(
                f,
                "moto server did not report READY within {READY_TIMEOUT:?} (it printed {printed:?}); run `make deps` to install moto[server] into .venv, or set {PYTHON_ENV} to a Python that has it"
            ),
        }
    }
}

impl std::error::Error for LaunchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LaunchError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
