//! The set of source files a compilation sees, and the trait through which the compiler reads
//! more of them (for `import`). The compiler itself does no I/O: whoever drives it supplies a
//! [`Loader`] (the runtime has one over the real file system; tests use an in-memory one).

use crate::span::FileId;
use codespan_reporting::files::{Files, SimpleFile};
use std::path::{Path, PathBuf};

/// One source file: its display name, canonical path (if it came from disk) and text.
pub struct SourceFile {
    pub name: String,
    pub path: Option<PathBuf>,
    pub file: SimpleFile<String, String>,
}

/// All files of one compilation. Diagnostics refer into it by [`FileId`].
#[derive(Default)]
pub struct SourceDb {
    files: Vec<SourceFile>,
}

impl SourceDb {
    pub fn new() -> Self {
        SourceDb::default()
    }

    pub fn add(&mut self, name: impl Into<String>, path: Option<PathBuf>, text: String) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        let name = name.into();
        self.files.push(SourceFile {
            name: name.clone(),
            path,
            file: SimpleFile::new(name, text),
        });
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn text(&self, id: FileId) -> &str {
        self.get(id).map(|f| f.file.source().as_str()).unwrap_or("")
    }

    pub fn name(&self, id: FileId) -> &str {
        self.get(id).map(|f| f.name.as_str()).unwrap_or("<unknown>")
    }

    pub fn find_path(&self, path: &Path) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.path.as_deref() == Some(path))
            .and_then(|i| u32::try_from(i).ok())
            .map(FileId)
    }

    pub fn ids(&self) -> impl Iterator<Item = FileId> + '_ {
        (0..self.files.len()).filter_map(|i| u32::try_from(i).ok().map(FileId))
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, id: FileId, offset: usize) -> (usize, usize) {
        match self.location(id, offset) {
            Ok(loc) => (loc.line_number, loc.column_number),
            Err(_) => (1, 1),
        }
    }
}

impl<'a> Files<'a> for SourceDb {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, codespan_reporting::files::Error> {
        self.get(id)
            .map(|f| f.name.as_str())
            .ok_or(codespan_reporting::files::Error::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, codespan_reporting::files::Error> {
        self.get(id)
            .map(|f| f.file.source().as_str())
            .ok_or(codespan_reporting::files::Error::FileMissing)
    }

    fn line_index(
        &'a self,
        id: FileId,
        byte_index: usize,
    ) -> Result<usize, codespan_reporting::files::Error> {
        self.get(id)
            .ok_or(codespan_reporting::files::Error::FileMissing)?
            .file
            .line_index((), byte_index)
    }

    fn line_range(
        &'a self,
        id: FileId,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, codespan_reporting::files::Error> {
        self.get(id)
            .ok_or(codespan_reporting::files::Error::FileMissing)?
            .file
            .line_range((), line_index)
    }
}

/// How the compiler reaches files it was not handed directly (`import`, directories).
pub trait Loader {
    /// The raw bytes of a file.
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    /// `Some(entries)` if `path` is a directory: its `.norm` files and subdirectories, sorted.
    fn list_dir(&self, path: &Path) -> std::io::Result<Option<Vec<PathBuf>>>;
    /// A canonical form of the path, so that one file is loaded once.
    fn canonical(&self, path: &Path) -> PathBuf {
        path.to_path_buf()
    }
}

/// Whether a directory entry may be part of a law, by its name alone: hidden entries (`.git`,
/// Emacs's `.#ch4.norm` lock links, Vim's `.ch4.norm.swp`) and editor backups (`ch4.norm~`,
/// `#ch4.norm#`) never are; of files, only `.norm` files are. Every loader that lists
/// directories (the CLI's, the language server's) applies this one rule.
pub fn is_source_entry(name: &str, is_dir: bool) -> bool {
    if name.starts_with('.') || name.starts_with('#') || name.ends_with('~') || name.ends_with('#')
    {
        return false;
    }
    is_dir || name.ends_with(".norm")
}

/// Decodes a file's bytes as UTF-8, or says where the first invalid byte is (1-based line and
/// column of the valid prefix).
pub fn decode_utf8(bytes: Vec<u8>) -> Result<String, (usize, usize, usize)> {
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let prefix = String::from_utf8_lossy(bytes.get(..valid).unwrap_or_default());
            let line = prefix.matches('\n').count() + 1;
            let col = prefix
                .rsplit('\n')
                .next()
                .map(|l| l.chars().count())
                .unwrap_or(0)
                + 1;
            Err((valid, line, col))
        }
    }
}
