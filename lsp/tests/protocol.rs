//! Protocol tests: a client talks JSON-RPC to the server over in-memory pipes.
//!
//! `fixtures/*.txt` hold source files (`### path`) and the requests to send (`### requests`,
//! one per line); the responses are snapshot-tested (`snapshots/`), with the temporary
//! directory written as `file:///W`. Then the real stdlib, and bad input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure is a panic"
)]
mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

struct Fixture {
    files: Vec<(String, String)>,
    requests: Vec<String>,
}

fn parse_fixture(text: &str) -> Fixture {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut requests = Vec::new();
    let mut current: Option<String> = None;
    let mut body = String::new();
    let flush = |current: &mut Option<String>, body: &mut String, files: &mut Vec<_>| {
        if let Some(name) = current.take() {
            files.push((name, std::mem::take(body)));
        }
        body.clear();
    };
    let mut in_requests = false;
    for line in text.split_inclusive('\n') {
        if let Some(h) = line.strip_prefix("### ") {
            flush(&mut current, &mut body, &mut files);
            let h = h.trim();
            if h == "requests" {
                in_requests = true;
            } else {
                in_requests = false;
                current = Some(h.to_string());
            }
        } else if in_requests {
            let l = line.trim();
            if !l.is_empty() && !l.starts_with('#') {
                requests.push(l.to_string());
            }
        } else {
            body.push_str(line);
        }
    }
    flush(&mut current, &mut body, &mut files);
    Fixture { files, requests }
}

/// Splits a request line into words and "quoted strings".
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => {
                        if let Some(n) = chars.next() {
                            s.push(if n == 'n' { '\n' } else { n });
                        }
                    }
                    c => s.push(c),
                }
            }
            out.push(s);
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                s.push(c);
                chars.next();
            }
            out.push(s);
        }
    }
    out
}

struct Run {
    client: TestClient,
    dir: std::path::PathBuf,
    texts: BTreeMap<String, (String, i64)>,
    out: String,
}

impl Run {
    fn uri(&self, file: &str) -> String {
        uri(&self.dir.join(file))
    }

    fn scrub(&self, v: &Value) -> String {
        let s = serde_json::to_string_pretty(v).unwrap();
        let prefix = uri(&self.dir);
        s.replace(&prefix, "file:///W")
            .replace(&self.dir.display().to_string(), "/W")
    }

    fn record_diagnostics(&mut self, title: &str) {
        self.client.settle(Duration::from_millis(300));
        let all = self.client.latest_diagnostics();
        self.out.push_str(&format!("== {title}\n"));
        for (uri, diags) in all {
            let v = json!({"uri": uri, "diagnostics": diags});
            self.out.push_str(&self.scrub(&v));
            self.out.push('\n');
        }
    }

    fn pos(&self, file: &str, needle: &str) -> Value {
        let (text, _) = &self.texts[file];
        find(text, needle)
    }

