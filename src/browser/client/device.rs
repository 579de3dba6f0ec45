//! The device login (RFC 8628 with Key Binding, KB §3), for components that cannot redirect.

use super::super::dpop_key::DpopKeyPair;
use super::super::http;
use super::super::js::Result;
use super::super::platform::{now_secs, random, sleep_secs};
use super::{Client, SessionRecord};
use crate::error::Error;
use crate::protocol::oauth;
use crate::protocol::session::device::{DevicePolling, DeviceStep};
use crate::protocol::session::login::LoginCheck;

/// A started device login.
#[cfg(feature = "agent")]
#[derive(Debug, Clone)]
pub struct DeviceLogin {
    pub(super) key_id: String,
    pub(super) nonce: String,
    pub(super) started_at: i64,
    /// What to show the user.
    pub auth: oauth::DeviceAuthorization,
}

impl Client {
    /// Starts a device login (RFC 8628 with Key Binding, KB §3): a fresh non-extractable key, and
    /// the device authorization request with `bound_key` and `dpop_jkt`. Show the user code and
    /// the verification URI, then call [`Client::finish_device_login`].
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` when the OP has no device endpoint; `ERR_OAUTH_ERROR`, `ERR_NETWORK`.
    #[cfg(feature = "agent")]
    pub async fn start_device_login(&self) -> Result<DeviceLogin> {
        let endpoint = self
            .meta
            .device_authorization_endpoint
            .clone()
            .ok_or(Error::arg("deviceAuthorizationEndpoint", "the OP advertises no device_authorization_endpoint"))?;
        let nonce = random(16)?;
        let key = DpopKeyPair::generate(Some(format!("device:{}", random(12)?)), true).await?;
        let req = oauth::device_authorization_request(&endpoint, &self.config.client_id, &self.config.scope, Some(key.jkt()), Some(&nonce));
        let res = http::send(&req, &self.deadline()).await;
        let auth = match res.map(|r| oauth::process_device_authorization_response(&r, &self.config.issuer)) {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => {
                let _ = DpopKeyPair::delete(key.id()).await;
                return Err(e.into());
            }
            Err(e) => {
                let _ = DpopKeyPair::delete(key.id()).await;
                return Err(e);
            }
        };
        Ok(DeviceLogin { key_id: key.id().to_owned(), nonce, started_at: now_secs(), auth })
    }

    /// Polls until the user has finished (or denied, or the code expired): a new DPoP proof with
    /// `c_s256` over the `device_code` on every poll, the interval respected, `slow_down` adding
    /// 5 seconds for good. `on_poll` hears each pending poll (`"authorization_pending"` or
    /// `"slow_down"`, and the interval). Stops with `ERR_CANCELLED` when `signal` aborts. The
    /// key is deleted on failure.
    ///
    /// # Errors
    /// `ERR_DEVICE_ACCESS_DENIED`, `ERR_DEVICE_CODE_EXPIRED`, `ERR_CANCELLED`, and the ID Token
    /// codes.
    #[cfg(feature = "agent")]
    pub async fn finish_device_login(
        &self,
        login: &DeviceLogin,
        signal: Option<&web_sys::AbortSignal>,
        on_poll: &dyn Fn(&str, i64),
    ) -> Result<SessionRecord> {
        let result = self.poll_device(login, signal, on_poll).await;
        if result.is_err() {
            let _ = DpopKeyPair::delete(&login.key_id).await;
        }
        result
    }

    #[cfg(feature = "agent")]
    pub(super) async fn poll_device(
        &self,
        login: &DeviceLogin,
        signal: Option<&web_sys::AbortSignal>,
        on_poll: &dyn Fn(&str, i64),
    ) -> Result<SessionRecord> {
        let key = DpopKeyPair::load(&login.key_id).await?;
        let device_code = login.auth.device_code.expose();
        let mut polling = DevicePolling::new(login.started_at, login.auth.expires_in, login.auth.interval);
        loop {
            sleep_secs(polling.interval(), signal).await?;
            polling.before_poll(now_secs())?;
            let poll = self
                .token_call_as(
                    &key,
                    Some(device_code),
                    |proof| oauth::device_token_request(&self.meta.token_endpoint, device_code, &self.config.client_id, proof),
                    oauth::process_device_poll_response,
                )
                .await?;
            match polling.after_poll(poll) {
                DeviceStep::Tokens(tokens) => {
                    let check = LoginCheck { nonce: Some(&login.nonce), nonce_must_echo: false, bind: true, auth: Default::default() };
                    return match self.complete(&login.key_id, key.jkt(), &tokens, &check).await {
                        Err(e) => Err(self.refuse_answer(e, &tokens, None, &key).await),
                        done => done,
                    };
                }
                DeviceStep::Wait { status, interval } => on_poll(status, interval),
            }
        }
    }
}
