//! The retry of a request refused for want of a DPoP nonce (RFC 9449 §8, §9): sent again
//! exactly once, with a new proof carrying the nonce the server gave. A server that refuses the
//! second proof too is answered as it answered: there is no third attempt.

use crate::error::Error;
use crate::protocol::{challenge, oauth};

/// What to do after a response.
#[derive(Debug, PartialEq, Eq)]
pub enum Step<T> {
    /// Send the request again, with a new proof carrying this nonce.
    Retry(String),
    /// The outcome.
    Done(T),
}

/// The `DPoP-Nonce` header of a response, when it is a usable nonce (RFC 9449 §8.1 syntax).
pub fn fresh_nonce(header: Option<&str>) -> Option<&str> {
    header.and_then(oauth::valid_dpop_nonce)
}

/// One request's retry state: it retries at most once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NonceRetry {
    retried: bool,
}

impl NonceRetry {
    /// A new request: no retry yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the request was already sent again.
    pub fn retried(&self) -> bool {
        self.retried
    }

    /// A resource server's or a consumer's answer (RFC 9449 §9): retry when it is a 401 whose
    /// `WWW-Authenticate` carries a DPoP `use_dpop_nonce` challenge (parsed by
    /// [`challenge::is_dpop_nonce_challenge`]) and whose `DPoP-Nonce` header is usable, and the
    /// request was not retried yet. Anything else is the response to hand back.
    pub fn resource(&mut self, status: u16, www_authenticate: Option<&str>, dpop_nonce: Option<&str>) -> Step<()> {
        let challenged = status == 401 && www_authenticate.is_some_and(challenge::is_dpop_nonce_challenge);
        match fresh_nonce(dpop_nonce) {
            Some(nonce) if challenged && !self.retried => {
                self.retried = true;
                Step::Retry(nonce.to_owned())
            }
            _ => Step::Done(()),
        }
    }

    /// An OP endpoint's answer as read by its processor (RFC 9449 §8): `ERR_USE_DPOP_NONCE` the
    /// first time is a retry with its nonce; any other result, or that error again, is the
    /// outcome.
    pub fn op<T>(&mut self, result: Result<T, Error>) -> Step<Result<T, Error>> {
        match result {
            Err(Error::UseDpopNonce { nonce }) if !self.retried => {
                self.retried = true;
                Step::Retry(nonce)
            }
            other => Step::Done(other),
        }
    }
}
