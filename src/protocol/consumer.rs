//! The RP Consuming Component (spec.md §3.3, §4.3, §6.2): verifies a *presentation*, meaning a
//! key-bound ID Token plus a fresh proof of possession of its `cnf` key, in keybound's profile
//! (spec.md §5.7, not a standard):
//!
//! - the ID Token travels in the body (or a header the consumer names), never as
//!   `Authorization: Bearer` (KB §9.5);
//! - the proof is a `dpop+jwt` signed by the `cnf` key over the consumer's `htm`/`htu`, with
//!   `ath` = BASE64URL(SHA-256(id_token)) binding it to this exact token, a fresh `jti` and `iat`,
//!   and the consumer's `nonce` when it issued one.
//!
//! Checks, each with its own code: the issuer is accepted, the JWS form and `alg`, the signature
//! with that issuer's JWKS, `typ` `dpop+id_token` (legacy `id_token+cnf` only behind a switch),
//! `exp`/`iat`/`nbf`, `aud` among the accepted client_ids (and nothing else), `azp`, `cnf.jwk`
//! present and public; then every RFC 9449 §4.3 proof check, `ath` over the exact token, the
//! proof key's thumbprint equal to thumbprint(`cnf.jwk`), the nonce, and `jti` single use. It
//! fails closed when the replay store is unavailable.
//!
//! Does NOT check: the OIDC `nonce` (the consumer was not part of the login), `auth_time`/`acr`,
//! or anything about authorization: an accepted presentation says who holds the key and who the
//! user is, not what they may do. Issue your own session after accepting; do not treat the proof
//! as a standing credential.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{cap_echo, Error, ErrorCode, Result};
use crate::protocol::crypto::Verifier;
use crate::protocol::dpop::{self, ProofCheck};
use crate::protocol::id_token::{numeric_date, Audience, Jwks};
use crate::protocol::jwa::Alg;
use crate::protocol::jwk::{PublicJwk, RawJwk};
use crate::protocol::{b64, jws};

/// The bound ID Token `typ` (KB §10).
pub const TYP: &str = "dpop+id_token";
/// The draft-00 `typ`, accepted only with [`ConsumerPolicy::legacy_typ`].
pub const LEGACY_TYP: &str = "id_token+cnf";

/// One issuer this consumer accepts, with its keys and the client_ids of the applications it
/// serves (KB §6, §9.4: not any client of the OP, not every client of the RP).
#[derive(Clone, Debug)]
pub struct AcceptedIssuer {
    /// The issuer identifier, compared exactly.
    pub issuer: String,
    /// Its JWKS.
    pub jwks: Jwks,
    /// Accepted `aud` values. An empty list accepts nothing.
    pub client_ids: Vec<String>,
}

/// How strict the consumer is.
#[derive(Clone, Debug)]
pub struct ConsumerPolicy {
    /// ID Token algorithms.
    pub id_token_algs: Vec<Alg>,
    /// Proof algorithms.
    pub proof_algs: Vec<Alg>,
    /// Allowed clock skew, seconds.
    pub clock_skew: i64,
    /// How old a proof may be, seconds (also the replay-store retention).
    pub proof_max_age: i64,
    /// Require a consumer-issued nonce in every proof (stops pre-generated proofs).
    pub require_nonce: bool,
    /// Also accept draft-00 `typ: id_token+cnf`. Off by default.
    pub legacy_typ: bool,
    /// This consumer's id, bound into its nonces ([`issue_scoped_nonce`], [`check_nonce`]): a nonce
    /// issued by another consumer is refused even when both share the nonce secret. Set it to
    /// the id the nonces are issued with (empty by default).
    pub consumer_id: String,
}

impl Default for ConsumerPolicy {
    fn default() -> Self {
        ConsumerPolicy {
            id_token_algs: vec![Alg::Rs256, Alg::Ps256, Alg::Es256],
            proof_algs: vec![Alg::Es256, Alg::Es384, Alg::Ps256, Alg::Rs256, Alg::EdDsa],
            clock_skew: 60,
            proof_max_age: 60,
            require_nonce: false,
            legacy_typ: false,
            consumer_id: String::new(),
        }
    }
}

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

