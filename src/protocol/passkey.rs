//! Passkey-thumbprint nonce binding (docs/profile.md §4), the WebAuthn side: the OIDC `nonce` commits to
//! a passkey's public key, so any OP binds the ID Token to the passkey; later the passkey signs a
//! WebAuthn assertion over the ID Token to prove possession.
//!
//! - [`commitment`]: `plain` mode sends the JWK thumbprint itself; `salted` (the default) sends
//!   `BASE64URL(SHA-256("kb-nonce-v1." || thumbprint || "." || salt))` with 32 random bytes of
//!   salt (docs/profile.md §4.1), so the nonce reveals nothing about the key until the salt is shown. The
//!   two modes are distinct by construction: a plain token never verifies as salted.
//! - [`signing_challenge`]: the WebAuthn challenge for a passkey signature over an ID Token, a
//!   message, the consumer's nonce and the consumer request's method and URL (as a DPoP proof's
//!   `htm`/`htu`): SHA-256 over a domain-separated, length-prefixed encoding.
//! - [`verify_assertion`]: every WebAuthn assertion check (type, challenge, origin allow-list,
//!   rpIdHash, user present / verified, signature over `authenticatorData || SHA-256(clientDataJSON)`
//!   with the JWK, sign count).
//!
//! Does NOT check: the ID Token, the consumer nonce or single use (a consumer does all of that with
//! [`crate::protocol::consumer::verify_passkey_presentation`], which uses this module; this module
//! never uses the consumer), attestation (keybound reads the public key, it does not judge the
//! authenticator).

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::protocol::b64;
use crate::protocol::crypto::Verifier;
use crate::protocol::jwa::Alg;
use crate::protocol::jwk::{EcCurve, PublicJwk};

const NONCE_DOMAIN: &[u8] = b"kb-nonce-v1.";
/// v2 binds the consumer's method and URL; v1 (0.1.0) did not, and is no longer accepted.
const SIGN_DOMAIN: &[u8] = b"keybound-passkey-signature-v2";

/// How the nonce commits to the passkey.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceMode {
    /// `nonce` = the JWK thumbprint (compatible with the original proposal; links logins to the key).
    Plain,
    /// `nonce` = a salted hash of the thumbprint (default).
    Salted,
}

/// The OIDC `nonce` for a passkey: its thumbprint (`plain`) or a salted commitment to it.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` when `salted` has no salt of at least 32 bytes, or `plain` has one.
pub fn commitment(mode: NonceMode, thumbprint: &str, salt: Option<&[u8]>) -> Result<String> {
    match (mode, salt) {
        (NonceMode::Plain, None) => Ok(thumbprint.to_owned()),
        (NonceMode::Plain, Some(_)) => Err(Error::arg("salt", "plain mode takes no salt")),
        (NonceMode::Salted, Some(salt)) if salt.len() >= 32 => {
            // docs/profile.md §4.1: SHA-256("kb-nonce-v1." || JKT || "." || rz).
            let mut h = Sha256::new();
            h.update(NONCE_DOMAIN);
            h.update(thumbprint.as_bytes());
            h.update(b".");
            h.update(salt);
            Ok(b64::encode(h.finalize()))
        }
        (NonceMode::Salted, _) => Err(Error::arg("salt", "salted mode needs at least 32 bytes of salt")),
    }
}

fn length_prefixed(h: &mut Sha256, part: &[u8]) {
    h.update((part.len() as u64).to_be_bytes());
    h.update(part);
}

/// The WebAuthn challenge for a passkey signature over `id_token` and `message`, the consumer's
/// `nonce`, and the request it goes to: `htm` (an HTTP method token, compared in upper case) and
/// `htu` (normalized as a DPoP `htu`: no query or fragment). SHA-256 over the domain string and
/// the length-prefixed parts, so no two different inputs share a challenge, and an assertion made
/// for one consumer endpoint does not verify at another.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` for an `htm` that is not a method token; `ERR_URL_INVALID` for an
/// `htu` that is not an absolute http(s) URL.
pub fn signing_challenge(id_token: &str, message: &[u8], consumer_nonce: Option<&str>, htm: &str, htu: &str) -> Result<[u8; 32]> {
    crate::protocol::dpop::ProofTemplate::check_htm(htm)?;
    let htu = crate::protocol::htu::normalize_htu(htu)?;
    let mut h = Sha256::new();
    length_prefixed(&mut h, SIGN_DOMAIN);
    length_prefixed(&mut h, id_token.as_bytes());
    length_prefixed(&mut h, message);
    length_prefixed(&mut h, consumer_nonce.unwrap_or("").as_bytes());
    length_prefixed(&mut h, htm.to_ascii_uppercase().as_bytes());
    length_prefixed(&mut h, htu.as_bytes());
    Ok(h.finalize().into())
}

