//! Logout: revocation (RFC 7009), forgetting the session, the end-session URL (RP-Initiated
//! Logout 1.0) and the check of the post-logout redirect.

use super::super::database::{self, PENDING_STORE};
use super::super::dpop_key::DpopKeyPair;
use super::super::http;
use super::super::js::{BrowserError, Result};
use super::super::platform::{now_secs, random, with_lock};
use super::{Client, SessionRecord};
use crate::error::Error;
use crate::protocol::oauth;
use crate::protocol::session;
use crate::protocol::session::records::{self, PendingLogout};

/// What [`Client::logout`] did.
#[derive(Debug)]
pub struct LogoutOutcome {
    /// The OP's end-session URL to send the browser to, when the OP has one.
    pub url: Option<String>,
    /// The `state` sent with it (check the post-logout page with [`Client::finish_logout`]).
    pub state: Option<String>,
    /// `Some(true)`: the refresh (or access) token was revoked; `Some(false)`: revoking failed,
    /// see `revocation_error`; `None`: nothing to revoke (no revocation endpoint, no session).
    pub revoked: Option<bool>,
    /// Why revoking failed. The local session is gone anyway.
    pub revocation_error: Option<BrowserError>,
}

impl Client {
    /// Logs out: revokes the session's refresh token (else its access token) at the OP's
    /// revocation endpoint (RFC 7009; with a DPoP proof by the session key when the tokens are
    /// DPoP-bound, one retry on `use_dpop_nonce`), then forgets the key and the session (other
    /// tabs and workers hear it on the channel), and returns the end-session URL (RP-Initiated
    /// Logout 1.0) with `id_token_hint`, `client_id`, `post_logout_redirect_uri` and `state` (a
    /// random one when a redirect URI is given without). A failed revocation does not keep the
    /// session: it is reported in the outcome. Holds the refresh lock, so no refresh in another
    /// tab rotates the token being revoked.
    ///
    /// # Errors
    /// `ERR_URL_INVALID`, `ERR_INVALID_ARGUMENT` (checked before anything is deleted),
    /// `ERR_KEY_STORE*`.
    pub async fn logout(&self, post_logout_redirect_uri: Option<&str>, state: Option<String>) -> Result<LogoutOutcome> {
        let state = records::new_logout_state(post_logout_redirect_uri, state, || random(16).map_err(|e| e.error))?;
        let end_session = |hint: Option<&str>| {
            self.meta
                .end_session_endpoint
                .as_deref()
                .map(|ep| oauth::end_session_url(ep, hint, &self.config.client_id, post_logout_redirect_uri, state.as_deref()))
                .transpose()
        };
        end_session(None)?;
        let name = session::refresh_lock_name(&self.session_id());
        let (record, revoked) = with_lock(&name, async {
            let record = self.stored_session().await.ok().flatten();
            let revoked = match (&self.meta.revocation_endpoint, &record) {
                (Some(endpoint), Some(record)) => Some(self.revoke(endpoint, record).await),
                _ => None,
            };
            self.forget().await?;
            Ok((record, revoked))
        })
        .await?;
        let url = end_session(record.as_ref().map(|r| r.id_token.as_str()))?;
        if let (Some(_), Some(state)) = (&url, &state) {
            let pending =
                PendingLogout { issuer: self.config.issuer.clone(), client_id: self.config.client_id.clone(), created_at: now_secs() };
            database::put_text(PENDING_STORE, &records::logout_key(state), &pending.to_json()?).await?;
        }
        Ok(LogoutOutcome { url, state, revoked: revoked.as_ref().map(Result::is_ok), revocation_error: revoked.and_then(Result::err) })
    }

    /// Revokes the session's refresh token, else its access token.
    pub(super) async fn revoke(&self, endpoint: &str, record: &SessionRecord) -> Result<()> {
        let (token, hint) = record.revocation_token();
        let client_id = &self.config.client_id;
        if record.is_dpop() {
            let key = DpopKeyPair::load(record.key_id()).await?;
            let build = |proof: &str| Ok(oauth::revocation_request(endpoint, token, hint, client_id, Some(proof)));
            self.dpop_post(endpoint, &key, None, build, oauth::process_revocation_response).await
        } else {
            let res = http::send(&oauth::revocation_request(endpoint, token, hint, client_id, None), &self.deadline()).await?;
            Ok(oauth::process_revocation_response(&res)?)
        }
    }

    /// Checks the post-logout redirect (default: where the OP sent the browser) against the
    /// `state` of a logout started here; single use, valid for 10 minutes.
    ///
    /// # Errors
    /// `ERR_STATE_MISMATCH`, `ERR_OAUTH_RESPONSE_INVALID` (a repeated parameter).
    pub async fn finish_logout(&self, url: &str) -> Result<()> {
        let params = oauth::parse_callback(url);
        let state = records::logout_state(params.state.as_deref())?;
        let text = database::get_text(PENDING_STORE, &records::logout_key(state), true).await?.ok_or(Error::StateMismatch)?;
        PendingLogout::parse(&text)?.check(&self.config.issuer, &self.config.client_id, now_secs())?;
        Ok(oauth::check_logout_callback(&params, state)?)
    }
}
