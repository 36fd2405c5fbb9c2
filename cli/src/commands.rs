//! One function per subcommand. Each returns the exit code.

use crate::output::{self, INPUT, OK, fail, print_json, report};
use crate::{Format, TestEngine};
use norm_compiler::date::Date;
use norm_compiler::diagnostic::{Diagnostic, Severity};
use norm_compiler::driver::{self, Compilation};
use norm_compiler::files::SourceDb;
use norm_compiler::value::group_thousands;
use norm_runtime::decision::Decision;
use norm_runtime::engine::{DecideError, Engine, EngineKind, FsLoader};
use norm_runtime::jit::JitProgram;
use norm_runtime::testing;
use serde_json::json;
use std::path::{Path, PathBuf};

fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Date::from_days(i64::try_from(secs / 86_400).unwrap_or(0)).unwrap_or(Date::EPOCH)
}

/// Parses `--as-of`; `Err` carries the exit code after reporting.
fn as_of(arg: Option<&str>, format: Format) -> Result<Date, u8> {
    match arg {
        None => Ok(today()),
        Some(s) => Date::parse(s).ok_or_else(|| {
            match format {
                Format::Text => eprintln!("error: invalid --as-of date `{s}`: expected YYYY-MM-DD, a real day between years 0001 and 9999"),
                Format::Json => print_json(&json!({"error": {"kind": "input", "message": format!("invalid --as-of date `{s}`: expected YYYY-MM-DD, a real day between years 0001 and 9999")}})),
            }
            // A date is input (like the facts), not the shape of the command line: exit 1.
            INPUT
        }),
    }
}

fn missing_paths(paths: &[PathBuf], format: Format) -> Option<u8> {
    let missing: Vec<&PathBuf> = paths.iter().filter(|p| !p.exists()).collect();
    if missing.is_empty() {
        return None;
    }
    let names: Vec<String> = missing
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect();
    Some(fail(
        format,
        "io",
        &format!("no such file or directory: {}", names.join(", ")),
        None,
    ))
}

pub fn check(paths: &[PathBuf], format: Format, ir: bool) -> u8 {
    if let Some(code) = missing_paths(paths, format) {
        return code;
    }
    let c = driver::compile_law(&FsLoader, paths, None);
    let code = report(&c.db, &c.diagnostics, format);
    if code != OK {
        return code;
    }
    let Some(program) = &c.program else {
        if c.law_files.is_empty() {
            return fail(format, "input", "no `.norm` files found", None);
        }
        return INPUT;
    };
    let warnings = c
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    match format {
        Format::Json => print_json(&json!({
            "ok": true,
            "law": {"name": program.law.name, "version": program.law.version},
            "files": c.law_files.len() + c.data_files.len(),
            "articles": program.articles.len(),
            "norms": program.norms.len(),
            "definitions": program.defs.len(),
            "tests": program.tests.len(),
            "data": c.data.iter().map(|m| json!({"name": m.name, "version": m.version, "effective": m.effective.to_string()})).collect::<Vec<_>>(),
            "diagnostics": c.diagnostics.iter().map(|d| output::diagnostic_json(&c.db, d)).collect::<Vec<_>>(),
        })),
        Format::Text => {
            if ir {
                out!("{program}");
            }
            outln!(
                "ok: law {} {} — {} files, {} articles, {} norms, {} definitions, {} tests, {} data modules{}",
                program.law.name,
                program
                    .law
                    .versions
                    .iter()
                    .map(|v| v.version.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                c.law_files.len() + c.data_files.len(),
                program.articles.len(),
                program.norms.len(),
                program.defs.len(),
                program.tests.len(),
                c.data.len(),
                match warnings {
                    0 => String::new(),
                    1 => ", 1 warning".to_string(),
                    n => format!(", {n} warnings"),
                }
            );
        }
    }
    OK
}

fn load_engine(
    law: &Path,
    data: Option<&[PathBuf]>,
    format: Format,
    kind: EngineKind,
) -> Result<Engine, u8> {
    load_engine_trusted(law, data, format, kind, None)
}

/// With `--trust`, every data module must be a package that verifies with the trust store.
fn load_engine_trusted(
    law: &Path,
    data: Option<&[PathBuf]>,
    format: Format,
    kind: EngineKind,
    trust: Option<&Path>,
) -> Result<Engine, u8> {
    let mut paths = vec![law.to_path_buf()];
    if let Some(d) = data {
        paths.extend(d.iter().cloned());
    }
    if let Some(t) = trust {
        paths.push(t.to_path_buf());
    }
    if let Some(code) = missing_paths(&paths, format) {
        return Err(code);
    }
    let trust = match trust.map(norm_runtime::TrustStore::load).transpose() {
        Ok(t) => t,
        Err(e) => return Err(fail(format, "trust", &e.to_string(), None)),
    };
    let options = norm_runtime::EngineOptions { kind, trust };
    Engine::open(&FsLoader, &[law.to_path_buf()], data, options).map_err(|e| match &e {
        norm_runtime::OpenError::Law(l) => report(&l.db, &l.diagnostics, format).max(INPUT),
        norm_runtime::OpenError::Module { error, .. } => fail(
            format,
            "module",
            &e.to_string(),
            serde_json::to_value(&**error)
                .ok()
                .map(|d| json!({"module_error": d})),
        ),
    })
}

/// What `norm eval` is asked for, beyond the law and the facts.
pub struct EvalOptions<'a> {
    pub as_of: Option<&'a str>,
    pub data: Option<&'a [PathBuf]>,
    pub explain: bool,
    pub why_not: Option<&'a str>,
    pub format: Format,
    pub engine: EngineKind,
    /// `--trust TRUST.json`.
    pub trust: Option<&'a Path>,
}

