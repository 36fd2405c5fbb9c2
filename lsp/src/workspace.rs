//! The server's view of the world: the open documents (their text wins over the files on
//! disk), which law each belongs to, and the latest analysis of each law.
//!
//! A law is the directory holding its `law` header file; a document is analysed as part of
//! its law, with the law's data directory (as `norm eval` does), so an edit in one file
//! re-checks all the files of the law. A file outside any law is analysed alone.
//!
//! Finding a document's law reads the disk, so it looks only where the document's law can be
//! ([`law_root`]): the document's own directory, the law beside a data directory, then the
//! ancestors, never above the workspace ([`bound`]) and never down into other subtrees; the
//! law found is compiled with everything beneath it. Directory entries that cannot be sources
//! (hidden files, editor backups: [`is_source_entry`]) are never read, and an entry that
//! cannot be read (a dangling symlink) is skipped, as the CLI's loader does.
//!
//! Analyses are immutable snapshots behind an `Arc`, tagged with the law's generation (bumped
//! by every edit): a request reads the latest snapshot, recompiling first if an edit made it
//! stale; one compilation of a law runs at a time (others wait for its result).

use norm_compiler::driver::{self, Compilation};
use norm_compiler::files::{Loader, is_source_entry};
use norm_compiler::index::{Index, SourceFile};
use norm_compiler::span::FileId;
use norm_runtime::engine::FsLoader;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use tower_lsp_server::ls_types::Uri;

use crate::text::LineIndex;

/// An open document.
#[derive(Clone, Debug)]
pub struct Doc {
    pub uri: Uri,
    pub text: String,
    pub version: i32,
}

/// The state of one law.
#[derive(Default)]
pub struct Law {
    /// What is compiled: the law's directory, and its data directory if any.
    pub paths: Vec<PathBuf>,
    /// Bumped by every change to a document of the law.
    pub generation: u64,
    pub latest: Option<Arc<Analysis>>,
    /// The generation whose diagnostics were published last, and the files that got some.
    pub published_generation: u64,
    pub published: HashSet<PathBuf>,
    /// Held while compiling, so that one compilation of the law runs at a time.
    pub compiling: Arc<Mutex<()>>,
}

#[derive(Default)]
pub struct State {
    /// Open documents by canonical path.
    pub docs: HashMap<PathBuf, Doc>,
    /// Laws by root (the law's directory, or a lone file).
    pub laws: HashMap<PathBuf, Law>,
    /// The law root of each document seen (found once: it reads the disk).
    pub roots: HashMap<PathBuf, PathBuf>,
    /// The client's workspace folders (canonical), from `initialize`.
    pub folders: Vec<PathBuf>,
}

/// Locks, recovering from a poisoned lock (a panic elsewhere must not stop the server).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The canonical path of a file URI (`None` for other schemes).
pub fn uri_path(uri: &Uri) -> Option<PathBuf> {
    if !uri.as_str().starts_with("file:") {
        return None;
    }
    let p = uri.to_file_path()?.into_owned();
    Some(canonical(&p))
}

pub fn canonical(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p) {
        return c;
    }
    // A file not (yet) on disk: canonicalise its directory.
    match (p.parent(), p.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or_else(|_| p.to_path_buf()),
        _ => p.to_path_buf(),
    }
}

/// Whether a source text begins with the `law` header (the CLI's rule).
fn is_law_header(text: &str) -> bool {
    driver::law_header_name(text).is_some()
}

/// Whether a directory entry's name may be a source (a file if `is_dir` is false).
fn source_name(path: &Path, is_dir: bool) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| is_source_entry(n, is_dir))
}

/// The entries of a directory that may be sources, with whether each is a directory. An entry
/// whose metadata cannot be read (a dangling symlink) is none.
fn source_entries(dir: &Path) -> Vec<(PathBuf, bool)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, bool)> = entries
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            // `metadata` follows symlinks.
            let is_dir = std::fs::metadata(&p).ok()?.is_dir();
            source_name(&p, is_dir).then_some((p, is_dir))
        })
        .collect();
    out.sort();
    out
}

