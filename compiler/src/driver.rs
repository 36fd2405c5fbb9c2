//! The compilation pipeline as one call: gather the files under the given paths (following
//! `import`s through the [`Loader`]), parse them, sort law files from data files, check the law,
//! check the data modules against it.
//!
//! A file is a data file when its first declaration is a `data NAME version …` module; every
//! other file belongs to the law.

use crate::check;
use crate::diagnostic::Diagnostic;
use crate::files::{Loader, SourceDb, decode_utf8};
use crate::ir::{DataModule, Program};
use crate::span::{FileId, Span};
use crate::syntax::ast::{self, ItemKind};
use crate::syntax::lexer::Comment;
use crate::syntax::parser;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Files larger than this are refused before lexing.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

pub struct ParsedFile {
    pub id: FileId,
    pub ast: ast::File,
    pub comments: Vec<Comment>,
}

/// Everything a compilation produced. `program` is `Some` only if the law checked without
/// errors (warnings allowed).
#[derive(Default)]
pub struct Compilation {
    pub db: SourceDb,
    pub law_files: Vec<ParsedFile>,
    pub data_files: Vec<ParsedFile>,
    pub program: Option<Program>,
    /// The checked program when it has errors (for tools that show partial results); an
    /// error-free one is in `program` ([`Compilation::checked`] gives either).
    pub partial: Option<Program>,
    pub data: Vec<DataModule>,
    pub diagnostics: Vec<Diagnostic>,
    /// Some file could not be parsed at all: the law was not checked.
    pub fatal: bool,
}

