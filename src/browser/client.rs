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

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};

use super::dpop_key::DpopKeyPair;
use super::http::Deadline;
use super::js::{now_secs, BrowserError, Result};
use super::key_store::{self, PENDING_STORE, SESSION_STORE};
use super::{http, subtle};
use crate::error::Error;
use crate::protocol::b64;
use crate::protocol::dpop::ProofParams;
use crate::protocol::id_token::{self, BindingPolicy, IdTokenCheck, IdTokenClaims, Jwks, JwksRefetch, ValidatedIdToken};
use crate::protocol::jwa::Alg;
use crate::protocol::oauth::{self, AuthorizationRequest, HttpRequest, HttpResponse, ProviderMetadata, TokenResponse, TokenType};
use crate::protocol::pkce;

/// ID Token algorithms keybound verifies with WebCrypto (intersected with what the OP advertises).
const ID_TOKEN_ALGS: &[Alg] = &[Alg::Rs256, Alg::Ps256, Alg::Es256];
/// How long a pending login stays valid, in seconds.
const PENDING_TTL: i64 = 600;
/// Allowed clock skew for ID Token times, in seconds.
const CLOCK_SKEW: i64 = 60;
/// Record format version of pending logins and sessions.
const RECORD_VERSION: u32 = 1;
/// Version of a pending login that asked for `max_age` or `acr_values`: a version of keybound
/// that cannot check them refuses it (`ERR_KEY_RECORD_INVALID`) rather than skip the checks.
/// Both versions are read.
const PENDING_AUTH_VERSION: u32 = 2;

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

/// The passkey binding of a login: which passkey, how the nonce commits to it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PasskeyBinding {
    /// The passkey's name in IndexedDB.
    pub name: String,
    /// Its thumbprint.
    pub jkt: String,
    /// `"plain"` or `"salted"`.
    pub mode: String,
    /// The salt (salted mode), base64url: hand it to consumers with the presentation.
    pub salt: Option<String>,
    /// The login's ID Token: a refreshed ID Token loses the `nonce`, so passkey presentations
    /// use this one.
    pub id_token: String,
}

#[cfg(feature = "passkey")]
fn mode_name(mode: crate::protocol::passkey::NonceMode) -> &'static str {
    match mode {
        crate::protocol::passkey::NonceMode::Plain => "plain",
        crate::protocol::passkey::NonceMode::Salted => "salted",
    }
}

/// A passkey presentation made by [`Client::sign_with_passkey`].
#[cfg(feature = "passkey")]
#[derive(Clone, Debug)]
pub struct PasskeySignature {
    /// The login ID Token (its `nonce` commits to the passkey).
    pub id_token: String,
    /// The passkey's public JWK (canonical JSON).
    pub public_jwk: String,
    /// The binding.
    pub binding: PasskeyBinding,
    /// The credential id, base64url.
    pub credential_id: String,
    /// The assertion.
    pub assertion: super::passkey::BrowserAssertion,
}

/// Where a passkey signature goes: the consumer's request and the nonce it issued. The
/// assertion verifies only for this method and URL (query and fragment aside).
#[cfg(feature = "passkey")]
#[derive(Clone, Copy, Debug)]
pub struct PasskeyTarget<'a> {
    /// The consumer request's method.
    pub htm: &'a str,
    /// The consumer request's URL.
    pub htu: &'a str,
    /// The consumer's nonce, when it issued one.
    pub consumer_nonce: Option<&'a str>,
}

#[derive(Serialize, Deserialize)]
struct PendingRecord {
    v: u32,
    issuer: String,
    client_id: String,
    redirect_uri: String,
    key_id: String,
    nonce: String,
    verifier: String,
    created_at: i64,
    #[serde(default = "yes")]
    bind: bool,
    #[serde(default)]
    passkey: Option<PasskeyBinding>,
    /// The named session that started the login: only that session may finish it.
    #[serde(default)]
    session_name: String,
    /// What the login asked of the authentication (absent in version 1 records).
    #[serde(default)]
    max_age: Option<i64>,
    #[serde(default)]
    acr_values: Option<String>,
    #[serde(default)]
    require_acr: bool,
}

impl PendingRecord {
    fn auth(&self) -> id_token::AuthenticationCheck<'_> {
        id_token::AuthenticationCheck { max_age: self.max_age, acr_values: self.acr_values.as_deref(), require_acr: self.require_acr }
    }
}

fn yes() -> bool {
    true
}

/// A signed-in session as stored. Tokens are secrets; `Debug` is not derived.
#[derive(Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    v: u32,
    issuer: String,
    client_id: String,
    key_id: String,
    /// Thumbprint of our key (the `dpop_jkt` sent).
    pub jkt: String,
    /// Whether the ID Token is bound to our key.
    pub bound: bool,
    /// The ID Token.
    pub id_token: String,
    /// Its verified payload, as JSON text.
    pub claims_json: String,
    iss: String,
    sub: String,
    aud: Vec<String>,
    azp: Option<String>,
    auth_time: Option<i64>,
    nonce: Option<String>,
    cnf_jkt: Option<String>,
    /// The access token.
    pub access_token: String,
    /// `token_type` as normalized: `DPoP`, `Bearer` or as received.
    pub token_type: String,
    /// Access token expiry, seconds since the epoch, when known.
    pub expires_at: Option<i64>,
    refresh_token: Option<String>,
    /// When the tokens were last obtained (`Date.now()`, ms): lets a caller that waited for the
    /// refresh lock see that another tab or worker refreshed meanwhile.
    #[serde(default)]
    updated_at: f64,
    /// The passkey binding, when the login committed its nonce to a passkey.
    #[serde(default)]
    pub passkey: Option<PasskeyBinding>,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("issuer", &self.issuer)
            .field("sub", &self.sub)
            .field("jkt", &self.jkt)
            .field("bound", &self.bound)
            .field("token_type", &self.token_type)
            .field("tokens", &"[redacted]")
            .finish()
    }
}

