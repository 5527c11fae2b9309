//! One version for the whole release: the binary's `--version`, every crate of the
//! workspace, both templates' descriptions, the CDK construct's package and the newest entry
//! of the changelog.

use std::process::Command;

use serde_json::Value;

use crate::template::{read_template, repo_path};

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo_path(relative))
        .unwrap_or_else(|error| panic!("reading {relative}: {error}"))
}

/// The `version = "..."` of a manifest's `[package]`.
fn manifest_version(relative: &str) -> String {
    let manifest = read(relative);
    let package = manifest
        .split("[package]")
        .nth(1)
        .unwrap_or_else(|| panic!("{relative} has a [package]"));
    package
        .lines()
        .find_map(|line| line.trim().strip_prefix("version = "))
        .map(|quoted| quoted.trim_matches('"').to_owned())
        .unwrap_or_else(|| panic!("{relative} has a version"))
}

#[test]
fn the_binary_crates_templates_construct_and_changelog_agree_on_the_version() {
    let version = env!("CARGO_PKG_VERSION");

    let output = Command::new(env!("CARGO_BIN_EXE_ecs-srv"))
        .arg("--version")
        .env_clear()
        .output()
        .expect("running ecs-srv --version");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("ecs-srv {version}")
    );

    for manifest in [
        "Cargo.toml",
        "proxy/Cargo.toml",
        "tests/dns-front/Cargo.toml",
        "tests/demo/Cargo.toml",
    ] {
        assert_eq!(manifest_version(manifest), version, "{manifest}");
    }

    // "ecs-srv 0.2.0: ..." and "ecs-srv 0.2.0 zone role: ...".
    for template in ["template.yaml", "zone-role.yaml"] {
        let description = read_template(template)["Description"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let named = description
            .strip_prefix("ecs-srv ")
            .and_then(|rest| rest.split([' ', ':']).next());
        assert_eq!(
            named,
            Some(version),
            "{template}'s Description: {description}"
        );
    }

    let package: Value =
        serde_json::from_str(&read("cdk/package.json")).expect("cdk/package.json is JSON");
    assert_eq!(package["version"], version, "cdk/package.json");

    let changelog = read("CHANGELOG.md");
    let newest = changelog
        .lines()
        .filter_map(|line| line.strip_prefix("## ["))
        .find(|heading| !heading.starts_with("Unreleased"))
        .and_then(|heading| heading.split(']').next())
        .expect("a released entry in CHANGELOG.md");
    assert_eq!(newest, version, "CHANGELOG.md's newest entry");
}
