//! Passkey presentations (docs/profile.md §4): the consumer side of passkey-nonce binding. The
//! ID Token's `nonce` commits to the passkey; a WebAuthn assertion over the ID Token, a message,
//! the consumer nonce and this request proves possession. The WebAuthn machinery itself is in
//! [`crate::protocol::passkey`], which knows nothing of consumers.

use super::nonce::{check_consumer_nonce, NonceKey};
use super::replay::{use_once, ReplayStore};
use super::token::check_id_token;
use super::{AcceptedIssuer, ConsumerPolicy};
use crate::error::{Error, Result};
use crate::protocol::b64;
use crate::protocol::crypto::Verifier;
use crate::protocol::jwk::PublicJwk;
use crate::protocol::passkey::{commitment, signed_data_hash, signing_challenge, verify_assertion, Assertion, AssertionCheck, NonceMode};

/// What a passkey holder presents: the ID Token (whose `nonce` commits to the passkey), the
/// passkey's public key, the mode and salt, and an assertion over the ID Token and a message.
#[derive(Clone, Copy, Debug)]
pub struct PasskeyPresentation<'a> {
    /// The ID Token.
    pub id_token: &'a str,
    /// The passkey's public key.
    pub public_jwk: &'a PublicJwk,
    /// How the nonce commits to it.
    pub mode: NonceMode,
    /// The salt (salted mode).
    pub salt: Option<&'a [u8]>,
    /// What the passkey signed besides the ID Token.
    pub message: &'a [u8],
    /// The consumer's nonce, when it issued one.
    pub consumer_nonce: Option<&'a str>,
    /// The consumer's own request method: what it received, never what the presenter claims.
    pub htm: &'a str,
    /// The consumer's own request URL, as the client addressed it (externally visible).
    pub htu: &'a str,
    /// The WebAuthn assertion.
    pub assertion: Assertion<'a>,
}

/// The WebAuthn side of what a consumer expects.
#[derive(Clone, Copy, Debug)]
pub struct PasskeyCheck<'a> {
    /// Accepted origins.
    pub origins: &'a [&'a str],
    /// The RP ID.
    pub rp_id: &'a str,
    /// Require user verification.
    pub require_user_verification: bool,
    /// The last sign count seen for this credential.
    pub previous_sign_count: u32,
}

/// An accepted passkey presentation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PasskeyAccepted {
    /// The issuer (with `sub`, the user).
    pub iss: String,
    /// The subject.
    pub sub: String,
    /// The audiences.
    pub aud: Vec<String>,
    /// Thumbprint of the passkey: the key holder.
    pub passkey_jkt: String,
    /// The new sign count to store.
    pub sign_count: u32,
    /// The verified ID Token payload.
    pub claims_json: String,
}

/// Verifies a passkey presentation as a consumer, with every check of the JS consumer:
///
/// 1. the consumer nonce: with `nonces`, the presentation must carry one, issued by this
///    consumer ([`ConsumerPolicy::consumer_id`](ConsumerPolicy)) and
///    still fresh (`proof_max_age`), else `ERR_DPOP_NONCE_REQUIRED` / `ERR_DPOP_NONCE_MISMATCH`.
///    Without `nonces` (`None::<&NoNonces>`, an explicit choice), a nonce is only bound into the
///    signed challenge, and [`ConsumerPolicy::require_nonce`](ConsumerPolicy)
///    refuses every presentation (as [`verify_presentation`](crate::protocol::consumer::verify_presentation));
/// 2. the ID Token as a consumer must (issuer accepted, signature with its JWKS, times, `aud`,
///    `azp`), its `nonce` equal to the commitment to this passkey in the stated mode;
/// 3. the assertion over [`signing_challenge`] of this ID Token, message, nonce and the
///    consumer's `htm`/`htu` (an assertion made for another endpoint is refused), with the
///    sign count against `check.previous_sign_count` (store the returned `sign_count`);
/// 4. single use: the assertion's [`signed_data_hash`] goes into `replay` for `proof_max_age +
///    clock_skew`, failing closed when the store fails (`ERR_REPLAY_STORE_UNAVAILABLE`).
///
/// A `topOrigin` (cross-origin iframe) is always refused here.
///
/// # Errors
/// `ERR_DPOP_NONCE_REQUIRED`, `ERR_DPOP_NONCE_MISMATCH`, the consumer's ID Token codes,
/// `ERR_PASSKEY_NONCE_MISMATCH`, the `ERR_WEBAUTHN_*` codes, `ERR_JWS_SIGNATURE_INVALID`,
/// `ERR_DPOP_REPLAY`, `ERR_REPLAY_STORE_UNAVAILABLE`.
#[allow(clippy::too_many_arguments)]
pub async fn verify_passkey_presentation<V: Verifier, R: ReplayStore, K: NonceKey>(
    issuers: &[AcceptedIssuer],
    policy: &ConsumerPolicy,
    presentation: &PasskeyPresentation<'_>,
    check: &PasskeyCheck<'_>,
    now: i64,
    nonces: Option<&K>,
    verifier: &V,
    replay: &R,
) -> Result<PasskeyAccepted> {
    // The consumer nonce first: cheap, and what stops pre-made assertions. An assertion has no
    // timestamp, so with a nonce key a nonce is always required.
    let htu = crate::protocol::htu::Htu::parse(presentation.htu)?;
    let request = (presentation.htm, &htu);
    check_consumer_nonce(presentation.consumer_nonce, nonces, policy.require_nonce || nonces.is_some(), policy, request, now).await?;
    let accepted = verify_passkey_presentation_unchecked(issuers, policy, presentation, check, now, verifier).await?;
    // Single use within the window, scoped to this passkey, keyed on what was signed. Fail closed.
    let key = format!("passkey {} {}", accepted.passkey_jkt, b64::encode(signed_data_hash(&presentation.assertion)));
    use_once(replay, &key, policy, now).await?;
    Ok(accepted)
}

/// Steps 2 and 3 of [`verify_passkey_presentation`] only: no consumer nonce check, no replay
/// store. Private, so that no caller can skip those steps.
async fn verify_passkey_presentation_unchecked<V: Verifier>(
    issuers: &[AcceptedIssuer],
    policy: &ConsumerPolicy,
    presentation: &PasskeyPresentation<'_>,
    check: &PasskeyCheck<'_>,
    now: i64,
    verifier: &V,
) -> Result<PasskeyAccepted> {
    let token = check_id_token(issuers, policy, presentation.id_token, now, verifier).await?;
    let passkey_jkt = presentation.public_jwk.thumbprint();
    let expected = commitment(presentation.mode, &passkey_jkt, presentation.salt).map_err(|_| Error::PasskeyNonceMismatch)?;
    if token.nonce.as_deref() != Some(expected.as_str()) {
        return Err(Error::PasskeyNonceMismatch);
    }
    let challenge =
        signing_challenge(presentation.id_token, presentation.message, presentation.consumer_nonce, presentation.htm, presentation.htu)?;
    let assertion_check = AssertionCheck {
        challenge: &challenge,
        origins: check.origins,
        rp_id: check.rp_id,
        require_user_verification: check.require_user_verification,
        previous_sign_count: check.previous_sign_count,
        top_origins: &[],
    };
    let sign_count = verify_assertion(presentation.public_jwk, &presentation.assertion, &assertion_check, verifier).await?;
    Ok(PasskeyAccepted { iss: token.iss, sub: token.sub, aud: token.aud, passkey_jkt, sign_count, claims_json: token.claims_json })
}