impl SessionRecord {
    /// The IndexedDB id of this session's DPoP key pair (`loadDPoPKeyPair(keyId)`).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Whether a refresh token is held.
    pub fn has_refresh_token(&self) -> bool {
        self.refresh_token.is_some()
    }

    fn claims(&self) -> IdTokenClaims {
        IdTokenClaims {
            iss: self.iss.clone(),
            sub: self.sub.clone(),
            aud: self.aud.clone(),
            exp: 0,
            iat: 0,
            nonce: self.nonce.clone(),
            azp: self.azp.clone(),
            auth_time: self.auth_time,
            cnf_jkt: self.cnf_jkt.clone(),
            acr: None,
        }
    }

    fn set_id_token(&mut self, id_token: String, v: ValidatedIdToken) {
        self.id_token = id_token;
        self.claims_json = v.claims_json;
        self.bound = v.bound;
        self.iss = v.claims.iss;
        self.sub = v.claims.sub;
        self.aud = v.claims.aud;
        self.azp = v.claims.azp;
        self.auth_time = v.claims.auth_time;
        self.nonce = v.claims.nonce;
        self.cnf_jkt = v.claims.cnf_jkt;
    }

    fn set_tokens(&mut self, t: &TokenResponse) {
        self.access_token = t.access_token.expose().to_owned();
        self.token_type = match &t.token_type {
            TokenType::Dpop => "DPoP".to_owned(),
            TokenType::Bearer => "Bearer".to_owned(),
            TokenType::Other(other) => other.clone(),
        };
        self.expires_at = t.expires_in.map(|e| now_secs() + e);
        self.updated_at = js_sys::Date::now();
        if let Some(rt) = &t.refresh_token {
            // A rotated refresh token replaces the old one (stays bound to the same key).
            self.refresh_token = Some(rt.expose().to_owned());
        }
    }
}

/// The OIDC `nonce` of a passkey-nonce login and its binding: a commitment to the passkey
/// stored under `name` (plain: its thumbprint; salted: a salted hash of it).
#[cfg(feature = "passkey")]
async fn passkey_nonce(name: &str, mode: crate::protocol::passkey::NonceMode) -> Result<(String, PasskeyBinding)> {
    let stored = super::passkey::load(name).await?;
    let jkt = stored.jwk()?.thumbprint();
    let salt = match mode {
        crate::protocol::passkey::NonceMode::Salted => {
            let mut s = [0u8; 32];
            subtle::fill_random(&mut s)?;
            Some(s.to_vec())
        }
        crate::protocol::passkey::NonceMode::Plain => None,
    };
    let nonce = crate::protocol::passkey::commitment(mode, &jkt, salt.as_deref())?;
    let binding =
        PasskeyBinding { name: name.to_owned(), jkt, mode: mode_name(mode).into(), salt: salt.map(b64::encode), id_token: String::new() };
    Ok((nonce, binding))
}

/// The prefix of a pending logout's id in the pending store (login states are base64url).
const LOGOUT_PREFIX: &str = "logout:";

/// A pending logout: what the post-logout page checks.
#[derive(Serialize, Deserialize)]
struct PendingLogout {
    issuer: String,
    client_id: String,
    created_at: i64,
}

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

/// What a token response must satisfy to become a session.
struct Login<'a> {
    /// The OIDC `nonce` sent.
    nonce: Option<&'a str>,
    /// Whether the OP must echo the nonce (code flow) or may leave it out (device flow: RFC 8628
    /// has no nonce, KB §3).
    nonce_must_echo: bool,
    /// Whether binding was requested.
    bind: bool,
    /// `max_age` and `acr_values`.
    auth: id_token::AuthenticationCheck<'a>,
}

/// A started device login.
#[cfg(feature = "agent")]
#[derive(Debug, Clone)]
pub struct DeviceLogin {
    key_id: String,
    nonce: String,
    started_at: i64,
    /// What to show the user.
    pub auth: oauth::DeviceAuthorization,
}

/// Waits `secs` seconds with the global `setTimeout` (Window or Worker); an aborted `signal`
/// ends the wait early with `ERR_CANCELLED`.
#[cfg(feature = "agent")]
async fn sleep_secs(secs: i64, signal: Option<&web_sys::AbortSignal>) -> Result<()> {
    if signal.is_some_and(|s| s.aborted()) {
        return Err(Error::Cancelled.into());
    }
    let ms = JsValue::from_f64((secs.max(0) * 1000) as f64);
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(set_timeout) = super::js::global_prop("setTimeout").and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
            let _ = set_timeout.call2(&JsValue::UNDEFINED, &resolve, &ms);
        }
        if let Some(s) = signal {
            let _ = s.add_event_listener_with_callback("abort", &resolve);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    if signal.is_some_and(|s| s.aborted()) {
        return Err(Error::Cancelled.into());
    }
    Ok(())
}