pub fn eval(law: &Path, facts: &Path, opts: EvalOptions<'_>) -> u8 {
    let EvalOptions {
        as_of: as_of_arg,
        data,
        explain,
        why_not,
        format,
        engine: kind,
        trust,
    } = opts;
    let as_of = match as_of(as_of_arg, format) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let engine = match load_engine_trusted(law, data, format, kind, trust) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let text = match std::fs::read(facts) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                return fail(
                    format,
                    "facts",
                    &format!("`{}` is not valid UTF-8", facts.display()),
                    None,
                );
            }
        },
        Err(e) => {
            return fail(
                format,
                "io",
                &format!("cannot read `{}`: {e}", facts.display()),
                None,
            );
        }
    };
    // Strict JSON: a key given twice is an error, as every other path into the engine says.
    let json: serde_json::Value = match norm_runtime::facts::parse_json(&text) {
        Ok(j) => j,
        Err(e) => {
            let msg = format!("{}: {e}", facts.display());
            return fail(format, "facts", &msg, None);
        }
    };
    let options = norm_runtime::DecideOptions {
        explain,
        why_not: None,
    };
    let decided = engine.decide(&json, as_of, options).and_then(|mut d| {
        if let Some(id) = why_not {
            d.why_not = Some(engine.why_not(&json, as_of, id)?);
        }
        Ok(d)
    });
    match decided {
        Ok(decision) => {
            match format {
                Format::Json => match serde_json::to_value(&decision) {
                    Ok(v) => print_json(&v),
                    Err(e) => {
                        return fail(
                            format,
                            "internal",
                            &format!("cannot serialise the decision: {e}"),
                            None,
                        );
                    }
                },
                // `--why-not ID` asks one question: the answer alone.
                Format::Text => match &decision.why_not {
                    Some(w) => print_why_not(w),
                    None => print_decision(&engine, &decision),
                },
            }
            OK
        }
        Err(err) => decide_error(&engine, facts, &err, format),
    }
}

