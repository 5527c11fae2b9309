//! A small IAM policy evaluator for the identity policies of the templates, resolved for
//! one stack: a request is allowed when, for each resource it acts on, a statement allows
//! it and none denies it. It knows the statement elements and condition operators the
//! templates use, and fails on any other rather than guess: it must never allow by
//! ignoring what it does not understand.
//!
//! Matching follows the IAM User Guide: actions case-insensitively with `*` and `?`;
//! resources with the same wildcards, case-sensitively; ARN operators part by part; the
//! set operators as "Single-valued vs. multivalued context keys" has them (`ForAllValues`
//! is true when the key is absent or empty).

use serde_json::Value;

use super::requests::IamRequest;
use crate::template::as_list;

/// Whether `statements` allow `request` on each resource it acts on; if not, why.
pub fn allowed(statements: &[Value], request: &IamRequest) -> Result<(), String> {
    for resource in &request.resources {
        let matching = |effect: &str| {
            statements
                .iter()
                .filter(|s| s["Effect"] == effect)
                .find(|s| applies(s, &request.action, resource, request))
        };
        if let Some(deny) = matching("Deny") {
            let action = &request.action;
            return Err(format!("{action} on {resource} is denied by {deny}"));
        }
        if matching("Allow").is_none() {
            return Err(format!(
                "{} on {resource} with {:?} is allowed by no statement",
                request.action, request.context
            ));
        }
    }
    Ok(())
}

/// Whether `statement` covers `action` on `resource` in `request`'s context.
pub fn applies(statement: &Value, action: &str, resource: &str, request: &IamRequest) -> bool {
    for key in statement
        .as_object()
        .expect("a statement is an object")
        .keys()
    {
        assert!(
            matches!(
                key.as_str(),
                "Sid" | "Effect" | "Action" | "Resource" | "Condition"
            ),
            "the evaluator does not know the statement element {key}: {statement}"
        );
    }
    let effect = statement["Effect"].as_str().unwrap_or_default();
    assert!(
        matches!(effect, "Allow" | "Deny"),
        "an Effect of {effect:?}: {statement}"
    );
    let action_matches = strings(&statement["Action"])
        .iter()
        .any(|pattern| glob(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase()));
    action_matches
        && resource_patterns(statement)
            .iter()
            .any(|pattern| glob(pattern, resource))
        && conditions_hold(&statement["Condition"], &request.context)
}

/// The statement's resource patterns; a policy variable is beyond this evaluator.
pub fn resource_patterns(statement: &Value) -> Vec<String> {
    let patterns = strings(&statement["Resource"]);
    assert!(
        !patterns.is_empty(),
        "a statement without a Resource: {statement}"
    );
    for pattern in &patterns {
        assert!(
            !pattern.contains("${"),
            "a policy variable in {pattern}: the evaluator does not know them"
        );
    }
    patterns
}

fn strings(value: &Value) -> Vec<String> {
    as_list(value)
        .iter()
        .map(|v| match v {
            Value::String(text) => text.clone(),
            other => panic!("a policy value that is not a string: {other}"),
        })
        .collect()
}

/// Every operator holds, every key of each operator holds (IAM's AND), any value of a key
/// matches (its OR).
fn conditions_hold(
    condition: &Value,
    context: &std::collections::BTreeMap<String, Vec<String>>,
) -> bool {
    let Some(operators) = condition.as_object() else {
        assert!(
            condition.is_null(),
            "a Condition that is not an object: {condition}"
        );
        return true;
    };
    operators.iter().all(|(operator, keys)| {
        let (set, base) = match operator.split_once(':') {
            Some((set, base)) => (Some(set), base),
            None => (None, operator.as_str()),
        };
        let compare: fn(&str, &str) -> bool = match base {
            "StringEquals" => |p, v| p == v,
            "StringLike" => glob,
            "ArnEquals" | "ArnLike" => arn_like,
            _ => panic!("the evaluator does not know the condition operator {operator}"),
        };
        keys.as_object()
            .unwrap_or_else(|| panic!("{operator} of something else than keys: {keys}"))
            .iter()
            .all(|(key, wanted)| {
                let wanted = strings(wanted);
                let matches = |value: &String| wanted.iter().any(|p| compare(p, value));
                let values = context.get(key);
                match set {
                    Some("ForAllValues") => values.is_none_or(|vs| vs.iter().all(matches)),
                    Some("ForAnyValue") => values.is_some_and(|vs| vs.iter().any(matches)),
                    Some(other) => panic!("the evaluator does not know the set operator {other}"),
                    None => match values.map(Vec::as_slice) {
                        None | Some([]) => false,
                        Some([value]) => matches(value),
                        Some(many) => panic!(
                            "{operator} on {key}, which has several values ({many:?}): use ForAllValues or ForAnyValue"
                        ),
                    },
                }
            })
    })
}

/// ARN operators: each of the six `:`-separated parts matched on its own, with wildcards.
fn arn_like(pattern: &str, arn: &str) -> bool {
    let parts = |text: &str| text.splitn(6, ':').map(str::to_owned).collect::<Vec<_>>();
    let (pattern, arn) = (parts(pattern), parts(arn));
    pattern.len() == 6 && arn.len() == 6 && pattern.iter().zip(&arn).all(|(p, a)| glob(p, a))
}

/// IAM's wildcards: `*` any run of characters, `?` any one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), text.chars().collect());
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}