/// Runs `f` holding the Web Lock `name` (`navigator.locks`, in a Window and in a Worker; shared
/// by every tab and worker of the origin). Where Web Locks do not exist, runs `f` unguarded.
async fn with_lock<T>(name: &str, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    use js_sys::{Function, Promise, Reflect};
    let locks = super::js::global_prop("navigator").and_then(|n| Reflect::get(&n, &"locks".into()).ok()).filter(|l| l.is_object());
    let request = locks.as_ref().and_then(|l| Reflect::get(l, &"request".into()).ok()).and_then(|r| r.dyn_into::<Function>().ok());
    let (Some(locks), Some(request)) = (locks, request) else { return f.await };
    let mut on_acquired: Option<Function> = None;
    let acquired = Promise::new(&mut |resolve, _| on_acquired = Some(resolve));
    let mut on_done: Option<Function> = None;
    let done = Promise::new(&mut |resolve, _| on_done = Some(resolve));
    let (Some(on_acquired), Some(on_done)) = (on_acquired, on_done) else { return f.await };
    let held = done.clone();
    // The lock is held until the promise returned by this callback settles.
    let callback = wasm_bindgen::closure::Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let _ = on_acquired.call0(&JsValue::UNDEFINED);
        held.into()
    });
    if request.call2(&locks, &JsValue::from_str(name), &callback).is_err() {
        return f.await;
    }
    let _ = wasm_bindgen_futures::JsFuture::from(acquired).await;
    let out = f.await;
    let _ = on_done.call0(&JsValue::UNDEFINED);
    out
}

fn random(n: usize) -> Result<String> {
    let mut buf = vec![0u8; n];
    subtle::fill_random(&mut buf)?;
    Ok(b64::encode(buf))
}

fn session_id_of(config: &ClientConfig) -> String {
    if config.session_name.is_empty() {
        format!("{} {}", config.issuer, config.client_id)
    } else {
        format!("{} {} {}", config.issuer, config.client_id, config.session_name)
    }
}

/// DPoP nonces belong to the server endpoint that issued them (RFC 9449 §8, §9): the key is the
/// normalized `htu`, so an authorization server's nonce is never sent to a resource on the same
/// origin, or the reverse.
fn nonce_slot(url: &str) -> String {
    crate::protocol::htu::normalize_htu(url).unwrap_or_else(|_| url.to_owned())
}

/// The name of the `BroadcastChannel` on which clients of one origin (tabs, workers) tell each
/// other that a session changed or a DPoP nonce was learned.
const CHANNEL: &str = "keybound";

/// What a client keeps in memory between calls, so that `fetch`, `present` and `presentTo` make
/// no IndexedDB round trip while nothing changed. IndexedDB stays the truth: a change made by
/// this client updates the memory and is broadcast; a change broadcast by another client of the
/// origin clears (session) or updates (nonce) the memory. `refresh` reads IndexedDB under its
/// Web Lock, so a rotated refresh token is never read stale.
#[derive(Debug, Default)]
struct Memory {
    /// The session of this client's name, and its key once loaded.
    session: Option<(SessionRecord, Option<DpopKeyPair>)>,
    /// The latest `DPoP-Nonce` per endpoint (at most 100); `None`: known to have none.
    nonces: Vec<(String, Option<String>)>,
}

impl Memory {
    fn set_nonce(&mut self, slot: &str, nonce: Option<&str>) {
        self.nonces.retain(|(s, _)| s != slot);
        self.nonces.push((slot.to_owned(), nonce.map(str::to_owned)));
        if self.nonces.len() > 100 {
            self.nonces.remove(0);
        }
    }
}

/// The channel and its message handler, closed when the client is dropped.
struct Channel {
    channel: web_sys::BroadcastChannel,
    _on_message: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Channel")
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}

/// Opens the origin's channel, applying other clients' messages to `memory`. `None` where
/// `BroadcastChannel` does not exist (then nothing is kept in memory).
fn open_channel(session_id: String, memory: Rc<RefCell<Memory>>) -> Option<Channel> {
    super::js::global_prop("BroadcastChannel")?;
    let channel = web_sys::BroadcastChannel::new(CHANNEL).ok()?;
    let on_message = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        let data = event.data();
        let field = |name: &str| js_sys::Reflect::get(&data, &JsValue::from_str(name)).ok().and_then(|v| v.as_string());
        let Ok(mut memory) = memory.try_borrow_mut() else { return };
        match field("k").as_deref() {
            Some("session") if field("id").as_deref() == Some(session_id.as_str()) => memory.session = None,
            Some("nonce") => {
                if let Some(slot) = field("slot") {
                    memory.set_nonce(&slot, field("nonce").as_deref());
                }
            }
            _ => {}
        }
    });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    Some(Channel { channel, _on_message: on_message })
}

