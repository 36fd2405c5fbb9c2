//! The embedding API: load a law and its data modules once, then decide cases.
//!
//! ```no_run
//! use norm_runtime::{Engine, Date};
//! let engine = Engine::load(&["stdlib/mail".into()], None).expect("the law compiles");
//! let facts = std::fs::read_to_string("examples/provincial_chatbot.json").expect("facts");
//! let as_of = Date::parse("2026-12-01").expect("a date");
//! let decision = engine.decide_json(&facts, as_of).expect("a decision");
//! for norm in &decision.norms {
//!     println!("{} (art. {}): {}", norm.id, norm.article, norm.text);
//! }
//! ```
//!
//! The engine's state is an immutable, shared snapshot: cloning an `Engine` is cheap and every
//! clone decides against the same compiled law.

use crate::decision::{self, Decision};
use crate::facts::{self, FactError};
use crate::interp::EvalError;
use crate::jit::JitProgram;
use norm_compiler::date::Date;
use norm_compiler::diagnostic::{Diagnostic, render};
use norm_compiler::driver;
use norm_compiler::files::{Loader, SourceDb};
use norm_compiler::ir::{DataModule, Program};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Reads sources from the file system: directories yield their `.norm` files and
/// subdirectories, sorted by name.
pub struct FsLoader;

impl Loader for FsLoader {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn list_dir(&self, path: &Path) -> std::io::Result<Option<Vec<PathBuf>>> {
        let meta = std::fs::metadata(path)?;
        if !meta.is_dir() {
            return Ok(None);
        }
        let mut entries = Vec::new();
        for e in std::fs::read_dir(path)? {
            let p = e?.path();
            let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            // `metadata` follows symlinks: a dangling one (Emacs's lock link) is no source.
            let Ok(meta) = std::fs::metadata(&p) else {
                continue;
            };
            if norm_compiler::files::is_source_entry(name, meta.is_dir()) {
                entries.push(p);
            }
        }
        entries.sort();
        Ok(Some(entries))
    }

    fn canonical(&self, path: &Path) -> PathBuf {
        std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
    }
}

/// Why a law could not be loaded: its diagnostics, with the sources to render them.
pub struct LoadError {
    pub db: SourceDb,
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadError {
    pub fn render(&self) -> String {
        render(&self.db, &self.diagnostics)
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for LoadError {}

impl std::error::Error for DecideError {}

impl std::fmt::Debug for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

/// Why a case could not be decided.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DecideError {
    /// The facts do not match the law's declared facts.
    Facts { errors: Vec<FactError> },
    /// `--why-not` named a norm the law does not have.
    UnknownNorm {
        id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        suggestion: Option<String>,
    },
    /// Evaluation failed (overflow, a conflict between definitions, …).
    Evaluation {
        #[serde(flatten)]
        error: EvalError,
        #[serde(skip_serializing_if = "Option::is_none")]
        location: Option<String>,
    },
}

impl std::fmt::Display for DecideError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecideError::Facts { errors } => {
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            DecideError::UnknownNorm { id, suggestion } => match suggestion {
                Some(s) => write!(f, "the law has no norm `{id}`; did you mean `{s}`?"),
                None => write!(f, "the law has no norm `{id}`"),
            },
            DecideError::Evaluation { error, location } => match location {
                Some(l) => write!(f, "{l}: {}", error.message),
                None => write!(f, "{}", error.message),
            },
        }
    }
}

/// Which engine decides: compiled code (the default) or the reference interpreter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EngineKind {
    #[default]
    Jit,
    Interp,
}

struct Snapshot {
    program: Program,
    data: Vec<DataModule>,
    db: SourceDb,
    /// The program compiled to native code (with the JIT engine); freed with the snapshot.
    jit: Option<JitProgram>,
}

impl Snapshot {
    fn new(
        program: Program,
        data: Vec<DataModule>,
        db: SourceDb,
        kind: EngineKind,
    ) -> Result<Snapshot, (SourceDb, String)> {
        let jit = match kind {
            EngineKind::Jit => match JitProgram::compile(&program, &data) {
                Ok(j) => Some(j),
                Err(e) => return Err((db, e)),
            },
            EngineKind::Interp => None,
        };
        Ok(Snapshot {
            program,
            data,
            db,
            jit,
        })
    }
}

#[derive(Clone)]
pub struct Engine {
    snapshot: Arc<Snapshot>,
}

impl Engine {
    /// Compiles the law under `law` and loads data modules from `data` (default: any data files
    /// found among the law's paths, then the `data` directory beside the law's directory).
    /// Uses the JIT engine.
    pub fn load(law: &[PathBuf], data: Option<&[PathBuf]>) -> Result<Engine, LoadError> {
        Engine::load_with(&FsLoader, law, data, EngineKind::Jit)
    }