fn decide_error(engine: &Engine, facts: &Path, err: &DecideError, format: Format) -> u8 {
    match format {
        Format::Json => {
            let v = serde_json::to_value(err).unwrap_or_else(|_| json!({"kind": "unknown"}));
            print_json(&json!({ "error": v }));
        }
        Format::Text => match err {
            DecideError::Facts { errors } => {
                for e in errors {
                    eprintln!("error: {}: {e}", facts.display());
                }
            }
            DecideError::UnknownNorm { .. } => eprintln!("error: {err}"),
            DecideError::Evaluation { error, .. } => {
                let mut d =
                    Diagnostic::error("E0400", format!("evaluation failed: {}", error.message));
                if let Some(span) = error.span {
                    d = d.at(span, "here");
                }
                for r in &error.related {
                    d = d.also(*r, "and here");
                }
                output::print_diagnostics(engine.sources(), &[d]);
            }
        },
    }
    INPUT
}

/// `--why-not ID` in text: which condition failed, and what change would make the norm apply.
fn print_why_not(w: &norm_runtime::why::WhyNot) {
    // In a case of several parties: one answer per party (and system), each under its name.
    let several = !w.others.is_empty();
    for answer in std::iter::once(w).chain(w.others.iter()) {
        let whom = if several {
            of_whom(&answer.party, &answer.system)
        } else {
            String::new()
        };
        print_one_why_not(answer, &whom);
    }
}

fn print_one_why_not(w: &norm_runtime::why::WhyNot, whom: &str) {
    outln!("Why not {} {} (Art. {}){whom}:", w.kind, w.norm, w.article);
    match w.status {
        "applies" => outln!("  it applies."),
        "defeated" => outln!(
            "  its conditions hold, but it is defeated by {}.",
            w.defeated_by.join(", ")
        ),
        _ => print_failures(&w.failed, 1),
    }
}

/// The failed conditions, a finding's own under it, indented by `depth`.
fn print_failures(failed: &[norm_runtime::why::Failure], depth: usize) {
    let pad = "  ".repeat(depth);
    for f in failed {
        match &f.finding {
            Some(x) => outln!("{pad}✗ {} not met: {}", x.citation(), f.condition),
            None => outln!("{pad}✗ {}", f.condition),
        }
        match &f.finding {
            Some(x) if !x.because.is_empty() => print_failures(&x.because, depth + 1),
            _ => {
                if let Some(c) = &f.change {
                    outln!("{pad}    {c}");
                }
            }
        }
    }
}

use norm_runtime::decision::cite;

fn print_norm(n: &norm_runtime::decision::NormOut) {
    let cite = cite(&n.article, n.paragraph, n.item);
    let mut who = Vec::new();
    if let Some(a) = &n.addressee {
        who.push(format!("addressee: {a}"));
    }
    if let Some(a) = &n.authority {
        who.push(format!("authority: {a}"));
    }
    if let Some(due) = &n.due {
        who.push(format!("due: {due}"));
    }
    if n.due_unknown.is_some() {
        who.push("due: unknown".to_string());
    }
    if let Some(s) = n.status.filter(|s| *s != "standing") {
        who.push(format!("status: {}", s.replace('_', " ")));
    }
    if let Some(k) = &n.keep_until {
        who.push(format!("keep until: {k}"));
    }
    if !n.counterparties.is_empty() {
        who.push(format!("towards: {}", n.counterparties.join(", ")));
    }
    outln!(
        "  {} {} — {}{}",
        n.kind,
        n.id,
        cite,
        if who.is_empty() {
            String::new()
        } else {
            format!(" — {}", who.join(", "))
        }
    );
    if !n.text.is_empty() {
        outln!("      {}", n.text);
    }
    if let Some(why) = &n.due_unknown {
        outln!("      due date unknown: {why}");
    }
}

/// ` (party `p`, system `s`)` for an entry that names them.
fn of_whom(party: &Option<String>, system: &Option<String>) -> String {
    match (party, system) {
        (Some(p), Some(s)) => format!(" (party `{p}`, system `{s}`)"),
        (Some(p), None) => format!(" (party `{p}`)"),
        (None, Some(s)) => format!(" (system `{s}`)"),
        (None, None) => String::new(),
    }
}

