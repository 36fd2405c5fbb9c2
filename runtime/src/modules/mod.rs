//! Data modules a regulator can publish: signed packages, a trust store of publisher keys, and
//! lists imported from JSON or CSV.
//!
//! A **package** ([`package`]) is one file holding one data module's source, a manifest (name,
//! version, effective date, the fingerprint of the data schema it was checked against, the
//! SHA-256 of the source, the publisher's key id, when it was signed) and an ed25519 signature
//! over the manifest's exact bytes. The manifest covers every byte of the source through its
//! hash, so the signature covers the whole module.
//!
//! **Trust** is decided in one place, [`trust::authenticate`], from the trust configuration
//! alone: the keys of the store, each scoped to the module names it may sign. What a package says
//! about itself (its key id, whether it is signed at all) never decides anything; with a trust
//! store configured a package without a signature is refused, whatever else it holds
//! (GHSA-g2pf-6v5v-qcc8 was the opposite). The signature is verified before anything in the
//! package is parsed beyond its envelope, and the module's source is parsed only after its hash
//! matched the signed manifest.
//!
//! [`open`] is the whole road from bytes to a checked [`DataModule`]: size, envelope, trust,
//! hash, schema fingerprint, the compiler's own check of the source against the law. Whether
//! the module is *newer* than what an engine already has is the engine's question
//! ([`crate::engine::Engine::install`]), answered with [`compare_versions`].

pub mod import;
pub mod keys;
pub mod package;
pub mod trust;

use norm_compiler::diagnostic::render;
use norm_compiler::driver::{self, MemoryLoader};
use norm_compiler::files::SourceDb;
use norm_compiler::ir::{DataModule, Program};
use norm_compiler::value::{Ty, Types};
use serde::Serialize;
use std::cmp::Ordering;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use package::{Manifest, Package};
pub use trust::TrustStore;

/// The largest package accepted, in bytes (16 MiB). A larger one is refused by its size, before
/// it is read: from a file, its length is checked first and at most this many bytes (plus one)
/// are ever read; from memory, before anything else. The stdlib's largest module (the working-day
/// calendar) is under 10 KiB.
pub const MAX_PACKAGE_BYTES: u64 = 16 * 1024 * 1024;

/// The file extension of a package.
pub const PACKAGE_EXTENSION: &str = "normpkg";

/// Why a module was refused. Each says what was wrong in words a publisher can act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModuleError {
    /// Larger than [`MAX_PACKAGE_BYTES`].
    TooLarge { bytes: u64, limit: u64 },
    /// Not a package at all, or a truncated one.
    Malformed { message: String },
    /// A trust store is configured and the package carries no signature.
    Unsigned { module: Option<String> },
    /// The signature does not verify with the key the package names (the manifest or the
    /// signature was changed after signing).
    BadSignature { key_id: Option<String> },
    /// The signature verifies with no key of the trust store.
    UntrustedKey { key_id: Option<String> },
    /// The key is in the trust store but may not sign this module.
    NotScoped {
        key_id: String,
        module: String,
        allowed: Vec<String>,
    },
    /// The source is not the one the manifest (and so the signature) covers.
    HashMismatch { expected: String, found: String },
    /// The module was checked against a different schema than this law's.
    SchemaMismatch {
        module: String,
        package: String,
        law: String,
    },
    /// The manifest and the source disagree (name, version or effective date).
    ManifestMismatch { message: String },
    /// The source does not check against the law (the compiler's diagnostics, rendered).
    Invalid { message: String },
    /// Not newer than the installed version of the same module (a replayed or older list).
    NotNewer {
        module: String,
        version: String,
        effective: String,
        installed_version: String,
        installed_effective: String,
    },
    /// With a trust store, a data module that is a plain source rather than a package.
    NotAPackage { path: String },
    /// A file could not be read.
    Io { message: String },
    /// A trust store or key file is wrong.
    Config { message: String },
    /// Should not happen (the new snapshot could not be built); the old one keeps serving.
    Internal { message: String },
}

