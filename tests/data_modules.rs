//! Data modules a regulator publishes: `norm data keygen|sign|verify|inspect|import`, `eval
//! --trust`, and installing a package into a running engine from bytes.
//!
//! One test per attack, named after it. Each is refused twice: by `norm data verify` (exit 1,
//! a message that says why) and by `Engine::install`, while a thread keeps deciding a case
//! before, during and after the refused install and sees the old module every time.
//!
//! The tests use a small law of their own (written to a temporary directory), so that they
//! test packages, not the MAIL.

#![allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]

use norm_runtime::modules::{ModuleError, Package};
use norm_runtime::{
    Date, DecideOptions, Engine, EngineKind, EngineOptions, FsLoader, InstallOptions, TrustStore,
};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const LAW: &str = r#"law tiny "Tiny Law" version "1.0"
role provider "Provider"
type Category = enum { medical_diagnosis, credit_scoring, chatbot }
data schema negative_list { categories: set<Category> }
data schema thresholds { max_users: int }
fact category: Category
fact users: int
def on_negative_list = category in negative_list.categories
article 1 "Listed products" {
  prohibition offer_listed {
    addressee provider
    when on_negative_list
    text "Do not offer a product on the Negative List."
  }
}
article 2 "Registry" {
  obligation register {
    addressee provider
    when users > thresholds.max_users and not on_negative_list
    text "Register."
  }
}
"#;

/// Another law with a `negative_list` schema of its own (a different `Category`).
const OTHER_LAW: &str = r#"law other "Other Law" version "1.0"
type Category = enum { medical_diagnosis, chatbot, drones }
data schema negative_list { categories: set<Category> }
fact category: Category
def listed = category in negative_list.categories
"#;

fn list(version: &str, effective: &str, categories: &str) -> String {
    format!(
        "data negative_list version \"{version}\" effective {effective} {{\n  categories = {{{categories}}}\n}}\n"
    )
}

