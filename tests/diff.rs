//! `norm diff`: the impact of a new data module or law version over a corpus of cases, through
//! the built binary, on a small law of its own.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const LAW: &str = r#"law tiny "Tiny Law" version "1.0"
role provider "Provider"
type Category = enum { a, b, c }
data schema negative_list { categories: set<Category> }
data schema fines { max: money }
fact category: Category
fact users: int
def listed = category in negative_list.categories
article 1 "Listed products" {
  prohibition offer_listed {
    addressee provider
    when listed
    text "Do not offer it."
  }
}
article 2 "Registry" {
  obligation register {
    addressee provider
    when users > 100 and not listed
    text "Register."
  }
}
article 3 "Fines" {
  penalty listed_fine {
    addressee provider
    when listed
    fine 1_000 CNY to fines.max
    text "A fine."
  }
}
"#;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (p, text) in files {
        let p = dir.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("norm-diff-")
        .tempdir()
        .unwrap();
    write(
        dir.path(),
        &[
            ("law/law.norm", LAW),
            (
                "data/negative_list.norm",
                "data negative_list version \"1\" effective 2026-01-01 { categories = {a} }\n",
            ),
            (
                "data/fines.norm",
                "data fines version \"1\" effective 2026-01-01 { max = 10_000 CNY }\n",
            ),
            (
                "new/negative_list.norm",
                "data negative_list version \"2\" effective 2026-06-01 { categories = {a, b} }\n",
            ),
            (
                "new/fines.norm",
                "data fines version \"2\" effective 2026-06-01 { max = 20_000 CNY }\n",
            ),
            (
                "cases.jsonl",
                concat!(
                    "{\"category\": \"a\", \"users\": 500}\n",
                    "{\"category\": \"b\", \"users\": 500, \"id\": \"case-b\"}\n",
                    "this line is not JSON\n",
                    "\n",
                    "{\"category\": \"c\", \"users\": 500}\n",
                    "{\"category\": \"b\", \"users\": 500, \"as_of\": \"2026-03-01\"}\n",
                    "{\"category\": \"q\", \"users\": 500}\n",
                ),
            ),
        ],
    );
    dir
}

