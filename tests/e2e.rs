//! End-to-end tests through the built `norm` binary: the contract of DESIGN §5 and §6 (exit
//! codes, output formats) on the bundled MAIL stdlib, and every kind of bad input.

// A test harness: failing loudly is its job.
#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn norm(args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_norm"))
        .args(args)
        .current_dir(root())
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("cannot run norm: {e}"),
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// A scratch directory unique to one test, removed when it is dropped.
fn scratch(name: &str) -> tempfile::TempDir {
    match tempfile::Builder::new()
        .prefix(&format!("norm-e2e-{name}-"))
        .tempdir()
    {
        Ok(d) => d,
        Err(e) => panic!("cannot create a temporary directory: {e}"),
    }
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> String {
    if let Err(e) = std::fs::write(path, bytes) {
        panic!("cannot write {}: {e}", path.display());
    }
    path.display().to_string()
}

fn json(o: &Output) -> Value {
    match serde_json::from_slice(&o.stdout) {
        Ok(v) => v,
        Err(e) => panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            stdout(o),
            stderr(o)
        ),
    }
}

const SMALL_LAW: &str = r#"law t "Test law" version "1.0"
role provider "Provider"
type Actor = struct { users: int }
fact actor: Actor
data schema limits { threshold: int }
article 1 "Registry" {
  obligation register {
    addressee provider
    when actor.users > limits.threshold
    text "Register."
  }
}
"#;

// ---- the stdlib --------------------------------------------------------------------------

#[test]
fn check_stdlib_passes() {
    let o = norm(&["check", "stdlib"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).starts_with("ok: law mail 4.0"), "{}", stdout(&o));
}