    fn exec(&mut self, line: &str) {
        let w = words(line);
        let file = w.get(1).cloned().unwrap_or_default();
        let doc = json!({"uri": self.uri(&file)});
        let at = |run: &Run| json!({"textDocument": doc, "position": run.pos(&file, &w[2])});
        let response = match w[0].as_str() {
            "hover" => self.client.request("textDocument/hover", at(self)),
            "definition" => self.client.request("textDocument/definition", at(self)),
            "references" => {
                let mut p = at(self);
                p["context"] = json!({"includeDeclaration": true});
                self.client.request("textDocument/references", p)
            }
            "prepare_rename" => self.client.request("textDocument/prepareRename", at(self)),
            "rename" => {
                let mut p = at(self);
                p["newName"] = json!(w[3]);
                self.client.request("textDocument/rename", p)
            }
            "complete" => {
                let r = self.client.request("textDocument/completion", at(self));
                // Labels and details only: the full list is long.
                let items: Vec<String> = r["result"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|i| {
                                format!(
                                    "{} ({})",
                                    i["label"].as_str().unwrap_or(""),
                                    i["detail"].as_str().unwrap_or("")
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                json!({"result": items})
            }
            "symbols" => self
                .client
                .request("textDocument/documentSymbol", json!({"textDocument": doc})),
            "workspace_symbols" => self
                .client
                .request("workspace/symbol", json!({"query": w[1]})),
            "format" => self.client.request(
                "textDocument/formatting",
                json!({"textDocument": doc, "options": {"tabSize": 2, "insertSpaces": true}}),
            ),
            "code_action" => {
                let p = self.pos(&file, &w[2]);
                self.client.request(
                    "textDocument/codeAction",
                    json!({"textDocument": doc, "range": {"start": p, "end": p}, "context": {"diagnostics": []}}),
                )
            }
            "code_lens" => self
                .client
                .request("textDocument/codeLens", json!({"textDocument": doc})),
            "inlay_hints" => self.client.request(
                "textDocument/inlayHint",
                json!({"textDocument": doc, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 10000, "character": 0}}}),
            ),
            "folding" => self
                .client
                .request("textDocument/foldingRange", json!({"textDocument": doc})),
            "semantic_tokens" => self
                .client
                .request("textDocument/semanticTokens/full", json!({"textDocument": doc})),
            "change" => {
                let (text, version) = self.texts[&file].clone();
                let start = text.find(&w[2]).unwrap_or_else(|| panic!("`{}` not found", w[2]));
                let range = json!({"start": position(&text, start), "end": position(&text, start + w[2].len())});
                let mut new = text.clone();
                new.replace_range(start..start + w[2].len(), &w[3]);
                self.texts.insert(file.clone(), (new, version + 1));
                self.client.notify(
                    "textDocument/didChange",
                    json!({"textDocument": {"uri": self.uri(&file), "version": version + 1},
                           "contentChanges": [{"range": range, "text": w[3]}]}),
                );
                self.client.diagnostics(&self.uri(&file), Some(version + 1));
                // Put it back among the notifications, for the record.
                self.record_diagnostics(&format!("diagnostics after {line}"));
                return;
            }
            other => panic!("unknown request `{other}`"),
        };
        let shown = if w[0] == "complete" {
            response
        } else if let Some(e) = response.get("error") {
            json!({"error": e})
        } else {
            response["result"].clone()
        };
        self.out
            .push_str(&format!("== {line}\n{}\n", self.scrub(&shown)));
    }
}

fn run_fixture(name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.txt"));
    let fixture = parse_fixture(&std::fs::read_to_string(&path).unwrap());
    let dir = temp_dir(name);
    for (f, text) in &fixture.files {
        let p = dir.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
    let mut run = Run {
        client: TestClient::start(),
        dir: dir.to_path_buf(),
        texts: BTreeMap::new(),
        out: String::new(),
    };
    for (f, text) in &fixture.files {
        let u = run.uri(f);
        run.client.open(&u, text);
        run.texts.insert(f.clone(), (text.clone(), 1));
    }
    if let Some((last, _)) = fixture.files.last() {
        let u = run.uri(last);
        run.client.diagnostics(&u, Some(1));
    }
    run.record_diagnostics("diagnostics after opening");
    for r in &fixture.requests {
        run.exec(r);
    }
    let out = std::mem::take(&mut run.out);
    run.client.shutdown();
    insta::assert_snapshot!(name, out);
}

macro_rules! fixtures {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { run_fixture(stringify!($name)); })*
    };
}

fixtures!(
    hover,
    navigation,
    completion,
    rename,
    symbols,
    formatting,
    diagnostics,
    lenses,
    versions
);

// ---------------------------------------------------------------------------------------------
// The real stdlib

fn stdlib_file(name: &str) -> (String, String) {
    let p = repo().join("stdlib/mail").join(name);
    let p = std::fs::canonicalize(p).unwrap();
    (uri(&p), std::fs::read_to_string(&p).unwrap())
}

