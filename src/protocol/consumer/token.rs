//! The ID Token checks every consumer makes, whatever proves possession (docs/profile.md §2).

use super::{AcceptedIssuer, ConsumerPolicy};
use crate::error::{Error, Result};
pub(super) use crate::protocol::claims::{RawClaims, RawCnf};
use crate::protocol::crypto::Verifier;
use crate::protocol::jws;

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
    let unverified = RawClaims::parse(parsed.payload_unverified())?;
    let iss = unverified.iss.clone().ok_or(Error::IdTokenClaimMissing { claim: "iss" })?;
    let issuer = issuers.iter().find(|i| i.issuer == iss).ok_or(Error::IssuerNotAccepted { iss: iss.clone() })?;
    // KB §9.3: verify the signature ourselves, with the issuer's JWKS only.
    let key = issuer.jwks.select(&parsed.header)?;
    let payload = jws::verify(&parsed, key, verifier).await?;
    let claims_json = String::from_utf8(payload.to_vec()).map_err(|_| Error::JwsMalformed { reason: "payload is not UTF-8" })?;
    let mut raw = RawClaims::parse(claims_json.as_bytes())?;
    // As the client (`id_token::validate`): the shared claim rules (protocol::claims), here
    // with no limit on the age of `iat`: the consumer was not part of the login.
    let sub = raw.take_sub()?;
    let aud = raw.take_aud()?;
    raw.times()?.check(now, policy.clock_skew, None)?;
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