/// Whether a directory directly holds a law header file (open documents first, then the
/// disk; not its subdirectories).
fn holds_law(dir: &Path, docs: &HashMap<PathBuf, Doc>) -> bool {
    if docs
        .iter()
        .any(|(p, d)| p.parent() == Some(dir) && source_name(p, false) && is_law_header(&d.text))
    {
        return true;
    }
    source_entries(dir).into_iter().any(|(p, is_dir)| {
        !is_dir
            && !docs.contains_key(&p)
            && std::fs::read(&p)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .is_some_and(|t| is_law_header(&t))
    })
}

/// The directory above which no law is looked for a file: the deepest workspace folder that
/// holds it; for a file outside every folder (or a client that named none), the nearest
/// ancestor holding `.git` (the repository); else the parent of the file's directory (room
/// for the law beside a data directory, and no more).
pub fn bound(file: &Path, folders: &[PathBuf]) -> PathBuf {
    if let Some(f) = folders
        .iter()
        .filter(|f| file.starts_with(f))
        .max_by_key(|f| f.components().count())
    {
        return f.clone();
    }
    let dir = file.parent().unwrap_or(file);
    if let Some(repo) = dir.ancestors().find(|a| a.join(".git").exists()) {
        return repo.to_path_buf();
    }
    dir.parent().unwrap_or(dir).to_path_buf()
}

/// The root of the law a file belongs to, looking in this order and never above `bound`:
///
/// 1. the file's own directory, if it holds a law header;
/// 2. for a file in a data directory `D` (named `data`, as the CLI's data directory of a law
///    `L` is `L/data`, else `L/../data`): `D/..` if it holds a law header, else the first
///    directory directly inside `D/..` (by name) that does;
/// 3. the nearest ancestor of the file's directory that holds a law header.
///
/// Else (and for a file whose name cannot be a source: hidden, a backup) the file alone.
pub fn law_root(file: &Path, docs: &HashMap<PathBuf, Doc>, bound: &Path) -> PathBuf {
    let Some(dir) = file.parent() else {
        return file.to_path_buf();
    };
    if !source_name(file, false) {
        return file.to_path_buf();
    }
    if holds_law(dir, docs) {
        return dir.to_path_buf();
    }
    if dir.file_name().is_some_and(|n| n == "data")
        && dir != bound
        && dir.starts_with(bound)
        && let Some(up) = dir.parent()
    {
        if holds_law(up, docs) {
            return up.to_path_buf();
        }
        if let Some((law, _)) = source_entries(up)
            .into_iter()
            .find(|(p, is_dir)| *is_dir && p != dir && holds_law(p, docs))
        {
            return law;
        }
    }
    for a in dir.ancestors().skip(1) {
        if !a.starts_with(bound) {
            break;
        }
        if holds_law(a, docs) {
            return a.to_path_buf();
        }
    }
    file.to_path_buf()
}

/// What to compile for a law root: the directory and its data directory (`LAW/data`, which is
/// beneath it, else `LAW/../data`), or the lone file.
pub fn law_paths(root: &Path, file: &Path) -> Vec<PathBuf> {
    let mut paths = vec![root.to_path_buf()];
    // The CLI's rule (`driver::default_data_dir`); `LAW/data` is compiled with the law.
    if root.is_dir()
        && let Some(data) = driver::default_data_dir(&FsLoader, &[root.to_path_buf()])
        && !data.starts_with(root)
    {
        paths.push(data);
    }
    if !file.starts_with(root) && !paths.iter().any(|p| file.starts_with(p)) {
        paths.push(file.to_path_buf());
    }
    paths
}

/// Reads open documents from memory and everything else from disk.
pub struct OverlayLoader {
    pub docs: HashMap<PathBuf, String>,
}

