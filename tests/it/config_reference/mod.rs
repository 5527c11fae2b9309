//! The configuration reference against the real definitions. `docs/configuration.md` (and
//! srv-proxy's tables in `proxy/README.md`) must list every flag and variable of every
//! command, as `--help` gives them, with the same default; every range is probed at both ends
//! and just past them through the real parsers, every value listed is accepted, and possible
//! values match clap's; every parameter of both templates is listed with its `Default` and its
//! `AllowedValues`, `MinValue`/`MaxValue` or `AllowedPattern`. Nothing may be listed that does
//! not exist. And the template's environment only sets flags of `ecs-srv`, with the defaults
//! and ranges the binary has.

mod help;
mod tables;
mod templates;

use clap::CommandFactory;

use crate::template::{read_template, the_function};
use help::{Flag, Program};
use tables::{read_tables, Allowed, DefaultCell, Row, Table};
use templates::{check_parameters, parameter_agrees};

/// Where the reference tables are.
const DOCS: &[&str] = &["docs/configuration.md", "proxy/README.md"];
const TEMPLATES: &[&str] = &["template.yaml", "zone-role.yaml"];
/// Flags every command has; the reference mentions them once, in words.
const EVERYWHERE: &[&str] = &["--help", "--version"];
/// Variables the template sets that are not flags (tracing reads `RUST_LOG` itself).
const NOT_FLAGS: &[&str] = &["RUST_LOG"];

fn programs() -> [Program; 2] {
    [
        Program::Binary {
            name: "ecs-srv",
            path: env!("CARGO_BIN_EXE_ecs-srv"),
        },
        Program::Clap {
            name: "srv-proxy",
            command: srv_proxy::config::Cli::command,
        },
    ]
}

#[test]
fn the_reference_lists_every_flag_and_parameter_as_defined() {
    let tables = read_tables(DOCS);
    let mut problems = Vec::new();
    let mut subjects = Vec::new();
    for program in programs() {
        for (path, flags) in commands(&program) {
            let subject = std::iter::once(program.name())
                .chain(path.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" ");
            let rows = rows_of(&tables, &subject);
            check_flags(&program, &path, &subject, &flags, &rows, &mut problems);
            subjects.push(subject);
        }
    }
    for file in TEMPLATES {
        check_parameters(file, &rows_of(&tables, file), &mut problems);
        subjects.push((*file).to_owned());
    }
    for table in tables.iter().filter(|t| !subjects.contains(&t.subject)) {
        problems.push(format!(
            "{}: a table for `{}`, which is neither a command nor a template",
            table.at, table.subject
        ));
    }
    report("docs/configuration.md and proxy/README.md", problems);
}

#[test]
fn the_template_sets_only_flags_of_ecs_srv_with_their_defaults_and_ranges() {
    let [ecs_srv, _] = programs();
    let help = ecs_srv.help(&[]);
    let template = read_template("template.yaml");
    let parameters = &template["Parameters"];
    let variables = the_function(&template)["Properties"]["Environment"]["Variables"]
        .as_object()
        .expect("the function's Environment.Variables");
    let mut problems = Vec::new();
    for (variable, value) in variables {
        if NOT_FLAGS.contains(&variable.as_str()) {
            continue;
        }
        let Some(flag) = help.flags.iter().find(|f| f.env.as_ref() == Some(variable)) else {
            problems.push(format!(
                "template.yaml sets {variable}, which no flag of `ecs-srv --help` reads"
            ));
            continue;
        };
        if let Some(name) = value["Ref"].as_str().filter(|n| parameters[*n].is_object()) {
            parameter_agrees(&ecs_srv, flag, name, &parameters[name], &mut problems);
        }
    }
    report("template.yaml", problems);
}

/// Every command of `program` (its path of subcommand names) with its own flags: a flag a
/// subcommand repeats word for word from its parent is the parent's (a global flag).
fn commands(program: &Program) -> Vec<(Vec<String>, Vec<Flag>)> {
    fn walk(
        program: &Program,
        path: Vec<String>,
        inherited: &[Flag],
        found: &mut Vec<(Vec<String>, Vec<Flag>)>,
    ) {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let help = program.help(&args);
        let own = help
            .flags
            .iter()
            .filter(|f| !EVERYWHERE.contains(&f.name.as_str()) && !inherited.contains(f))
            .cloned()
            .collect();
        for command in &help.commands {
            let mut sub = path.clone();
            sub.push(command.clone());
            walk(program, sub, &help.flags, found);
        }
        found.push((path, own));
    }
    let mut found = Vec::new();
    walk(program, Vec::new(), &[], &mut found);
    found
}