impl Compilation {
    /// The checked program, with errors or without (for tools that show partial results).
    pub fn checked(&self) -> Option<&Program> {
        self.program.as_ref().or(self.partial.as_ref())
    }
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Loads, parses and checks everything under `paths` (files or directories).
pub fn compile(loader: &dyn Loader, paths: &[PathBuf]) -> Compilation {
    compile_with(loader, paths, true)
}

/// [`compile`], checking the law's `test` blocks or not (a law loaded only to decide cases
/// does not run them; `check`, `test` and the editor do).
pub fn compile_with(loader: &dyn Loader, paths: &[PathBuf], tests: bool) -> Compilation {
    let mut c = Compilation::default();
    let mut seen = HashSet::new();
    let mut queue: Vec<(PathBuf, Option<Span>)> = paths.iter().map(|p| (p.clone(), None)).collect();
    while let Some((path, from)) = queue.pop() {
        load_path(loader, &path, from, &mut c, &mut seen, &mut queue, tests);
    }
    c.law_files.sort_by_key(|f| f.id);
    c.data_files.sort_by_key(|f| f.id);
    if c.law_files.is_empty() {
        if !c.data_files.is_empty() {
            c.diagnostics.push(
                Diagnostic::error("E0170", "data modules need a law")
                    .note("pass the law's directory too: its `data schema`s are what data modules are checked against"),
            );
        }
        return c;
    }
    if c.fatal {
        return c;
    }
    let asts: Vec<&ast::File> = c.law_files.iter().map(|f| &f.ast).collect();
    let (program, mut diags) = check::check_law_with(&asts, tests);
    if c.diagnostics.iter().any(Diagnostic::is_error) {
        // Syntax errors hid some uses: "never used" warnings would be noise.
        diags.retain(|d| !matches!(d.code, "W0103" | "W0104"));
    }
    let law_ok =
        !diags.iter().any(Diagnostic::is_error) && !c.diagnostics.iter().any(Diagnostic::is_error);
    c.diagnostics.extend(diags);
    if law_ok {
        for f in &c.data_files {
            let (modules, diags) = check::check_data_file(&program, &f.ast);
            let hash = crate::ir::source_hash(c.db.text(f.id).as_bytes());
            c.data
                .extend(modules.into_iter().map(|m| crate::ir::DataModule {
                    hash: hash.clone(),
                    ..m
                }));
            c.diagnostics.extend(diags);
        }
        check_duplicate_modules(&mut c);
    }
    // One program, never copied: error-free in `program`, else in `partial`.
    if c.has_errors() {
        c.partial = Some(program);
    } else {
        c.program = Some(program);
    }
    c
}

/// Which law and which data `paths` mean, compiled: the one rule every command follows (`check`,
/// `test`, `eval`, `schema`, `diff`, and the embedding API through `Engine::load`).
///
/// - A directory is the law made of every source file beneath it; a file whose first
///   declaration is `data NAME version …` is a data module, any other belongs to the law.
/// - The data: `data` when given (`--data DIR`); else the data modules found among `paths`;
///   else the data directory beside the law ([`default_data_dir`]).
/// - One file of a law (a file without a `law` header, in a directory whose law header is in
///   another file) is refused with one diagnostic that names the law's directory, rather than
///   checked alone into a cascade of unknown names.
pub fn compile_law(
    loader: &dyn Loader,
    paths: &[PathBuf],
    data: Option<&[PathBuf]>,
) -> Compilation {
    compile_law_with(loader, paths, data, true)
}

/// [`compile_law`], checking the `test` blocks or not (see [`compile_with`]).
pub fn compile_law_with(
    loader: &dyn Loader,
    paths: &[PathBuf],
    data: Option<&[PathBuf]>,
    tests: bool,
) -> Compilation {
    if let [path] = paths
        && let Some(d) = part_of_a_law(loader, path)
    {
        return Compilation {
            diagnostics: vec![d],
            ..Compilation::default()
        };
    }
    let mut c = compile_with(loader, paths, tests);
    let data_paths: Vec<PathBuf> = match data {
        // Given data replaces any found among the law's paths.
        Some(d) => {
            c.data.clear();
            c.data_files.clear();
            d.to_vec()
        }
        None if c.data_files.is_empty() => default_data_dir(loader, paths).into_iter().collect(),
        None => Vec::new(),
    };
    if data_paths.is_empty() {
        return c;
    }
    let Some(program) = c.program.take() else {
        return c;
    };
    load_data_into(loader, &program, &mut c, &data_paths);
    if !c.has_errors() {
        c.program = Some(program);
    }
    c
}

/// The data directory of a law: `LAW/data`, else `LAW/../data` (the stdlib layout:
/// `stdlib/mail` beside `stdlib/data`), where `LAW` is the first path (or its directory).
pub fn default_data_dir(loader: &dyn Loader, law: &[PathBuf]) -> Option<PathBuf> {
    let is_dir = |p: &Path| loader.list_dir(p).ok().flatten().is_some();
    let first = law.first()?;
    let dir = if is_dir(first) {
        first.clone()
    } else {
        first.parent()?.to_path_buf()
    };
    let sibling = dir.parent().map(|p| p.join("data"));
    [Some(dir.join("data")), sibling]
        .into_iter()
        .flatten()
        .find(|c| is_dir(c))
}

/// Whether a source text begins with a `law` header (after comments and blank lines), and the
/// law's name.
pub fn law_header_name(text: &str) -> Option<&str> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("//"))?;
    let rest = line.strip_prefix("law")?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some(rest.split_whitespace().next().unwrap_or(""))
}

/// Whether a source text begins with a data module (`data NAME version …`).
fn is_data_text(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("//"))
        .is_some_and(|l| l.starts_with("data ") && !l.starts_with("data schema"))
}

/// `path` is one file of a law whose header is in another file of its directory: the
/// diagnostic that says so.
fn part_of_a_law(loader: &dyn Loader, path: &Path) -> Option<Diagnostic> {
    if !matches!(loader.list_dir(path), Ok(None)) {
        return None;
    }
    let text = decode_utf8(loader.read(path).ok()?).ok()?;
    if law_header_name(&text).is_some() || is_data_text(&text) {
        return None;
    }
    let dir = path.parent()?;
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let entries = loader.list_dir(dir).ok()??;
    let (header, name) = entries.iter().filter(|e| *e != path).find_map(|e| {
        let t = decode_utf8(loader.read(e).ok()?).ok()?;
        law_header_name(&t).map(|n| (e.clone(), n.to_string()))
    })?;
    Some(
        Diagnostic::error(
            "E0008",
            format!(
                "`{}` is one file of the law `{name}` in `{}`",
                path.display(),
                dir.display()
            ),
        )
        .note(format!(
            "the law's header is in `{}`; a law is all of its files, and one file alone refers to names the others declare",
            header.display()
        ))
        .help(format!("pass the law's directory instead: `{}`", dir.display())),
    )
}

