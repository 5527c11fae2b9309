//! The codebase's own shape, as a newcomer meets it: no source file over 400 lines, and no
//! import cycle between the files of `src/` or `proxy/src/` (function lengths are clippy's
//! `too_many_lines`, switched on by both crates).
//!
//! A file's imports are the `crate::…` and `super::…` paths it names, each resolved to the
//! file that defines the module. A child that uses its parent's items (the parent `mod.rs`
//! or `foo.rs` of `foo/`) is the idiom of one type whose `impl` is split across files, and
//! is not counted; every other edge is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 400;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("reading {}: {err}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The module path of a file under `src` (`plan/tree/mod.rs` → `plan::tree`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The file defining the longest prefix of `path` that is a module.
fn resolve(modules: &BTreeMap<Vec<String>, PathBuf>, path: &[String]) -> Option<PathBuf> {
    (0..=path.len())
        .rev()
        .find_map(|len| modules.get(&path[..len]).cloned())
}

/// Every `crate::a::b` and `super::a` path a file names, as absolute module paths; `use
/// crate::x::{a, b::c}` names `x::a` and `x::b::c`.
fn named_paths(text: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for (start, _) in code
        .match_indices("crate::")
        .chain(code.match_indices("super::"))
    {
        if start > 0 && code.as_bytes()[start - 1].is_ascii_alphanumeric() {
            continue;
        }
        let rest = &code[start..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let words: Vec<&str> = rest[..end].split("::").filter(|w| !w.is_empty()).collect();
        let mut absolute: Vec<String> = if words[0] == "crate" {
            Vec::new()
        } else {
            // `super` of module `a::b` (its file `a/b.rs` or `a/b/mod.rs`) is `a`.
            let mut parent = module.to_vec();
            parent.pop();
            parent
        };
        absolute.extend(words[1..].iter().map(|w| w.to_string()));
        if rest[end..].starts_with('{') {
            let close = rest[end..].find('}').map_or(rest.len(), |i| end + i);
            for item in rest[end + 1..close].split(',') {
                let mut full = absolute.clone();
                full.extend(
                    item.trim()
                        .split("::")
                        .filter(|w| !w.is_empty())
                        .map(str::to_owned),
                );
                paths.push(full);
            }
        } else {
            paths.push(absolute);
        }
    }
    paths
}

/// The import graph of one crate's `src` folder, file to files.
fn import_graph(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeMap<Vec<String>, PathBuf> = files
        .iter()
        .map(|file| (module_of(src, file), file.clone()))
        .collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(src, file);
        let text = std::fs::read_to_string(file).expect("a source file");
        let mut edges = BTreeSet::new();
        for path in named_paths(&text, &module) {
            let Some(target) = resolve(&modules, &path) else {
                continue;
            };
            let target_module = module_of(src, &target);
            let is_parent =
                module.len() == target_module.len() + 1 && module.starts_with(&target_module);
            if target != *file && !is_parent && !target_module.is_empty() {
                edges.insert(target);
            }
        }
        graph.insert(file.clone(), edges);
    }
    graph
}

/// One cycle of the graph, if it has any.
fn find_cycle(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<Vec<PathBuf>> {
    fn visit(
        node: &PathBuf,
        graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        stack: &mut Vec<PathBuf>,
        done: &mut BTreeSet<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            return Some(stack[at..].to_vec());
        }
        if !done.insert(node.clone()) {
            return None;
        }
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_source_file_passes_400_lines() {
    for crate_src in ["src", "proxy/src"] {
        let mut files = Vec::new();
        rust_files(&root().join(crate_src), &mut files);
        assert!(!files.is_empty(), "no source under {crate_src}");
        for file in files {
            let lines = std::fs::read_to_string(&file)
                .expect("a source file")
                .lines()
                .count();
            assert!(
                lines <= MAX_LINES,
                "{} has {lines} lines; split it by concern",
                file.display()
            );
        }
    }
}

#[test]
fn no_file_imports_a_file_that_imports_it_back() {
    for crate_src in ["src", "proxy/src"] {
        let graph = import_graph(&root().join(crate_src));
        assert!(
            graph.values().any(|edges| !edges.is_empty()),
            "the checker sees imports in {crate_src}"
        );
        if let Some(cycle) = find_cycle(&graph) {
            let names: Vec<String> = cycle
                .iter()
                .map(|p| p.strip_prefix(root()).unwrap_or(p).display().to_string())
                .collect();
            panic!("an import cycle in {crate_src}: {}", names.join(" → "));
        }
    }
}

#[test]
fn the_checker_finds_a_cycle_when_there_is_one() {
    let a = PathBuf::from("a.rs");
    let b = PathBuf::from("b.rs");
    let graph = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([a.clone()])),
    ]);
    assert_eq!(find_cycle(&graph).map(|c| c.len()), Some(2));
    let paths = named_paths(
        "use crate::plan::{zone::ZoneSnapshot, records};",
        &["x".into()],
    );
    assert_eq!(
        paths,
        vec![
            vec!["plan".to_string(), "zone".into(), "ZoneSnapshot".into()],
            vec!["plan".to_string(), "records".into()]
        ]
    );
}

/// The rooms of `src/` in the order `src/lib.rs` gives: each may use only the rooms
/// before it, so the path from input to I/O runs one way.
const ROOMS: [&str; 7] = ["input", "plan", "config", "aws", "error", "apply", "run"];
/// The rooms that do no I/O, and the crates that would mean they do.
const PURE_ROOMS: [&str; 3] = ["input", "plan", "config"];
/// (`std::net`'s address types are plain data; its sockets are not.)
const IO_CRATES: [&str; 8] = [
    "aws_sdk_",
    "aws_config",
    "tokio",
    "hyper",
    "TcpStream",
    "UdpSocket",
    "std::fs",
    "std::process",
];

/// A path as the repository names it.
fn shown(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The room of a file under `src` (`plan/tree/mod.rs` → `plan`).
fn room_of(src: &Path, file: &Path) -> String {
    module_of(src, file).first().cloned().unwrap_or_default()
}

#[test]
fn each_room_of_src_uses_only_the_rooms_before_it_and_the_pure_ones_do_no_io() {
    let src = root().join("src");
    let graph = import_graph(&src);
    let rank = |room: &str| ROOMS.iter().position(|r| *r == room);
    let mut checked = 0;
    for (file, targets) in &graph {
        let room = room_of(&src, file);
        let Some(own) = rank(&room) else {
            assert!(
                room.is_empty() || room == "main",
                "{} is in no room of src/lib.rs's map: add it there and to ROOMS",
                shown(file)
            );
            continue;
        };
        for target in targets {
            let used = room_of(&src, target);
            let later = rank(&used).is_some_and(|theirs| theirs > own);
            assert!(
                !later,
                "{} ({room}) uses {} ({used}), a room after it",
                shown(file),
                shown(target)
            );
            checked += 1;
        }
        if PURE_ROOMS.contains(&room.as_str()) {
            let text = std::fs::read_to_string(file).expect("a source file");
            for io in IO_CRATES {
                assert!(
                    !text.contains(io),
                    "{} is in the pure room {room} but names {io}",
                    shown(file)
                );
            }
        }
    }
    assert!(checked > 100, "the checker saw {checked} uses across rooms");
}
