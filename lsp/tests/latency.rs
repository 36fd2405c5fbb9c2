//! Latency on the whole stdlib, printed, not asserted (figures depend on the machine):
//!
//! ```sh
//! cargo test -p norm-lsp --release --test latency -- --ignored --nocapture
//! ```
//!
//! - keystroke → diagnostics: a `didChange` inserting one character in a stdlib file, until
//!   the `publishDiagnostics` of that version arrives (the whole law recompiled: 35 files);
//! - hover: a `hover` request on an analysis already up to date, and right after a keystroke
//!   (recompiling first).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure is a panic"
)]

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

fn stats(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = v[v.len() / 2];
    let p95 = v[(v.len() * 95 / 100).min(v.len() - 1)];
    println!(
        "{name:<44} n={:<4} median {:>8.2} ms   p95 {:>8.2} ms   min {:>8.2} ms   max {:>8.2} ms",
        v.len(),
        ms(median),
        ms(p95),
        ms(v[0]),
        ms(*v.last().unwrap())
    );
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture, preferably with --release"]
fn latency_on_the_stdlib() {
    let file = std::fs::canonicalize(repo().join("stdlib/mail/ch4_providers.norm")).unwrap();
    let u = uri(&file);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut c = TestClient::start();

    let t = Instant::now();
    c.open(&u, &text);
    c.diagnostics(&u, Some(1));
    println!(
        "open → first diagnostics (cold): {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );

    // Keystrokes in a comment: `x` typed at the end of the first line, one at a time.
    let line0_len = text.lines().next().unwrap().encode_utf16().count();
    let mut keystroke = Vec::new();
    let mut version = 1;
    for i in 0..30 {
        version += 1;
        let pos = json!({"line": 0, "character": line0_len + i});
        let t = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": u, "version": version},
                   "contentChanges": [{"range": {"start": pos, "end": pos}, "text": "x"}]}),
        );
        c.diagnostics(&u, Some(version));
        keystroke.push(t.elapsed());
        c.settle(Duration::from_millis(20));
        c.notifications.clear();
    }
    stats("keystroke → published diagnostics (stdlib)", keystroke);

    // Hover on an up-to-date analysis, over several kinds of names.
    let needles = [
        "article 6|6 \"Registry",
        "obligation national_reg|istry",
        "actor.registered_us|ers >",
        "def registry_required = registry_cand|idate and",
        "addressee prov|ider",
    ];
    let mut hover = Vec::new();
    for _ in 0..40 {
        for n in needles {
            let pos = find(&text, n);
            // Line 0 grew by the typed `x`s: the needles are on later lines.
            let t = Instant::now();
            let r = c.request(
                "textDocument/hover",
                json!({"textDocument": {"uri": u}, "position": pos}),
            );
            hover.push(t.elapsed());
            assert!(r["result"].is_object(), "{n}: {r}");
        }
    }
    stats("hover (analysis up to date)", hover);

    // Hover right after a keystroke: includes the recompilation.
    let mut hover_after = Vec::new();
    for i in 0..20 {
        version += 1;
        let pos = json!({"line": 0, "character": line0_len + 30 + i});
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": u, "version": version},
                   "contentChanges": [{"range": {"start": pos, "end": pos}, "text": "y"}]}),
        );
        let t = Instant::now();
        let r = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": u}, "position": find(&text, needles[1])}),
        );
        hover_after.push(t.elapsed());
        assert!(r["result"].is_object(), "{r}");
        c.settle(Duration::from_millis(50));
        c.notifications.clear();
    }
    stats("hover right after a keystroke", hover_after);

    // The compilation alone (parse, check, index), in process.
    let mut compile = Vec::new();
    let ws = norm_lsp::workspace::Workspace::default();
    let path = file.clone();
    let root = ws.set_doc(
        path.clone(),
        norm_lsp::workspace::Doc {
            uri: u.parse().unwrap(),
            text: text.clone(),
            version: 1,
        },
    );
    for _ in 0..20 {
        ws.touch(&path);
        let t = Instant::now();
        let a = ws.analysis(&root).unwrap();
        compile.push(t.elapsed());
        assert!(!a.compilation.has_errors());
    }
    stats("compile + index of the stdlib (in process)", compile);
    c.shutdown();
}

/// Semantic tokens of one long line: `def s = n + n + … + n` with 10,000, 40,000 and 60,000
/// terms (the time of the `semanticTokens/full` request alone, on an analysis up to date).
#[test]
#[ignore = "a measurement: run with --ignored --nocapture, preferably with --release"]
fn semantic_tokens_on_one_long_line() {
    // The sum is a tree 60,000 levels deep: the client's runtime (which drops the server's
    // analyses at the end) runs on a thread with a stack to match.
    std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(long_line_tokens)
        .unwrap()
        .join()
        .unwrap();
}

fn long_line_tokens() {
    let dir = temp_dir("tokens-latency");
    let p = dir.join("law.norm");
    std::fs::write(&p, "").unwrap();
    let u = uri(&p);
    let mut c = TestClient::start();
    for (version, terms) in [(1, 10_000), (2, 40_000), (3, 60_000)] {
        let sum = vec!["n"; terms].join(" + ");
        let text = format!("law t \"T\" version \"1\"\nfact n: int\ndef s = {sum}\n");
        if version == 1 {
            c.open(&u, &text);
        } else {
            c.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": u, "version": version}, "contentChanges": [{"text": text}]}),
            );
        }
        c.diagnostics(&u, Some(version));
        let t = Instant::now();
        let r = c.request(
            "textDocument/semanticTokens/full",
            json!({"textDocument": {"uri": u}}),
        );
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let n = r["result"]["data"].as_array().map_or(0, Vec::len) / 5;
        println!("semantic tokens, {terms:>6} terms on one line: {ms:>9.1} ms ({n} tokens)");
    }
    c.shutdown();
}
