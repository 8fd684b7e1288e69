//! docs/FORMATS.md and docs/clusters.schema.json agree with what the writers
//! produce: every field of a real `clusters.json` is described in the schema
//! (and named in FORMATS.md), and the schema describes `cells`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The crate's root, where `docs/` lives.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The JSON Schema of `clusters.json`, parsed.
fn schema() -> Value {
    let path = root().join("docs/clusters.schema.json");
    let text = std::fs::read_to_string(&path).expect("docs/clusters.schema.json exists");
    serde_json::from_str(&text).expect("docs/clusters.schema.json is valid JSON")
}

/// Runs `hydra detect` on the `small_hydra` scenario (25 operator accounts
/// on pooled cards and rotating proxies, five banned and four replaced,
/// among households and solo users: a hydra and replacements, in 2,000
/// events) and returns its `clusters.json`.
fn detect(dir: &Path) -> Value {
    let input = root().join("tests/data/scenarios/small_hydra/events.csv");
    let out = dir.join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_hydra"))
        .arg("detect")
        .arg("--input")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .env_remove("HYDRA_REDACT_KEY")
        .output()
        .expect("run hydra");
    assert!(
        output.status.success(),
        "hydra detect failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(out.join("clusters.json")).unwrap();
    serde_json::from_str(&text).expect("clusters.json is JSON")
}

/// `node` with a local `$ref` (`#/$defs/...`) followed.
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.strip_prefix('#').expect("only local $refs");
            resolve(root, root.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {r}")))
        }
        None => node,
    }
}

/// Walks `value` along `node` of the schema `root`; every object key must
/// be one of the node's `properties` (or match its `additionalProperties`
/// schema; a node with neither is free-form, e.g. `run.config`). Collects
/// the keys seen in `seen`.
fn walk(root: &Value, node: &Value, value: &Value, path: &str, seen: &mut Vec<String>) {
    let node = resolve(root, node);
    match value {
        Value::Object(map) => {
            let properties = node.get("properties").and_then(Value::as_object);
            let additional = node.get("additionalProperties").filter(|a| a.is_object());
            if properties.is_none() && additional.is_none() {
                return;
            }
            for (key, child) in map {
                let here = format!("{path}.{key}");
                match (properties.and_then(|p| p.get(key)), additional) {
                    (Some(sub), _) => {
                        seen.push(key.clone());
                        walk(root, sub, child, &here, seen);
                    }
                    (None, Some(sub)) => walk(root, sub, child, &here, seen),
                    (None, None) => {
                        panic!("{here} is in clusters.json but not in docs/clusters.schema.json")
                    }
                }
            }
        }
        Value::Array(items) => {
            let sub = node.get("items").unwrap_or_else(|| panic!("{path}: schema has no items"));
            for (i, child) in items.iter().enumerate() {
                walk(root, sub, child, &format!("{path}[{i}]"), seen);
            }
        }
        _ => {}
    }
}

#[test]
fn every_field_of_clusters_json_is_in_the_schema_and_the_docs() {
    let schema = schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(schema["properties"]["schema"]["const"], hydra_detect::CLUSTERS_SCHEMA);

    let dir = tempfile::tempdir().unwrap();
    let clusters = detect(dir.path());
    assert_eq!(clusters["schema"], hydra_detect::CLUSTERS_SCHEMA);
    let listed = clusters["clusters"].as_array().unwrap();
    assert!(!listed.is_empty(), "the scenario yields a hydra: {clusters:#}");
    assert!(!clusters["replacements"].as_array().unwrap().is_empty(), "{clusters:#}");

    let mut seen = Vec::new();
    walk(&schema, &schema, &clusters, "$", &mut seen);
    // The walk reached the leaves of every part of the file.
    for key in
        ["input_sha256", "members", "explain", "top_indicators", "median_ban_to_replacement_secs"]
    {
        assert!(seen.iter().any(|k| k == key), "{key} not walked");
    }
    for key in ["linked_banned", "shared_with", "signup_ts"] {
        assert!(seen.iter().any(|k| k == key), "{key} not walked");
    }

    // FORMATS.md names every field the file holds.
    let formats = std::fs::read_to_string(root().join("docs/FORMATS.md")).unwrap();
    seen.sort();
    seen.dedup();
    for key in &seen {
        assert!(formats.contains(&format!("`{key}`")), "docs/FORMATS.md does not name `{key}`");
    }
}

#[test]
fn the_schema_describes_cells_and_the_docs_name_every_schema_field() {
    let schema = schema();
    let cluster = resolve(&schema, &schema["properties"]["clusters"]["items"]);
    let cells = &cluster["properties"]["cells"];
    assert_eq!(cells["type"], "array");
    let cell: Vec<&String> = cells["items"]["properties"].as_object().unwrap().keys().collect();
    assert_eq!(cell, ["id", "score", "size"]);
    assert!(
        !cluster["required"].as_array().unwrap().iter().any(|r| r == "cells"),
        "cells is optional"
    );

    // Every property the schema defines is named in FORMATS.md.
    fn names(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(p) = map.get("properties").and_then(Value::as_object) {
                    out.extend(p.keys().cloned());
                }
                map.values().for_each(|c| names(c, out));
            }
            Value::Array(items) => items.iter().for_each(|c| names(c, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    names(&schema, &mut all);
    let formats = std::fs::read_to_string(root().join("docs/FORMATS.md")).unwrap();
    for key in &all {
        assert!(formats.contains(&format!("`{key}`")), "docs/FORMATS.md does not name `{key}`");
    }
}