fn print_decision(engine: &Engine, d: &Decision) {
    let program = engine.program();
    let data: Vec<String> = d
        .data
        .iter()
        .map(|m| format!("{} {}", m.name, m.version))
        .collect();
    outln!("{} v{} as of {}", program.law.title, d.law.version, d.as_of);
    if !data.is_empty() {
        outln!("data: {}", data.join(", "));
    }
    outln!();
    if d.norms.is_empty() {
        outln!("No norm applies.");
    } else {
        outln!("Norms that apply ({}):", d.norms.len());
        // Grouped by the party they bind and the system they concern, in the case's order.
        let mut groups: Vec<(Option<&str>, Option<&str>)> = Vec::new();
        for n in &d.norms {
            let key = (n.party.as_deref(), n.system.as_deref());
            if !groups.contains(&key) {
                groups.push(key);
            }
        }
        for key in groups {
            if let (Some(party), system) = key {
                match system {
                    Some(sys) => outln!("\n Party `{party}`, system `{sys}`:"),
                    None => outln!("\n Party `{party}`:"),
                }
            }
            let (standing, triggered): (Vec<_>, Vec<_>) = d
                .norms
                .iter()
                .filter(|n| (n.party.as_deref(), n.system.as_deref()) == key)
                .partition(|n| n.kind == "prohibition" && n.status == Some("standing"));
            for n in triggered {
                print_norm(n);
            }
            // Prohibitions that merely bind (the case shows no such conduct) are listed apart,
            // so they do not crowd out what the case triggers.
            if !standing.is_empty() {
                outln!("  standing prohibitions (they bind; the case shows no such conduct):");
                for n in standing {
                    outln!("    {} — {}", n.id, cite(&n.article, n.paragraph, n.item));
                }
            }
        }
    }
    if !d.penalties.is_empty() {
        outln!("\nPenalties ({}):", d.penalties.len());
        for p in &d.penalties {
            let amount = |v: &serde_json::Value| {
                v.get("amount")
                    .and_then(|a| a.as_str())
                    .map(|s| format!("{} CNY", group_thousands(s)))
                    .unwrap_or_else(|| v.to_string())
            };
            outln!(
                "  {} — {} — fine {} to {}{}",
                p.id,
                cite(&p.article, p.paragraph, None),
                amount(&p.min),
                amount(&p.max),
                of_whom(&p.party, &p.system)
            );
            if !p.text.is_empty() {
                outln!("      {}", p.text);
            }
        }
    }
    if !d.warnings.is_empty() {
        outln!("\nWarnings:");
        for w in &d.warnings {
            let whom = of_whom(&w.party, &w.system);
            if w.article.is_empty() {
                outln!("  {}{whom}: {}", w.id, w.text);
            } else {
                let at = cite(&w.article, w.paragraph, None);
                outln!("  {} — {at}{whom}: {}", w.id, w.text);
            }
        }
    }
    if !d.findings.is_empty() {
        outln!("\nFindings:");
        for f in &d.findings {
            let cite = cite(&f.article, f.paragraph, f.item);
            outln!(
                "  {} {} — {cite}{}",
                if f.holds { "✓" } else { "✗" },
                f.id,
                of_whom(&f.party, &f.system)
            );
            if !f.meaning.is_empty() {
                outln!("      {}", f.meaning);
            }
            if !f.rests_on.is_empty() {
                let vals: Vec<String> = f
                    .rests_on
                    .iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect();
                outln!("      [{}]", vals.join(", "));
            }
        }
    }
    if !d.conflicts.is_empty() {
        outln!("\nConflicts:");
        for c in &d.conflicts {
            outln!("  {}", c.message);
        }
    }
    if !d.values.is_empty() {
        outln!("\nValues:");
        for (k, v) in &d.values {
            let shown = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Object(m) if m.contains_key("currency") => {
                    format!(
                        "{} CNY",
                        group_thousands(m.get("amount").and_then(|a| a.as_str()).unwrap_or("?"))
                    )
                }
                other => other.to_string(),
            };
            outln!("  {k} = {shown}");
        }
    }
    if let Some(ex) = &d.explanation {
        outln!("\nWhy:");
        for e in ex {
            let title = e
                .article_title
                .as_deref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            let paragraph = e.paragraph.map(|p| format!("({p})")).unwrap_or_default();
            outln!(
                "  {} {} — Art. {}{paragraph}{}: {}",
                e.kind,
                e.norm,
                e.article,
                title,
                e.status
            );
            if !e.text.is_empty() {
                outln!("    “{}”", e.text);
            }
            for c in &e.conditions {
                if let Some(m) = &c.meaning {
                    outln!(
                        "    {} {} — {m}",
                        if c.holds { "✓" } else { "✗" },
                        c.condition
                    );
                    let vals: Vec<String> =
                        c.values.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                    if !vals.is_empty() {
                        outln!("        [{}]", vals.join(", "));
                    }
                    for m in &c.data {
                        outln!(
                            "        data: {} version {} (effective {})",
                            m.name,
                            m.version,
                            m.effective
                        );
                    }
                    continue;
                }
                let vals: Vec<String> =
                    c.values.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                outln!(
                    "    {} {}{}",
                    if c.holds { "✓" } else { "✗" },
                    c.condition,
                    if vals.is_empty() {
                        String::new()
                    } else {
                        format!("   [{}]", vals.join(", "))
                    }
                );
                for m in &c.data {
                    outln!(
                        "        data: {} version {} (effective {})",
                        m.name,
                        m.version,
                        m.effective
                    );
                }
            }
            for x in &e.exceptions_considered {
                outln!(
                    "    exception {} (Art. {}): {}",
                    x.norm,
                    x.article,
                    if x.applies {
                        "applies"
                    } else {
                        "does not apply"
                    }
                );
            }
        }
    }
}

