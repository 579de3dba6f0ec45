//! ID Token validation at the Authenticating Component: OpenID Connect Core §3.1.3.7, plus
//! Key Binding (`typ` `dpop+id_token`, `cnf.jwk` = our key), and the §12.2 rules for refreshed
//! tokens (OIDC Core §3.1.3.7 and KB §4; docs/profile.md §1).
//!
//! Order: parse → choose the key from the issuer's JWKS → verify the signature → check claims →
//! check the binding. The first failure wins.
//!
//! `auth_time` and `acr` against what the authentication request asked (`max_age`,
//! `acr_values`, OIDC Core §3.1.3.7 steps 12–13) are checked by [`check_authentication`], after
//! [`validate`].
//!
//! Does NOT check: `at_hash`/`c_hash` (optional in the code flow), or encrypted ID Tokens
//! (refused as `ERR_JWE_UNSUPPORTED`).

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::protocol::claims::RawClaims;
use crate::protocol::crypto::Verifier;
use crate::protocol::jwa::Alg;
use crate::protocol::jwk::{PublicJwk, RawJwk};
use crate::protocol::jws::{self, Header};

/// The Key Binding ID Token `typ` (KB §4, §10).
pub const BOUND_ID_TOKEN_TYP: &str = "dpop+id_token";

/// One usable key of a JWKS with the members used to select it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct JwksKey {
    jwk: PublicJwk,
    kid: Option<String>,
    alg: Option<String>,
    use_: Option<String>,
}

/// An issuer's JSON Web Key Set (RFC 7517 §5), reduced to the signature keys keybound can use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Jwks {
    keys: Vec<JwksKey>,
}

#[derive(Deserialize)]
struct RawJwks {
    #[serde(deserialize_with = "crate::protocol::json::objects")]
    keys: Vec<RawJwk>,
}

/// A JWKS key's `kid`, `alg` or `use`: absent (or `null`), or a string.
fn jwks_member(value: Option<serde_json::Value>, name: &'static str) -> Result<Option<String>> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::JsonInvalid { what: "JWKS", detail: format!("a key's \"{name}\" must be a string") }),
    }
}

impl Jwks {
    /// Parses a JWKS document. Keys of unsupported types or curves, weak keys and encryption keys
    /// are skipped (an OP may publish them for other uses).
    ///
    /// # Errors
    /// `ERR_JSON_INVALID`; `ERR_JWK_PRIVATE_KEY` if the set publishes private key material.
    pub fn from_json(json: &str) -> Result<Self> {
        let raw: RawJwks = crate::protocol::json::object(json.as_bytes(), "JWKS")?;
        let mut keys = Vec::with_capacity(raw.keys.len());
        for mut k in raw.keys {
            let kid = jwks_member(k.kid.take(), "kid")?;
            let alg = jwks_member(k.alg.take(), "alg")?;
            let use_ = jwks_member(k.use_.take(), "use")?;
            match PublicJwk::from_raw(k) {
                Ok(jwk) => keys.push(JwksKey { jwk, kid, alg, use_ }),
                Err(e @ Error::JwkPrivateKey { .. }) => return Err(e),
                Err(_) => continue,
            }
        }
        Ok(Jwks { keys })
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is usable.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Chooses the key for a JWS header (OIDC Core §3.1.3.7 step 6, KB §9.3): the key whose `kid` equals the
    /// header `kid`; with no `kid`, the only key that fits. A key fits when its `use` is absent
    /// or `sig`, its `alg` is absent or equals the header `alg`, and its type suits the `alg`.
    ///
    /// # Errors
    /// `ERR_JWKS_NO_MATCHING_KEY`; the caller may refetch the JWKS once (key rotation).
    pub fn select(&self, header: &Header) -> Result<&PublicJwk> {
        let fits = |k: &&JwksKey| {
            k.use_.as_deref().is_none_or(|u| u == "sig")
                && k.alg.as_deref().is_none_or(|a| a == header.alg.as_str())
                && header.alg.check_key(&k.jwk).is_ok()
        };
        let no_match = || Error::JwksNoMatchingKey { kid: header.kid.clone() };
        match &header.kid {
            Some(kid) => {
                self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid.as_str())).find(fits).map(|k| &k.jwk).ok_or_else(no_match)
            }
            None => {
                let mut it = self.keys.iter().filter(fits);
                match (it.next(), it.next()) {
                    (Some(k), None) => Ok(&k.jwk),
                    _ => Err(no_match()),
                }
            }
        }
    }
}

