//! Snapshot tests of diagnostics: every `tests/diagnostics/NAME.norm` is checked and its
//! rendered diagnostics are compared with `tests/snapshots/diagnostics__NAME.snap`, which
//! shows the source and the diagnostics as a user sees them. Facts JSON errors are
//! snapshot-tested the same way against a small law.

// A test harness: failing loudly is its job.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]

use norm_compiler::diagnostic::render;
use norm_compiler::driver::{MemoryLoader, compile};
use std::path::{Path, PathBuf};

fn on_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(f)
        .map(|h| h.join())
    {
        Ok(Ok(v)) => v,
        _ => panic!("the compiler thread failed"),
    }
}

#[test]
fn diagnostics_match_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/diagnostics");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "norm"))
                .collect()
        })
        .unwrap_or_default();
    cases.sort();
    assert!(
        cases.len() >= 30,
        "expected at least 30 diagnostic cases, found {}",
        cases.len()
    );
    for path in cases {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let src = std::fs::read_to_string(&path).unwrap_or_default();
        let file = format!("{name}.norm");
        let (rendered, had_error) = on_big_stack({
            let src = src.clone();
            let file = file.clone();
            move || {
                // `//@ file: NAME` lines split a case into several files (e.g. a law and a data
                // module); all of them are compiled together.
                let mut files: Vec<(String, String)> = vec![(file.clone(), String::new())];
                for line in src.split_inclusive('\n') {
                    match line.strip_prefix("//@ file: ") {
                        Some(name) => files.push((name.trim().to_string(), String::new())),
                        None => {
                            if let Some((_, text)) = files.last_mut() {
                                text.push_str(line);
                            }
                        }
                    }
                }
                let pairs: Vec<(&str, &str)> = files
                    .iter()
                    .map(|(n, t)| (n.as_str(), t.as_str()))
                    .collect();
                let loader = MemoryLoader::with(&pairs);
                let paths: Vec<PathBuf> = files.iter().map(|(n, _)| PathBuf::from(n)).collect();
                let c = compile(&loader, &paths);
                (render(&c.db, &c.diagnostics), c.has_errors())
            }
        });
        assert!(
            had_error || !rendered.is_empty(),
            "{name}: expected a diagnostic"
        );
        let shown_src = if src.len() > 2000 {
            format!("{}… ({} bytes)", &src[..200], src.len())
        } else {
            src
        };
        insta::assert_snapshot!(
            name.clone(),
            format!("----- SOURCE ({file})\n{shown_src}\n----- DIAGNOSTICS\n{rendered}")
        );
    }
}

const LAW: &str = r#"law t "Test law" version "1.0"
type Category = enum { medical_diagnosis, general_chatbot }
type Actor = struct {
  registered_users: int,
  is_provider: bool = false,
  revenue: money = 0 CNY,
  since: date = 2026-01-01,
}
type AiSystem = struct { category: Category, training_flops: decimal, tags: set<Category> = {} }
fact actor: Actor
fact system: AiSystem
"#;

fn facts_error(json: &str) -> String {
    facts_error_in(LAW, json)
}

/// The facts errors of `json` against `law`, one per line.
fn facts_error_in(law: &str, json: &str) -> String {
    let loader = MemoryLoader::with(&[("law.norm", law)]);
    errors_of(compile(&loader, &[PathBuf::from("law.norm")]), json)
}

