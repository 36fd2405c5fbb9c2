//! `norm diff LAW --cases FILE.jsonl (--data-new DIR | --law-new DIR)`: the impact of a new data
//! module or law version over a corpus of cases, before it is published. The comparison is
//! `norm_runtime::diff`; this file builds the two engines, shows progress on a terminal and
//! prints.

use crate::output::{INPUT, OK, fail, print_json, report};
use crate::{EngineKind, Format};
use norm_compiler::date::Date;
use norm_compiler::driver;
use norm_runtime::diff::{self, CaseImpact, Counts, NormRef, Report};
use norm_runtime::{Engine, FsLoader};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("new").required(true).args(["data_new", "law_new"])))]
pub struct DiffArgs {
    /// The law as it is: a directory or a file
    law: PathBuf,
    /// The corpus: one facts object per line (JSONL), each optionally with its own `as_of`
    #[arg(long)]
    cases: PathBuf,
    /// New data modules (files or directories), over the law's data: each replaces the
    /// version of the same module with the same effective date, or is added beside the others
    #[arg(long, value_name = "DIR")]
    data_new: Option<Vec<PathBuf>>,
    /// A new version of the law, decided with the same data
    #[arg(long, value_name = "DIR")]
    law_new: Option<PathBuf>,
    /// The data as it is (default: the `data` directory beside the law)
    #[arg(long)]
    data: Option<Vec<PathBuf>>,
    /// Decide cases without an `as_of` of their own as of this date (default: the day the new
    /// version is fully in force, else today)
    #[arg(long)]
    as_of: Option<String>,
    #[arg(long, value_enum, default_value = "jit")]
    engine: EngineKind,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// In text, list at most this many affected cases (JSON lists all)
    #[arg(long, default_value = "20")]
    show: usize,
}

fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Date::from_days(i64::try_from(secs / 86_400).unwrap_or(0)).unwrap_or(Date::EPOCH)
}

fn kind(k: EngineKind) -> norm_runtime::EngineKind {
    match k {
        EngineKind::Jit => norm_runtime::EngineKind::Jit,
        EngineKind::Interp => norm_runtime::EngineKind::Interp,
    }
}

/// The two engines: the law as it is, and with the new version (each with its own sources,
/// so that an error is located in the right file).
fn engines(a: &DiffArgs) -> Result<(Engine, Engine), u8> {
    let f = a.format;
    let k = kind(a.engine);
    let law = std::slice::from_ref(&a.law);
    let before = Engine::load_with(&FsLoader, law, a.data.as_deref(), k)
        .map_err(|e| report(&e.db, &e.diagnostics, f).max(INPUT))?;
    let mut c = driver::compile_law(&FsLoader, law, a.data.as_deref());
    let Some(program) = c.program.take() else {
        return Err(report(&c.db, &c.diagnostics, f).max(INPUT));
    };
    if let Some(new_law) = &a.law_new {
        // The same data, by the same rule: the files the law as it is was decided with.
        let data_paths: Vec<PathBuf> = match &a.data {
            Some(d) => d.clone(),
            None => c
                .data_files
                .iter()
                .map(|file| PathBuf::from(c.db.name(file.id)))
                .collect(),
        };
        let after = Engine::load_with(
            &FsLoader,
            std::slice::from_ref(new_law),
            Some(&data_paths),
            k,
        )
        .map_err(|e| report(&e.db, &e.diagnostics, f).max(INPUT))?;
        return Ok((before, after));
    }
    let new_data = a.data_new.clone().unwrap_or_default();
    // The new modules, checked against the law, over the data as it is.
    let (fresh, diags) = driver::load_data(&FsLoader, &program, &mut c.db, &new_data);
    if diags
        .iter()
        .any(norm_compiler::diagnostic::Diagnostic::is_error)
    {
        return Err(report(&c.db, &diags, f).max(INPUT));
    }
    if fresh.is_empty() {
        return Err(fail(f, "input", "--data-new holds no data module", None));
    }
    let mut overlaid = c.data;
    for m in fresh {
        overlaid.retain(|o| !(o.name == m.name && o.effective == m.effective));
        overlaid.push(m);
    }
    let after = Engine::from_parts(program, overlaid, c.db, k)
        .map_err(|m| fail(f, "internal", &m, None))?;
    Ok((before, after))
}

