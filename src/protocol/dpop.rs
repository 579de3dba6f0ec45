//! DPoP proofs (RFC 9449 §4) with the Key Binding `c_s256` claim (KB §2.3, §3.3).
//!
//! Building: [`DpopHeader`] is computed **once per key** (it holds the encoded
//! `{"typ":"dpop+jwt","alg":…,"jwk":…}` and the key's thumbprint), so a proof costs one claims
//! serialization and one signature. [`DpopClaims::new`] fills in `htm`, the normalized `htu`, `iat`,
//! `jti`, and the optional `nonce`, `ath` and `c_s256`; [`create_proof`] signs.
//!
//! Checking: [`verify_proof`] runs RFC 9449 §4.3 steps 2–12 and the KB additions.
//! Does NOT check: `jti` replay (keep the returned `jti` in a store for the acceptance window)
//! or that a `nonce` is still valid beyond equality with the one you pass.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::protocol::crypto::{Signer, Verifier};
use crate::protocol::htu::Htu;
use crate::protocol::jwa::Alg;
use crate::protocol::jwk::PublicJwk;
use crate::protocol::{b64, jws, pkce};

/// The DPoP proof `typ` (RFC 9449 §4.2).
pub const DPOP_TYP: &str = "dpop+jwt";
/// Longest `jti` accepted (RFC 9449 §11.1; authentik uses the same bound).
pub const MAX_JTI_LEN: usize = 256;

/// The encoded protected header of every proof made with one key, plus that key's thumbprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpopHeader {
    encoded: String,
    jkt: String,
    alg: Alg,
}

impl DpopHeader {
    /// Builds the header for `alg` and the public key `jwk`.
    ///
    /// # Errors
    /// `ERR_JWS_ALG_KEY_MISMATCH` when `alg` does not fit `jwk`.
    pub fn new(alg: Alg, jwk: &PublicJwk) -> Result<Self> {
        alg.check_key(jwk)?;
        // The canonical JWK (serde's JSON) is made once, for both the header and the thumbprint;
        // `typ` and `alg` are constants that need no escaping.
        let canonical = jwk.canonical_json();
        let json = [r#"{"typ":""#, DPOP_TYP, r#"","alg":""#, alg.as_str(), r#"","jwk":"#, &canonical, "}"].concat();
        Ok(DpopHeader { encoded: b64::encode(json), jkt: crate::protocol::jwk::thumbprint_of(&canonical), alg })
    }

    /// The key's RFC 7638 thumbprint: the `dpop_jkt` to send in the authorization request.
    pub fn jkt(&self) -> &str {
        &self.jkt
    }

    /// The signing algorithm.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The base64url-encoded protected header.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }
}

/// What a proof is for: the request, plus what the proof must be bound to. `Debug` redacts the
/// access token and the code.
#[derive(Clone, Copy)]
pub struct ProofParams<'a> {
    /// The HTTP method, for example `"POST"`.
    pub htm: &'a str,
    /// The request URI, parsed and normalized once ([`Htu::parse`]).
    pub htu: &'a Htu,
    /// The latest `DPoP-Nonce` from this server, if any.
    pub nonce: Option<&'a str>,
    /// An access token presented with the proof: adds `ath`.
    pub access_token: Option<&'a str>,
    /// The authorization `code` or `device_code` being exchanged: adds `c_s256`.
    pub code: Option<&'a str>,
}

impl<'a> ProofParams<'a> {
    /// A proof for `htm` `htu` with no nonce, `ath` or `c_s256`.
    pub fn new(htm: &'a str, htu: &'a Htu) -> Self {
        ProofParams { htm, htu, nonce: None, access_token: None, code: None }
    }
}

/// The claims of a DPoP proof (RFC 9449 §4.2 plus KB `c_s256`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DpopClaims {
    /// Unique identifier of this proof.
    pub jti: String,
    /// HTTP method.
    pub htm: String,
    /// HTTP URI without query and fragment.
    pub htu: String,
    /// Creation time, seconds since the epoch.
    pub iat: i64,
    /// Server-provided nonce.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Hash of the access token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
    /// Hash of the authorization code or device code (KB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_s256: Option<String>,
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl DpopClaims {
    /// Builds the claims of a new proof. `jti` must be fresh (≥ 96 bits of randomness) and `iat`
    /// the current time; the caller supplies both, so this stays free of I/O.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for an empty or non-token `htm`, a `jti` that is empty or over 256
    /// characters, or an empty nonce, access token or code; `ERR_URL_INVALID` for `htu`.
    pub fn new(params: &ProofParams<'_>, jti: String, iat: i64) -> Result<Self> {
        // The checks run in the order they always have, so the same bad input gives the same code.
        ProofTemplate::check_htm(params.htm)?;
        check_jti(&jti)?;
        ProofTemplate::new(params)?.claims(jti, iat)
    }
}

