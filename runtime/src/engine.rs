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
//! From memory, with no file at all, and a data module installed while the engine runs:
//!
//! ```
//! use norm_runtime::{Date, DecideOptions, Engine, EngineOptions, InstallOptions};
//! let law = "law t \"T\" version \"1\"\nrole r \"R\"\n\
//!     data schema limits { users: int }\nfact users: int\n\
//!     article 1 \"A\" { obligation big { addressee r when users > limits.users text \"register\" } }\n";
//! let v1 = b"data limits version \"1\" effective 2026-01-01 { users = 1000 }";
//! let engine = Engine::from_memory(&[("t/law.norm", law)], &[v1], EngineOptions::default())?;
//! let day = Date::parse("2026-12-01").ok_or("a date")?;
//! let facts = serde_json::json!({"users": 5000});
//! assert_eq!(engine.decide(&facts, day, DecideOptions::default())?.norms.len(), 1);
//! let v2 = b"data limits version \"2\" effective 2026-06-01 { users = 10000 }";
//! engine.install(v2, &InstallOptions::default())?;
//! assert_eq!(engine.decide(&facts, day, DecideOptions::default())?.norms.len(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The engine's state is an immutable snapshot behind an atomic pointer (arc-swap): a decision
//! loads it once and finishes on it; an install builds a new snapshot (the compiled code
//! reused, the data repacked) and publishes it with one swap. Clones of an `Engine` share it.

use crate::decision::{self, Decision};
use crate::facts::{self, FactError};
use crate::interp::EvalError;
use crate::jit::JitProgram;
use crate::modules::{self, ModuleError, TrustStore};
use arc_swap::ArcSwap;
use norm_compiler::date::Date;
use norm_compiler::diagnostic::{Diagnostic, render};
use norm_compiler::driver::{self, MemoryLoader};
use norm_compiler::files::{Loader, SourceDb};
use norm_compiler::ir::{DataModule, Program};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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

/// How to decide one case, beyond its facts and date.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecideOptions {
    /// Explain each norm that applies (the interpreter re-traces the conditions).
    pub explain: bool,
    /// Also say why this norm does not apply (`--why-not`).
    pub why_not: Option<String>,
}

impl DecideOptions {
    pub fn explain(mut self) -> DecideOptions {
        self.explain = true;
        self
    }

    pub fn why_not(mut self, id: impl Into<String>) -> DecideOptions {
        self.why_not = Some(id.into());
        self
    }
}

impl From<&DecideOptions> for DecideOptions {
    fn from(o: &DecideOptions) -> DecideOptions {
        o.clone()
    }
}

/// How an engine is built.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    pub kind: EngineKind,
    /// With a trust store, every data module must be a package that verifies with one of its
    /// keys, scoped to the module: at load and at every install.
    pub trust: Option<TrustStore>,
}

/// How a module is installed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstallOptions {
    /// Accept a version that is not newer than the installed one (an operator rolling back on
    /// purpose): it becomes the latest of its name, and the installed versions of that name
    /// effective on or after its date are removed. Without it, such a version is refused.
    pub allow_rollback: bool,
}

/// What an install did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Installed {
    pub module: String,
    pub version: String,
    pub effective: String,
    pub hash: String,
    /// The trust store's key that signed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    /// Versions of the same module it replaced (same effective date, or removed by a rollback).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<String>,
    /// The snapshot that publishes it.
    pub generation: u64,
}

/// Why an engine could not be built.
#[derive(Debug)]
pub enum OpenError {
    /// The law (or its plain data files) did not check.
    Law(LoadError),
    /// A data module was refused.
    Module {
        origin: String,
        error: Box<ModuleError>,
    },
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Law(e) => e.fmt(f),
            // That error names the file itself.
            // That error names the file itself.
            OpenError::Module { origin: _, error }
                if matches!(**error, ModuleError::NotAPackage { .. }) =>
            {
                error.fmt(f)
            }
            OpenError::Module { origin, error } => write!(f, "{origin}: {error}"),
        }
    }
}

impl std::error::Error for OpenError {}