    pub fn load_with(
        loader: &dyn Loader,
        law: &[PathBuf],
        data: Option<&[PathBuf]>,
        kind: EngineKind,
    ) -> Result<Engine, LoadError> {
        let mut c = driver::compile_law(loader, law, data);
        let Some(program) = c.program.take() else {
            return Err(LoadError {
                db: c.db,
                diagnostics: c.diagnostics,
            });
        };
        let modules = c.data;
        match Snapshot::new(program, modules, c.db, kind) {
            Ok(s) => Ok(Engine {
                snapshot: Arc::new(s),
            }),
            Err((db, message)) => Err(LoadError {
                db,
                diagnostics: vec![Diagnostic::error(
                    "E0900",
                    format!(
                        "internal error: the law could not be compiled to native code: {message}"
                    ),
                )],
            }),
        }
    }

    /// An engine over an already compiled program and data.
    pub fn from_parts(
        program: Program,
        data: Vec<DataModule>,
        db: SourceDb,
        kind: EngineKind,
    ) -> Result<Engine, String> {
        let s = Snapshot::new(program, data, db, kind).map_err(|(_, m)| m)?;
        Ok(Engine {
            snapshot: Arc::new(s),
        })
    }

    pub fn kind(&self) -> EngineKind {
        match self.snapshot.jit {
            Some(_) => EngineKind::Jit,
            None => EngineKind::Interp,
        }
    }

    /// The compiled program, with the JIT engine.
    pub fn jit(&self) -> Option<&JitProgram> {
        self.snapshot.jit.as_ref()
    }

    pub fn program(&self) -> &Program {
        &self.snapshot.program
    }

    pub fn data(&self) -> &[DataModule] {
        &self.snapshot.data
    }

    pub fn sources(&self) -> &SourceDb {
        &self.snapshot.db
    }

    /// Decides a case given as JSON text.
    pub fn decide_json(&self, facts: &str, as_of: Date) -> Result<Decision, DecideError> {
        let values = facts::parse_facts_text(&self.snapshot.program, facts)
            .map_err(|errors| DecideError::Facts { errors })?;
        self.decide_values(values, as_of, false)
    }

    /// Decides a case given as parsed JSON.
    pub fn decide(
        &self,
        facts: &serde_json::Value,
        as_of: Date,
        explain: bool,
    ) -> Result<Decision, DecideError> {
        let values = facts::read_facts(&self.snapshot.program, facts)
            .map_err(|errors| DecideError::Facts { errors })?;
        self.decide_values(values, as_of, explain)
    }

    pub fn decide_values(
        &self,
        facts: Vec<norm_compiler::value::Value>,
        as_of: Date,
        explain: bool,
    ) -> Result<Decision, DecideError> {
        let s = &self.snapshot;
        let Some(jit) = &s.jit else {
            return decision::decide(&s.program, facts, &s.data, as_of, explain)
                .map_err(|e| self.eval_error(e));
        };
        let decided = jit
            .decide(&s.program, &s.data, &facts, as_of)
            .map_err(|e| self.eval_error(e))?;
        let selected = decision::select_data(&s.program, &s.data, as_of);
        let mut d = decision::build(&s.program, &selected, as_of, &decided);
        if explain {
            // Explanations re-trace the conditions with the reference interpreter.
            let mut out = decision::evaluate(&s.program, facts, &s.data, as_of)
                .map_err(|e| self.eval_error(e))?;
            d.explanation = Some(
                decision::explain_all(&s.program, &mut out, &selected)
                    .map_err(|e| self.eval_error(e))?,
            );
        }
        Ok(d)
    }

    /// Why norm `id` does not apply to this case (or that it does).
    pub fn why_not(
        &self,
        facts: &serde_json::Value,
        as_of: Date,
        id: &str,
    ) -> Result<crate::why::WhyNot, DecideError> {
        let s = &self.snapshot;
        // Of several versions with this id, the one in force on the date.
        let version = s
            .program
            .norms
            .iter()
            .position(|n| n.id == id && s.program.norm_in_force(n, as_of))
            .and_then(|i| u32::try_from(i).ok())
            .or_else(|| s.program.norm_by_id(id).map(|(i, _)| i));
        let Some(norm) = version else {
            let ids: Vec<&str> = s.program.norms.iter().map(|n| n.id.as_str()).collect();
            return Err(DecideError::UnknownNorm {
                id: id.to_string(),
                suggestion: norm_compiler::check::suggest(id, ids.into_iter()),
            });
        };
        let values =
            facts::read_facts(&s.program, facts).map_err(|errors| DecideError::Facts { errors })?;
        let mut out = crate::decision::evaluate(&s.program, values, &s.data, as_of)
            .map_err(|e| self.eval_error(e))?;
        crate::why::why_not(&s.program, &mut out, norm).map_err(|e| self.eval_error(e))
    }

