//! Delivering events to the real `ecs-srv` binary, the way Lambda would.
//!
//! The main path is cargo-lambda's runtime emulator: `cargo lambda watch
//! --only-lambda-apis` serves the Lambda Runtime API without building anything, the
//! `ecs-srv` binary runs against it as a long-lived function (so its warm caches work as
//! in AWS), and each event is sent with `cargo lambda invoke`, one invocation per event as
//! EventBridge does. The fallback, for machines without cargo-lambda, is `ecs-srv replay`,
//! which runs the same handler once per file.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;
use tokio::process::Command;

use crate::processes::{free_loopback_port, wait_for_listener, ChildGuard};

/// The function name the runtime registers under, and the one invocations name.
const FUNCTION_NAME: &str = "ecs-srv";

/// Free-port picks for the emulator before giving up (another program may take the port
/// between the pick and cargo-lambda's bind).
const EMULATOR_ATTEMPTS: usize = 3;

/// How long one invocation may take, start to answer.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);

/// How events reach `ecs-srv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryPath {
    /// The Lambda Runtime API of `cargo lambda watch`, with this `cargo-lambda` program.
    LambdaRuntime {
        /// The cargo-lambda executable.
        cargo_lambda: PathBuf,
    },
    /// `ecs-srv replay FILE`, once per event.
    Replay,
}

/// The function, ready for events.
pub struct Function {
    ecs_srv: PathBuf,
    env: Vec<(String, String)>,
    work_dir: PathBuf,
    runtime: Option<LambdaRuntime>,
    sent: usize,
}

struct LambdaRuntime {
    cargo_lambda: PathBuf,
    emulator_addr: SocketAddr,
    emulator: ChildGuard,
    function: ChildGuard,
}

/// What ecs-srv did with one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// The task the event was about, as ecs-srv read it.
    pub task_id: Option<String>,
    /// `publish`, `withdraw` or `ignore`.
    pub decision: String,
    /// The record changes it made, one line each: `CREATE SRV name value`.
    pub changes: Vec<String>,
    /// AWS requests it made, by `Service.Operation` (`ECS.DescribeTasks`...).
    pub api_calls: BTreeMap<String, u64>,
    /// Start to answer.
    pub elapsed: Duration,
}

impl Function {
    /// Starts the function. `repo_root` is where cargo-lambda runs (it reads the
    /// workspace's Cargo.toml); `env` configures ecs-srv (AWS endpoint, zone, TTL).
    pub async fn start(
        path: &DeliveryPath,
        ecs_srv: &Path,
        repo_root: &Path,
        env: Vec<(String, String)>,
        work_dir: &Path,
    ) -> Result<Self> {
        let runtime = match path {
            DeliveryPath::Replay => None,
            DeliveryPath::LambdaRuntime { cargo_lambda } => {
                Some(LambdaRuntime::start(cargo_lambda, ecs_srv, repo_root, &env, work_dir).await?)
            }
        };
        Ok(Self {
            ecs_srv: ecs_srv.to_owned(),
            env,
            work_dir: work_dir.to_owned(),
            runtime,
            sent: 0,
        })
    }

    /// The Runtime API address, when the Lambda path is used, for the output.
    pub fn runtime_api(&self) -> Option<SocketAddr> {
        self.runtime.as_ref().map(|r| r.emulator_addr)
    }

    /// The child processes, for the cleanup report.
    pub fn processes(&self) -> Vec<(String, Option<u32>)> {
        self.runtime
            .iter()
            .flat_map(|r| [&r.emulator, &r.function])
            .map(|c| (c.name().to_owned(), c.id()))
            .collect()
    }

    /// Sends one event and returns what ecs-srv did with it. An event that ecs-srv
    /// rejects is an error, with ecs-srv's message.
    pub async fn deliver(&mut self, event: &Value) -> Result<Invocation> {
        self.sent += 1;
        let file = self.work_dir.join(format!("event-{:02}.json", self.sent));
        let text = serde_json::to_vec_pretty(event).context("serializing an event")?;
        tokio::fs::write(&file, text)
            .await
            .with_context(|| format!("writing {}", file.display()))?;
        let started = Instant::now();
        let report = match &mut self.runtime {
            Some(runtime) => runtime.invoke(&file).await?,
            None => replay(&self.ecs_srv, &self.env, &file).await?,
        };
        read_report(&report, started.elapsed())
    }

    /// Stops the function and the emulator.
    pub async fn stop(self) -> Result<()> {
        if let Some(runtime) = self.runtime {
            runtime.function.stop().await?;
            runtime.emulator.stop().await?;
        }
        Ok(())
    }
}