/// Parses and checks data files against an already compiled law (for `--data DIR`).
pub fn load_data(
    loader: &dyn Loader,
    program: &Program,
    db: &mut SourceDb,
    paths: &[PathBuf],
) -> (Vec<DataModule>, Vec<Diagnostic>) {
    let mut c = Compilation {
        db: std::mem::take(db),
        ..Compilation::default()
    };
    load_data_into(loader, program, &mut c, paths);
    *db = c.db;
    (c.data, c.diagnostics)
}

/// Loads the data modules under `paths` into `c`, checked against `program`.
fn load_data_into(loader: &dyn Loader, program: &Program, c: &mut Compilation, paths: &[PathBuf]) {
    let mut seen = HashSet::new();
    let mut queue: Vec<(PathBuf, Option<Span>)> = paths.iter().map(|p| (p.clone(), None)).collect();
    let mut files = Compilation {
        db: std::mem::take(&mut c.db),
        ..Compilation::default()
    };
    while let Some((path, from)) = queue.pop() {
        load_path(
            loader, &path, from, &mut files, &mut seen, &mut queue, false,
        );
    }
    c.db = std::mem::take(&mut files.db);
    c.diagnostics.append(&mut files.diagnostics);
    for f in &files.law_files {
        let span = Span::new(f.id, 0, 0);
        c.diagnostics.push(
            Diagnostic::error("E0171", "not a data module")
                .at(span, "this file holds rules")
                .help("a data directory holds files that begin with `data NAME version \"…\" effective DATE`"),
        );
    }
    files.data_files.sort_by_key(|f| f.id);
    for f in &files.data_files {
        let (modules, diags) = check::check_data_file(program, &f.ast);
        let hash = crate::ir::source_hash(c.db.text(f.id).as_bytes());
        c.data
            .extend(modules.into_iter().map(|m| crate::ir::DataModule {
                hash: hash.clone(),
                ..m
            }));
        c.diagnostics.extend(diags);
    }
    c.data_files.append(&mut files.data_files);
    check_duplicate_modules(c);
}

fn check_duplicate_modules(c: &mut Compilation) {
    let mut seen: Vec<(&str, crate::date::Date, Span)> = Vec::new();
    let mut errors = Vec::new();
    for m in &c.data {
        if let Some((_, _, prev)) = seen
            .iter()
            .find(|(n, d, _)| *n == m.name && *d == m.effective)
        {
            errors.push(
                Diagnostic::error(
                    "E0172",
                    format!(
                        "two versions of data module `{}` take effect on {}",
                        m.name, m.effective
                    ),
                )
                .at(m.span, "this one")
                .also(*prev, "and this one")
                .help("give each version its own effective date"),
            );
        }
        seen.push((&m.name, m.effective, m.span));
    }
    c.diagnostics.extend(errors);
}