/// A configured client for one issuer.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    meta: ProviderMetadata,
    jwks: RefCell<Jwks>,
    /// The last refetch of the JWKS for a key it lacked (see [`id_token::should_refetch_jwks`]).
    jwks_refetch: RefCell<Option<JwksRefetch>>,
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
        let session_id = session_id_of(&config);
        let client = Client {
            channel: open_channel(session_id, Rc::clone(&memory)),
            memory,
            config,
            meta,
            jwks: RefCell::new(Jwks::default()),
            jwks_refetch: RefCell::new(None),
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
        session_id_of(&self.config)
    }

    /// Tells the origin's other clients something changed (best effort: without a channel, they
    /// keep nothing in memory either).
    fn announce(&self, entries: &[(&str, JsValue)]) {
        if let Some(c) = &self.channel {
            let _ = c.channel.post_message(&super::js::object(entries));
        }
    }

    /// This client's session changed in IndexedDB: remember `record` (or nothing), and tell the
    /// others to forget theirs.
    fn session_changed(&self, record: Option<&SessionRecord>) {
        if self.channel.is_some() {
            let mut memory = self.memory.borrow_mut();
            memory.session = record.map(|r| {
                // The same key object serves on while the session keeps its key (a refresh).
                let key = memory.session.take().and_then(|(old, key)| key.filter(|_| old.key_id == r.key_id));
                (r.clone(), key)
            });
        }
        self.announce(&[("k", "session".into()), ("id", self.session_id().into())]);
    }

    /// The session for a hot path: from memory while nothing changed, else from IndexedDB (then
    /// kept, without its key).
    ///
    /// # Errors
    /// `ERR_NO_SESSION`, `ERR_KEY_STORE*`, `ERR_KEY_RECORD_INVALID`.
    async fn hot_session(&self) -> Result<SessionRecord> {
        if let Some((record, _)) = self.memory.borrow().session.as_ref() {
            return Ok(record.clone());
        }
        let record = self.session_or_err().await?;
        if self.channel.is_some() {
            self.memory.borrow_mut().session = Some((record.clone(), None));
        }
        Ok(record)
    }

    /// The session and its key for a hot path (`fetch`, `present`): from memory while nothing
    /// changed, else from IndexedDB (then kept).
    ///
    /// # Errors
    /// `ERR_NO_SESSION`, `ERR_KEY_NOT_FOUND`, `ERR_KEY_STORE*`, `ERR_KEY_RECORD_INVALID`.
    async fn session_and_key(&self) -> Result<(SessionRecord, DpopKeyPair)> {
        let kept = self.memory.borrow().session.clone();
        if let Some((record, Some(key))) = kept {
            return Ok((record, key));
        }
        let record = self.hot_session().await?;
        let key = DpopKeyPair::load(&record.key_id).await?;
        if self.channel.is_some() {
            self.memory.borrow_mut().session = Some((record.clone(), Some(key.clone())));
        }
        Ok((record, key))
    }

    /// The latest nonce for this endpoint: the one shared through IndexedDB by any tab or worker
    /// of the origin, else this client's own. Sharing is best effort: storage errors fall back
    /// to memory.
    async fn nonce_for(&self, url: &str) -> Option<String> {
        let slot = nonce_slot(url);
        if let Some((_, known)) = self.memory.borrow().nonces.iter().find(|(s, _)| *s == slot) {
            return known.clone();
        }
        let stored = key_store::get_text(key_store::NONCE_STORE, &slot, false).await.ok().flatten();
        // Kept (also "none") only where other clients' nonces reach this one through the channel.
        if self.channel.is_some() || stored.is_some() {
            self.memory.borrow_mut().set_nonce(&slot, stored.as_deref());
        }
        stored
    }

    async fn remember_nonce(&self, url: &str, nonce: &str) {
        let slot = nonce_slot(url);
        let known = self.memory.borrow().nonces.iter().any(|(s, n)| *s == slot && n.as_deref() == Some(nonce));
        if known {
            return;
        }
        self.memory.borrow_mut().set_nonce(&slot, Some(nonce));
        let _ = key_store::put_text(key_store::NONCE_STORE, &slot, nonce).await;
        self.announce(&[("k", "nonce".into()), ("slot", slot.as_str().into()), ("nonce", nonce.into())]);
    }

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
                let (nonce, binding) = passkey_nonce(name, *mode).await?;
                (nonce, Some(binding))
            }
            #[cfg(not(feature = "passkey"))]
            Some(_) => return Err(Error::arg("passkey", "passkey logins are in the keybound/passkey entry").into()),
            None => (random(16)?, None),
        };
        let asks = options.max_age.is_some() || options.acr_values.is_some();
        let pending = PendingRecord {
            v: if asks { PENDING_AUTH_VERSION } else { RECORD_VERSION },
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
        let text = serde_json::to_string(&pending).map_err(|e| Error::json("pending login", e))?;
        key_store::put_text(PENDING_STORE, &state, &text).await?;
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
                        let _ = key_store::delete_in(PENDING_STORE, &state).await;
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
        let state = params
            .state
            .clone()
            .filter(|s| !s.is_empty() && s.len() <= 256 && !s.starts_with(LOGOUT_PREFIX))
            .ok_or(Error::StateMismatch)?;
        // A login started by another named session is that session's to finish: refuse without
        // consuming it, so the right client can still finish it.
        let peek = key_store::get_text(PENDING_STORE, &state, false).await?.ok_or(Error::StateMismatch)?;
        #[derive(Deserialize)]
        struct Owner {
            #[serde(default)]
            session_name: String,
        }
        if serde_json::from_str::<Owner>(&peek).map(|o| o.session_name != self.config.session_name).unwrap_or(false) {
            return Err(Error::StateMismatch.into());
        }
        let text = key_store::get_text(PENDING_STORE, &state, true).await?.ok_or(Error::StateMismatch)?;
        let pending: PendingRecord =
            serde_json::from_str(&text).map_err(|_| Error::KeyRecordInvalid { reason: "unreadable pending login" })?;
        if pending.v != RECORD_VERSION && pending.v != PENDING_AUTH_VERSION {
            return Err(Error::KeyRecordInvalid { reason: "pending login of an unknown version" }.into());
        }
        let result = self.finish_pending(&params, &state, &pending).await;
        match &result {
            // The OP did not answer (timeout, network, cancelled): nothing was refused, so the
            // login stays as it was, to be finished by calling again with the same callback.
            Err(e) if matches!(e.error, Error::Timeout { .. } | Error::Network { .. } | Error::Cancelled) => {
                key_store::put_text(PENDING_STORE, &state, &text).await?;
            }
            Err(_) => {
                let _ = DpopKeyPair::delete(&pending.key_id).await;
            }
            Ok(_) => {}
        }
        result
    }

    async fn finish_pending(&self, params: &oauth::CallbackParams, state: &str, pending: &PendingRecord) -> Result<SessionRecord> {
        if pending.issuer != self.config.issuer
            || pending.client_id != self.config.client_id
            || now_secs() - pending.created_at > PENDING_TTL
        {
            return Err(Error::StateMismatch.into());
        }
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
        let login = Login { nonce: Some(&pending.nonce), nonce_must_echo: true, bind: pending.bind, auth: pending.auth() };
        let mut record = self.complete(&pending.key_id, key.jkt(), &tokens, &login).await?;
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
    async fn complete(&self, key_id: &str, jkt: &str, tokens: &TokenResponse, login: &Login<'_>) -> Result<SessionRecord> {
        let id_token =
            tokens.id_token.clone().ok_or(Error::OAuthResponseInvalid { reason: "no \"id_token\" in the token response", status: 200 })?;
        let nonce = login.nonce;
        let expected_nonce = if login.nonce_must_echo { nonce } else { None };
        let validated = self.validate(&id_token, expected_nonce, login.bind.then_some(jkt), self.config.binding).await?;
        if !login.nonce_must_echo && validated.claims.nonce.is_some() && validated.claims.nonce.as_deref() != nonce {
            return Err(Error::IdTokenNonceMismatch.into());
        }
        id_token::check_authentication(&validated.claims, &login.auth, self.now(), CLOCK_SKEW)?;
        let mut record = SessionRecord {
            v: RECORD_VERSION,
            issuer: self.config.issuer.clone(),
            client_id: self.config.client_id.clone(),
            key_id: key_id.to_owned(),
            jkt: jkt.to_owned(),
            bound: false,
            id_token: String::new(),
            claims_json: String::new(),
            iss: String::new(),
            sub: String::new(),
            aud: Vec::new(),
            azp: None,
            auth_time: None,
            nonce: None,
            cnf_jkt: None,
            access_token: String::new(),
            token_type: String::new(),
            expires_at: None,
            refresh_token: None,
            updated_at: 0.0,
            passkey: None,
        };
        record.set_id_token(id_token, validated);
        record.set_tokens(tokens);
        // A new login replaces the previous session of this name: forget its key.
        if let Some(old) = self.stored_session().await? {
            if old.key_id != record.key_id {
                let _ = DpopKeyPair::delete(&old.key_id).await;
            }
        }
        self.save(&record).await?;
        Ok(record)
    }

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
    async fn poll_device(
        &self,
        login: &DeviceLogin,
        signal: Option<&web_sys::AbortSignal>,
        on_poll: &dyn Fn(&str, i64),
    ) -> Result<SessionRecord> {
        let key = DpopKeyPair::load(&login.key_id).await?;
        let device_code = login.auth.device_code.expose();
        let deadline = login.started_at + login.auth.expires_in;
        let mut interval = login.auth.interval;
        loop {
            sleep_secs(interval, signal).await?;
            if now_secs() > deadline {
                return Err(Error::DeviceCodeExpired.into());
            }
            let poll = self
                .token_call_as(
                    &key,
                    Some(device_code),
                    |proof| oauth::device_token_request(&self.meta.token_endpoint, device_code, &self.config.client_id, proof),
                    oauth::process_device_poll_response,
                )
                .await?;
            match poll {
                oauth::DevicePoll::Tokens(tokens) => {
                    let check = Login { nonce: Some(&login.nonce), nonce_must_echo: false, bind: true, auth: Default::default() };
                    return self.complete(&login.key_id, key.jkt(), &tokens, &check).await;
                }
                oauth::DevicePoll::Pending => on_poll("authorization_pending", interval),
                oauth::DevicePoll::SlowDown => {
                    interval += 5;
                    on_poll("slow_down", interval);
                }
            }
        }
    }

    async fn save(&self, record: &SessionRecord) -> Result<()> {
        let text = serde_json::to_string(record).map_err(|e| Error::json("session", e))?;
        let saved = key_store::put_text(SESSION_STORE, &self.session_id(), &text).await;
        // Whatever happened, this client and the others read IndexedDB again next time.
        self.session_changed(if saved.is_ok() { Some(record) } else { None });
        saved
    }

    /// The stored session of this client, if any.
    ///
    /// # Errors
    /// `ERR_KEY_STORE*`; `ERR_KEY_RECORD_INVALID` for a record of another version.
    pub async fn stored_session(&self) -> Result<Option<SessionRecord>> {
        let Some(text) = key_store::get_text(SESSION_STORE, &self.session_id(), false).await? else { return Ok(None) };
        match serde_json::from_str::<SessionRecord>(&text) {
            Ok(record) if record.v == RECORD_VERSION => Ok(Some(record)),
            other => {
                // Stored by another version of keybound (or damaged): discard it cleanly, with its
                // key if it names one, and say so once. The next call finds no session.
                #[derive(Deserialize)]
                struct KeyOnly {
                    key_id: Option<String>,
                }
                if let Some(key_id) = serde_json::from_str::<KeyOnly>(&text).ok().and_then(|k| k.key_id) {
                    let _ = DpopKeyPair::delete(&key_id).await;
                }
                key_store::delete_in(SESSION_STORE, &self.session_id()).await?;
                self.session_changed(None);
                let reason = if other.is_ok() {
                    "a session stored by another version of keybound was discarded; log in again"
                } else {
                    "an unreadable stored session was discarded; log in again"
                };
                Err(Error::KeyRecordInvalid { reason }.into())
            }
        }
    }

    async fn session_or_err(&self) -> Result<SessionRecord> {
        self.stored_session().await?.ok_or_else(|| Error::NoSession.into())
    }

    /// A token-endpoint call with a fresh DPoP proof, retried once with a new proof when the
    /// server answers `use_dpop_nonce`.
    async fn token_call(&self, key: &DpopKeyPair, code: Option<&str>, build: impl Fn(&str) -> HttpRequest) -> Result<TokenResponse> {
        self.token_call_as(key, code, build, oauth::process_token_response).await
    }

    /// [`Self::token_call`] with the response read by `process` (a token response, or a device
    /// poll that may still be pending).
    async fn token_call_as<T>(
        &self,
        key: &DpopKeyPair,
        code: Option<&str>,
        build: impl Fn(&str) -> HttpRequest,
        process: fn(&HttpResponse) -> std::result::Result<T, Error>,
    ) -> Result<T> {
        self.dpop_post(&self.meta.token_endpoint, key, code, |proof| Ok(build(proof)), process).await
    }

    /// A POST to an OP endpoint (`htu`) with a fresh DPoP proof, retried once with a new proof
    /// when the OP answers `use_dpop_nonce`; the response is read by `process`.
    async fn dpop_post<T>(
        &self,
        htu: &str,
        key: &DpopKeyPair,
        code: Option<&str>,
        build: impl Fn(&str) -> std::result::Result<HttpRequest, Error>,
        process: fn(&HttpResponse) -> std::result::Result<T, Error>,
    ) -> Result<T> {
        let mut retried = false;
        loop {
            let nonce = self.nonce_for(htu).await;
            let proof =
                key.proof_at(&ProofParams { htm: "POST", htu, nonce: nonce.as_deref(), access_token: None, code }, self.now()).await?;
            let (res, date) = http::send_with_date(&build(&proof)?, &self.deadline()).await?;
            self.learn_clock(date.as_deref());
            if htu == self.meta.token_endpoint {
                *self.last_token_proof.borrow_mut() = Some(proof);
            }
            if let Some(n) = res.dpop_nonce.as_deref().and_then(oauth::valid_dpop_nonce) {
                self.remember_nonce(htu, n).await;
            }
            match process(&res) {
                Err(Error::UseDpopNonce { nonce }) if !retried => {
                    self.remember_nonce(htu, &nonce).await;
                    retried = true;
                }
                other => return other.map_err(BrowserError::from),
            }
        }
    }

    async fn validate(&self, id_token: &str, nonce: Option<&str>, jkt: Option<&str>, binding: BindingPolicy) -> Result<ValidatedIdToken> {
        let advertised = &self.meta.id_token_signing_alg_values_supported;
        let algs: Vec<Alg> =
            ID_TOKEN_ALGS.iter().copied().filter(|a| advertised.is_empty() || advertised.iter().any(|x| x == a.as_str())).collect();
        let check = IdTokenCheck {
            issuer: &self.config.issuer,
            client_id: &self.config.client_id,
            extra_audiences: &[],
            allowed_algs: &algs,
            now: self.now(),
            clock_skew: CLOCK_SKEW,
            max_age: 600,
            nonce,
            expected_jkt: jkt,
            binding,
        };
        let verifier = subtle::WebCryptoVerifier;
        let first = {
            let jwks = self.jwks.borrow().clone();
            id_token::validate(id_token, &jwks, &check, &verifier).await
        };
        match first {
            // Key rotation: a key the set lacks is worth one refetch, even right after discovery
            // (once per kid and minute), then one more try.
            Err(Error::JwksNoMatchingKey { kid })
                if id_token::should_refetch_jwks(kid.as_deref(), self.jwks_refetch.borrow().as_ref(), now_secs()) =>
            {
                *self.jwks_refetch.borrow_mut() = Some(JwksRefetch { kid, at: now_secs() });
                self.fetch_jwks().await?;
                let jwks = self.jwks.borrow().clone();
                Ok(id_token::validate(id_token, &jwks, &check, &verifier).await?)
            }
            other => Ok(other?),
        }
    }

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
        let started = js_sys::Date::now();
        let name = format!("keybound refresh {}", self.session_id());
        with_lock(&name, async {
            let record = self.session_or_err().await?;
            if record.updated_at > started {
                return Ok(record);
            }
            self.refresh_locked(record).await
        })
        .await
    }

    async fn refresh_locked(&self, mut record: SessionRecord) -> Result<SessionRecord> {
        let rt = record.refresh_token.clone().ok_or(Error::NoRefreshToken)?;
        let key = DpopKeyPair::load(&record.key_id).await?;
        let tokens = self
            .token_call(&key, None, |proof| oauth::refresh_token_request(&self.meta.token_endpoint, &rt, &self.config.client_id, proof))
            .await?;
        if let Some(id_token) = tokens.id_token.clone() {
            let binding = if record.bound { BindingPolicy::Required } else { self.config.binding };
            let expected = (record.bound || self.config.bind_key).then_some(record.jkt.as_str());
            let v = self.validate(&id_token, None, expected, binding).await?;
            id_token::check_refreshed(&record.claims(), &v.claims)?;
            record.set_id_token(id_token, v);
        }
        record.set_tokens(&tokens);
        self.save(&record).await?;
        Ok(record)
    }

    /// Sends a request with the access token: `Authorization: DPoP` plus a proof with `ath` when
    /// the token type is DPoP (one retry on a `use_dpop_nonce` challenge), `Authorization:
    /// Bearer` otherwise. Never sends the ID Token (KB §9.5).
    ///
    /// # Errors
    /// `ERR_NO_SESSION`, `ERR_NETWORK`, `ERR_URL_INVALID`, `ERR_CRYPTO_*`.
    pub async fn fetch(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<&str>,
        deadline: &Deadline,
    ) -> Result<web_sys::Response> {
        let method = &http::normalize_method(method)?;
        // The key only for a DPoP token: a Bearer request needs none.
        let (record, key) = match self.hot_session().await? {
            r if r.token_type.eq_ignore_ascii_case("dpop") => {
                let (r, k) = self.session_and_key().await?;
                (r, Some(k))
            }
            r => (r, None),
        };
        let dpop = key.is_some();
        let mut retried = false;
        loop {
            let mut hs: Vec<(&str, String)> = headers.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
            if let Some(key) = &key {
                let nonce = self.nonce_for(url).await;
                let params =
                    ProofParams { htm: method, htu: url, nonce: nonce.as_deref(), access_token: Some(&record.access_token), code: None };
                hs.push(("authorization", format!("DPoP {}", record.access_token)));
                hs.push(("dpop", key.proof_at(&params, self.now()).await?));
            } else {
                hs.push(("authorization", format!("Bearer {}", record.access_token)));
            }
            let pairs: Vec<(&str, &str)> = hs.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let res = http::send_raw(method, url, &pairs, body, deadline).await?;
            let nonce = res.headers().get("dpop-nonce").filter(|n| oauth::valid_dpop_nonce(n).is_some());
            if let Some(n) = &nonce {
                self.remember_nonce(url, n).await;
            }
            let challenged = res.status() == 401
                && res.headers().get("www-authenticate").is_some_and(|w| crate::protocol::challenge::is_dpop_nonce_challenge(&w))
                && nonce.is_some();
            if dpop && challenged && !retried {
                retried = true;
                continue;
            }
            return Ok(res.into());
        }
    }

    /// Signs `message` with the session's passkey: a WebAuthn assertion whose challenge is
    /// `signing_challenge(login ID Token, message, consumer nonce, htm, htu)`. The result carries
    /// what a consumer needs: the ID Token, the public JWK, the mode and salt, and the assertion.
    ///
    /// # Errors
    /// `ERR_NO_SESSION`; `ERR_INVALID_ARGUMENT` when the session has no passkey binding or the
    /// method is not a method token; `ERR_URL_INVALID`; `ERR_CRYPTO_OPERATION` when the user or
    /// browser refuses.
    #[cfg(feature = "passkey")]
    pub async fn sign_with_passkey(&self, message: &[u8], target: &PasskeyTarget<'_>) -> Result<PasskeySignature> {
        // The challenge's inputs are checked before anything is read or the user is asked.
        let challenge_for =
            |id_token: &str| crate::protocol::passkey::signing_challenge(id_token, message, target.consumer_nonce, target.htm, target.htu);
        challenge_for("")?;
        let record = self.session_or_err().await?;
        let binding = record.passkey.clone().ok_or(Error::arg("passkey", "this session was not bound to a passkey at login"))?;
        let stored = super::passkey::load(&binding.name).await?;
        if stored.jwk()?.thumbprint() != binding.jkt {
            // Re-registered under the same name: the login committed to the old passkey, so the
            // new one's assertion would be refused. Say so before asking the user for a gesture.
            return Err(Error::PasskeyNonceMismatch.into());
        }
        let challenge = challenge_for(&binding.id_token)?;
        let assertion = super::passkey::assert(&stored, &challenge).await?;
        Ok(PasskeySignature {
            id_token: binding.id_token.clone(),
            public_jwk: stored.public_jwk.clone(),
            binding,
            credential_id: stored.credential_id,
            assertion,
        })
    }

    /// A presentation for a consumer (keybound's profile, docs/profile.md §2): the ID Token and a
    /// DPoP-syntax proof by the bound key over `htm`/`htu`, with `ath` = SHA-256 of this ID Token
    /// and the consumer's `nonce` when it issued one.
    ///
    /// # Errors
    /// `ERR_NO_SESSION`; `ERR_ID_TOKEN_UNBOUND` when the session's ID Token is not bound (there
    /// is nothing to prove); `ERR_KEY_NOT_FOUND`; `ERR_URL_INVALID`.
    pub async fn present(&self, htm: &str, htu: &str, nonce: Option<&str>) -> Result<(String, String)> {
        let htm = &http::normalize_method(htm)?;
        let (record, key) = self.session_and_key().await?;
        if !record.bound {
            return Err(Error::IdTokenUnbound { reason: "the session's ID Token is not bound to its key" }.into());
        }
        let proof = key.proof_at(&ProofParams { htm, htu, nonce, access_token: Some(&record.id_token), code: None }, self.now()).await?;
        *self.last_presentation_proof.borrow_mut() = Some(proof.clone());
        Ok((record.id_token, proof))
    }

    /// Presents the session to a consumer: sends `DPoP: <proof>` and the ID Token in a JSON body
    /// `{"id_token": …}` (merged into `body` when given) or in the header `id_token_header`,
    /// never as `Authorization: Bearer`. Retries once on a 401 `use_dpop_nonce` challenge.
    ///
    /// # Errors
    /// As [`Client::present`], plus `ERR_NETWORK`.
    pub async fn present_to(
        &self,
        method: &str,
        url: &str,
        body: Option<&str>,
        id_token_header: Option<&str>,
        deadline: &Deadline,
    ) -> Result<web_sys::Response> {
        if id_token_header.is_some_and(|h| h.eq_ignore_ascii_case("authorization") || h.eq_ignore_ascii_case("dpop")) {
            // KB §9.5: the ID Token is not an access token.
            return Err(Error::arg("idTokenHeader", "must not be Authorization or DPoP").into());
        }
        let method = &http::normalize_method(method)?;
        if id_token_header.is_none() && (method == "GET" || method == "HEAD") {
            return Err(Error::arg("method", "GET and HEAD have no body to carry the ID Token: name an idTokenHeader").into());
        }
        let mut nonce = self.nonce_for(url).await;
        let mut retried = false;
        loop {
            let (id_token, proof) = self.present(method, url, nonce.as_deref()).await?;
            let mut headers: Vec<(&str, String)> = vec![("dpop", proof)];
            let body = match id_token_header {
                Some(name) => {
                    headers.push((name, id_token));
                    body.map(str::to_owned)
                }
                None => {
                    let mut obj: serde_json::Map<String, serde_json::Value> = match body {
                        Some(b) => serde_json::from_str(b).map_err(|_| Error::arg("body", "must be a JSON object to carry id_token"))?,
                        None => serde_json::Map::new(),
                    };
                    obj.insert("id_token".into(), serde_json::Value::String(id_token));
                    headers.push(("content-type", "application/json".into()));
                    Some(serde_json::Value::Object(obj).to_string())
                }
            };
            let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let res = http::send_raw(method, url, &pairs, body.as_deref(), deadline).await?;
            let fresh = res.headers().get("dpop-nonce").filter(|n| oauth::valid_dpop_nonce(n).is_some());
            if let Some(n) = &fresh {
                self.remember_nonce(url, n).await;
            }
            let challenged = res.status() == 401
                && res.headers().get("www-authenticate").is_some_and(|w| crate::protocol::challenge::is_dpop_nonce_challenge(&w));
            if challenged && fresh.is_some() && !retried {
                retried = true;
                nonce = fresh;
                continue;
            }
            return Ok(res.into());
        }
    }

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
        let state = match (post_logout_redirect_uri, state) {
            (Some(_), None) => Some(random(16)?),
            (_, state) => state,
        };
        if state.as_deref().is_some_and(|s| s.is_empty() || s.len() > 200) {
            return Err(Error::arg("state", "must be 1 to 200 characters").into());
        }
        let end_session = |hint: Option<&str>| {
            self.meta
                .end_session_endpoint
                .as_deref()
                .map(|ep| oauth::end_session_url(ep, hint, &self.config.client_id, post_logout_redirect_uri, state.as_deref()))
                .transpose()
        };
        end_session(None)?;
        let name = format!("keybound refresh {}", self.session_id());
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
            let text = serde_json::to_string(&pending).map_err(|e| Error::json("pending logout", e))?;
            key_store::put_text(PENDING_STORE, &format!("{LOGOUT_PREFIX}{state}"), &text).await?;
        }
        Ok(LogoutOutcome { url, state, revoked: revoked.as_ref().map(Result::is_ok), revocation_error: revoked.and_then(Result::err) })
    }

    /// Revokes the session's refresh token, else its access token.
    async fn revoke(&self, endpoint: &str, record: &SessionRecord) -> Result<()> {
        let (token, hint) = match &record.refresh_token {
            Some(rt) => (rt.as_str(), "refresh_token"),
            None => (record.access_token.as_str(), "access_token"),
        };
        let client_id = &self.config.client_id;
        if record.token_type.eq_ignore_ascii_case("dpop") {
            let key = DpopKeyPair::load(&record.key_id).await?;
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
        let state = params.state.clone().filter(|s| !s.is_empty() && s.len() <= 200).ok_or(Error::StateMismatch)?;
        let text = key_store::get_text(PENDING_STORE, &format!("{LOGOUT_PREFIX}{state}"), true).await?.ok_or(Error::StateMismatch)?;
        let pending: PendingLogout =
            serde_json::from_str(&text).map_err(|_| Error::KeyRecordInvalid { reason: "unreadable pending logout" })?;
        if pending.issuer != self.config.issuer
            || pending.client_id != self.config.client_id
            || now_secs() - pending.created_at > PENDING_TTL
        {
            return Err(Error::StateMismatch.into());
        }
        Ok(oauth::check_logout_callback(&params, &state)?)
    }

    /// Forgets the session: deletes its key pair and its stored tokens. Returns whether there was
    /// one.
    ///
    /// # Errors
    /// `ERR_KEY_STORE*`.
    pub async fn forget(&self) -> Result<bool> {
        let result = match self.stored_session().await.ok().flatten() {
            None => key_store::delete_in(SESSION_STORE, &self.session_id()).await,
            Some(record) => {
                let _ = DpopKeyPair::delete(&record.key_id).await;
                key_store::delete_in(SESSION_STORE, &self.session_id()).await
            }
        };
        self.session_changed(None);
        result
    }
}
