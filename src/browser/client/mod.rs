//! The key-bound login flow in the browser (a Window or a Worker): discovery, the authorization
//! request with a fresh non-extractable key per login (KB §9.6), the callback, the token exchange
//! with a DPoP proof carrying `c_s256`, ID Token validation with the binding policy, refresh,
//! authorized `fetch`, and forgetting everything.
//!
//! Pending logins (state, nonce, PKCE verifier, key id) are stored in IndexedDB keyed by `state`,
//! so they survive the redirect and a reload, are single use, and two tabs logging in at once do
//! not clobber each other. The session (tokens and checked claims) is stored per issuer and
//! client, so `refresh()` works after a reload.
//!
//! Retries: a `use_dpop_nonce` challenge (400 at the token endpoint, 401 at a resource) is
//! retried exactly once with a new proof; an unknown `kid` refetches the JWKS once (at most once
//! a minute).
//!
//! The flows live in one file each: [`login`] (authorization code, PAR, token exchange),
//! [`refresh`], `device` (RFC 8628), [`logout`], `passkey` (passkey-nonce logins); `revoke` (the
//! tokens of an answer refused after the OP issued them); the stored session in [`stored`]; what
//! is kept in memory between calls and shared with the origin's other clients in [`memory`]; and
//! the requests signed with the DPoP key in [`send`].

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::http::{self, Deadline};
use super::js::Result;
use super::platform::now_secs;
use super::subtle;
use crate::error::Error;
use crate::protocol::id_token::{self, BindingPolicy, Jwks, ValidatedIdToken};
use crate::protocol::oauth::{self, HttpRequest, ProviderMetadata};
use crate::protocol::session::{self, jwks::JwksRefetchGate};

#[cfg(feature = "agent")]
pub mod device;
pub mod login;
pub mod logout;
pub mod memory;
#[cfg(feature = "passkey")]
pub mod passkey;
pub mod refresh;
mod revoke;
pub mod send;
pub mod stored;

pub use crate::protocol::session::records::{PasskeyBinding, SessionRecord};
#[cfg(feature = "agent")]
pub use device::DeviceLogin;
pub use logout::LogoutOutcome;
use memory::{Channel, Memory};
#[cfg(feature = "passkey")]
pub use passkey::{PasskeySignature, PasskeyTarget};

/// How a client is configured.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The issuer, compared exactly.
    pub issuer: String,
    /// The public client's id.
    pub client_id: String,
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// Scopes besides `openid` and `bound_key` (for example `"profile offline_access"`).
    pub scope: String,
    /// What to do with an unbound ID Token.
    pub binding: BindingPolicy,
    /// Name of the stored session: components of one origin that must not share a session (a
    /// page and an agent worker) use different names. Empty: the origin-wide session.
    pub session_name: String,
    /// Bind the ID Token to a DPoP key (`bound_key` + `dpop_jkt`). Default true.
    pub bind_key: bool,
    /// Commit the OIDC `nonce` to the passkey stored under this name, in this mode.
    pub passkey: Option<(String, crate::protocol::passkey::NonceMode)>,
    /// How long any request to the OP or a resource may take, milliseconds
    /// ([`http::DEFAULT_TIMEOUT_MS`] by default).
    pub timeout_ms: u32,
    /// Whether logins push their authorization request (RFC 9126). Default: when the OP has a
    /// PAR endpoint.
    pub par: oauth::ParMode,
}

/// What one login asks of the user's authentication (OIDC `max_age`, `acr_values`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoginOptions {
    /// `max_age`, seconds.
    pub max_age: Option<i64>,
    /// `acr_values`, space-separated.
    pub acr_values: Option<String>,
    /// Whether the ID Token `acr` must be one of `acr_values`.
    pub require_acr: bool,
}

/// A configured client for one issuer.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    meta: ProviderMetadata,
    jwks: RefCell<Jwks>,
    /// When a key the JWKS lacks is worth a refetch (per `kid`, once a minute).
    jwks_refetch: RefCell<JwksRefetchGate>,
    /// The session, its key and the nonces, kept between calls (see [`Memory`]).
    memory: Rc<RefCell<Memory>>,
    /// Where other clients of the origin announce their changes.
    channel: Option<Channel>,
    /// The DPoP proof of the last token request (for demos and diagnostics; proofs are single use).
    last_token_proof: RefCell<Option<String>>,
    /// The proof of the last presentation.
    last_presentation_proof: RefCell<Option<String>>,
    /// The OP's clock minus ours, seconds, learned from its `Date` header.
    clock_offset: Cell<i64>,
}

