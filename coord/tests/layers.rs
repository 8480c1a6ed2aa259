//! The layers of `coord/src`, checked from its own source: every `crate::…` path in code (doc
//! comments do not count; serde's `with = "crate::…"` strings do) is an edge from the
//! top-level module of the file to the top-level module named. The test fails on any cycle
//! among top-level modules and on any edge that points up or sideways where the design
//! (principle 7 of DESIGN.md) forbids it:
//!
//! ```text
//! doors         lib.rs, __private, doors,      may import anything below
//!               tower (the tower middleware,
//!               with each mechanism's
//!               `tower.rs`, its door into it)
//! presentation  report, config, http, otel     composition, mechanisms, leaves
//! composition   compose, stack, mechanisms     mechanisms, leaves
//!               (the list)
//! mechanisms    perf, retry, breaker, errors,  shared and leaves: never config, report or
//!               validate, bulkhead, rate_limit,  each other
//!               timeout, fallback, hedge
//! shared        chaos (fault injection, which  leaves only
//!               every mechanism consults)
//! leaves        clock, status, naming, rng,    nothing of coord
//!               serde_ms, metrics_bridge,
//!               locks, capped, last_error, read,
//!               contract (the mechanism
//!               contract and its writers),
//!               layer (the stack's roles),
//!               recording (the switch)
//! ```
//!
//! `macros` holds `macro_rules!` helpers declared first with `#[macro_use]`; used by name, they
//! are expansions, not imports, and it imports nothing itself.
//!
//! Within the composition and presentation layers modules may use each other, as long as no
//! cycle forms. A new top-level module must be given a layer below before this test passes.
//! Standard library only.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    Leaf,
    Shared,
    Mechanism,
    Composition,
    Presentation,
    Door,
}

fn layer_of(module: &str) -> Option<Layer> {
    Some(match module {
        "macros" | "clock" | "status" | "naming" | "rng" | "serde_ms" | "metrics_bridge"
        | "locks" | "capped" | "last_error" | "read" | "contract" | "layer" | "outcome"
        | "recording" | "semconv" => Layer::Leaf,
        "perf" | "retry" | "breaker" | "errors" | "validate" | "bulkhead" | "rate_limit"
        | "timeout" | "fallback" | "hedge" => Layer::Mechanism,
        "chaos" => Layer::Shared,
        "compose" | "stack" | "mechanisms" | "objective" => Layer::Composition,
        "report" | "config" | "http" | "otel" => Layer::Presentation,
        "lib" | "__private" | "doors" | "tower" => Layer::Door,
        _ => return None,
    })
}

/// Why an edge `from → to` is not allowed, if it is not.
fn forbidden(from: &str, to: &str) -> Option<String> {
    let (Some(a), Some(b)) = (layer_of(from), layer_of(to)) else {
        return Some(format!(
            "`{from}` → `{to}`: give every top-level module a layer in tests/layers.rs"
        ));
    };
    match a {
        Layer::Leaf => Some(format!(
            "leaf `{from}` imports `{to}`: leaves import nothing of coord"
        )),
        Layer::Mechanism if b >= Layer::Mechanism => Some(format!(
            "registry `{from}` imports `{to}`: mechanisms import only shared modules and leaves"
        )),
        Layer::Shared if b >= Layer::Shared => Some(format!(
            "shared `{from}` imports `{to}`: shared modules import only leaves"
        )),
        _ if b > a => Some(format!(
            "`{from}` ({a:?}) imports `{to}` ({b:?}): imports point down"
        )),
        _ => None,
    }
}

type Graph = BTreeMap<String, BTreeSet<String>>;

