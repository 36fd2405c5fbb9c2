//! Issue 13's figures: installing signed Negative Lists into a running engine with the whole
//! stdlib, under load on every core, and `norm diff` over 100,000 generated cases.
//!
//! - **install**: 1,000 packages of `negative_list` (signed, verified against a trust store,
//!   checked against the stdlib's schema), installed one after another while every core
//!   decides a case. Versions alternate between a list with `medical_diagnosis` and one
//!   without, and the case is a medical diagnosis system, so each Decision can be checked: the
//!   `negative_list` version it records must be the one its `on_negative_list` value came from.
//!   A decision that fails, or whose recorded version and value disagree (a torn read), is
//!   counted. Timed: `Engine::install` per package (verify + check + repack + swap), and
//!   `modules::open` alone (verify + check), so the difference is the snapshot's build and swap.
//! - **diff**: the examples' facts, repeated to 100,000 lines with dates spread over a year,
//!   decided before and after a Negative List that adds a category.

use norm_compiler::date::Date;
use norm_runtime::engine::{DecideOptions, Engine, EngineKind, EngineOptions, InstallOptions};
use norm_runtime::modules::{self, Package, TrustStore, keys};
use norm_runtime::{FsLoader, facts};
use serde_json::Value as Json;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const INSTALLS: usize = 1_000;
const DIFF_CASES: usize = 100_000;