impl Loader for OverlayLoader {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self.docs.get(&canonical(path)) {
            Some(t) => Ok(t.as_bytes().to_vec()),
            None => FsLoader.read(path),
        }
    }

    fn list_dir(&self, path: &Path) -> std::io::Result<Option<Vec<PathBuf>>> {
        if self.docs.contains_key(&canonical(path)) {
            return Ok(None);
        }
        match FsLoader.list_dir(path) {
            Ok(Some(mut entries)) => {
                // Open documents not saved yet are part of their directory.
                let dir = canonical(path);
                for p in self.docs.keys() {
                    if p.parent() == Some(dir.as_path())
                        && source_name(p, false)
                        && !entries.iter().any(|e| canonical(e) == *p)
                    {
                        entries.push(p.clone());
                    }
                }
                entries.sort();
                Ok(Some(entries))
            }
            other => other,
        }
    }

    fn canonical(&self, path: &Path) -> PathBuf {
        canonical(path)
    }
}

/// One compiled law, with everything the features read.
pub struct Analysis {
    pub generation: u64,
    pub compilation: Compilation,
    /// The checked program, even with errors (an empty one if the law could not be checked).
    pub program: norm_compiler::ir::Program,
    pub index: Index,
    /// Canonical path of each file of the compilation.
    pub paths: HashMap<PathBuf, FileId>,
    pub lines: HashMap<FileId, LineIndex>,
    /// The open documents' URIs and versions at the time of the compilation.
    pub uris: HashMap<PathBuf, Uri>,
    pub versions: HashMap<PathBuf, i32>,
}

impl Analysis {
    pub fn compile(generation: u64, loader: &OverlayLoader, paths: &[PathBuf]) -> Analysis {
        let compilation = driver::compile(loader, paths);
        let program = compilation.checked().cloned().unwrap_or_default();
        let files: Vec<SourceFile<'_>> = compilation
            .law_files
            .iter()
            .chain(compilation.data_files.iter())
            .map(|f| SourceFile {
                ast: &f.ast,
                comments: &f.comments,
                text: compilation.db.text(f.id),
            })
            .collect();
        let index = Index::build(&files, &program);
        let mut file_paths = HashMap::new();
        let mut lines = HashMap::new();
        for id in compilation.db.ids() {
            if let Some(f) = compilation.db.get(id) {
                if let Some(p) = &f.path {
                    file_paths.insert(p.clone(), id);
                }
                lines.insert(id, LineIndex::new(compilation.db.text(id)));
            }
        }
        Analysis {
            generation,
            compilation,
            program,
            index,
            paths: file_paths,
            lines,
            uris: HashMap::new(),
            versions: HashMap::new(),
        }
    }

    pub fn file(&self, path: &Path) -> Option<FileId> {
        self.paths.get(path).copied()
    }

    pub fn text(&self, id: FileId) -> &str {
        self.compilation.db.text(id)
    }

    pub fn path(&self, id: FileId) -> Option<&Path> {
        self.compilation.db.get(id).and_then(|f| f.path.as_deref())
    }

    pub fn uri(&self, id: FileId) -> Option<Uri> {
        let p = self.path(id)?;
        self.uris.get(p).cloned().or_else(|| Uri::from_file_path(p))
    }

    pub fn line_index(&self, id: FileId) -> Option<&LineIndex> {
        self.lines.get(&id)
    }

    pub fn range(
        &self,
        span: norm_compiler::span::Span,
    ) -> Option<tower_lsp_server::ls_types::Range> {
        let ix = self.line_index(span.file)?;
        Some(ix.range(self.text(span.file), span.start as usize, span.end as usize))
    }

    pub fn location(
        &self,
        span: norm_compiler::span::Span,
    ) -> Option<tower_lsp_server::ls_types::Location> {
        Some(tower_lsp_server::ls_types::Location {
            uri: self.uri(span.file)?,
            range: self.range(span)?,
        })
    }
}

/// The shared state and the operations on it. Cheap to clone.
#[derive(Clone, Default)]
pub struct Workspace {
    pub state: Arc<Mutex<State>>,
}