fn hover_text(c: &mut TestClient, uri: &str, pos: Value) -> String {
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos}),
    );
    r["result"]["contents"]["value"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn stdlib_diagnostics_hover_and_cross_file_updates() {
    let mut c = TestClient::start();
    let (providers, text) = stdlib_file("ch4_providers.norm");
    let (types_uri, types) = stdlib_file("types.norm");
    c.open(&providers, &text);
    c.open(&types_uri, &types);
    let errors: Vec<Value> = c
        .diagnostics(&types_uri, Some(1))
        .into_iter()
        .filter(|d| d["severity"] == 1)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");

    // Hover on an article: its number, title and text from the law.
    let h = hover_text(&mut c, &providers, find(&text, "article 6|6 \"Registry"));
    assert!(h.contains("Article 66 — Registry Obligations"), "{h}");
    assert!(
        h.contains("registered user numbers exceeding one million"),
        "{h}"
    );
    // On a norm: the norm and its article.
    let h = hover_text(
        &mut c,
        &providers,
        find(&text, "obligation national_reg|istry"),
    );
    assert!(
        h.contains("**obligation** `national_registry` — Art. 66(1)"),
        "{h}"
    );
    assert!(h.contains("Article 66"), "{h}");
    // On a field: its type and documentation.
    let h = hover_text(
        &mut c,
        &providers,
        find(&text, "system.registered_us|ers >"),
    );
    assert!(h.contains("AiSystem.registered_users: count"), "{h}");
    // On a definition: its type and its definition.
    let h = hover_text(
        &mut c,
        &providers,
        find(&text, "def registry_required = registry_cand|idate and"),
    );
    assert!(h.contains("def registry_candidate: bool"), "{h}");
    assert!(h.contains("in_scope and ai_provider"), "{h}");

    // Go to definition across files.
    let r = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": providers}, "position": find(&text, "system.registered_us|ers >")}),
    );
    assert!(
        r["result"]["uri"].as_str().unwrap().ends_with("types.norm"),
        "{r}"
    );

    // Renaming a field in types.norm breaks its uses in ch4_providers.norm (a file of the same
    // law): the other file's diagnostics update.
    let at = types.find("registered_users:").unwrap();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": types_uri, "version": 2},
               "contentChanges": [{"range": {"start": position(&types, at), "end": position(&types, at + "registered_users".len())}, "text": "registered_userz"}]}),
    );
    let d = c
        .wait_for(120, |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == providers.as_str()
                && m["params"]["diagnostics"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|d| d["severity"] == 1))
        })
        .expect("diagnostics in the other file");
    let msg = d["params"]["diagnostics"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("registered_users"), "{msg}");
    // The quick fix offers the suggestion.
    let first = &d["params"]["diagnostics"][0];
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": providers}, "range": first["range"], "context": {"diagnostics": []}}),
    );
    let actions = r["result"].as_array().unwrap();
    assert!(
        actions
            .iter()
            .any(|a| a["title"] == "Replace with `registered_userz`"),
        "{r}"
    );
    // Undo: the errors go away.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": types_uri, "version": 3}, "contentChanges": [{"text": types}]}),
    );
    c.wait_for(120, |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == providers.as_str()
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|a| !a.iter().any(|d| d["severity"] == 1))
    })
    .expect("cleared diagnostics in the other file");

    // Outline: chapter → article → norms.
    let r = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": providers}}),
    );
    let top = &r["result"][0];
    assert_eq!(top["name"], "Chapter 4", "{r}");
    assert!(
        top["children"][0]["name"]
            .as_str()
            .unwrap()
            .starts_with("Art. "),
        "{r}"
    );

    // Formatting: the stdlib is formatted already.
    let r = c.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": providers}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(r["result"], json!([]), "{r}");

    // Completion after `system.`: the fields of AiSystem (the relations among them).
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": providers}, "position": find(&text, "system.|registered_users >")}),
    );
    let labels: Vec<&str> = r["result"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert!(labels.contains(&"providers"), "{labels:?}");
    assert!(labels.contains(&"registered_users"), "{labels:?}");

    // Semantic tokens, folding and inlay hints answer on a real file.
    for (method, extra) in [
        ("textDocument/semanticTokens/full", json!({})),
        ("textDocument/foldingRange", json!({})),
        (
            "textDocument/inlayHint",
            json!({"range": {"start": {"line": 0, "character": 0}, "end": {"line": 9999, "character": 0}}}),
        ),
    ] {
        let mut p = json!({"textDocument": {"uri": providers}});
        if let Some(r) = extra.get("range") {
            p["range"] = r.clone();
        }
        let r = c.request(method, p);
        assert!(r.get("error").is_none(), "{method}: {r}");
    }

    // Workspace symbols.
    let r = c.request("workspace/symbol", json!({"query": "national_registry"}));
    assert!(
        r["result"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "national_registry"),
        "{r}"
    );
    c.shutdown();
}

#[test]
fn stdlib_data_module() {
    let mut c = TestClient::start();
    let p = std::fs::canonicalize(repo().join("stdlib/data/thresholds.norm")).unwrap();
    let (u, text) = (uri(&p), std::fs::read_to_string(&p).unwrap());
    c.open(&u, &text);
    // The data file is checked with its law (the sibling `mail` directory).
    let errors: Vec<Value> = c
        .diagnostics(&u, Some(1))
        .into_iter()
        .filter(|d| d["severity"] == 1)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // A data field: its type and the documentation written beside it in the schema.
    let h = hover_text(&mut c, &u, find(&text, "foundation_model_fl|ops ="));
    assert!(
        h.contains("thresholds.foundation_model_flops: decimal"),
        "{h}"
    );
    assert!(h.contains("training compute"), "{h}");
    // Go to the schema.
    let r = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": u}, "position": find(&text, "data thr|esholds")}),
    );
    assert!(
        r["result"]["uri"].as_str().unwrap().ends_with("types.norm"),
        "{r}"
    );
    // A wrong value type is reported in the data file.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": [{"text": text.replace("1e25", "\"lots\"")}]}),
    );
    let d = c.diagnostics(&u, Some(2));
    assert!(d.iter().any(|d| d["severity"] == 1), "{d:?}");
    c.shutdown();
}

