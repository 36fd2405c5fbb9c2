//! Publisher keys: ed25519, written as one line of text each.
//!
//! - a public key is `ed25519:` and 64 hex digits (its 32 bytes): the line of `NAME.pub`, and
//!   what a trust store lists;
//! - a private key is `ed25519-secret:` and 64 hex digits (the 32-byte seed): `NAME.key`,
//!   written with mode 0600;
//! - a key id is the first 16 hex digits of the SHA-256 of the public key's bytes: what a
//!   manifest names and messages show (informative only: trust never looks a key up by it).

use super::{ModuleError, hex, unhex};
use ed25519_dalek::{SigningKey, VerifyingKey};

const PUBLIC_PREFIX: &str = "ed25519:";
const SECRET_PREFIX: &str = "ed25519-secret:";

/// A new signing key from the operating system's random source.
pub fn generate() -> Result<SigningKey, ModuleError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| ModuleError::Internal {
        message: format!("no random source for a new key: {e}"),
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The line of a public key file.
pub fn public_line(key: &VerifyingKey) -> String {
    format!("{PUBLIC_PREFIX}{}", hex(key.as_bytes()))
}

/// The text of a private key file.
pub fn secret_text(key: &SigningKey) -> String {
    format!("{SECRET_PREFIX}{}\n", hex(key.as_bytes()))
}

/// A key's id: 16 hex digits of the SHA-256 of its bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    let h = norm_compiler::ir::source_hash(key.as_bytes());
    h.get(..16).unwrap_or(&h).to_string()
}

/// Reads a public key line (`ed25519:HEX`).
pub fn parse_public(line: &str) -> Result<VerifyingKey, ModuleError> {
    let line = line.trim();
    let bad = || ModuleError::Config {
        message: format!(
            "`{}` is not a public key: expected `{PUBLIC_PREFIX}` and 64 hex digits (the line of a `.pub` file from `norm data keygen`)",
            shorten(line)
        ),
    };
    let bytes: [u8; 32] = line
        .strip_prefix(PUBLIC_PREFIX)
        .and_then(unhex)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad())
}

/// Reads a private key file's text (`ed25519-secret:HEX`).
pub fn parse_secret(text: &str) -> Result<SigningKey, ModuleError> {
    let seed: [u8; 32] = text
        .trim()
        .strip_prefix(SECRET_PREFIX)
        .and_then(unhex)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ModuleError::Config {
            message: format!(
                "not a private key: expected `{SECRET_PREFIX}` and 64 hex digits (a `.key` file from `norm data keygen`)"
            ),
        })?;
    Ok(SigningKey::from_bytes(&seed))
}

fn shorten(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or(s)),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_their_text() {
        let Ok(k) = generate() else {
            panic!("a key");
        };
        let public = public_line(&k.verifying_key());
        assert!(public.starts_with("ed25519:") && public.len() == 8 + 64);
        assert_eq!(
            parse_public(&public).ok(),
            Some(k.verifying_key()),
            "{public}"
        );
        assert_eq!(
            parse_secret(&secret_text(&k)).map(|s| s.to_bytes()).ok(),
            Some(k.to_bytes())
        );
        assert_eq!(key_id(&k.verifying_key()).len(), 16);
        assert!(parse_public("ed25519:zz").is_err());
        assert!(parse_secret("hello").is_err());
    }
}
