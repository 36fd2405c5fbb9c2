//! The side-by-side benchmark of issue 3: one run, one table. See bench/README.md.
//!
//! `cargo run --release --manifest-path bench/Cargo.toml` from the repository root.

mod cedar_slice;
mod hand;
mod modules;
mod rego_slice;
mod serve;

use norm_compiler::date::Date;
use norm_compiler::driver;
use norm_compiler::ir::{DataModule, Program};
use norm_compiler::value::Value as NValue;
use norm_runtime::decision::{evaluate, select_data_index};
use norm_runtime::engine::{Engine, EngineKind, FsLoader};
use norm_runtime::facts::read_facts;
use norm_runtime::jit::JitProgram;
use norm_runtime::jit::pack::Packed;
use rust_decimal::Decimal;
use serde_json::Value as Json;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const AS_OF: &str = "2026-12-01";

/// One actor of bench/cases, in every engine's input form (built once, outside the timings).
struct Actor {
    name: String,
    json: Json,
    values: Vec<NValue>,
    packed: Packed,
    hand: hand::Case,
    cedar: cedar_slice::CedarCase,
    rego: rego_slice::RegoCase,
}

#[derive(Clone, Copy, Debug)]
struct Stats {
    median: f64,
    p99: f64,
    samples: usize,
    batch: usize,
}

fn secs() -> f64 {
    std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

/// Times `f(actor)` per decision. Each sample is the mean of a batch of `k` consecutive
/// decisions of one actor (`k` chosen so a batch lasts about 20 µs, so the clock's own cost is
/// negligible); samples rotate over the actors. Median and p99 over the samples, in ns.
fn measure(actors: usize, mut f: impl FnMut(usize)) -> Stats {
    // Warm up: about 10% of the budget, every actor.
    let budget = Duration::from_secs_f64(secs());
    let warm = Instant::now();
    let mut calls = 0u64;
    while warm.elapsed() < budget / 10 {
        for a in 0..actors {
            f(a);
            calls += 1;
        }
    }
    let per_call = warm.elapsed().as_nanos() as f64 / calls.max(1) as f64;
    let batch = ((20_000.0 / per_call.max(1.0)) as usize).clamp(1, 100_000);
    let mut samples = Vec::new();
    let start = Instant::now();
    let mut s = 0usize;
    while start.elapsed() < budget || samples.len() < 200 {
        let a = s % actors;
        let t = Instant::now();
        for _ in 0..batch {
            f(a);
        }
        samples.push(t.elapsed().as_nanos() as f64 / batch as f64);
        s += 1;
    }
    samples.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let i = ((samples.len() - 1) as f64 * p).round() as usize;
        samples.get(i).copied().unwrap_or(f64::NAN)
    };
    Stats {
        median: q(0.5),
        p99: q(0.99),
        samples: samples.len(),
        batch,
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.1} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{:.2} ms", ns / 1_000_000.0)
    }
}

fn fmt_ratio(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}×")
    } else if x >= 10.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.2}×")
    }
}

fn die(msg: String) -> ! {
    eprintln!("norm-bench: {msg}");
    std::process::exit(1)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

fn read_json(p: &Path) -> Json {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| die(format!("{}: {e}", p.display())));
    serde_json::from_str(&text).unwrap_or_else(|e| die(format!("{}: {e}", p.display())))
}

/// The data values the slice reads, taken from the Norm data modules so every engine gets the
/// same values.
fn slice_data(program: &Program, modules: &[DataModule], as_of: Date) -> hand::Data {
    let mut d = hand::Data {
        negative_list: 0,
        foundation_model_flops: Decimal::ZERO,
    };
    for i in select_data_index(program, modules, as_of)
        .into_iter()
        .flatten()
    {
        let Some(m) = modules.get(i) else { continue };
        match (m.name.as_str(), m.values.first()) {
            ("negative_list", Some(NValue::Set(items))) => {
                for v in items.iter() {
                    if let NValue::Enum(e, k) = v {
                        let name = program
                            .types
                            .enums
                            .get(*e as usize)
                            .and_then(|e| e.variants.get(*k as usize));
                        if let Some(c) = name.and_then(|n| hand::Category::parse(n)) {
                            d.negative_list |= 1 << c as u32;
                        }
                    }
                }
            }
            ("thresholds", Some(NValue::Decimal(x))) => d.foundation_model_flops = *x,
            _ => {}
        }
    }
    d
}