fn die(msg: String) -> ! {
    eprintln!("norm-bench: {msg}");
    std::process::exit(1)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

fn fmt_us(s: f64) -> String {
    if s < 1e-3 {
        format!("{:.1} µs", s * 1e6)
    } else {
        format!("{:.2} ms", s * 1e3)
    }
}

/// A stdlib module's source under another version, effective 2026-06-01: its header line
/// rewritten, its content as the stdlib has it (so the benchmark follows the stdlib's schemas).
pub(crate) fn reversion(source: &str, name: &str, k: usize) -> String {
    let mut out = String::new();
    let mut done = false;
    for line in source.lines() {
        if !done
            && line
                .trim_start()
                .starts_with(&format!("data {name} version"))
        {
            out.push_str(&format!(
                "data {name} version \"2027.{k}\" effective 2026-06-01 {{\n"
            ));
            done = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

pub struct Figures {
    pub rows: Vec<(String, String, String)>,
    /// Median time to the swap of an install (seconds), and failed + torn decisions.
    pub install: Option<(f64, u64)>,
    /// `norm serve` under load during 1,000 installs: failed requests, torn decisions.
    pub serve: Option<(u64, u64)>,
}

pub fn install(root: &Path) -> Figures {
    let mail = root.join("stdlib/mail");
    let data_dir = root.join("stdlib/data");
    let plain = Engine::load_with(
        &FsLoader,
        std::slice::from_ref(&mail),
        Some(std::slice::from_ref(&data_dir)),
        EngineKind::Jit,
    )
    .unwrap_or_else(|e| die(e.render()));
    let program = plain.program().clone();
    // Sign the stdlib's own modules and 1,000 Negative Lists with one publisher key, trusted
    // for every data schema of the law.
    let key = keys::generate().unwrap_or_else(|e| die(e.to_string()));
    let schemas: Vec<&str> = program.schemas.iter().map(|s| s.name.as_str()).collect();
    let store = TrustStore::parse(
        &serde_json::json!({"keys": [{
            "public_key": keys::public_line(&key.verifying_key()),
            "modules": schemas,
        }]})
        .to_string(),
    )
    .unwrap_or_else(|e| die(e.to_string()));
    let mut base = Vec::new();
    for f in modules::module_files(std::slice::from_ref(&data_dir))
        .unwrap_or_else(|e| die(e.to_string()))
    {
        let src = std::fs::read_to_string(&f).unwrap_or_else(|e| die(format!("{e}")));
        let p = Package::sign(&program, &src, &key, "2026-01-01T00:00:00Z")
            .unwrap_or_else(|e| die(format!("{}: {e}", f.display())));
        base.push(p.to_bytes());
    }
    let refs: Vec<&[u8]> = base.iter().map(Vec::as_slice).collect();
    let engine = Engine::open(
        &FsLoader,
        std::slice::from_ref(&mail),
        Some(&[]),
        EngineOptions {
            kind: EngineKind::Jit,
            trust: Some(store.clone()),
        },
    )
    .unwrap_or_else(|e| die(e.to_string()));
    engine
        .install_all(&refs, &InstallOptions::default())
        .unwrap_or_else(|e| die(format!("the stdlib's modules: {e}")));
    let first = engine.snapshot();
    let read = |name: &str| {
        std::fs::read_to_string(data_dir.join(format!("{name}.norm")))
            .unwrap_or_else(|e| die(format!("stdlib/data/{name}.norm: {e}")))
    };
    let (list, thresholds) = (read("negative_list"), read("thresholds"));
    let sign = |src: &str| {
        Package::sign(&program, src, &key, "2026-01-01T00:00:00Z")
            .unwrap_or_else(|e| die(format!("{e}")))
            .to_bytes()
    };
    // 1,000 Negative Lists, and 1,000 thresholds whose foundation-model threshold alternates
    // between 1e25 (odd versions: the case's 4e25 FLOPs model is a foundation model) and 1e26.
    let packages: Vec<Vec<u8>> = (1..=INSTALLS)
        .map(|k| sign(&reversion(&list, "negative_list", k)))
        .collect();
    let threshold_packages: Vec<Vec<u8>> = (1..=INSTALLS)
        .map(|k| {
            let src = reversion(&thresholds, "thresholds", k);
            let src = if k % 2 == 0 {
                src.replace("1e25", "1e26")
            } else {
                src
            };
            sign(&src)
        })
        .collect();
    // The case: a foreign foundation-model developer (4e25 FLOPs).
    let json: Json = serde_json::from_str(
        &std::fs::read_to_string(root.join("examples/foreign_foundation_developer.json"))
            .unwrap_or_else(|e| die(format!("examples/foreign_foundation_developer.json: {e}"))),
    )
    .unwrap_or_else(|e| die(format!("{e}")));
    let values = facts::read_facts(engine.program(), &json)
        .unwrap_or_else(|e| die(format!("the case's facts: {e:?}")));
    let as_of = Date::parse("2026-12-01").unwrap_or(Date::EPOCH);

    // Verification alone (no engine): what part of an install it is.
    let mut open_times: Vec<f64> = packages
        .iter()
        .map(|p| {
            let t = Instant::now();
            let r = modules::open(p, engine.program(), Some(&store));
            let s = t.elapsed().as_secs_f64();
            if let Err(e) = r {
                die(e.to_string())
            }
            s
        })
        .collect();
    open_times.sort_by(f64::total_cmp);

    // 1,000 Negative Lists installed one after another, nothing else running: the time to the
    // swap of one install.
    let quiet = Engine::open(
        &FsLoader,
        std::slice::from_ref(&mail),
        Some(&[]),
        EngineOptions {
            kind: EngineKind::Jit,
            trust: Some(store.clone()),
        },
    )
    .unwrap_or_else(|e| die(e.to_string()));
    quiet
        .install_all(&refs, &InstallOptions::default())
        .unwrap_or_else(|e| die(format!("the stdlib's modules: {e}")));
    let mut quiet_times: Vec<f64> = packages
        .iter()
        .map(|p| {
            let t = Instant::now();
            if let Err(e) = quiet.install(p, &InstallOptions::default()) {
                die(format!("install: {e}"));
            }
            t.elapsed().as_secs_f64()
        })
        .collect();
    quiet_times.sort_by(f64::total_cmp);
    drop(quiet);

    // One decision on one thread, for scale.
    let t = Instant::now();
    let mut one = 0u32;
    while t.elapsed() < Duration::from_millis(300) {
        let _ = engine.decide_values(values.clone(), as_of, DecideOptions::default());
        one += 1;
    }
    let one_decision = t.elapsed().as_secs_f64() / f64::from(one.max(1));

    // Decisions per second on every core, first without installs (the baseline) …
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let run = |installing: bool| -> (f64, u64, u64, u64, Vec<f64>) {
        let stop = Arc::new(AtomicBool::new(false));
        let (done, failed, torn) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
        );
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (engine, values, stop) = (engine.clone(), values.clone(), stop.clone());
                let (done, failed, torn) = (done.clone(), failed.clone(), torn.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match engine.decide_values(values.clone(), as_of, DecideOptions::default())
                        {
                            Err(_) => {
                                failed.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(d) => {
                                let version = |name: &str| {
                                    d.data
                                        .iter()
                                        .find(|m| m.name == name)
                                        .map(|m| m.version.clone())
                                        .unwrap_or_default()
                                };
                                let (list, th) = (version("negative_list"), version("thresholds"));
                                let k: Option<usize> =
                                    th.strip_prefix("2027.").and_then(|k| k.parse().ok());
                                // Installed together, recorded together: the same K, or
                                // both the stdlib's own; and the value decided is the one
                                // version K gives (the stdlib's threshold is 1e25).
                                let same = match k {
                                    Some(k) => list == format!("2027.{k}"),
                                    None => !list.starts_with("2027."),
                                };
                                let expected = k.is_none_or(|k| k % 2 == 1);
                                let foundation =
                                    d.values.get("foundation_model") == Some(&Json::Bool(true));
                                if !same || foundation != expected {
                                    torn.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        let start = Instant::now();
        let mut install_times = Vec::new();
        if installing {
            for (p, q) in packages.iter().zip(&threshold_packages) {
                let t = Instant::now();
                // Both modules, one swap.
                if let Err(e) = engine.install_all(&[p, q], &InstallOptions::default()) {
                    die(format!("install: {e}"));
                }
                install_times.push(t.elapsed().as_secs_f64());
            }
        } else {
            std::thread::sleep(Duration::from_millis(500));
        }
        let elapsed = start.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            let _ = w.join();
        }
        let n = done.load(Ordering::Relaxed);
        install_times.sort_by(f64::total_cmp);
        (
            n as f64 / elapsed,
            n,
            failed.load(Ordering::Relaxed),
            torn.load(Ordering::Relaxed),
            install_times,
        )
    };
    let (base_rate, _, base_failed, base_torn, _) = run(false);
    let (rate, n, failed, torn, times) = run(true);
    if base_failed + base_torn > 0 {
        die(format!(
            "without installs: {base_failed} failed, {base_torn} torn decisions"
        ));
    }
    let snapshot = engine.snapshot();
    let total: f64 = times.iter().sum();
    let open_median = pct(&open_times, 0.5);
    let quiet_median = pct(&quiet_times, 0.5);
    let rows = vec![
        (
            format!("install a Negative List (stdlib), {INSTALLS}× one after another"),
            format!(
                "{} median {} p99",
                fmt_us(quiet_median),
                fmt_us(pct(&quiet_times, 0.99))
            ),
            "from bytes to the swap: verify + check + repack + swap".to_string(),
        ),
        (
            "  of which verify + check (modules::open)".to_string(),
            format!(
                "{} median {} p99",
                fmt_us(open_median),
                fmt_us(pct(&open_times, 0.99))
            ),
            "ed25519, SHA-256, fingerprint, the compiler's check".to_string(),
        ),
        (
            "  of which snapshot build + swap".to_string(),
            format!("{} median", fmt_us((quiet_median - open_median).max(0.0))),
            match (first.jit(), snapshot.jit()) {
                (Some(a), Some(b)) if a.shares_code_with(b) => {
                    "machine code shared by every snapshot: compiled once".to_string()
                }
                _ => "machine code NOT shared: recompiled".to_string(),
            },
        ),
        (
            "one Decision (stdlib, decide_values, one thread)".to_string(),
            fmt_us(one_decision),
            "the case: examples/foreign_foundation_developer.json".to_string(),
        ),
        (
            format!("decisions/s on {threads} threads, no installs"),
            format!("{base_rate:.0}"),
            "the baseline".to_string(),
        ),
        (
            format!("decisions/s on {threads} threads, during {INSTALLS} installs"),
            format!("{rate:.0}"),
            format!(
                "{n} decisions in {total:.2} s: {failed} failed, {torn} torn (list + thresholds, one swap each, {} median)",
                fmt_us(pct(&times, 0.5))
            ),
        ),
    ];
    if failed + torn > 0 {
        eprintln!("norm-bench: {failed} failed and {torn} torn decisions during installs");
    }
    Figures {
        rows,
        install: Some((quiet_median, failed + torn)),
        serve: None,
    }
}

pub fn diff(root: &Path) -> Figures {
    let mail = root.join("stdlib/mail");
    let data_dir = root.join("stdlib/data");
    let load = || {
        Engine::load_with(
            &FsLoader,
            std::slice::from_ref(&mail),
            Some(std::slice::from_ref(&data_dir)),
            EngineKind::Jit,
        )
        .unwrap_or_else(|e| die(e.render()))
    };
    let (before, after) = (load(), load());
    // The new list: the stdlib's, as a new version effective 2026-06-01, with the thresholds'
    // foundation-model threshold raised to 1e26 installed beside it (so that some cases change).
    let read = |name: &str| {
        std::fs::read_to_string(data_dir.join(format!("{name}.norm")))
            .unwrap_or_else(|e| die(format!("stdlib/data/{name}.norm: {e}")))
    };
    let list = reversion(&read("negative_list"), "negative_list", 1);
    let th = reversion(&read("thresholds"), "thresholds", 1).replace("1e25", "1e26");
    if let Err(e) = after.install_all(
        &[list.as_bytes(), th.as_bytes()],
        &InstallOptions::default(),
    ) {
        die(format!("diff: {e}"));
    }
    let mut examples: Vec<Json> = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(root.join("examples"))
        .unwrap_or_else(|e| die(format!("examples: {e}")))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for f in files {
        if let Ok(Ok(j)) = std::fs::read_to_string(&f).map(|t| serde_json::from_str::<Json>(&t)) {
            examples.push(j);
        }
    }
    if examples.is_empty() {
        die("no examples".into());
    }
    let start_day = Date::parse("2026-06-01").unwrap_or(Date::EPOCH);
    let mut corpus = String::new();
    for i in 0..DIFF_CASES {
        let mut case = examples
            .get(i % examples.len())
            .cloned()
            .unwrap_or(Json::Null);
        let day = start_day.add_days((i % 200) as i64).unwrap_or(start_day);
        if let Json::Object(o) = &mut case {
            o.insert("as_of".into(), Json::String(day.to_string()));
        }
        corpus.push_str(&case.to_string());
        corpus.push('\n');
    }
    let t = Instant::now();
    let r = norm_runtime::diff::diff(&before, &after, &corpus, start_day, &|| {});
    let s = t.elapsed().as_secs_f64();
    let threads = rayon_threads();
    Figures {
        rows: vec![(
            format!("norm diff, {DIFF_CASES} cases (stdlib, JIT)"),
            format!("{:.0} cases/s", DIFF_CASES as f64 / s),
            format!(
                "{:.2} s on {threads} threads; {} affected, {} not decided",
                s,
                r.affected,
                r.errors.len(),
            ),
        )],
        install: None,
        serve: None,
    }
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub fn print(title: &str, figures: &[Figures]) {
    println!("\n== {title} ==");
    for f in figures {
        for (name, figure, note) in &f.rows {
            println!("{name:<58} {figure:>24}   {note}");
        }
    }
}
