//! `norm data …`: publisher keys, signed packages, trust, imported lists (DESIGN §5). The logic
//! is in `norm_runtime::modules`; this file reads arguments and files, and prints.

use crate::Format;
use crate::output::{INPUT, OK, fail, print_json, report};
use clap::Subcommand;
use norm_compiler::date::Date;
use norm_compiler::driver;
use norm_compiler::ir::Program;
use norm_runtime::FsLoader;
use norm_runtime::modules::import::{self, ListFormat, Target};
use norm_runtime::modules::{self, ModuleError, Package, TrustStore, keys};
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum DataCommand {
    /// Make a publisher key pair: NAME.key (private, mode 0600) and NAME.pub (one line)
    Keygen {
        name: PathBuf,
        /// Overwrite existing key files
        #[arg(long)]
        force: bool,
    },
    /// Check a module against the law's schema, then package and sign it
    Sign {
        module: PathBuf,
        /// The law whose schema the module must fit
        #[arg(long)]
        law: PathBuf,
        /// The private key (NAME.key)
        #[arg(long)]
        key: PathBuf,
        /// Where to write the package
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a package against a trust store and a law (exit 0 when it verifies and fits)
    Verify {
        package: PathBuf,
        #[arg(long)]
        law: PathBuf,
        /// The trust store (JSON: the keys allowed to publish, each scoped to module names)
        #[arg(long)]
        trust: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Show a package's manifest, and whether it verifies
    Inspect {
        package: PathBuf,
        /// Check the schema fingerprint against this law
        #[arg(long)]
        law: Option<PathBuf>,
        /// Check the signature against this trust store
        #[arg(long)]
        trust: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Turn a list (JSON or CSV) into a data module checked against the law's schema
    #[command(disable_version_flag = true)]
    Import {
        list: PathBuf,
        #[arg(long)]
        law: PathBuf,
        /// The module (its data schema's name), e.g. negative_list
        #[arg(long)]
        module: String,
        /// The module's version, e.g. 2026.2
        #[arg(long)]
        version: String,
        /// YYYY-MM-DD
        #[arg(long)]
        effective: String,
        /// The list's format (default: from the file's extension)
        #[arg(long, value_enum)]
        list_format: Option<ListKind>,
        /// Where to write the module (default: stdout)
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListKind {
    Json,
    Csv,
}

pub fn run(cmd: DataCommand) -> u8 {
    match cmd {
        DataCommand::Keygen { name, force } => keygen(&name, force),
        DataCommand::Sign {
            module,
            law,
            key,
            out,
        } => sign(&module, &law, &key, &out),
        DataCommand::Verify {
            package,
            law,
            trust,
            format,
        } => verify(&package, &law, &trust, format),
        DataCommand::Inspect {
            package,
            law,
            trust,
            format,
        } => inspect(&package, law.as_deref(), trust.as_deref(), format),
        DataCommand::Import {
            list,
            law,
            module,
            version,
            effective,
            list_format,
            out,
        } => import_list(
            &list,
            &law,
            &module,
            &version,
            &effective,
            list_format,
            out.as_deref(),
        ),
    }
}

fn with_ext(name: &Path, ext: &str) -> PathBuf {
    let mut s = name.as_os_str().to_os_string();
    s.push(format!(".{ext}"));
    PathBuf::from(s)
}

fn keygen(name: &Path, force: bool) -> u8 {
    let (secret, public) = (with_ext(name, "key"), with_ext(name, "pub"));
    if !force {
        for p in [&secret, &public] {
            if p.exists() {
                return fail(
                    Format::Text,
                    "io",
                    &format!(
                        "`{}` exists; pass --force to replace it (the old key can no longer sign)",
                        p.display()
                    ),
                    None,
                );
            }
        }
    }
    let key = match keys::generate() {
        Ok(k) => k,
        Err(e) => return fail(Format::Text, "internal", &e.to_string(), None),
    };
    if let Err(e) = write_private(&secret, keys::secret_text(&key).as_bytes()) {
        return fail(
            Format::Text,
            "io",
            &format!("cannot write `{}`: {e}", secret.display()),
            None,
        );
    }
    let line = keys::public_line(&key.verifying_key());
    if let Err(e) = std::fs::write(&public, format!("{line}\n")) {
        return fail(
            Format::Text,
            "io",
            &format!("cannot write `{}`: {e}", public.display()),
            None,
        );
    }
    outln!(
        "wrote {} (private, mode 0600) and {} (public)\nkey id {}\npublic key {line}",
        secret.display(),
        public.display(),
        keys::key_id(&key.verifying_key())
    );
    OK
}

/// Writes a private key readable by its owner only (created with mode 0600, never widened).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    // An existing file (--force) keeps its mode: narrow it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(bytes)
}

/// A private key file others can read: the warning, if any.
fn key_permissions_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Some(format!(
                "warning: the private key `{}` is readable by others (mode {mode:04o}); restrict it: chmod 600 {}",
                path.display(),
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    None
}

/// The law alone (no data), or the exit code after reporting why not.
fn law_alone(law: &Path, format: Format) -> Result<Program, u8> {
    if !law.exists() {
        return Err(fail(
            format,
            "io",
            &format!("no such file or directory: `{}`", law.display()),
            None,
        ));
    }
    let mut c = driver::compile_law(&FsLoader, &[law.to_path_buf()], Some(&[]));
    match c.program.take() {
        Some(p) => Ok(p),
        None => Err(report(&c.db, &c.diagnostics, format).max(INPUT)),
    }
}

fn module_error(format: Format, what: &str, e: &ModuleError) -> u8 {
    match format {
        Format::Text => eprintln!("error: {what}: {e}"),
        Format::Json => {
            let detail = serde_json::to_value(e).unwrap_or_else(|_| json!({}));
            print_json(
                &json!({"error": {"kind": "module", "message": format!("{what}: {e}"), "module_error": detail}}),
            );
        }
    }
    INPUT
}

fn sign(module: &Path, law: &Path, key: &Path, out: &Path) -> u8 {
    let f = Format::Text;
    let source = match modules::read_file(module) {
        Ok(b) => match String::from_utf8(b) {
            Ok(s) => s,
            Err(_) => {
                return fail(
                    f,
                    "io",
                    &format!("`{}` is not valid UTF-8", module.display()),
                    None,
                );
            }
        },
        Err(e) => return module_error(f, &module.display().to_string(), &e),
    };
    if let Some(w) = key_permissions_warning(key) {
        eprintln!("{w}");
    }
    let secret = match std::fs::read_to_string(key) {
        Ok(t) => t,
        Err(e) => {
            return fail(
                f,
                "io",
                &format!("cannot read `{}`: {e}", key.display()),
                None,
            );
        }
    };
    let key = match keys::parse_secret(&secret) {
        Ok(k) => k,
        Err(e) => return module_error(f, &key.display().to_string(), &e),
    };
    let program = match law_alone(law, f) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let package = match Package::sign(&program, &source, &key, &modules::package::now_rfc3339()) {
        Ok(p) => p,
        Err(ModuleError::Invalid { message }) => {
            // The compiler's diagnostics name a file of the package's own: say which one.
            eprintln!(
                "error: `{}` does not fit law `{}`:\n{}",
                module.display(),
                program.law.name,
                message.replace("module.norm", &module.display().to_string())
            );
            return INPUT;
        }
        Err(e) => return module_error(f, &module.display().to_string(), &e),
    };
    if let Err(e) = std::fs::write(out, package.to_bytes()) {
        return fail(
            f,
            "io",
            &format!("cannot write `{}`: {e}", out.display()),
            None,
        );
    }
    match package.manifest() {
        Ok(m) => outln!(
            "signed {} version {} (effective {}) with key {} for law {} {} → {}",
            m.module,
            m.version,
            m.effective,
            m.key_id,
            m.law.name,
            m.law.version,
            out.display()
        ),
        Err(e) => return module_error(f, &out.display().to_string(), &e),
    }
    OK
}

fn read_package(path: &Path, format: Format) -> Result<Vec<u8>, u8> {
    modules::read_file(path).map_err(|e| module_error(format, &path.display().to_string(), &e))
}

fn load_trust(path: &Path, format: Format) -> Result<TrustStore, u8> {
    TrustStore::load(path).map_err(|e| fail(format, "trust", &e.to_string(), None))
}

fn verify(package: &Path, law: &Path, trust: &Path, format: Format) -> u8 {
    let bytes = match read_package(package, format) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let store = match load_trust(trust, format) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let program = match law_alone(law, format) {
        Ok(p) => p,
        Err(code) => return code,
    };
    // A plain source is no package: with a trust store it is refused as unsigned.
    match modules::open(&bytes, &program, Some(&store)) {
        Ok(v) => {
            let m = &v.module;
            let key = v.signed_by.unwrap_or_default();
            match format {
                Format::Text => outln!(
                    "ok: {} version {} (effective {}) signed by trusted key {key}, fits law {} {}",
                    m.name,
                    m.version,
                    m.effective,
                    program.law.name,
                    program.law.version
                ),
                Format::Json => print_json(&json!({
                    "ok": true,
                    "module": m.name,
                    "version": m.version,
                    "effective": m.effective.to_string(),
                    "hash": m.hash,
                    "signed_by": key,
                    "law": {"name": program.law.name, "version": program.law.version},
                })),
            }
            OK
        }
        Err(e) => module_error(format, &package.display().to_string(), &e),
    }
}

fn inspect(package: &Path, law: Option<&Path>, trust: Option<&Path>, format: Format) -> u8 {
    let bytes = match read_package(package, format) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let p = match Package::parse(&bytes) {
        Ok(p) => p,
        Err(e) => return module_error(format, &package.display().to_string(), &e),
    };
    // Shown as the package states it, verified or not: each check below says what holds.
    let manifest = match p.manifest() {
        Ok(m) => m,
        Err(e) => return module_error(format, &package.display().to_string(), &e),
    };
    let hash = norm_compiler::ir::source_hash(p.source.as_bytes());
    let source_ok = hash == manifest.source_sha256;
    let signature = match (&p.signature, trust) {
        (None, _) => "absent (refused wherever a trust store is configured)".to_string(),
        (Some(_), None) => "present, not checked (give --trust to check it)".to_string(),
        (Some(_), Some(t)) => {
            let store = match load_trust(t, format) {
                Ok(s) => s,
                Err(code) => return code,
            };
            match modules::trust::authenticate(&store, &p) {
                Ok(a) => format!(
                    "verifies with trusted key {} (scoped to `{}`)",
                    a.key_id, manifest.module
                ),
                Err(e) => format!("does not verify: {e}"),
            }
        }
    };
    let fingerprint = match law {
        None => None,
        Some(l) => {
            let program = match law_alone(l, format) {
                Ok(p) => p,
                Err(code) => return code,
            };
            Some(match program.schema_by_name(&manifest.module) {
                Some((i, _)) => {
                    let f = modules::schema_fingerprint(&program, i);
                    if f == manifest.schema.fingerprint {
                        format!("matches law {} {}", program.law.name, program.law.version)
                    } else {
                        format!(
                            "differs from law {} {} ({f})",
                            program.law.name, program.law.version
                        )
                    }
                }
                None => format!(
                    "law {} has no schema `{}`",
                    program.law.name, manifest.module
                ),
            })
        }
    };
    match format {
        Format::Json => print_json(&json!({
            "manifest": serde_json::to_value(&manifest).unwrap_or_default(),
            "source_matches_manifest": source_ok,
            "signature": signature,
            "schema_check": fingerprint,
            "source_bytes": p.source.len(),
        })),
        Format::Text => {
            outln!("package {}", package.display());
            outln!("  module       {}", manifest.module);
            outln!("  version      {}", manifest.version);
            outln!("  effective    {}", manifest.effective);
            outln!(
                "  law          {} {}",
                manifest.law.name,
                manifest.law.version
            );
            outln!(
                "  schema       {} {}",
                manifest.schema.name,
                manifest.schema.fingerprint
            );
            if let Some(f) = &fingerprint {
                outln!("               {f}");
            }
            outln!(
                "  source       {} bytes, SHA-256 {} ({})",
                p.source.len(),
                manifest.source_sha256,
                if source_ok {
                    "matches the source"
                } else {
                    "DOES NOT match the source"
                }
            );
            outln!("  key id       {}", manifest.key_id);
            outln!("  signed at    {}", manifest.signed_at);
            outln!("  signature    {signature}");
        }
    }
    OK
}

fn import_list(
    list: &Path,
    law: &Path,
    module: &str,
    version: &str,
    effective: &str,
    kind: Option<ListKind>,
    out: Option<&Path>,
) -> u8 {
    let f = Format::Text;
    let Some(effective) = Date::parse(effective) else {
        return fail(
            f,
            "input",
            &format!("invalid --effective date `{effective}`: expected YYYY-MM-DD"),
            None,
        );
    };
    let format = match kind {
        Some(ListKind::Json) => ListFormat::Json,
        Some(ListKind::Csv) => ListFormat::Csv,
        None => match list.extension().and_then(|e| e.to_str()) {
            Some("json") => ListFormat::Json,
            Some("csv") => ListFormat::Csv,
            _ => {
                return fail(
                    f,
                    "input",
                    &format!(
                        "cannot tell the format of `{}` from its name: pass --list-format json or csv",
                        list.display()
                    ),
                    None,
                );
            }
        },
    };
    let text = match modules::read_file(list).map(String::from_utf8) {
        Ok(Ok(t)) => t,
        Ok(Err(_)) => {
            return fail(
                f,
                "io",
                &format!("`{}` is not valid UTF-8", list.display()),
                None,
            );
        }
        Err(e) => return module_error(f, &list.display().to_string(), &e),
    };
    let program = match law_alone(law, f) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let origin = list
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let target = Target {
        module,
        version,
        effective,
        origin: &origin,
    };
    match import::import(&program, &target, format, &text) {
        Ok(source) => match out {
            None => {
                out!("{source}");
                OK
            }
            Some(o) => match std::fs::write(o, source) {
                Ok(()) => {
                    eprintln!("wrote {}", o.display());
                    OK
                }
                Err(e) => fail(
                    f,
                    "io",
                    &format!("cannot write `{}`: {e}", o.display()),
                    None,
                ),
            },
        },
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {}: {e}", list.display());
            }
            INPUT
        }
    }
}
