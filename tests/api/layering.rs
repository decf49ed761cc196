//! The workspace's layers, held by a test: each crate may use only the crates below it, and
//! the lower crates none of the frameworks of the layers above them. Read from `cargo metadata`
//! (the dependencies each `Cargo.toml` declares), so a forbidden dependency fails here before
//! any code can lean on it.
//!
//! | layer | crate | may use | never |
//! | --- | --- | --- | --- |
//! | 0 | `shouzhen-domain` | — | a web framework, a database, mail, templates, an async runtime |
//! | 1 | `shouzhen-store` | domain | a web framework, mail, templates, an async runtime |
//! | 3 | `shouzhen` (HTTP API, pages, CLI) | every crate below | diesel (its tests may) |
//!
//! "Never" holds for what a crate builds with; its tests (dev-dependencies) may reach further,
//! as the root's tests use diesel to tamper with rows the record must notice.

use std::process::Command;

use serde_json::Value;

/// Workspace crates from the bottom up, with the outside crates each must not declare.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "shouzhen-domain",
        &[
            "actix-web",
            "actix-rt",
            "actix-http",
            "awc",
            "diesel",
            "diesel_migrations",
            "r2d2",
            "libsqlite3-sys",
            "pq-sys",
            "lettre",
            "handlebars",
            "tokio",
            "tracing-subscriber",
            "rand",
            "prometheus",
        ],
    ),
    (
        "shouzhen-store",
        &[
            "actix-web",
            "actix-rt",
            "actix-http",
            "awc",
            "lettre",
            "handlebars",
            "tokio",
            "tracing-subscriber",
            "prometheus",
            "jsonwebtoken",
        ],
    ),
    (
        "shouzhen",
        &[
            "diesel",
            "diesel_migrations",
            "r2d2",
            "libsqlite3-sys",
            "pq-sys",
        ],
    ),
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
        let forbidden = LAYERS[mine].1;
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