#[test]
fn stdlib_test_lenses_run_tests() {
    let mut c = TestClient::start();
    let (uri, text) = stdlib_file("tests_registry.norm");
    c.open(&uri, &text);
    let r = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    let lenses = r["result"].as_array().unwrap();
    assert!(!lenses.is_empty(), "{r}");
    for l in lenses {
        assert_eq!(l["command"]["title"], "✔ test passed", "{l}");
    }
    // Running one through the command.
    let args = lenses[0]["command"]["arguments"].clone();
    let r = c.request(
        "workspace/executeCommand",
        json!({"command": "norm.runTest", "arguments": args}),
    );
    assert_eq!(r["result"]["passed"], true, "{r}");
    c.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Which files are the law's

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The URIs of every file that got diagnostics, after the server has settled.
fn published(c: &mut TestClient) -> Vec<String> {
    c.settle(Duration::from_millis(500));
    c.latest_diagnostics().into_keys().collect()
}

const LIMITS_LAW: &str = "law w \"W\" version \"1\"\nfact users: int\ndata schema limits { max_users: int }\ndef big = users > limits.max_users\n";
const LIMITS_DATA: &str = "data limits version \"1\" effective 2026-01-01 {\n  max_users = 10\n}\n";

#[test]
fn a_law_is_found_in_the_workspace_only() {
    // A temporary directory with a stray law header at its top and unrelated files in other
    // subtrees (as /tmp was), and below it the workspace: a law and its data directory.
    let top = temp_dir("discovery");
    write(
        &top.join("stray.norm"),
        "law stray \"S\" version \"1\"\ndef a = nope\n",
    );
    write(&top.join("other/x.norm"), "def b = nope\n");
    write(
        &top.join("other/deep/y.norm"),
        "law other \"O\" version \"1\"\ndef c = nope\n",
    );
    let ws = top.join("ws");
    write(&ws.join("law/law.norm"), LIMITS_LAW);
    let data = ws.join("data/limits.norm");
    write(&data, LIMITS_DATA);
    write(&ws.join("notes/lone.norm"), "def lone = nope\n");
    let mut c = TestClient::start_in(&ws);
    // The data module is checked with its law, the sibling directory `law`.
    c.open(&uri(&data), LIMITS_DATA);
    let d = c.diagnostics(&uri(&data), Some(1));
    assert!(d.is_empty(), "{d:?}");
    let r = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri(&data)}, "position": find(LIMITS_DATA, "data li|mits")}),
    );
    assert_eq!(r["result"]["uri"], uri(&ws.join("law/law.norm")), "{r}");
    // A file in no law of the workspace is analysed alone: not with the stray law above.
    let lone = ws.join("notes/lone.norm");
    c.open(&uri(&lone), "def lone = nope\n");
    let d = c.diagnostics(&uri(&lone), Some(1));
    assert!(
        d.iter()
            .any(|d| d["message"].as_str().unwrap().contains("nope")),
        "{d:?}"
    );
    // Nothing outside the workspace was read as a law.
    let outside: Vec<String> = published(&mut c)
        .into_iter()
        .filter(|u| !u.starts_with(&uri(&ws)))
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
    c.shutdown();

    // Without workspace folders the search stops at the repository (the nearest `.git`), else
    // at the parent of the file's directory: the stray law is not reached either.
    let mut c = TestClient::start();
    c.open(&uri(&data), LIMITS_DATA);
    assert!(c.diagnostics(&uri(&data), Some(1)).is_empty());
    c.open(&uri(&lone), "def lone = nope\n");
    c.diagnostics(&uri(&lone), Some(1));
    let outside: Vec<String> = published(&mut c)
        .into_iter()
        .filter(|u| !u.starts_with(&uri(&ws)))
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
    c.shutdown();
}