impl Client {
    /// The deadline of this client's requests: its timeout, no caller signal.
    pub fn deadline(&self) -> Deadline {
        Deadline { timeout_ms: self.config.timeout_ms, signal: None }
    }

    /// Fetches the discovery document (the `issuer` must equal `config.issuer` exactly) and the
    /// JWKS.
    ///
    /// # Errors
    /// `ERR_URL_INVALID`, `ERR_NETWORK`, `ERR_DISCOVERY_*`, `ERR_JSON_INVALID`.
    pub async fn discover(config: ClientConfig) -> Result<Client> {
        let req = oauth::discovery_request(&config.issuer)?;
        let (res, date) = http::send_with_date(&req, &Deadline { timeout_ms: config.timeout_ms, signal: None }).await?;
        let meta = oauth::process_discovery_response(&res, &config.issuer)?;
        let memory = Rc::new(RefCell::new(Memory::default()));
        let session_id = session::session_id(&config.issuer, &config.client_id, &config.session_name);
        let client = Client {
            channel: memory::open_channel(session_id, Rc::clone(&memory)),
            memory,
            config,
            meta,
            jwks: RefCell::new(Jwks::default()),
            jwks_refetch: RefCell::new(JwksRefetchGate::per_kid()),
            last_token_proof: RefCell::new(None),
            last_presentation_proof: RefCell::new(None),
            clock_offset: Cell::new(0),
        };
        client.learn_clock(date.as_deref());
        client.fetch_jwks().await?;
        Ok(client)
    }

    /// Learns the OP's clock offset from a `Date` header. Offsets under 5 seconds are noise
    /// (the header has one-second resolution) and leave the clock alone.
    fn learn_clock(&self, date: Option<&str>) {
        if let Some(offset) = http::server_time(date).and_then(|server| oauth::learned_clock_offset(server, now_secs())) {
            self.clock_offset.set(offset);
        }
    }

    /// Our clock corrected by the OP's offset: used for proof `iat` and token time checks.
    fn now(&self) -> i64 {
        now_secs() + self.clock_offset.get()
    }

    /// The learned clock offset (the OP's clock minus this device's), in seconds.
    pub fn clock_offset(&self) -> i64 {
        self.clock_offset.get()
    }

    /// The OP metadata.
    pub fn metadata(&self) -> &ProviderMetadata {
        &self.meta
    }

    /// The DPoP proof sent with the last token request, if any.
    pub fn last_token_proof(&self) -> Option<String> {
        self.last_token_proof.borrow().clone()
    }

    /// The proof of the last presentation, if any.
    pub fn last_presentation_proof(&self) -> Option<String> {
        self.last_presentation_proof.borrow().clone()
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    async fn fetch_jwks(&self) -> Result<()> {
        let req = HttpRequest {
            method: "GET",
            url: self.meta.jwks_uri.clone(),
            headers: vec![("accept", "application/json".into())],
            body: String::new(),
        };
        let res = http::send(&req, &self.deadline()).await?;
        if res.status != 200 {
            return Err(Error::OAuthResponseInvalid { reason: "the JWKS endpoint did not answer 200", status: res.status }.into());
        }
        *self.jwks.borrow_mut() = Jwks::from_json(&res.body)?;
        Ok(())
    }

    fn session_id(&self) -> String {
        session::session_id(&self.config.issuer, &self.config.client_id, &self.config.session_name)
    }

    async fn validate(&self, id_token: &str, nonce: Option<&str>, jkt: Option<&str>, binding: BindingPolicy) -> Result<ValidatedIdToken> {
        let algs = session::allowed_id_token_algs(&self.meta.id_token_signing_alg_values_supported);
        let check = session::id_token_check(&self.config.issuer, &self.config.client_id, &algs, self.now(), nonce, jkt, binding);
        let verifier = subtle::WebCryptoVerifier;
        let first = {
            let jwks = self.jwks.borrow().clone();
            id_token::validate(id_token, &jwks, &check, &verifier).await
        };
        match first {
            // Key rotation: a key the set lacks is worth one refetch, even right after discovery
            // (once per kid and minute), then one more try.
            Err(Error::JwksNoMatchingKey { kid }) if self.jwks_refetch.borrow().allows(kid.as_deref(), now_secs()) => {
                self.jwks_refetch.borrow_mut().record(kid.as_deref(), now_secs());
                self.fetch_jwks().await?;
                let jwks = self.jwks.borrow().clone();
                Ok(id_token::validate(id_token, &jwks, &check, &verifier).await?)
            }
            other => Ok(other?),
        }
    }
}