fn norm(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_norm"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

#[test]
fn a_changed_negative_list_and_fine_over_a_corpus() {
    let dir = setup();
    let o = norm(
        dir.path(),
        &[
            "diff",
            "law",
            "--cases",
            "cases.jsonl",
            "--data-new",
            "new",
            "--format",
            "json",
        ],
    );
    // Two lines could not be decided: reported, and the run went on (exit 1: the input was
    // partly wrong).
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r = json(&o);
    // Cases without an `as_of` are decided on the day the new modules are in force.
    assert_eq!(r["as_of"], "2026-06-01");
    assert_eq!(r["cases"], 6);
    assert_eq!(r["affected"], 2, "{r:#}");
    let errors: Vec<u64> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(errors, vec![3, 7]);
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("invalid JSON")
    );
    // Line 1 (category a): the fine's maximum changed.
    let a = &r["impacts"][0];
    assert_eq!(a["line"], 1);
    assert_eq!(a["changed"][0]["id"], "listed_fine");
    assert_eq!(a["changed"][0]["changes"][0]["field"], "max");
    assert_eq!(a["changed"][0]["changes"][0]["before"]["amount"], "10000");
    assert_eq!(a["changed"][0]["changes"][0]["after"]["amount"], "20000");
    // Line 2 (category b, now on the list): a prohibition and a fine gained, the registry lost.
    let b = &r["impacts"][1];
    assert_eq!(
        (b["line"].as_u64(), b["id"].as_str()),
        (Some(2), Some("case-b"))
    );
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&b["gained"]), vec!["offer_listed", "listed_fine"]);
    assert_eq!(ids(&b["lost"]), vec!["register"]);
    assert_eq!(b["lost"][0]["article"], "2");
    assert_eq!(b["lost"][0]["addressee"], "provider");
    // Line 6 decides as of its own date, before the new list: no change.
    assert!(
        r["impacts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["line"] != 6)
    );
    // The summary by article and by addressee.
    let art = &r["summary"]["by_article"];
    assert_eq!(
        (art["1"]["gained"].as_u64(), art["1"]["cases"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(art["2"]["lost"], 1);
    assert_eq!(
        (art["3"]["gained"].as_u64(), art["3"]["changed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(art["3"]["cases"], 2);
    let who = &r["summary"]["by_addressee"]["provider"];
    assert_eq!(
        (
            who["gained"].as_u64(),
            who["lost"].as_u64(),
            who["changed"].as_u64(),
            who["cases"].as_u64()
        ),
        (Some(2), Some(1), Some(1), Some(2))
    );
}

#[test]
fn text_output_lists_each_affected_case_and_the_summary_and_no_progress_bar_when_piped() {
    let dir = setup();
    let o = norm(
        dir.path(),
        &[
            "diff",
            "law",
            "--cases",
            "cases.jsonl",
            "--data-new",
            "new",
            "--as-of",
            "2026-12-01",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        out.starts_with(
            "6 cases (as of 2026-12-01 unless a case says otherwise): 2 affected, 2 not decided"
        ),
        "{out}"
    );
    assert!(out.contains("line 2 (case-b), as of 2026-12-01:\n  + prohibition offer_listed (Art. 1) provider\n  + penalty listed_fine (Art. 3) provider\n  - obligation register (Art. 2) provider\n"), "{out}");
    assert!(
        out.contains("~ penalty listed_fine (Art. 3) provider: max 10000 CNY → 20000 CNY"),
        "{out}"
    );
    assert!(out.contains("By article:\n  Art. 1 "), "{out}");
    assert!(out.contains("By addressee:\n  provider"), "{out}");
    assert!(
        err.contains("cases.jsonl:3: not decided: invalid JSON"),
        "{err}"
    );
    assert!(
        err.contains("cases.jsonl:7: not decided: category"),
        "{err}"
    );
    // Piped: no progress bar on stderr, only the two lines.
    assert_eq!(err.lines().count(), 2, "{err}");
}

#[test]
fn a_new_law_version_over_the_same_data() {
    let dir = setup();
    let stricter = LAW
        .replace("version \"1.0\"", "version \"1.1\"")
        .replace("users > 100", "users > 1_000");
    write(dir.path(), &[("law2/law.norm", &stricter)]);
    let o = norm(
        dir.path(),
        &[
            "diff",
            "law",
            "--cases",
            "cases.jsonl",
            "--law-new",
            "law2",
            "--as-of",
            "2026-12-01",
            "--format",
            "json",
        ],
    );
    let r = json(&o);
    // Category c, 500 users: no longer above the registry threshold.
    let lost: Vec<(u64, String)> = r["impacts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| {
            i["lost"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| {
                    (
                        i["line"].as_u64().unwrap(),
                        n["id"].as_str().unwrap().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        lost,
        vec![
            (2, "register".into()),
            (5, "register".into()),
            (6, "register".into())
        ],
        "{r:#}"
    );
}

#[test]
fn bad_command_lines_and_bad_inputs() {
    let dir = setup();
    // Neither --data-new nor --law-new: exit 2.
    let o = norm(dir.path(), &["diff", "law", "--cases", "cases.jsonl"]);
    assert_eq!(o.status.code(), Some(2));
    // A missing corpus: exit 1.
    let o = norm(
        dir.path(),
        &["diff", "law", "--cases", "nope.jsonl", "--data-new", "new"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope.jsonl"));
    // A new module that does not fit the law: its diagnostics, exit 1.
    write(
        dir.path(),
        &[(
            "bad/negative_list.norm",
            "data negative_list version \"3\" effective 2026-06-01 { categories = {zz} }\n",
        )],
    );
    let o = norm(
        dir.path(),
        &["diff", "law", "--cases", "cases.jsonl", "--data-new", "bad"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("negative_list.norm"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