impl Workspace {
    /// Registers a document's text; returns its law's root. Bumps the law's generation.
    pub fn set_doc(&self, path: PathBuf, doc: Doc) -> PathBuf {
        let mut st = lock(&self.state);
        st.docs.insert(path.clone(), doc);
        let root = match st.roots.get(&path) {
            Some(r) => r.clone(),
            None => {
                let r = law_root(&path, &st.docs, &bound(&path, &st.folders));
                st.roots.insert(path.clone(), r.clone());
                r
            }
        };
        let paths = law_paths(&root, &path);
        let law = st.laws.entry(root.clone()).or_default();
        if law.paths.is_empty() {
            law.paths = paths;
        } else {
            for p in paths {
                if !law.paths.contains(&p) {
                    law.paths.push(p);
                }
            }
        }
        law.generation += 1;
        root
    }

    /// Sets the client's workspace folders (from `initialize`), which bound the search for a
    /// document's law.
    pub fn set_folders(&self, folders: Vec<PathBuf>) {
        lock(&self.state).folders = folders;
    }

    /// The law a path belongs to (for a document already registered).
    pub fn law_of(&self, path: &Path) -> Option<PathBuf> {
        let st = lock(&self.state);
        if let Some(root) = st.roots.get(path) {
            return Some(root.clone());
        }
        st.laws
            .iter()
            .find(|(_, l)| l.paths.iter().any(|p| path.starts_with(p)))
            .map(|(r, _)| r.clone())
    }

    /// Every law whose files include `path` (an edit there makes them stale).
    pub fn touch(&self, path: &Path) -> Vec<PathBuf> {
        let mut st = lock(&self.state);
        let mut out = Vec::new();
        for (root, law) in st.laws.iter_mut() {
            if law.paths.iter().any(|p| path.starts_with(p)) {
                law.generation += 1;
                out.push(root.clone());
            }
        }
        out
    }

    pub fn generation(&self, root: &Path) -> u64 {
        lock(&self.state)
            .laws
            .get(root)
            .map(|l| l.generation)
            .unwrap_or(0)
    }

    pub fn doc(&self, path: &Path) -> Option<Doc> {
        lock(&self.state).docs.get(path).cloned()
    }

    /// The latest analysis of a law, compiling it if an edit made it stale. Blocking: call it
    /// from a blocking thread.
    pub fn analysis(&self, root: &Path) -> Option<Arc<Analysis>> {
        let compiling = {
            let st = lock(&self.state);
            let law = st.laws.get(root)?;
            if let Some(a) = &law.latest
                && a.generation == law.generation
            {
                return Some(a.clone());
            }
            law.compiling.clone()
        };
        let _guard = lock(&compiling);
        let (generation, paths, loader, uris, versions) = {
            let st = lock(&self.state);
            let law = st.laws.get(root)?;
            if let Some(a) = &law.latest
                && a.generation == law.generation
            {
                return Some(a.clone());
            }
            let docs: HashMap<PathBuf, String> = st
                .docs
                .iter()
                .map(|(p, d)| (p.clone(), d.text.clone()))
                .collect();
            let uris: HashMap<PathBuf, Uri> = st
                .docs
                .iter()
                .map(|(p, d)| (p.clone(), d.uri.clone()))
                .collect();
            let versions: HashMap<PathBuf, i32> = st
                .docs
                .iter()
                .map(|(p, d)| (p.clone(), d.version))
                .collect();
            (
                law.generation,
                law.paths.clone(),
                OverlayLoader { docs },
                uris,
                versions,
            )
        };
        let mut analysis = Analysis::compile(generation, &loader, &paths);
        analysis.uris = uris;
        analysis.versions = versions;
        let analysis = Arc::new(analysis);
        let mut st = lock(&self.state);
        if let Some(law) = st.laws.get_mut(root)
            && law
                .latest
                .as_ref()
                .is_none_or(|a| a.generation < generation)
        {
            law.latest = Some(analysis.clone());
        }
        Some(analysis)
    }
}