/// Converts an ASN.1 DER ECDSA signature (`SEQUENCE { r INTEGER, s INTEGER }`, as WebAuthn
/// returns it) to the fixed-size `r || s` that JWS and WebCrypto use.
///
/// # Errors
/// `ERR_WEBAUTHN_INVALID` for anything but a minimal, well-formed DER signature of that size.
pub fn der_to_raw_ecdsa(der: &[u8], coordinate_len: usize) -> Result<Vec<u8>> {
    let bad = || Error::WebAuthnInvalid { reason: "the ECDSA signature is not well-formed DER" };
    let (&tag, rest) = der.split_first().ok_or_else(bad)?;
    if tag != 0x30 {
        return Err(bad());
    }
    let (&len, mut body) = rest.split_first().ok_or_else(bad)?;
    // Short-form length only: an ECDSA signature up to P-521 is under 128 bytes... except P-521
    // (up to 139), which uses the one-byte long form 0x81.
    if len == 0x81 {
        let (&l, b) = body.split_first().ok_or_else(bad)?;
        if l < 0x80 || usize::from(l) != b.len() {
            return Err(bad());
        }
        body = b;
    } else if len >= 0x80 || usize::from(len) != body.len() {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(2 * coordinate_len);
    for _ in 0..2 {
        let (&t, b) = body.split_first().ok_or_else(bad)?;
        let (&l, b) = b.split_first().ok_or_else(bad)?;
        let l = usize::from(l);
        if t != 0x02 || l == 0 || l > b.len() || l >= 0x80 {
            return Err(bad());
        }
        let (int, b) = b.split_at(l);
        // Minimal encoding: a leading zero only before a byte with the high bit set.
        if int.len() > 1 && int[0] == 0 && int[1] & 0x80 == 0 {
            return Err(bad());
        }
        if int[0] & 0x80 != 0 {
            return Err(bad());
        }
        let int = if int[0] == 0 { &int[1..] } else { int };
        if int.len() > coordinate_len {
            return Err(bad());
        }
        out.extend(std::iter::repeat_n(0, coordinate_len - int.len()));
        out.extend_from_slice(int);
        body = b;
    }
    if !body.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// What the relying party expects of an assertion.
#[derive(Clone, Debug)]
pub struct AssertionCheck<'a> {
    /// The challenge the assertion must answer (from [`signing_challenge`]).
    pub challenge: &'a [u8],
    /// Accepted origins (exact strings, for example `https://app.example.com`).
    pub origins: &'a [&'a str],
    /// The RP ID (a registrable domain, for example `app.example.com`).
    pub rp_id: &'a str,
    /// Require the user-verified flag.
    pub require_user_verification: bool,
    /// The last sign count seen for this credential (0 when the authenticator does not count).
    pub previous_sign_count: u32,
    /// Top-level origins allowed to embed the ceremony in a cross-origin iframe (the
    /// clientDataJSON `topOrigin`). Empty, the usual: an assertion with any `topOrigin` (or
    /// with `crossOrigin: true`) is refused.
    pub top_origins: &'a [&'a str],
}

/// A WebAuthn assertion as the browser returns it (`AuthenticatorAssertionResponse`).
#[derive(Clone, Copy, Debug)]
pub struct Assertion<'a> {
    /// `authenticatorData`.
    pub authenticator_data: &'a [u8],
    /// `clientDataJSON`.
    pub client_data_json: &'a [u8],
    /// `signature` (DER for ECDSA, PKCS#1 v1.5 for RS256, raw for Ed25519).
    pub signature: &'a [u8],
}

#[derive(Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    typ: Option<String>,
    challenge: Option<String>,
    origin: Option<String>,
    #[serde(rename = "crossOrigin")]
    cross_origin: Option<bool>,
    #[serde(rename = "topOrigin")]
    top_origin: Option<String>,
}

/// The algorithm a passkey key signs with, from its JWK.
fn assertion_alg(key: &PublicJwk) -> Result<Alg> {
    match key {
        PublicJwk::Ec { crv: EcCurve::P256, .. } => Ok(Alg::Es256),
        PublicJwk::Ec { crv: EcCurve::P384, .. } => Ok(Alg::Es384),
        PublicJwk::Rsa { .. } => Ok(Alg::Rs256),
        PublicJwk::Okp { .. } => Ok(Alg::EdDsa),
        PublicJwk::Ec { .. } => Err(Error::JwkUnsupported { value: "P-521 passkey".into() }),
    }
}