/// How long a JWKS refetch for one `kid` holds back another for the same `kid`, in seconds.
pub const JWKS_REFETCH_INTERVAL: i64 = 60;

/// The last JWKS refetch made because a token named a key the set lacked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JwksRefetch {
    /// The `kid` that was looked for (`None`: a token without `kid`).
    pub kid: Option<String>,
    /// When, seconds since the epoch.
    pub at: i64,
}

/// Whether a token whose key is not in the JWKS (`ERR_JWKS_NO_MATCHING_KEY`, header `kid`)
/// should make the validator fetch the JWKS again before refusing it. An OP that rotates its
/// signing key publishes the new key before signing with it, so a `kid` not yet seen is worth
/// one refetch, however recently the set was fetched (by discovery, for instance). The same
/// `kid` again within [`JWKS_REFETCH_INTERVAL`] seconds of its own refetch is not: the OP does
/// not publish it, and asking again would only load the OP.
pub fn should_refetch_jwks(kid: Option<&str>, last: Option<&JwksRefetch>, now: i64) -> bool {
    match last {
        Some(last) if last.kid.as_deref() == kid => now.saturating_sub(last.at) > JWKS_REFETCH_INTERVAL,
        _ => true,
    }
}

/// Whether an unbound ID Token is an error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BindingPolicy {
    /// Anything that is not bound to our key is `ERR_ID_TOKEN_UNBOUND` (fail closed). Default.
    #[default]
    Required,
    /// Accept an unbound token and report `bound: false`. A token bound to *another* key is
    /// still refused.
    Preferred,
}

/// What the ID Token must satisfy.
#[derive(Clone, Copy, Debug)]
pub struct IdTokenCheck<'a> {
    /// The configured issuer, compared exactly.
    pub issuer: &'a str,
    /// Our client_id.
    pub client_id: &'a str,
    /// Other audiences we trust to appear next to ours (usually none).
    pub extra_audiences: &'a [&'a str],
    /// Algorithms accepted (the local allow-list ∩ what the OP advertises).
    pub allowed_algs: &'a [Alg],
    /// The validator's clock, seconds since the epoch.
    pub now: i64,
    /// Allowed clock skew for `exp`, `iat` and `nbf`, in seconds.
    pub clock_skew: i64,
    /// How old `iat` may be, in seconds: a bound on the token's issuance, not the OIDC
    /// `max_age` request parameter (that one bounds `auth_time`: see [`check_authentication`]).
    pub max_age: i64,
    /// The OIDC `nonce` sent in the authentication request, if any.
    pub nonce: Option<&'a str>,
    /// The `dpop_jkt` we sent; `None` when binding was not requested.
    pub expected_jkt: Option<&'a str>,
    /// What to do with an unbound token when binding was requested.
    pub binding: BindingPolicy,
}

/// The claims keybound checks. The full payload is in [`ValidatedIdToken::claims_json`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject; (`iss`, `sub`) identifies the user.
    pub sub: String,
    /// Audiences.
    pub aud: Vec<String>,
    /// Expiry.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// OIDC nonce, if present.
    pub nonce: Option<String>,
    /// Authorized party, if present.
    pub azp: Option<String>,
    /// Time of the original authentication, if present.
    pub auth_time: Option<i64>,
    /// Thumbprint of `cnf.jwk`, when the token carries one.
    pub cnf_jkt: Option<String>,
    /// Authentication Context Class Reference, when present as a string.
    pub acr: Option<String>,
}

