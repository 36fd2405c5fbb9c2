//! The facts' JSON Schema (produced by the runtime, printed by `norm schema`) and the facts
//! reader agree on what is valid: an independent validator (the `jsonschema` crate) accepts
//! exactly the facts `norm eval` accepts, for every example and for each kind of bad input.
//!
//! Two things JSON cannot tell a schema, and so are left out: a key given twice (a JSON value
//! keeps one) and `50000.0` for an integer (JSON Schema counts it as one).

// A test harness: failing loudly is its job.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]

use norm_compiler::driver::compile_law;
use norm_runtime::engine::FsLoader;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_schema_and_the_facts_reader_agree() {
    let c = compile_law(&FsLoader, &[root().join("stdlib/mail")], None);
    let program = c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics));
    let schema = norm_runtime::schema::facts_schema(&program);
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));
    let mut cases: Vec<(String, Value)> = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "the examples");
    let chatbot: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/provincial_chatbot.json")).unwrap(),
    )
    .unwrap();
    for p in names {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        cases.push((p.display().to_string(), v));
    }
    let with = |path: &[&str], value: Value| {
        let mut v = chatbot.clone();
        let mut at = &mut v;
        for (i, k) in path.iter().enumerate() {
            if i + 1 == path.len() {
                at[*k] = value.clone();
            } else {
                at = &mut at[*k];
            }
        }
        v
    };
    let mut without = chatbot.clone();
    without["system"]
        .as_object_mut()
        .unwrap()
        .remove("activity_in_prc");
    // The same case as lists of one party and one system, and with both forms at once.
    let mut lists = json!({});
    lists["parties"] = json!([chatbot["actor"].clone()]);
    lists["systems"] = json!([chatbot["system"].clone()]);
    let mut both = chatbot.clone();
    both["parties"] = json!([chatbot["actor"].clone()]);
    let mut no_party = lists.clone();
    no_party["parties"] = json!([]);
    cases.extend([
        (
            "$schema at the top".to_string(),
            with(&["$schema"], json!("./facts.schema.json")),
        ),
        (
            "negative count".into(),
            with(&["system", "registered_users"], json!(-1)),
        ),
        (
            "negative amount".into(),
            with(
                &["actor", "previous_year_revenue"],
                json!({"amount": "-5", "currency": "CNY"}),
            ),
        ),
        (
            "zero amount".into(),
            with(&["actor", "previous_year_revenue"], json!("0")),
        ),
        (
            "unknown field".into(),
            with(&["system", "registerd_users"], json!(3)),
        ),
        ("unknown fact".into(), with(&["actr"], json!({}))),
        (
            "not a date".into(),
            with(
                &["system", "registry_conditions_met_on"],
                json!("1 December"),
            ),
        ),
        (
            "a date".into(),
            with(
                &["system", "registry_conditions_met_on"],
                json!("2026-12-01"),
            ),
        ),
        (
            "unknown category".into(),
            with(&["system", "category"], json!("drone_delivery_x")),
        ),
        (
            "a string for a bool".into(),
            with(&["system", "activity_in_prc"], json!("yes")),
        ),
        ("missing required field".into(), without),
        ("parties and systems as lists".into(), lists),
        ("a subject and its list".into(), both),
        ("no party".into(), no_party),
        (
            "an event".into(),
            with(
                &["events"],
                json!([{"kind": "registry_filing", "date": "2026-03-01", "party": "a", "system": "s", "number": "X-1"}]),
            ),
        ),
        (
            "an event of no known kind".into(),
            with(&["events"], json!([{"kind": "filed", "date": "2026-03-01", "party": "a"}])),
        ),
        ("an array for the facts".into(), json!([1, 2])),
    ]);
    let mut disagree = Vec::new();
    for (name, v) in &cases {
        let by_schema = validator.is_valid(v);
        let by_reader = norm_runtime::facts::read_facts(&program, v);
        if by_schema != by_reader.is_ok() {
            disagree.push(format!(
                "{name}: schema says {by_schema}, the reader says {:?}",
                by_reader.err()
            ));
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}
