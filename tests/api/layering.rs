//! The workspace's layers, held by a test: each crate may use only the crates below it, and
//! the lower crates none of the frameworks of the layers above them. Read from `cargo metadata`
//! (the dependencies each `Cargo.toml` declares), so a forbidden dependency fails here before
//! any code can lean on it.
//!
//! | layer | crate | may use | never |
//! | --- | --- | --- | --- |
//! | 0 | `shouzhen-domain` | — | a web framework, a database, mail, templates, an async runtime |
//! | 1 | `shouzhen-store` | domain | a web framework, mail, templates, an async runtime |
//! | 2 | `shouzhen-app` (the services) | domain, store | a web framework, diesel |
//! | 3 | `shouzhen` (HTTP API, pages, CLI) | every crate below | diesel (its tests may) |
//!
//! "Never" holds for what a crate builds with; its tests (dev-dependencies) may reach further,
//! as the root's tests use diesel to tamper with rows the record must notice.

use std::process::Command;

use serde_json::Value;

/// The web framework and its client.
const WEB: &[&str] = &["actix-web", "actix-rt", "actix-http", "awc"];
/// The database, its migrations, its pool and its drivers.
const DATABASE: &[&str] = &[
    "diesel",
    "diesel_migrations",
    "r2d2",
    "libsqlite3-sys",
    "pq-sys",
];
/// Mail, templates, the async runtime, the log subscriber, metrics, tokens.
const SERVICES: &[&str] = &[
    "lettre",
    "handlebars",
    "tokio",
    "tracing-subscriber",
    "prometheus",
    "jsonwebtoken",
];

/// Workspace crates from the bottom up, with the groups of outside crates each must not
/// declare.
const LAYERS: &[(&str, &[&[&str]])] = &[
    ("shouzhen-domain", &[WEB, DATABASE, SERVICES, &["rand"]]),
    ("shouzhen-store", &[WEB, SERVICES]),
    (
        "shouzhen-app",
        &[WEB, DATABASE, &["jsonwebtoken", "tracing-subscriber"]],
    ),
    ("shouzhen", &[DATABASE]),
];

fn metadata() -> Value {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// A dependency a package declares: its name, and whether only its tests use it.
struct Dep {
    name: String,
    dev: bool,
}

/// Each workspace package's name and the crates it declares (every kind).
fn packages(meta: &Value) -> Vec<(String, Vec<Dep>)> {
    meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter_map(|d| {
                    Some(Dep {
                        name: d["name"].as_str()?.to_string(),
                        dev: d["kind"].as_str() == Some("dev"),
                    })
                })
                .collect();
            (p["name"].as_str().expect("name").to_string(), deps)
        })
        .collect()
}

fn layer(name: &str) -> Option<usize> {
    LAYERS.iter().position(|(n, _)| *n == name)
}