fn norm(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_norm"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("norm runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A temporary directory with the law, another law, three keys (the Authority's, scoped to
/// `negative_list`; the Council's, scoped to `thresholds`; a stranger's, not in the store), the
/// trust store, and the first version of each module signed into `pk/`.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix("norm-data-")
            .tempdir()
            .expect("a temporary directory");
        let f = Fixture { dir };
        for (path, text) in [
            ("law/law.norm", LAW),
            ("other/law.norm", OTHER_LAW),
            (
                "nl1.norm",
                &list("2026.1", "2026-01-01", "medical_diagnosis"),
            ),
            (
                "th1.norm",
                "data thresholds version \"2026.1\" effective 2026-01-01 { max_users = 1000 }\n",
            ),
        ] {
            let p = f.path(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        std::fs::create_dir_all(f.path("pk")).unwrap();
        for k in ["authority", "council", "stranger"] {
            let o = f.norm(&["data", "keygen", k]);
            assert_eq!(code(&o), 0, "{}", stderr(&o));
        }
        let trust = json!({"keys": [
            {"public_key": f.public("authority"), "modules": ["negative_list"]},
            {"public_key": f.public("council"), "modules": ["thresholds"]},
        ]});
        std::fs::write(f.path("trust.json"), trust.to_string()).unwrap();
        f.sign_file("nl1.norm", "authority", "pk/negative_list.normpkg");
        f.sign_file("th1.norm", "council", "pk/thresholds.normpkg");
        f
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn norm(&self, args: &[&str]) -> Output {
        norm(self.dir.path(), args)
    }

    fn public(&self, key: &str) -> String {
        std::fs::read_to_string(self.path(&format!("{key}.pub")))
            .unwrap()
            .trim()
            .to_string()
    }

    fn sign_file(&self, module: &str, key: &str, out: &str) -> Vec<u8> {
        let o = self.norm(&[
            "data",
            "sign",
            module,
            "--law",
            "law",
            "--key",
            &format!("{key}.key"),
            "--out",
            out,
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        std::fs::read(self.path(out)).unwrap()
    }

    /// Signs a module's source with `key` against the tiny law: the package's bytes.
    fn sign(&self, source: &str, key: &str) -> Vec<u8> {
        std::fs::write(self.path("module.norm"), source).unwrap();
        self.sign_file("module.norm", key, "module.normpkg")
    }

    fn trust(&self) -> TrustStore {
        TrustStore::load(&self.path("trust.json")).unwrap()
    }

    /// The running engine: the tiny law, its signed modules, the trust store.
    fn engine(&self) -> Engine {
        Engine::open(
            &FsLoader,
            &[self.path("law")],
            Some(&[self.path("pk")]),
            EngineOptions {
                kind: EngineKind::Jit,
                trust: Some(self.trust()),
            },
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// `norm data verify` on these bytes: exit code and stderr.
    fn verify(&self, bytes: &[u8]) -> (i32, String) {
        std::fs::write(self.path("candidate.normpkg"), bytes).unwrap();
        let o = self.norm(&[
            "data",
            "verify",
            "candidate.normpkg",
            "--law",
            "law",
            "--trust",
            "trust.json",
        ]);
        (code(&o), stderr(&o))
    }
}

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// The negative list version a decision used, and whether the chatbot is on it.
fn decide(engine: &Engine, as_of: &str) -> (String, bool) {
    let d = engine
        .decide(
            &json!({"category": "chatbot", "users": 5}),
            day(as_of),
            DecideOptions::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let version = d
        .data
        .iter()
        .find(|m| m.name == "negative_list")
        .map(|m| m.version.clone())
        .unwrap_or_default();
    let listed = d.norms.iter().any(|n| n.id == "offer_listed");
    (version, listed)
}

/// Tries to install `bytes` while another thread decides the case: the install is refused,
/// and before, during and after it the old module decides (version 2026.1: the chatbot is not
/// listed). Returns why it was refused.
fn refused_while_the_old_module_keeps_deciding(engine: &Engine, bytes: &[u8]) -> ModuleError {
    assert_eq!(decide(engine, "2026-12-01"), ("2026.1".into(), false));
    let stop = Arc::new(AtomicBool::new(false));
    let during = {
        let (engine, stop) = (engine.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) || seen.is_empty() {
                seen.push(decide(&engine, "2026-12-01"));
            }
            seen
        })
    };
    let result = engine.install(bytes, &InstallOptions::default());
    stop.store(true, Ordering::Relaxed);
    let seen = during.join().expect("the deciding thread");
    assert!(
        seen.iter().all(|s| *s == ("2026.1".to_string(), false)),
        "{seen:?}"
    );
    assert_eq!(decide(engine, "2026-12-01"), ("2026.1".into(), false));
    assert_eq!(engine.snapshot().generation(), 0);
    match result {
        Ok(i) => panic!("installed: {i:?}"),
        Err(e) => e,
    }
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_reads_and_a_one_line_public_key() {
    let f = Fixture::new();
    let public = std::fs::read_to_string(f.path("authority.pub")).unwrap();
    assert_eq!(public.lines().count(), 1);
    assert!(public.starts_with("ed25519:"), "{public}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(f.path("authority.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // An existing key is not overwritten by accident.
    let o = f.norm(&["data", "keygen", "authority"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
}

#[test]
fn a_signed_module_installs_from_bytes_and_decisions_switch_atomically() {
    let f = Fixture::new();
    let engine = f.engine();
    assert_eq!(decide(&engine, "2026-12-01"), ("2026.1".into(), false));
    let before = engine.snapshot();
    let bytes = f.sign(
        &list("2026.2", "2026-07-01", "medical_diagnosis, chatbot"),
        "authority",
    );
    let (status, err) = f.verify(&bytes);
    assert_eq!(status, 0, "{err}");
    let installed = engine
        .install(&bytes, &InstallOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (installed.module.as_str(), installed.version.as_str()),
        ("negative_list", "2026.2")
    );
    assert_eq!(
        installed.signed_by.as_deref().map(str::len),
        Some(16),
        "the store's key id"
    );
    // Data repacked, code reused.
    let after = engine.snapshot();
    assert!(before.jit().unwrap().shares_code_with(after.jit().unwrap()));
    assert_eq!(decide(&engine, "2026-12-01"), ("2026.2".into(), true));
    // Every version kept: before its effective date, the old list decides.
    assert_eq!(decide(&engine, "2026-03-01"), ("2026.1".into(), false));
    // The Decision records the source hash of the module it used.
    let d = engine
        .decide(
            &json!({"category": "chatbot", "users": 5}),
            day("2026-12-01"),
            DecideOptions::default(),
        )
        .unwrap();
    let hash = &d
        .data
        .iter()
        .find(|m| m.name == "negative_list")
        .unwrap()
        .hash;
    assert_eq!(*hash, installed.hash);
    assert_eq!(hash.len(), 64);
}

#[test]
fn a_module_effective_in_the_future_is_installed_and_takes_effect_on_its_date() {
    let f = Fixture::new();
    let engine = f.engine();
    let bytes = f.sign(&list("2027.1", "2027-01-01", "chatbot"), "authority");
    engine
        .install(&bytes, &InstallOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(decide(&engine, "2026-12-31"), ("2026.1".into(), false));
    assert_eq!(decide(&engine, "2027-01-01"), ("2027.1".into(), true));
}

#[test]
fn one_byte_of_the_source_changed() {
    let f = Fixture::new();
    let bytes = f.sign(&list("2026.2", "2026-07-01", "credit_scoring"), "authority");
    let mut p = Package::parse(&bytes).unwrap();
    // `credit_scoring` → `credit_scorinG`: one byte.
    p.source = p.source.replace("credit_scoring", "credit_scorinG");
    let forged = p.to_bytes();
    let (status, err) = f.verify(&forged);
    assert_eq!(status, 1);
    assert!(err.contains("the source is not the signed one"), "{err}");
    let e = refused_while_the_old_module_keeps_deciding(&f.engine(), &forged);
    assert!(matches!(e, ModuleError::HashMismatch { .. }), "{e}");
}

#[test]
fn signature_removed() {
    let f = Fixture::new();
    let bytes = f.sign(&list("2026.2", "2026-07-01", "chatbot"), "authority");
    let mut p = Package::parse(&bytes).unwrap();
    p.signature = None;
    let stripped = p.to_bytes();
    let (status, err) = f.verify(&stripped);
    assert_eq!(status, 1);
    assert!(err.contains("is not signed"), "{err}");
    let e = refused_while_the_old_module_keeps_deciding(&f.engine(), &stripped);
    assert!(matches!(e, ModuleError::Unsigned { .. }), "{e}");
    // A plain source is no better: with a trust store, it is refused as unsigned.
    let plain = list("2026.2", "2026-07-01", "chatbot");
    let e = refused_while_the_old_module_keeps_deciding(&f.engine(), plain.as_bytes());
    assert!(matches!(e, ModuleError::Unsigned { .. }), "{e}");
}

#[test]
fn manifest_hash_changed_to_match_a_changed_source() {
    let f = Fixture::new();
    let bytes = f.sign(&list("2026.2", "2026-07-01", "credit_scoring"), "authority");
    let mut p = Package::parse(&bytes).unwrap();
    let old_hash = norm_compiler::ir::source_hash(p.source.as_bytes());
    p.source = list("2026.2", "2026-07-01", "chatbot");
    let new_hash = norm_compiler::ir::source_hash(p.source.as_bytes());
    p.manifest = p.manifest.replace(&old_hash, &new_hash);
    let forged = p.to_bytes();
    let (status, err) = f.verify(&forged);
    assert_eq!(status, 1);
    assert!(err.contains("the signature does not verify"), "{err}");
    let e = refused_while_the_old_module_keeps_deciding(&f.engine(), &forged);
    assert!(matches!(e, ModuleError::BadSignature { .. }), "{e}");
}

#[test]
fn valid_signature_by_a_key_not_in_the_store() {
    let f = Fixture::new();
    let bytes = f.sign(&list("2026.2", "2026-07-01", "chatbot"), "stranger");
    let (status, err) = f.verify(&bytes);
    assert_eq!(status, 1);
    assert!(err.contains("which is not in the trust store"), "{err}");
    let e = refused_while_the_old_module_keeps_deciding(&f.engine(), &bytes);
    assert!(matches!(e, ModuleError::UntrustedKey { .. }), "{e}");
}

#[test]
fn key_in_the_store_but_not_scoped_to_the_module() {
    let f = Fixture::new();
    // The Council may sign thresholds, not the Negative List.
    let bytes = f.sign(&list("2026.2", "2026-07-01", "chatbot"), "council");
    let (status, err) = f.verify(&bytes);
    assert_eq!(status, 1);
    assert!(
        err.contains("may not sign module `negative_list` (it may sign: `thresholds`)"),
        "{err}"
    );
    let e = refused_while_the_old_module_keeps_deciding(&f.engine(), &bytes);
    assert!(matches!(e, ModuleError::NotScoped { .. }), "{e}");
}

#[test]
fn version_equal_to_or_older_than_the_installed_one() {
    let f = Fixture::new();
    let engine = f.engine();
    // The installed package replayed.
    let replay = std::fs::read(f.path("pk/negative_list.normpkg")).unwrap();
    let e = refused_while_the_old_module_keeps_deciding(&engine, &replay);
    assert!(matches!(e, ModuleError::NotNewer { .. }), "{e}");
    assert!(e.to_string().contains("versions only move forward"), "{e}");
    // An older version, properly signed.
    let older = f.sign(&list("2025.9", "2025-06-01", "chatbot"), "authority");
    let e = refused_while_the_old_module_keeps_deciding(&engine, &older);
    assert!(matches!(e, ModuleError::NotNewer { .. }), "{e}");
    // A greater version that goes back in time is a rollback too.
    let backdated = f.sign(&list("2026.5", "2025-06-01", "chatbot"), "authority");
    let e = refused_while_the_old_module_keeps_deciding(&engine, &backdated);
    assert!(matches!(e, ModuleError::NotNewer { .. }), "{e}");
    // Unless the caller explicitly allows it.
    let back = engine.install(
        &older,
        &InstallOptions {
            allow_rollback: true,
        },
    );
    assert!(back.is_ok(), "{back:?}");
    assert_eq!(decide(&engine, "2026-12-01"), ("2025.9".into(), true));
}

#[test]
fn module_checked_against_another_laws_schema() {
    let f = Fixture::new();
    std::fs::write(
        f.path("module.norm"),
        list("2026.2", "2026-07-01", "medical_diagnosis, chatbot"),
    )
    .unwrap();
    let o = f.norm(&[
        "data",
        "sign",
        "module.norm",
        "--law",
        "other",
        "--key",
        "authority.key",
        "--out",
        "other.normpkg",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let bytes = std::fs::read(f.path("other.normpkg")).unwrap();
    let (status, err) = f.verify(&bytes);
    assert_eq!(status, 1);
    assert!(err.contains("was checked against another schema"), "{err}");
    let e = refused_while_the_old_module_keeps_deciding(&f.engine(), &bytes);
    assert!(matches!(e, ModuleError::SchemaMismatch { .. }), "{e}");
}

#[test]
fn malformed_or_truncated_package() {
    let f = Fixture::new();
    let bytes = f.sign(&list("2026.2", "2026-07-01", "chatbot"), "authority");
    let truncated = &bytes[..bytes.len() / 2];
    let (status, err) = f.verify(truncated);
    assert_eq!(status, 1);
    assert!(err.contains("ends early"), "{err}");
    let engine = f.engine();
    let e = refused_while_the_old_module_keeps_deciding(&engine, truncated);
    assert!(matches!(e, ModuleError::Malformed { .. }), "{e}");
    for bad in [
        &b"{not json"[..],
        br#"{"norm_package": 2, "manifest": "{}", "source": ""}"#,
        br#"{"norm_package": 1, "manifest": "{}", "signature": "00", "source": ""}"#,
        br#"{"norm_package": 1, "manifest": "{}", "source": "", "extra": 1}"#,
        b"\xff\xfe{",
    ] {
        let (status, err) = f.verify(bad);
        assert_eq!(status, 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
        let e = refused_while_the_old_module_keeps_deciding(&engine, bad);
        // Bytes that are not even a JSON object are no package: with a trust store, unsigned.
        assert!(
            matches!(
                e,
                ModuleError::Malformed { .. } | ModuleError::Unsigned { .. }
            ),
            "{e}"
        );
    }
    // `inspect` reads only the envelope and says the same.
    std::fs::write(f.path("truncated.normpkg"), truncated).unwrap();
    let o = f.norm(&["data", "inspect", "truncated.normpkg"]);
    assert_eq!(code(&o), 1);
}

#[test]
fn a_100_mb_package() {
    let f = Fixture::new();
    // A sparse file: 100 MB long, nothing written. Refused by its length, before it is read.
    let big = std::fs::File::create(f.path("big.normpkg")).unwrap();
    big.set_len(100 * 1024 * 1024).unwrap();
    drop(big);
    for args in [
        &[
            "data",
            "verify",
            "big.normpkg",
            "--law",
            "law",
            "--trust",
            "trust.json",
        ][..],
        &["data", "inspect", "big.normpkg"][..],
    ] {
        let o = f.norm(args);
        assert_eq!(code(&o), 1);
        assert!(
            stderr(&o).contains("the package is too large"),
            "{}",
            stderr(&o)
        );
    }
    // From memory, refused by its length before anything is parsed.
    let bytes = vec![b' '; 100 * 1024 * 1024];
    let e = refused_while_the_old_module_keeps_deciding(&f.engine(), &bytes);
    assert!(matches!(e, ModuleError::TooLarge { .. }), "{e}");
}

#[test]
fn private_key_readable_by_others_at_sign_time_is_a_warning() {
    let f = Fixture::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(
            f.path("authority.key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        std::fs::write(
            f.path("module.norm"),
            list("2026.2", "2026-07-01", "chatbot"),
        )
        .unwrap();
        let o = f.norm(&[
            "data",
            "sign",
            "module.norm",
            "--law",
            "law",
            "--key",
            "authority.key",
            "--out",
            "m.normpkg",
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(
            stderr(&o).contains(
                "warning: the private key `authority.key` is readable by others (mode 0644)"
            ),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn sign_refuses_a_module_that_does_not_fit_the_law() {
    let f = Fixture::new();
    std::fs::write(
        f.path("module.norm"),
        list("2026.2", "2026-07-01", "drones"),
    )
    .unwrap();
    let o = f.norm(&[
        "data",
        "sign",
        "module.norm",
        "--law",
        "law",
        "--key",
        "authority.key",
        "--out",
        "m.normpkg",
    ]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("module.norm"), "{}", stderr(&o));
    assert!(!f.path("m.normpkg").exists());
    // A command line that is wrong is exit 2.
    let o = f.norm(&["data", "sign", "module.norm", "--law", "law"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn inspect_shows_the_manifest_and_whether_the_signature_verifies() {
    let f = Fixture::new();
    let o = f.norm(&["data", "inspect", "pk/negative_list.normpkg"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    for want in [
        "module       negative_list",
        "version      2026.1",
        "effective    2026-01-01",
        "law          tiny 1.0",
        "schema       negative_list sha256:",
        "(matches the source)",
        "present, not checked",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    let o = f.norm(&[
        "data",
        "inspect",
        "pk/thresholds.normpkg",
        "--trust",
        "trust.json",
        "--law",
        "other",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["manifest"]["module"], "thresholds");
    assert!(
        v["signature"]
            .as_str()
            .unwrap()
            .starts_with("verifies with trusted key")
    );
    assert_eq!(v["schema_check"], "law other has no schema `thresholds`");
}

#[test]
fn eval_with_trust_accepts_only_packages_that_verify() {
    let f = Fixture::new();
    std::fs::write(
        f.path("case.json"),
        r#"{"category": "chatbot", "users": 5000}"#,
    )
    .unwrap();
    let o = f.norm(&[
        "eval",
        "law",
        "--facts",
        "case.json",
        "--as-of",
        "2026-12-01",
        "--data",
        "pk",
        "--trust",
        "trust.json",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(d["norms"][0]["id"], "register");
    assert_eq!(d["data"][0]["hash"].as_str().map(str::len), Some(64));
    // A plain module among the data: refused.
    std::fs::create_dir_all(f.path("mixed")).unwrap();
    std::fs::copy(
        f.path("pk/thresholds.normpkg"),
        f.path("mixed/thresholds.normpkg"),
    )
    .unwrap();
    std::fs::copy(f.path("nl1.norm"), f.path("mixed/negative_list.norm")).unwrap();
    let o = f.norm(&[
        "eval",
        "law",
        "--facts",
        "case.json",
        "--as-of",
        "2026-12-01",
        "--data",
        "mixed",
        "--trust",
        "trust.json",
    ]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("is a plain data module, not a signed package"),
        "{}",
        stderr(&o)
    );
    // A forged package among the data: refused, saying which file.
    let mut p =
        Package::parse(&std::fs::read(f.path("pk/negative_list.normpkg")).unwrap()).unwrap();
    p.signature = None;
    std::fs::write(f.path("mixed/negative_list.norm"), "").unwrap();
    std::fs::remove_file(f.path("mixed/negative_list.norm")).unwrap();
    std::fs::write(f.path("mixed/negative_list.normpkg"), p.to_bytes()).unwrap();
    let o = f.norm(&[
        "eval",
        "law",
        "--facts",
        "case.json",
        "--as-of",
        "2026-12-01",
        "--data",
        "mixed",
        "--trust",
        "trust.json",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1);
    let e: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(e["error"]["module_error"]["kind"], "unsigned", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("negative_list.normpkg"),
        "{e}"
    );
    // A trust store that is not one: exit 1, saying so.
    std::fs::write(
        f.path("bad.json"),
        r#"{"keys": [{"public_key": "ssh-rsa AAAA", "modules": []}]}"#,
    )
    .unwrap();
    let o = f.norm(&[
        "eval",
        "law",
        "--facts",
        "case.json",
        "--data",
        "pk",
        "--trust",
        "bad.json",
    ]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("is not a public key"), "{}", stderr(&o));
}

#[test]
fn the_embedding_api_loads_law_and_packages_from_memory() {
    let f = Fixture::new();
    let packages: Vec<Vec<u8>> = ["pk/negative_list.normpkg", "pk/thresholds.normpkg"]
        .iter()
        .map(|p| std::fs::read(f.path(p)).unwrap())
        .collect();
    let refs: Vec<&[u8]> = packages.iter().map(Vec::as_slice).collect();
    let engine = Engine::from_memory(
        &[("tiny/law.norm", LAW)],
        &refs,
        EngineOptions {
            kind: EngineKind::Jit,
            trust: Some(f.trust()),
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(decide(&engine, "2026-12-01"), ("2026.1".into(), false));
    // With the trust store, a plain source is refused at load too.
    let plain = list("2026.1", "2026-01-01", "chatbot");
    let refused = Engine::from_memory(
        &[("tiny/law.norm", LAW)],
        &[plain.as_bytes()],
        EngineOptions {
            kind: EngineKind::Jit,
            trust: Some(f.trust()),
        },
    );
    assert!(refused.is_err());
}

#[test]
fn import_turns_a_csv_list_into_a_module_that_signs_and_verifies() {
    let f = Fixture::new();
    std::fs::write(
        f.path("list.csv"),
        "categories\nmedical_diagnosis\nchatbot\n",
    )
    .unwrap();
    let o = f.norm(&[
        "data",
        "import",
        "list.csv",
        "--law",
        "law",
        "--module",
        "negative_list",
        "--version",
        "2026.3",
        "--effective",
        "2026-09-01",
        "--out",
        "nl3.norm",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let bytes = f.sign_file("nl3.norm", "authority", "nl3.normpkg");
    assert_eq!(f.verify(&bytes).0, 0);
    // Errors name the row and the column.
    std::fs::write(f.path("bad.csv"), "categories\nchatbot\nchatbt\n").unwrap();
    let o = f.norm(&[
        "data",
        "import",
        "bad.csv",
        "--law",
        "law",
        "--module",
        "negative_list",
        "--version",
        "2026.3",
        "--effective",
        "2026-09-01",
    ]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("row 2, column `categories` (line 3): `chatbt` is not a Category; did you mean `chatbot`?"),
        "{}",
        stderr(&o)
    );
}
