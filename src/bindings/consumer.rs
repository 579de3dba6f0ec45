//! The `KeyBoundConsumer` class: verifies presentations in a browser, a Worker or Node.

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::args::{get, member, object_arg, opt_bool, opt_seconds, opt_str, promise, req_str, DAY};
use super::errors::{core_to_js, to_js};
use crate::browser::consumer::{BrowserConsumer, IssuerConfig, JsReplayStore, PasskeySettings, Store, WebCryptoNonceKey};
use crate::browser::subtle;
use crate::error::{Error, ErrorCode};
use crate::protocol::b64;
use crate::protocol::consumer::{ConsumerPolicy, EvidenceRecord, MemoryReplayStore, NonceScope, Presentation};
use crate::protocol::id_token::Jwks;
use crate::protocol::jwa::Alg;

#[wasm_bindgen(typescript_custom_section)]
const TS_CONSUMER: &'static str = r#"
export interface KeyBoundConsumerIssuer {
  /** The issuer identifier, compared exactly. */
  issuer: string;
  /** The client_ids of the applications this consumer serves (KB §9.4). An empty list accepts nothing. */
  clientIds: string[];
  /** The issuer's JWKS; when absent it is fetched through discovery (and refetched on an unknown kid). */
  jwks?: { keys: unknown[] };
}

export interface KeyBoundConsumerOptions {
  /** Names this consumer in evidence records. */
  consumerId: string;
  issuers: KeyBoundConsumerIssuer[];
  /** Require a consumer nonce in every proof (stops pre-generated proofs). Default false. */
  requireNonce?: boolean;
  /** Milliseconds before a discovery or JWKS request is aborted with `ERR_TIMEOUT`. Default 30000. */
  timeout?: number;
  /** Base64url secret (≥ 32 bytes) for stateless nonces, shared by all instances. Default: a random one. */
  nonceSecret?: string;
  /** ID Token algorithms accepted. Default `["RS256", "PS256", "ES256"]`. */
  algorithms?: string[];
  /** Accept draft-00 `typ: id_token+cnf`. Default false. */
  legacyTyp?: boolean;
  /** Clock skew in seconds. Default 60. */
  clockTolerance?: number;
  /** How old a proof may be, in seconds. Default 60. */
  proofMaxAge?: number;
  /** Accept passkey presentations (`verifyPasskey`): the origins and RP ID the assertions must name. */
  passkey?: {
    origins: string[];
    rpId: string;
    /** Default true. */
    requireUserVerification?: boolean;
    /**
     * Require a nonce from `issueNonce()` in the signed challenge. Default true: an assertion has
     * no timestamp, so without a nonce only the sign count stops a later replay.
     */
    requireNonce?: boolean;
  };
  /** A shared replay store; default in memory. */
  replayStore?: { checkAndStore(key: string, now: number, expiresAt: number): Promise<boolean> };
}

export interface KeyBoundPresentation {
  /** The ID Token from the body (or the header you named). */
  idToken: string;
  /** The `DPoP` header. */
  dpop: string;
  /** The request method. */
  method: string;
  /** The request URL as the client addressed it (the externally visible one). */
  url: string;
  /** A label for the evidence record (what the caller wants to do). */
  action?: string;
}

export interface KeyBoundAccepted {
  /** The verified ID Token payload. */
  claims: { iss: string; sub: string; aud: string | string[]; [claim: string]: unknown };
  /** Thumbprint of `cnf.jwk`: the key the presenter proved it holds. */
  cnfJkt: string;
  evidence: KeyBoundEvidence;
}
"#;

fn evidence(record: &EvidenceRecord) -> JsValue {
    js_sys::JSON::parse(&record.to_json()).unwrap_or(JsValue::NULL)
}

/// Verifies presentations (keybound's profile): a key-bound ID Token plus a fresh DPoP-syntax
/// proof by its `cnf` key over this request, with `ath` over the ID Token.
#[wasm_bindgen(js_name = KeyBoundConsumer)]
pub struct JsConsumer {
    inner: Rc<BrowserConsumer>,
}

