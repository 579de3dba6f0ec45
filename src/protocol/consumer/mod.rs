//! The RP Consuming Component (KB §7, Appendix A; docs/profile.md §2): verifies a *presentation*, meaning a
//! key-bound ID Token plus a fresh proof of possession of its `cnf` key, in keybound's profile
//! (docs/profile.md §2, not a standard):
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

mod evidence;
mod nonce;
mod passkey;
mod presentation;
mod replay;
mod token;

pub use evidence::{Counters, EvidenceRecord};
pub use nonce::{check_nonce, issue_nonce, issue_scoped_nonce, NoNonces, NonceKey, NonceScope};
pub use passkey::{verify_passkey_presentation, PasskeyAccepted, PasskeyCheck, PasskeyPresentation};
pub use presentation::{claimed, verify_presentation, Accepted, Claimed, Presentation};
pub use replay::{MemoryReplayStore, ReplayStore};

use crate::protocol::id_token::Jwks;
use crate::protocol::jwa::Alg;

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