fn check_jti(jti: &str) -> Result<()> {
    if jti.is_empty() || jti.len() > MAX_JTI_LEN {
        return Err(Error::arg("jti", "must be 1 to 256 characters"));
    }
    Ok(())
}

/// Everything in a proof's claims that does not change from one proof to the next for the same
/// request: `htm` checked, `htu` normalized, `nonce`, and the `ath` and `c_s256` hashes. A
/// client that sends several proofs for the same request prepares it once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofTemplate {
    htm: String,
    htu: String,
    nonce: Option<String>,
    ath: Option<String>,
    c_s256: Option<String>,
}

impl ProofTemplate {
    /// Checks and prepares `params`.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for an empty or non-token `htm`, or an empty nonce, access token or
    /// code; `ERR_URL_INVALID` for `htu`.
    pub fn new(params: &ProofParams<'_>) -> Result<Self> {
        let htm = Self::check_htm(params.htm)?.to_owned();
        let nonce = Self::check_nonce(params.nonce)?.map(str::to_owned);
        Ok(ProofTemplate {
            htm,
            htu: params.htu.as_str().to_owned(),
            nonce,
            ath: params.access_token.map(pkce::ath).transpose()?,
            c_s256: params.code.map(pkce::c_s256).transpose()?,
        })
    }

    /// `htm` if it is an HTTP method token.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT`.
    pub(crate) fn check_htm(htm: &str) -> Result<&str> {
        if htm.is_empty() || htm.len() > 32 || !htm.bytes().all(is_tchar) {
            return Err(Error::arg("htm", "must be an HTTP method token such as \"POST\""));
        }
        Ok(htm)
    }

    /// `nonce` unless it is empty.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT`.
    fn check_nonce(nonce: Option<&str>) -> Result<Option<&str>> {
        if nonce == Some("") {
            return Err(Error::arg("nonce", "must not be empty"));
        }
        Ok(nonce)
    }

    /// The claims of one proof, with its fresh `jti` and `iat`.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for a `jti` that is empty or over 256 characters.
    pub fn claims(&self, jti: String, iat: i64) -> Result<DpopClaims> {
        check_jti(&jti)?;
        Ok(DpopClaims {
            jti,
            htm: self.htm.clone(),
            htu: self.htu.clone(),
            iat,
            nonce: self.nonce.clone(),
            ath: self.ath.clone(),
            c_s256: self.c_s256.clone(),
        })
    }
}

/// The signing input of a proof: the cached encoded header ([`DpopHeader::encoded`]) and the
/// encoded claims.
///
/// # Errors
/// `ERR_JSON_INVALID` if the claims cannot be serialized (not expected).
pub fn signing_input(header_encoded: &str, claims: &DpopClaims) -> Result<String> {
    let json = serde_json::to_string(claims).map_err(|e| Error::json("DPoP claims", e))?;
    let mut out = String::with_capacity(header_encoded.len() + 1 + json.len() * 4 / 3 + 4);
    out.push_str(header_encoded);
    out.push('.');
    out.push_str(&b64::encode(json));
    Ok(out)
}

/// Signs a proof with `signer`, whose key must be the one `header` was built for.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` if `header` was built for another key or algorithm; the signer's errors.
pub async fn create_proof<S: Signer>(signer: &S, header: &DpopHeader, claims: &DpopClaims) -> Result<String> {
    if signer.alg() != header.alg || signer.public_jwk().thumbprint() != header.jkt {
        return Err(Error::arg("header", "was built for another key or algorithm"));
    }
    let input = signing_input(&header.encoded, claims)?;
    let signature = signer.sign(input.as_bytes()).await?;
    Ok(jws::assemble(&input, &signature))
}

/// What a server expects of a proof (RFC 9449 §4.3). `Debug` redacts the access token and the
/// code.
#[derive(Clone, Copy)]
pub struct ProofCheck<'a> {
    /// The request method.
    pub htm: &'a str,
    /// The request URI, parsed and normalized once ([`Htu::parse`]).
    pub htu: &'a Htu,
    /// The verifier's clock, seconds since the epoch.
    pub now: i64,
    /// How old a proof may be, in seconds.
    pub max_age: i64,
    /// How far in the future `iat` may be (clock skew), in seconds.
    pub max_skew: i64,
    /// Algorithms accepted for the proof.
    pub allowed_algs: &'a [Alg],
    /// The nonce the server currently expects; when set, the proof must carry exactly it.
    pub nonce: Option<&'a str>,
    /// The access token presented with the proof; when set, `ath` must match it.
    pub access_token: Option<&'a str>,
    /// The code or device code exchanged; when set, `c_s256` must match it.
    pub code: Option<&'a str>,
    /// The thumbprint the proof key must have (`dpop_jkt`, or the token's `cnf`).
    pub expected_jkt: Option<&'a str>,
}

/// `Some("[redacted]")` for a present secret, for `Debug`.
fn redacted(v: Option<&str>) -> Option<&'static str> {
    v.map(|_| crate::protocol::secret::REDACTED)
}

