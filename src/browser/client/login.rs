//! The authorization code login: start (a fresh key, the pending login, PAR or the authorization
//! URL), finish (the callback, the token exchange with `c_s256`), and the checks that turn a token
//! response into a session (shared with the device flow).

use super::super::database::{self, PENDING_STORE};
use super::super::dpop_key::DpopKeyPair;
use super::super::js::Result;
use super::super::platform::{now_ms, now_secs, random};
use super::{Client, LoginOptions, SessionRecord};
use crate::error::Error;
use crate::protocol::id_token;
use crate::protocol::oauth::{self, AuthorizationRequest, TokenResponse};
use crate::protocol::pkce;
use crate::protocol::session::login::{keeps_pending, LoginCheck};
use crate::protocol::session::records::{self, pending_version, PendingRecord};
use crate::protocol::session::CLOCK_SKEW;

impl Client {
    /// Starts a login: a fresh key pair (stored in IndexedDB), `state`, OIDC `nonce` and PKCE
    /// verifier stored as a pending login keyed by `state`. Returns the authorization URL, the
    /// `state` and the key's IndexedDB id.
    ///
    /// # Errors
    /// `ERR_CRYPTO_*`, `ERR_KEY_STORE*`, `ERR_URL_INVALID`; `ERR_INVALID_ARGUMENT` for a
    /// negative `max_age`, empty `acr_values`, or `require_acr` without `acr_values`.
    pub async fn start_login(&self, options: &LoginOptions) -> Result<(String, String, String)> {
        let asked = id_token::AuthenticationCheck {
            max_age: options.max_age,
            acr_values: options.acr_values.as_deref(),
            require_acr: options.require_acr,
        };
        asked.check_request()?;
        let par = oauth::par_endpoint(self.config.par, &self.meta)?;
        let state = random(16)?;
        let verifier = random(32)?;
        let key = DpopKeyPair::generate(Some(format!("login:{state}")), true).await?;
        // Passkey-nonce mode: the OIDC nonce commits to the passkey (plain: its thumbprint;
        // salted: a salted hash of it), so any OP binds the ID Token to the passkey.
        let (nonce, passkey) = match &self.config.passkey {
            #[cfg(feature = "passkey")]
            Some((name, mode)) => {
                let (nonce, binding) = super::passkey::passkey_nonce(name, *mode).await?;
                (nonce, Some(binding))
            }
            #[cfg(not(feature = "passkey"))]
            Some(_) => return Err(Error::arg("passkey", "passkey logins are in the keybound/passkey entry").into()),
            None => (random(16)?, None),
        };
        let pending = PendingRecord {
            v: pending_version(options.max_age, options.acr_values.as_deref()),
            issuer: self.config.issuer.clone(),
            client_id: self.config.client_id.clone(),
            redirect_uri: self.config.redirect_uri.clone(),
            key_id: key.id().to_owned(),
            nonce: nonce.clone(),
            verifier: verifier.clone(),
            created_at: now_secs(),
            bind: self.config.bind_key,
            passkey,
            session_name: self.config.session_name.clone(),
            max_age: options.max_age,
            acr_values: options.acr_values.clone(),
            require_acr: options.require_acr,
        };
        let text = pending.to_json()?;
        database::put_text(PENDING_STORE, &state, &text).await?;
        let request = AuthorizationRequest {
            authorization_endpoint: &self.meta.authorization_endpoint,
            client_id: &self.config.client_id,
            redirect_uri: &self.config.redirect_uri,
            scope: &self.config.scope,
            state: &state,
            nonce: &nonce,
            code_challenge: &pkce::code_challenge(&verifier)?,
            dpop_jkt: self.config.bind_key.then(|| key.jkt()),
            max_age: options.max_age,
            acr_values: options.acr_values.as_deref(),
        };
        let url = match par {
            None => oauth::authorization_url(&request)?,
            Some(endpoint) => {
                // RFC 9449 §10.1: the push carries a proof of the login's key (with dpop_jkt of
                // the same key); the OP binds the code to it. One retry on use_dpop_nonce.
                let build = |proof: &str| oauth::par_request(endpoint, &request, Some(proof));
                match self.dpop_post(endpoint, &key, None, build, oauth::process_par_response).await {
                    Ok(pushed) => {
                        oauth::par_authorization_url(&self.meta.authorization_endpoint, &self.config.client_id, &pushed.request_uri)?
                    }
                    Err(e) => {
                        // Nothing was started at the OP: forget the login.
                        let _ = database::delete_in(PENDING_STORE, &state).await;
                        let _ = DpopKeyPair::delete(key.id()).await;
                        return Err(e);
                    }
                }
            }
        };
        Ok((url, state, key.id().to_owned()))
    }

