//! What a program's `--help` says (its commands and, per flag, the name, the variable, the
//! default, the values it takes and whether it is required), and whether it accepts a value.

use std::process::Command as Process;

use clap::error::ErrorKind;

/// A program whose flags are documented.
pub enum Program {
    /// A binary of this package, run with nothing of this process's environment.
    Binary {
        name: &'static str,
        path: &'static str,
    },
    /// The clap definition a binary of another crate parses (its `main` is `Cli::parse()`), so
    /// its `--help` is this text; the root package's tests cannot build another crate's binary.
    Clap {
        name: &'static str,
        command: fn() -> clap::Command,
    },
}

impl Program {
    pub fn name(&self) -> &'static str {
        match self {
            Program::Binary { name, .. } | Program::Clap { name, .. } => name,
        }
    }

    /// Runs the program with `args`: whether it succeeded, and what it printed.
    fn run(&self, args: &[&str]) -> (bool, String) {
        match self {
            Program::Binary { path, .. } => {
                let output = Process::new(path)
                    .args(args)
                    .env_clear()
                    .output()
                    .unwrap_or_else(|error| panic!("running {path}: {error}"));
                let mut printed = String::from_utf8_lossy(&output.stdout).into_owned();
                printed.push_str(&String::from_utf8_lossy(&output.stderr));
                (output.status.success(), printed)
            }
            Program::Clap { name, command } => {
                let argv = std::iter::once(*name).chain(args.iter().copied());
                match command().try_get_matches_from(argv) {
                    Ok(_) => (true, String::new()),
                    Err(error) => (
                        matches!(error.kind(), ErrorKind::DisplayHelp),
                        error.render().to_string(),
                    ),
                }
            }
        }
    }

    /// The `--help` of the command at `path` (empty: the program itself).
    pub fn help(&self, path: &[&str]) -> Help {
        let mut args = path.to_vec();
        args.push("--help");
        let (ok, text) = self.run(&args);
        assert!(
            ok,
            "{} {} --help failed:\n{text}",
            self.name(),
            path.join(" ")
        );
        Help::parse(&text)
    }

    /// Whether `flag` of the command at `path` takes `value`. clap checks each value as it
    /// reads it, and a `--help` after it stops the program before anything runs.
    pub fn accepts(&self, path: &[&str], flag: &str, value: &str) -> bool {
        let given = if flag.starts_with('<') {
            value.to_owned()
        } else {
            format!("{flag}={value}")
        };
        let mut args = path.to_vec();
        args.push(&given);
        args.push("--help");
        self.run(&args).0
    }
}

/// One command's help.
#[derive(Debug, Default)]
pub struct Help {
    /// Its subcommands, `help` left out.
    pub commands: Vec<String>,
    /// Its flags and positional arguments, as listed.
    pub flags: Vec<Flag>,
}

/// One flag or positional argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// `--record-ttl`, or `<FILES>...` for a positional argument.
    pub name: String,
    /// Whether it takes a value (a switch does not).
    pub takes_value: bool,
    /// `[env: NAME=]`.
    pub env: Option<String>,
    /// `[default: VALUE]`, verbatim (`""` for the empty string).
    pub default: Option<String>,
    /// The possible values clap lists.
    pub values: Vec<String>,
    /// Whether the usage line requires it, or its help says it is required unless another
    /// flag is given (clap leaves such a flag out of the usage line).
    pub required: bool,
    /// Its whole entry, to tell a global flag repeated in a subcommand from a flag of its own.
    pub entry: String,
}

impl Help {
    fn parse(text: &str) -> Help {
        let mut help = Help::default();
        let mut usage = String::new();
        let mut section = "";
        let mut entries: Vec<Vec<&str>> = Vec::new();
        for line in text.lines() {
            let indent = line.len() - line.trim_start().len();
            let trimmed = line.trim();
            if let Some(rest) = line.strip_prefix("Usage: ") {
                usage = without_brackets(rest);
            } else if indent == 0 && trimmed.ends_with(':') {
                section = line;
            } else if section == "Commands:" && indent == 2 {
                let name = trimmed.split_whitespace().next().unwrap_or_default();
                if name != "help" {
                    help.commands.push(name.to_owned());
                }
            } else if section == "Options:" || section == "Arguments:" {
                let starts_entry =
                    indent <= 6 && (trimmed.starts_with('-') || trimmed.starts_with('<'));
                match entries.last_mut() {
                    Some(entry) if !starts_entry => entry.push(line),
                    _ if starts_entry => entries.push(vec![line]),
                    _ => {}
                }
            }
        }
        help.flags = entries.iter().map(|lines| flag(lines, &usage)).collect();
        help
    }
}

fn flag(lines: &[&str], usage: &str) -> Flag {
    let mut tokens = lines[0].split_whitespace().skip_while(|t| t.ends_with(','));
    let name = tokens.next().unwrap_or_default().to_owned();
    let takes_value = name.starts_with('<') || tokens.next().is_some_and(|t| t.starts_with('<'));
    let entry = lines.join("\n");
    let bracketed = |label: &str| {
        let start = entry.find(label)? + label.len();
        let rest = &entry[start..];
        Some(rest[..rest.find(']')?].to_owned())
    };
    let mut values: Vec<String> = bracketed("[possible values: ")
        .map(|list| list.split(", ").map(str::to_owned).collect())
        .unwrap_or_default();
    if let Some(start) = entry.find("Possible values:") {
        values.extend(
            entry[start..]
                .lines()
                .skip(1)
                .map_while(|line| line.trim().strip_prefix("- "))
                .map(|item| item.split(':').next().unwrap_or_default().to_owned()),
        );
    }
    let required =
        usage.split_whitespace().any(|token| token == name) || entry.contains(" Required, unless ");
    Flag {
        env: bracketed("[env: ").map(|env| env.split('=').next().unwrap_or_default().to_owned()),
        default: bracketed("[default: "),
        name,
        takes_value,
        values,
        required,
        entry,
    }
}

/// The usage line without its optional parts (`[OPTIONS]`, `[COMMAND]`).
fn without_brackets(usage: &str) -> String {
    let mut depth = 0usize;
    usage
        .chars()
        .filter(|c| {
            match c {
                '[' => depth += 1,
                ']' => {
                    depth = depth.saturating_sub(1);
                    return false;
                }
                _ => {}
            }
            depth == 0
        })
        .collect()
}