#[test]
fn hidden_files_backups_and_dangling_symlinks_are_not_the_law() {
    let dir = temp_dir("hidden");
    write(&dir.join("law.norm"), SMALL_LAW);
    let ch = dir.join("ch.norm");
    let ch_text = "def bigger = n > 4\n";
    write(&ch, ch_text);
    // Emacs's lock link beside an unsaved buffer (dangling), and editors' backups.
    std::os::unix::fs::symlink("root@host.4242:1700000000", dir.join(".#ch.norm")).unwrap();
    write(&dir.join("ch.norm~"), "def broken = nope\n");
    write(&dir.join("#ch.norm#"), "def broken = nope\n");
    write(&dir.join(".hidden/x.norm"), "def broken = nope\n");
    // A hidden law header does not make its directory a law of its own.
    write(
        &dir.join("sub/.old.norm"),
        "law old \"Old\" version \"0\"\n",
    );
    let rules = dir.join("sub/rules.norm");
    let rules_text = "def biggest = n > 5\n";
    write(&rules, rules_text);
    let mut c = TestClient::start_in(&dir);
    c.open(&uri(&ch), ch_text);
    let d = c.diagnostics(&uri(&ch), Some(1));
    assert!(d.is_empty(), "{d:?}");
    c.open(&uri(&rules), rules_text);
    let d = c.diagnostics(&uri(&rules), Some(1));
    assert!(d.is_empty(), "{d:?}");
    // An open hidden document (a scratch buffer) is analysed alone, not as part of the law.
    let scratch = dir.join(".scratch.norm");
    c.open(&uri(&scratch), "def broken = nope\n");
    c.diagnostics(&uri(&scratch), Some(1));
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&ch), "version": 2}, "contentChanges": [{"text": "def bigger = n > 6\n"}]}),
    );
    let d = c.diagnostics(&uri(&ch), Some(2));
    assert!(d.is_empty(), "{d:?}");
    let all = {
        c.settle(Duration::from_millis(500));
        c.latest_diagnostics()
    };
    for (u, diags) in &all {
        if *u != uri(&scratch) {
            assert!(diags.is_empty(), "{u}: {diags:?}");
        }
    }
    c.shutdown();
}

// ---------------------------------------------------------------------------------------------
// Bad input

const SMALL_LAW: &str = "law t \"T\" version \"1\"\nfact n: int\ndef big = n > 3\n";