/// The facts errors of `json` against a compiled law (or the law's own diagnostics).
fn errors_of(c: norm_compiler::driver::Compilation, json: &str) -> String {
    let Some(program) = c.program else {
        return render(&c.db, &c.diagnostics);
    };
    match norm_runtime::facts::parse_facts_text(&program, json) {
        Ok(_) => "no error".into(),
        Err(errors) => errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn facts_errors_name_the_json_path() {
    let cases = [
        ("facts_malformed", r#"{"actor": {"registered_users": 3,}"#),
        ("facts_not_an_object", r#"[1, 2]"#),
        (
            "facts_missing_fact",
            r#"{"actor": {"registered_users": 3}}"#,
        ),
        (
            "facts_missing_field",
            r#"{"actor": {}, "system": {"category": "general_chatbot", "training_flops": "1e20"}}"#,
        ),
        (
            "facts_wrong_type",
            r#"{"actor": {"registered_users": "many"}, "system": {"category": "general_chatbot", "training_flops": "lots"}}"#,
        ),
        (
            "facts_unknown_fields",
            r#"{"actor": {"registered_user": 3, "registered_users": 3}, "sytem": {}, "system": {"category": "general_chatbot", "training_flops": 1}}"#,
        ),
        (
            "facts_unknown_variant",
            r#"{"actor": {"registered_users": 3}, "system": {"category": "medical_diagnostic", "training_flops": 1}}"#,
        ),
        (
            "facts_int_out_of_range",
            r#"{"actor": {"registered_users": 99999999999999999999}, "system": {"category": "general_chatbot", "training_flops": 1}}"#,
        ),
        (
            "facts_bad_date_and_money",
            r#"{"actor": {"registered_users": 3, "since": "2026-02-30", "revenue": {"amount": "5", "currency": "USD"}}, "system": {"category": "general_chatbot", "training_flops": 1, "tags": ["x"]}}"#,
        ),
    ];
    for (name, json) in cases {
        insta::assert_snapshot!(
            name,
            format!("----- FACTS\n{json}\n----- ERRORS\n{}", facts_error(json))
        );
    }
}

/// A case of several parties and systems, named by id (issue 11).
const CASE_LAW: &str = r#"law t "Test law" version "1.0"
type Kind = enum { organisation, natural_person }
type Party = struct { id: text, kind: Kind = organisation, employees: count = 0, revenue: amount = 0 CNY }
type System = struct { id: text, developer: ref<Party>, derived_from: ref<System>? }
type Notice = struct { from: ref<Party>, to: set<ref<Party>>, date: date }
fact parties: list<Party>
fact systems: list<System>
fact notices: list<Notice>
"#;

fn case_error(json: &str) -> String {
    facts_error_in(CASE_LAW, json)
}

#[test]
fn facts_errors_about_parties_systems_and_references() {
    let cases = [
        (
            "case_valid",
            r#"{"parties": [{"id": "acme"}, {"id": "bo", "kind": "natural_person"}], "systems": [{"id": "base", "developer": "acme"}, {"id": "tuned", "developer": "bo", "derived_from": "base"}], "notices": [{"from": "acme", "to": ["bo"], "date": "2026-11-02"}]}"#,
        ),
        (
            "case_unknown_party",
            r#"{"parties": [{"id": "acme"}], "systems": [{"id": "base", "developer": "acmee"}], "notices": [{"from": "acme", "to": ["nobody"], "date": "2026-11-02"}]}"#,
        ),
        (
            "case_duplicate_id",
            r#"{"parties": [{"id": "acme"}, {"id": "acme"}], "systems": [], "notices": []}"#,
        ),
        (
            "case_schema_key_and_strict_numbers",
            r#"{"$schema": "./facts.schema.json", "parties": [{"id": "acme", "employees": 50000.0}, {"id": "bo", "employees": -3, "revenue": "-5"}], "systems": [], "notices": []}"#,
        ),
        (
            "case_duplicate_key",
            r#"{"parties": [{"id": "acme", "kind": "organisation", "kind": "natural_person"}], "systems": [], "notices": []}"#,
        ),
        (
            "case_reference_cycle",
            r#"{"parties": [{"id": "acme"}], "systems": [{"id": "a", "developer": "acme", "derived_from": "b"}, {"id": "b", "developer": "acme", "derived_from": "a"}, {"id": "c", "developer": "acme", "derived_from": "c"}], "notices": []}"#,
        ),
    ];
    for (name, json) in cases {
        insta::assert_snapshot!(
            name,
            format!("----- FACTS\n{json}\n----- ERRORS\n{}", case_error(json))
        );
    }
}

#[test]
fn ir_listing_snapshot() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ir/registry.norm");
    let src = std::fs::read_to_string(&path).unwrap_or_default();
    let loader = MemoryLoader::with(&[("registry.norm", &src)]);
    let c = compile(&loader, &[PathBuf::from("registry.norm")]);
    let Some(program) = c.program else {
        panic!("{}", render(&c.db, &c.diagnostics))
    };
    insta::assert_snapshot!("ir_registry", program.to_string());
}

/// The facts errors of `json` against the stdlib's MAIL, one per line.
fn mail_error(json: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let c = norm_compiler::driver::compile_law(
        &norm_runtime::engine::FsLoader,
        &[root.join("stdlib/mail")],
        None,
    );
    errors_of(c, json)
}

#[test]
fn facts_errors_in_a_case_of_the_mail() {
    let cases = [
        (
            "mail_event_names_no_party",
            r#"{"parties": [{"id": "acme"}], "systems": [{"id": "chat", "providers": ["acme"], "activity_in_prc": true}], "events": [{"kind": "registry_filing", "date": "2026-03-01", "party": "acmee", "system": "chat"}]}"#,
        ),
        (
            "mail_two_parties_one_id",
            r#"{"parties": [{"id": "acme"}, {"id": "acme", "kind": "natural_person"}], "systems": [{"id": "chat", "providers": ["acme"], "activity_in_prc": true}]}"#,
        ),
        (
            "mail_model_derived_from_itself",
            r#"{"parties": [{"id": "acme"}], "systems": [{"id": "m", "developers": ["acme"], "activity_in_prc": true, "derived_from": "m2"}, {"id": "m2", "developers": ["acme"], "activity_in_prc": true, "derived_from": "m"}]}"#,
        ),
        (
            "mail_subject_and_its_list",
            r#"{"actor": {"id": "a"}, "parties": [{"id": "b"}], "system": {"id": "s", "activity_in_prc": true}}"#,
        ),
        (
            "mail_negative_count",
            r#"{"actor": {"id": "a"}, "system": {"id": "s", "providers": ["a"], "activity_in_prc": true, "registered_users": -5}}"#,
        ),
        (
            "mail_event_without_a_date",
            r#"{"actor": {"id": "a"}, "system": {"id": "s", "activity_in_prc": true}, "events": [{"kind": "licence_granted", "party": "a"}]}"#,
        ),
        (
            "mail_event_names_no_system",
            r#"{"parties": [{"id": "acme"}], "systems": [{"id": "chat", "providers": ["acme"], "activity_in_prc": true}], "events": [{"kind": "registry_filing", "date": "2026-03-01", "party": "acme", "system": "chta"}]}"#,
        ),
        (
            "mail_one_party_one_system",
            r#"{"actor": {"id": "a"}, "system": {"id": "s", "providers": ["a"], "activity_in_prc": true}}"#,
        ),
    ];
    for (name, json) in cases {
        insta::assert_snapshot!(
            name,
            format!("----- FACTS\n{json}\n----- ERRORS\n{}", mail_error(json))
        );
    }
}