impl OpenError {
    fn module(origin: impl Into<String>, error: ModuleError) -> OpenError {
        OpenError::Module {
            origin: origin.into(),
            error: Box::new(error),
        }
    }
}

/// One immutable state of an engine: the law, the data modules installed (every version, each
/// selected on the dates it is in force), the compiled code. Published whole by one atomic
/// swap; a decision runs on the snapshot it started on.
pub struct Snapshot {
    program: Arc<Program>,
    data: Vec<DataModule>,
    db: Arc<SourceDb>,
    /// The program compiled to native code (with the JIT engine); the machine code is shared
    /// by every snapshot of one law, the packed data is the snapshot's own.
    jit: Option<JitProgram>,
    generation: u64,
}

impl Snapshot {
    fn new(
        program: Arc<Program>,
        data: Vec<DataModule>,
        db: Arc<SourceDb>,
        kind: EngineKind,
    ) -> Result<Snapshot, String> {
        let jit = match kind {
            EngineKind::Jit => Some(JitProgram::compile(&program, &data)?),
            EngineKind::Interp => None,
        };
        Ok(Snapshot {
            program,
            data,
            db,
            jit,
            generation: 0,
        })
    }

    /// A snapshot with other data: the compiled code reused, the data repacked.
    fn with_data(&self, data: Vec<DataModule>) -> Result<Snapshot, String> {
        let jit = match &self.jit {
            Some(j) => Some(j.with_data(&data)?),
            None => None,
        };
        Ok(Snapshot {
            program: self.program.clone(),
            data,
            db: self.db.clone(),
            jit,
            generation: self.generation.wrapping_add(1),
        })
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Every data module of this snapshot, every version.
    pub fn data(&self) -> &[DataModule] {
        &self.data
    }

    /// The law's sources (an installed module's source is not among them).
    pub fn sources(&self) -> &SourceDb {
        &self.db
    }

    /// The compiled program, with the JIT engine.
    pub fn jit(&self) -> Option<&JitProgram> {
        self.jit.as_ref()
    }

    /// Counts the installs since the engine was built (0 for the first snapshot).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn decide_values(
        &self,
        facts: Vec<norm_compiler::value::Value>,
        as_of: Date,
        options: &DecideOptions,
    ) -> Result<Decision, DecideError> {
        let s = self;
        let selected = decision::select_data(&s.program, &s.data, as_of);
        codes_known(&s.program, &facts, &selected)?;
        let why_facts = options.why_not.as_ref().map(|_| facts.clone());
        let views = self.perspectives(&facts)?;
        let mut parts = Vec::with_capacity(views.len());
        for view in views {
            let bound = crate::subjects::bind(&s.program, &facts, &view);
            let d = self.decide_one(bound, as_of, options.explain, &selected, &view.who)?;
            parts.push((view.who, d));
        }
        let mut d = decision::merge(&s.program, parts);
        if let (Some(id), Some(facts)) = (&options.why_not, why_facts) {
            d.why_not = Some(self.why_not_checked(facts, as_of, id)?);
        }
        Ok(d)
    }

    /// The evaluations the case needs (its parties and systems), or the facts error.
    fn perspectives(
        &self,
        facts: &[norm_compiler::value::Value],
    ) -> Result<Vec<crate::subjects::Perspective>, DecideError> {
        crate::subjects::perspectives(&self.program, facts).map_err(|e| match e.fact_error() {
            Some(f) => DecideError::Facts { errors: vec![f] },
            None => match e {
                crate::subjects::SubjectError::Eval(e) => self.eval_error(e),
                crate::subjects::SubjectError::Empty(_) => {
                    DecideError::Facts { errors: Vec::new() }
                }
            },
        })
    }