#[test]
fn malformed_messages_and_unknown_methods_get_errors_and_the_server_keeps_serving() {
    let mut c = TestClient::start();
    // Not JSON at all.
    c.send_raw(&frame("{this is not json"));
    let r = c.response(Value::Null);
    assert_eq!(r["error"]["code"], -32700, "{r}");
    // JSON, but not a JSON-RPC message.
    c.send_raw(&frame("[1, 2, 3]"));
    let r = c.response(Value::Null);
    assert!(r["error"]["code"].as_i64().is_some(), "{r}");
    // An unknown method.
    let r = c.request("norm/noSuchMethod", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    // Bad params for a known method.
    let r = c.request("textDocument/hover", json!({"nonsense": true}));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    // A URI that is not a file, and a document never opened.
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "untitled:Untitled-1"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(r["result"], Value::Null, "{r}");
    // Still serving.
    let dir = temp_dir("malformed");
    let p = dir.join("law.norm");
    std::fs::write(&p, SMALL_LAW).unwrap();
    c.open(&uri(&p), SMALL_LAW);
    let h = hover_text(&mut c, &uri(&p), find(SMALL_LAW, "def b|ig"));
    assert!(h.contains("def big: bool"), "{h}");
    c.shutdown();
}

#[test]
fn a_dollar_request_is_answered_method_not_found() {
    let mut c = TestClient::start();
    for method in ["$/norm/noSuchMethod", "$/cancelRequest", "$/setTrace"] {
        let r = c.request(method, json!({"id": 1}));
        assert_eq!(r["error"]["code"], -32601, "{method}: {r}");
    }
    // A `$/` notification gets nothing, and the server goes on.
    c.notify("$/norm/something", json!({}));
    let r = c.request("norm/noSuchMethod", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    c.shutdown();
}

#[test]
fn a_frame_whose_length_is_wrong_does_not_stop_the_server() {
    let mut c = TestClient::start();
    let dir = temp_dir("length");
    let p = dir.join("law.norm");
    std::fs::write(&p, SMALL_LAW).unwrap();
    let u = uri(&p);
    c.open(&u, SMALL_LAW);
    let pos = find(SMALL_LAW, "def b|ig");
    // A 17-byte body sent as 16 bytes: a parse error, then the next request is answered.
    let body = r#"{"jsonrpc":"2.0"}"#;
    assert_eq!(body.len(), 17);
    c.send_raw(format!("Content-Length: 16\r\n\r\n{body}").as_bytes());
    let r = c.response(Value::Null);
    assert_eq!(r["error"]["code"], -32700, "{r}");
    assert!(hover_text(&mut c, &u, pos.clone()).contains("def big: bool"));
    // Sent as 20 bytes: it runs into the next frame, which is still answered.
    let hover = json!({"jsonrpc": "2.0", "id": 1000, "method": "textDocument/hover",
                       "params": {"textDocument": {"uri": u}, "position": pos}})
    .to_string();
    let mut bytes = format!("Content-Length: 20\r\n\r\n{body}").into_bytes();
    bytes.extend(frame(&hover));
    c.send_raw(&bytes);
    let r = c.response(Value::Null);
    assert_eq!(r["error"]["code"], -32700, "{r}");
    let r = c.response(json!(1000));
    let h = r["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(h.contains("def big: bool"), "{r}");
    // And later requests too.
    assert!(hover_text(&mut c, &u, pos).contains("def big: bool"));
    c.shutdown();
}

#[test]
fn positions_past_the_end() {
    let mut c = TestClient::start();
    let dir = temp_dir("positions");
    let p = dir.join("law.norm");
    std::fs::write(&p, SMALL_LAW).unwrap();
    let u = uri(&p);
    c.open(&u, SMALL_LAW);
    // Past the end of a line: the end of the line.
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": u}, "position": {"line": 2, "character": 10_000}}),
    );
    assert!(r.get("error").is_none(), "{r}");
    // Past the end of the file: an error.
    for line in [4, 1_000_000, u32::MAX as i64] {
        let r = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": u}, "position": {"line": line, "character": 0}}),
        );
        assert_eq!(r["error"]["code"], -32602, "{r}");
    }
    // Negative numbers are not positions at all.
    let r = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": u}, "position": {"line": -1, "character": 0}}),
    );
    assert_eq!(r["error"]["code"], -32602, "{r}");
    // An edit whose range is past the end is clamped, not a crash.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 99, "character": 0}, "end": {"line": 120, "character": 5}}, "text": "fact m: int\n"}]}),
    );
    c.diagnostics(&u, Some(2));
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": u}, "position": {"line": 3, "character": 0}}),
    );
    assert!(r.get("error").is_none(), "{r}");
    c.shutdown();
}