/// Single-use `jti` storage for the acceptance window. Implement it over a shared store (Redis
/// `SET key 1 NX EXAT expires_at`) when several consumer instances must see each other's proofs.
#[allow(async_fn_in_trait)]
pub trait ReplayStore {
    /// Stores `key` until `expires_at` (seconds since the epoch). Returns `true` if it was new,
    /// `false` if it was already there and not expired at `now` (a replay).
    ///
    /// # Errors
    /// `ERR_REPLAY_STORE_UNAVAILABLE`: the verifier then refuses (fails closed).
    async fn check_and_store(&self, key: &str, now: i64, expires_at: i64) -> Result<bool>;
}

/// The default replay store: in memory. Expired entries are dropped whenever the map has doubled
/// since the last sweep, so memory stays bounded by about twice the proofs accepted within one
/// window, however long the stream.
#[derive(Debug, Default)]
pub struct MemoryReplayStore {
    entries: std::cell::RefCell<HashMap<String, i64>>,
    sweep_at: std::cell::Cell<usize>,
}

impl MemoryReplayStore {
    /// A new, empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries held (for memory checks).
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.borrow().is_empty()
    }
}

impl ReplayStore for MemoryReplayStore {
    async fn check_and_store(&self, key: &str, now: i64, expires_at: i64) -> Result<bool> {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= self.sweep_at.get().max(1024) {
            entries.retain(|_, exp| *exp >= now);
            self.sweep_at.set(entries.len() * 2);
        }
        if entries.get(key).is_some_and(|exp| *exp >= now) {
            return Ok(false);
        }
        entries.insert(key.to_owned(), expires_at);
        Ok(true)
    }
}

/// A MAC key for stateless consumer nonces. Natively HMAC-SHA-256 (RustCrypto); in the browser
/// and Node, WebCrypto HMAC.
#[allow(async_fn_in_trait)]
pub trait NonceKey {
    /// The MAC of `data`.
    async fn tag(&self, data: &[u8]) -> Result<Vec<u8>>;
    /// Whether `tag` is the MAC of `data` (constant time).
    async fn check(&self, data: &[u8], tag: &[u8]) -> Result<bool>;
}

/// No consumer nonces: [`verify_presentation`] with `None::<&NoNonces>`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNonces;

impl NonceKey for NoNonces {
    async fn tag(&self, _data: &[u8]) -> Result<Vec<u8>> {
        Err(Error::arg("nonceKey", "no nonce key is configured"))
    }
    async fn check(&self, _data: &[u8], _tag: &[u8]) -> Result<bool> {
        Ok(false)
    }
}

const NONCE_DOMAIN: &[u8] = b"keybound-consumer-nonce-v2";

/// What a consumer nonce is good for: any request to the consumer that issued it, or one
/// request (method and URL) only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceScope<'a> {
    /// Any request to this consumer (what a 401 `use_dpop_nonce` challenge hands out: the client
    /// reuses it for its next requests).
    Consumer,
    /// Only a request with this method (compared in upper case) and URL (compared as a DPoP
    /// `htu`: no query or fragment).
    Request {
        /// The request method.
        htm: &'a str,
        /// The request URL.
        htu: &'a str,
    },
}

/// The MAC input of a consumer nonce: the domain string, the consumer id (length-prefixed), the
/// issue time, the scope byte and, for a request nonce, the length-prefixed method and `htu`, so
/// a nonce is only good at the consumer (and for the request) it was issued for.
fn nonce_mac_input(consumer_id: &str, ts: &[u8], scope: NonceScope<'_>) -> Result<Vec<u8>> {
    let mut data = Vec::with_capacity(NONCE_DOMAIN.len() + 8 + consumer_id.len() + ts.len() + 1);
    let part = |data: &mut Vec<u8>, p: &[u8]| {
        data.extend_from_slice(&(p.len() as u64).to_be_bytes());
        data.extend_from_slice(p);
    };
    data.extend_from_slice(NONCE_DOMAIN);
    part(&mut data, consumer_id.as_bytes());
    data.extend_from_slice(ts);
    match scope {
        NonceScope::Consumer => data.push(0),
        NonceScope::Request { htm, htu } => {
            crate::protocol::dpop::ProofTemplate::check_htm(htm)?;
            data.push(1);
            part(&mut data, htm.to_ascii_uppercase().as_bytes());
            part(&mut data, crate::protocol::htu::normalize_htu(htu)?.as_bytes());
        }
    }
    Ok(data)
}

/// Issues a nonce valid for a while at consumer `consumer_id`, for any request to it:
/// see [`issue_scoped_nonce`].
///
/// # Errors
/// The nonce key's errors.
pub async fn issue_nonce<K: NonceKey>(key: &K, consumer_id: &str, now: i64) -> Result<String> {
    issue_scoped_nonce(key, consumer_id, NonceScope::Consumer, now).await
}