#[wasm_bindgen(js_class = KeyBoundConsumer)]
impl JsConsumer {
    /// Creates a consumer. Issuers without `jwks` are discovered.
    #[wasm_bindgen(unchecked_return_type = "Promise<KeyBoundConsumer>")]
    pub fn create(#[wasm_bindgen(unchecked_param_type = "KeyBoundConsumerOptions")] options: JsValue) -> js_sys::Promise {
        promise(Box::pin(async move {
            object_arg(&options, "options")?;
            let id =
                member::<Option<String>>(&options, "consumerId")?.ok_or_else(|| core_to_js(Error::arg("consumerId", "is required")))?;
            let list = get(&options, "issuers");
            if !js_sys::Array::is_array(&list) {
                return Err(core_to_js(Error::arg("issuers", "must be an array")));
            }
            let mut issuers = Vec::new();
            for entry in js_sys::Array::from(&list).iter() {
                object_arg(&entry, "issuers")?;
                let client_ids = member::<Option<Vec<String>>>(&entry, "clientIds")?
                    .ok_or_else(|| core_to_js(Error::arg("clientIds", "must be an array of strings")))?;
                let jwks = match get(&entry, "jwks") {
                    v if v.is_undefined() || v.is_null() => None,
                    v => {
                        let text = js_sys::JSON::stringify(&v)?.as_string().unwrap_or_default();
                        Some(Jwks::from_json(&text).map_err(core_to_js)?)
                    }
                };
                issuers.push(IssuerConfig { issuer: req_str(&entry, "issuer")?, client_ids, jwks });
            }
            let id_token_algs = match member::<Option<Vec<String>>>(&options, "algorithms")? {
                None => ConsumerPolicy::default().id_token_algs,
                Some(names) => names.iter().map(|a| Alg::from_name(a)).collect::<Result<Vec<_>, _>>().map_err(core_to_js)?,
            };
            let policy = ConsumerPolicy {
                id_token_algs,
                require_nonce: opt_bool(&options, "requireNonce", false)?,
                legacy_typ: opt_bool(&options, "legacyTyp", false)?,
                clock_skew: opt_seconds(&options, "clockTolerance", 60, 0, DAY)?,
                proof_max_age: opt_seconds(&options, "proofMaxAge", 60, 1, DAY)?,
                ..ConsumerPolicy::default()
            };
            let secret = match opt_str(&options, "nonceSecret")? {
                Some(s) => b64::decode(&s, "nonceSecret").map_err(core_to_js)?,
                None => {
                    let mut r = vec![0u8; 32];
                    subtle::fill_random(&mut r).map_err(to_js)?;
                    r
                }
            };
            let nonce_key = Some(WebCryptoNonceKey::import(&secret).await.map_err(to_js)?);
            let deadline = crate::browser::http::Deadline {
                timeout_ms: super::args::timeout_option(&options)?.unwrap_or(crate::browser::http::DEFAULT_TIMEOUT_MS),
                signal: None,
            };
            let store = match get(&options, "replayStore") {
                v if v.is_undefined() || v.is_null() => Store::Memory(MemoryReplayStore::new()),
                v => Store::Js(JsReplayStore::new(v).map_err(to_js)?),
            };
            // Every option is checked before anything goes on the network.
            let pk = get(&options, "passkey");
            let passkey = if pk.is_object() {
                Some(PasskeySettings {
                    origins: member::<Option<Vec<String>>>(&pk, "origins")?
                        .ok_or_else(|| core_to_js(Error::arg("origins", "must be an array of origins")))?,
                    rp_id: req_str(&pk, "rpId")?,
                    require_user_verification: opt_bool(&pk, "requireUserVerification", true)?,
                    require_nonce: opt_bool(&pk, "requireNonce", true)?,
                })
            } else {
                None
            };
            let mut consumer = BrowserConsumer::new(id, issuers, policy, nonce_key, store, deadline).await.map_err(to_js)?;
            consumer.passkey = passkey;
            Ok(JsConsumer { inner: Rc::new(consumer) }.into())
        }))
    }