    /// One evaluation of the case (its subjects bound), as the Decision's part for `who`.
    fn decide_one(
        &self,
        facts: Vec<norm_compiler::value::Value>,
        as_of: Date,
        explain: bool,
        selected: &[Option<&DataModule>],
        who: &decision::Who,
    ) -> Result<Decision, DecideError> {
        let s = self;
        // The interpreter's outcome is kept: explanations trace the same evaluation.
        let (decided, traced, facts) = match &s.jit {
            None => {
                let mut out = decision::evaluate(&s.program, facts, &s.data, as_of)
                    .map_err(|e| self.eval_error(e))?;
                let d = decision::finish(&s.program, &mut out).map_err(|e| self.eval_error(e))?;
                (d, Some(out), None)
            }
            Some(jit) => {
                let d = jit
                    .decide(&s.program, &s.data, &facts, as_of)
                    .map_err(|e| self.eval_error(e))?;
                (d, None, Some(facts))
            }
        };
        let mut d = decision::build_for(&s.program, selected, as_of, &decided, who);
        if explain {
            // Explanations trace the conditions with the reference interpreter.
            let mut out = match (traced, facts) {
                (Some(out), _) => out,
                (None, Some(facts)) => decision::evaluate(&s.program, facts, &s.data, as_of)
                    .map_err(|e| self.eval_error(e))?,
                (None, None) => return Ok(d),
            };
            d.explanation = Some(
                decision::explain_all(&s.program, &mut out, selected, who)
                    .map_err(|e| self.eval_error(e))?,
            );
            decision::explain_findings(&s.program, &mut out, selected, &mut d.findings)
                .map_err(|e| self.eval_error(e))?;
        }
        Ok(d)
    }

    fn why_not_values(
        &self,
        values: Vec<norm_compiler::value::Value>,
        as_of: Date,
        id: &str,
    ) -> Result<crate::why::WhyNot, DecideError> {
        let selected = decision::select_data(&self.program, &self.data, as_of);
        codes_known(&self.program, &values, &selected)?;
        self.why_not_checked(values, as_of, id)
    }

    /// `why_not_values` for facts whose codes were checked already.
    fn why_not_checked(
        &self,
        values: Vec<norm_compiler::value::Value>,
        as_of: Date,
        id: &str,
    ) -> Result<crate::why::WhyNot, DecideError> {
        let s = self;
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
        // One answer per evaluation that decides the norm (per party and system); the first
        // where it does not apply leads.
        let reach = s
            .program
            .reach
            .norms
            .get(norm as usize)
            .copied()
            .unwrap_or(0);
        let views = self.perspectives(&values)?;
        // No evaluation decides the norm (it concerns a system, and no party of the case is
        // related to one): the answer is the case's first evaluation's, for its party.
        let any = views.iter().any(|v| v.who.reports(reach).is_some());
        let mut answers = Vec::new();
        for view in views {
            let Some((party, system)) = view
                .who
                .reports(reach)
                .or_else(|| (!any && answers.is_empty()).then(|| (view.who.party.clone(), None)))
            else {
                continue;
            };
            let bound = crate::subjects::bind(&s.program, &values, &view);
            let mut out = crate::decision::evaluate(&s.program, bound, &s.data, as_of)
                .map_err(|e| self.eval_error(e))?;
            let mut w =
                crate::why::why_not(&s.program, &mut out, norm).map_err(|e| self.eval_error(e))?;
            w.party = party;
            w.system = system;
            answers.push(w);
        }
        let lead = answers
            .iter()
            .position(|w| w.status != "applies")
            .unwrap_or(0);
        if lead >= answers.len() {
            // Unreachable: `perspectives` gives at least one evaluation or an error.
            return Err(self.eval_error(EvalError::new(
                crate::interp::EvalErrorKind::Internal,
                "internal error: the case has no evaluation to answer from",
                norm_compiler::span::Span::default(),
            )));
        }
        let mut first = answers.remove(lead);
        first.others = answers;
        Ok(first)
    }

    pub fn eval_error(&self, error: EvalError) -> DecideError {
        let location = error.span.map(|sp| {
            let (l, c) = self.db.line_col(sp.file, sp.start as usize);
            format!("{}:{l}:{c}", self.db.name(sp.file))
        });
        DecideError::Evaluation { error, location }
    }
}

/// Every code the case names is one of the lists in force (a facts error otherwise).
fn codes_known(
    program: &Program,
    facts: &[norm_compiler::value::Value],
    selected: &[Option<&DataModule>],
) -> Result<(), DecideError> {
    let errors = facts::check_codes(program, facts, selected);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DecideError::Facts { errors })
    }
}