/// Issues a nonce valid for a while at consumer `consumer_id`, for the requests of `scope`:
/// `BASE64URL(issued_at (8 bytes BE) || scope (1 byte) || MAC("keybound-consumer-nonce-v2" ||
/// len(consumer_id) (8 bytes BE) || consumer_id || issued_at || scope [|| len(htm) || htm ||
/// len(htu) || htu]))`. Stateless, so any instance of that consumer sharing the key can check
/// it; another consumer cannot, even with the same key, and a request nonce is refused for any
/// other method or URL.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` for a request scope whose method is not a method token;
/// `ERR_URL_INVALID` for its URL; the nonce key's errors.
pub async fn issue_scoped_nonce<K: NonceKey>(key: &K, consumer_id: &str, scope: NonceScope<'_>, now: i64) -> Result<String> {
    let ts = now.to_be_bytes();
    let mut out = ts.to_vec();
    out.push(u8::from(matches!(scope, NonceScope::Request { .. })));
    out.extend(key.tag(&nonce_mac_input(consumer_id, &ts, scope)?).await?);
    Ok(b64::encode(out))
}

/// Checks a nonce from [`issue_scoped_nonce`], presented with the request `htm` `htu`:
/// authentic for this `consumer_id`, issued within `max_age` seconds (and not in the future
/// beyond `skew`), and, for a request nonce, issued for this method and URL.
///
/// # Errors
/// The nonce key's errors; an invalid `htm`/`htu` for a request nonce is a mismatch (`false`).
#[allow(clippy::too_many_arguments)]
pub async fn check_nonce<K: NonceKey>(
    key: &K,
    consumer_id: &str,
    nonce: &str,
    htm: &str,
    htu: &str,
    now: i64,
    max_age: i64,
    skew: i64,
) -> Result<bool> {
    let Ok(bytes) = b64::decode(nonce, "nonce") else { return Ok(false) };
    if bytes.len() < 8 + 1 + 16 {
        return Ok(false);
    }
    let (ts, rest) = bytes.split_at(8);
    let issued = i64::from_be_bytes(ts.try_into().unwrap_or([0; 8]));
    if issued < now.saturating_sub(max_age) || issued > now.saturating_add(skew) {
        return Ok(false);
    }
    let scope = match rest[0] {
        0 => NonceScope::Consumer,
        1 => NonceScope::Request { htm, htu },
        _ => return Ok(false),
    };
    let Ok(input) = nonce_mac_input(consumer_id, ts, scope) else { return Ok(false) };
    key.check(&input, &rest[1..]).await
}

/// The consumer-nonce step of a presentation: with `required`, a nonce must be present and one
/// this consumer issued, still fresh (`ERR_DPOP_NONCE_REQUIRED`, `ERR_DPOP_NONCE_MISMATCH`);
/// without, a nonce that is present is still checked when there is a nonce key.
pub(crate) async fn check_consumer_nonce<K: NonceKey>(
    nonce: Option<&str>,
    nonces: Option<&K>,
    required: bool,
    policy: &ConsumerPolicy,
    (htm, htu): (&str, &str),
    now: i64,
) -> Result<()> {
    match (nonce, nonces) {
        (None, _) if required => Err(Error::DpopNonceRequired),
        (Some(n), Some(key)) => check_nonce(key, &policy.consumer_id, n, htm, htu, now, policy.proof_max_age, policy.clock_skew)
            .await?
            .then_some(())
            .ok_or(Error::DpopNonceMismatch),
        (Some(_), None) if required => Err(Error::DpopNonceMismatch),
        _ => Ok(()),
    }
}

/// The single-use step of a presentation: `key` goes into the replay store for the acceptance
/// window; a key already there is `ERR_DPOP_REPLAY`. Fails closed: any store error is
/// `ERR_REPLAY_STORE_UNAVAILABLE`, and nothing is accepted without the store's answer.
pub(crate) async fn use_once<R: ReplayStore>(replay: &R, key: &str, policy: &ConsumerPolicy, now: i64) -> Result<()> {
    let fresh = replay.check_and_store(key, now, now + policy.proof_max_age + policy.clock_skew).await.map_err(|e| match e {
        e @ Error::ReplayStoreUnavailable { .. } => e,
        other => Error::ReplayStoreUnavailable { message: other.to_string() },
    })?;
    if fresh {
        Ok(())
    } else {
        Err(Error::DpopReplay)
    }
}

