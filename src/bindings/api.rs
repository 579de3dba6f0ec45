//! The JavaScript API (first cut): DPoP key pairs, thumbprints, proofs, PKCE.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::errors::{core_to_js, to_js};
use crate::browser::{subtle, DpopKeyPair};
use crate::error::{Error, ErrorCode};
use crate::protocol::dpop::ProofParams;
use crate::protocol::jwk::PublicJwk;
use crate::protocol::{b64, pkce};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A public JSON Web Key (RFC 7517). keybound refuses JWKs with private members. */
export interface JWK {
  kty: "EC" | "RSA" | "OKP" | string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  kid?: string;
  alg?: string;
  use?: string;
  [member: string]: unknown;
}

export interface GenerateDPoPKeyPairOptions {
  /** IndexedDB id to store the key under. Default is the key's RFC 7638 thumbprint. */
  id?: string;
  /** Store the key pair in IndexedDB so `loadDPoPKeyPair(id)` finds it after a reload. Default is `true`. */
  persist?: boolean;
}

export interface DPoPProofOptions {
  /** HTTP method of the request, for example `"POST"`. */
  htm: string;
  /** Request URI; query and fragment are removed and the URI is normalized (RFC 9449 §4.2). */
  htu: string;
  /** The latest `DPoP-Nonce` the server sent. */
  nonce?: string;
  /** An access token sent with the request; adds `ath`. */
  accessToken?: string;
  /** The authorization `code` or `device_code` being exchanged; adds `c_s256` (Key Binding). */
  code?: string;
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "GenerateDPoPKeyPairOptions")]
    pub type GenerateOptions;
    #[wasm_bindgen(typescript_type = "DPoPProofOptions")]
    pub type ProofOptions;
    #[wasm_bindgen(typescript_type = "JWK")]
    pub type JsJwk;
}

type JsFuture = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// Turns a future into a Promise. Every export goes through this one non-generic function, so
/// the promise machinery is instantiated once in the wasm instead of once per export.
fn promise(fut: JsFuture) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(fut)
}

