//! How the demo binary prints: numbered steps, aligned fields, dig-style records and
//! bar charts of where requests went. Plain text, so it reads the same in a terminal, a
//! CI log or a README.

use std::net::Ipv4Addr;

use anyhow::{bail, Result};
use ecs_srv_demo::dns::{SrvRecord, ZoneRecord};
use ecs_srv_demo::lambda::Invocation;
use ecs_srv_demo::traffic::Spread;
use ecs_srv_demo::Check;

/// Steps in the demo, for the `[n/8]` headers.
const STEPS: usize = 8;

/// Width of a full bar in the request charts.
const BAR_WIDTH: usize = 40;

/// Task ids are 36 characters; eight tell them apart in the output.
pub fn short(task_id: &str) -> &str {
    task_id.get(..8).unwrap_or(task_id)
}

/// Prints to stdout; stateless, but a type keeps the layout rules in one place.
pub struct Printer;

impl Printer {
    /// A printer.
    pub fn new() -> Self {
        Self
    }

    /// The banner.
    pub fn title(&self, text: &str) {
        println!("{text}");
    }

    /// A step header.
    pub fn step(&self, number: usize, title: &str) {
        println!("\n[{number}/{STEPS}] {title}");
    }

    /// `label  value`, aligned.
    pub fn field(&self, label: &str, value: &str) {
        println!("    {label:<20} {value}");
    }

    /// A remark in the flow of a step.
    pub fn note(&self, text: &str) {
        println!("    · {text}");
    }

    /// A shell command about to run.
    pub fn command(&self, text: &str) {
        println!("    $ {text}");
    }

    /// A command's output, indented; `(no answer)` when empty.
    pub fn block(&self, text: &str) {
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            println!("      (no answer)");
        }
        for line in lines {
            println!("      {}", line.replace('\t', "  "));
        }
    }

    /// Each event, ecs-srv's decision, and the changes it made.
    pub fn invocations(&self, invocations: &[(String, Invocation)]) {
        for (label, invocation) in invocations {
            println!(
                "    {label} → {}, {} changes ({} ms)",
                invocation.decision,
                invocation.changes.len(),
                invocation.elapsed.as_millis()
            );
            for change in &invocation.changes {
                println!("        {change}");
            }
        }
    }

    /// The zone in zone-file form, with each set's routing as a comment.
    pub fn zone(&self, records: &[ZoneRecord]) {
        let name_width = records.iter().map(|r| r.name.len()).max().unwrap_or(0);
        let value_width = records
            .iter()
            .flat_map(|r| r.values.iter().map(String::len))
            .max()
            .unwrap_or(0);
        println!(
            "    ; demo.internal. as ListResourceRecordSets returns it: {} record sets",
            records.len()
        );
        for record in records {
            let routing = match (&record.weight, &record.set_identifier) {
                (Some(weight), Some(_)) => format!("; weighted, weight {weight}"),
                (None, Some(_)) => "; multivalue".to_owned(),
                _ => "; simple".to_owned(),
            };
            for value in &record.values {
                println!(
                    "    {:<name_width$} {} IN {:<3} {:<value_width$}  {routing}",
                    record.name, record.ttl, record.record_type, value
                );
            }
        }
    }

    /// SRV records the way dig prints an answer section.
    pub fn srv_answer(&self, name: &str, records: &[SrvRecord]) {
        if records.is_empty() {
            println!("      (no answer)");
        }
        for r in records {
            println!(
                "      {name} {} IN SRV {} {} {} {}",
                r.ttl, r.priority, r.weight, r.port, r.target
            );
        }
    }

    /// A records the way dig prints an answer section.
    pub fn a_answer(&self, name: &str, addresses: &[Ipv4Addr]) {
        if addresses.is_empty() {
            println!("      (no answer)");
        }
        for ip in addresses {
            println!("      {name} 0 IN A {ip}");
        }
    }

    /// A bar chart of which task answered, in the order of `tasks`. `gone` marks a task
    /// that should have had no traffic.
    pub fn spread(&self, title: &str, spread: &Spread, tasks: &[String], gone: Option<&str>) {
        println!("    {title}, in {} ms:", spread.elapsed.as_millis());
        let most = spread.by_task.values().copied().max().unwrap_or(1).max(1);
        for task in tasks {
            let count = spread.count(task);
            let bar = "█".repeat((count * BAR_WIDTH).div_ceil(most));
            let mark = match gone {
                Some(gone) if gone == task => "  ← drained",
                _ => "",
            };
            println!("      {}  {count:>4}  {bar}{mark}", short(task));
        }
        for (task, count) in &spread.by_task {
            if !tasks.contains(task) {
                println!("      {}  {count:>4}  (unexpected task)", short(task));
            }
        }
        for failure in spread.failures.iter().take(3) {
            println!("      failed: {failure}");
        }
    }

    /// Prints the step's verdict; fails with its problems, which ends the demo.
    pub fn check(&self, report: &dyn Check) -> Result<()> {
        let problems = report.problems();
        if problems.is_empty() {
            println!("    ✓ as expected");
            return Ok(());
        }
        for problem in &problems {
            println!("    ✗ {problem}");
        }
        bail!("{}", problems.join("; "))
    }
}