#[test]
fn stdlib_tests_pass_and_report_counts_last() {
    let o = norm(&["test", "stdlib"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let last = out.lines().last().unwrap_or_default().to_string();
    let passed: usize = last
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(last.ends_with("passed, 0 failed"), "{last}");
    assert!(passed >= 120, "only {passed} tests");
}

#[test]
fn every_stdlib_norm_is_exercised_by_a_test() {
    let o = norm(&["test", "stdlib", "--coverage"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.starts_with("coverage: "))
        .unwrap_or_default();
    let words: Vec<&str> = line.split(' ').collect();
    assert!(words.len() >= 4, "{out}");
    assert_eq!(words[1], words[3], "not every norm is exercised: {line}");
    assert!(line.ends_with("norms applied in some test"), "{line}");
    assert!(out.contains("Art. 66: ✓ national_registry"), "{out}");
    // By paragraph: every paragraph of the law is cited by a norm or a finding, or listed in
    // stdlib/README.md as text only with its reason.
    assert!(
        out.contains("  Art. 66: (1) ✓  (2) ✓  (3) ✓  (4) ✓"),
        "{out}"
    );
    assert!(
        out.contains("every paragraph is cited or listed as text only in stdlib/README.md"),
        "{out}"
    );
    // Versions in time are shown per version, with the amendment example loaded beside it.
    let o = norm(&["test", "stdlib", "examples/versions", "--coverage"]);
    assert!(
        stdout(&o).contains("Art. 66 [from 2027-01-01]: ✓ national_registry"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn stdlib_is_formatted() {
    let o = norm(&["fmt", "--check", "stdlib"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
}

/// `norm eval stdlib/mail --facts examples/NAME.json --as-of 2026-12-01 EXTRA…`
fn eval_example(example: &str, extra: &[&str]) -> Output {
    let facts = format!("examples/{example}.json");
    let mut args = vec![
        "eval",
        "stdlib/mail",
        "--facts",
        &facts,
        "--as-of",
        "2026-12-01",
    ];
    args.extend_from_slice(extra);
    norm(&args)
}

fn decide(example: &str) -> Value {
    let o = eval_example(example, &["--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    json(&o)
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn decision_json_follows_the_contract() {
    let d = decide("foreign_genai_2m_users");
    assert_eq!(
        d["law"],
        serde_json::json!({"name": "mail", "version": "4.0"})
    );
    assert_eq!(d["as_of"], "2026-12-01");
    let data: Vec<&str> = d["data"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        data,
        vec![
            "negative_list",
            "export_control",
            "thresholds",
            "commencement",
            "calendar"
        ]
    );
    let norms = d["norms"].as_array().cloned().unwrap_or_default();
    let n = norms
        .iter()
        .find(|n| n["id"] == "national_registry")
        .cloned()
        .unwrap_or_default();
    assert_eq!(n["kind"], "obligation");
    assert_eq!(n["article"], "66");
    assert_eq!(n["paragraph"], 1);
    assert_eq!(n["addressee"], "provider");
    assert_eq!(n["authority"], "national");
    // Conditions met on Friday 20 November 2026: ten working days later.
    assert_eq!(n["due"], "2026-12-04");
    // Without the date the duty stands, with no due date rather than a wrong one.
    let chatbot = decide("provincial_chatbot");
    let reg = chatbot["norms"]
        .as_array()
        .and_then(|a| a.iter().find(|n| n["id"] == "provincial_registry").cloned())
        .unwrap_or_default();
    assert_eq!(reg["article"], "66");
    assert!(reg.get("due").is_none());
    assert_eq!(d["values"]["foundation_model"], true);
    // The stdlib holds MAIL 4.0 only: years later, the case is still decided under 4.0.
    let later = norm(&[
        "eval",
        "stdlib/mail",
        "--facts",
        "examples/foreign_genai_2m_users.json",
        "--as-of",
        "2030-01-01",
        "--format",
        "json",
    ]);
    assert_eq!(json(&later)["law"]["version"], "4.0", "{}", stderr(&later));
    // The hypothetical 4.1-draft amendment is an example of versions in time, loaded beside the
    // stdlib only when asked for.
    let o = norm(&["test", "stdlib", "examples/versions"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("PASS Art. 66 (4.1-draft)"),
        "{}",
        stdout(&o)
    );
    assert_eq!(d["values"]["on_negative_list"], false);
}

/// Every example decides as its expected file (`examples/expected/NAME.json`, the whole
/// Decision as of 2026-12-01) says, with the JIT and with the interpreter. After a deliberate
/// change to the stdlib, regenerate with `NORM_BLESS=1 cargo test --test e2e` and review the diff.
#[test]
fn every_example_decides_as_its_expected_file_says_under_both_engines() {
    let dir = root().join("examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let p = e.path();
                    (p.extension().is_some_and(|x| x == "json"))
                        .then(|| p.file_stem().map(|s| s.to_string_lossy().to_string()))
                        .flatten()
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    assert!(names.len() >= 16, "{names:?}");
    let bless = std::env::var_os("NORM_BLESS").is_some();
    for name in &names {
        let jit = eval_example(name, &["--format", "json", "--engine", "jit"]);
        let interp = eval_example(name, &["--format", "json", "--engine", "interp"]);
        assert_eq!(code(&jit), 0, "{name}: {}", stderr(&jit));
        assert_eq!(
            stdout(&jit),
            stdout(&interp),
            "{name}: the engines disagree"
        );
        let expected_path = dir.join("expected").join(format!("{name}.json"));
        if bless {
            let _ = std::fs::create_dir_all(dir.join("expected"));
            std::fs::write(&expected_path, stdout(&jit)).expect("write the expected decision");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let want: Value = serde_json::from_str(&expected).expect("expected decision is JSON");
        assert_eq!(
            json(&jit),
            want,
            "{name} decides differently from {}",
            expected_path.display()
        );
    }
}

#[test]
fn examples_decide_as_the_law_says() {
    let chatbot = ids(&decide("provincial_chatbot"), "norms");
    assert!(
        chatbot.contains(&"provincial_registry".to_string()),
        "{chatbot:?}"
    );
    assert!(
        !chatbot.contains(&"national_registry".to_string()),
        "{chatbot:?}"
    );
    let med = decide("negative_list_medical");
    let norms = ids(&med, "norms");
    assert!(
        norms.contains(&"negative_list_licence".to_string()),
        "{norms:?}"
    );
    assert!(
        norms.contains(&"unlicensed_negative_list_provision".to_string()),
        "{norms:?}"
    );
    assert!(!norms.iter().any(|n| n.ends_with("_registry")), "{norms:?}");
    let lab = decide("research_lab");
    let lab_norms = ids(&lab, "norms");
    assert!(
        lab_norms.contains(&"research_exemption".to_string()),
        "{lab_norms:?}"
    );
    assert!(
        !lab_norms.iter().any(|n| n.ends_with("_registry")),
        "{lab_norms:?}"
    );
    let gap = decide("exactly_one_million");
    assert!(!ids(&gap, "norms").iter().any(|n| n.ends_with("_registry")));
    assert!(ids(&gap, "warnings").contains(&"registry_tier_gap".to_string()));
    let serious = decide("serious_violation_large_revenue");
    let p = serious["penalties"].as_array().cloned().unwrap_or_default();
    let fine = p
        .iter()
        .find(|p| p["id"] == "serious_violation")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        fine["min"],
        serde_json::json!({"amount": "1000000", "currency": "CNY"})
    );
    assert_eq!(
        fine["max"],
        serde_json::json!({"amount": "32000000", "currency": "CNY"})
    );
}

#[test]
fn explain_lists_conditions_and_exceptions() {
    let o = eval_example("research_lab", &["--explain", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = json(&o);
    let ex = d["explanation"].as_array().cloned().unwrap_or_default();
    let reg = ex
        .iter()
        .find(|e| e["norm"] == "provincial_registry")
        .cloned()
        .unwrap_or_default();
    assert_eq!(reg["status"], "defeated");
    assert_eq!(
        reg["defeated_by"][0], "research_exemption",
        "{}",
        reg["defeated_by"]
    );
    let text = eval_example("research_lab", &["--explain"]);
    assert!(stdout(&text).contains("defeated"), "{}", stdout(&text));
}

#[test]
fn expr_and_schema() {
    let o = norm(&["expr", "2026-01-31 + 1 month"]);
    assert_eq!((code(&o), stdout(&o).trim()), (0, "2026-02-28"));
    let o = norm(&[
        "expr",
        "thresholds.foundation_model_flops",
        "--as-of",
        "2026-12-01",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(json(&o)["value"], "10000000000000000000000000");
    let o = norm(&["expr", "2026-09-28 + 10 working days"]);
    assert_eq!(
        (code(&o), stdout(&o).trim()),
        (0, "2026-10-16"),
        "{}",
        stderr(&o)
    );
    let o = norm(&["expr", "2027-03-01 + 1 working day"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains(
            "2027-03-01 + 1 working day starts in 2027, outside the years the working-day calendar covers (2024–2026): the calendar for 2027 is not loaded"
        ),
        "{}",
        stderr(&o)
    );
    let o = norm(&["expr", "1 + true"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("cannot apply `+`"), "{}", stderr(&o));
    let o = norm(&["schema", "stdlib/mail"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let s = json(&o);
    assert!(
        s["properties"]["actor"]["properties"]["previous_year_revenue"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("not negative")),
        "{s}"
    );
    assert_eq!(
        s["properties"]["systems"]["items"]["properties"]["registered_users"]["type"],
        "integer"
    );
    // One party and one system may be given as `actor` and `system`, or as the lists.
    assert_eq!(s["allOf"][0]["oneOf"][0]["required"][0], "parties", "{s}");
}

#[test]
fn why_not_names_the_failed_condition_and_the_change() {
    let o = eval_example("provincial_chatbot", &["--why-not", "national_registry"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o)
            .contains("`system.registered_users` would need to exceed 1,000,000; it is 50,000"),
        "{}",
        stdout(&o)
    );
    let o = eval_example(
        "research_lab",
        &["--why-not", "provincial_registry", "--format", "json"],
    );
    let w = &json(&o)["why_not"];
    assert_eq!(w["status"], "defeated");
    assert_eq!(w["defeated_by"][0], "research_exemption", "{w}");
    // A case of several parties: one answer per party and system.
    let o = eval_example(
        "incident_chain",
        &["--why-not", "provider_incident_response"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("(party `appco`, system `writer`):\n  it applies."),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains(
            "(party `modelco`, system `m1`):\n  ✗ Art. 112(1) item 5 not met: ai_provider\n    ✗ actor.id in system.providers"
        ),
        "{}",
        stdout(&o)
    );
    // A finding that does not hold is cited, with its own failed conditions.
    let o = eval_example(
        "research_lab_goes_commercial",
        &["--why-not", "research_exemption", "--format", "json"],
    );
    let f = &json(&o)["why_not"]["failed"][0]["finding"];
    assert_eq!(f["id"], "research_exempt", "{f}");
    let item = &f["because"][0]["finding"];
    assert_eq!(
        (&item["article"], &item["paragraph"], &item["item"]),
        (&Value::from("111"), &Value::from(2), &Value::from(1)),
        "{f}"
    );
    let o = eval_example(
        "research_lab_goes_commercial",
        &["--why-not", "research_exemption"],
    );
    assert!(
        stdout(&o).contains("✗ Art. 111(2) item 1 not met: research_not_commercial"),
        "{}",
        stdout(&o)
    );
    let o = eval_example("research_lab", &["--why-not", "national_registr"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("did you mean `national_registry`?"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn explanations_read_as_documents() {
    let o = eval_example("research_lab", &["--explain"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let why = out.split("\nWhy:\n").nth(1).unwrap_or_default();
    insta::assert_snapshot!("explain_research_lab", why);
    // The JSON form, for the norms of Art. 66 (the whole explanation lists every norm).
    let o = eval_example("foreign_genai_2m_users", &["--explain", "--format", "json"]);
    let art66: Vec<Value> = json(&o)["explanation"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["article"] == "66").cloned().collect())
        .unwrap_or_default();
    assert!(!art66.is_empty());
    let pretty = serde_json::to_string_pretty(&art66).unwrap_or_default();
    insta::assert_snapshot!("explain_foreign_genai_json", pretty);
}

// ---- the command line ----------------------------------------------------------------------

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&norm(&[])), 2);
    assert_eq!(code(&norm(&["frobnicate"])), 2);
    assert_eq!(code(&norm(&["eval", "stdlib/mail"])), 2, "missing --facts");
    assert_eq!(
        code(&norm(&[
            "eval",
            "stdlib/mail",
            "--facts",
            "examples/research_lab.json",
            "--format",
            "yaml"
        ])),
        2
    );
    let o = norm(&[
        "eval",
        "stdlib/mail",
        "--facts",
        "examples/research_lab.json",
        "--as-of",
        "2026-13-45",
    ]);
    assert_eq!(code(&o), 1, "a malformed date is bad input");
    assert!(
        stderr(&o).contains("invalid --as-of date `2026-13-45`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_files_exit_1() {
    let o = norm(&["check", "no/such/dir"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("no such file or directory"),
        "{}",
        stderr(&o)
    );
    let o = norm(&[
        "eval",
        "stdlib/mail",
        "--facts",
        "no/such.json",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1);
    assert_eq!(json(&o)["error"]["kind"], "io");
}

// ---- bad source -----------------------------------------------------------------------------

fn check_file(name: &str, contents: impl AsRef<[u8]>) -> Output {
    let tmp = scratch(name);
    let dir = tmp.path();
    let path = write(&dir.join("law.norm"), contents);
    norm(&["check", &path])
}

#[test]
fn unterminated_string_and_unknown_token() {
    let o = check_file("unterminated", "law t \"T version \"1\"\n");
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("law.norm:1:"), "{}", stderr(&o));
    let o = check_file("unknown", "law t \"T\" version \"1\"\ndef a = 1 $ 2\n");
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("unexpected character `$`"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("law.norm:2:11"), "{}", stderr(&o));
}

#[test]
fn invalid_utf8_and_nul_bytes() {
    let o = check_file(
        "utf8",
        b"law t \"T\" version \"1\"\ndef a = \"\xff\xfe\"\n".as_slice(),
    );
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("not valid UTF-8"), "{}", stderr(&o));
    assert!(stderr(&o).contains(":2:10"), "{}", stderr(&o));
    let o = check_file(
        "nul",
        b"law t \"T\" version \"1\"\n\0\0\0def a = 1\n".as_slice(),
    );
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("NUL"), "{}", stderr(&o));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!(
        "law t \"T\" version \"1\"\ndef x = {}1{}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let o = check_file("deep", deep);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("nested too deeply"), "{}", stderr(&o));
    let nots = format!(
        "law t \"T\" version \"1\"\nfact b: bool\ndef x = {}b\n",
        "not ".repeat(10_000)
    );
    let o = check_file("deep-not", nots);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("nested too deeply"), "{}", stderr(&o));
    let sum = format!(
        "law t \"T\" version \"1\"\ndef x = 1{}\n",
        " + 1".repeat(10_000)
    );
    let o = check_file("deep-sum", sum);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
}

#[test]
fn empty_file_and_large_file() {
    let o = check_file("empty", "");
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("no `law` header"), "{}", stderr(&o));
    let mut big = String::from("law t \"T\" version \"1\"\n");
    let mut i = 0;
    while big.len() < 5 * 1024 * 1024 {
        big.push_str(&format!("def value_number_{i} = {i} + 1\n"));
        i += 1;
    }
    let o = check_file("big", big);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("definitions"), "{}", stdout(&o));
}

#[test]
fn type_errors_unknown_names_cycles_dates_and_ranges() {
    let cases = [
        ("def a: bool = 1 + 2", "must be a `bool`"),
        ("fact users: int\ndef a = user > 3", "did you mean `users`?"),
        ("def a = b\ndef b = a", "cycle"),
        ("def d = 2026-02-29", "invalid date `2026-02-29`"),
        (
            "def n = 99999999999999999999",
            "integer literal out of range",
        ),
    ];
    for (i, (src, want)) in cases.iter().enumerate() {
        let o = check_file(
            &format!("case{i}"),
            format!("law t \"T\" version \"1\"\n{src}\n"),
        );
        assert_eq!(code(&o), 1, "{src}");
        assert!(stderr(&o).contains(want), "{src}: {}", stderr(&o));
    }
}

#[test]
fn check_json_errors_are_an_error_object() {
    let tmp = scratch("json-errors");
    let dir = tmp.path();
    let path = write(
        &dir.join("law.norm"),
        "law t \"T\" version \"1\"\ndef a = nope\n",
    );
    let o = norm(&["check", &path, "--format", "json"]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    let d = &v["error"]["diagnostics"][0];
    assert_eq!(d["code"], "E0101");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(2), Some(9))
    );
}

// ---- bad data and facts ---------------------------------------------------------------------

fn small_law(name: &str, data: &str) -> (tempfile::TempDir, String) {
    let tmp = scratch(name);
    let dir = tmp.path();
    let _ = std::fs::create_dir_all(dir.join("law"));
    let _ = std::fs::create_dir_all(dir.join("data"));
    write(&dir.join("law/law.norm"), SMALL_LAW);
    write(&dir.join("data/limits.norm"), data);
    let law = dir.join("law").display().to_string();
    (tmp, law)
}

#[test]
fn data_module_of_the_wrong_schema_is_refused() {
    let (tmp, law) = small_law(
        "wrong-schema",
        "data limitz version \"1\" effective 2026-01-01 { threshold = 3 }\n",
    );
    let dir = tmp.path();
    let facts = write(&dir.join("f.json"), r#"{"actor": {"users": 5}}"#);
    let o = norm(&["eval", &law, "--facts", &facts, "--as-of", "2026-12-01"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("no data schema `limitz`"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("did you mean `limits`?"),
        "{}",
        stderr(&o)
    );
    let (tmp, law) = small_law(
        "wrong-type",
        "data limits version \"1\" effective 2026-01-01 { threshold = \"three\" }\n",
    );
    let dir = tmp.path();
    let facts = write(&dir.join("f.json"), r#"{"actor": {"users": 5}}"#);
    let o = norm(&["eval", &law, "--facts", &facts, "--as-of", "2026-12-01"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("field `threshold` must be an `int`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn data_in_force_follows_the_as_of_date() {
    let (tmp, law) = small_law(
        "versions",
        "data limits version \"1\" effective 2026-01-01 { threshold = 10 }\n",
    );
    let dir = tmp.path();
    write(
        &dir.join("data/limits2.norm"),
        "data limits version \"2\" effective 2027-01-01 { threshold = 100 }\n",
    );
    let facts = write(&dir.join("f.json"), r#"{"actor": {"users": 50}}"#);
    let before = norm(&[
        "eval",
        &law,
        "--facts",
        &facts,
        "--as-of",
        "2026-12-31",
        "--format",
        "json",
    ]);
    assert_eq!(ids(&json(&before), "norms"), vec!["register"]);
    assert_eq!(json(&before)["data"][0]["version"], "1");
    let after = norm(&[
        "eval",
        &law,
        "--facts",
        &facts,
        "--as-of",
        "2027-01-01",
        "--format",
        "json",
    ]);
    assert!(ids(&json(&after), "norms").is_empty());
    assert_eq!(json(&after)["data"][0]["version"], "2");
    let none = norm(&[
        "eval",
        &law,
        "--facts",
        &facts,
        "--as-of",
        "2025-06-01",
        "--format",
        "json",
    ]);
    assert_eq!(code(&none), 1);
    assert_eq!(json(&none)["error"]["kind"], "evaluation");
    assert!(
        json(&none)["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("2025-06-01 is before the law's data apply: no version of `limits` is in force on that date. The first versions of the law's data modules: `limits` version 1 from 2026-01-01. Decide the case as of 2026-01-01 or later"),
        "{}",
        stdout(&none)
    );
}

#[test]
fn bad_facts_name_the_json_path() {
    let (tmp, law) = small_law(
        "facts",
        "data limits version \"1\" effective 2026-01-01 { threshold = 10 }\n",
    );
    let dir = tmp.path();
    let cases = [
        ("malformed", r#"{"actor": {"users": 5"#, "invalid JSON"),
        ("missing", r#"{"actor": {}}"#, "actor.users: missing field"),
        (
            "wrong-type",
            r#"{"actor": {"users": "five"}}"#,
            "actor.users: expected an int, found \"five\"",
        ),
        (
            "unknown",
            r#"{"actor": {"users": 5, "userz": 1}}"#,
            "actor.userz: unknown field of Actor",
        ),
    ];
    for (name, facts, want) in cases {
        let f = write(&dir.join(format!("{name}.json")), facts);
        let o = norm(&["eval", &law, "--facts", &f, "--as-of", "2026-12-01"]);
        assert_eq!(code(&o), 1, "{name}");
        assert!(stderr(&o).contains(want), "{name}: {}", stderr(&o));
        let o = norm(&[
            "eval",
            &law,
            "--facts",
            &f,
            "--as-of",
            "2026-12-01",
            "--format",
            "json",
        ]);
        assert_eq!(code(&o), 1, "{name}");
        assert!(json(&o)["error"].is_object(), "{name}");
    }
}

#[test]
fn overflow_is_an_evaluation_error() {
    let tmp = scratch("overflow");
    let dir = tmp.path();
    write(
        &dir.join("law.norm"),
        "law t \"T\" version \"1\"\nfact n: int\ndef doubled = n * 2\n",
    );
    let f = write(&dir.join("f.json"), r#"{"n": 9223372036854775807}"#);
    let o = norm(&[
        "eval",
        &dir.display().to_string(),
        "--facts",
        &f,
        "--as-of",
        "2026-12-01",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert_eq!(json(&o)["error"]["kind"], "evaluation");
    assert_eq!(json(&o)["error"]["code"], "overflow");
}

#[test]
fn as_of_before_the_law_takes_effect_is_an_error() {
    let tmp = scratch("not-in-force");
    let dir = tmp.path();
    write(
        &dir.join("law.norm"),
        "law t \"T\" version \"1\" effective 2027-01-01\nfact x: bool\ndef y = x\n",
    );
    let f = write(&dir.join("f.json"), r#"{"x": true}"#);
    let law = dir.display().to_string();
    let o = norm(&["eval", &law, "--facts", &f, "--as-of", "2026-12-01"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("law t 1 is not in force on 2026-12-01: it takes effect on 2027-01-01"),
        "{}",
        stderr(&o)
    );
    let o = norm(&[
        "eval",
        &law,
        "--facts",
        &f,
        "--as-of",
        "2027-01-01",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn fmt_rewrites_and_is_idempotent() {
    let tmp = scratch("fmt");
    let dir = tmp.path();
    let path = write(
        &dir.join("law.norm"),
        "law  t \"T\"  version \"1\"\n// keep me\nfact   a:int\ndef b=a+1 // and me\n",
    );
    assert_eq!(code(&norm(&["fmt", "--check", &path])), 1);
    assert_eq!(code(&norm(&["fmt", &path])), 0);
    let once = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        once.contains("// keep me") && once.contains("// and me"),
        "{once}"
    );
    assert_eq!(code(&norm(&["fmt", "--check", &path])), 0);
    let broken = write(&dir.join("broken.norm"), "def = 3\n");
    assert_eq!(code(&norm(&["fmt", &broken])), 1);
    assert_eq!(
        std::fs::read_to_string(&broken).unwrap_or_default(),
        "def = 3\n",
        "a broken file is left alone"
    );
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    // `norm eval … --explain --format json | head -c 100`: the output (~90 KB) outlasts the
    // pipe's buffer, so the writer meets a closed pipe. That ends the output, never the program
    // with an internal error.
    use std::io::Read;
    let mut child = match Command::new(env!("CARGO_BIN_EXE_norm"))
        .args([
            "eval",
            "stdlib/mail",
            "--facts",
            "examples/foreign_genai_2m_users.json",
            "--as-of",
            "2026-12-01",
            "--explain",
            "--format",
            "json",
        ])
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot run norm: {e}"),
    };
    let mut first = [0u8; 100];
    if let Some(out) = child.stdout.as_mut() {
        let _ = out.read_exact(&mut first);
    }
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("norm runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!String::from_utf8_lossy(&o.stderr).contains("internal error"));
}

// ---- issue 10: defects a user meets ------------------------------------------------------

/// A registry case whose ten working days run past the calendar's last year (2026).
const DECEMBER_REGISTRY: &str = r#"{
  "actor": {"id": "p"},
  "system": {"id": "s", "providers": ["p"], "registered_users": 50000, "registry_conditions_met_on": "2026-12-22",
             "category": "general_chatbot", "activity_in_prc": true, "generative": true}
}"#;

#[test]
fn a_due_date_past_the_calendar_is_unknown_and_the_norm_still_applies() {
    let tmp = scratch("calendar-cliff");
    let facts = write(&tmp.path().join("f.json"), DECEMBER_REGISTRY);
    let run = |engine: &str| {
        let o = norm(&[
            "eval",
            "stdlib/mail",
            "--facts",
            &facts,
            "--as-of",
            "2026-12-23",
            "--format",
            "json",
            "--engine",
            engine,
        ]);
        assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
        json(&o)
    };
    let (jit, interp) = (run("jit"), run("interp"));
    assert_eq!(jit, interp, "the engines disagree");
    let norms = jit["norms"].as_array().cloned().unwrap_or_default();
    let registry = norms
        .iter()
        .find(|n| n["id"] == "provincial_registry")
        .unwrap_or_else(|| panic!("provincial_registry applies: {jit}"));
    assert!(registry.get("due").is_none(), "{registry}");
    let why = registry["due_unknown"].as_str().unwrap_or_default();
    assert!(
        why.contains("2026-12-22 + 10 working days") && why.contains("2027"),
        "{why}"
    );
    let warning = jit["warnings"]
        .as_array()
        .and_then(|w| {
            w.iter()
                .find(|w| w["id"] == "calendar_year_missing")
                .cloned()
        })
        .unwrap_or_else(|| panic!("a warning names the missing year: {jit}"));
    let text = warning["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("no year 2027") && text.contains("provincial_registry"),
        "{text}"
    );
    // The text output says so too, and exits 0.
    let o = norm(&[
        "eval",
        "stdlib/mail",
        "--facts",
        &facts,
        "--as-of",
        "2026-12-23",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("due: unknown"), "{}", stdout(&o));
    // `norm expr` keeps its error: there is no norm to keep.
    let o = norm(&["expr", "2026-12-22 + 10 working days"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stderr(&o).contains("2027"), "{}", stderr(&o));
}

/// A condition that counts working days past the calendar does not fail the decision: where
/// the comparison has one answer whatever the missing year's holidays (a deadline in 2027 is
/// after 31 December 2026), it is decided; where it has not, the norm is left undecided and the
/// calendar warning names it. Both engines agree (compiled code leaves such a case to the
/// interpreter).
#[test]
fn a_condition_counting_past_the_calendar_is_decided_or_named_never_an_error() {
    let tmp = scratch("calendar-conditions");
    let late = write(
        &tmp.path().join("late.json"),
        r#"{"actor": {"id": "p"}, "system": {"id": "s", "providers": ["p"], "activity_in_prc": true, "registered_users": 50000, "registry_conditions_met_on": "2026-12-18"}}"#,
    );
    let leaving = write(
        &tmp.path().join("leaving.json"),
        r#"{"actor": {"id": "p"}, "system": {"id": "s", "providers": ["p"], "activity_in_prc": true, "registered_users": 20000, "registry_conditions_met_on": "2026-03-02"},
            "events": [{"kind": "registry_filing", "date": "2026-03-05", "party": "p", "system": "s", "authority": "provincial", "number": "P-1"},
                       {"kind": "termination", "date": "2027-02-15", "party": "p", "system": "s"}]}"#,
    );
    let run = |facts: &str, as_of: &str, engine: &str| {
        let o = norm(&[
            "eval",
            "stdlib/mail",
            "--facts",
            facts,
            "--as-of",
            as_of,
            "--format",
            "json",
            "--engine",
            engine,
        ]);
        assert_eq!(code(&o), 0, "{as_of}: {}{}", stdout(&o), stderr(&o));
        json(&o)
    };
    let calendar_warning = |d: &Value| -> String {
        d["warnings"]
            .as_array()
            .and_then(|w| w.iter().find(|w| w["id"] == "calendar_year_missing"))
            .and_then(|w| w["text"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    // As of 31 December the filing, due in 2027, is not yet overdue: decided.
    let (jit, interp) = (
        run(&late, "2026-12-31", "jit"),
        run(&late, "2026-12-31", "interp"),
    );
    assert_eq!(jit, interp, "the engines disagree");
    assert!(ids(&jit, "norms").contains(&"provincial_registry".to_string()));
    assert!(!ids(&jit, "norms").contains(&"overdue_registry".to_string()));
    assert!(
        !calendar_warning(&jit).contains("cannot be decided"),
        "{jit}"
    );
    // As of 1 March 2027 whether it is overdue depends on 2027's holidays: undecided, named.
    let (jit, interp) = (
        run(&late, "2027-03-01", "jit"),
        run(&late, "2027-03-01", "interp"),
    );
    assert_eq!(jit, interp, "the engines disagree");
    let text = calendar_warning(&jit);
    assert!(
        text.contains("`overdue_registry` (Art. 99(1))") && text.contains("cannot be decided"),
        "{text}"
    );
    // A termination announced for 2027: the ex officio cancellation of Art. 99(3) is not yet
    // in question, and the termination duties are due on days the calendar cannot give.
    let (jit, interp) = (
        run(&leaving, "2026-12-01", "jit"),
        run(&leaving, "2026-12-01", "interp"),
    );
    assert_eq!(jit, interp, "the engines disagree");
    assert!(!ids(&jit, "norms").contains(&"registry_ex_officio_cancellation".to_string()));
    assert!(
        calendar_warning(&jit).contains("deregistration_filing"),
        "{jit}"
    );
}

#[test]
fn a_date_before_the_laws_data_is_said_in_the_laws_terms() {
    let o = norm(&[
        "eval",
        "stdlib/mail",
        "--facts",
        "examples/provincial_chatbot.json",
        "--as-of",
        "2025-06-01",
    ]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("2025-06-01 is before the law's data apply"),
        "{err}"
    );
    assert!(err.contains("implementation_date = 2026-01-01"), "{err}");
    assert!(err.contains("(Art. 114)"), "{err}");
    assert!(
        err.contains("Decide the case as of 2026-01-01 or later"),
        "{err}"
    );
    // Not a rule file: the law's data, not the rule that first read it, is what is wrong.
    assert!(!err.contains("ch3_oversight.norm"), "{err}");
}

#[test]
fn hidden_files_editor_backups_and_dangling_symlinks_are_not_the_law() {
    let tmp = scratch("hidden");
    let (law_dir, data_dir) = (tmp.path().join("law"), tmp.path().join("data"));
    for d in [&law_dir, &data_dir, &law_dir.join(".git")] {
        std::fs::create_dir_all(d).unwrap();
    }
    write(&law_dir.join("law.norm"), SMALL_LAW);
    write(
        &data_dir.join("limits.norm"),
        "data limits version \"1\" effective 2026-01-01 { threshold = 3 }\n",
    );
    // What editors and tools leave beside the law: none of it is read.
    write(&law_dir.join("law.norm~"), "this is a backup, not Norm");
    write(&law_dir.join("#law.norm#"), "an Emacs auto-save");
    write(&law_dir.join(".law.norm.swp"), "a Vim swap file");
    write(&law_dir.join(".git/old.norm"), "def nope = 1");
    #[cfg(unix)]
    std::os::unix::fs::symlink("user@host.1234:1700000000", law_dir.join(".#ch4.norm")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/nonexistent/target.norm", law_dir.join("gone.norm")).unwrap();
    let law = law_dir.display().to_string();
    let o = norm(&["check", &law]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("1 data modules"), "{}", stdout(&o));
    let facts = write(&tmp.path().join("f.json"), r#"{"actor": {"users": 5}}"#);
    let o = norm(&["eval", &law, "--facts", &facts, "--as-of", "2026-12-01"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("obligation register"), "{}", stdout(&o));
}

/// The README's `norm` blocks are a law and its data module: they check, are formatted as
/// `norm fmt` writes them, and their tests pass.
#[test]
fn the_readme_tour_checks_is_formatted_and_its_tests_pass() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```norm\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    assert!(blocks.len() >= 2, "the tour has a law and a data module");
    let tmp = scratch("readme");
    let (law_dir, data_dir) = (tmp.path().join("law"), tmp.path().join("data"));
    std::fs::create_dir_all(&law_dir).unwrap();
    std::fs::create_dir_all(&data_dir).unwrap();
    for (i, b) in blocks.iter().enumerate() {
        let dir = if b.starts_with("data ") {
            &data_dir
        } else {
            &law_dir
        };
        let file = write(&dir.join(format!("block{i}.norm")), b);
        let o = norm(&["fmt", "--check", &file]);
        assert_eq!(code(&o), 0, "README block {i} is not formatted:\n{b}");
    }
    let law = law_dir.display().to_string();
    let o = norm(&["check", &law]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let o = norm(&["test", &law]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).ends_with("1 passed, 0 failed\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn check_test_and_eval_see_the_same_law_and_data() {
    // A broken data module beside the law: every command sees it.
    let tmp = scratch("one-rule");
    let (law_dir, data_dir) = (tmp.path().join("mail"), tmp.path().join("data"));
    std::fs::create_dir_all(&law_dir).unwrap();
    std::fs::create_dir_all(&data_dir).unwrap();
    write(&law_dir.join("law.norm"), SMALL_LAW);
    write(
        &law_dir.join("tests.norm"),
        "test \"one\" {\n  given actor = { users: 5 }\n  expect obligation register\n}\n",
    );
    write(
        &data_dir.join("limits.norm"),
        "data limits version \"1\" effective 2026-01-01 { threshold = \"x\" }\n",
    );
    let law = law_dir.display().to_string();
    let facts = write(&tmp.path().join("f.json"), r#"{"actor": {"users": 5}}"#);
    for args in [
        vec!["check", &law],
        vec!["test", &law],
        vec!["eval", &law, "--facts", &facts, "--as-of", "2026-12-01"],
    ] {
        let o = norm(&args);
        assert_eq!(code(&o), 1, "{args:?}: {}{}", stdout(&o), stderr(&o));
        assert!(
            stderr(&o).contains("limits.norm"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    // Repaired, all three find the data beside the law.
    write(
        &data_dir.join("limits.norm"),
        "data limits version \"1\" effective 2026-01-01 { threshold = 3 }\n",
    );
    let o = norm(&["check", &law]);
    assert!(stdout(&o).contains("1 data modules"), "{}", stdout(&o));
    let o = norm(&["test", &law]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).ends_with("1 passed, 0 failed\n"),
        "{}",
        stdout(&o)
    );
    let o = norm(&["eval", &law, "--facts", &facts, "--as-of", "2026-12-01"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // The stdlib's law directory alone is tested with its data, as `norm test stdlib` is.
    let o = norm(&["test", "stdlib/mail"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn one_file_of_a_law_is_refused_once_with_the_way_to_pass_it() {
    for args in [
        vec!["check", "stdlib/mail/ch4_providers.norm"],
        vec![
            "eval",
            "stdlib/mail/ch4_providers.norm",
            "--facts",
            "examples/provincial_chatbot.json",
        ],
    ] {
        let o = norm(&args);
        assert_eq!(code(&o), 1, "{args:?}");
        let err = stderr(&o);
        assert_eq!(err.matches("error").count(), 1, "one diagnostic: {err}");
        assert!(
            err.contains("is one file of the law `mail` in `stdlib/mail`"),
            "{err}"
        );
        assert!(
            err.contains("pass the law's directory instead: `stdlib/mail`"),
            "{err}"
        );
    }
}

#[test]
fn why_not_in_text_prints_the_answer_alone() {
    let o = norm(&[
        "eval",
        "stdlib/mail",
        "--facts",
        "examples/provincial_chatbot.json",
        "--as-of",
        "2026-12-01",
        "--why-not",
        "national_registry",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("Why not obligation national_registry (Art. 66):"),
        "{out}"
    );
    assert!(!out.contains("Norms that apply"), "{out}");
}

#[test]
fn diagnostics_show_the_fact_you_need() {
    let tmp = scratch("diag-facts");
    // A failed expectation shows the values it read.
    let law = write(
        &tmp.path().join("law.norm"),
        "law t \"T\" version \"1\"\nfact n: int\ndef double = n * 2\ntest \"double\" {\n  given n = 3\n  expect double == 7\n}\n",
    );
    let o = norm(&["test", &law]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("expected `double == 7` to hold, but it does not: `double` is 6"),
        "{}",
        stderr(&o)
    );
    // `norm fmt` on a file that is not UTF-8 says where.
    let bad = write(
        &tmp.path().join("bad.norm"),
        b"law t \"T\" version \"1\"\n// caf\xe9\n",
    );
    let o = norm(&["fmt", &bad]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains(":2:7: invalid byte at offset 28"),
        "{}",
        stderr(&o)
    );
    // With --format json the --as-of error keeps its hint.
    let o = norm(&[
        "eval",
        "stdlib/mail",
        "--facts",
        "examples/provincial_chatbot.json",
        "--as-of",
        "2026-13-01",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1);
    let msg = json(&o)["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(msg.contains("expected YYYY-MM-DD"), "{msg}");
    // "an Actor", not "a Actor".
    let facts = write(
        &tmp.path().join("f.json"),
        r#"{"actor": 3, "system": {"id": "s", "activity_in_prc": true}}"#,
    );
    let o = norm(&[
        "eval",
        "stdlib/mail",
        "--facts",
        &facts,
        "--as-of",
        "2026-12-01",
    ]);
    assert!(
        stderr(&o).contains("expected an object (Party)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn test_on_a_missing_path_does_not_pretend_it_ran() {
    let o = norm(&["test", "no/such/dir"]);
    assert_eq!(code(&o), 1);
    assert!(!stdout(&o).contains("passed"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("no such file or directory"),
        "{}",
        stderr(&o)
    );
}

// ---- issue 11: findings ------------------------------------------------------------------

#[test]
fn findings_are_reported_with_their_citations() {
    let decide = |example: &str| {
        let o = norm(&[
            "eval",
            "stdlib/mail",
            "--facts",
            &format!("examples/{example}.json"),
            "--as-of",
            "2026-12-01",
            "--format",
            "json",
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        json(&o)
    };
    let find = |d: &Value, id: &str| -> Option<Value> {
        d["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["id"] == id).cloned())
    };
    let lab = decide("research_lab");
    let exempt = find(&lab, "research_exempt").unwrap_or_else(|| panic!("{lab}"));
    assert_eq!(
        (exempt["article"].as_str(), exempt["paragraph"].as_u64()),
        (Some("111"), Some(1))
    );
    assert_eq!(exempt["holds"], true);
    for (id, item) in [
        ("research_not_commercial", 1),
        ("research_lawful_training_data", 2),
        ("research_safety_measures", 3),
        ("research_records_retained", 4),
    ] {
        let f = find(&lab, id).unwrap_or_else(|| panic!("{id}: {lab}"));
        assert_eq!(
            (f["paragraph"].as_u64(), f["item"].as_u64()),
            (Some(2), Some(item)),
            "{f}"
        );
    }
    let scope = find(&lab, "territorial").unwrap_or_default();
    assert_eq!(
        (
            scope["article"].as_str(),
            scope["paragraph"].as_u64(),
            scope["holds"].as_bool()
        ),
        (Some("2"), Some(1), Some(true))
    );
    // A finding with `when`: the licence conditions only for a case about a licence.
    assert!(find(&lab, "licence_qualified_personnel").is_none(), "{lab}");
    let applicant = decide("medical_ai_licence_applicant");
    let personnel =
        find(&applicant, "licence_qualified_personnel").unwrap_or_else(|| panic!("{applicant}"));
    assert_eq!(
        (
            personnel["article"].as_str(),
            personnel["item"].as_u64(),
            personnel["holds"].as_bool()
        ),
        (Some("42"), Some(3), Some(false))
    );
    assert_eq!(
        find(&applicant, "licence_prc_legal_entity").map(|f| f["holds"].clone()),
        Some(Value::Bool(true))
    );
    // With --explain, each finding says what it rests on, with the case's values.
    let o = norm(&[
        "eval",
        "stdlib/mail",
        "--facts",
        "examples/research_lab.json",
        "--as-of",
        "2026-12-01",
        "--explain",
        "--format",
        "json",
    ]);
    let explained = json(&o);
    let exempt = find(&explained, "research_exempt").unwrap_or_default();
    assert_eq!(
        exempt["rests_on"]["system.research.scientific_purpose"], true,
        "{exempt}"
    );
    assert!(
        find(&lab, "research_exempt")
            .unwrap_or_default()
            .get("rests_on")
            .is_none()
    );
}

#[test]
fn tests_assert_a_duties_status_and_due_date() {
    let tmp = scratch("status");
    let law = write(
        &tmp.path().join("law.norm"),
        r#"law t "T" version "1"
role provider "Provider"
type Case = struct { met_on: date, filed_on: date? }
fact c: Case
article 1 "Registry" {
  obligation register {
    addressee provider
    due c.met_on + 10 days
    done c.filed_on
    text "Register."
  }
}
test "overdue" {
  as of 2026-12-20
  given c = { met_on: 2026-12-01 }
  expect obligation register status overdue due 2026-12-11
}
test "wrong expectations" {
  as of 2026-12-20
  given c = { met_on: 2026-12-01, filed_on: 2026-12-02 }
  expect obligation register status overdue due 2026-12-12
}
"#,
    );
    let o = norm(&["test", &law]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).ends_with("1 passed, 1 failed\n"),
        "{}",
        stdout(&o)
    );
    let err = stderr(&o);
    assert!(
        err.contains("expected `register` to be overdue, but it is fulfilled"),
        "{err}"
    );
    assert!(
        err.contains("expected `register` due 2026-12-12, but it is due 2026-12-11"),
        "{err}"
    );
    // The formatter keeps the expectations (and the clauses) as written.
    let o = norm(&["fmt", &law]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let formatted = std::fs::read_to_string(&law).unwrap();
    assert!(
        formatted.contains("expect obligation register status overdue due 2026-12-11"),
        "{formatted}"
    );
    assert!(formatted.contains("    done c.filed_on\n"), "{formatted}");
}

/// The Negative List's vocabulary comes from the list: a new version of the data module adds an
/// entry, and a case naming it is decided under the new list with the law's files untouched.
#[test]
fn a_new_negative_list_entry_is_a_data_module_version_only() {
    let tmp = scratch("new-entry");
    let data = copy_of_the_stdlib_data(&tmp);
    let old = std::fs::read_to_string(root().join("stdlib/data/negative_list.norm")).unwrap();
    let new = old
        .replace("version \"2026.1-illustrative\" effective 2026-01-01", "version \"2026.2-test\" effective 2026-12-15")
        .replace(
            "  entries = [\n",
            "  entries = [\n    {\n      code: \"drone_delivery\",\n      title: \"Drone delivery\",\n    },\n",
        );
    assert_ne!(old, new);
    write(&data.join("negative_list_2026_2.norm"), new);
    let facts = std::fs::read_to_string(root().join("examples/negative_list_medical.json"))
        .unwrap()
        .replace("\"medical_diagnosis\"", "\"drone_delivery\"");
    let facts = write(&tmp.path().join("drone.json"), facts);
    let data_arg = data.display().to_string();
    let run = |as_of: &str, engine: &str| {
        norm(&[
            "eval",
            "stdlib/mail",
            "--facts",
            &facts,
            "--data",
            &data_arg,
            "--as-of",
            as_of,
            "--format",
            "json",
            "--engine",
            engine,
        ])
    };
    // Under the new list: the licence of Art. 41 applies, both engines alike.
    let (a, b) = (run("2026-12-16", "jit"), run("2026-12-16", "interp"));
    assert_eq!(code(&a), 0, "{}{}", stdout(&a), stderr(&a));
    assert_eq!(json(&a), json(&b));
    let d = json(&a);
    assert_eq!(d["values"]["on_negative_list"], true, "{d}");
    assert!(
        ids(&d, "norms")
            .iter()
            .any(|n| n == "negative_list_licence"),
        "{d}"
    );
    assert!(
        d["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["version"] == "2026.2-test")
    );
    // Before it takes effect the code is unknown: a facts error naming the codes in force.
    let o = run("2026-12-01", "jit");
    assert_eq!(code(&o), 1);
    let msg = json(&o)["error"].to_string();
    assert!(
        msg.contains(
            "`drone_delivery` is not a code of `negative_list` version 2026.1-illustrative"
        ),
        "{msg}"
    );
    assert!(msg.contains("medical_diagnosis"), "{msg}");
}

/// A misspelt code is a facts error that suggests the code meant, at the path the case wrote
/// (`system…` for the one-system form, not the normalised `systems[0]…`).
#[test]
fn a_misspelt_code_suggests_the_code_meant_at_the_path_written() {
    let tmp = scratch("misspelt-code");
    let facts = write(
        &tmp.path().join("case.json"),
        r#"{"actor": {"id": "a"}, "system": {"id": "s", "providers": ["a"], "activity_in_prc": true, "negative_list_codes": ["medical_diagnosys"]}}"#,
    );
    let stdlib = root().join("stdlib").display().to_string();
    let o = norm(&[
        "eval",
        &stdlib,
        "--facts",
        &facts,
        "--as-of",
        "2026-12-01",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1, "{}{}", stdout(&o), stderr(&o));
    let e = &json(&o)["error"]["errors"][0];
    assert_eq!(e["path"], "system.negative_list_codes[0]", "{e}");
    let msg = e["message"].as_str().unwrap_or_default();
    assert!(msg.contains("did you mean `medical_diagnosis`?"), "{msg}");
}

/// A copy of the stdlib's data modules in `tmp/data`, for a test that publishes a new version.
fn copy_of_the_stdlib_data(tmp: &tempfile::TempDir) -> PathBuf {
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for e in std::fs::read_dir(root().join("stdlib/data"))
        .unwrap()
        .flatten()
    {
        if e.path().extension().is_some_and(|x| x == "norm") {
            std::fs::copy(e.path(), data.join(e.file_name())).unwrap();
        }
    }
    data
}

/// The export-control catalogues of Art. 84 are a vocabulary of data, as the Negative List is:
/// the departments publish a version with entries, and a case naming them is decided with the
/// law's files untouched; an item on the prohibited catalogue loses the public-interest
/// exemption.
#[test]
fn the_export_control_catalogues_are_data() {
    let tmp = scratch("export-control");
    let data = copy_of_the_stdlib_data(&tmp);
    write(
        &data.join("export_control_2026_2.norm"),
        r#"data export_control version "2026.2-test" effective 2026-06-01 {
  entries = [
    { code: "model_weights_x", title: "Weights of frontier models", control: restricted },
    { code: "targeting_x", title: "Autonomous weapons targeting", control: prohibited },
  ]
}
"#,
    );
    let facts = write(
        &tmp.path().join("case.json"),
        r#"{"parties": [{"id": "exp"}],
            "systems": [
              {"id": "aid", "developers": ["exp"], "providers": ["exp"], "activity_in_prc": true,
               "exported": true, "public_interest_export": true,
               "export_control_codes": ["model_weights_x"]},
              {"id": "tgt", "developers": ["exp"], "activity_in_prc": true,
               "exported": true, "public_interest_export": true,
               "export_control_codes": ["targeting_x"]}
            ]}"#,
    );
    let law = root().join("stdlib/mail").display().to_string();
    let data_arg = data.display().to_string();
    let run = |as_of: &str| {
        norm(&[
            "eval", &law, "--data", &data_arg, "--facts", &facts, "--as-of", as_of, "--format",
            "json",
        ])
    };
    let o = run("2026-12-01");
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let d = json(&o);
    let finding = |id: &str, system: &str| {
        d["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id && f["system"] == system)
            .map(|f| f["holds"].clone())
    };
    assert_eq!(
        finding("export_restricted", "aid"),
        Some(Value::Bool(true)),
        "{d}"
    );
    assert_eq!(
        finding("export_prohibited", "aid"),
        Some(Value::Bool(false)),
        "{d}"
    );
    assert_eq!(
        finding("export_prohibited", "tgt"),
        Some(Value::Bool(true)),
        "{d}"
    );
    let exemption: Vec<&Value> = d["norms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["id"] == "public_interest_export_exemption")
        .map(|n| &n["system"])
        .collect();
    assert_eq!(exemption, [&Value::from("aid")], "{d}");
    assert!(
        d["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == "export_control_laws"),
        "{d}"
    );
    // Before the catalogues take effect, the codes are unknown: a facts error naming the path.
    let o = run("2026-05-01");
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let e = json(&o)["error"].to_string();
    assert!(e.contains("systems[0].export_control_codes[0]"), "{e}");
    assert!(e.contains("2026.1-illustrative"), "{e}");
}