fn get(obj: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// An optional string member: absent/undefined → None, a string → Some, anything else → error.
fn opt_string(obj: &JsValue, name: &'static str) -> Result<Option<String>, JsValue> {
    let v = get(obj, name);
    if v.is_undefined() {
        return Ok(None);
    }
    v.as_string().map(Some).ok_or_else(|| core_to_js(Error::arg(name, "must be a string")))
}

fn req_string(obj: &JsValue, name: &'static str) -> Result<String, JsValue> {
    opt_string(obj, name)?.ok_or_else(|| core_to_js(Error::arg(name, "is required")))
}

/// A DPoP key pair: an ECDSA P-256 `CryptoKeyPair` whose private key is non-extractable, with
/// its public JWK and thumbprint computed once. Free it with `.free()` when done (or let the
/// garbage collector do it).
#[wasm_bindgen(js_name = DPoPKeyPair)]
pub struct JsDpopKeyPair {
    inner: Rc<DpopKeyPair>,
}

#[wasm_bindgen(js_class = DPoPKeyPair)]
impl JsDpopKeyPair {
    /// The IndexedDB id of the key (the thumbprint unless another id was given).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_owned()
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key: the `dpop_jkt`.
    #[wasm_bindgen(getter)]
    pub fn jkt(&self) -> String {
        self.inner.jkt().to_owned()
    }

    /// The JWS algorithm of proofs made with this key: always `"ES256"`.
    #[wasm_bindgen(getter)]
    pub fn alg(&self) -> String {
        "ES256".to_owned()
    }

    /// Whether the key pair is stored in IndexedDB.
    #[wasm_bindgen(getter)]
    pub fn persisted(&self) -> bool {
        self.inner.persisted()
    }

    /// The public key as a JWK (only `kty`, `crv`, `x`, `y`).
    #[wasm_bindgen(getter, js_name = publicJwk)]
    pub fn public_jwk(&self) -> Result<JsJwk, JsValue> {
        let json = self.inner.public_jwk().canonical_json();
        Ok(js_sys::JSON::parse(&json)?.unchecked_into())
    }

    /// The underlying WebCrypto `CryptoKeyPair`. Its `privateKey.extractable` is `false`.
    #[wasm_bindgen(getter, js_name = keyPair)]
    pub fn key_pair(&self) -> web_sys::CryptoKeyPair {
        self.inner.key_pair().clone()
    }
}

/// Generates a DPoP key pair: ECDSA P-256 with a non-extractable private key, stored in
/// IndexedDB unless `persist: false`.
///
/// Rejects with `ERR_CRYPTO_UNAVAILABLE` outside a secure context, `ERR_KEY_STORE_UNAVAILABLE`
/// without IndexedDB, `ERR_KEY_STORE` when storing fails.
#[wasm_bindgen(js_name = generateDPoPKeyPair, unchecked_return_type = "Promise<DPoPKeyPair>")]
pub fn generate_dpop_key_pair(options: Option<GenerateOptions>) -> js_sys::Promise {
    let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
    promise(Box::pin(async move {
        let (id, persist) = if options.is_undefined() || options.is_null() {
            (None, true)
        } else {
            let persist = get(&options, "persist");
            let persist = if persist.is_undefined() {
                true
            } else {
                persist.as_bool().ok_or_else(|| core_to_js(Error::arg("persist", "must be a boolean")))?
            };
            (opt_string(&options, "id")?, persist)
        };
        let key = DpopKeyPair::generate(id, persist).await.map_err(to_js)?;
        Ok(JsDpopKeyPair { inner: Rc::new(key) }.into())
    }))
}

/// Loads the DPoP key pair stored in IndexedDB under `id`.
///
/// Rejects with `ERR_KEY_NOT_FOUND` when there is none, `ERR_KEY_RECORD_INVALID` for a record
/// keybound cannot read.
#[wasm_bindgen(js_name = loadDPoPKeyPair, unchecked_return_type = "Promise<DPoPKeyPair>")]
pub fn load_dpop_key_pair(id: String) -> js_sys::Promise {
    promise(Box::pin(async move {
        let key = DpopKeyPair::load(&id).await.map_err(to_js)?;
        Ok(JsDpopKeyPair { inner: Rc::new(key) }.into())
    }))
}

/// Deletes the DPoP key pair stored under `id`. Resolves to whether one existed.
#[wasm_bindgen(js_name = deleteDPoPKeyPair, unchecked_return_type = "Promise<boolean>")]
pub fn delete_dpop_key_pair(id: String) -> js_sys::Promise {
    promise(Box::pin(async move {
        let existed = DpopKeyPair::delete(&id).await.map_err(to_js)?;
        Ok(existed.into())
    }))
}

/// Creates a DPoP proof (RFC 9449 §4.2) signed by `key`: `typ` `dpop+jwt`, the public `jwk`, a
/// fresh `jti`, `htm`, normalized `htu`, integer `iat`, and `nonce`, `ath`, `c_s256` when asked.
#[wasm_bindgen(js_name = createDPoPProof, unchecked_return_type = "Promise<string>")]
pub fn create_dpop_proof(key: &JsDpopKeyPair, options: ProofOptions) -> js_sys::Promise {
    let key = Rc::clone(&key.inner);
    let options: JsValue = options.into();
    promise(Box::pin(async move {
        if !options.is_object() {
            return Err(core_to_js(Error::arg("options", "must be an object with htm and htu")));
        }
        let htm = req_string(&options, "htm")?;
        let htu = req_string(&options, "htu")?;
        let nonce = opt_string(&options, "nonce")?;
        let access_token = opt_string(&options, "accessToken")?;
        let code = opt_string(&options, "code")?;
        let params = ProofParams {
            htm: &htm,
            htu: &htu,
            nonce: nonce.as_deref(),
            access_token: access_token.as_deref(),
            code: code.as_deref(),
        };
        let proof = key.proof(&params).await.map_err(to_js)?;
        Ok(proof.into())
    }))
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK, base64url (43 characters).
///
/// Throws `ERR_JWK_PRIVATE_KEY` for a JWK with private members, `ERR_JWK_UNSUPPORTED`,
/// `ERR_JWK_INVALID`.
#[wasm_bindgen(js_name = calculateJwkThumbprint)]
pub fn calculate_jwk_thumbprint(jwk: JsJwk) -> Result<String, JsValue> {
    let value: JsValue = jwk.into();
    if !value.is_object() {
        return Err(core_to_js(Error::arg("jwk", "must be a JWK object")));
    }
    let json = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| core_to_js(Error::arg("jwk", "must be JSON-serializable")))?;
    PublicJwk::from_json(&json).map(|k| k.thumbprint()).map_err(core_to_js)
}

/// The PKCE S256 `code_challenge` for a code verifier (RFC 7636 §4.2).
#[wasm_bindgen(js_name = calculatePKCECodeChallenge)]
pub fn calculate_pkce_code_challenge(verifier: String) -> Result<String, JsValue> {
    pkce::code_challenge(&verifier).map_err(core_to_js)
}

/// A fresh PKCE code verifier: 32 random bytes, base64url (43 characters).
#[wasm_bindgen(js_name = generateRandomCodeVerifier)]
pub fn generate_random_code_verifier() -> Result<String, JsValue> {
    let mut bytes = [0u8; 32];
    subtle::fill_random(&mut bytes).map_err(to_js)?;
    Ok(b64::encode(bytes))
}

/// Every error code keybound can produce (the same list as the `ErrorCode` type).
#[wasm_bindgen(js_name = errorCodes, unchecked_return_type = "ErrorCode[]")]
pub fn error_codes() -> js_sys::Array {
    ErrorCode::ALL.iter().map(|c| JsValue::from_str(c.as_str())).collect()
}