fn decision_bits(d: &norm_runtime::decision::Decision) -> u32 {
    let ids = d
        .norms
        .iter()
        .map(|n| n.id.as_str())
        .chain(d.penalties.iter().map(|p| p.id.as_str()))
        .chain(d.warnings.iter().map(|w| w.id.as_str()));
    ids.fold(0, |acc, id| acc | hand::bit(id).unwrap_or(1 << 31))
}

fn money(j: &Json) -> Option<Decimal> {
    let s = match j {
        Json::Object(o) => o.get("amount")?.as_str()?.to_string(),
        Json::String(s) => s.clone(),
        Json::Number(n) => n.to_string(),
        _ => return None,
    };
    s.parse().ok()
}

fn decision_fine(d: &norm_runtime::decision::Decision, id: &str) -> Option<(Decimal, Decimal)> {
    let p = d.penalties.iter().find(|p| p.id == id)?;
    Some((money(&p.min)?, money(&p.max)?))
}

fn names(bits: u32) -> String {
    hand::NORMS
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

struct Row {
    name: String,
    stats: Stats,
    note: String,
}

fn main() {
    let root = root();
    // Issue 13's rows alone: BENCH_ONLY=install or BENCH_ONLY=diff; the stdlib's rows alone:
    // BENCH_ONLY=stdlib.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only == "serve" {
        modules::print("norm serve under load (issue 14)", &[serve::serve(&root)]);
        return;
    }
    if matches!(only.as_str(), "install" | "diff" | "modules") {
        let mut figures = Vec::new();
        if only != "diff" {
            figures.push(modules::install(&root));
        }
        if only != "install" {
            figures.push(modules::diff(&root));
        }
        modules::print("data modules (issue 13)", &figures);
        return;
    }
    let as_of = Date::parse(AS_OF).unwrap_or_else(|| die("bad date".into()));
    let slice_dir = root.join("bench/slice");
    println!("norm-bench: the side-by-side benchmark of issue 3 (bench/README.md)");

    // ---- The slice, in every engine. ----
    let jit_engine = Engine::load_with(
        &FsLoader,
        std::slice::from_ref(&slice_dir),
        None,
        EngineKind::Jit,
    )
    .unwrap_or_else(|e| die(e.render()));
    let interp_engine = Engine::load_with(
        &FsLoader,
        std::slice::from_ref(&slice_dir),
        None,
        EngineKind::Interp,
    )
    .unwrap_or_else(|e| die(e.render()));
    let program = jit_engine.program();
    let jit_snapshot = jit_engine.snapshot();
    let modules = jit_snapshot.data();
    let jit = jit_snapshot
        .jit()
        .unwrap_or_else(|| die("no JIT program".into()));
    let data = slice_data(program, modules, as_of);
    let selected = select_data_index(program, modules, as_of);
    // norm index in the program, per bit of hand::NORMS
    let norm_index: Vec<usize> = hand::NORMS
        .iter()
        .map(|id| {
            program
                .norms
                .iter()
                .position(|n| n.id == *id)
                .unwrap_or_else(|| die(format!("norm {id} is not in bench/slice")))
        })
        .collect();
    if program.norms.len() != hand::NORMS.len() {
        die(format!(
            "bench/slice has {} norms, hand.rs {}",
            program.norms.len(),
            hand::NORMS.len()
        ));
    }
    let cedar_src = std::fs::read_to_string(root.join("bench/cedar/slice.cedar"))
        .unwrap_or_else(|e| die(format!("slice.cedar: {e}")));
    let cedar = cedar_slice::CedarSlice::load(&cedar_src).unwrap_or_else(|e| die(e));
    let rego_src = std::fs::read_to_string(root.join("bench/rego/slice.rego"))
        .unwrap_or_else(|e| die(format!("slice.rego: {e}")));
    let rego = rego_slice::RegoSlice::load(&rego_src, &data).unwrap_or_else(|e| die(e));

    let mut case_files: Vec<PathBuf> = std::fs::read_dir(root.join("bench/cases"))
        .unwrap_or_else(|e| die(format!("bench/cases: {e}")))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    case_files.sort();
    let mut actors: Vec<Actor> = Vec::new();
    for p in &case_files {
        let name = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let json = read_json(p);
        let values =
            read_facts(program, &json).unwrap_or_else(|e| die(format!("{name}: facts: {e:?}")));
        let packed = jit
            .pack_facts(&values)
            .unwrap_or_else(|| die(format!("{name}: facts do not pack")));
        let hand = hand::Case::from_json(&json).unwrap_or_else(|e| die(format!("{name}: {e}")));
        let cedar_case = cedar
            .case(&hand, &data)
            .unwrap_or_else(|e| die(format!("{name}: cedar: {e}")));
        let rego_case = rego
            .case(&hand)
            .unwrap_or_else(|e| die(format!("{name}: rego: {e}")));
        actors.push(Actor {
            name,
            json,
            values,
            packed,
            hand,
            cedar: cedar_case,
            rego: rego_case,
        });
    }
    let n = actors.len();

    // ---- Agreement: every engine, every actor, the same norms and fines. ----
    let mut out = Vec::new();
    let jit_raw_bits = |out: &mut Vec<u64>, a: &Actor| -> u32 {
        if let Err(e) = jit.run_applies(program, modules, &a.packed, &selected, as_of, out) {
            die(format!("{}: JIT: {e:?}", a.name));
        }
        let mut bits = 0u32;
        for (k, &i) in norm_index.iter().enumerate() {
            bits |= (jit.applies_in(out, i) as u32) << k;
        }
        bits
    };
    let interp_raw_bits = |a: &Actor| -> u32 {
        let o = evaluate(program, a.values.clone(), modules, as_of)
            .unwrap_or_else(|e| die(format!("{}: interpreter: {}", a.name, e.message)));
        let mut bits = 0u32;
        for (k, &i) in norm_index.iter().enumerate() {
            bits |= ((o.applies.get(i) == Some(&true)) as u32) << k;
        }
        bits
    };
    println!("\nactors (bench/cases), as of {AS_OF}: the norms that apply, agreed by all engines");
    for a in actors.iter_mut() {
        let h = hand::decide(&a.hand, &data);
        let jd = jit_engine
            .decide(&a.json, as_of, norm_runtime::DecideOptions::default())
            .unwrap_or_else(|e| die(format!("{}: {e:?}", a.name)));
        let id = interp_engine
            .decide(&a.json, as_of, norm_runtime::DecideOptions::default())
            .unwrap_or_else(|e| die(format!("{}: {e:?}", a.name)));
        let ce = cedar.errors(&a.cedar);
        if !ce.is_empty() {
            die(format!("{}: cedar errors: {ce:?}", a.name));
        }
        let ri = a
            .rego
            .interp()
            .unwrap_or_else(|e| die(format!("{}: regorus: {e}", a.name)));
        let rv = a
            .rego
            .rvm()
            .unwrap_or_else(|e| die(format!("{}: regorus RVM: {e}", a.name)));
        let got = [
            ("JIT raw", jit_raw_bits(&mut out, a)),
            ("JIT Decision", decision_bits(&jd)),
            ("interpreter raw", interp_raw_bits(a)),
            ("interpreter Decision", decision_bits(&id)),
            ("cedar-policy", cedar.decide(&a.cedar)),
            ("regorus", rego_slice::applies(&ri)),
            ("regorus RVM", rego_slice::applies(&rv)),
        ];
        for (engine, bits) in got {
            if bits != h.applies {
                die(format!(
                    "{}: {engine} disagrees with hand-written Rust:\n  {engine}: {}\n  hand: {}",
                    a.name,
                    names(bits),
                    names(h.applies)
                ));
            }
        }
        for (pen, hf) in [
            ("refusal_to_rectify", h.refusal_fine),
            ("serious_violation", h.serious_fine),
        ] {
            let fines = [
                ("JIT Decision", decision_fine(&jd, pen)),
                ("interpreter Decision", decision_fine(&id, pen)),
                ("regorus", rego_slice::fine(&ri, pen)),
                ("regorus RVM", rego_slice::fine(&rv, pen)),
            ];
            for (engine, f) in fines {
                if f != hf {
                    die(format!(
                        "{}: {engine} fine of {pen} {f:?}, hand-written {hf:?}",
                        a.name
                    ));
                }
            }
        }
        let fine = match (h.refusal_fine, h.serious_fine) {
            (_, Some((lo, hi))) | (Some((lo, hi)), None) => {
                format!("; fine {}–{} CNY", lo.normalize(), hi.normalize())
            }
            _ => String::new(),
        };
        println!(
            "  {:<34} {:>2} norms: {}{fine}",
            a.name,
            h.applies.count_ones(),
            names(h.applies)
        );
    }
    println!(
        "  all {n} actors: hand-written, JIT (raw, Decision), interpreter (raw, Decision), cedar-policy, regorus (interpreter, RVM) agree"
    );

    // ---- The slice, timed. ----
    let mut rows: Vec<Row> = Vec::new();
    // BENCH_ONLY=<prefix>: time only the rows whose name starts with it (for profiling).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let skip = |name: &str| !name.starts_with(only.as_str());
    let mut row = |name: &str, note: &str, stats: Option<Stats>| {
        let Some(stats) = stats else { return };
        eprintln!("  timed {name}: median {}", fmt_ns(stats.median));
        rows.push(Row {
            name: name.to_string(),
            stats,
            note: note.to_string(),
        });
    };
    row(
        "hand-written Rust",
        "struct built once per actor -> bit set + fines",
        (!skip("hand-written Rust")).then(|| {
            measure(n, |i| {
                if let Some(a) = actors.get(i) {
                    black_box(hand::decide(black_box(&a.hand), black_box(&data)));
                }
            })
        }),
    );
    row(
        "JIT, raw (run_applies + applies_in)",
        "facts packed once per actor -> bit set",
        (!skip("JIT, raw (run_applies + applies_in)")).then(|| {
            measure(n, |i| {
                if let Some(a) = actors.get(i) {
                    black_box(jit_raw_bits(&mut out, black_box(a)));
                }
            })
        }),
    );
    row(
        "JIT, Decision (decide_values)",
        "values.clone() -> Decision, texts on, no explanation",
        (!skip("JIT, Decision (decide_values)")).then(|| {
            measure(n, |i| {
                if let Some(a) = actors.get(i) {
                    let d = jit_engine.decide_values(
                        black_box(a.values.clone()),
                        as_of,
                        norm_runtime::DecideOptions::default(),
                    );
                    black_box(d.is_ok());
                }
            })
        }),
    );
    row(
        "JIT, Decision from JSON (decide)",
        "parsed serde_json facts -> Decision",
        (!skip("JIT, Decision from JSON (decide)")).then(|| {
            measure(n, |i| {
                if let Some(a) = actors.get(i) {
                    black_box(
                        jit_engine
                            .decide(
                                black_box(&a.json),
                                as_of,
                                norm_runtime::DecideOptions::default(),
                            )
                            .is_ok(),
                    );
                }
            })
        }),
    );
    row(
        "interpreter, raw (decision::evaluate)",
        "values.clone() -> applies per norm -> bit set",
        (!skip("interpreter, raw (decision::evaluate)")).then(|| {
            measure(n, |i| {
                if let Some(a) = actors.get(i) {
                    black_box(interp_raw_bits(black_box(a)));
                }
            })
        }),
    );
    row(
        "interpreter, Decision (decide_values)",
        "values.clone() -> Decision, texts on, no explanation",
        (!skip("interpreter, Decision (decide_values)")).then(|| {
            measure(n, |i| {
                if let Some(a) = actors.get(i) {
                    let d = interp_engine.decide_values(
                        black_box(a.values.clone()),
                        as_of,
                        norm_runtime::DecideOptions::default(),
                    );
                    black_box(d.is_ok());
                }
            })
        }),
    );
    row(
        "cedar-policy 4.14.1 (1 is_authorized)",
        "request+entities built once per actor; reason() -> bit set",
        (!skip("cedar-policy 4.14.1 (1 is_authorized)")).then(|| {
            measure(n, |i| {
                if let Some(a) = actors.get(i) {
                    black_box(cedar.decide(black_box(&a.cedar)));
                }
            })
        }),
    );
    row(
        "regorus 0.14.1 interpreter (eval_rule)",
        "input set once per actor; result -> bit set",
        (!skip("regorus 0.14.1 interpreter (eval_rule)")).then(|| {
            measure(n, |i| {
                if let Some(a) = actors.get_mut(i) {
                    let r = a.rego.interp();
                    black_box(r.as_ref().map(rego_slice::applies).unwrap_or(0));
                }
            })
        }),
    );
    row(
        "regorus 0.14.1 RVM bytecode (execute)",
        "program compiled once, input set once per actor; result -> bit set",
        (!skip("regorus 0.14.1 RVM bytecode (execute)")).then(|| {
            measure(n, |i| {
                if let Some(a) = actors.get_mut(i) {
                    let r = a.rego.rvm();
                    black_box(r.as_ref().map(rego_slice::applies).unwrap_or(0));
                }
            })
        }),
    );

    // BENCH_ONLY=stdlib: no slice rows, the whole-stdlib section alone.
    if !only.is_empty() && only != "stdlib" {
        for r in &rows {
            println!(
                "{:<40} {:>10} median {:>10} p99",
                r.name,
                fmt_ns(r.stats.median),
                fmt_ns(r.stats.p99)
            );
        }
        return;
    }

    // ---- The whole stdlib. ----
    let mail = root.join("stdlib/mail");
    let data_dir = root.join("stdlib/data");
    let runs = 20;
    let mut front = Vec::new();
    let mut back = Vec::new();
    let mut both = Vec::new();
    let mut norms_count = 0;
    for _ in 0..runs + 2 {
        let t = Instant::now();
        // As `Engine::load` compiles a law to decide cases: its `test` blocks not checked.
        let mut c = driver::compile_with(&FsLoader, std::slice::from_ref(&mail), false);
        let Some(p) = c.program.take() else {
            die("stdlib/mail does not compile".into())
        };
        let (mut mods, diags) =
            driver::load_data(&FsLoader, &p, &mut c.db, std::slice::from_ref(&data_dir));
        if diags.iter().any(|d| d.is_error()) {
            die("stdlib/data does not load".into());
        }
        let mut all = c.data;
        all.append(&mut mods);
        let t1 = t.elapsed();
        let t2 = Instant::now();
        let j = JitProgram::compile(&p, &all).unwrap_or_else(|e| die(e));
        let t3 = t2.elapsed();
        black_box(&j);
        norms_count = p.norms.len();
        drop(j);
        front.push(t1.as_secs_f64() * 1e3);
        back.push(t3.as_secs_f64() * 1e3);
        both.push((t1 + t3).as_secs_f64() * 1e3);
    }
    let median_ms = |v: &mut Vec<f64>| {
        // the first two runs warm the file cache and the allocator
        let mut w: Vec<f64> = v.iter().skip(2).copied().collect();
        w.sort_by(f64::total_cmp);
        w.get(w.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let (front_ms, back_ms, both_ms) = (
        median_ms(&mut front),
        median_ms(&mut back),
        median_ms(&mut both),
    );

    let sjit = Engine::load_with(
        &FsLoader,
        std::slice::from_ref(&mail),
        Some(std::slice::from_ref(&data_dir)),
        EngineKind::Jit,
    )
    .unwrap_or_else(|e| die(e.render()));
    let sint = Engine::load_with(
        &FsLoader,
        std::slice::from_ref(&mail),
        Some(std::slice::from_ref(&data_dir)),
        EngineKind::Interp,
    )
    .unwrap_or_else(|e| die(e.render()));
    let sprog = sjit.program();
    let s_snapshot = sjit.snapshot();
    let smods = s_snapshot.data();
    let sj = s_snapshot
        .jit()
        .unwrap_or_else(|| die("no JIT program".into()));
    let ssel = select_data_index(sprog, smods, as_of);
    // Each example is decided per party and system (its perspectives): the raw timings run
    // one evaluation of the law per perspective, the Decision timings the whole case.
    let mut raw: Vec<(Vec<NValue>, Packed)> = Vec::new();
    let mut whole: Vec<Vec<NValue>> = Vec::new();
    let mut ex_files: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .unwrap_or_else(|e| die(format!("examples: {e}")))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    ex_files.sort();
    for p in &ex_files {
        let j = read_json(p);
        let Ok(v) = read_facts(sprog, &j) else {
            die(format!("{}: facts do not read", p.display()))
        };
        let a = sjit.decide_values(v.clone(), as_of, norm_runtime::DecideOptions::default());
        let b = sint.decide_values(v.clone(), as_of, norm_runtime::DecideOptions::default());
        match (&a, &b) {
            (Ok(a), Ok(b)) if a == b => {}
            _ => die(format!(
                "{}: the JIT and the interpreter disagree on the stdlib",
                p.display()
            )),
        }
        let views = norm_runtime::subjects::perspectives(sprog, &v)
            .unwrap_or_else(|_| die(format!("{}: no parties", p.display())));
        for view in &views {
            let bound = norm_runtime::subjects::bind(sprog, &v, view);
            let packed = sj
                .pack_facts(&bound)
                .unwrap_or_else(|| die(format!("{}: does not pack", p.display())));
            raw.push((bound, packed));
        }
        whole.push(v);
    }
    let ne = whole.len();
    let nr = raw.len();
    let mut sout = Vec::new();
    let s_jit_raw = measure(nr, |i| {
        if let Some((_, p)) = raw.get(i) {
            black_box(
                sj.run_applies(sprog, smods, black_box(p), &ssel, as_of, &mut sout)
                    .is_ok(),
            );
        }
    });
    let s_int_raw = measure(nr, |i| {
        if let Some((v, _)) = raw.get(i) {
            black_box(evaluate(sprog, black_box(v.clone()), smods, as_of).is_ok());
        }
    });
    let s_jit_dec = measure(ne, |i| {
        if let Some(v) = whole.get(i) {
            black_box(
                sjit.decide_values(
                    black_box(v.clone()),
                    as_of,
                    norm_runtime::DecideOptions::default(),
                )
                .is_ok(),
            );
        }
    });
    let s_int_dec = measure(ne, |i| {
        if let Some(v) = whole.get(i) {
            black_box(
                sint.decide_values(
                    black_box(v.clone()),
                    as_of,
                    norm_runtime::DecideOptions::default(),
                )
                .is_ok(),
            );
        }
    });

    // ---- Peak RSS of `norm eval`. ----
    let rss = peak_rss(&root);

    // ---- The table. ----
    let hand_m = rows.first().map_or(f64::NAN, |r| r.stats.median);
    let jit_m = rows.get(1).map_or(f64::NAN, |r| r.stats.median);
    let by = |name: &str| {
        rows.iter()
            .find(|r| r.name.starts_with(name))
            .map_or(f64::NAN, |r| r.stats.median)
    };
    println!(
        "\n== MAIL slice ({} norms, bench/slice), {n} actors, as of {AS_OF}: time per decision, warm ==",
        hand::NORMS.len()
    );
    println!(
        "{:<40} {:>10} {:>10} {:>9} {:>9}   inside the timed region",
        "row", "median", "p99", "÷hand", "÷JIT raw"
    );
    for r in &rows {
        println!(
            "{:<40} {:>10} {:>10} {:>9} {:>9}   {}",
            r.name,
            fmt_ns(r.stats.median),
            fmt_ns(r.stats.p99),
            fmt_ratio(r.stats.median / hand_m),
            fmt_ratio(r.stats.median / jit_m),
            r.note
        );
    }
    println!(
        "(samples per row: {}; each sample = mean of a batch of 1..{} consecutive decisions of one actor)",
        rows.iter().map(|r| r.stats.samples).min().unwrap_or(0),
        rows.iter().map(|r| r.stats.batch).max().unwrap_or(0),
    );

    println!(
        "\n== whole stdlib (stdlib/mail + stdlib/data: {norms_count} norms), {ne} examples/*.json ({nr} evaluations, one per party and system), as of {AS_OF} =="
    );
    println!(
        "parse+check (driver::compile_with + load_data, tests not checked, as Engine::load)  {:>8.2} ms   median of {runs}",
        front_ms
    );
    println!(
        "JIT (JitProgram::compile)                  {:>8.2} ms   median of {runs}",
        back_ms
    );
    println!(
        "parse+check+JIT                            {:>8.2} ms   median of {runs}",
        both_ms
    );
    for (name, s) in [
        ("JIT, raw (run_applies)", s_jit_raw),
        ("interpreter, raw (evaluate)", s_int_raw),
        ("JIT, Decision (decide_values)", s_jit_dec),
        ("interpreter, Decision (decide_values)", s_int_dec),
    ] {
        println!(
            "{:<42} {:>10} median {:>10} p99",
            name,
            fmt_ns(s.median),
            fmt_ns(s.p99)
        );
    }
    let rss_text = match &rss {
        Ok(kb) => format!("{:.1} MB ({kb} kB)", *kb as f64 / 1024.0),
        Err(e) => e.clone(),
    };
    println!(
        "norm eval peak RSS                         {rss_text}   (/usr/bin/time -v target/release/norm eval stdlib/mail --facts examples/foreign_genai_2m_users.json --as-of {AS_OF})"
    );

    // ---- Targets. ----
    // ---- Issue 13: installing data modules under load, norm diff. ----
    let data_figures = if only.is_empty() {
        vec![modules::install(&root), modules::diff(&root)]
    } else {
        Vec::new()
    };
    if !data_figures.is_empty() {
        modules::print("data modules (issue 13)", &data_figures);
    }
    // ---- Issue 14: norm serve under load (needs the release binary). ----
    let serve_figures = if only.is_empty() && root.join("target/release/norm").is_file() {
        Some(serve::serve(&root))
    } else {
        if only.is_empty() {
            println!(
                "\nnorm serve under load: not measured: target/release/norm is missing (cargo build --release -p norm-cli)"
            );
        }
        None
    };
    if let Some(f) = &serve_figures {
        modules::print("norm serve under load (issue 14)", std::slice::from_ref(f));
    }

    println!("\n== targets (issue 3 / DESIGN §7) ==");
    let fastest_rego = by("regorus 0.14.1 interpreter").min(by("regorus 0.14.1 RVM"));
    let pf = |ok: bool| if ok { "PASS" } else { "MISS" };
    let target = |what: &str, figure: String, goal: &str, ok: bool| {
        println!("{:<62} {:>10}   goal {:<8} {}", what, figure, goal, pf(ok));
    };
    let r = jit_m / hand_m;
    target(
        "JIT raw within 2× of hand-written Rust (slice)",
        fmt_ratio(r),
        "≤ 2×",
        r <= 2.0,
    );
    let r = by("interpreter, raw") / jit_m;
    target(
        "JIT faster than the interpreter, raw vs raw (slice)",
        fmt_ratio(r),
        "≥ 10×",
        r >= 10.0,
    );
    let r = by("interpreter, Decision") / by("JIT, Decision (decide_values)");
    target(
        "JIT faster than the interpreter, Decision vs Decision (slice)",
        fmt_ratio(r),
        "≥ 10×",
        r >= 10.0,
    );
    let r = s_int_raw.median / s_jit_raw.median;
    target(
        "JIT faster than the interpreter, raw vs raw (whole stdlib)",
        fmt_ratio(r),
        "≥ 10×",
        r >= 10.0,
    );
    let r = s_int_dec.median / s_jit_dec.median;
    target(
        "JIT faster than the interpreter, Decision (whole stdlib)",
        fmt_ratio(r),
        "≥ 10×",
        r >= 10.0,
    );
    let r = by("cedar-policy") / jit_m;
    target(
        "JIT raw faster than cedar-policy (slice)",
        fmt_ratio(r),
        "≥ 100×",
        r >= 100.0,
    );
    let r = fastest_rego / jit_m;
    target(
        "JIT raw faster than regorus, fastest path (slice)",
        fmt_ratio(r),
        "≥ 100×",
        r >= 100.0,
    );
    target(
        "stdlib parse+check+JIT",
        format!("{both_ms:.2} ms"),
        "< 50 ms",
        both_ms < 50.0,
    );
    match rss {
        Ok(kb) => target(
            "norm eval peak RSS",
            format!("{:.1} MB", kb as f64 / 1024.0),
            "< 30 MB",
            (kb as f64) < 30.0 * 1024.0,
        ),
        Err(e) => println!("{:<62} {e}", "norm eval peak RSS"),
    }
    if let Some((swap, bad)) = data_figures.iter().find_map(|f| f.install) {
        target(
            "install a Negative List: time to the swap (median)",
            format!("{:.3} ms", swap * 1e3),
            "< 1 ms",
            swap < 1e-3,
        );
        target(
            "failed or torn decisions during 1,000 installs",
            bad.to_string(),
            "0",
            bad == 0,
        );
    }
    if let Some((failed, torn)) = serve_figures.as_ref().and_then(|f| f.serve) {
        target(
            "norm serve: failed requests, torn decisions during 1,000 PUTs",
            format!("{failed}, {torn}"),
            "0, 0",
            failed + torn == 0,
        );
    }
}

/// Peak RSS of `norm eval` in kB, from `/usr/bin/time -v`.
fn peak_rss(root: &Path) -> Result<u64, String> {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        return Err("not measured: /usr/bin/time is missing (apt-get install -y time)".into());
    }
    let norm = root.join("target/release/norm");
    if !norm.exists() {
        return Err(
            "not measured: target/release/norm is missing (cargo build --release -p norm-cli)"
                .into(),
        );
    }
    let out = std::process::Command::new(time)
        .arg("-v")
        .arg(&norm)
        .args([
            "eval",
            "stdlib/mail",
            "--facts",
            "examples/foreign_genai_2m_users.json",
            "--as-of",
            AS_OF,
        ])
        .current_dir(root)
        .output()
        .map_err(|e| format!("not measured: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "not measured: norm eval exited with {}",
            out.status
        ));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes):")
                .and_then(|v| v.trim().parse().ok())
        })
        .ok_or_else(|| "not measured: no \"Maximum resident set size\" in the output".into())
}
