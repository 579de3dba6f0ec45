//! PKCE S256 (RFC 7636 §4.2) and the hashes built the same way: `c_s256` (KB §2.3, §3.3) and
//! `ath` (RFC 9449 §4.2).
//!
//! All three are `BASE64URL(SHA256(ASCII(value)))`; one helper serves them, under names that say
//! which input they take. They are not `c_hash`/`at_hash` (OIDC's left-half hashes).

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::protocol::b64;

/// `BASE64URL(SHA256(value))`, the full 32-byte digest (43 characters).
pub fn s256(value: &str) -> String {
    b64::encode(Sha256::digest(value.as_bytes()))
}

/// Checks an RFC 7636 §4.1 code verifier: 43 to 128 characters of `[A-Za-z0-9-._~]`.
///
/// # Errors
/// `ERR_PKCE_VERIFIER_INVALID`.
pub fn check_verifier(verifier: &str) -> Result<()> {
    let ok_len = (43..=128).contains(&verifier.len());
    let ok_chars = verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if ok_len && ok_chars {
        Ok(())
    } else {
        Err(Error::PkceVerifierInvalid)
    }
}

/// The S256 `code_challenge` for a code verifier (RFC 7636 §4.2).
///
/// # Errors
/// `ERR_PKCE_VERIFIER_INVALID` when the verifier is malformed.
pub fn code_challenge(verifier: &str) -> Result<String> {
    check_verifier(verifier)?;
    Ok(s256(verifier))
}

/// A code verifier from 32 random bytes supplied by the caller (43 characters, 256 bits).
pub fn verifier_from_random(random: &[u8; 32]) -> String {
    b64::encode(random)
}

/// `c_s256` over an authorization `code` or a `device_code`, as received (after URL decoding).
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` for an empty code.
pub fn c_s256(code: &str) -> Result<String> {
    if code.is_empty() {
        return Err(Error::arg("code", "must not be empty"));
    }
    Ok(s256(code))
}

/// `ath` over an access token (or, in keybound's presentation profile, an ID Token).
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` for an empty token.
pub fn ath(token: &str) -> Result<String> {
    if token.is_empty() {
        return Err(Error::arg("accessToken", "must not be empty"));
    }
    Ok(s256(token))
}
