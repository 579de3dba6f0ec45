//! The consuming component in the browser, a Worker or Node (the wasm build): the protocol
//! core's [`verify_presentation`](crate::protocol::consumer::verify_presentation) with WebCrypto, JWKS fetched from the issuers' discovery (and
//! refetched once on an unknown `kid`, at most once a minute), a WebCrypto HMAC key for consumer
//! nonces, a replay store (in memory, or one the caller plugs in), evidence records and counters.

use std::cell::RefCell;
use std::collections::VecDeque;

use js_sys::{Function, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;

use super::http::Deadline;
use super::js::{crypto_error, describe, now_secs, object, Result};
use super::{http, subtle};
use crate::error::Error;
use crate::protocol::consumer::{
    self, Accepted, AcceptedIssuer, ConsumerPolicy, Counters, EvidenceRecord, MemoryReplayStore, NonceKey, Presentation, ReplayStore,
};
use crate::protocol::id_token::Jwks;
use crate::protocol::oauth::{self, HttpRequest};
use crate::protocol::session::jwks::JwksRefetchGate;

/// HMAC-SHA-256 through WebCrypto, for stateless consumer nonces.
#[derive(Debug, Clone)]
pub struct WebCryptoNonceKey {
    key: CryptoKey,
}

impl WebCryptoNonceKey {
    /// Imports a secret of at least 32 bytes (non-extractable).
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT`, `ERR_CRYPTO_*`.
    pub async fn import(secret: &[u8]) -> Result<Self> {
        if secret.len() < 32 {
            return Err(Error::arg("nonceSecret", "must be at least 32 bytes").into());
        }
        let params = object(&[("name", "HMAC".into()), ("hash", "SHA-256".into())]);
        let usages = js_sys::Array::of2(&"sign".into(), &"verify".into());
        let data = Uint8Array::from(secret);
        let p = subtle::subtle()?.import_key_with_object("raw", &data, &params, false, &usages).map_err(crypto_error("importKey"))?;
        let key = JsFuture::from(p).await.map_err(crypto_error("importKey"))?.unchecked_into();
        Ok(WebCryptoNonceKey { key })
    }
}

impl NonceKey for WebCryptoNonceKey {
    async fn tag(&self, data: &[u8]) -> crate::Result<Vec<u8>> {
        let p = subtle::subtle()
            .map_err(|e| e.error)?
            .sign_with_str_and_u8_array("HMAC", &self.key, data)
            .map_err(|e| crypto_error("sign")(e).error)?;
        let sig = JsFuture::from(p).await.map_err(|e| crypto_error("sign")(e).error)?;
        Ok(Uint8Array::new(&sig).to_vec())
    }

    async fn check(&self, data: &[u8], tag: &[u8]) -> crate::Result<bool> {
        let p = subtle::subtle()
            .map_err(|e| e.error)?
            .verify_with_str_and_u8_array_and_u8_array("HMAC", &self.key, tag, data)
            .map_err(|e| crypto_error("verify")(e).error)?;
        Ok(JsFuture::from(p).await.map_err(|e| crypto_error("verify")(e).error)?.as_bool() == Some(true))
    }
}

/// A replay store implemented in JavaScript: an object with
/// `checkAndStore(key, now, expiresAt) -> Promise<boolean>` (for example over Redis).
#[derive(Debug, Clone)]
pub struct JsReplayStore {
    target: JsValue,
    method: Function,
}

impl JsReplayStore {
    /// Wraps a JS object with a `checkAndStore` method.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` when there is no such method.
    pub fn new(target: JsValue) -> Result<Self> {
        let method = js_sys::Reflect::get(&target, &"checkAndStore".into())
            .ok()
            .and_then(|m| m.dyn_into::<Function>().ok())
            .ok_or(Error::arg("replayStore", "must have a checkAndStore(key, now, expiresAt) method"))?;
        Ok(JsReplayStore { target, method })
    }
}

impl ReplayStore for JsReplayStore {
    async fn check_and_store(&self, key: &str, now: i64, expires_at: i64) -> crate::Result<bool> {
        let unavailable = |e: JsValue| {
            let (name, message) = describe(&e);
            Error::ReplayStoreUnavailable { message: format!("{name}: {message}") }
        };
        let args = js_sys::Array::of3(&key.into(), &JsValue::from_f64(now as f64), &JsValue::from_f64(expires_at as f64));
        let result = self.method.apply(&self.target, &args).map_err(unavailable)?;
        let value = JsFuture::from(Promise::resolve(&result)).await.map_err(unavailable)?;
        value.as_bool().ok_or(Error::ReplayStoreUnavailable { message: "checkAndStore did not resolve to a boolean".into() })
    }
}

/// The replay store in use.
#[derive(Debug)]
pub enum Store {
    /// In memory (one instance).
    Memory(MemoryReplayStore),
    /// Plugged in from JavaScript (shared across instances).
    Js(JsReplayStore),
}

impl ReplayStore for Store {
    async fn check_and_store(&self, key: &str, now: i64, expires_at: i64) -> crate::Result<bool> {
        match self {
            Store::Memory(m) => m.check_and_store(key, now, expires_at).await,
            Store::Js(j) => j.check_and_store(key, now, expires_at).await,
        }
    }
}

/// An issuer as configured: its keys given, or fetched through its discovery document.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// Issuer identifier.
    pub issuer: String,
    /// Accepted client_ids.
    pub client_ids: Vec<String>,
    /// A JWKS given up front (otherwise fetched).
    pub jwks: Option<Jwks>,
}

