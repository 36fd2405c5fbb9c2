//! The facts' JSON Schema (produced by the runtime, printed by `norm schema`) and the engine
//! agree on what is valid: an independent validator (the `jsonschema` crate) accepts exactly
//! the facts the engine decides (`norm eval`'s own call, `Engine::decide`), for every example
//! and for each kind of bad input.
//!
//! What a JSON Schema cannot say is tested apart (`beyond_the_schema`): the schema accepts, the
//! engine refuses with a facts error. A key given twice (a parsed JSON value keeps one),
//! `50000.0` for an integer (JSON Schema counts it as one), a code not in the list in force on
//! the decision date (the vocabulary is data and changes with the date), an id that names no
//! party or system of the case, two parties with one id, a model derived from itself.

// A test harness: failing loudly is its job.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]

use norm_compiler::date::Date;
use norm_runtime::engine::{DecideError, Engine};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn engine() -> Engine {
    Engine::load(&[root().join("stdlib/mail")], None).unwrap_or_else(|e| panic!("{e}"))
}

fn as_of() -> Date {
    Date::parse("2026-12-01").unwrap()
}

/// Whether the engine decides the case (an error other than a facts error is a failure here).
fn decides(engine: &Engine, v: &Value) -> Result<(), String> {
    match engine.decide(v, as_of(), norm_runtime::engine::DecideOptions::default()) {
        Ok(_) => Ok(()),
        Err(DecideError::Facts { errors }) => Err(errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ")),
        Err(e) => panic!("not a facts error: {e}"),
    }
}

#[test]
fn the_schema_and_the_engine_agree() {
    let engine = engine();
    let schema = norm_runtime::schema::facts_schema(engine.program());
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
        let by_engine = decides(&engine, v);
        if by_schema != by_engine.is_ok() {
            disagree.push(format!(
                "{name}: schema says {by_schema}, the engine says {:?}",
                by_engine.err()
            ));
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}

#[test]
fn beyond_the_schema_the_engine_refuses_what_the_schema_accepts() {
    let engine = engine();
    let schema = norm_runtime::schema::facts_schema(engine.program());
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{e}"));
    let case = |parties: Value, systems: Value, events: Value| json!({"parties": parties, "systems": systems, "events": events});
    let acme = json!([{"id": "acme"}]);
    let chat = json!([{"id": "chat", "providers": ["acme"], "activity_in_prc": true}]);
    let cases = [
        (
            "an integer written 50000.0",
            r#"{"parties": [{"id": "acme"}], "systems": [{"id": "chat", "providers": ["acme"], "activity_in_prc": true, "registered_users": 50000.0}]}"#.to_string(),
        ),
        (
            "a code not in the list in force",
            case(
                acme.clone(),
                json!([{"id": "chat", "providers": ["acme"], "activity_in_prc": true, "negative_list_codes": ["drone_delivery"]}]),
                json!([]),
            )
            .to_string(),
        ),
        (
            "an event naming no party of the case",
            case(
                acme.clone(),
                chat.clone(),
                json!([{"kind": "registry_filing", "date": "2026-03-01", "party": "acmee", "system": "chat"}]),
            )
            .to_string(),
        ),
        (
            "an event naming no system of the case",
            case(
                acme.clone(),
                chat.clone(),
                json!([{"kind": "registry_filing", "date": "2026-03-01", "party": "acme", "system": "chta"}]),
            )
            .to_string(),
        ),
        (
            "two parties with one id",
            case(json!([{"id": "acme"}, {"id": "acme"}]), chat.clone(), json!([])).to_string(),
        ),
        (
            "a model derived from itself",
            case(
                acme.clone(),
                json!([{"id": "m", "developers": ["acme"], "activity_in_prc": true, "derived_from": "m"}]),
                json!([]),
            )
            .to_string(),
        ),
    ];
    for (name, text) in cases {
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(validator.is_valid(&v), "{name}: the schema accepts it");
        // Through the text, as `norm eval` reads a file (50000.0 is refused there).
        let refused = match engine.decide_json(&text, as_of()) {
            Err(DecideError::Facts { errors }) => !errors.is_empty(),
            Ok(_) => false,
            Err(e) => panic!("{name}: not a facts error: {e}"),
        };
        assert!(refused, "{name}: the engine must refuse it");
    }
    // A key given twice never reaches a JSON value: the text is refused.
    let twice = r#"{"parties": [{"id": "acme", "id": "acme2"}], "systems": []}"#;
    assert!(matches!(
        engine.decide_json(twice, as_of()),
        Err(DecideError::Facts { .. })
    ));
}