fn completion_labels(c: &mut TestClient, uri: &str, pos: Value) -> Vec<String> {
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": pos}),
    );
    r["result"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["label"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Hover and completion over the case model: subjects, findings, quantifier variables over
/// the case's collections, references and codes of a vocabulary.
#[test]
fn hover_and_completion_over_parties_events_and_findings() {
    let mut c = TestClient::start();
    let (types_uri, types) = stdlib_file("types.norm");
    let (ch7, ch7_text) = stdlib_file("ch7_supplementary.norm");
    let (ch3, ch3_text) = stdlib_file("ch3_oversight.norm");
    c.open(&types_uri, &types);
    c.open(&ch7, &ch7_text);
    c.open(&ch3, &ch3_text);
    c.diagnostics(&ch3, Some(1));
    // A subject: its type and the collection it ranges over.
    let h = hover_text(
        &mut c,
        &types_uri,
        find(&types, "fact act|or: Party in parties"),
    );
    assert!(h.contains("fact actor: Party in parties"), "{h}");
    // A finding: declared as one, with the paragraph and item it cites.
    let h = hover_text(
        &mut c,
        &ch7,
        find(&ch7_text, "finding ai_prov|ider paragraph 1"),
    );
    assert!(h.contains("finding ai_provider: bool"), "{h}");
    assert!(h.contains("Art. 112(1) item 5"), "{h}");
    // The ids of the relations: sets of references to parties.
    let h = hover_text(
        &mut c,
        &ch7,
        find(&ch7_text, "actor.id in system.provi|ders"),
    );
    assert!(h.contains("set<ref<Party>>"), "{h}");
    // A quantifier's variable over a vocabulary of data, and the codes a system names.
    let h = hover_text(
        &mut c,
        &ch3,
        find(&ch3_text, "exists c in system.negative_list_co|des"),
    );
    assert!(h.contains("code<negative_list>"), "{h}");
    let h = hover_text(&mut c, &ch3, find(&ch3_text, "e.co|de == c"));
    assert!(h.contains("code"), "{h}");
    // Completion after a quantifier variable over the events: the fields of Event.
    let edited = ch3_text.replacen(
        "def on_negative_list =",
        "def probe = exists e in events: e.\n  def on_negative_list =",
        1,
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": ch3, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    c.diagnostics(&ch3, Some(2));
    let labels = completion_labels(&mut c, &ch3, find(&edited, "exists e in events: e.|"));
    for field in ["kind", "date", "party", "system"] {
        assert!(labels.iter().any(|l| l == field), "{field}: {labels:?}");
    }
    // After `EventKind.`: the kinds of event.
    let edited = ch3_text.replacen(
        "def on_negative_list =",
        "def probe = exists e in events: e.kind == EventKind.\n  def on_negative_list =",
        1,
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": ch3, "version": 3}, "contentChanges": [{"text": edited}]}),
    );
    c.diagnostics(&ch3, Some(3));
    let labels = completion_labels(&mut c, &ch3, find(&edited, "EventKind.|"));
    for kind in ["registry_filing", "licence_granted", "retaliation"] {
        assert!(labels.iter().any(|l| l == kind), "{kind}: {labels:?}");
    }
    c.shutdown();
}

#[test]
fn utf16_columns_with_astral_characters() {
    let mut c = TestClient::start();
    let dir = temp_dir("utf16");
    let p = dir.join("law.norm");
    // An emoji (two UTF-16 units, four bytes) in a string before the name.
    let text = "law t \"T\" version \"1\"\nfact n: int\nrole r \"😀😀\" def big = n > 3\n";
    let text = text.replace("\" def", "\"\ndef");
    std::fs::write(&p, &text).unwrap();
    let u = uri(&p);
    c.open(&u, &text);
    let h = hover_text(&mut c, &u, find(&text, "def b|ig"));
    assert!(h.contains("def big"), "{h}");
    // A name after the emoji on the same line, in UTF-16 columns.
    let text2 = "law t \"T\" version \"1\"\nfact n: int\ndef s = \"😀\" == \"x\" and n > 3\n";
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": [{"text": text2}]}),
    );
    c.diagnostics(&u, Some(2));
    // `n` is at UTF-16 column 24 of line 3 (byte 26): the emoji counts 2 units, not 4 bytes.
    let pos = find(text2, "and |n >");
    assert_eq!(pos["character"], 24);
    let r = c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": u}, "position": pos}),
    );
    assert_eq!(
        r["result"]["range"]["start"],
        json!({"line": 1, "character": 5}),
        "{r}"
    );
    c.shutdown();
}

#[test]
fn a_file_that_is_not_utf8() {
    let mut c = TestClient::start();
    let dir = temp_dir("utf8");
    let law = dir.join("law.norm");
    std::fs::write(&law, SMALL_LAW).unwrap();
    std::fs::write(dir.join("binary.norm"), b"fact x: int\n\xff\xfe\x00garbage").unwrap();
    let u = uri(&law);
    c.open(&u, SMALL_LAW);
    let d = c.diagnostics(&u, Some(1));
    assert!(
        d.iter()
            .any(|d| d["code"] == "E0006"
                && d["message"].as_str().unwrap().contains("not valid UTF-8")),
        "{d:?}"
    );
    let h = hover_text(&mut c, &u, find(SMALL_LAW, "def b|ig"));
    assert!(h.contains("def big: bool"), "{h}");
    // Opening the bad file from a client (which decoded it somehow) works too.
    let bad = uri(&dir.join("binary.norm"));
    c.open(&bad, "fact x: int\n\u{fffd}\u{fffd}garbage");
    let d = c.diagnostics(&bad, Some(1));
    assert!(!d.is_empty());
    c.shutdown();
}

#[test]
fn a_five_megabyte_document() {
    let mut c = TestClient::start();
    let dir = temp_dir("big");
    let p = dir.join("law.norm");
    let mut text = String::from("law t \"T\" version \"1\"\nfact n: int\n");
    let mut i = 0;
    while text.len() < 5 * 1024 * 1024 {
        text.push_str(&format!("/// Definition number {i}, with some text to make it long.\ndef d{i} = n > {i} and n < {i} + 1000\n"));
        i += 1;
    }
    std::fs::write(&p, "").unwrap();
    let u = uri(&p);
    c.open(&u, &text);
    let d = c.diagnostics(&u, Some(1));
    assert!(d.iter().all(|d| d["severity"] != 1), "{:?}", d.first());
    let pos = find(&text, "def d12|345 =");
    let h = hover_text(&mut c, &u, pos);
    assert!(h.contains("def d12345: bool"), "{h}");
    // A document of one long line, too (a million columns).
    let defs: String = (0..80_000).map(|i| format!("def x{i} = {i} ")).collect();
    let long = format!("law t \"T\" version \"1\"\n{defs}\n");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": [{"text": long}]}),
    );
    c.diagnostics(&u, Some(2));
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": u}, "position": {"line": 1, "character": 3_000_000}}),
    );
    assert!(r.get("error").is_none(), "{r}");
    c.shutdown();
}

