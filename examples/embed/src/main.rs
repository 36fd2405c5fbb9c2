//! A small application embedding the Norm runtime: load the MAIL once, then decide a batch of
//! cases and print, for each, what the law requires and why.
//!
//! Run from the repository root: `cargo run -p norm-embed-example -- examples/*.json`
//! (with no arguments it decides every example facts file).

use norm_runtime::{Date, DecideOptions, Engine};
use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    // 1. Load the law and its data modules (the Negative List, the thresholds) once.
    let engine = Engine::load(&[PathBuf::from("stdlib/mail")], None)?;
    let as_of = Date::parse("2026-12-01").ok_or("invalid date")?;

    let mut files: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if files.is_empty() {
        files = std::fs::read_dir("examples")?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
    }

    for file in files {
        // 2. Each case is plain JSON, as an onboarding form or an API request would send it.
        let facts: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
        // 3. Decide it, with explanations.
        match engine.decide(&facts, as_of, DecideOptions::default().explain()) {
            Ok(decision) => {
                println!(
                    "{}: {} norm(s), {} penalty(ies)",
                    file.display(),
                    decision.norms.len(),
                    decision.penalties.len()
                );
                for n in &decision.norms {
                    println!("  {} {} (Art. {})", n.kind, n.id, n.article);
                }
                for w in &decision.warnings {
                    println!("  warning {} (Art. {})", w.id, w.article);
                }
            }
            Err(e) => println!("{}: cannot decide: {e}", file.display()),
        }
    }
    Ok(())
}