pub fn test(paths: &[PathBuf], engine: TestEngine, coverage: bool) -> u8 {
    // A run that cannot start prints no summary: `0 passed, 0 failed` would say it ran.
    if let Some(code) = missing_paths(paths, Format::Text) {
        return code;
    }
    let mut c: Compilation = driver::compile_law(&FsLoader, paths, None);
    let mut code = report(&c.db, &c.diagnostics, Format::Text);
    let Some(program) = c.program.take() else {
        eprintln!("error: no test ran: the law did not compile");
        return INPUT;
    };
    let jit = match engine {
        TestEngine::Interp => None,
        TestEngine::Jit | TestEngine::Both => match JitProgram::compile(&program, &c.data) {
            Ok(j) => Some(j),
            Err(e) => {
                eprintln!(
                    "error: internal error: the law could not be compiled to native code: {e}"
                );
                outln!("0 passed, 0 failed");
                return INPUT;
            }
        },
    };
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut diags = Vec::new();
    let mut applied = vec![false; program.norms.len()];
    let mut held = vec![false; program.norms.len()];
    for t in &program.tests {
        let mut r = match engine {
            TestEngine::Interp => testing::run_test(&program, &c.data, t, None),
            _ => testing::run_test(&program, &c.data, t, jit.as_ref()),
        };
        if engine == TestEngine::Both {
            // The reference must agree with compiled code, failure for failure.
            let reference = testing::run_test(&program, &c.data, t, None);
            if reference.failures != r.failures {
                r.failures.push((
                    t.span,
                    format!(
                        "the engines disagree: compiled code {}, the interpreter {}",
                        outcome(&r),
                        outcome(&reference)
                    ),
                ));
            }
        }
        for (slot, a) in applied.iter_mut().zip(&r.applied) {
            *slot |= *a;
        }
        for (slot, h) in held.iter_mut().zip(&r.held) {
            *slot |= *h;
        }
        if r.passed() {
            passed += 1;
            outln!("PASS {}", r.name);
        } else {
            failed += 1;
            outln!("FAIL {}", r.name);
            for (span, msg) in &r.failures {
                diags.push(
                    Diagnostic::error("T0001", format!("test {:?} failed: {msg}", r.name))
                        .at(*span, "this expectation"),
                );
            }
        }
    }
    if !diags.is_empty() {
        output::print_diagnostics(&c.db, &diags);
        code = INPUT;
    }
    if coverage {
        print_coverage(&program, &applied, &held);
        // A paragraph that no norm or finding cites, and that the law's README does not list
        // as text only with its reason, is left unexplained: the run fails.
        let readme = crate::coverage::find_readme(paths);
        if !crate::coverage::print(&program, readme.as_ref()).is_empty() && readme.is_some() {
            code = INPUT;
        }
    }
    outln!("{passed} passed, {failed} failed");
    code
}