#[test]
fn a_burst_of_a_thousand_edits() {
    let mut c = TestClient::start();
    let dir = temp_dir("burst");
    let p = dir.join("law.norm");
    std::fs::write(&p, SMALL_LAW).unwrap();
    let u = uri(&p);
    c.open(&u, SMALL_LAW);
    c.diagnostics(&u, Some(1));
    // Type `def k = n + 1` one character at a time at the end, then delete and retype, 1,000
    // edits in all, without waiting.
    let mut text = SMALL_LAW.to_string();
    let mut version = 1;
    let typed = "def kk = n + 1\n";
    let mut edits = 0;
    while edits < 1000 {
        for ch in typed.chars() {
            let end = position(&text, text.len());
            version += 1;
            c.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": u, "version": version},
                       "contentChanges": [{"range": {"start": end, "end": end}, "text": ch.to_string()}]}),
            );
            text.push(ch);
            edits += 1;
        }
        if edits < 1000 {
            let start = position(&text, SMALL_LAW.len());
            let end = position(&text, text.len());
            version += 1;
            c.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": u, "version": version},
                       "contentChanges": [{"range": {"start": start, "end": end}, "text": ""}]}),
            );
            text.truncate(SMALL_LAW.len());
            edits += 1;
        }
    }
    // The last diagnostics are those of the last version, and requests see the final text.
    assert!(text.ends_with(typed), "{text}");
    let d = c.diagnostics(&u, Some(version));
    assert!(d.iter().all(|d| d["severity"] != 1), "{d:?}");
    let h = hover_text(&mut c, &u, find(&text, "def k|k ="));
    assert!(h.contains("def kk: int"), "{h}");
    c.shutdown();
}

#[test]
fn semantic_tokens_of_a_long_line() {
    // Columns are counted on from one token to the next (issue 10, item 8: counting each from
    // the line's start made a long line quadratic); a string with astral characters comes
    // first, so that UTF-16 columns differ from bytes and chars.
    let mut c = TestClient::start();
    let dir = temp_dir("tokens");
    let p = dir.join("law.norm");
    let terms = 5_000;
    let defs: String = (0..terms).map(|i| format!(" def a{i} = n > {i}")).collect();
    let line = format!("def s = \"é😀\" == \"x\"{defs}");
    let text = format!("law t \"T\" version \"1\"\nfact n: int\n{line}\n");
    std::fs::write(&p, &text).unwrap();
    let u = uri(&p);
    c.open(&u, &text);
    let d = c.diagnostics(&u, Some(1));
    assert!(d.iter().all(|d| d["severity"] != 1), "{d:?}");
    let r = c.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": u}}),
    );
    // Absolute (line, UTF-16 column, length, type) of each token.
    let data: Vec<u64> = r["result"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let (mut l, mut col) = (0, 0);
    let mut tokens = Vec::new();
    for t in data.chunks(5) {
        if t[0] > 0 {
            col = 0;
        }
        l += t[0];
        col += t[1];
        tokens.push((l, col, t[2], t[3]));
    }
    // The `n`s of line 2: at the UTF-16 column of each `n` in the line, one unit long.
    let expected: Vec<u64> = line
        .char_indices()
        .filter(|&(_, ch)| ch == 'n')
        .map(|(i, _)| line[..i].encode_utf16().count() as u64)
        .collect();
    assert_eq!(expected.len(), terms);
    let fact_type = tokens.iter().find(|t| t.0 == 1 && t.1 == 5).unwrap().3;
    let got: Vec<u64> = tokens
        .iter()
        .filter(|t| t.0 == 2 && t.2 == 1 && t.3 == fact_type)
        .map(|t| t.1)
        .collect();
    assert_eq!(got, expected);
    // The last `def` keyword: 3 units, at its UTF-16 column.
    let def_col = line[..line.rfind("def ").unwrap()].encode_utf16().count() as u64;
    assert!(
        tokens
            .iter()
            .any(|t| t.0 == 2 && t.1 == def_col && t.2 == 3),
        "{:?}",
        &tokens[tokens.len() - 8..]
    );
    c.shutdown();
}
