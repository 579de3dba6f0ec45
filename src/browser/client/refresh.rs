//! Refresh (KB §5): a new proof by the same key, the refreshed ID Token checked against the
//! session's, one refresh at a time per session across the origin (Web Locks).

use super::super::dpop_key::DpopKeyPair;
use super::super::js::Result;
use super::super::platform::{now_ms, now_secs, with_lock};
use super::{Client, SessionRecord};
use crate::error::Error;
use crate::protocol::id_token;
use crate::protocol::oauth;
use crate::protocol::session::{self, login::refresh_binding};

impl Client {
    /// Refreshes with a new DPoP proof from the same key (no `c_s256`). A refreshed ID Token must
    /// keep `iss`, `sub`, `aud`, `azp`, `auth_time`, the key binding and `cnf` (OIDC Core §12.2,
    /// KB §5). A rotated refresh token is stored. Concurrent callers in any tab or worker share
    /// one refresh (Web Locks).
    ///
    /// # Errors
    /// `ERR_NO_SESSION`, `ERR_NO_REFRESH_TOKEN`, `ERR_KEY_NOT_FOUND`, the token-endpoint and ID Token codes,
    /// `ERR_ID_TOKEN_REFRESH_MISMATCH`.
    pub async fn refresh(&self) -> Result<SessionRecord> {
        // One refresh at a time per session across tabs and workers: a caller that waited for the
        // lock while another refreshed reuses that result (a refresh token is never used twice).
        let started = now_ms();
        let name = session::refresh_lock_name(&self.session_id());
        with_lock(&name, async {
            let record = self.session_or_err().await?;
            if record.refreshed_since(started) {
                return Ok(record);
            }
            self.refresh_locked(record).await
        })
        .await
    }

    pub(super) async fn refresh_locked(&self, mut record: SessionRecord) -> Result<SessionRecord> {
        let rt = record.refresh_token().ok_or(Error::NoRefreshToken)?.to_owned();
        let key = DpopKeyPair::load(record.key_id()).await?;
        let tokens = self
            .token_call(&key, None, |proof| oauth::refresh_token_request(&self.meta.token_endpoint, &rt, &self.config.client_id, proof))
            .await?;
        if let Some(id_token) = tokens.id_token.clone() {
            let (binding, expected) = refresh_binding(record.bound, self.config.binding, self.config.bind_key, &record.jkt);
            let checked = match self.validate(&id_token, None, expected, binding).await {
                Ok(v) => id_token::check_refreshed(&record.claims(), &v.claims).map(|()| v).map_err(Into::into),
                Err(e) => Err(e),
            };
            match checked {
                Ok(v) => record.set_id_token(id_token, v),
                // Refused after the OP answered: revoke what it issued (not the refresh token
                // the session keeps) before it is dropped.
                Err(e) => return Err(self.refuse_answer(e, &tokens, Some(&rt), &key).await),
            }
        }
        record.set_tokens(&tokens, now_secs(), now_ms());
        self.save(&record).await?;
        Ok(record)
    }
}