/// What every clone of an engine shares: the current snapshot and how to replace it.
struct Shared {
    current: ArcSwap<Snapshot>,
    program: Arc<Program>,
    db: Arc<SourceDb>,
    kind: EngineKind,
    trust: Option<TrustStore>,
    /// Installs are serialised (never decisions): each builds on the snapshot the previous
    /// one published.
    install: Mutex<()>,
}

/// The embedding API: decide cases against a compiled law, install data modules while it runs.
/// Clones share one engine (an install through one is seen by all).
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
}

impl Engine {
    /// Compiles the law under `law` and loads data modules from `data` (default: any data files
    /// found among the law's paths, then the `data` directory beside the law's directory).
    /// Uses the JIT engine.
    pub fn load(law: &[PathBuf], data: Option<&[PathBuf]>) -> Result<Engine, LoadError> {
        Engine::load_with(&FsLoader, law, data, EngineKind::Jit)
    }

    /// [`Engine::load`] through any [`Loader`] (such as [`MemoryLoader`]), with either engine.
    /// No trust store: data files are read as plain sources.
    pub fn load_with(
        loader: &dyn Loader,
        law: &[PathBuf],
        data: Option<&[PathBuf]>,
        kind: EngineKind,
    ) -> Result<Engine, LoadError> {
        // To decide cases: the law's `test` blocks are not checked (`norm test` does).
        let mut c = driver::compile_law_with(loader, law, data, false);
        let Some(program) = c.program.take() else {
            return Err(LoadError {
                db: c.db,
                diagnostics: c.diagnostics,
            });
        };
        let modules = c.data;
        Engine::build(program, modules, c.db, kind, None).map_err(|(db, message)| LoadError {
            db,
            diagnostics: vec![Diagnostic::error(
                "E0900",
                format!("internal error: the law could not be compiled to native code: {message}"),
            )],
        })
    }

    /// Compiles the law under `law` (through `loader`) and loads its data modules. Without a
    /// trust store, as [`Engine::load_with`]. With one, the data modules are read from files
    /// (`data`, default: the `data` directory beside the law): each must be a package
    /// (`*.normpkg`) that verifies; a plain `.norm` data module is refused, and data modules
    /// among the law's own paths are not loaded.
    pub fn open(
        loader: &dyn Loader,
        law: &[PathBuf],
        data: Option<&[PathBuf]>,
        options: EngineOptions,
    ) -> Result<Engine, OpenError> {
        let Some(trust) = options.trust else {
            return Engine::load_with(loader, law, data, options.kind).map_err(OpenError::Law);
        };
        let (program, db) = compile_law_alone(loader, law)?;
        let paths: Vec<PathBuf> = match data {
            Some(d) => d.to_vec(),
            None => driver::default_data_dir(loader, law).into_iter().collect(),
        };
        let files = modules::module_files(&paths).map_err(|e| OpenError::module("data", e))?;
        let mut packages = Vec::new();
        for f in files {
            let origin = f.display().to_string();
            let is_package = f
                .extension()
                .is_some_and(|e| e == modules::PACKAGE_EXTENSION);
            if !is_package {
                let e = ModuleError::NotAPackage {
                    path: origin.clone(),
                };
                return Err(OpenError::module(origin, e));
            }
            let bytes = modules::read_file(&f).map_err(|e| OpenError::module(origin.clone(), e))?;
            packages.push((origin, bytes));
        }
        Engine::with_modules(program, db, options.kind, Some(trust), &packages)
    }

    /// An engine from memory: the law's files as `(path, text)` pairs (a directory layout of
    /// their own, e.g. `("mail/law.norm", …)`), and data modules as bytes: packages, or (without
    /// a trust store) module sources. No file is read.
    pub fn from_memory(
        law: &[(&str, &str)],
        data: &[&[u8]],
        options: EngineOptions,
    ) -> Result<Engine, OpenError> {
        let loader = MemoryLoader::with(law);
        let paths: Vec<PathBuf> = law.iter().map(|(p, _)| PathBuf::from(p)).collect();
        let (program, db) = compile_law_alone(&loader, &paths)?;
        let data: Vec<(String, Vec<u8>)> = data
            .iter()
            .enumerate()
            .map(|(i, b)| (format!("data module {}", i + 1), b.to_vec()))
            .collect();
        Engine::with_modules(program, db, options.kind, options.trust, &data)
    }