/// An ID Token that passed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidatedIdToken {
    /// The checked claims.
    pub claims: IdTokenClaims,
    /// The whole verified payload, as JSON text.
    pub claims_json: String,
    /// Whether the token is bound to our key (`typ` `dpop+id_token` and thumbprint(`cnf.jwk`) =
    /// the `dpop_jkt` we sent).
    pub bound: bool,
    /// The signing algorithm.
    pub alg: Alg,
}

/// Validates an ID Token from a token response (OIDC Core §3.1.3.7, KB §4).
///
/// # Errors
/// The JWS errors (`ERR_JWE_UNSUPPORTED`, `ERR_JWS_ALG_NOT_ALLOWED`, `ERR_JWS_CRIT_UNSUPPORTED`,
/// ...), `ERR_JWKS_NO_MATCHING_KEY`, `ERR_JWS_SIGNATURE_INVALID`, `ERR_ID_TOKEN_CLAIM_MISSING`,
/// `ERR_ID_TOKEN_ISS_MISMATCH`, `ERR_ID_TOKEN_AUD_MISMATCH`, `ERR_ID_TOKEN_AZP_MISMATCH`,
/// `ERR_ID_TOKEN_EXPIRED`, `ERR_ID_TOKEN_IAT_INVALID`, `ERR_ID_TOKEN_NONCE_MISMATCH`,
/// `ERR_ID_TOKEN_CNF_MISMATCH`, `ERR_ID_TOKEN_UNBOUND`.
pub async fn validate<V: Verifier>(token: &str, jwks: &Jwks, check: &IdTokenCheck<'_>, verifier: &V) -> Result<ValidatedIdToken> {
    // Steps 1, 2, 4: three-part JWS (a JWE is refused), `alg` on the allow-list (never `none`,
    // never HS*), no `crit` we do not understand.
    let parsed = jws::parse(token, check.allowed_algs, jws::Limits::default())?;
    // Step 5: the key comes from the configured issuer's JWKS, never from the token's own
    // `jwk`/`jku`/`x5u`/`x5c` headers.
    let key = jwks.select(&parsed.header)?;
    // Step 6: the signature, before any claim is believed.
    let payload = jws::verify(&parsed, key, verifier).await?;
    check_claims(&parsed.header, payload.to_vec(), check)
}

