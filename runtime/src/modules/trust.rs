//! The trust store, and the one function that decides trust.
//!
//! A trust store lists the public keys allowed to publish, each with the module names it may
//! sign (the State Council's calendar key cannot sign a Negative List):
//!
//! ```json
//! {"keys": [{"public_key": "ed25519:…", "modules": ["negative_list"]}]}
//! ```
//!
//! There is no wildcard: a key signs only the modules it names.

use super::package::{Manifest, Package};
use super::{ModuleError, keys, unhex};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::Deserialize;
use std::path::Path;

/// The publisher keys an application trusts.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    pub keys: Vec<TrustedKey>,
}

#[derive(Clone, Debug)]
pub struct TrustedKey {
    pub key: VerifyingKey,
    /// [`keys::key_id`] of `key`.
    pub id: String,
    /// The module names this key may sign.
    pub modules: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    public_key: String,
    modules: Vec<String>,
    /// A label for people (ignored).
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
}

impl TrustStore {
    /// Reads a trust store's JSON text.
    pub fn parse(text: &str) -> Result<TrustStore, ModuleError> {
        let file: StoreFile = serde_json::from_str(text).map_err(|e| ModuleError::Config {
            message: format!(
                "the trust store is not valid: {e} (expected {{\"keys\": [{{\"public_key\": \"ed25519:…\", \"modules\": [\"negative_list\"]}}]}})"
            ),
        })?;
        let mut keys_out = Vec::new();
        for (i, k) in file.keys.into_iter().enumerate() {
            let key = keys::parse_public(&k.public_key).map_err(|e| ModuleError::Config {
                message: format!("the trust store's key {}: {e}", i + 1),
            })?;
            keys_out.push(TrustedKey {
                id: keys::key_id(&key),
                key,
                modules: k.modules,
            });
        }
        Ok(TrustStore { keys: keys_out })
    }

    /// Reads a trust store file.
    pub fn load(path: &Path) -> Result<TrustStore, ModuleError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModuleError::Config {
            message: format!("cannot read the trust store `{}`: {e}", path.display()),
        })?;
        TrustStore::parse(&text).map_err(|e| ModuleError::Config {
            message: format!("`{}`: {e}", path.display()),
        })
    }
}

/// A package whose signature verified with a key of the store scoped to its module.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub manifest: Manifest,
    /// The id of the store's key that signed it.
    pub key_id: String,
}

/// Decides whether a package is trusted. The only function that does, and it reads only the
/// trust store and the signature: the package cannot opt out (an absent signature is refused),
/// and cannot choose the key (every key of the store is tried; the key id the manifest names is
/// read only to word the error, after verification failed).
///
/// In order: a signature must be present; it must verify over the manifest's exact bytes with
/// a key of the store; only then is the manifest parsed, and the module it names must be in
/// that key's scope.
pub fn authenticate(store: &TrustStore, package: &Package) -> Result<Authenticated, ModuleError> {
    let claimed = || {
        // For the message only: what the (unverified) manifest says about itself.
        serde_json::from_str::<serde_json::Value>(&package.manifest)
            .ok()
            .and_then(|v| {
                Some((
                    v.get("key_id")?.as_str()?.to_string(),
                    v.get("module")?.as_str()?.to_string(),
                ))
            })
    };
    let Some(sig_hex) = &package.signature else {
        return Err(ModuleError::Unsigned {
            module: claimed().map(|(_, m)| m),
        });
    };
    let signature = unhex(sig_hex)
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b))
        .ok_or_else(|| ModuleError::Malformed {
            message: "the signature is not 128 hex digits (an ed25519 signature)".into(),
        })?;
    let signers: Vec<&TrustedKey> = store
        .keys
        .iter()
        .filter(|k| {
            k.key
                .verify_strict(package.manifest.as_bytes(), &signature)
                .is_ok()
        })
        .collect();
    if signers.is_empty() {
        let key_id = claimed().map(|(k, _)| k);
        let known = key_id
            .as_ref()
            .is_some_and(|id| store.keys.iter().any(|k| &k.id == id));
        return Err(if known {
            ModuleError::BadSignature { key_id }
        } else {
            ModuleError::UntrustedKey { key_id }
        });
    }
    let manifest = package.manifest()?;
    match signers
        .iter()
        .find(|k| k.modules.contains(&manifest.module))
    {
        Some(k) => Ok(Authenticated {
            manifest,
            key_id: k.id.clone(),
        }),
        None => {
            let k = signers.first().map(|k| (k.id.clone(), k.modules.clone()));
            let (key_id, allowed) = k.unwrap_or_default();
            Err(ModuleError::NotScoped {
                key_id,
                module: manifest.module,
                allowed,
            })
        }
    }
}