impl LambdaRuntime {
    async fn start(
        cargo_lambda: &Path,
        ecs_srv: &Path,
        repo_root: &Path,
        env: &[(String, String)],
        work_dir: &Path,
    ) -> Result<Self> {
        let mut last_error = None;
        for attempt in 1..=EMULATOR_ATTEMPTS {
            let port = free_loopback_port()?;
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let mut command = Command::new(cargo_lambda);
            command
                .args([
                    "lambda",
                    "watch",
                    "--only-lambda-apis",
                    "--invoke-address",
                    "127.0.0.1",
                ])
                .args(["--invoke-port", &port.to_string()])
                .current_dir(repo_root)
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::null());
            let log = work_dir.join(format!("cargo-lambda-watch-{attempt}.log"));
            let mut emulator = ChildGuard::spawn("cargo lambda watch", &mut command, &log)
                .with_context(|| {
                    format!(
                        "cargo-lambda is installed by `make deps` into .venv (tried {})",
                        cargo_lambda.display()
                    )
                })?;
            match wait_for_listener(&mut emulator, addr, Duration::from_secs(10)).await {
                Ok(()) => {
                    let function = start_function(ecs_srv, addr, env, work_dir)?;
                    return Ok(Self {
                        cargo_lambda: cargo_lambda.to_owned(),
                        emulator_addr: addr,
                        emulator,
                        function,
                    });
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("cargo lambda watch did not start")))
    }

    async fn invoke(&mut self, file: &Path) -> Result<Value> {
        self.function.ensure_running()?;
        let mut command = Command::new(&self.cargo_lambda);
        command
            .args([
                "lambda",
                "invoke",
                FUNCTION_NAME,
                "--invoke-address",
                "127.0.0.1",
            ])
            .args(["--invoke-port", &self.emulator_addr.port().to_string()])
            .args(["--output-format", "json", "--color", "never"])
            .arg("--data-file")
            .arg(file)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let output = tokio::time::timeout(INVOKE_TIMEOUT, command.output())
            .await
            .with_context(|| {
                format!(
                    "cargo lambda invoke got no answer within {INVOKE_TIMEOUT:?}; ecs-srv's log:\n{}",
                    self.function.log_tail()
                )
            })?
            .context("running cargo lambda invoke")?;
        if !output.status.success() {
            bail!(
                "ecs-srv failed the invocation of {}: {}",
                file.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        serde_json::from_slice(&output.stdout).with_context(|| {
            format!(
                "cargo lambda invoke printed no JSON: {}",
                String::from_utf8_lossy(&output.stdout).trim()
            )
        })
    }
}

/// Runs `ecs-srv` as Lambda runs a `provided.al2023` function: with the Runtime API's
/// address in AWS_LAMBDA_RUNTIME_API and the function's identity in the environment.
/// cargo-lambda serves each function's queue under `/.rt/<name>`.
fn start_function(
    ecs_srv: &Path,
    emulator: SocketAddr,
    env: &[(String, String)],
    work_dir: &Path,
) -> Result<ChildGuard> {
    let mut command = Command::new(ecs_srv);
    command
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://{emulator}/.rt/{FUNCTION_NAME}"),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    ChildGuard::spawn(
        "ecs-srv (Lambda function)",
        &mut command,
        &work_dir.join("ecs-srv.log"),
    )
}

/// `ecs-srv replay FILE`, whose JSON summary holds the same report per file.
async fn replay(ecs_srv: &Path, env: &[(String, String)], file: &Path) -> Result<Value> {
    let mut command = Command::new(ecs_srv);
    command
        .arg("replay")
        .arg(file)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(INVOKE_TIMEOUT, command.output())
        .await
        .context("ecs-srv replay did not finish in time")?
        .with_context(|| format!("running {} replay", ecs_srv.display()))?;
    let summary: Value = serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "ecs-srv replay printed no JSON summary; stderr: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )
    })?;
    let report = summary["invocations"][0].clone();
    if !output.status.success() {
        bail!(
            "ecs-srv replay failed for {}: {}",
            file.display(),
            report["events"][0]["error"]
        );
    }
    Ok(report)
}

/// Reads the invocation report ecs-srv returns: its one event's decision, and the changes
/// of every ChangeBatch it sent.
fn read_report(report: &Value, elapsed: Duration) -> Result<Invocation> {
    let event = report["events"]
        .get(0)
        .with_context(|| format!("ecs-srv's answer lists no event: {report}"))?;
    let changes = report["batches"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|batch| batch["changes"].as_array().into_iter().flatten())
        .map(|change| {
            let set = &change["record_set"];
            let values: Vec<&str> = set["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            format!(
                "{} {} {} {}",
                change["action"].as_str().unwrap_or("?"),
                set["type"].as_str().unwrap_or("?"),
                set["name"].as_str().unwrap_or("?"),
                values.join(" ")
            )
        })
        .collect();
    let api_calls = report["api_calls"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(operation, count)| Some((operation.clone(), count.as_u64()?)))
        .collect();
    Ok(Invocation {
        task_id: event["task_id"].as_str().map(str::to_owned),
        decision: event["decision"].as_str().unwrap_or("unknown").to_owned(),
        changes,
        api_calls,
        elapsed,
    })
}
