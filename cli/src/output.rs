//! Printing: diagnostics (codespan style on stderr, or JSON on stdout), errors, exit codes.

use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use norm_compiler::diagnostic::{Diagnostic, Severity, emit};
use norm_compiler::files::SourceDb;
use serde_json::{Value as Json, json};
use std::io::IsTerminal;

pub const OK: u8 = 0;
pub const INPUT: u8 = 1;
// Exit code 2 (the command line is wrong) comes from clap.

/// Prints diagnostics to stderr (coloured on a terminal).
pub fn print_diagnostics(db: &SourceDb, diags: &[Diagnostic]) {
    let choice = if std::io::stderr().is_terminal() {
        ColorChoice::Auto
    } else {
        ColorChoice::Never
    };
    let mut stream = StandardStream::stderr(choice);
    if emit(&mut stream, db, diags).is_err() {
        eprint!("{}", norm_compiler::diagnostic::render(db, diags));
    }
}

pub fn diagnostic_json(db: &SourceDb, d: &Diagnostic) -> Json {
    let mut v = serde_json::Map::new();
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    v.insert("severity".into(), json!(severity));
    v.insert("code".into(), json!(d.code));
    v.insert("message".into(), json!(d.message));
    if let Some(p) = &d.primary {
        let (line, col) = db.line_col(p.span.file, p.span.start as usize);
        let (end_line, end_col) = db.line_col(p.span.file, p.span.end as usize);
        v.insert("file".into(), json!(db.name(p.span.file)));
        v.insert("line".into(), json!(line));
        v.insert("column".into(), json!(col));
        v.insert("end_line".into(), json!(end_line));
        v.insert("end_column".into(), json!(end_col));
        v.insert("label".into(), json!(p.message));
    }
    if !d.notes.is_empty() {
        v.insert("notes".into(), json!(d.notes));
    }
    if let Some(h) = &d.help {
        v.insert("help".into(), json!(h));
    }
    Json::Object(v)
}

pub fn print_json(v: &Json) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => outln!("{s}"),
        Err(e) => eprintln!("error: cannot serialise output: {e}"),
    }
}

/// Reports diagnostics in the chosen format; returns the exit code (1 if any is an error).
pub fn report(db: &SourceDb, diags: &[Diagnostic], format: crate::Format) -> u8 {
    let failed = diags.iter().any(Diagnostic::is_error);
    match format {
        crate::Format::Text => print_diagnostics(db, diags),
        crate::Format::Json if failed => print_json(&json!({
            "error": {
                "kind": "diagnostics",
                "diagnostics": diags.iter().map(|d| diagnostic_json(db, d)).collect::<Vec<_>>(),
            }
        })),
        crate::Format::Json => {}
    }
    if failed { INPUT } else { OK }
}

/// An error that is not about a span of source (a missing file, bad facts, a bad date).
pub fn fail(format: crate::Format, kind: &str, message: &str, extra: Option<Json>) -> u8 {
    match format {
        crate::Format::Text => eprintln!("error: {message}"),
        crate::Format::Json => {
            let mut e = json!({"kind": kind, "message": message});
            if let (Some(extra), Some(obj)) = (extra, e.as_object_mut())
                && let Json::Object(m) = extra
            {
                obj.extend(m);
            }
            print_json(&json!({ "error": e }));
        }
    }
    INPUT
}