    /// An engine over an already compiled program and data.
    pub fn from_parts(
        program: Program,
        data: Vec<DataModule>,
        db: SourceDb,
        kind: EngineKind,
    ) -> Result<Engine, String> {
        Engine::build(program, data, db, kind, None).map_err(|(_, m)| m)
    }

    fn with_modules(
        program: Program,
        db: SourceDb,
        kind: EngineKind,
        trust: Option<TrustStore>,
        data: &[(String, Vec<u8>)],
    ) -> Result<Engine, OpenError> {
        let mut modules: Vec<DataModule> = Vec::new();
        for (origin, bytes) in data {
            let v = modules::open(bytes, &program, trust.as_ref())
                .map_err(|e| OpenError::module(origin.clone(), e))?;
            if let Some(prev) = modules
                .iter()
                .find(|m| m.name == v.module.name && m.effective == v.module.effective)
            {
                let e = ModuleError::Invalid {
                    message: format!(
                        "two versions of data module `{}` take effect on {} ({} and {})",
                        prev.name, prev.effective, prev.version, v.module.version
                    ),
                };
                return Err(OpenError::module(origin.clone(), e));
            }
            modules.push(v.module);
        }
        Engine::build(program, modules, db, kind, trust)
            .map_err(|(_, message)| OpenError::module("law", ModuleError::Internal { message }))
    }

    fn build(
        program: Program,
        data: Vec<DataModule>,
        db: SourceDb,
        kind: EngineKind,
        trust: Option<TrustStore>,
    ) -> Result<Engine, (SourceDb, String)> {
        let program = Arc::new(program);
        let db = Arc::new(db);
        match Snapshot::new(program.clone(), data, db.clone(), kind) {
            Ok(s) => Ok(Engine {
                shared: Arc::new(Shared {
                    current: ArcSwap::from_pointee(s),
                    program,
                    db,
                    kind,
                    trust,
                    install: Mutex::new(()),
                }),
            }),
            // The failed snapshot was dropped: the law's sources are ours alone again.
            Err(message) => Err((
                Arc::try_unwrap(db).unwrap_or_else(|_| SourceDb::new()),
                message,
            )),
        }
    }

    pub fn kind(&self) -> EngineKind {
        self.shared.kind
    }

    /// The trust store installs are verified against, if one is configured.
    pub fn trust(&self) -> Option<&TrustStore> {
        self.shared.trust.as_ref()
    }

    /// The law (the same in every snapshot: installs change data, not rules).
    pub fn program(&self) -> &Program {
        &self.shared.program
    }

    /// The law's sources.
    pub fn sources(&self) -> &SourceDb {
        &self.shared.db
    }