/// Per article (and version), each norm: applied in some test (✓), only ever defeated (~), or
/// never reached (✗); then the totals.
fn print_coverage(program: &norm_compiler::ir::Program, applied: &[bool], held: &[bool]) {
    let mut order: Vec<usize> = (0..program.norms.len()).collect();
    order.sort_by_key(|&i| {
        let n = program.norms.get(i);
        let art = n.and_then(|n| program.article(n));
        (art.map(|a| a.number), art.and_then(|a| a.effective), i)
    });
    outln!("Coverage (norms that applied in some test's case):");
    let mut current: Option<u32> = None;
    let mut line = String::new();
    let (mut hit, mut partial) = (0usize, 0usize);
    let flush = |line: &mut String| {
        if !line.is_empty() {
            outln!("{line}");
            line.clear();
        }
    };
    for i in order {
        let Some(n) = program.norms.get(i) else {
            continue;
        };
        let Some(art) = program.article(n) else {
            continue;
        };
        if current != Some(n.article) {
            flush(&mut line);
            current = Some(n.article);
            let version = match (art.effective, art.until) {
                (Some(f), Some(u)) => format!(" [{f} to {u}]"),
                (Some(f), None) => format!(" [from {f}]"),
                (None, Some(u)) => format!(" [until {u}]"),
                (None, None) => String::new(),
            };
            line = format!("  Art. {}{version}:", art.number);
        }
        let mark = match (applied.get(i), held.get(i)) {
            (Some(true), _) => {
                hit += 1;
                "✓"
            }
            (_, Some(true)) => {
                partial += 1;
                "~"
            }
            _ => "✗",
        };
        line.push_str(&format!(" {mark} {}", n.id));
    }
    flush(&mut line);
    let total = program.norms.len();
    outln!(
        "coverage: {hit} of {total} norms applied in some test{}{}",
        match partial {
            0 => String::new(),
            p => format!(", {p} only defeated (~)"),
        },
        match total - hit - partial {
            0 => String::new(),
            m => format!(", {m} never reached (✗)"),
        }
    );
}

fn outcome(r: &testing::TestResult) -> String {
    match r.failures.first() {
        None => "passes".to_string(),
        Some((_, m)) => format!("fails ({m})"),
    }
}