fn rows_of<'a>(tables: &'a [Table], subject: &str) -> Vec<&'a Row> {
    tables
        .iter()
        .filter(|table| table.subject == subject)
        .flat_map(|table| &table.rows)
        .collect()
}

fn check_flags(
    program: &Program,
    path: &[String],
    subject: &str,
    flags: &[Flag],
    rows: &[&Row],
    problems: &mut Vec<String>,
) {
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    for flag in flags {
        let Some(row) = rows.iter().find(|row| row.name == flag.name) else {
            problems.push(format!(
                "`{subject} --help` lists {} (env {:?}), which no `{subject}` flag table documents",
                flag.name, flag.env
            ));
            continue;
        };
        let who = format!("{}: `{subject}` {}", row.at, flag.name);
        if row.env != flag.env.iter().cloned().collect::<Vec<_>>() {
            problems.push(format!(
                "{who}: env {:?} documented, {:?} in --help",
                row.env, flag.env
            ));
        }
        let default = match (&flag.default, flag.required) {
            (Some(value), _) => DefaultCell::Value(value.clone()),
            (None, true) => DefaultCell::Required,
            (None, false) => DefaultCell::Absent,
        };
        if row.default != default {
            problems.push(format!(
                "{who}: default {:?} documented, {default:?} in --help",
                row.default
            ));
        }
        check_allowed(program, &path, flag, row, &who, problems);
    }
    for row in rows
        .iter()
        .filter(|row| !flags.iter().any(|f| f.name == row.name))
    {
        problems.push(format!(
            "{}: `{subject}` has no flag {} (see `{subject} --help`)",
            row.at, row.name
        ));
    }
}

fn check_allowed(
    program: &Program,
    path: &[&str],
    flag: &Flag,
    row: &Row,
    who: &str,
    problems: &mut Vec<String>,
) {
    let numeric = flag
        .default
        .as_deref()
        .is_some_and(|d| d.parse::<f64>().is_ok());
    match &row.allowed {
        Allowed::Values(values) if !flag.values.is_empty() => {
            if sorted(values) != sorted(&flag.values) {
                problems.push(format!(
                    "{who}: values {values:?} documented, {:?} in --help",
                    flag.values
                ));
            }
        }
        _ if !flag.values.is_empty() => {
            problems.push(format!(
                "{who}: list exactly its possible values {:?}",
                flag.values
            ));
        }
        Allowed::Range(low, high) => {
            for problem in range_problems(program, path, &flag.name, low, high) {
                problems.push(format!("{who}: {problem}"));
            }
        }
        _ if numeric => problems.push(format!("{who}: a number; give its range as `A to B`")),
        Allowed::Values(values) | Allowed::Text(values) => {
            for value in values
                .iter()
                .filter(|v| !program.accepts(path, &flag.name, v))
            {
                problems.push(format!("{who}: the documented value `{value}` is refused"));
            }
        }
    }
}

/// What is wrong with `low to high` as the range `flag` accepts: both ends must pass, and the
/// values just past them must not.
fn range_problems(
    program: &Program,
    path: &[&str],
    flag: &str,
    low: &str,
    high: &str,
) -> Vec<String> {
    let (below, above) = match (low.parse::<i64>(), high.parse::<i64>()) {
        (Ok(low), Ok(high)) => ((low - 1).to_string(), (high + 1).to_string()),
        _ => {
            let number = |text: &str| text.parse::<f64>().expect("a number");
            (
                (number(low) - 0.01).to_string(),
                (number(high) + 0.01).to_string(),
            )
        }
    };
    let mut problems = Vec::new();
    for inside in [low, high]
        .into_iter()
        .filter(|v| !program.accepts(path, flag, v))
    {
        problems.push(format!("refuses {inside}, inside {low} to {high}"));
    }
    for outside in [below, above]
        .into_iter()
        .filter(|v| program.accepts(path, flag, v))
    {
        problems.push(format!("accepts {outside}, outside {low} to {high}"));
    }
    problems
}

fn sorted(values: &[String]) -> Vec<&String> {
    let mut sorted: Vec<&String> = values.iter().collect();
    sorted.sort();
    sorted
}

fn report(what: &str, problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{what} out of step with the definitions ({} problem(s)):\n- {}",
        problems.len(),
        problems.join("\n- ")
    );
}