    /// The current snapshot: its data, its compiled code. It stays valid (and unchanged) for as
    /// long as it is held, whatever is installed meanwhile.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.shared.current.load_full()
    }

    /// Decides a case given as JSON text.
    pub fn decide_json(&self, facts: &str, as_of: Date) -> Result<Decision, DecideError> {
        let json = facts::parse_json(facts).map_err(|e| DecideError::Facts { errors: vec![e] })?;
        self.decide(&json, as_of, DecideOptions::default())
    }

    /// Decides a case given as parsed JSON.
    pub fn decide(
        &self,
        facts: &serde_json::Value,
        as_of: Date,
        options: impl Into<DecideOptions>,
    ) -> Result<Decision, DecideError> {
        let values = facts::read_facts(&self.shared.program, facts)
            .map_err(|errors| DecideError::Facts { errors })?;
        self.decide_values(values, as_of, options)
            .map_err(|e| self.in_the_case_form(facts, e))
    }

    /// A facts error found after the facts were read, with its paths as the case wrote them.
    fn in_the_case_form(&self, facts: &serde_json::Value, e: DecideError) -> DecideError {
        match e {
            DecideError::Facts { mut errors } => {
                facts::in_the_case_form(&self.shared.program, facts, &mut errors);
                DecideError::Facts { errors }
            }
            e => e,
        }
    }

    /// Decides a case given as values in the law's facts order, on the current snapshot.
    pub fn decide_values(
        &self,
        facts: Vec<norm_compiler::value::Value>,
        as_of: Date,
        options: impl Into<DecideOptions>,
    ) -> Result<Decision, DecideError> {
        // The guard keeps this snapshot alive until the decision is built, whatever is
        // installed meanwhile: no lock, no torn read.
        let snapshot = self.shared.current.load();
        snapshot.decide_values(facts, as_of, &options.into())
    }

    /// Why norm `id` does not apply to this case (or that it does).
    pub fn why_not(
        &self,
        facts: &serde_json::Value,
        as_of: Date,
        id: &str,
    ) -> Result<crate::why::WhyNot, DecideError> {
        let values = facts::read_facts(&self.shared.program, facts)
            .map_err(|errors| DecideError::Facts { errors })?;
        self.shared
            .current
            .load()
            .why_not_values(values, as_of, id)
            .map_err(|e| self.in_the_case_form(facts, e))
    }

    pub fn eval_error(&self, error: EvalError) -> DecideError {
        self.shared.current.load().eval_error(error)
    }

    /// Installs one data module from bytes (a package, or without a trust store a module's
    /// source) while the engine runs. See [`Engine::install_all`].
    pub fn install(
        &self,
        bytes: &[u8],
        options: &InstallOptions,
    ) -> Result<Installed, ModuleError> {
        let mut done = self.install_all(&[bytes], options)?;
        done.pop().ok_or_else(|| ModuleError::Internal {
            message: "nothing was installed".into(),
        })
    }

    /// Installs data modules from bytes, all or none, published by one atomic swap.
    ///
    /// Each is verified ([`modules::open`]: size, trust store, hash, schema fingerprint, the
    /// law's check); each must be newer than the installed versions of its name (a greater
    /// version, effective no earlier: [`modules::is_newer`]) unless `allow_rollback`. The new
    /// snapshot keeps every version (each decides the dates it is in force: a module effective
    /// in the future takes effect on its date) except one of the same name and date, which it
    /// replaces; it reuses the compiled code and repacks the data. On any error nothing changes
    /// and the current snapshot keeps serving.
    pub fn install_all(
        &self,
        packages: &[&[u8]],
        options: &InstallOptions,
    ) -> Result<Vec<Installed>, ModuleError> {
        let shared = &self.shared;
        // Verification needs no lock: it reads only the law and the trust store.
        let verified: Vec<modules::Verified> = packages
            .iter()
            .map(|b| modules::open(b, &shared.program, shared.trust.as_ref()))
            .collect::<Result<_, _>>()?;
        let _serial = shared
            .install
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = shared.current.load_full();
        let mut data = current.data.clone();
        let mut done = Vec::new();
        for v in verified {
            let m = v.module;
            let latest = data.iter().filter(|d| d.name == m.name).max_by(|a, b| {
                a.effective
                    .cmp(&b.effective)
                    .then_with(|| modules::compare_versions(&a.version, &b.version))
            });
            let replaced: Vec<String>;
            if let Some(l) = latest
                && !modules::is_newer(&m, l)
            {
                if !options.allow_rollback {
                    return Err(ModuleError::NotNewer {
                        module: m.name.clone(),
                        version: m.version.clone(),
                        effective: m.effective.to_string(),
                        installed_version: l.version.clone(),
                        installed_effective: l.effective.to_string(),
                    });
                }
                replaced = take(&mut data, |d| {
                    d.name == m.name && d.effective >= m.effective
                });
            } else {
                replaced = take(&mut data, |d| {
                    d.name == m.name && d.effective == m.effective
                });
            }
            done.push(Installed {
                module: m.name.clone(),
                version: m.version.clone(),
                effective: m.effective.to_string(),
                hash: m.hash.clone(),
                signed_by: v.signed_by,
                replaced,
                generation: current.generation.wrapping_add(1),
            });
            data.push(m);
        }
        let next = current
            .with_data(data)
            .map_err(|message| ModuleError::Internal {
                message: format!("the new snapshot could not be built: {message}"),
            })?;
        shared.current.store(Arc::new(next));
        Ok(done)
    }
}

