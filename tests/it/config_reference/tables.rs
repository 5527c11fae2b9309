//! The reference tables of the docs: a Markdown table whose first header cell is
//! `` `COMMAND` flag `` (a command's flags) or `` `FILE` parameter `` (a template's parameters).

use crate::template::repo_path;

/// One reference table.
#[derive(Debug)]
pub struct Table {
    /// Where it is, for messages (`docs/configuration.md:42`).
    pub at: String,
    /// `ecs-srv status`, `srv-proxy`, `template.yaml`.
    pub subject: String,
    pub rows: Vec<Row>,
}

/// One row of a reference table.
#[derive(Debug)]
pub struct Row {
    /// Where it is, for messages.
    pub at: String,
    /// `--record-ttl`, `<FILES>...`, `RecordTtl`.
    pub name: String,
    /// The variables in the env column.
    pub env: Vec<String>,
    pub default: DefaultCell,
    pub allowed: Allowed,
}

/// The default column.
#[derive(Debug, PartialEq, Eq)]
pub enum DefaultCell {
    /// A value in backticks.
    Value(String),
    /// *required*.
    Required,
    /// Words: the setting is absent unless given (*unset*, *off*, ...).
    Absent,
}

/// The allowed column.
#[derive(Debug, PartialEq)]
pub enum Allowed {
    /// `A to B`, inclusive, as written.
    Range(String, String),
    /// Only values in backticks: every value accepted.
    Values(Vec<String>),
    /// A description; its values in backticks are examples that must be accepted.
    Text(Vec<String>),
}

/// Every reference table of `files` (relative to the repository).
pub fn read_tables(files: &[&str]) -> Vec<Table> {
    let mut tables = Vec::new();
    for file in files {
        let path = repo_path(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
        let lines: Vec<&str> = text.lines().collect();
        let mut index = 0;
        while index < lines.len() {
            let header = cells(lines[index]);
            let subject = header.first().and_then(|first| {
                let (name, kind) = first.rsplit_once(' ')?;
                let name = name.strip_prefix('`')?.strip_suffix('`')?;
                matches!(kind, "flag" | "parameter").then(|| name.to_owned())
            });
            let Some(subject) = subject else {
                index += 1;
                continue;
            };
            let at = format!("{file}:{}", index + 1);
            index += 2; // the header and the |---| line
            let mut rows = Vec::new();
            while index < lines.len() && lines[index].starts_with('|') {
                rows.push(row(
                    &header,
                    &cells(lines[index]),
                    format!("{file}:{}", index + 1),
                ));
                index += 1;
            }
            tables.push(Table { at, subject, rows });
        }
    }
    tables
}

/// The cells of a table line (`\|` is a `|` inside a cell); none for other lines.
fn cells(line: &str) -> Vec<String> {
    let Some(inner) = line
        .trim()
        .strip_prefix('|')
        .and_then(|l| l.strip_suffix('|'))
    else {
        return Vec::new();
    };
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().expect("a cell").push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            other => cells.last_mut().expect("a cell").push(other),
        }
    }
    cells.iter().map(|cell| cell.trim().to_owned()).collect()
}

fn row(header: &[String], cells: &[String], at: String) -> Row {
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .and_then(|i| cells.get(i))
            .map_or("", String::as_str)
    };
    let name = backticked(cells.first().map_or("", String::as_str))
        .first()
        .and_then(|first| first.split_whitespace().next())
        .unwrap_or_default()
        .to_owned();
    let default = column("default");
    let default = match backticked(default).into_iter().next() {
        Some(value) => DefaultCell::Value(value),
        None if default.starts_with("required") => DefaultCell::Required,
        None => DefaultCell::Absent,
    };
    Row {
        at,
        name,
        env: backticked(column("env")),
        default,
        allowed: allowed(column("allowed")),
    }
}

fn allowed(cell: &str) -> Allowed {
    if let Some((low, high)) = cell.split_once(" to ") {
        let number = |text: &str| !text.is_empty() && text.parse::<f64>().is_ok();
        if number(low) && number(high) {
            return Allowed::Range(low.to_owned(), high.to_owned());
        }
    }
    let values = backticked(cell);
    let rest: String = cell.split('`').step_by(2).collect();
    if !values.is_empty() && rest.chars().all(|c| c == ',' || c.is_whitespace()) {
        Allowed::Values(values)
    } else {
        Allowed::Text(values)
    }
}

/// The texts in backticks, in order.
pub fn backticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}
