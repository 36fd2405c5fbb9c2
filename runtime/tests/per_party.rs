//! `per party`: a norm decided for each system of a party is one act of the party, reported
//! once for it (one act, one fine), under both engines.

// A test harness: failing loudly is its job.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]

use norm_compiler::date::Date;
use norm_compiler::driver::MemoryLoader;
use norm_runtime::engine::{DecideOptions, Engine, EngineKind};
use serde_json::{Value, json};
use std::path::PathBuf;

const LAW: &str = r#"law t "T" version "1"
role provider "Provider"
type P = struct { id: text, violated: bool = false }
type S = struct { id: text, providers: set<ref<P>> = {} }
fact parties: list<P>
fact systems: list<S>
fact actor: P in parties
fact system: S in systems where actor.id in system.providers
article 1 "Liability" {
  penalty fine_once {
    addressee provider
    when actor.id in system.providers and actor.violated
    per party
    fine 100 CNY to 1_000 CNY
    text "One fine for the party's act."
  }
  penalty fine_each {
    addressee provider
    when actor.id in system.providers and actor.violated
    fine 10 CNY to 20 CNY
    text "A fine for each system."
  }
}
"#;

fn decide(kind: EngineKind, facts: Value) -> Value {
    let loader = MemoryLoader::with(&[("t/law.norm", LAW)]);
    let engine = Engine::load_with(&loader, &[PathBuf::from("t")], Some(&[]), kind).unwrap();
    let d = engine
        .decide(
            &facts,
            Date::parse("2026-12-01").unwrap(),
            DecideOptions::default(),
        )
        .unwrap();
    serde_json::to_value(d).unwrap()
}

fn penalties(d: &Value, id: &str) -> Vec<Value> {
    d["penalties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["id"] == id)
        .cloned()
        .collect()
}

#[test]
fn a_per_party_norm_is_reported_once_per_party() {
    let facts = json!({
        "parties": [{"id": "a", "violated": true}, {"id": "b", "violated": true}],
        "systems": [
            {"id": "s1", "providers": ["a"]},
            {"id": "s2", "providers": ["a", "b"]},
        ],
    });
    for kind in [EngineKind::Jit, EngineKind::Interp] {
        let d = decide(kind, facts.clone());
        let once = penalties(&d, "fine_once");
        // `a` provides two systems: one entry, naming no system; `b` one, naming it.
        assert_eq!(once.len(), 2, "{d}");
        assert_eq!(once[0]["party"], "a");
        assert!(once[0].get("system").is_none(), "{}", once[0]);
        assert_eq!(once[1]["party"], "b");
        assert_eq!(once[1]["system"], "s2");
        // Without `per party`: one for each party and system.
        assert_eq!(penalties(&d, "fine_each").len(), 3, "{d}");
    }
}