/// Verifies a WebAuthn assertion (WebAuthn Level 3 §7.2 steps 11–21, the ones that apply to a
/// known credential). Returns the new sign count to store.
///
/// ECDSA signatures are malleable (`(r, s)` and `(r, n - s)` both verify) and authenticators do
/// not produce low-S signatures (the recorded Chromium vector is high-S), so both are accepted;
/// anything keyed on an assertion (a replay store) must use [`signed_data_hash`], never the
/// signature bytes.
///
/// # Errors
/// `ERR_WEBAUTHN_INVALID` (malformed data, BS without BE), `ERR_WEBAUTHN_TYPE`, `ERR_WEBAUTHN_CHALLENGE`,
/// `ERR_WEBAUTHN_ORIGIN`, `ERR_WEBAUTHN_RP_ID`, `ERR_WEBAUTHN_USER_PRESENCE`,
/// `ERR_WEBAUTHN_USER_VERIFICATION`, `ERR_WEBAUTHN_SIGN_COUNT`, `ERR_JWS_SIGNATURE_INVALID`.
pub async fn verify_assertion<V: Verifier>(
    key: &PublicJwk,
    assertion: &Assertion<'_>,
    check: &AssertionCheck<'_>,
    verifier: &V,
) -> Result<u32> {
    // Step 11: parse clientDataJSON.
    let client: ClientData = crate::protocol::json::object(assertion.client_data_json, "clientDataJSON")?;
    // Step 13: the type is webauthn.get (a registration response is not a signature).
    if client.typ.as_deref() != Some("webauthn.get") {
        return Err(Error::WebAuthnType);
    }
    // Step 14: the challenge is ours.
    if client.challenge.as_deref() != Some(b64::encode(check.challenge).as_str()) {
        return Err(Error::WebAuthnChallenge);
    }
    // Step 15: the origin is one we expect.
    let origin = client.origin.unwrap_or_default();
    if !check.origins.iter().any(|o| *o == origin) {
        return Err(Error::WebAuthnOrigin { origin });
    }
    // Step 16 (WebAuthn L3): a ceremony in a cross-origin iframe names its top-level origin in
    // `topOrigin`; it is refused unless that origin is explicitly allowed. Without `topOrigin`,
    // `crossOrigin: true` is refused as before.
    match client.top_origin {
        Some(top) if !check.top_origins.iter().any(|o| *o == top) => return Err(Error::WebAuthnOrigin { origin: top }),
        Some(_) => {}
        None if client.cross_origin == Some(true) => return Err(Error::WebAuthnOrigin { origin }),
        None => {}
    }
    // Steps 17–19: authenticatorData = rpIdHash (32) || flags (1) || signCount (4) || ...
    let data = assertion.authenticator_data;
    if data.len() < 37 {
        return Err(Error::WebAuthnInvalid { reason: "authenticatorData is shorter than 37 bytes" });
    }
    if data[..32] != Sha256::digest(check.rp_id.as_bytes())[..] {
        return Err(Error::WebAuthnRpId);
    }
    let flags = data[32];
    if flags & 0x01 == 0 {
        return Err(Error::WebAuthnUserPresence);
    }
    if check.require_user_verification && flags & 0x04 == 0 {
        return Err(Error::WebAuthnUserVerification);
    }
    // WebAuthn L3 §6.1 / §7.2: Backup State (BS, bit 4) without Backup Eligibility (BE, bit 3)
    // is an invalid combination.
    if flags & 0x10 != 0 && flags & 0x08 == 0 {
        return Err(Error::WebAuthnInvalid { reason: "the backup state flag is set without backup eligibility" });
    }
    // Step 20: the signature over authenticatorData || SHA-256(clientDataJSON), with the key.
    let mut signed = data.to_vec();
    signed.extend_from_slice(&Sha256::digest(assertion.client_data_json));
    let alg = assertion_alg(key)?;
    let signature = match key {
        PublicJwk::Ec { crv, .. } => der_to_raw_ecdsa(assertion.signature, crv.coordinate_len())?,
        _ => assertion.signature.to_vec(),
    };
    verifier.verify(alg, key, &signed, &signature).await?;
    // Step 21: a sign count that does not grow (when either side counts) signals a clone.
    let count = u32::from_be_bytes([data[33], data[34], data[35], data[36]]);
    if (count != 0 || check.previous_sign_count != 0) && count <= check.previous_sign_count {
        return Err(Error::WebAuthnSignCount { previous: check.previous_sign_count, now: count });
    }
    Ok(count)
}

// ---- Public keys from registration --------------------------------------------------------------

