//! Compact JWS (RFC 7515 §7.1): parse with size limits, assemble signing inputs and tokens.
//!
//! Parsing checks, in this order: size, part count (a five-part JWE is named as such), header
//! size, header JSON, `alg` against the caller's allow-list, `crit`, an embedded public `jwk`.
//! The signature is checked by [`verify`] with a [`Verifier`]; claims are the caller's
//! business, after the signature (jose's order).
//!
//! Does NOT check: `typ` (use [`typ_matches`]), claims, or where a verification key comes from.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::protocol::b64;
use crate::protocol::crypto::Verifier;
use crate::protocol::jwa::Alg;
use crate::protocol::jwk::{PublicJwk, RawJwk};

/// Size limits applied before any decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum length of the whole compact token, in bytes.
    pub max_token: usize,
    /// Maximum length of the encoded protected header, in bytes.
    pub max_header: usize,
}

impl Default for Limits {
    /// 64 KiB for a token (ID Tokens with many claims fit), 8 KiB for a header (an RSA-4096
    /// `jwk` fits).
    fn default() -> Self {
        Limits { max_token: 64 * 1024, max_header: 8 * 1024 }
    }
}

#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    typ: Option<String>,
    kid: Option<String>,
    #[serde(default, deserialize_with = "crate::protocol::json::nested_object")]
    jwk: Option<RawJwk>,
    /// `Some(Value::Null)` for `"crit": null`, `None` only when the member is absent.
    #[serde(default, deserialize_with = "present")]
    crit: Option<serde_json::Value>,
}

/// Deserializes a member that is present, keeping an explicit `null` as `Some(Value::Null)`
/// (a plain `Option` would read `null` as absent).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

/// The protected header members keybound reads.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Header {
    /// `alg`, already on the caller's allow-list.
    pub alg: Alg,
    /// `typ`, as received.
    pub typ: Option<String>,
    /// `kid`, as received.
    pub kid: Option<String>,
    /// `jwk`, parsed as a public key. Only meaningful for DPoP proofs; an ID Token's embedded
    /// key must never be used to verify it.
    pub jwk: Option<PublicJwk>,
}

/// A parsed, not yet verified compact JWS.
#[derive(Clone, Debug)]
pub struct CompactJws<'a> {
    token: &'a str,
    signing_input_len: usize,
    /// The protected header.
    pub header: Header,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> CompactJws<'a> {
    /// The ASCII signing input `BASE64URL(header) || '.' || BASE64URL(payload)`.
    pub fn signing_input(&self) -> &'a str {
        &self.token[..self.signing_input_len]
    }

    /// The decoded payload bytes. **Unverified** until [`verify`] succeeded.
    pub fn payload_unverified(&self) -> &[u8] {
        &self.payload
    }

    /// The decoded signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}

/// Parses a compact JWS. `allowed` is the `alg` allow-list; an empty list allows nothing.
///
/// # Errors
/// `ERR_JWS_TOO_LARGE`, `ERR_JWE_UNSUPPORTED`, `ERR_JWS_MALFORMED`, `ERR_BASE64URL_INVALID`,
/// `ERR_JSON_INVALID`, `ERR_JWS_ALG_NOT_ALLOWED`, `ERR_JWS_CRIT_UNSUPPORTED`, and the JWK errors
/// for an embedded `jwk`.
pub fn parse<'a>(token: &'a str, allowed: &[Alg], limits: Limits) -> Result<CompactJws<'a>> {
    if token.len() > limits.max_token {
        return Err(Error::JwsTooLarge { limit: limits.max_token });
    }
    let parts: Vec<&str> = token.split('.').collect();
    match parts.len() {
        3 => {}
        5 => return Err(Error::JweUnsupported),
        _ => return Err(Error::JwsMalformed { reason: "expected three dot-separated parts" }),
    }
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    if h.is_empty() || p.is_empty() {
        return Err(Error::JwsMalformed { reason: "a part is empty" });
    }
    if h.len() > limits.max_header {
        return Err(Error::JwsTooLarge { limit: limits.max_header });
    }
    let header_bytes = b64::decode(h, "JWS header")?;
    let raw: RawHeader = crate::protocol::json::object(&header_bytes, "JWS header")?;
    let alg_name = raw.alg.ok_or(Error::JwsMalformed { reason: "header has no \"alg\"" })?;
    let alg = Alg::from_name(&alg_name)?;
    if !allowed.contains(&alg) {
        return Err(Error::JwsAlgNotAllowed { alg: alg_name });
    }
    // RFC 7515 §4.1.11: `crit`, when present, is a non-empty array of strings, and we
    // understand no extension, so any `crit` at all is refused, and so are `null` and `[]`.
    if let Some(crit) = raw.crit {
        // A non-array or a non-string entry never parsed before either (`ERR_JSON_INVALID`).
        let malformed = || Error::JsonInvalid { what: "JWS header", detail: "\"crit\" must be a non-empty array of strings".to_owned() };
        let name = match crit {
            serde_json::Value::Array(names) => match names.into_iter().next() {
                Some(serde_json::Value::String(name)) => name,
                Some(_) => return Err(malformed()),
                None => "(empty list)".to_owned(),
            },
            serde_json::Value::Null => "(null)".to_owned(),
            _ => return Err(malformed()),
        };
        return Err(Error::JwsCritUnsupported { name });
    }
    // Checked after `alg`, so that an unsigned `alg: none` token is named for what it is.
    if s.is_empty() {
        return Err(Error::JwsMalformed { reason: "the signature is empty" });
    }
    let jwk = raw.jwk.map(PublicJwk::from_raw).transpose()?;
    let payload = b64::decode(p, "JWS payload")?;
    let signature = b64::decode(s, "JWS signature")?;
    Ok(CompactJws {
        token,
        signing_input_len: h.len() + 1 + p.len(),
        header: Header { alg, typ: raw.typ, kid: raw.kid, jwk },
        payload,
        signature,
    })
}

/// Verifies a parsed JWS with `key`. Returns the payload bytes.
///
/// # Errors
/// `ERR_JWS_ALG_KEY_MISMATCH` when the header `alg` does not fit `key`;
/// `ERR_JWS_SIGNATURE_INVALID`.
pub async fn verify<'j, V: Verifier>(jws: &'j CompactJws<'_>, key: &PublicJwk, verifier: &V) -> Result<&'j [u8]> {
    jws.header.alg.check_key(key)?;
    verifier.verify(jws.header.alg, key, jws.signing_input().as_bytes(), &jws.signature).await?;
    Ok(&jws.payload)
}

/// `BASE64URL(header_json) || '.' || BASE64URL(payload_json)`.
pub fn signing_input(header_json: &str, payload_json: &str) -> String {
    let mut out = b64::encode(header_json);
    out.push('.');
    out.push_str(&b64::encode(payload_json));
    out
}

/// `signing_input || '.' || BASE64URL(signature)`: the compact JWS.
pub fn assemble(signing_input: &str, signature: &[u8]) -> String {
    let mut out = String::with_capacity(signing_input.len() + 1 + signature.len() * 4 / 3 + 2);
    out.push_str(signing_input);
    out.push('.');
    out.push_str(&b64::encode(signature));
    out
}

/// Compares a `typ` header with an expected media type as RFC 7515 §4.1.9 says: case-insensitive,
/// with an optional `application/` prefix.
pub fn typ_matches(typ: Option<&str>, expected: &str) -> bool {
    let Some(typ) = typ else { return false };
    let lower = typ.to_ascii_lowercase();
    let bare = lower.strip_prefix("application/").unwrap_or(&lower);
    bare == expected
}