#[derive(Deserialize)]
struct RawCnf {
    #[serde(default, deserialize_with = "crate::protocol::json::nested_object")]
    jwk: Option<RawJwk>,
    jkt: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    azp: Option<String>,
    exp: Option<f64>,
    iat: Option<f64>,
    nbf: Option<f64>,
    nonce: Option<String>,
    #[serde(default, deserialize_with = "crate::protocol::json::nested_object")]
    cnf: Option<RawCnf>,
}

/// An ID Token that passed the consumer's checks common to every binding mode.
pub(crate) struct CheckedToken {
    pub(crate) iss: String,
    pub(crate) sub: String,
    pub(crate) aud: Vec<String>,
    pub(crate) azp: Option<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) claims_json: String,
    cnf: Option<RawCnf>,
    typ: Option<String>,
}

/// The consumer's ID Token checks for any binding mode (spec.md §6.2): the issuer is accepted,
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
    // KB §9.2, R33, R40: a fresh proof of possession of that key, for this request and this token.
    let check = ProofCheck {
        htm: presentation.htm,
        htu: presentation.htu,
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
    check_consumer_nonce(proof.claims.nonce.as_deref(), nonces, policy.require_nonce, policy, (presentation.htm, presentation.htu), now)
        .await?;
    // RFC 9449 §11.1: `jti` single use within the window, scoped to this URI. Fail closed.
    let replay_key = format!("{} {}", crate::protocol::htu::normalize_htu(presentation.htu)?, proof.claims.jti);
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

/// One decision, accepted or refused, with the facts kept apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EvidenceRecord {
    /// When, seconds since the epoch.
    pub time: i64,
    /// Which consumer decided.
    pub consumer: String,
    /// What the caller wanted to do (its label).
    pub action: String,
    /// `"accepted"` or `"refused"`.
    pub outcome: &'static str,
    /// The refusal's code.
    pub error: Option<&'static str>,
    /// The user: issuer and subject (verified when accepted).
    pub issuer: Option<String>,
    /// The user's subject.
    pub subject: Option<String>,
    /// The authenticating application (`aud`, `azp`).
    pub audience: Vec<String>,
    /// `azp`.
    pub azp: Option<String>,
    /// The key holder: thumbprint of `cnf.jwk`.
    pub cnf_jkt: Option<String>,
    /// The proof's key thumbprint (differs from `cnf_jkt` on a key mismatch).
    pub proof_jkt: Option<String>,
    /// The proof: `jti`, `htm`, `htu`, `iat`.
    pub jti: Option<String>,
    /// How possession was proven: `"dpop"` (a DPoP proof by the `cnf` key) or `"passkey"` (a
    /// WebAuthn assertion by the passkey the ID Token's `nonce` commits to).
    pub proof_type: &'static str,
    /// Request method (the consumer's own).
    pub htm: String,
    /// Request URI (the consumer's own).
    pub htu: String,
    /// Proof `iat`, when verified.
    pub proof_iat: Option<i64>,
    /// Whether the identity fields were verified (true only when accepted).
    pub verified: bool,
}

impl EvidenceRecord {
    /// A refusal with nothing known yet: the base every record starts from.
    fn refused(consumer: &str, action: &str, now: i64, htm: &str, htu: &str) -> Self {
        EvidenceRecord {
            time: now,
            consumer: consumer.to_owned(),
            action: action.to_owned(),
            outcome: "refused",
            error: None,
            issuer: None,
            subject: None,
            audience: Vec::new(),
            azp: None,
            cnf_jkt: None,
            proof_jkt: None,
            jti: None,
            proof_type: "dpop",
            htm: htm.to_owned(),
            htu: htu.to_owned(),
            proof_iat: None,
            verified: false,
        }
    }

    /// Caps every string that came with the presentation (claimed or verified identity, `jti`,
    /// `htm`, `htu`) at [`MAX_ECHO_CHARS`](crate::error::MAX_ECHO_CHARS) characters, so a
    /// hostile presentation cannot blow up the logs. The thumbprints are fixed-size already.
    fn capped(mut self) -> Self {
        let cap = |s: &mut String| {
            if let Cow::Owned(c) = cap_echo(s) {
                *s = c;
            }
        };
        for s in [&mut self.issuer, &mut self.subject, &mut self.azp, &mut self.jti].into_iter().flatten() {
            cap(s);
        }
        self.audience.truncate(16);
        self.audience.iter_mut().for_each(cap);
        cap(&mut self.htm);
        cap(&mut self.htu);
        self
    }