fn cbor_int(v: &ciborium::Value) -> Option<i128> {
    v.as_integer().map(i128::from)
}

/// Converts a COSE_Key (RFC 9053, as in WebAuthn attested credential data) to a public JWK:
/// EC2 P-256/P-384, RSA, and OKP Ed25519.
///
/// # Errors
/// `ERR_WEBAUTHN_INVALID` for malformed CBOR; `ERR_JWK_UNSUPPORTED` for other key types; the JWK
/// errors.
pub fn cose_key_to_jwk(cose: &[u8]) -> Result<PublicJwk> {
    let value: ciborium::Value = ciborium::from_reader(cose).map_err(|_| Error::WebAuthnInvalid { reason: "the COSE key is not CBOR" })?;
    cose_value_to_jwk(&value)
}

fn cose_value_to_jwk(value: &ciborium::Value) -> Result<PublicJwk> {
    let map = value.as_map().ok_or(Error::WebAuthnInvalid { reason: "the COSE key is not a map" })?;
    let get = |label: i128| map.iter().find(|(k, _)| cbor_int(k) == Some(label)).map(|(_, v)| v);
    let bytes = |label: i128| -> Result<String> {
        get(label).and_then(|v| v.as_bytes()).map(b64::encode).ok_or(Error::WebAuthnInvalid { reason: "a COSE key member is missing" })
    };
    let json = match get(1).and_then(cbor_int) {
        Some(2) => {
            let crv = match get(-1).and_then(cbor_int) {
                Some(1) => "P-256",
                Some(2) => "P-384",
                other => return Err(Error::JwkUnsupported { value: format!("COSE EC2 curve {}", cose_label(other)) }),
            };
            format!(r#"{{"kty":"EC","crv":"{crv}","x":"{}","y":"{}"}}"#, bytes(-2)?, bytes(-3)?)
        }
        Some(3) => format!(r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#, bytes(-1)?, bytes(-2)?),
        Some(1) => match get(-1).and_then(cbor_int) {
            Some(6) => format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, bytes(-2)?),
            other => return Err(Error::JwkUnsupported { value: format!("COSE OKP curve {}", cose_label(other)) }),
        },
        other => return Err(Error::JwkUnsupported { value: format!("COSE kty {}", cose_label(other)) }),
    };
    PublicJwk::from_json(&json)
}

/// A COSE label or value for a message: the integer, or `absent`. (Display, not Debug: the
/// shipped wasm is built without Debug formatting.)
fn cose_label(v: Option<i128>) -> String {
    v.map_or_else(|| "absent".to_owned(), |v| v.to_string())
}

/// Reads the credential id and public key from an attestation object (the fallback when the
/// browser has no `getPublicKey()`): `authData` = rpIdHash (32) || flags (1) || signCount (4) ||
/// aaguid (16) || credentialIdLength (2) || credentialId || credentialPublicKey (COSE).
///
/// # Errors
/// `ERR_WEBAUTHN_INVALID`, and the COSE errors.
pub fn attestation_public_key(attestation_object: &[u8]) -> Result<(Vec<u8>, PublicJwk)> {
    let bad = |reason| Error::WebAuthnInvalid { reason };
    let value: ciborium::Value = ciborium::from_reader(attestation_object).map_err(|_| bad("the attestation object is not CBOR"))?;
    let map = value.as_map().ok_or(bad("the attestation object is not a map"))?;
    let auth_data = map
        .iter()
        .find(|(k, _)| k.as_text() == Some("authData"))
        .and_then(|(_, v)| v.as_bytes())
        .ok_or(bad("the attestation object has no authData"))?;
    if auth_data.len() < 55 || auth_data[32] & 0x40 == 0 {
        return Err(bad("authData has no attested credential data"));
    }
    let id_len = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
    let id_end = 55 + id_len;
    let credential_id = auth_data.get(55..id_end).ok_or(bad("authData is cut short"))?.to_vec();
    let cose: ciborium::Value = ciborium::from_reader(&auth_data[id_end..]).map_err(|_| bad("the credential public key is not CBOR"))?;
    Ok((credential_id, cose_value_to_jwk(&cose)?))
}

/// SHA-256 of what a WebAuthn assertion signs, `authenticatorData || SHA-256(clientDataJSON)`:
/// the identity of an assertion for single-use checks. Unlike the signature bytes it cannot be
/// changed without the key (an ECDSA `s` can be flipped to `n - s` by anyone).
pub fn signed_data_hash(assertion: &Assertion<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(assertion.authenticator_data);
    h.update(Sha256::digest(assertion.client_data_json));
    h.finalize().into()
}
