//! Revoking what was refused: when a login or a refresh is refused after the OP answered with
//! tokens, those tokens stay valid at the OP although the client drops them. They are revoked
//! first (RFC 7009, with a DPoP proof by the login's key when the answer was DPoP-bound; best
//! effort, each request under the client's timeout), and the refusal says whether that worked
//! (`Error::AnswerRefused`, `revoked` in JavaScript). Which tokens is decided by the protocol
//! core ([`oauth::tokens_to_revoke`]); this is the I/O.

use super::Client;
use crate::browser::dpop_key::DpopKeyPair;
use crate::browser::http;
use crate::browser::js::BrowserError;
use crate::error::Error;
use crate::protocol::oauth::{self, TokenResponse};

impl Client {
    /// Revokes the tokens of `answer` (keeping `kept_refresh_token`, the one a refused refresh
    /// leaves in the session), then returns `refusal` as [`Error::AnswerRefused`] with whether
    /// every revocation succeeded (`false` when the OP has no revocation endpoint).
    pub(super) async fn refuse_answer(
        &self,
        refusal: BrowserError,
        answer: &TokenResponse,
        kept_refresh_token: Option<&str>,
        key: &DpopKeyPair,
    ) -> BrowserError {
        let revoked = self.revoke_answer(answer, kept_refresh_token, key).await;
        BrowserError { error: Error::AnswerRefused { error: Box::new(refusal.error), revoked }, cause: refusal.cause }
    }

    async fn revoke_answer(&self, answer: &TokenResponse, kept_refresh_token: Option<&str>, key: &DpopKeyPair) -> bool {
        let Some(endpoint) = self.metadata().revocation_endpoint.as_deref() else {
            return false;
        };
        let client_id = self.config().client_id.as_str();
        let mut all = true;
        // One after the other: the refresh token first (at most OPs that ends the grant).
        for t in oauth::tokens_to_revoke(answer, kept_refresh_token) {
            let done = if t.dpop {
                let build = |proof: &str| Ok(oauth::revocation_request(endpoint, t.token, t.hint, client_id, Some(proof)));
                self.dpop_post(endpoint, key, None, build, oauth::process_revocation_response).await.is_ok()
            } else {
                let req = oauth::revocation_request(endpoint, t.token, t.hint, client_id, None);
                http::send(&req, &self.deadline()).await.is_ok_and(|res| oauth::process_revocation_response(&res).is_ok())
            };
            all &= done;
        }
        all
    }
}
