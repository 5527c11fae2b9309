//! `ecs-srv-demo`: runs the demo's steps and prints what each one found; `make demo`
//! runs it through `tests/demo/run.sh`.
//!
//! It exits 0 only when every step did what it should, 1 when one did not, and 130 on
//! Ctrl-C (SIGINT) or SIGTERM. In every case every process it started is stopped first.

mod print;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ecs_srv_demo::{Demo, DemoSetup};
use tokio::process::Command;

use print::{short, Printer};

#[tokio::main]
async fn main() -> ExitCode {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                eprintln!("ecs-srv-demo: cannot install a SIGTERM handler: {error}");
                return ExitCode::FAILURE;
            }
        };
    let started = Instant::now();
    // Dropping the demo's future (on a signal) drops its guards, which kill every child.
    let outcome = tokio::select! {
        outcome = run() => outcome.map_err(Some),
        _ = tokio::signal::ctrl_c() => Err(None),
        _ = terminate.recv() => Err(None),
    };
    match outcome {
        Ok(()) => {
            println!(
                "\nDemo finished in {:.1}s: every step did what it should.",
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(None) => {
            eprintln!("\necs-srv-demo: interrupted; every process it started has been stopped.");
            ExitCode::from(130)
        }
        Err(Some(error)) => {
            eprintln!("\necs-srv-demo failed: {error:#}");
            eprintln!("Every process it started has been stopped.");
            ExitCode::FAILURE
        }
    }
}

/// Runs the steps in order; the first step that fails (or finds a problem) ends the run,
/// and dropping `demo` on the way out stops everything it started.
async fn run() -> Result<()> {
    let workspace = ecs_srv_demo::workspace_here()?;
    let setup = DemoSetup::locate(&workspace, &ecs_srv_binary(workspace.root())?)?;
    let out = Printer::new();
    out.title(
        "ecs-srv demo: ECS task events → Route 53 SRV records → DNS → srv-proxy, all on loopback",
    );

    out.step(
        1,
        "Start moto, the private zone, the DNS front and the ecs-srv function",
    );
    let (mut demo, start) = Demo::start(setup).await?;
    out.field("moto (AWS APIs)", &start.moto_endpoint);
    out.field(
        "private zone",
        &format!("demo.internal. ({})", start.zone_id),
    );
    out.field(
        "DNS front",
        &format!("{} (UDP and TCP, Route 53 answer rules)", start.dns_addr),
    );
    out.field("events go through", &start.delivery);
    if let Some(api) = start.runtime_api {
        out.field(
            "Lambda Runtime API",
            &format!("http://{api}/.rt/ecs-srv, served by cargo lambda watch"),
        );
    }
    out.field(
        "ecs-srv settings",
        "RECORD_TTL=0 (srv-proxy resolves for every connection), CLUSTERS=demo",
    );

    out.step(2, "Seed the account");
    let seed = demo.seed().await?;
    out.field("VPC", &seed.vpc);
    for (instance, ip) in &seed.hosts {
        out.field("EC2 host", &format!("{instance} at {ip}"));
    }
    out.field("cluster", &seed.cluster_arn);
    for task in &seed.tasks {
        out.field(
            &format!("task {}", short(&task.task_id)),
            &format!("service {:<4} {}", task.service, task.placement),
        );
    }

    out.step(
        3,
        "Start a server for each task, on its own address and port",
    );
    let servers = demo.start_servers().await?;
    for (task, service, addr) in &servers.servers {
        out.field(
            &format!("task {}", short(task)),
            &format!("{service:<4} http://{addr}/ answers with its task id"),
        );
    }

    out.step(4, "Deliver the RUNNING events to ecs-srv");
    let published = demo.publish_running().await?;
    out.invocations(&published.invocations);
    out.check(&published)?;

    out.step(5, "The zone, as Route 53 holds it and as dig sees it");
    let zone = demo.inspect_zone().await?;
    out.zone(&zone.records);
    let web_srv = Demo::srv_name("web");
    let web_all = Demo::whole_set_name("web");
    let api_srv = Demo::srv_name("api");
    let task_name = zone
        .task_names
        .first()
        .map(|(name, _, _)| name.clone())
        .unwrap_or_default();
    let web_a = "web.demo.internal.".to_owned();
    let queries = [
        ("SRV", &web_srv),
        ("SRV", &web_all),
        ("SRV", &api_srv),
        ("A", &task_name),
        ("A", &web_a),
    ];
    match demo.dns_addr() {
        Some(dns) if dig_installed().await => {
            for (kind, name) in queries {
                dig(&out, dns.port(), &[kind, name]).await;
            }
            dig_tally(&out, dns.port(), &web_srv, 12).await;
        }
        _ => {
            out.note("dig is not installed (`make deps` installs bind9-dnsutils); the same queries with hickory:");
            for (kind, name) in queries {
                out.command(&format!("{kind} {name}"));
                if kind == "SRV" {
                    out.srv_answer(name, &demo.dns().srv(name).await?);
                } else {
                    out.a_answer(name, &demo.dns().a(name).await?);
                }
            }
        }
    }
    out.note(&format!(
        "{} SRV queries saw all {} web tasks, at most {} record per answer (weighted: Route 53 picks one per query)",
        zone.srv_queries,
        zone.srv_by_task.len(),
        zone.most_records_per_answer
    ));
    out.check(&zone)?;

    out.step(6, "Send requests through srv-proxy");
    let traffic = demo.send_traffic().await?;
    for (name, addr) in &traffic.routes {
        out.field("route", &format!("{addr} → {name}"));
    }
    out.spread(
        &format!("{} requests to web", traffic.web.sent),
        &traffic.web,
        &traffic.web_tasks,
        None,
    );
    out.spread(
        &format!("{} requests to api", traffic.api.sent),
        &traffic.api,
        std::slice::from_ref(&traffic.api_task),
        None,
    );
    out.check(&traffic)?;
    out.note("and a stock HAProxy on the same zone, with the server-template of docs/clients.md:");
    let haproxy = demo.haproxy().await?;
    out.field(
        "haproxy",
        &format!("{} → {}", haproxy.listen, haproxy.srv_name),
    );
    for slot in &haproxy.slots {
        out.field(
            &format!("slot {}", slot.name),
            &format!(
                "task {} at {}, HAProxy weight {}",
                short(&slot.fqdn),
                slot.addr,
                slot.weight
            ),
        );
    }
    out.note(&format!(
        "filled {} slots {:.1}s after it started",
        haproxy.slots.len(),
        haproxy.filled_after.as_secs_f64()
    ));
    out.spread(
        &format!("{} requests through HAProxy", haproxy.spread.sent),
        &haproxy.spread,
        &haproxy.web_tasks,
        None,
    );
    out.check(&haproxy)?;

    out.step(7, "Drain and stop one web task");
    let drain = demo.drain_one().await?;
    out.field(
        "ECS",
        &format!(
            "StopTask {}: desired status STOPPED, the agent starts draining",
            short(&drain.task_id)
        ),
    );
    out.invocations(&[(
        format!("DRAINING web {}", drain.task_id),
        drain.draining.clone(),
    )]);
    out.spread(
        &format!(
            "{} requests while it drains (its server is still up)",
            drain.during_drain.sent
        ),
        &drain.during_drain,
        &traffic.web_tasks,
        Some(&drain.task_id),
    );
    out.note(&format!(
        "its server accepted {} connections meanwhile",
        drain.connections_while_draining
    ));
    if let Some(after) = drain.haproxy_dropped_after {
        out.note(&format!(
            "HAProxy dropped its slot {:.1}s after the withdrawal",
            after.as_secs_f64()
        ));
    }
    out.invocations(&[(
        format!("STOPPED web {}", drain.task_id),
        drain.stopped.clone(),
    )]);
    out.check(&drain)?;
    out.note("then the task's first RUNNING event arrives again, late (EventBridge delivers at least once, in any order):");
    let late = demo.late_running().await?;
    out.invocations(&[(
        format!("late RUNNING web {}", late.task_id),
        late.invocation.clone(),
    )]);
    out.note(&format!(
        "ecs-srv made {} DescribeTasks call(s), ECS says {}, and ecs-srv decided: {} ({} changes); {} SRV queries named it {} times, {} records name it",
        late.describe_tasks_calls(),
        late.ecs_status,
        late.invocation.decision,
        late.invocation.changes.len(),
        late.srv_queries,
        late.srv_answers_naming_task,
        late.records_left.len()
    ));
    out.spread(
        &format!("{} more requests", late.traffic.sent),
        &late.traffic,
        &traffic.web_tasks,
        Some(&late.task_id),
    );
    out.check(&late)?;

    out.step(8, "Clean up");
    let cleanup = demo.shutdown().await?;
    out.field("stopped", &cleanup.stopped.join(", "));
    Ok(())
}

/// Whether `dig` runs at all.
async fn dig_installed() -> bool {
    let probe = Command::new("dig").arg("-v").kill_on_drop(true).output();
    matches!(
        tokio::time::timeout(Duration::from_secs(5), probe).await,
        Ok(Ok(_))
    )
}

/// Runs `dig @127.0.0.1 -p PORT ARGS...` against the DNS front; `None` if it fails.
async fn dig_output(port: u16, args: &[&str]) -> Option<String> {
    let mut command = Command::new("dig");
    command
        .args(["@127.0.0.1", "-p", &port.to_string(), "+tries=1", "+time=2"])
        .args(args)
        .kill_on_drop(true);
    match tokio::time::timeout(Duration::from_secs(5), command.output()).await {
        Ok(Ok(output)) if output.status.success() => {
            Some(String::from_utf8_lossy(&output.stdout).into_owned())
        }
        _ => None,
    }
}

/// Shows one `dig` query against the DNS front.
async fn dig(out: &Printer, port: u16, query: &[&str]) {
    out.command(&format!(
        "dig @127.0.0.1 -p {port} +noall +answer {}",
        query.join(" ")
    ));
    let mut args = vec!["+noall", "+answer"];
    args.extend_from_slice(query);
    match dig_output(port, &args).await {
        Some(text) => out.block(&text),
        None => out.note("dig failed or timed out"),
    }
}

/// Asks for the SRV name `times` times with `dig +short` and shows which task each
/// weighted answer named: Route 53 draws one record set per query.
async fn dig_tally(out: &Printer, port: u16, name: &str, times: usize) {
    out.command(&format!(
        "for i in $(seq {times}); do dig @127.0.0.1 -p {port} +short SRV {name}; done"
    ));
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..times {
        let text = dig_output(port, &["+short", "SRV", name])
            .await
            .unwrap_or_default();
        for line in text.lines() {
            let target = line.split_whitespace().nth(3).unwrap_or("?");
            *tally.entry(short(target).to_owned()).or_default() += 1;
        }
    }
    let counts: Vec<String> = tally
        .iter()
        .map(|(task, n)| format!("{task} ×{n}"))
        .collect();
    out.block(&format!(
        "{}   (one answer per query, drawn by weight)",
        counts.join("   ")
    ));
}

/// `ecs-srv` from ECS_SRV_BIN, else from `$TARGET_DIR/debug` (relative to the checkout the
/// demo runs in, `root`), else beside this binary: `cargo build --workspace` puts both in
/// the same directory.
fn ecs_srv_binary(root: &Path) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("ECS_SRV_BIN") {
        return Ok(PathBuf::from(path));
    }
    if let Some(dir) = std::env::var_os("TARGET_DIR") {
        let dir = PathBuf::from(dir);
        let dir = if dir.is_relative() {
            root.join(dir)
        } else {
            dir
        };
        return Ok(dir.join("debug/ecs-srv"));
    }
    let me = std::env::current_exe().context("finding this binary's path")?;
    match me.parent() {
        Some(dir) => Ok(dir.join("ecs-srv")),
        None => bail!("cannot tell where ecs-srv is built; set ECS_SRV_BIN"),
    }
}
