//! What a login must satisfy, in order. Finishing a login from its callback (the browser layer
//! does the I/O between the steps):
//!
//! 1. the callback's `state` names a pending login ([`super::records::login_state`]), else
//!    `ERR_STATE_MISMATCH`;
//! 2. a login started by another named session is refused without being consumed
//!    ([`super::records::started_by_other_session`]);
//! 3. the pending login is taken (single use) and read
//!    ([`super::records::PendingRecord::parse`]: `ERR_KEY_RECORD_INVALID`);
//! 4. it belongs to this issuer and client and is younger than its time to live
//!    ([`super::records::PendingRecord::check`]: `ERR_STATE_MISMATCH`);
//! 5. the callback itself: RFC 9207 `iss`, an OAuth error (`oauth::check_callback`);
//! 6. the token exchange, then the ID Token ([`super::id_token_check`]), the nonce
//!    ([`LoginCheck`]) and what the login asked of the authentication.
//!
//! A failure leaves the login consumed and its key deleted, except when the OP did not answer
//! ([`keeps_pending`]): then it can be finished by calling again.

use crate::error::Error;
use crate::protocol::id_token::{AuthenticationCheck, BindingPolicy};

/// What a token response must satisfy to become a session.
#[derive(Clone, Copy, Debug)]
pub struct LoginCheck<'a> {
    /// The OIDC `nonce` sent.
    pub nonce: Option<&'a str>,
    /// Whether the OP must echo the nonce (code flow) or may leave it out (device flow: RFC 8628
    /// has no nonce, KB §3).
    pub nonce_must_echo: bool,
    /// Whether binding was requested.
    pub bind: bool,
    /// `max_age` and `acr_values`.
    pub auth: AuthenticationCheck<'a>,
}

impl<'a> LoginCheck<'a> {
    /// The `nonce` the ID Token validation requires: the one sent, when the OP must echo it.
    pub fn expected_nonce(&self) -> Option<&'a str> {
        if self.nonce_must_echo {
            self.nonce
        } else {
            None
        }
    }

    /// The key thumbprint the ID Token must be bound to: ours, when binding was requested.
    pub fn expected_jkt<'k>(&self, jkt: &'k str) -> Option<&'k str> {
        self.bind.then_some(jkt)
    }

    /// After validation, with the validated ID Token's `nonce`: where the OP may leave the
    /// nonce out (device flow), a nonce it does send must still be ours.
    ///
    /// # Errors
    /// `ERR_ID_TOKEN_NONCE_MISMATCH`.
    pub fn check_nonce(&self, echoed: Option<&str>) -> Result<(), Error> {
        if !self.nonce_must_echo && echoed.is_some() && echoed != self.nonce {
            return Err(Error::IdTokenNonceMismatch);
        }
        Ok(())
    }
}

/// Whether a failed finish leaves the pending login as it was: the OP did not answer (timeout,
/// network, cancelled), so nothing was refused and the same callback can finish it later.
pub fn keeps_pending(error: &Error) -> bool {
    matches!(error, Error::Timeout { .. } | Error::Network { .. } | Error::Cancelled)
}

/// What a refreshed ID Token must satisfy (KB §5): a session whose ID Token was bound stays
/// bound (`Required`, to the session key); otherwise the configured policy, bound to the session
/// key when the client binds keys.
pub fn refresh_binding(bound: bool, policy: BindingPolicy, bind_key: bool, jkt: &str) -> (BindingPolicy, Option<&str>) {
    let binding = if bound { BindingPolicy::Required } else { policy };
    (binding, (bound || bind_key).then_some(jkt))
}
