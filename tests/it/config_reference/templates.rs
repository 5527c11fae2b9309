//! The templates' side of the reference: each parameter as documented, and each parameter
//! that sets a flag's variable against that flag.

use std::collections::BTreeMap;

use serde_json::Value;

use super::help::{Flag, Program};
use super::tables::{Allowed, DefaultCell, Row};
use super::{range_problems, sorted};
use crate::template::{read_template, the_function};
use crate::template_env::scalar;

pub(super) fn check_parameters(file: &str, rows: &[&Row], problems: &mut Vec<String>) {
    let template = read_template(file);
    let parameters = template["Parameters"].as_object().expect("Parameters");
    let mut variables: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    if file == "template.yaml" {
        let environment = &the_function(&template)["Properties"]["Environment"]["Variables"];
        for (variable, value) in environment.as_object().expect("Variables") {
            if let Some(parameter) = value["Ref"].as_str() {
                variables
                    .entry(parameter)
                    .or_default()
                    .push(variable.clone());
            }
        }
    }
    for (name, spec) in parameters {
        let Some(row) = rows.iter().find(|row| row.name == *name) else {
            problems.push(format!(
                "{file} parameter {name} is not in its `{file}` parameter table"
            ));
            continue;
        };
        let who = format!("{}: {file} {name}", row.at);
        let default = spec.get("Default").map_or(DefaultCell::Required, |value| {
            DefaultCell::Value(shown(&scalar(value)))
        });
        if row.default != default {
            problems.push(format!(
                "{who}: default {:?} documented, {default:?} in {file}",
                row.default
            ));
        }
        let allowed = allowed_by(spec);
        if row.allowed != allowed {
            problems.push(format!(
                "{who}: allowed {:?} documented, {allowed:?} in {file}",
                row.allowed
            ));
        }
        let set = variables.get(name.as_str()).cloned().unwrap_or_default();
        if sorted(&row.env) != sorted(&set) {
            problems.push(format!(
                "{who}: env {:?} documented, {file} sets {set:?} from it",
                row.env
            ));
        }
    }
    for row in rows
        .iter()
        .filter(|row| !parameters.contains_key(&row.name))
    {
        problems.push(format!("{}: {file} has no parameter {}", row.at, row.name));
    }
}

/// What a parameter accepts, in the reference's terms.
fn allowed_by(spec: &Value) -> Allowed {
    if let Some(values) = spec["AllowedValues"].as_array() {
        Allowed::Values(values.iter().map(scalar).collect())
    } else if let (Some(low), Some(high)) = (spec.get("MinValue"), spec.get("MaxValue")) {
        Allowed::Range(scalar(low), scalar(high))
    } else if let Some(pattern) = spec["AllowedPattern"].as_str() {
        Allowed::Values(vec![pattern.to_owned()])
    } else {
        Allowed::Text(Vec::new())
    }
}

/// A template parameter and the flag its variable sets agree on the default and the range.
pub(super) fn parameter_agrees(
    program: &Program,
    flag: &Flag,
    name: &str,
    spec: &Value,
    problems: &mut Vec<String>,
) {
    let who = format!("template.yaml {name} (sets {})", flag.name);
    let same_default = match (spec.get("Default"), &flag.default) {
        (Some(default), Some(flag_default)) => same(&scalar(default), flag_default),
        (None, None) => flag.required,
        _ => false,
    };
    if !same_default {
        problems.push(format!(
            "{who}: default {:?} in the template, {:?} in `ecs-srv --help`",
            spec.get("Default"),
            flag.default
        ));
    }
    if let (Some(low), Some(high)) = (spec.get("MinValue"), spec.get("MaxValue")) {
        for problem in range_problems(program, &[], &flag.name, &scalar(low), &scalar(high)) {
            problems.push(format!(
                "{who}: the binary {problem} (MinValue to MaxValue)"
            ));
        }
    }
    for value in spec["AllowedValues"]
        .as_array()
        .into_iter()
        .flatten()
        .map(scalar)
    {
        if !program.accepts(&[], &flag.name, &value) {
            problems.push(format!(
                "{who}: the template allows {value}, which the binary refuses"
            ));
        }
    }
}

/// A default as clap shows it: the empty string is `""`.
fn shown(value: &str) -> String {
    if value.is_empty() {
        "\"\"".to_owned()
    } else {
        value.to_owned()
    }
}

fn same(template: &str, flag: &str) -> bool {
    match (template.parse::<f64>(), flag.parse::<f64>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => shown(template) == flag,
    }
}