impl std::fmt::Display for ModuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModuleError::TooLarge { bytes, limit } => write!(
                f,
                "the package is too large ({bytes} bytes): packages are limited to {limit} bytes"
            ),
            ModuleError::Malformed { message } => write!(f, "not a valid package: {message}"),
            ModuleError::Unsigned { module } => {
                let what = match module {
                    Some(m) => format!("module `{m}`"),
                    None => "the module".to_string(),
                };
                write!(
                    f,
                    "{what} is not signed, and a trust store is configured: every module must carry a signature by a key of the trust store"
                )
            }
            ModuleError::BadSignature { key_id } => match key_id {
                Some(k) => write!(
                    f,
                    "the signature does not verify with key `{k}`: the manifest or the signature was changed after signing"
                ),
                None => write!(
                    f,
                    "the signature does not verify: the manifest or the signature was changed after signing"
                ),
            },
            ModuleError::UntrustedKey { key_id } => match key_id {
                Some(k) => write!(
                    f,
                    "the package is signed by key `{k}`, which is not in the trust store"
                ),
                None => write!(f, "the signature verifies with no key of the trust store"),
            },
            ModuleError::NotScoped {
                key_id,
                module,
                allowed,
            } => {
                let may = if allowed.is_empty() {
                    "no module".to_string()
                } else {
                    allowed
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                write!(
                    f,
                    "key `{key_id}` is in the trust store but may not sign module `{module}` (it may sign: {may})"
                )
            }
            ModuleError::HashMismatch { expected, found } => write!(
                f,
                "the source is not the signed one: the manifest says SHA-256 {expected}, the source has {found}"
            ),
            ModuleError::SchemaMismatch {
                module,
                package,
                law,
            } => write!(
                f,
                "module `{module}` was checked against another schema (fingerprint {package}); this law's `{module}` schema has fingerprint {law}"
            ),
            ModuleError::ManifestMismatch { message } => {
                write!(f, "the manifest does not describe the source: {message}")
            }
            ModuleError::Invalid { message } => {
                write!(
                    f,
                    "the module does not fit the law:\n{}",
                    message.trim_end()
                )
            }
            ModuleError::NotNewer {
                module,
                version,
                effective,
                installed_version,
                installed_effective,
            } => write!(
                f,
                "module `{module}` version {version} (effective {effective}) is not newer than the installed version {installed_version} (effective {installed_effective}): versions only move forward"
            ),
            ModuleError::NotAPackage { path } => write!(
                f,
                "`{path}` is a plain data module, not a signed package: with a trust store every data module must be a package (`norm data sign`)"
            ),
            ModuleError::Io { message }
            | ModuleError::Config { message }
            | ModuleError::Internal { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for ModuleError {}

/// A module that passed every check: the checked module, and what vouched for it.
#[derive(Clone, Debug)]
pub struct Verified {
    pub module: DataModule,
    /// The manifest, when the module came in a package.
    pub manifest: Option<Manifest>,
    /// The trust store's key that signed it (its key id), when a trust store is configured.
    pub signed_by: Option<String>,
}

/// Reads a package (or a module source) from a file, refusing one larger than
/// [`MAX_PACKAGE_BYTES`] before reading it.
pub fn read_file(path: &Path) -> Result<Vec<u8>, ModuleError> {
    let io = |e: std::io::Error| ModuleError::Io {
        message: format!("cannot read `{}`: {e}", path.display()),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > MAX_PACKAGE_BYTES {
        return Err(ModuleError::TooLarge {
            bytes: len,
            limit: MAX_PACKAGE_BYTES,
        });
    }
    read_limited(file)
}

/// Reads at most [`MAX_PACKAGE_BYTES`] from a stream; more is an error, not a longer read.
pub fn read_limited(reader: impl Read) -> Result<Vec<u8>, ModuleError> {
    let mut out = Vec::new();
    reader
        .take(MAX_PACKAGE_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| ModuleError::Io {
            message: format!("cannot read the package: {e}"),
        })?;
    let len = u64::try_from(out.len()).unwrap_or(u64::MAX);
    if len > MAX_PACKAGE_BYTES {
        return Err(ModuleError::TooLarge {
            bytes: len,
            limit: MAX_PACKAGE_BYTES,
        });
    }
    Ok(out)
}

/// The files under `paths` that hold data modules: packages (`*.normpkg`) and plain sources
/// (`*.norm`), in name order, directories walked. Hidden files and editor backups are skipped.
pub fn module_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ModuleError> {
    let mut out = Vec::new();
    for p in paths {
        collect(p, &mut out)?;
    }
    Ok(out)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), ModuleError> {
    let meta = std::fs::metadata(path).map_err(|e| ModuleError::Io {
        message: format!("cannot read `{}`: {e}", path.display()),
    })?;
    if !meta.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(path).map_err(|e| ModuleError::Io {
        message: format!("cannot read `{}`: {e}", path.display()),
    })?;
    let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    for p in names {
        let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        let package = name.ends_with(&format!(".{PACKAGE_EXTENSION}"));
        if package && !name.starts_with('.') {
            out.push(p);
        } else if norm_compiler::files::is_source_entry(name, meta.is_dir()) {
            collect(&p, out)?;
        }
    }
    Ok(())
}

/// Whether bytes hold a package rather than a module's source (a package is a JSON object; a
/// source begins with `data` or a comment).
pub fn is_package(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

/// From bytes to a checked module, in this order: size; the package's envelope; with a trust
/// store, the signature and its scope ([`trust::authenticate`], which alone decides trust);
/// the source's hash against the manifest; the schema fingerprint against the law's; the
/// compiler's check of the source against the law; the manifest against the module.
///
/// Without a trust store a package is still checked for integrity (hash, fingerprint), and a
/// plain module source is accepted as a file would be; with one, only a package that verifies.
pub fn open(
    bytes: &[u8],
    program: &Program,
    trust: Option<&TrustStore>,
) -> Result<Verified, ModuleError> {
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if len > MAX_PACKAGE_BYTES {
        return Err(ModuleError::TooLarge {
            bytes: len,
            limit: MAX_PACKAGE_BYTES,
        });
    }
    if !is_package(bytes) {
        if trust.is_some() {
            return Err(ModuleError::Unsigned { module: None });
        }
        let source = std::str::from_utf8(bytes).map_err(|e| ModuleError::Malformed {
            message: format!(
                "the module's source is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ),
        })?;
        let (module, _) = check_source(program, source, "module.norm")?;
        return Ok(Verified {
            module,
            manifest: None,
            signed_by: None,
        });
    }
    let package = Package::parse(bytes)?;
    let (manifest, signed_by) = match trust {
        Some(store) => {
            let a = trust::authenticate(store, &package)?;
            (a.manifest, Some(a.key_id))
        }
        None => (package.manifest()?, None),
    };
    let found = norm_compiler::ir::source_hash(package.source.as_bytes());
    if found != manifest.source_sha256 {
        return Err(ModuleError::HashMismatch {
            expected: manifest.source_sha256.clone(),
            found,
        });
    }
    let law = match program.schema_by_name(&manifest.module) {
        Some((i, _)) => schema_fingerprint(program, i),
        None => {
            return Err(ModuleError::Invalid {
                message: format!(
                    "law `{}` has no data schema `{}`",
                    program.law.name, manifest.module
                ),
            });
        }
    };
    if manifest.schema.fingerprint != law {
        return Err(ModuleError::SchemaMismatch {
            module: manifest.module.clone(),
            package: manifest.schema.fingerprint.clone(),
            law,
        });
    }
    let (module, _) = check_source(
        program,
        &package.source,
        &format!("{}.norm", manifest.module),
    )?;
    manifest.describes(&module)?;
    Ok(Verified {
        module,
        manifest: Some(manifest),
        signed_by,
    })
}

/// Checks one module's source against the law, with the compiler's own rule for data files.
/// Exactly one module: a package is one module, and so is one install.
pub fn check_source(
    program: &Program,
    source: &str,
    name: &str,
) -> Result<(DataModule, SourceDb), ModuleError> {
    let path = PathBuf::from(name);
    let loader = MemoryLoader::with(&[(name, source)]);
    let mut db = SourceDb::new();
    let (mut modules, diags) = driver::load_data(&loader, program, &mut db, &[path]);
    if diags
        .iter()
        .any(norm_compiler::diagnostic::Diagnostic::is_error)
    {
        return Err(ModuleError::Invalid {
            message: render(&db, &diags),
        });
    }
    match (modules.pop(), modules.is_empty()) {
        (Some(m), true) => Ok((m, db)),
        (None, _) => Err(ModuleError::Invalid {
            message: "the source holds no data module".into(),
        }),
        (Some(_), false) => Err(ModuleError::Invalid {
            message: "the source holds several data modules; a package holds exactly one".into(),
        }),
    }
}

/// The fingerprint of a data schema: the SHA-256 of its canonical description (its name, and
/// each field's name, type, optionality and default, with every enum's variants and every
/// struct's fields spelt out). The same law gives the same fingerprint; a schema whose fields or
/// types change (down to an enum variant) gets another.
pub fn schema_fingerprint(program: &Program, schema: u32) -> String {
    let mut text = String::from("norm-schema/1\n");
    if let Some(s) = program.schemas.get(schema as usize) {
        text.push_str(&s.name);
        text.push('{');
        for f in &s.fields {
            describe_field(&program.types, f, &mut text, 0);
        }
        text.push('}');
    }
    format!("sha256:{}", norm_compiler::ir::source_hash(text.as_bytes()))
}

fn describe_field(types: &Types, f: &norm_compiler::value::FieldDef, out: &mut String, depth: u32) {
    out.push_str(&f.name);
    if f.optional {
        out.push('?');
    }
    out.push(':');
    describe_ty(types, &f.ty, out, depth);
    if let Some(d) = &f.default {
        out.push('=');
        out.push_str(&types.show_value(d));
    }
    out.push(';');
}

fn describe_ty(types: &Types, ty: &Ty, out: &mut String, depth: u32) {
    // Types cannot be recursive; the bound keeps a malformed program from recursing forever.
    if depth > 64 {
        out.push_str("...");
        return;
    }
    match ty {
        Ty::Enum(i) => {
            if let Some(e) = types.enum_def(*i) {
                out.push_str(&format!("enum {}{{{}}}", e.name, e.variants.join(",")));
            }
        }
        Ty::Struct(i) => {
            if let Some(s) = types.struct_def(*i) {
                out.push_str(&format!("struct {}{{", s.name));
                for f in &s.fields {
                    describe_field(types, f, out, depth + 1);
                }
                out.push('}');
            }
        }
        Ty::Set(t) => {
            out.push_str("set<");
            describe_ty(types, t, out, depth + 1);
            out.push('>');
        }
        Ty::List(t) => {
            out.push_str("list<");
            describe_ty(types, t, out, depth + 1);
            out.push('>');
        }
        other => out.push_str(&types.show(other)),
    }
}

/// How two versions of a module compare: split into runs of digits and runs of other
/// characters; digit runs compare as numbers (`2026.10` after `2026.9`), other runs byte by
/// byte; a version that is a prefix of another comes first (`2026.1` before `2026.1-fix`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (runs(a), runs(b));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => {
                let o = match (
                    p.bytes().all(|c| c.is_ascii_digit()),
                    q.bytes().all(|c| c.is_ascii_digit()),
                ) {
                    (true, true) => {
                        let (p, q) = (p.trim_start_matches('0'), q.trim_start_matches('0'));
                        p.len().cmp(&q.len()).then_with(|| p.cmp(q))
                    }
                    _ => p.cmp(q),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

fn runs(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let digit = first.is_ascii_digit();
        let end = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() != digit)
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some(run)
    })
}

/// Whether `new` may follow `installed` (same module): its version is greater, and its
/// effective date is not earlier. Equal versions are a replay; an earlier date, a rollback.
pub fn is_newer(new: &DataModule, installed: &DataModule) -> bool {
    compare_versions(&new.version, &installed.version) == Ordering::Greater
        && new.effective >= installed.effective
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of lowercase or uppercase hex; `None` for anything else.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_numeric_runs() {
        assert_eq!(compare_versions("2026.2", "2026.10"), Ordering::Less);
        assert_eq!(compare_versions("2026.1", "2026.1"), Ordering::Equal);
        assert_eq!(compare_versions("2026.1", "2026.1-fix"), Ordering::Less);
        assert_eq!(
            compare_versions("2026.2", "2026.1-illustrative"),
            Ordering::Greater
        );
        assert_eq!(compare_versions("2026.01", "2026.1"), Ordering::Equal);
        assert_eq!(compare_versions("2027", "2026.9"), Ordering::Greater);
        assert_eq!(compare_versions("", "1"), Ordering::Less);
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(unhex(&hex(&[0, 1, 254, 255])), Some(vec![0, 1, 254, 255]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn a_stream_longer_than_the_limit_is_refused_without_reading_it_all() {
        // An endless stream: reading stops one byte past the limit.
        let endless = std::io::repeat(b'{');
        assert!(matches!(
            read_limited(endless),
            Err(ModuleError::TooLarge { .. })
        ));
    }
}