pub fn run(a: &DiffArgs) -> u8 {
    let f = a.format;
    for p in [Some(&a.law), Some(&a.cases), a.law_new.as_ref()]
        .into_iter()
        .flatten()
        .chain(a.data_new.iter().flatten())
        .chain(a.data.iter().flatten())
    {
        if !p.exists() {
            return fail(
                f,
                "io",
                &format!("no such file or directory: `{}`", p.display()),
                None,
            );
        }
    }
    let explicit = match a.as_of.as_deref().map(|s| (s, Date::parse(s))) {
        None => None,
        Some((_, Some(d))) => Some(d),
        Some((s, None)) => {
            return fail(
                f,
                "input",
                &format!("invalid --as-of date `{s}`: expected YYYY-MM-DD"),
                None,
            );
        }
    };
    let corpus = match std::fs::read(&a.cases).map(String::from_utf8) {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => {
            let (line, col) = position(e.as_bytes(), e.utf8_error().valid_up_to());
            return fail(
                f,
                "input",
                &format!(
                    "`{}` is not valid UTF-8 (line {line}, column {col})",
                    a.cases.display()
                ),
                None,
            );
        }
        Err(e) => {
            return fail(
                f,
                "io",
                &format!("cannot read `{}`: {e}", a.cases.display()),
                None,
            );
        }
    };
    let (before, after) = match engines(a) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let as_of = explicit
        .or_else(|| diff::first_day_of(&before, &after))
        .unwrap_or_else(today);
    let total = corpus.lines().filter(|l| !l.trim().is_empty()).count();
    // A progress bar on a terminal only: piped, stderr stays clean.
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(0));
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} cases ({per_sec}, {eta} left)",
        ) {
            b.set_style(style);
        }
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let r = diff::diff(&before, &after, &corpus, as_of, &|| bar.inc(1));
    bar.finish_and_clear();
    match f {
        Format::Json => match serde_json::to_value(&r) {
            Ok(mut v) => {
                if let Some(o) = v.as_object_mut() {
                    o.insert("as_of".into(), as_of.to_string().into());
                }
                print_json(&v)
            }
            Err(e) => return fail(f, "internal", &e.to_string(), None),
        },
        Format::Text => print_text(&r, as_of, a.show, &a.cases),
    }
    if r.errors.is_empty() { OK } else { INPUT }
}

fn position(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = bytes.get(..offset).unwrap_or(bytes);
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line, col)
}

fn cite(n: &NormRef) -> String {
    let mut s = format!("{} {} (Art. {})", n.kind, n.id, n.article);
    for p in [&n.addressee, &n.party].into_iter().flatten() {
        s.push_str(&format!(" {p}"));
    }
    s
}

fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(o) if o.contains_key("amount") => format!(
            "{} {}",
            o.get("amount").map(show).unwrap_or_default(),
            o.get("currency").map(show).unwrap_or_default()
        ),
        other => other.to_string(),
    }
}

fn print_case(i: &CaseImpact) {
    let id = i.id.as_ref().map(|s| format!(" ({s})")).unwrap_or_default();
    outln!("line {}{id}, as of {}:", i.line, i.as_of);
    if let Some(e) = &i.before_error {
        outln!("  before: not decided: {e}");
    }
    if let Some(e) = &i.after_error {
        outln!("  after: not decided: {e}");
    }
    for n in &i.gained {
        outln!("  + {}", cite(n));
    }
    for n in &i.lost {
        outln!("  - {}", cite(n));
    }
    for c in &i.changed {
        let fields: Vec<String> = c
            .changes
            .iter()
            .map(|ch| format!("{} {} → {}", ch.field, show(&ch.before), show(&ch.after)))
            .collect();
        outln!("  ~ {}: {}", cite(&c.norm), fields.join(", "));
    }
}

fn print_summary(title: &str, label: &str, map: &BTreeMap<String, Counts>) {
    if map.is_empty() {
        return;
    }
    outln!("{title}:");
    let mut rows: Vec<(&String, &Counts)> = map.iter().collect();
    // Articles in their numeric order.
    rows.sort_by(|a, b| norm_runtime::modules::compare_versions(a.0, b.0));
    for (k, c) in rows {
        let name = format!("{label}{k}");
        outln!(
            "  {name:<16} +{} gained  -{} lost  ~{} changed  ({} case{})",
            c.gained,
            c.lost,
            c.changed,
            c.cases,
            if c.cases == 1 { "" } else { "s" }
        );
    }
}

fn print_text(r: &Report, as_of: Date, limit: usize, cases: &Path) {
    for e in &r.errors {
        eprintln!(
            "error: {}:{}: not decided: {}",
            cases.display(),
            e.line,
            e.message
        );
    }
    outln!(
        "{} cases (as of {as_of} unless a case says otherwise): {} affected, {} not decided",
        r.cases,
        r.affected,
        r.errors.len()
    );
    for i in r.impacts.iter().take(limit) {
        print_case(i);
    }
    if r.impacts.len() > limit {
        outln!(
            "… and {} more affected cases (--show N, or --format json for all)",
            r.impacts.len() - limit
        );
    }
    if !r.impacts.is_empty() {
        outln!();
        print_summary("By article", "Art. ", &r.summary.by_article);
        print_summary("By addressee", "", &r.summary.by_addressee);
    }
}