/// The steps of [`validate`] after the signature (OIDC Core §3.1.3.7 steps 7-14, KB §4): the
/// claims of `payload`, whose signature under `header` was verified, against `check`. For
/// callers that verify the signature themselves (the browser's synchronous path, which hands the
/// signature straight to WebCrypto); never call it with a payload whose signature was not
/// verified.
///
/// # Errors
/// As [`validate`], from `ERR_ID_TOKEN_CLAIM_MISSING` on.
pub fn check_claims(header: &jws::Header, payload: Vec<u8>, check: &IdTokenCheck<'_>) -> Result<ValidatedIdToken> {
    let claims_json = String::from_utf8(payload).map_err(|_| Error::JwsMalformed { reason: "payload is not UTF-8" })?;
    let mut raw = RawClaims::parse(claims_json.as_bytes())?;

    // Step 14 (and OIDC Core §2): required claims.
    let iss = raw.iss.take().ok_or(Error::IdTokenClaimMissing { claim: "iss" })?;
    let sub = raw.take_sub()?;
    let aud = raw.take_aud()?;
    let times = raw.times()?;

    // Step 7: `iss` equals the issuer identifier exactly.
    if iss != check.issuer {
        return Err(Error::IdTokenIssuerMismatch);
    }
    // Step 8: `aud` contains our client_id and nothing we do not trust.
    let trusted = |a: &String| a == check.client_id || check.extra_audiences.contains(&a.as_str());
    if !aud.iter().any(|a| a == check.client_id) || !aud.iter().all(trusted) {
        return Err(Error::IdTokenAudienceMismatch);
    }
    // Step 9: `azp`, when present, is our client_id.
    if raw.azp.as_deref().is_some_and(|azp| azp != check.client_id) {
        return Err(Error::IdTokenAzpMismatch);
    }
    // Steps 10-11: not expired, `iat` plausible and not too old, `nbf` not in the future (with skew).
    times.check(check.now, check.clock_skew, Some(check.max_age))?;
    // Step 12: the nonce we sent comes back unchanged.
    if let Some(nonce) = check.nonce {
        if raw.nonce.as_deref() != Some(nonce) {
            return Err(Error::IdTokenNonceMismatch);
        }
    }

    // Step 16 (KB §4): `cnf.jwk` must be a public key; compare by thumbprint.
    let (cnf_jwk, cnf_claimed_jkt) = match raw.cnf {
        Some(c) => (c.jwk, c.jkt),
        None => (None, None),
    };
    let cnf_jwk = cnf_jwk.map(PublicJwk::from_raw).transpose().map_err(|e| match e {
        Error::JwkPrivateKey { .. } => e,
        _ => Error::IdTokenCnfMismatch,
    })?;
    let cnf_jkt = cnf_jwk.as_ref().map(PublicJwk::thumbprint);
    // A `cnf` that names two keys (`jwk` and a `jkt` of another key) is refused, whatever we
    // expected: which one the token binds would depend on who reads it.
    if let (Some(jkt), Some(claimed)) = (&cnf_jkt, &cnf_claimed_jkt) {
        if claimed.as_str() != Some(jkt.as_str()) {
            return Err(Error::IdTokenCnfMismatch);
        }
    }
    let typ_bound = jws::typ_matches(header.typ.as_deref(), BOUND_ID_TOKEN_TYP);
    let bound = match check.expected_jkt {
        None => false,
        Some(expected) => {
            if cnf_jkt.as_deref().is_some_and(|jkt| jkt != expected) {
                // Bound to someone else's key: an attack signal under every policy.
                return Err(Error::IdTokenCnfMismatch);
            }
            let unbound_reason = match (typ_bound, cnf_jkt.is_some()) {
                (true, true) => None,
                (true, false) => Some("\"typ\" is dpop+id_token but there is no \"cnf.jwk\""),
                (false, true) => Some("\"typ\" is not dpop+id_token"),
                (false, false) => Some("no \"cnf\" and \"typ\" is not dpop+id_token (the OP ignored bound_key)"),
            };
            match (unbound_reason, check.binding) {
                (None, _) => true,
                (Some(reason), BindingPolicy::Required) => return Err(Error::IdTokenUnbound { reason }),
                (Some(_), BindingPolicy::Preferred) => false,
            }
        }
    };
    Ok(ValidatedIdToken {
        claims: IdTokenClaims {
            iss,
            sub,
            aud,
            exp: times.exp,
            iat: times.iat,
            nonce: raw.nonce,
            azp: raw.azp,
            auth_time: times.auth_time,
            cnf_jkt,
            acr: match raw.acr {
                Some(serde_json::Value::String(acr)) => Some(acr),
                _ => None,
            },
        },
        claims_json,
        bound,
        alg: header.alg,
    })
}

/// What an authentication request asked of the user's authentication (OIDC Core §3.1.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuthenticationCheck<'a> {
    /// The `max_age` sent, in seconds: the user must have authenticated at most this long ago.
    pub max_age: Option<i64>,
    /// The `acr_values` sent, space-separated, in order of preference.
    pub acr_values: Option<&'a str>,
    /// Whether the token's `acr` must be one of `acr_values` (Core makes `acr_values` a
    /// voluntary claim: an OP may answer with another level, which the caller may accept).
    pub require_acr: bool,
}