    pub fn eval_error(&self, error: EvalError) -> DecideError {
        let location = error.span.map(|sp| {
            let (l, c) = self.snapshot.db.line_col(sp.file, sp.start as usize);
            format!("{}:{l}:{c}", self.snapshot.db.name(sp.file))
        });
        DecideError::Evaluation { error, location }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use norm_compiler::driver::MemoryLoader;

    const LAW: &str = "law t \"T\" version \"1\"\nrole r \"R\"\n\
        type Case = struct { users: int, fee: money }\nfact c: Case\n\
        def doubled = c.fee * 2\n\
        article 1 \"A\" { obligation big { addressee r when c.users > 1_000 text \"register\" } }\n";

    fn engine(kind: EngineKind) -> Engine {
        let loader = MemoryLoader::with(&[("t/law.norm", LAW)]);
        match Engine::load_with(&loader, &[PathBuf::from("t")], Some(&[]), kind) {
            Ok(e) => e,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn an_engine_is_shared_between_threads() {
        fn shareable<T: Send + Sync + Clone>() {}
        shareable::<Engine>();
        let e = engine(EngineKind::Jit);
        assert_eq!(e.kind(), EngineKind::Jit);
        let day = Date::parse("2026-12-01").unwrap_or(Date::EPOCH);
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let e = e.clone();
                std::thread::spawn(move || {
                    (0..200)
                        .map(|i| {
                            let users = t * 1_000 + i;
                            let facts = serde_json::json!({"c": {"users": users, "fee": "1.5"}});
                            let d = e.decide(&facts, day, false).map_err(|e| e.to_string())?;
                            Ok((users > 1_000) == (d.norms.len() == 1)
                                && d.values.get("doubled").map(|v| v["amount"].clone())
                                    == Some(serde_json::json!("3")))
                        })
                        .collect::<Result<Vec<bool>, String>>()
                })
            })
            .collect();
        for h in handles {
            let ok = h
                .join()
                .map_err(|_| "thread panicked")
                .and_then(|r| r.map_err(|_| "error"));
            assert!(matches!(&ok, Ok(v) if v.iter().all(|b| *b)), "{ok:?}");
        }
        // The last clone going away frees the compiled code (`Code::drop`).
        drop(e);
    }

    #[test]
    fn both_engines_decide_alike() {
        let day = Date::parse("2026-12-01").unwrap_or(Date::EPOCH);
        let facts = serde_json::json!({"c": {"users": 5_000, "fee": "10"}});
        let a = engine(EngineKind::Jit).decide(&facts, day, true);
        let b = engine(EngineKind::Interp).decide(&facts, day, true);
        assert_eq!(
            a.map(|d| serde_json::to_string(&d).unwrap_or_default())
                .map_err(|e| e.to_string()),
            b.map(|d| serde_json::to_string(&d).unwrap_or_default())
                .map_err(|e| e.to_string())
        );
    }
}

#[cfg(test)]
mod decimal_tests {
    use super::*;
    use norm_compiler::driver::MemoryLoader;

    /// Compiled code compares and computes decimals partly inline (same-scale mantissas): every
    /// pair of awkward values — mantissas past 2^32 and 2^64, signs, scales — decides alike.
    #[test]
    fn decimal_comparisons_and_arithmetic_agree_with_the_interpreter() {
        let law = "law t \"T\" version \"1\"\nfact a: decimal\nfact b: decimal\n\
            def lt = a < b\ndef le = a <= b\ndef eq = a == b\ndef mx = max(a, b)\ndef mn = min(a, b)\n\
            def total = a + b\ndef diff = a - b\ndef product = a * b\n";
        let load = |kind| {
            let loader = MemoryLoader::with(&[("t/law.norm", law)]);
            Engine::load_with(&loader, &[PathBuf::from("t")], Some(&[]), kind)
                .map_err(|e| e.to_string())
        };
        let (Ok(jit), Ok(interp)) = (load(EngineKind::Jit), load(EngineKind::Interp)) else {
            panic!("the law compiles");
        };
        let values: [&str; 26] = [
            "0",
            "1",
            "-1",
            "0.5",
            "1.50",
            "-0.5",
            "4294967296.1",
            "4294967297.0",
            "18446744073709551616",
            "18446744073709551617",
            "36893488147419103232.5",
            "-36893488147419103232.5",
            "36893488147419103233.4",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "0.0000000001",
            "9223372036854775808.5",
            "47.5",
            "0.04",
            "800000000",
            "10000000",
            "12.345",
            "-0.25",
            "4294967295",
            "0.00",
            "1e-20",
        ];
        let day = Date::parse("2026-12-01").unwrap_or(Date::EPOCH);
        for a in values {
            for b in values {
                let facts = serde_json::json!({"a": a, "b": b});
                let x = jit
                    .decide(&facts, day, false)
                    .map(|d| serde_json::to_string(&d.values).unwrap_or_default());
                let y = interp
                    .decide(&facts, day, false)
                    .map(|d| serde_json::to_string(&d.values).unwrap_or_default());
                assert_eq!(
                    x.map_err(|e| e.to_string()),
                    y.map_err(|e| e.to_string()),
                    "a = {a}, b = {b}"
                );
            }
        }
    }
}