#[test]
fn every_crate_uses_only_the_layers_below_it() {
    let packages = packages(&metadata());
    assert!(
        packages.len() >= LAYERS.len(),
        "{:?}",
        packages.iter().map(|p| &p.0).collect::<Vec<_>>()
    );
    let mut faults = Vec::new();
    for (name, deps) in &packages {
        let Some(mine) = layer(name) else {
            faults.push(format!(
                "{name} is in no layer: add it to LAYERS in tests/api/layering.rs"
            ));
            continue;
        };
        let forbidden: Vec<&str> = LAYERS[mine].1.concat();
        for dep in deps {
            let what = &dep.name;
            match layer(what) {
                Some(theirs) if theirs >= mine => faults.push(format!(
                    "{name} (layer {mine}) uses {what} (layer {theirs})"
                )),
                _ if !dep.dev && forbidden.contains(&what.as_str()) => {
                    faults.push(format!("{name} must not use {what}"))
                }
                _ => {}
            }
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[test]
fn the_domain_is_pure_of_frameworks() {
    let packages = packages(&metadata());
    let (_, deps) = packages
        .iter()
        .find(|(n, _)| n == "shouzhen-domain")
        .expect("the domain crate is a workspace member");
    let names: Vec<&str> = deps.iter().map(|d| d.name.as_str()).collect();
    for framework in ["actix-web", "diesel", "lettre", "handlebars"] {
        assert!(
            !names.contains(&framework),
            "shouzhen-domain uses {framework}"
        );
    }
    assert!(
        names.contains(&"chrono"),
        "metadata lists the domain's dependencies: {names:?}"
    );
}

/// A crate's modules, each with the modules its code names through `crate::` and `super::`
/// paths (comments and unit tests aside). A module naming its own descendants (re-exporting its
/// children, as `web::staff` does) is its structure, not a dependency, and is left out.
fn import_graph(src: &std::path::Path) -> std::collections::BTreeMap<String, Vec<String>> {
    use std::collections::{BTreeMap, BTreeSet};
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a source folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut all = Vec::new();
    files(src, &mut all);
    // Module paths: src/a/b.rs and src/a/b/mod.rs are `a::b`; lib.rs and main.rs the root.
    let module_of = |file: &std::path::Path| -> Vec<String> {
        let rel = file.strip_prefix(src).expect("inside src");
        let mut parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
            .collect();
        if matches!(
            parts.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            parts.pop();
        }
        parts
    };
    let modules: BTreeSet<Vec<String>> = all.iter().map(|f| module_of(f)).collect();
    // The deepest module a path names (`crate::a::b::Item` → `a::b` if that is a module).
    let resolve = |path: &[String]| -> Vec<String> {
        (0..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| modules.contains(p))
            .unwrap_or_default()
    };
    let mut graph = BTreeMap::new();
    for file in &all {
        let me = module_of(file);
        let source = std::fs::read_to_string(file).expect("readable source");
        // What the module's code names: not its comments, nor its unit tests (whose
        // `super::*` is the module itself).
        let code = match source.find("#[cfg(test)]\nmod tests {") {
            Some(at) => &source[..at],
            None => &source[..],
        };
        let text: String = code
            .lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        let mut named = BTreeSet::new();
        for (prefix, base) in [
            ("crate::", Vec::new()),
            ("super::", {
                let mut parent = me.clone();
                // `super` in a/b.rs is `a`; in a/b/mod.rs (module a::b) also `a`.
                parent.pop();
                parent
            }),
        ] {
            for (at, _) in text.match_indices(prefix) {
                let before = text[..at].chars().last();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let mut rest = &text[at + prefix.len()..];
                let mut base = base.clone();
                // `super::super::x`: one level up for each further `super`.
                while let Some(further) = rest.strip_prefix("super::") {
                    base.pop();
                    rest = further;
                }
                // `use crate::{a::b, c}`: every path in the braces' top level.
                let paths: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
                    let mut depth = 0;
                    let end = group
                        .char_indices()
                        .find(|(_, c)| {
                            match c {
                                '{' => depth += 1,
                                '}' if depth == 0 => return true,
                                '}' => depth -= 1,
                                _ => {}
                            }
                            false
                        })
                        .map_or(group.len(), |(i, _)| i);
                    group[..end]
                        .split(',')
                        .map(|p| p.trim().to_string())
                        .collect()
                } else {
                    vec![
                        rest.chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                            .collect(),
                    ]
                };
                for p in paths {
                    let mut full = base.clone();
                    full.extend(p.split("::").map(|s| s.trim().to_string()).take_while(|s| {
                        !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_')
                    }));
                    let target = resolve(&full);
                    if target != me && !target.starts_with(&me[..]) {
                        named.insert(target.join("::"));
                    }
                }
            }
        }
        graph.insert(me.join("::"), named.into_iter().collect());
    }
    graph
}

/// The first circle found in the graph, as the modules around it.
fn find_circle(graph: &std::collections::BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, Vec<String>>,
        state: &mut std::collections::BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied() {
                Some(1) => {
                    let start = stack.iter().position(|n| n == next).unwrap_or(0);
                    let mut circle = stack[start..].to_vec();
                    circle.push(next.clone());
                    return Some(circle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, graph, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = std::collections::BTreeMap::new();
    for node in graph.keys() {
        if !state.contains_key(node.as_str())
            && let Some(c) = visit(node, graph, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_crate_has_a_circle_of_imports() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut circles = Vec::new();
    for src in [
        "src",
        "crates/domain/src",
        "crates/store/src",
        "crates/app/src",
    ] {
        let graph = import_graph(&root.join(src));
        assert!(graph.len() > 5, "{src}: {graph:?}");
        if let Some(circle) = find_circle(&graph) {
            circles.push(format!("{src}: {}", circle.join(" → ")));
        }
    }
    assert!(circles.is_empty(), "{}", circles.join("\n"));
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let graph = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        find_circle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let line = [("a", vec!["b"]), ("b", vec![])]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(find_circle(&line), None);
}