    /// The record of one decision. Strings that came with the presentation are capped at
    /// [`MAX_ECHO_CHARS`](crate::error::MAX_ECHO_CHARS) characters (with an ellipsis).
    pub fn new(consumer: &str, action: &str, presentation: &Presentation<'_>, now: i64, result: &Result<Accepted>) -> Self {
        let base = EvidenceRecord::refused(consumer, action, now, presentation.htm, presentation.htu);
        let claimed = claimed(presentation);
        let record = match result {
            Ok(a) => EvidenceRecord {
                outcome: "accepted",
                issuer: Some(a.iss.clone()),
                subject: Some(a.sub.clone()),
                audience: a.aud.clone(),
                azp: a.azp.clone(),
                cnf_jkt: Some(a.cnf_jkt.clone()),
                proof_jkt: Some(a.cnf_jkt.clone()),
                jti: Some(a.jti.clone()),
                proof_iat: Some(a.proof_iat),
                verified: true,
                ..base
            },
            Err(e) => EvidenceRecord {
                error: Some(e.code().as_str()),
                issuer: claimed.iss,
                subject: claimed.sub,
                cnf_jkt: claimed.cnf_jkt,
                proof_jkt: claimed.proof_jkt,
                jti: claimed.jti,
                ..base
            },
        };
        record.capped()
    }

    /// The record of one passkey decision (`proof_type` `"passkey"`; the key holder is the
    /// passkey). Strings are capped as in [`EvidenceRecord::new`].
    pub fn passkey(
        consumer: &str,
        action: &str,
        p: &crate::protocol::passkey::PasskeyPresentation<'_>,
        now: i64,
        result: &Result<crate::protocol::passkey::PasskeyAccepted>,
    ) -> Self {
        let jkt = Some(p.public_jwk.thumbprint());
        let base = EvidenceRecord {
            cnf_jkt: jkt.clone(),
            proof_jkt: jkt,
            proof_type: "passkey",
            ..EvidenceRecord::refused(consumer, action, now, p.htm, p.htu)
        };
        let record = match result {
            Ok(a) => EvidenceRecord {
                outcome: "accepted",
                issuer: Some(a.iss.clone()),
                subject: Some(a.sub.clone()),
                audience: a.aud.clone(),
                verified: true,
                ..base
            },
            Err(e) => {
                let c = claimed(&Presentation { id_token: p.id_token, proof: "", htm: "", htu: "" });
                EvidenceRecord { error: Some(e.code().as_str()), issuer: c.iss, subject: c.sub, ..base }
            }
        };
        record.capped()
    }

    /// As JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Running counts an operator correlates bound-key failures with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Accepted presentations.
    pub accepted: u64,
    /// Refused presentations (nonce challenges not included).
    pub refused: u64,
    /// Replays (`ERR_DPOP_REPLAY`).
    pub replays: u64,
    /// Proof key ≠ `cnf` key (`ERR_DPOP_KEY_MISMATCH`).
    pub key_mismatches: u64,
    /// Nonce challenges (`ERR_DPOP_NONCE_REQUIRED`, `_MISMATCH`, `ERR_DPOP_PROOF_MISSING`): part of
    /// the protocol, not counted as refusals by key.
    pub nonce_challenges: u64,
    /// Refusals per claimed `cnf` thumbprint (at most 1000 keys are tracked).
    pub refusals_by_key: HashMap<String, u64>,
}

impl Counters {
    /// Counts one record.
    pub fn count(&mut self, record: &EvidenceRecord) {
        if record.outcome == "accepted" {
            self.accepted += 1;
            return;
        }
        let challenge = [ErrorCode::DpopNonceRequired, ErrorCode::DpopNonceMismatch, ErrorCode::DpopProofMissing];
        if record.error.is_some_and(|c| challenge.iter().any(|x| x.as_str() == c)) {
            self.nonce_challenges += 1;
            return;
        }
        self.refused += 1;
        match record.error {
            Some(c) if c == ErrorCode::DpopReplay.as_str() => self.replays += 1,
            Some(c) if c == ErrorCode::DpopKeyMismatch.as_str() => self.key_mismatches += 1,
            _ => {}
        }
        if let Some(jkt) = &record.cnf_jkt {
            if self.refusals_by_key.len() < 1000 || self.refusals_by_key.contains_key(jkt) {
                *self.refusals_by_key.entry(jkt.clone()).or_insert(0) += 1;
            }
        }
    }
}