pub fn fmt(paths: &[PathBuf], check: bool) -> u8 {
    if let Some(code) = missing_paths(paths, Format::Text) {
        return code;
    }
    let mut files = Vec::new();
    for p in paths {
        collect_norm_files(p, &mut files);
    }
    let mut db = SourceDb::new();
    let mut code = OK;
    let mut unformatted = 0;
    for path in files {
        let text = match std::fs::read(&path).map(norm_compiler::files::decode_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err((offset, line, col))) => {
                // Where, as `norm check` says it.
                eprintln!(
                    "error: `{}` is not valid UTF-8\n = {}:{line}:{col}: invalid byte at offset {offset}\n = help: save the file as UTF-8",
                    path.display(),
                    path.display()
                );
                code = INPUT;
                continue;
            }
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", path.display());
                code = INPUT;
                continue;
            }
        };
        let id = db.add(path.display().to_string(), Some(path.clone()), text.clone());
        match norm_compiler::syntax::format::format_source(id, &text) {
            Ok(formatted) => {
                if formatted == text {
                    continue;
                }
                if check {
                    outln!("not formatted: {}", path.display());
                    unformatted += 1;
                } else if let Err(e) = std::fs::write(&path, formatted) {
                    eprintln!("error: cannot write `{}`: {e}", path.display());
                    code = INPUT;
                } else {
                    outln!("formatted {}", path.display());
                }
            }
            Err(diags) => {
                output::print_diagnostics(&db, &diags);
                eprintln!(
                    "error: `{}` has syntax errors; it was left unchanged",
                    path.display()
                );
                code = INPUT;
            }
        }
    }
    if unformatted > 0 { INPUT } else { code }
}

/// The source files under `p`, by the loader's rule (hidden files and editor backups are not
/// sources).
fn collect_norm_files(p: &Path, out: &mut Vec<PathBuf>) {
    use norm_compiler::files::Loader;
    match FsLoader.list_dir(p) {
        Ok(Some(entries)) => {
            for e in entries {
                collect_norm_files(&e, out);
            }
        }
        _ => out.push(p.to_path_buf()),
    }
}

pub fn expr(
    src: &str,
    law: Option<&Path>,
    data: Option<&[PathBuf]>,
    as_of_arg: Option<&str>,
    format: Format,
) -> u8 {
    let as_of = match as_of(as_of_arg, format) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let default_law = PathBuf::from("stdlib/mail");
    let law = law
        .map(Path::to_path_buf)
        .or_else(|| default_law.is_dir().then_some(default_law));
    let engine = match &law {
        // One expression is evaluated by the interpreter: compiling it would cost more.
        Some(l) => match load_engine(l, data, format, EngineKind::Interp) {
            Ok(e) => e,
            Err(code) => return code,
        },
        None => match Engine::from_parts(
            Default::default(),
            Vec::new(),
            SourceDb::new(),
            EngineKind::Interp,
        ) {
            Ok(e) => e,
            Err(m) => return fail(format, "internal", &m, None),
        },
    };
    let mut db = SourceDb::new();
    let e = match driver::compile_expr(&mut db, engine.program(), src) {
        Ok(e) => e,
        Err(diags) => return report(&db, &diags, format).max(INPUT),
    };
    let program = engine.program();
    let snapshot = engine.snapshot();
    let selected = norm_runtime::decision::select_data(program, snapshot.data(), as_of);
    let mut env = norm_runtime::interp::Env::with_modules(program, Vec::new(), &selected);
    env.as_of = Some(as_of);
    match env.eval(&e) {
        Ok(v) => {
            match format {
                Format::Text => outln!("{}", program.types.show_value(&v)),
                Format::Json => print_json(&json!({
                    "value": norm_runtime::facts::to_json(&program.types, &v),
                    "type": program.types.show(&e.ty),
                })),
            }
            OK
        }
        Err(err) => {
            let mut d = Diagnostic::error("E0400", format!("evaluation failed: {}", err.message));
            if let Some(s) = err.span {
                d = d.at(s, "here");
            }
            report(&db, &[d], format).max(INPUT)
        }
    }
}

pub fn schema(law: &Path) -> u8 {
    if let Some(code) = missing_paths(&[law.to_path_buf()], Format::Text) {
        return code;
    }
    let c = driver::compile_law(&FsLoader, &[law.to_path_buf()], None);
    let code = report(&c.db, &c.diagnostics, Format::Text);
    match &c.program {
        Some(p) if code == OK => {
            print_json(&norm_runtime::schema::facts_schema(p));
            OK
        }
        _ => INPUT,
    }
}