/// One cycle of `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Active,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Active) => {
                let start = path.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Active);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, marks, path) {
                return Some(cycle);
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

/// Removes `//` and `/* */` comments, keeping string literals (serde paths live in them).
fn strip_comments(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_string = false;
            }
            out.push(c as char);
            i += 1;
        } else if c == b'"' {
            in_string = true;
            out.push('"');
            i += 1;
        } else if c == b'\'' && i + 2 < bytes.len() && bytes[i + 2] == b'\'' {
            // A char literal such as '"', which must not open a string.
            i += 3;
        } else if source[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if source[i..].starts_with("/*") {
            let end = source[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |e| i + 2 + e + 2);
            i = end;
        } else {
            // Non-ASCII bytes only occur in strings and comments in this crate's code; keep
            // the text valid by copying whole chars.
            let ch = source[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn ident_at(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first segment of every `crate::` path in `code`, through `use crate::{a, b::c}` groups.
/// A name that is not a module (a root item such as `crate::monitor`) is reported as `lib`.
fn crate_references(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut add = |name: &str| {
        if name.is_empty() {
            return;
        }
        found.insert(if modules.contains(name) {
            name.to_owned()
        } else {
            "lib".to_owned()
        });
    };
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        // `$crate::` or `foo_crate::` are not this crate's paths.
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start && depth == 0 => {
                        add(ident_at(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident_at(rest);
            // `crate::m!(..)`: `#[macro_export]` macros live at the root whatever module
            // defines them, so invoking one is not an import from the doors.
            if !rest[name.len()..].starts_with('!') {
                add(name);
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir)
        .expect("readable source directory")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module graph of `coord/src`.
fn source_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let top_level = |path: &Path| -> String {
        let relative = path.strip_prefix(&src).expect("under src");
        let first = relative.components().next().expect("a file");
        let name = first.as_os_str().to_string_lossy();
        let name = name.strip_suffix(".rs").unwrap_or(&name).to_owned();
        // A mechanism's door into the tower middleware (`bulkhead/tower.rs`: its builder
        // method, its reservation in `poll_ready`) is tower code kept in the mechanism's folder.
        if layer_of(&name) == Some(Layer::Mechanism)
            && relative.components().count() == 2
            && relative.ends_with("tower.rs")
        {
            return "tower".to_owned();
        }
        name
    };
    let modules: BTreeSet<String> = files.iter().map(|f| top_level(f)).collect();
    let mut graph = Graph::new();
    for file in &files {
        let from = top_level(file);
        let code = strip_comments(&fs::read_to_string(file).expect("readable source file"));
        let edges = graph.entry(from.clone()).or_default();
        for to in crate_references(&code, &modules) {
            if to != from {
                edges.insert(to);
            }
        }
    }
    graph
}

fn violations(graph: &Graph) -> Vec<String> {
    let mut found = Vec::new();
    for (from, tos) in graph {
        for to in tos {
            if let Some(why) = forbidden(from, to) {
                found.push(why);
            }
        }
    }
    if let Some(cycle) = find_cycle(graph) {
        found.push(format!("module cycle: {}", cycle.join(" → ")));
    }
    found
}

#[test]
fn coord_src_is_layered_without_cycles() {
    let graph = source_graph();
    assert!(
        graph.contains_key("breaker") && graph.contains_key("clock"),
        "the graph was read: {graph:?}"
    );
    let found = violations(&graph);
    assert!(found.is_empty(), "layer violations:\n{}", found.join("\n"));
}

fn fake(edges: &[(&str, &str)]) -> Graph {
    let mut graph = Graph::new();
    for (from, to) in edges {
        graph
            .entry((*from).to_owned())
            .or_default()
            .insert((*to).to_owned());
        graph.entry((*to).to_owned()).or_default();
    }
    graph
}

#[test]
fn a_cycle_is_detected() {
    let graph = fake(&[
        ("compose", "pipeline"),
        ("pipeline", "report"),
        ("report", "compose"),
    ]);
    let cycle = find_cycle(&graph).expect("a cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert!(
        violations(&graph)
            .iter()
            .any(|v| v.starts_with("module cycle"))
    );
    assert_eq!(
        find_cycle(&fake(&[("a", "b"), ("b", "c"), ("a", "c")])),
        None
    );
}

#[test]
fn registry_imports_of_config_report_or_each_other_are_refused() {
    for to in ["config", "report", "breaker", "compose", "lib"] {
        assert!(forbidden("retry", to).is_some(), "retry → {to}");
    }
    assert!(forbidden("clock", "status").is_some());
    assert!(forbidden("compose", "config").is_some());
    assert!(forbidden("brand_new", "clock").is_some());
    assert_eq!(forbidden("retry", "clock"), None);
    assert_eq!(forbidden("report", "compose"), None);
    assert_eq!(forbidden("doors", "config"), None);
}

#[test]
fn references_are_read_from_code_not_comments() {
    let modules: BTreeSet<String> = ["perf", "breaker", "serde_ms", "errors"]
        .map(String::from)
        .into();
    let code = strip_comments(
        "/// [`crate::breaker`]\nuse crate::{perf::{self, X}, errors};\n\
         #[serde(with = \"crate::serde_ms::ms\")]\nlet c = '\"'; crate::monitor(); // crate::breaker",
    );
    let found = crate_references(&code, &modules);
    assert_eq!(
        found,
        ["errors", "lib", "perf", "serde_ms"]
            .map(String::from)
            .into()
    );
}