/// Removes the modules matching `f` from `data`; their versions.
fn take(data: &mut Vec<DataModule>, f: impl Fn(&DataModule) -> bool) -> Vec<String> {
    let mut gone = Vec::new();
    data.retain(|d| {
        if f(d) {
            gone.push(d.version.clone());
            false
        } else {
            true
        }
    });
    gone
}

/// The law alone, no data.
fn compile_law_alone(
    loader: &dyn Loader,
    law: &[PathBuf],
) -> Result<(Program, SourceDb), OpenError> {
    let mut c = driver::compile_law_with(loader, law, Some(&[]), false);
    match c.program.take() {
        Some(p) => Ok((p, c.db)),
        None => Err(OpenError::Law(LoadError {
            db: c.db,
            diagnostics: c.diagnostics,
        })),
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
                            let d = e
                                .decide(&facts, day, DecideOptions::default())
                                .map_err(|e| e.to_string())?;
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
        let a = engine(EngineKind::Jit).decide(&facts, day, DecideOptions::default().explain());
        let b = engine(EngineKind::Interp).decide(&facts, day, DecideOptions::default().explain());
        assert_eq!(
            a.map(|d| serde_json::to_string(&d).unwrap_or_default())
                .map_err(|e| e.to_string()),
            b.map(|d| serde_json::to_string(&d).unwrap_or_default())
                .map_err(|e| e.to_string())
        );
    }
}

#[cfg(test)]
mod install_tests {
    use super::*;

    const LAW: &str = "law t \"T\" version \"1\"\nrole r \"R\"\n\
        data schema limits { users: int }\nfact users: int\n\
        def limit = limits.users\n\
        article 1 \"A\" { obligation big { addressee r when users > limits.users text \"register\" } }\n";

    fn module(version: &str, effective: &str, users: u32) -> String {
        format!("data limits version \"{version}\" effective {effective} {{ users = {users} }}\n")
    }

    fn engine() -> Engine {
        let v1 = module("1", "2026-01-01", 1000);
        match Engine::from_memory(
            &[("t/law.norm", LAW)],
            &[v1.as_bytes()],
            EngineOptions::default(),
        ) {
            Ok(e) => e,
            Err(e) => panic!("{e}"),
        }
    }

    fn limit(e: &Engine, day: &str) -> Option<String> {
        let day = Date::parse(day)?;
        let d = e
            .decide(
                &serde_json::json!({"users": 5}),
                day,
                DecideOptions::default(),
            )
            .ok()?;
        Some(d.values.get("limit")?.to_string())
    }

    #[test]
    fn an_install_reuses_the_compiled_code_and_switches_decisions() {
        let e = engine();
        let before = e.snapshot();
        let r = e.install(
            module("2", "2026-06-01", 2000).as_bytes(),
            &InstallOptions::default(),
        );
        assert!(
            matches!(&r, Ok(i) if i.generation == 1 && i.version == "2"),
            "{r:?}"
        );
        let after = e.snapshot();
        assert!(matches!((before.jit(), after.jit()), (Some(a), Some(b)) if a.shares_code_with(b)));
        // The old snapshot, still held, is unchanged; the engine decides on the new one.
        assert_eq!(before.data().len(), 1);
        assert_eq!(limit(&e, "2026-12-01").as_deref(), Some("2000"));
        // Every version is kept: before its date, the earlier one decides.
        assert_eq!(limit(&e, "2026-03-01").as_deref(), Some("1000"));
    }

    #[test]
    fn a_module_effective_in_the_future_takes_effect_on_its_date() {
        let e = engine();
        let r = e.install(
            module("2", "2030-01-01", 7).as_bytes(),
            &InstallOptions::default(),
        );
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(limit(&e, "2029-12-31").as_deref(), Some("1000"));
        assert_eq!(limit(&e, "2030-01-01").as_deref(), Some("7"));
    }