impl std::fmt::Debug for ProofParams<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofParams")
            .field("htm", &self.htm)
            .field("htu", &self.htu)
            .field("nonce", &self.nonce)
            .field("access_token", &redacted(self.access_token))
            .field("code", &redacted(self.code))
            .finish()
    }
}

impl std::fmt::Debug for ProofCheck<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofCheck")
            .field("htm", &self.htm)
            .field("htu", &self.htu)
            .field("now", &self.now)
            .field("max_age", &self.max_age)
            .field("max_skew", &self.max_skew)
            .field("allowed_algs", &self.allowed_algs)
            .field("nonce", &self.nonce)
            .field("access_token", &redacted(self.access_token))
            .field("code", &redacted(self.code))
            .field("expected_jkt", &self.expected_jkt)
            .finish()
    }
}

/// A proof that passed [`verify_proof`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedProof {
    /// The proof key.
    pub jwk: PublicJwk,
    /// Its thumbprint.
    pub jkt: String,
    /// The proof claims. Put `jti` in the replay store.
    pub claims: DpopClaims,
}

#[derive(Deserialize)]
struct RawClaims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<i64>,
    nonce: Option<String>,
    ath: Option<String>,
    c_s256: Option<String>,
}

/// Verifies a DPoP proof against what the server expects.
///
/// Follows RFC 9449 §4.3: one well-formed JWS (step 2–3), `typ` `dpop+jwt` (4), an allowed
/// asymmetric `alg` (5), a public `jwk` (7) that the signature verifies with (6), the required
/// claims (3), `htm` (8), `htu` (9), `nonce` (10), `iat` window (11), `ath` (12); then KB:
/// `c_s256`, and the key's thumbprint.
///
/// # Errors
/// The JWS errors, then `ERR_DPOP_TYP_INVALID`, `ERR_DPOP_JWK_MISSING`,
/// `ERR_JWS_SIGNATURE_INVALID`, `ERR_DPOP_CLAIM_MISSING`, `ERR_DPOP_JTI_INVALID`,
/// `ERR_DPOP_HTM_MISMATCH`, `ERR_DPOP_HTU_MISMATCH`, `ERR_DPOP_NONCE_MISMATCH`,
/// `ERR_DPOP_IAT_OUT_OF_WINDOW`, `ERR_DPOP_ATH_MISMATCH`, `ERR_DPOP_C_S256_MISMATCH`,
/// `ERR_DPOP_KEY_MISMATCH`.
pub async fn verify_proof<V: Verifier>(proof: &str, check: &ProofCheck<'_>, verifier: &V) -> Result<VerifiedProof> {
    let limits = jws::Limits { max_token: 16 * 1024, max_header: 8 * 1024 };
    let parsed = jws::parse(proof, check.allowed_algs, limits)?;
    if parsed.header.typ.as_deref() != Some(DPOP_TYP) {
        return Err(Error::DpopTypInvalid);
    }
    let jwk = parsed.header.jwk.clone().ok_or(Error::DpopJwkMissing)?;
    let payload = jws::verify(&parsed, &jwk, verifier).await?;
    let raw: RawClaims = crate::protocol::json::object(payload, "DPoP claims")?;
    let missing = |claim| Error::DpopClaimMissing { claim };
    let jti = raw.jti.ok_or(missing("jti"))?;
    let htm = raw.htm.ok_or(missing("htm"))?;
    let htu = raw.htu.ok_or(missing("htu"))?;
    let iat = raw.iat.ok_or(missing("iat"))?;
    if jti.is_empty() || jti.len() > MAX_JTI_LEN {
        return Err(Error::DpopJtiInvalid);
    }
    if htm != check.htm {
        return Err(Error::DpopHtmMismatch);
    }
    if Htu::parse(&htu).ok().as_ref() != Some(check.htu) {
        return Err(Error::DpopHtuMismatch);
    }
    if let Some(nonce) = check.nonce {
        if raw.nonce.as_deref() != Some(nonce) {
            return Err(Error::DpopNonceMismatch);
        }
    }
    if iat < check.now.saturating_sub(check.max_age) || iat > check.now.saturating_add(check.max_skew) {
        return Err(Error::DpopIatOutOfWindow { iat, now: check.now });
    }
    if let Some(token) = check.access_token {
        if raw.ath.as_deref() != Some(pkce::s256(token).as_str()) {
            return Err(Error::DpopAthMismatch);
        }
    }
    if let Some(code) = check.code {
        if raw.c_s256.as_deref() != Some(pkce::s256(code).as_str()) {
            return Err(Error::DpopCodeHashMismatch);
        }
    }
    let jkt = jwk.thumbprint();
    if let Some(expected) = check.expected_jkt {
        if jkt != expected {
            return Err(Error::DpopKeyMismatch);
        }
    }
    Ok(VerifiedProof { jwk, jkt, claims: DpopClaims { jti, htm, htu, iat, nonce: raw.nonce, ath: raw.ath, c_s256: raw.c_s256 } })
}