#[derive(Debug)]
struct IssuerState {
    accepted: AcceptedIssuer,
    jwks_uri: Option<String>,
    /// When a key the set lacks is worth a refetch (per set, once a minute).
    refetch: JwksRefetchGate,
}

/// The WebAuthn side of passkey presentations.
#[derive(Debug, Clone)]
pub struct PasskeySettings {
    /// Accepted origins of the assertions.
    pub origins: Vec<String>,
    /// The RP ID.
    pub rp_id: String,
    /// Require user verification.
    pub require_user_verification: bool,
    /// Require a consumer nonce in the signed challenge (default true): a WebAuthn assertion has
    /// no timestamp, so without a nonce only the sign count (and the replay window) stops a
    /// presentation from being replayed later.
    pub require_nonce: bool,
}

/// How many evidence records are kept.
const RECORDS_KEPT: usize = 200;

/// A configured consumer.
#[derive(Debug)]
pub struct BrowserConsumer {
    id: String,
    issuers: RefCell<Vec<IssuerState>>,
    policy: ConsumerPolicy,
    nonce_key: Option<WebCryptoNonceKey>,
    store: Store,
    /// The deadline of its requests (discovery, JWKS).
    deadline: Deadline,
    records: RefCell<VecDeque<EvidenceRecord>>,
    counters: RefCell<Counters>,
    /// Passkey settings, when passkey presentations are accepted.
    pub passkey: Option<PasskeySettings>,
    /// The last sign count per passkey thumbprint.
    sign_counts: RefCell<std::collections::HashMap<String, u32>>,
}

async fn fetch_jwks(uri: &str, deadline: &Deadline) -> Result<Jwks> {
    let req = HttpRequest { method: "GET", url: uri.to_owned(), headers: vec![("accept", "application/json".into())], body: String::new() };
    let res = http::send(&req, deadline).await?;
    if res.status != 200 {
        return Err(Error::OAuthResponseInvalid { reason: "the JWKS endpoint did not answer 200", status: res.status }.into());
    }
    Ok(Jwks::from_json(&res.body)?)
}

impl BrowserConsumer {
    /// Sets up a consumer; issuers without a JWKS are discovered (their `issuer` must match).
    ///
    /// # Errors
    /// `ERR_NETWORK`, `ERR_DISCOVERY_*`, `ERR_INVALID_ARGUMENT`.
    pub async fn new(
        id: String,
        issuers: Vec<IssuerConfig>,
        policy: ConsumerPolicy,
        nonce_key: Option<WebCryptoNonceKey>,
        store: Store,
        deadline: Deadline,
    ) -> Result<Self> {
        let mut states = Vec::with_capacity(issuers.len());
        for i in issuers {
            let (jwks, jwks_uri) = match i.jwks {
                Some(j) => (j, None),
                None => {
                    let req = oauth::discovery_request(&i.issuer)?;
                    let meta = oauth::process_discovery_response(&http::send(&req, &deadline).await?, &i.issuer)?;
                    (fetch_jwks(&meta.jwks_uri, &deadline).await?, Some(meta.jwks_uri))
                }
            };
            states.push(IssuerState {
                accepted: AcceptedIssuer { issuer: i.issuer, jwks, client_ids: i.client_ids },
                jwks_uri,
                refetch: JwksRefetchGate::per_set(now_secs()),
            });
        }
        Ok(BrowserConsumer {
            policy: ConsumerPolicy { consumer_id: id.clone(), ..policy },
            id,
            issuers: RefCell::new(states),
            nonce_key,
            store,
            deadline,
            records: RefCell::new(VecDeque::new()),
            counters: RefCell::new(Counters::default()),
            passkey: None,
            sign_counts: RefCell::new(std::collections::HashMap::new()),
        })
    }