fn load_path(
    loader: &dyn Loader,
    path: &Path,
    from: Option<Span>,
    c: &mut Compilation,
    seen: &mut HashSet<PathBuf>,
    queue: &mut Vec<(PathBuf, Option<Span>)>,
    tests: bool,
) {
    let canonical = loader.canonical(path);
    if !seen.insert(canonical.clone()) {
        return;
    }
    match loader.list_dir(path) {
        Ok(Some(entries)) => {
            // Reverse so that the queue (a stack) yields them in sorted order.
            for e in entries.into_iter().rev() {
                queue.push((e, from));
            }
            return;
        }
        Ok(None) => {}
        Err(e) => {
            c.diagnostics.push(io_error(path, from, &e));
            return;
        }
    }
    let bytes = match loader.read(path) {
        Ok(b) => b,
        Err(e) => {
            c.diagnostics.push(io_error(path, from, &e));
            return;
        }
    };
    let name = path.display().to_string();
    if bytes.len() > MAX_FILE_BYTES {
        let mut d = Diagnostic::error(
            "E0005",
            format!("`{name}` is too large ({} bytes)", bytes.len()),
        )
        .note(format!(
            "source files are limited to {MAX_FILE_BYTES} bytes"
        ));
        if let Some(s) = from {
            d = d.at(s, "imported here");
        }
        c.diagnostics.push(d);
        return;
    }
    let text = match decode_utf8(bytes) {
        Ok(t) => t,
        Err((offset, line, col)) => {
            c.diagnostics.push(
                Diagnostic::error("E0006", format!("`{name}` is not valid UTF-8"))
                    .note(format!(
                        "{name}:{line}:{col}: invalid byte at offset {offset}"
                    ))
                    .help("save the file as UTF-8"),
            );
            return;
        }
    };
    let id = c.db.add(name, Some(canonical), text);
    // A law loaded only to decide cases does not parse its tests (they are never checked).
    let parsed = parser::parse_with(id, c.db.text(id), tests);
    c.diagnostics.extend(parsed.errors);
    c.fatal |= parsed.fatal;
    let is_data = parsed
        .file
        .items
        .iter()
        .find(|i| !matches!(i.kind, ItemKind::Error))
        .is_some_and(|i| matches!(i.kind, ItemKind::DataModule { .. }));
    if !is_data {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for item in &parsed.file.items {
            if let ItemKind::Import { path: p } = &item.kind {
                queue.push((dir.join(&p.node), Some(p.span)));
            }
        }
    }
    let file = ParsedFile {
        id,
        ast: parsed.file,
        comments: parsed.comments,
    };
    if is_data {
        c.data_files.push(file)
    } else {
        c.law_files.push(file)
    }
}

fn io_error(path: &Path, from: Option<Span>, e: &std::io::Error) -> Diagnostic {
    let mut d = Diagnostic::error("E0007", format!("cannot read `{}`: {e}", path.display()));
    if let Some(s) = from {
        d = d.at(s, "imported here");
    }
    d
}

/// Parses and checks a single expression against a law.
pub fn compile_expr(
    db: &mut SourceDb,
    program: &Program,
    src: &str,
) -> Result<crate::ir::Expr, Vec<Diagnostic>> {
    let id = db.add("<expr>", None, src.to_string());
    let e = parser::parse_expr(id, db.text(id))?;
    let (x, diags) = check::check_expr(program, &e);
    if diags.iter().any(Diagnostic::is_error) {
        Err(diags)
    } else {
        Ok(x)
    }
}

/// An in-memory loader, for tests and for tools that hold sources themselves.
#[derive(Default)]
pub struct MemoryLoader {
    pub files: std::collections::BTreeMap<PathBuf, Vec<u8>>,
}

impl MemoryLoader {
    pub fn with(files: &[(&str, &str)]) -> MemoryLoader {
        MemoryLoader {
            files: files
                .iter()
                .map(|(p, t)| (PathBuf::from(p), t.as_bytes().to_vec()))
                .collect(),
        }
    }
}

/// Resolves `.` and `..` without touching a file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

impl Loader for MemoryLoader {
    fn canonical(&self, path: &Path) -> PathBuf {
        normalize(path)
    }
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        let path = &normalize(path);
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
    }
    fn list_dir(&self, path: &Path) -> std::io::Result<Option<Vec<PathBuf>>> {
        let path = &normalize(path);
        if self.files.contains_key(path) {
            return Ok(None);
        }
        let entries: Vec<PathBuf> = self
            .files
            .keys()
            .filter(|p| p.starts_with(path))
            .cloned()
            .collect();
        if entries.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file or directory",
            ));
        }
        Ok(Some(entries))
    }
}
