//! The package: one JSON file holding one data module.
//!
//! ```json
//! {
//!   "norm_package": 1,
//!   "manifest": "{\"format\":1,\"module\":\"negative_list\",…}",
//!   "signature": "<128 hex digits: ed25519 over the manifest string's UTF-8 bytes>",
//!   "source": "data negative_list version \"2026.2\" effective 2026-07-01 { … }\n"
//! }
//! ```
//!
//! The manifest is kept as the exact string that was signed (no canonical JSON to get wrong):
//! the signature covers those bytes, and the manifest covers the source through its SHA-256.
//! Nothing in the envelope is trusted until [`super::trust::authenticate`] has verified the
//! signature; the manifest is parsed after that, the source after its hash matched.

use super::{ModuleError, hex, keys};
use ed25519_dalek::{Signer, SigningKey};
use norm_compiler::date::Date;
use norm_compiler::ir::{DataModule, Program};
use serde::{Deserialize, Serialize};

/// The envelope format this code writes and reads.
pub const PACKAGE_FORMAT: u32 = 1;
/// The manifest format this code writes and reads.
pub const MANIFEST_FORMAT: u32 = 1;

/// A package as read from bytes: nothing in it verified yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub norm_package: u32,
    /// The manifest, exactly as signed.
    pub manifest: String,
    /// Hex of the ed25519 signature over `manifest`'s bytes; absent in an unsigned package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The module's source.
    pub source: String,
}

/// What a publisher signs about one module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    /// The module's name (the name of the data schema it fills).
    pub module: String,
    pub version: String,
    /// `YYYY-MM-DD`: the day from which the module applies.
    pub effective: String,
    /// The law it was checked against.
    pub law: LawId,
    /// The data schema it was checked against.
    pub schema: SchemaId,
    /// Lowercase hex SHA-256 of the source's bytes.
    pub source_sha256: String,
    /// The signing key's id ([`keys::key_id`]); informative only.
    pub key_id: String,
    /// When it was signed (UTC, RFC 3339).
    pub signed_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LawId {
    pub name: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaId {
    pub name: String,
    /// [`super::schema_fingerprint`].
    pub fingerprint: String,
}

impl Package {
    /// Reads the envelope (after the size check). Nothing inside is parsed or trusted yet.
    pub fn parse(bytes: &[u8]) -> Result<Package, ModuleError> {
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if len > super::MAX_PACKAGE_BYTES {
            return Err(ModuleError::TooLarge {
                bytes: len,
                limit: super::MAX_PACKAGE_BYTES,
            });
        }
        let p: Package = serde_json::from_slice(bytes).map_err(|e| ModuleError::Malformed {
            message: match e.classify() {
                serde_json::error::Category::Eof => format!(
                    "the package ends early (truncated?) at line {}, column {}",
                    e.line(),
                    e.column()
                ),
                _ => format!("{e}"),
            },
        })?;
        if p.norm_package != PACKAGE_FORMAT {
            return Err(ModuleError::Malformed {
                message: format!(
                    "package format {} is not known (this version of norm reads format {PACKAGE_FORMAT})",
                    p.norm_package
                ),
            });
        }
        Ok(p)
    }

    /// The manifest, parsed: only after the signature verified, or where no trust store is
    /// configured.
    pub fn manifest(&self) -> Result<Manifest, ModuleError> {
        let m: Manifest =
            serde_json::from_str(&self.manifest).map_err(|e| ModuleError::Malformed {
                message: format!("the manifest is not valid: {e}"),
            })?;
        if m.format != MANIFEST_FORMAT {
            return Err(ModuleError::Malformed {
                message: format!(
                    "manifest format {} is not known (this version of norm reads format {MANIFEST_FORMAT})",
                    m.format
                ),
            });
        }
        Ok(m)
    }

    /// The package as bytes (pretty JSON, a final newline).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Checks `source` against the law, then packages and signs it. `signed_at` is the time to
    /// record (RFC 3339).
    pub fn sign(
        program: &Program,
        source: &str,
        key: &SigningKey,
        signed_at: &str,
    ) -> Result<Package, ModuleError> {
        let (module, _) = super::check_source(program, source, "module.norm")?;
        let manifest = Manifest {
            format: MANIFEST_FORMAT,
            module: module.name.clone(),
            version: module.version.clone(),
            effective: module.effective.to_string(),
            law: LawId {
                name: program.law.name.clone(),
                version: program.law.version.clone(),
            },
            schema: SchemaId {
                name: module.name.clone(),
                fingerprint: super::schema_fingerprint(program, module.schema),
            },
            source_sha256: norm_compiler::ir::source_hash(source.as_bytes()),
            key_id: keys::key_id(&key.verifying_key()),
            signed_at: signed_at.to_string(),
        };
        let text = serde_json::to_string(&manifest).map_err(|e| ModuleError::Internal {
            message: format!("cannot write the manifest: {e}"),
        })?;
        let signature = key.sign(text.as_bytes());
        Ok(Package {
            norm_package: PACKAGE_FORMAT,
            manifest: text,
            signature: Some(hex(&signature.to_bytes())),
            source: source.to_string(),
        })
    }
}

impl Manifest {
    /// The manifest names the module the source holds.
    pub fn describes(&self, m: &DataModule) -> Result<(), ModuleError> {
        let mut wrong = Vec::new();
        if self.module != m.name {
            wrong.push(format!(
                "the manifest names module `{}`, the source holds `{}`",
                self.module, m.name
            ));
        }
        if self.version != m.version {
            wrong.push(format!(
                "the manifest says version {}, the source {}",
                self.version, m.version
            ));
        }
        if Date::parse(&self.effective) != Some(m.effective) {
            wrong.push(format!(
                "the manifest says effective {}, the source {}",
                self.effective, m.effective
            ));
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(ModuleError::ManifestMismatch {
                message: wrong.join("; "),
            })
        }
    }
}

/// Now, as RFC 3339 UTC (`2026-05-01T12:00:00Z`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let day = Date::from_days(i64::try_from(secs / 86_400).unwrap_or(0)).unwrap_or(Date::EPOCH);
    let s = secs % 86_400;
    format!("{day}T{:02}:{:02}:{:02}Z", s / 3600, s % 3600 / 60, s % 60)
}