    /// Verifies a presentation. Resolves to the verified facts; rejects with a coded `Error`
    /// whose `evidence` is the record of the refusal. For `ERR_DPOP_NONCE_REQUIRED` and
    /// `ERR_DPOP_NONCE_MISMATCH` the error carries a fresh `dpopNonce`: answer 401 with
    /// `WWW-Authenticate: DPoP error="use_dpop_nonce"` and `DPoP-Nonce: <dpopNonce>`.
    #[wasm_bindgen(unchecked_return_type = "Promise<KeyBoundAccepted>")]
    pub fn verify(&self, #[wasm_bindgen(unchecked_param_type = "KeyBoundPresentation")] presentation: JsValue) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            object_arg(&presentation, "presentation")?;
            let (id_token, proof) = (req_str(&presentation, "idToken")?, req_str(&presentation, "dpop")?);
            let (method, url) = (req_str(&presentation, "method")?, req_str(&presentation, "url")?);
            let action = opt_str(&presentation, "action")?.unwrap_or_default();
            let p = Presentation { id_token: &id_token, proof: &proof, htm: &method.to_ascii_uppercase(), htu: &url };
            let (result, record) = inner.verify(&p, &action).await;
            match result {
                Ok(a) => {
                    let obj = js_sys::Object::new();
                    js_sys::Reflect::set(&obj, &"claims".into(), &js_sys::JSON::parse(&a.claims_json)?)?;
                    js_sys::Reflect::set(&obj, &"cnfJkt".into(), &a.cnf_jkt.into())?;
                    js_sys::Reflect::set(&obj, &"evidence".into(), &evidence(&record))?;
                    Ok(obj.into())
                }
                Err(e) => {
                    let nonce_error =
                        matches!(e.code(), ErrorCode::DpopNonceRequired | ErrorCode::DpopNonceMismatch | ErrorCode::DpopProofMissing);
                    let err = core_to_js(e);
                    js_sys::Reflect::set(&err, &"evidence".into(), &evidence(&record))?;
                    if nonce_error {
                        if let Ok(n) = inner.issue_nonce(NonceScope::Consumer).await {
                            js_sys::Reflect::set(&err, &"dpopNonce".into(), &n.into())?;
                        }
                    }
                    Err(err)
                }
            }
        }))
    }

    /// Verifies a passkey presentation (from `client.signWithPasskey`): the ID Token as a consumer
    /// must, its `nonce` against the commitment to this passkey (mode and salt), then the WebAuthn
    /// assertion (type, challenge over the ID Token, the message, the nonce and this request's
    /// `method` and `url`, origin, rpId, user presence and verification, signature, sign count),
    /// with the consumer nonce required by default and the assertion single use. `method` and
    /// `url` are the consumer's own request, as for `verify`. Resolves to `{claims, passkeyJkt,
    /// signCount, evidence}`; refusals carry `evidence` too.
    #[wasm_bindgen(js_name = verifyPasskey, unchecked_return_type = "Promise<{ claims: Record<string, unknown>; passkeyJkt: string; signCount: number; evidence: KeyBoundEvidence }>")]
    pub fn verify_passkey(
        &self,
        #[wasm_bindgen(unchecked_param_type = "KeyBoundPasskeyPresentation & { method: string; url: string; action?: string }")] p: JsValue,
    ) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            object_arg(&p, "presentation")?;
            let id_token = req_str(&p, "idToken")?;
            let jwk_text = js_sys::JSON::stringify(&get(&p, "publicJwk"))?.as_string().unwrap_or_default();
            let jwk = crate::protocol::jwk::PublicJwk::from_json(&jwk_text).map_err(core_to_js)?;
            let mode = match req_str(&p, "mode")?.as_str() {
                "salted" => crate::protocol::passkey::NonceMode::Salted,
                "plain" => crate::protocol::passkey::NonceMode::Plain,
                _ => return Err(core_to_js(Error::arg("mode", "must be \"salted\" or \"plain\""))),
            };
            let decode = |name: &'static str| -> Result<Vec<u8>, JsValue> { b64::decode(&req_str(&p, name)?, name).map_err(core_to_js) };
            let salt = match opt_str(&p, "salt")? {
                Some(s) => Some(b64::decode(&s, "salt").map_err(core_to_js)?),
                None => None,
            };
            let (message, data, cdj, sig) =
                (decode("message")?, decode("authenticatorData")?, decode("clientDataJSON")?, decode("signature")?);
            let nonce = opt_str(&p, "nonce")?;
            let (method, url) = (req_str(&p, "method")?, req_str(&p, "url")?);
            let presentation = crate::protocol::consumer::PasskeyPresentation {
                id_token: &id_token,
                public_jwk: &jwk,
                mode,
                salt: salt.as_deref(),
                message: &message,
                consumer_nonce: nonce.as_deref(),
                htm: &method,
                htu: &url,
                assertion: crate::protocol::passkey::Assertion { authenticator_data: &data, client_data_json: &cdj, signature: &sig },
            };
            let action = opt_str(&p, "action")?.unwrap_or_default();
            let (result, record) = inner.verify_passkey(&presentation, &action).await;
            let a = match result {
                Ok(a) => a,
                Err(e) => {
                    let err = core_to_js(e);
                    js_sys::Reflect::set(&err, &"evidence".into(), &evidence(&record))?;
                    return Err(err);
                }
            };
            let obj = js_sys::Object::new();
            js_sys::Reflect::set(&obj, &"evidence".into(), &evidence(&record))?;
            js_sys::Reflect::set(&obj, &"claims".into(), &js_sys::JSON::parse(&a.claims_json)?)?;
            js_sys::Reflect::set(&obj, &"passkeyJkt".into(), &a.passkey_jkt.into())?;
            js_sys::Reflect::set(&obj, &"signCount".into(), &JsValue::from_f64(f64::from(a.sign_count)))?;
            Ok(obj.into())
        }))
    }

    /// A fresh consumer nonce (time-bounded, stateless), good for any request to this consumer,
    /// or, with `method` and `url`, for that request only (another method or URL is
    /// `ERR_DPOP_NONCE_MISMATCH`).
    #[wasm_bindgen(js_name = issueNonce, unchecked_return_type = "Promise<string>")]
    pub fn issue_nonce(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ method: string; url: string } | undefined")] request: JsValue,
    ) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let scoped = if request.is_undefined() {
                None
            } else {
                object_arg(&request, "request")?;
                Some((req_str(&request, "method")?, req_str(&request, "url")?))
            };
            let scope = match &scoped {
                Some((htm, htu)) => NonceScope::Request { htm, htu },
                None => NonceScope::Consumer,
            };
            Ok(inner.issue_nonce(scope).await.map_err(to_js)?.into())
        }))
    }

    /// The most recent evidence records (up to 200), oldest first.
    #[wasm_bindgen(unchecked_return_type = "KeyBoundEvidence[]")]
    pub fn records(&self) -> js_sys::Array {
        self.inner.records().iter().map(evidence).collect()
    }

    /// Counts of accepted and refused presentations, replays and key mismatches (per key too).
    #[wasm_bindgen(
        unchecked_return_type = "{ accepted: number; refused: number; replays: number; key_mismatches: number; nonce_challenges: number; refusals_by_key: Record<string, number> }"
    )]
    pub fn counters(&self) -> JsValue {
        let text = serde_json::to_string(&self.inner.counters()).unwrap_or_default();
        js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL)
    }
}