impl AuthenticationCheck<'_> {
    /// Checks the request itself, before it is sent: `max_age` not negative, `acr_values` not
    /// empty, `require_acr` only with `acr_values`.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` naming `maxAge`, `acrValues` or `requireAcr`.
    pub fn check_request(&self) -> Result<()> {
        if self.max_age.is_some_and(|m| m < 0) {
            return Err(Error::arg("maxAge", "must not be negative"));
        }
        if self.acr_values.is_some_and(|a| a.split(' ').all(str::is_empty)) {
            return Err(Error::arg("acrValues", "must name at least one value"));
        }
        if self.require_acr && self.acr_values.is_none() {
            return Err(Error::arg("requireAcr", "needs acrValues"));
        }
        Ok(())
    }
}

/// Checks `auth_time` and `acr` of a validated login ID Token against the authentication
/// request (OIDC Core §3.1.3.7 steps 12–13). With `max_age`: `auth_time` must be present, not in
/// the future (beyond `clock_skew`), and `auth_time + max_age + clock_skew >= now`. With
/// `require_acr`: `acr` must be one of `acr_values`. Without either, nothing is checked.
///
/// # Errors
/// `ERR_ID_TOKEN_AUTH_TIME_MISSING`, `ERR_ID_TOKEN_IAT_INVALID` (`auth_time` in the future),
/// `ERR_ID_TOKEN_AUTH_TOO_OLD`, `ERR_ID_TOKEN_ACR_NOT_SATISFIED`; `ERR_INVALID_ARGUMENT` for a
/// negative `max_age` or `require_acr` without `acr_values`.
pub fn check_authentication(claims: &IdTokenClaims, check: &AuthenticationCheck<'_>, now: i64, clock_skew: i64) -> Result<()> {
    check.check_request()?;
    if let Some(max_age) = check.max_age {
        let auth_time = claims.auth_time.ok_or(Error::IdTokenAuthTimeMissing)?;
        if auth_time > now.saturating_add(clock_skew) {
            return Err(Error::IdTokenIatInvalid { claim: "auth_time" });
        }
        if auth_time.saturating_add(max_age).saturating_add(clock_skew) < now {
            return Err(Error::IdTokenAuthTooOld { auth_time, max_age, now });
        }
    }
    if check.require_acr {
        let mut requested = check.acr_values.unwrap_or("").split(' ').filter(|v| !v.is_empty());
        if !claims.acr.as_deref().is_some_and(|acr| requested.any(|v| v == acr)) {
            return Err(Error::IdTokenAcrNotSatisfied { acr: claims.acr.clone() });
        }
    }
    Ok(())
}

/// Checks a refreshed ID Token against the original (OIDC Core §12.2, KB §5): same `iss`,
/// `sub`, `aud` and `azp`; `auth_time` unchanged when present; `nonce` absent or unchanged; and
/// `cnf` unchanged (by thumbprint). Validate the refreshed token with [`validate`] first, with no
/// `nonce` expectation and the original `dpop_jkt`.
///
/// # Errors
/// `ERR_ID_TOKEN_REFRESH_MISMATCH`, naming the claim.
pub fn check_refreshed(original: &IdTokenClaims, refreshed: &IdTokenClaims) -> Result<()> {
    let changed = |claim| Err(Error::IdTokenRefreshMismatch { claim });
    if refreshed.iss != original.iss {
        return changed("iss");
    }
    if refreshed.sub != original.sub {
        return changed("sub");
    }
    let (mut a, mut b) = (original.aud.clone(), refreshed.aud.clone());
    a.sort();
    b.sort();
    if a != b {
        return changed("aud");
    }
    if refreshed.azp != original.azp {
        return changed("azp");
    }
    if refreshed.auth_time.is_some() && refreshed.auth_time != original.auth_time {
        return changed("auth_time");
    }
    if refreshed.nonce.is_some() && refreshed.nonce != original.nonce {
        return changed("nonce");
    }
    if refreshed.cnf_jkt != original.cnf_jkt {
        return changed("cnf");
    }
    Ok(())
}
