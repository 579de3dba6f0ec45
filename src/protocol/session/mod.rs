//! The client's session core, sans-IO: every decision the browser client makes about a login,
//! a session and its requests, apart from the I/O itself. The browser layer
//! (`browser::client`) reads and writes IndexedDB, sends requests, waits and signs; what it
//! stores, what it sends next and when it gives up is decided here, and tested natively
//! (`tests/session.rs`).
//!
//! - [`records`]: the pending-login, session and pending-logout records, their versions, their
//!   time to live, and the refusal of a record that is unreadable or of another version.
//! - [`login`]: what a callback and a token response must satisfy, in order.
//! - [`nonce`]: the DPoP nonce cache, one slot per endpoint (the normalized `htu`).
//! - [`retry`]: the retry of a request refused for want of a DPoP nonce, exactly once.
//! - [`present`]: the `Authorization` header and where a presentation carries the ID Token.
//! - [`device`]: one step of the device-flow poll (RFC 8628 §3.4, §3.5).
//! - [`jwks`]: when an unknown signing key is worth fetching the JWKS again (shared with the
//!   consumer).
//!
//! The ID Token policy of the client is below: the algorithms it verifies, intersected with the
//! OP's, the clock skew and the maximum ID Token age.

use super::id_token::{BindingPolicy, IdTokenCheck};
use super::jwa::Alg;

pub mod device;
pub mod jwks;
pub mod login;
pub mod nonce;
pub mod present;
pub mod records;
pub mod retry;

/// ID Token algorithms keybound verifies with WebCrypto (intersected with what the OP advertises).
pub const ID_TOKEN_ALGS: &[Alg] = &[Alg::Rs256, Alg::Ps256, Alg::Es256];
/// Allowed clock skew for ID Token times, in seconds.
pub const CLOCK_SKEW: i64 = 60;
/// How old an ID Token's `iat` may be when it is validated, in seconds.
pub const ID_TOKEN_MAX_AGE: i64 = 600;

/// The ID Token algorithms to accept: [`ID_TOKEN_ALGS`] that the OP lists in
/// `id_token_signing_alg_values_supported` (all of them when it lists none), in our order.
pub fn allowed_id_token_algs(advertised: &[String]) -> Vec<Alg> {
    ID_TOKEN_ALGS.iter().copied().filter(|a| advertised.is_empty() || advertised.iter().any(|x| x == a.as_str())).collect()
}

/// The client's ID Token check: our issuer and `client_id` only, `algs` (see
/// [`allowed_id_token_algs`]), [`CLOCK_SKEW`] and [`ID_TOKEN_MAX_AGE`], the expected `nonce` and
/// key thumbprint, and the binding policy.
pub fn id_token_check<'a>(
    issuer: &'a str,
    client_id: &'a str,
    algs: &'a [Alg],
    now: i64,
    nonce: Option<&'a str>,
    expected_jkt: Option<&'a str>,
    binding: BindingPolicy,
) -> IdTokenCheck<'a> {
    IdTokenCheck {
        issuer,
        client_id,
        extra_audiences: &[],
        allowed_algs: algs,
        now,
        clock_skew: CLOCK_SKEW,
        max_age: ID_TOKEN_MAX_AGE,
        nonce,
        expected_jkt,
        binding,
    }
}

/// The IndexedDB id of a client's session: per issuer and client, and per session name when it
/// has one (a page and an agent worker of one origin keep separate sessions).
pub fn session_id(issuer: &str, client_id: &str, session_name: &str) -> String {
    if session_name.is_empty() {
        format!("{issuer} {client_id}")
    } else {
        format!("{issuer} {client_id} {session_name}")
    }
}

/// The name of the Web Lock that serializes refreshes (and logouts) of one session across the
/// origin's tabs and workers.
pub fn refresh_lock_name(session_id: &str) -> String {
    format!("keybound refresh {session_id}")
}