    #[test]
    fn a_version_not_newer_is_refused_unless_allowed() {
        let e = engine();
        let same = e.install(
            module("1", "2026-02-01", 5).as_bytes(),
            &InstallOptions::default(),
        );
        assert!(
            matches!(same, Err(ModuleError::NotNewer { .. })),
            "{same:?}"
        );
        let earlier = e.install(
            module("2", "2025-01-01", 5).as_bytes(),
            &InstallOptions::default(),
        );
        assert!(
            matches!(earlier, Err(ModuleError::NotNewer { .. })),
            "{earlier:?}"
        );
        assert_eq!(limit(&e, "2026-12-01").as_deref(), Some("1000"));
        assert_eq!(e.snapshot().generation(), 0);
        let ok = e.install(
            module("2", "2026-06-01", 3000).as_bytes(),
            &InstallOptions::default(),
        );
        assert!(ok.is_ok(), "{ok:?}");
        // Rolling back on purpose: the older version becomes the latest again.
        let back = e.install(
            module("1", "2026-01-01", 1000).as_bytes(),
            &InstallOptions {
                allow_rollback: true,
            },
        );
        assert!(
            matches!(&back, Ok(i) if i.replaced == vec!["1".to_string(), "2".to_string()]),
            "{back:?}"
        );
        assert_eq!(limit(&e, "2026-12-01").as_deref(), Some("1000"));
    }

    #[test]
    fn an_invalid_module_is_refused_and_the_old_one_keeps_deciding() {
        let e = engine();
        let bad = e.install(
            b"data limits version \"2\" effective 2026-06-01 { users = \"many\" }",
            &InstallOptions::default(),
        );
        assert!(matches!(bad, Err(ModuleError::Invalid { .. })), "{bad:?}");
        let trusted = Engine::from_memory(
            &[("t/law.norm", LAW)],
            &[],
            EngineOptions {
                kind: EngineKind::Jit,
                trust: Some(TrustStore::default()),
            },
        );
        let unsigned = trusted.map(|t| {
            t.install(
                module("2", "2026-06-01", 1).as_bytes(),
                &InstallOptions::default(),
            )
        });
        assert!(
            matches!(unsigned, Ok(Err(ModuleError::Unsigned { .. }))),
            "{unsigned:?}"
        );
        assert_eq!(limit(&e, "2026-12-01").as_deref(), Some("1000"));
    }

    /// Decisions on four threads while 200 versions are installed: each decision's recorded
    /// version matches the value it decided with (never a torn read), none fails.
    #[test]
    fn decisions_during_installs_are_never_torn() {
        let e = engine();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let day = Date::parse("2026-12-01").unwrap_or(Date::EPOCH);
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (e, stop) = (e.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut n = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let d = e
                            .decide(
                                &serde_json::json!({"users": 5}),
                                day,
                                DecideOptions::default(),
                            )
                            .map_err(|e| e.to_string())?;
                        let version = d
                            .data
                            .first()
                            .map(|m| m.version.clone())
                            .unwrap_or_default();
                        let limit = d
                            .values
                            .get("limit")
                            .map(ToString::to_string)
                            .unwrap_or_default();
                        // Version k has users = k * 1000.
                        if format!("{version}000") != limit {
                            return Err(format!("torn: version {version}, limit {limit}"));
                        }
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        for k in 2..=200u32 {
            let r = e.install(
                module(&k.to_string(), "2026-01-01", k * 1000).as_bytes(),
                &InstallOptions::default(),
            );
            assert!(r.is_ok(), "{r:?}");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for w in workers {
            let r = w.join().map_err(|_| "panicked".to_string()).and_then(|r| r);
            assert!(matches!(r, Ok(n) if n > 0), "{r:?}");
        }
        // Same date, newer version: replaced, not accumulated.
        assert_eq!(e.snapshot().data().len(), 1);
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
                    .decide(&facts, day, DecideOptions::default())
                    .map(|d| serde_json::to_string(&d.values).unwrap_or_default());
                let y = interp
                    .decide(&facts, day, DecideOptions::default())
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
