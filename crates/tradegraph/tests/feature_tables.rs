//! Every crate of the workspace shows, in its crate docs, a feature table that matches its
//! `Cargo.toml`: each feature listed once, with the right default, a description, and a `## `
//! doc comment above it in `[features]`. A crate without features shows no table; a package
//! without a library (the README's bots) has no crate docs, and only needs the `## ` comments.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One row of a docs feature table: default ("yes"/"no") and description.
type Rows = BTreeMap<String, (String, String)>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The workspace's member directories, from the root `Cargo.toml`.
fn members() -> Vec<PathBuf> {
    let manifest: toml::Table = toml::from_str(&read(&root().join("Cargo.toml"))).unwrap();
    let members = manifest["workspace"]["members"].as_array().unwrap();
    members
        .iter()
        .map(|m| root().join(m.as_str().unwrap()))
        .collect()
}

/// The crate docs: `src/docs/lib.md` when `lib.rs` includes it, else `lib.rs`'s `//!` lines;
/// `None` for a package without a library.
fn crate_docs(dir: &Path) -> Option<String> {
    let lib = dir.join("src/lib.rs");
    if !lib.exists() {
        return None;
    }
    let lib = read(&lib);
    if lib.contains(r#"include_str!("docs/lib.md")"#) {
        return Some(read(&dir.join("src/docs/lib.md")));
    }
    let docs = lib
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    Some(docs)
}

/// The features of a `Cargo.toml` (without `default`): whether each is on by default, and
/// whether a `## ` doc comment stands right above its key.
fn cargo_features(text: &str) -> BTreeMap<String, (bool, bool)> {
    let manifest: toml::Table = toml::from_str(text).unwrap();
    let Some(features) = manifest.get("features").and_then(|f| f.as_table()) else {
        return BTreeMap::new();
    };
    let defaults: Vec<&str> = features
        .get("default")
        .and_then(|d| d.as_array())
        .map(|d| d.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let mut documented = BTreeMap::new();
    let mut in_features = false;
    let mut doc_above = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') && !line.starts_with("[\"") {
            in_features = line == "[features]";
            doc_above = false;
            continue;
        }
        if !in_features {
            continue;
        }
        if line.starts_with('#') {
            doc_above |= line.starts_with("## ");
            continue;
        }
        if let Some((key, _)) = line.split_once('=') {
            let key = key.trim();
            if !key.is_empty() && !key.starts_with('"') {
                documented.insert(key.to_owned(), doc_above);
            }
        }
        doc_above = false;
    }
    features
        .keys()
        .filter(|k| *k != "default")
        .map(|k| {
            let doc = documented.get(k).copied().unwrap_or(false);
            (k.clone(), (defaults.contains(&k.as_str()), doc))
        })
        .collect()
}

/// The rows of every markdown table in `docs` whose first header cell is `feature`.
fn doc_rows(docs: &str) -> Result<Rows, String> {
    let mut rows = Rows::new();
    let mut in_table = false;
    for line in docs.lines().map(str::trim) {
        let cells: Vec<&str> = line
            .strip_prefix('|')
            .and_then(|l| l.strip_suffix('|'))
            .map(|l| l.split('|').map(str::trim).collect())
            .unwrap_or_default();
        if cells.is_empty() {
            in_table = false;
        } else if cells[0] == "feature" {
            in_table = true;
        } else if in_table && !cells[0].starts_with("---") {
            let [name, default, what] = cells[..] else {
                return Err(format!("a feature row without 3 cells: {line}"));
            };
            let name = name.trim_matches('`').to_owned();
            if rows
                .insert(name.clone(), (default.to_owned(), what.to_owned()))
                .is_some()
            {
                return Err(format!("`{name}` listed twice"));
            }
        }
    }
    Ok(rows)
}

/// Every disagreement between a crate's `Cargo.toml` and its docs' feature table (`None`: no
/// crate docs, only the `## ` comments are checked).
fn problems(cargo_toml: &str, docs: Option<&str>) -> Vec<String> {
    let features = cargo_features(cargo_toml);
    let Some(docs) = docs else {
        return features
            .iter()
            .filter(|(_, (_, doc))| !doc)
            .map(|(name, _)| format!("`{name}` has no `## ` doc comment in Cargo.toml"))
            .collect();
    };
    let rows = match doc_rows(docs) {
        Ok(rows) => rows,
        Err(e) => return vec![e],
    };
    let mut out = Vec::new();
    for (name, (default, doc)) in &features {
        if !doc {
            out.push(format!("`{name}` has no `## ` doc comment in Cargo.toml"));
        }
        match rows.get(name) {
            None => out.push(format!("`{name}` is missing from the docs' feature table")),
            Some((shown, what)) => {
                let want = if *default { "yes" } else { "no" };
                if shown != want {
                    out.push(format!(
                        "`{name}`: default is `{want}`, the table says `{shown}`"
                    ));
                }
                if what.is_empty() {
                    out.push(format!("`{name}`: the table does not say what it adds"));
                }
            }
        }
    }
    for name in rows.keys().filter(|n| !features.contains_key(*n)) {
        out.push(format!(
            "`{name}` is in the docs' table but not a feature in Cargo.toml"
        ));
    }
    out
}

#[test]
fn every_crate_documents_its_features_as_cargo_toml_declares_them() {
    let members = members();
    assert!(members.len() >= 10, "{members:?}");
    let mut all = Vec::new();
    for dir in members {
        let docs = crate_docs(&dir);
        let found = problems(&read(&dir.join("Cargo.toml")), docs.as_deref());
        all.extend(found.into_iter().map(|p| format!("{}: {p}", dir.display())));
    }
    assert!(
        all.is_empty(),
        "feature tables out of date:\n{}",
        all.join("\n")
    );
}

const CARGO: &str = r#"
[package]
name = "demo"

[features]
default = ["a"]
## Adds A.
a = ["dep:x"]
# Internal.
b = [
    "a",
]

[dependencies]
"#;

#[test]
fn a_missing_row_a_wrong_default_an_extra_row_and_an_undocumented_feature_are_reported() {
    let docs = "| feature | default | what |\n|---|---|---|\n| `a` | no | A |\n| `c` | no | C |\n";
    let found = problems(CARGO, Some(docs));
    assert_eq!(
        found,
        [
            "`a`: default is `yes`, the table says `no`",
            "`b` has no `## ` doc comment in Cargo.toml",
            "`b` is missing from the docs' feature table",
            "`c` is in the docs' table but not a feature in Cargo.toml",
        ]
    );
}

#[test]
fn a_matching_table_passes_and_a_crate_without_features_must_show_none() {
    let cargo = CARGO.replace("# Internal.", "## Adds B.");
    let docs = "| feature | default | what |\n|---|---|---|\n| `a` | yes | A |\n| `b` | no | B |\n";
    assert!(problems(&cargo, Some(docs)).is_empty());
    let bare = "[package]\nname = \"demo\"\n";
    assert_eq!(
        problems(bare, Some(docs)),
        [
            "`a` is in the docs' table but not a feature in Cargo.toml",
            "`b` is in the docs' table but not a feature in Cargo.toml",
        ]
    );
}

#[test]
fn a_package_without_a_library_needs_only_the_doc_comments() {
    assert_eq!(
        problems(CARGO, None),
        ["`b` has no `## ` doc comment in Cargo.toml"]
    );
    assert!(problems(&CARGO.replace("# Internal.", "## Adds B."), None).is_empty());
}