    /// A fresh consumer nonce for `scope` (send it in `DPoP-Nonce` with a 401
    /// `use_dpop_nonce`).
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` without a nonce key or for a request scope's method;
    /// `ERR_URL_INVALID`; `ERR_CRYPTO_*`.
    pub async fn issue_nonce(&self, scope: consumer::NonceScope<'_>) -> Result<String> {
        let key = self.nonce_key.as_ref().ok_or(Error::arg("nonceSecret", "this consumer issues no nonces"))?;
        Ok(consumer::issue_scoped_nonce(key, &self.id, scope, now_secs()).await?)
    }

    async fn verify_once(&self, presentation: &Presentation<'_>, now: i64) -> crate::Result<Accepted> {
        let accepted: Vec<AcceptedIssuer> = self.issuers.borrow().iter().map(|i| i.accepted.clone()).collect();
        let verifier = subtle::WebCryptoVerifier;
        consumer::verify_presentation(&accepted, &self.policy, presentation, now, self.nonce_key.as_ref(), &verifier, &self.store).await
    }

    /// Verifies a presentation and records the decision. Returns the result and its record.
    pub async fn verify(&self, presentation: &Presentation<'_>, action: &str) -> (crate::Result<Accepted>, EvidenceRecord) {
        let now = now_secs();
        let mut result = self.verify_once(presentation, now).await;
        if let Err(Error::JwksNoMatchingKey { .. }) = &result {
            // Key rotation: refetch the claimed issuer's JWKS once (at most once a minute).
            let iss = consumer::claimed(presentation).iss;
            let uri = self
                .issuers
                .borrow()
                .iter()
                .find(|i| Some(&i.accepted.issuer) == iss.as_ref() && i.refetch.allows(None, now))
                .and_then(|i| i.jwks_uri.clone());
            if let Some(uri) = uri {
                if let Ok(jwks) = fetch_jwks(&uri, &self.deadline).await {
                    if let Some(state) = self.issuers.borrow_mut().iter_mut().find(|i| Some(&i.accepted.issuer) == iss.as_ref()) {
                        state.accepted.jwks = jwks;
                        state.refetch.record(None, now);
                    }
                    result = self.verify_once(presentation, now).await;
                }
            }
        }
        let record = EvidenceRecord::new(&self.id, action, presentation, now, &result);
        self.keep(&record);
        (result, record)
    }

    /// Verifies a passkey presentation (docs/profile.md §4) and records the decision: the consumer nonce
    /// (required by default; one this consumer issued, still fresh), the ID Token, its nonce
    /// against the commitment, the assertion; then the assertion is single use (replay store,
    /// failing closed) and the sign count must grow.
    pub async fn verify_passkey(
        &self,
        presentation: &crate::protocol::consumer::PasskeyPresentation<'_>,
        action: &str,
    ) -> (crate::Result<crate::protocol::consumer::PasskeyAccepted>, EvidenceRecord) {
        let now = now_secs();
        let result = self.verify_passkey_once(presentation, now).await;
        let record = EvidenceRecord::passkey(&self.id, action, presentation, now, &result);
        self.keep(&record);
        (result, record)
    }

    async fn verify_passkey_once(
        &self,
        presentation: &crate::protocol::consumer::PasskeyPresentation<'_>,
        now: i64,
    ) -> crate::Result<crate::protocol::consumer::PasskeyAccepted> {
        let settings = self.passkey.as_ref().ok_or(Error::arg("passkey", "this consumer was created without passkey settings"))?;
        let origins: Vec<&str> = settings.origins.iter().map(String::as_str).collect();
        let jkt = presentation.public_jwk.thumbprint();
        let previous = self.sign_counts.borrow().get(&jkt).copied().unwrap_or(0);
        let check = crate::protocol::consumer::PasskeyCheck {
            origins: &origins,
            rp_id: &settings.rp_id,
            require_user_verification: settings.require_user_verification,
            previous_sign_count: previous,
        };
        let accepted: Vec<AcceptedIssuer> = self.issuers.borrow().iter().map(|i| i.accepted.clone()).collect();
        // The protocol core makes every check, as it does for a Rust consumer: with the
        // requirement on, the nonce must be one this consumer issued and still fresh (off, it is
        // only bound into the signed challenge); then the assertion; then single use within the
        // window, keyed on what was signed (fail closed).
        let mut policy = self.policy.clone();
        policy.require_nonce = settings.require_nonce;
        let nonces = if settings.require_nonce { self.nonce_key.as_ref() } else { None };
        let result = crate::protocol::consumer::verify_passkey_presentation(
            &accepted,
            &policy,
            presentation,
            &check,
            now,
            nonces,
            &subtle::WebCryptoVerifier,
            &self.store,
        )
        .await?;
        self.sign_counts.borrow_mut().insert(jkt, result.sign_count);
        Ok(result)
    }

    /// Counts a decision and keeps its record (the last [`RECORDS_KEPT`]).
    fn keep(&self, record: &EvidenceRecord) {
        self.counters.borrow_mut().count(record);
        let mut records = self.records.borrow_mut();
        if records.len() == RECORDS_KEPT {
            records.pop_front();
        }
        records.push_back(record.clone());
    }

    /// The most recent evidence records, oldest first.
    pub fn records(&self) -> Vec<EvidenceRecord> {
        self.records.borrow().iter().cloned().collect()
    }

    /// The counters.
    pub fn counters(&self) -> Counters {
        self.counters.borrow().clone()
    }
}
