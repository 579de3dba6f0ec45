//! DPoP presentations: a key-bound ID Token and a DPoP proof by its `cnf` key over the
//! consumer's request, with `ath` over the token (docs/profile.md §2).

use crate::protocol::htu::Htu;
use serde::{Deserialize, Serialize};

use super::nonce::{check_consumer_nonce, NonceKey};
use super::replay::{use_once, ReplayStore};
use super::token::{check_id_token, RawClaims};
use super::{AcceptedIssuer, ConsumerPolicy, LEGACY_TYP, TYP};
use crate::error::{Error, Result};
use crate::protocol::crypto::Verifier;
use crate::protocol::dpop::{self, ProofCheck};
use crate::protocol::jwa::Alg;
use crate::protocol::jwk::PublicJwk;
use crate::protocol::{b64, jws};

/// What arrived: the ID Token, the proof, and the request it was made for.
#[derive(Clone, Copy, Debug)]
pub struct Presentation<'a> {
    /// The key-bound ID Token.
    pub id_token: &'a str,
    /// The `DPoP` header value.
    pub proof: &'a str,
    /// The request method.
    pub htm: &'a str,
    /// The request URI as the client addressed it (externally visible).
    pub htu: &'a str,
}

/// A presentation that was accepted: the facts, kept apart (the user, the application, the key
/// holder, the proof).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Accepted {
    /// The issuer (with `sub`, the user).
    pub iss: String,
    /// The subject.
    pub sub: String,
    /// The audiences (the authenticating application).
    pub aud: Vec<String>,
    /// The authorized party, if present.
    pub azp: Option<String>,
    /// Thumbprint of `cnf.jwk`: the key holder.
    pub cnf_jkt: String,
    /// The proof's `jti`.
    pub jti: String,
    /// The proof's `iat`.
    pub proof_iat: i64,
    /// The whole verified ID Token payload, as JSON text.
    #[serde(skip)]
    pub claims_json: String,
}

/// What the consumer could read before deciding, for the evidence record of a refusal. None of
/// it is verified unless the presentation was accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Claimed {
    /// `iss` as claimed.
    pub iss: Option<String>,
    /// `sub` as claimed.
    pub sub: Option<String>,
    /// Thumbprint of the claimed `cnf.jwk`.
    pub cnf_jkt: Option<String>,
    /// Thumbprint of the proof's `jwk`.
    pub proof_jkt: Option<String>,
    /// The proof's `jti`.
    pub jti: Option<String>,
}

/// Reads claims without verifying anything, for evidence and for choosing the issuer.
pub fn claimed(presentation: &Presentation<'_>) -> Claimed {
    let mut c = Claimed::default();
    let payload = |token: &str| token.split('.').nth(1).and_then(|p| b64::decode(p, "payload").ok());
    if let Some(raw) = payload(presentation.id_token).and_then(|p| crate::protocol::json::object::<RawClaims>(&p, "ID Token claims").ok()) {
        c.iss = raw.iss;
        c.sub = raw.sub;
        c.cnf_jkt = raw.cnf.and_then(|cnf| cnf.jwk).and_then(|j| PublicJwk::from_raw(j).ok()).map(|j| j.thumbprint());
    }
    if let Ok(p) = jws::parse(presentation.proof, Alg::ALL, jws::Limits { max_token: 16 * 1024, max_header: 8 * 1024 }) {
        c.proof_jkt = p.header.jwk.as_ref().map(PublicJwk::thumbprint);
        #[derive(Deserialize)]
        struct J {
            jti: Option<String>,
        }
        c.jti = crate::protocol::json::object::<J>(p.payload_unverified(), "DPoP claims").ok().and_then(|j| j.jti);
    }
    c
}

/// Verifies a presentation. With `nonces`, a proof's `nonce` must be one this consumer issued
/// (and still valid, `proof_max_age`); with [`ConsumerPolicy::require_nonce`] a proof without one
/// is refused.
///
/// # Errors
/// One code per check (see the module docs); `ERR_DPOP_NONCE_REQUIRED` and
/// `ERR_DPOP_NONCE_MISMATCH` mean: answer 401 `use_dpop_nonce` with a fresh nonce.
pub async fn verify_presentation<V: Verifier, R: ReplayStore, K: NonceKey>(
    issuers: &[AcceptedIssuer],
    policy: &ConsumerPolicy,
    presentation: &Presentation<'_>,
    now: i64,
    nonces: Option<&K>,
    verifier: &V,
    replay: &R,
) -> Result<Accepted> {
    if presentation.proof.is_empty() {
        return Err(Error::DpopProofMissing);
    }
    let token = check_id_token(issuers, policy, presentation.id_token, now, verifier).await?;
    // KB §9.3, R37: only bound tokens; legacy draft-00 `typ` behind a switch.
    let typ = token.typ.as_deref();
    if !(jws::typ_matches(typ, TYP) || (policy.legacy_typ && jws::typ_matches(typ, LEGACY_TYP))) {
        return Err(Error::IdTokenTypInvalid);
    }
    // R38: `cnf.jwk` required and public; `cnf.jkt` alone does not conform.
    let cnf = token.cnf.ok_or(Error::CnfMissing)?;
    let (cnf_jwk, claimed_jkt) = match (cnf.jwk, cnf.jkt) {
        (Some(jwk), jkt) => (PublicJwk::from_raw(jwk)?, jkt),
        (None, Some(_)) => return Err(Error::CnfJktOnly),
        (None, None) => return Err(Error::CnfMissing),
    };
    let cnf_jkt = cnf_jwk.thumbprint();
    // `jwk` and `jkt` both present must name the same key.
    if claimed_jkt.is_some_and(|jkt| jkt.as_str() != Some(cnf_jkt.as_str())) {
        return Err(Error::IdTokenCnfMismatch);
    }
    // KB §9.2 and §7: a fresh proof of possession of that key, for this request and this token.
    // The request URI is parsed once, for the proof, the nonce scope and the replay key.
    let htu = Htu::parse(presentation.htu)?;
    let check = ProofCheck {
        htm: presentation.htm,
        htu: &htu,
        now,
        max_age: policy.proof_max_age,
        max_skew: policy.clock_skew,
        allowed_algs: &policy.proof_algs,
        nonce: None,
        access_token: Some(presentation.id_token),
        code: None,
        expected_jkt: Some(&cnf_jkt),
    };
    let proof = dpop::verify_proof(presentation.proof, &check, verifier).await?;
    // RFC 9449 §9 at a resource: the consumer's nonce (checked after the proof's signature).
    check_consumer_nonce(proof.claims.nonce.as_deref(), nonces, policy.require_nonce, policy, (presentation.htm, &htu), now).await?;
    // RFC 9449 §11.1: `jti` single use within the window, scoped to this URI. Fail closed.
    let replay_key = format!("{htu} {}", proof.claims.jti);
    use_once(replay, &replay_key, policy, now).await?;
    Ok(Accepted {
        iss: token.iss,
        sub: token.sub,
        aud: token.aud,
        azp: token.azp,
        cnf_jkt,
        jti: proof.claims.jti,
        proof_iat: proof.claims.iat,
        claims_json: token.claims_json,
    })
}
