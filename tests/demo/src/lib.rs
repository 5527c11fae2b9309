//! ecs-srv-demo: the whole ecs-srv pipeline on loopback, as steps that return what they
//! found. Demo and test infrastructure only; never deployed.
//!
//! `make demo` prints the steps (the `ecs-srv-demo` binary); the root package's
//! `tests/it/e2e.rs` runs the very same steps and asserts on their reports. The steps:
//!
//! 1. moto, a VPC with its private zone, the DNS front, and the real `ecs-srv` binary
//!    serving the Lambda Runtime API of `cargo lambda watch`;
//! 2. an account: two EC2 hosts on loopback IPs, a cluster, service `web` with three
//!    bridge tasks, and a Fargate task of service `api`;
//! 3. a real server on each task's address and port;
//! 4. the RUNNING events, through `cargo lambda invoke`;
//! 5. the zone, through the Route 53 API and through DNS;
//! 6. srv-proxy, and requests through it spread over the tasks;
//! 7. one task drained and stopped by its events, its traffic ending, and a late RUNNING
//!    event that does not bring it back;
//! 8. everything stopped again.
//!
//! This crate does not depend on the `ecs-srv` crate: the e2e test of that crate depends
//! on this one, and the function is driven from outside, as Lambda drives it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod account;
pub mod backend;
pub mod dns;
pub mod events;
mod flow;
pub mod haproxy;
pub mod lambda;
pub mod netns;
pub mod processes;
pub mod prometheus;
pub mod report;
pub mod seed;
pub mod traffic;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

pub use dns_front;
pub use flow::Demo;
pub use lambda::DeliveryPath;
pub use moto_launcher::Workspace;
pub use report::Check;

/// Requests per round through srv-proxy: enough that each of three equally weighted
/// tasks is picked many times (missing one has odds of about 1e-15).
pub const DEFAULT_REQUESTS: usize = 90;

/// Environment variable that selects `ecs-srv replay` instead of the Lambda runtime path.
pub const DELIVERY_ENV: &str = "ECS_SRV_DEMO_DELIVERY";

/// The checkout the demo runs in: `ECS_SRV_ROOT` (`tests/demo/run.sh` sets it), else the
/// nearest `[workspace]` above the working directory. Never the checkout the binary was
/// compiled in: a second clone sharing one target directory runs its own venv and tools.
pub fn workspace_here() -> Result<Workspace> {
    Workspace::find().context("finding the ecs-srv checkout the demo runs in")
}

/// What the demo needs from the machine: where things are, and how to deliver events.
#[derive(Clone, Debug)]
pub struct DemoSetup {
    /// The repository root: cargo-lambda reads its Cargo.toml.
    pub repo_root: PathBuf,
    /// A Python with moto[server].
    pub python: PathBuf,
    /// The script that runs moto until its stdin closes.
    pub moto_script: PathBuf,
    /// The built `ecs-srv` binary.
    pub ecs_srv: PathBuf,
    /// How events reach it.
    pub delivery: DeliveryPath,
    /// Requests per traffic round.
    pub requests: usize,
}

impl DemoSetup {
    /// Finds the pieces in `workspace` the usual way: Python and cargo-lambda from its
    /// `.venv` (what `make deps` creates) unless ECS_SRV_PYTHON or ECS_SRV_CARGO_LAMBDA name
    /// others, and the Lambda runtime path unless ECS_SRV_DEMO_DELIVERY=replay.
    pub fn locate(workspace: &Workspace, ecs_srv: &Path) -> Result<Self> {
        if !ecs_srv.is_file() {
            bail!(
                "{} does not exist: build first (`cargo build --workspace --all-targets`)",
                ecs_srv.display()
            );
        }
        let from_env_or = |var: &str, fallback: PathBuf| {
            std::env::var_os(var).map(PathBuf::from).unwrap_or(fallback)
        };
        let python = workspace.python();
        let delivery = match std::env::var(DELIVERY_ENV).as_deref() {
            Ok("replay") => DeliveryPath::Replay,
            Ok("lambda") | Err(_) => {
                let cargo_lambda =
                    from_env_or("ECS_SRV_CARGO_LAMBDA", workspace.venv_tool("cargo-lambda"));
                if !cargo_lambda.is_file() {
                    bail!(
                        "cargo-lambda not found at {}: run `make deps`, set ECS_SRV_CARGO_LAMBDA, or set {DELIVERY_ENV}=replay",
                        cargo_lambda.display()
                    );
                }
                DeliveryPath::LambdaRuntime { cargo_lambda }
            }
            Ok(other) => {
                bail!("{DELIVERY_ENV} is {other:?}; use `lambda` (the default) or `replay`")
            }
        };
        Ok(Self {
            repo_root: workspace.root().to_owned(),
            python,
            moto_script: workspace.moto_script(),
            ecs_srv: ecs_srv.to_owned(),
            delivery,
            requests: DEFAULT_REQUESTS,
        })
    }

    /// How events are delivered, in words, for the output.
    pub fn delivery_words(&self) -> String {
        match &self.delivery {
            DeliveryPath::LambdaRuntime { .. } => {
                "Lambda Runtime API (cargo lambda watch --only-lambda-apis + cargo lambda invoke)"
                    .to_owned()
            }
            DeliveryPath::Replay => "ecs-srv replay, one run per event".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A checkout other than the one this test was built in, with a venv of its own.
    fn other_checkout() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path();
        std::fs::write(root.join("Cargo.toml"), "[workspace]\nmembers = []\n").expect("Cargo.toml");
        std::fs::create_dir_all(root.join(".venv/bin")).expect("a venv");
        std::fs::write(root.join(".venv/bin/cargo-lambda"), "").expect("cargo-lambda");
        std::fs::write(root.join("ecs-srv"), "").expect("a built ecs-srv");
        std::fs::create_dir_all(root.join("tests/demo")).expect("the demo's folder");
        dir
    }

    /// The demo run from inside another checkout uses that checkout's venv and moto script,
    /// whatever checkout it was compiled in (a baked-in CARGO_MANIFEST_DIR fails this).
    #[test]
    fn the_demo_takes_its_tools_from_the_checkout_it_runs_in() {
        let checkout = other_checkout();
        let root = checkout.path();
        let workspace = Workspace::resolve(&root.join("tests/demo"), None).expect("found");
        let setup = DemoSetup::locate(&workspace, &root.join("ecs-srv")).expect("located");
        assert_eq!(setup.repo_root, root);
        assert_eq!(setup.moto_script, root.join("tests/support/moto_server.py"));
        assert_eq!(setup.python, workspace.python());
    }
}