    /// Finishes a login from the callback URL: `state` first (single use), RFC 9207 `iss`, OAuth
    /// errors, then the token exchange (DPoP proof with `c_s256`, one nonce retry) and the ID
    /// Token checks. Stores and returns the session. On failure the login's key is deleted.
    ///
    /// # Errors
    /// `ERR_STATE_MISMATCH`, `ERR_ISS_MISMATCH`, `ERR_OAUTH_ERROR`, `ERR_OAUTH_RESPONSE_INVALID`,
    /// `ERR_NETWORK`, the ID Token codes (`ERR_ID_TOKEN_*`, `ERR_JWS_*`, `ERR_JWKS_NO_MATCHING_KEY`).
    pub async fn finish_login(&self, callback_url: &str) -> Result<SessionRecord> {
        let params = oauth::parse_callback(callback_url);
        let state = records::login_state(params.state.as_deref())?.to_owned();
        // A login started by another named session is that session's to finish: refuse without
        // consuming it, so the right client can still finish it.
        let peek = database::get_text(PENDING_STORE, &state, false).await?.ok_or(Error::StateMismatch)?;
        if records::started_by_other_session(&peek, &self.config.session_name) {
            return Err(Error::StateMismatch.into());
        }
        let text = database::get_text(PENDING_STORE, &state, true).await?.ok_or(Error::StateMismatch)?;
        let pending = PendingRecord::parse(&text)?;
        let result = self.finish_pending(&params, &state, &pending).await;
        match &result {
            // The OP did not answer (timeout, network, cancelled): nothing was refused, so the
            // login stays as it was, to be finished by calling again with the same callback.
            Err(e) if keeps_pending(&e.error) => {
                database::put_text(PENDING_STORE, &state, &text).await?;
            }
            Err(_) => {
                let _ = DpopKeyPair::delete(&pending.key_id).await;
            }
            Ok(_) => {}
        }
        result
    }

    pub(super) async fn finish_pending(
        &self,
        params: &oauth::CallbackParams,
        state: &str,
        pending: &PendingRecord,
    ) -> Result<SessionRecord> {
        pending.check(&self.config.issuer, &self.config.client_id, now_secs())?;
        let code = oauth::check_callback(params, state, &self.config.issuer, self.meta.authorization_response_iss_parameter_supported)?;
        let key = DpopKeyPair::load(&pending.key_id).await?;
        let code = code.expose();
        let tokens = self
            .token_call(&key, Some(code), |proof| {
                oauth::code_token_request(
                    &self.meta.token_endpoint,
                    code,
                    &pending.redirect_uri,
                    &pending.verifier,
                    &self.config.client_id,
                    proof,
                )
            })
            .await?;
        let login = LoginCheck { nonce: Some(&pending.nonce), nonce_must_echo: true, bind: pending.bind, auth: pending.auth() };
        let mut record = match self.complete(&pending.key_id, key.jkt(), &tokens, &login).await {
            Ok(record) => record,
            // Refused after the OP answered: revoke what it issued before it is dropped.
            Err(e) => return Err(self.refuse_answer(e, &tokens, None, &key).await),
        };
        if let Some(mut binding) = pending.passkey.clone() {
            // The nonce was checked against the commitment by the ID Token validation.
            binding.id_token = record.id_token.clone();
            record.passkey = Some(binding);
            self.save(&record).await?;
        }
        Ok(record)
    }

    /// Validates the ID Token of a token response (and what the login asked of the
    /// authentication), stores the session, and forgets the previous session's key.
    pub(super) async fn complete(&self, key_id: &str, jkt: &str, tokens: &TokenResponse, login: &LoginCheck<'_>) -> Result<SessionRecord> {
        let id_token =
            tokens.id_token.clone().ok_or(Error::OAuthResponseInvalid { reason: "no \"id_token\" in the token response", status: 200 })?;
        let validated = self.validate(&id_token, login.expected_nonce(), login.expected_jkt(jkt), self.config.binding).await?;
        login.check_nonce(validated.claims.nonce.as_deref())?;
        id_token::check_authentication(&validated.claims, &login.auth, self.now(), CLOCK_SKEW)?;
        let mut record = SessionRecord::new(&self.config.issuer, &self.config.client_id, key_id, jkt);
        record.set_id_token(id_token, validated);
        record.set_tokens(tokens, now_secs(), now_ms());
        // A new login replaces the previous session of this name: forget its key.
        if let Some(old) = self.stored_session().await? {
            if let Some(key_id) = old.key_to_forget(&record) {
                let _ = DpopKeyPair::delete(key_id).await;
            }
        }
        self.save(&record).await?;
        Ok(record)
    }
}
