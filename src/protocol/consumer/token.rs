//! The ID Token checks every consumer makes, whatever proves possession (docs/profile.md §2).

use serde::Deserialize;

use super::{AcceptedIssuer, ConsumerPolicy};
use crate::error::{Error, Result};
use crate::protocol::crypto::Verifier;
use crate::protocol::id_token::{numeric_date, Audience};
use crate::protocol::jwk::RawJwk;
use crate::protocol::jws;

#[derive(Deserialize)]
pub(super) struct RawCnf {
    #[serde(default, deserialize_with = "crate::protocol::json::nested_object")]
    pub(super) jwk: Option<RawJwk>,
    pub(super) jkt: Option<serde_json::Value>,
}

#[derive(Deserialize)]
pub(super) struct RawClaims {
    pub(super) iss: Option<String>,
    pub(super) sub: Option<String>,
    aud: Option<Audience>,
    azp: Option<String>,
    exp: Option<f64>,
    iat: Option<f64>,
    nbf: Option<f64>,
    nonce: Option<String>,
    #[serde(default, deserialize_with = "crate::protocol::json::nested_object")]
    pub(super) cnf: Option<RawCnf>,
}

/// An ID Token that passed the consumer's checks common to every binding mode.
pub(crate) struct CheckedToken {
    pub(crate) iss: String,
    pub(crate) sub: String,
    pub(crate) aud: Vec<String>,
    pub(crate) azp: Option<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) claims_json: String,
    pub(super) cnf: Option<RawCnf>,
    pub(super) typ: Option<String>,
}

/// The consumer's ID Token checks for any binding mode (docs/profile.md §2): the issuer is accepted,
/// the signature with its JWKS, `exp`/`iat`/`nbf`, `aud` among the accepted client_ids and
/// nothing else, `azp`.
pub(crate) async fn check_id_token<V: Verifier>(
    issuers: &[AcceptedIssuer],
    policy: &ConsumerPolicy,
    id_token: &str,
    now: i64,
    verifier: &V,
) -> Result<CheckedToken> {
    let parsed = jws::parse(id_token, &policy.id_token_algs, jws::Limits::default())?;
    let unverified: RawClaims = crate::protocol::json::object(parsed.payload_unverified(), "ID Token claims")?;
    let iss = unverified.iss.clone().ok_or(Error::IdTokenClaimMissing { claim: "iss" })?;
    let issuer = issuers.iter().find(|i| i.issuer == iss).ok_or(Error::IssuerNotAccepted { iss: iss.clone() })?;
    // KB §9.3: verify the signature ourselves, with the issuer's JWKS only.
    let key = issuer.jwks.select(&parsed.header)?;
    let payload = jws::verify(&parsed, key, verifier).await?;
    let claims_json = String::from_utf8(payload.to_vec()).map_err(|_| Error::JwsMalformed { reason: "payload is not UTF-8" })?;
    let raw: RawClaims = crate::protocol::json::object(claims_json.as_bytes(), "ID Token claims")?;
    let missing = |claim| Error::IdTokenClaimMissing { claim };
    let sub = raw.sub.ok_or(missing("sub"))?;
    // As the client (`id_token::validate`): OIDC Core §2, a non-empty `sub` of at most 255.
    if sub.is_empty() || sub.len() > 255 {
        return Err(missing("sub"));
    }
    let aud = raw.aud.ok_or(missing("aud"))?.into_vec();
    let exp = numeric_date(raw.exp, "exp")?.ok_or(missing("exp"))?;
    let iat = numeric_date(raw.iat, "iat")?.ok_or(missing("iat"))?;
    if exp <= now.saturating_sub(policy.clock_skew) {
        return Err(Error::IdTokenExpired { exp, now });
    }
    if iat > now.saturating_add(policy.clock_skew) {
        return Err(Error::IdTokenIatInvalid { claim: "iat" });
    }
    if numeric_date(raw.nbf, "nbf")?.is_some_and(|nbf| nbf > now.saturating_add(policy.clock_skew)) {
        return Err(Error::IdTokenIatInvalid { claim: "nbf" });
    }
    // KB §6, §9.4 (R35, R36): `aud` among our client_ids, and nothing we do not accept.
    let accepted = |a: &String| issuer.client_ids.iter().any(|c| c == a);
    if aud.is_empty() || !aud.iter().all(accepted) {
        return Err(Error::IdTokenAudienceMismatch);
    }
    if raw.azp.as_ref().is_some_and(|azp| !accepted(azp)) {
        return Err(Error::IdTokenAzpMismatch);
    }
    Ok(CheckedToken { iss, sub, aud, azp: raw.azp, nonce: raw.nonce, claims_json, cnf: raw.cnf, typ: parsed.header.typ })
}
