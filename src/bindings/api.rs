//! The JavaScript API (first cut): DPoP key pairs, thumbprints, proofs, PKCE.

use wasm_bindgen::prelude::*;

use super::args::{get, opt_str, promise, req_str, string_arg};
use super::errors::{core_to_js, to_js};
use crate::browser::dpop_key::sign_proof;
use crate::browser::js::now_secs;
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

/**
 * A DPoP key pair: an ECDSA P-256 `CryptoKeyPair` whose private key is non-extractable, with its
 * public JWK and thumbprint computed once. A frozen plain object; pass it to `createDPoPProof`.
 */
export interface DPoPKeyPair {
  /** The IndexedDB id of the key (its thumbprint unless another id was given). */
  readonly id: string;
  /** The RFC 7638 SHA-256 thumbprint of the public key: the `dpop_jkt`. */
  readonly jkt: string;
  /** The JWS algorithm of its proofs. */
  readonly alg: "ES256";
  /** Whether the key pair is stored in IndexedDB. */
  readonly persisted: boolean;
  /** The public key as a JWK (only `kty`, `crv`, `x`, `y`). */
  readonly publicJwk: Readonly<JWK>;
  /** The WebCrypto key pair; `keyPair.privateKey.extractable` is `false`. */
  readonly keyPair: CryptoKeyPair;
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
    #[wasm_bindgen(typescript_type = "JWK")]
    pub type JsJwk;
    #[wasm_bindgen(typescript_type = "GenerateDPoPKeyPairOptions")]
    pub type GenerateOptions;
}

/// The property (a registered symbol, not enumerable) under which a `DPoPKeyPair` object keeps
/// its encoded proof header, computed once when the key was generated or loaded.
const HEADER_SYMBOL: &str = "keybound.dpopHeader";

fn header_symbol() -> JsValue {
    js_sys::Symbol::for_(HEADER_SYMBOL).into()
}

/// Builds the frozen JavaScript `DPoPKeyPair` object for a key.
fn key_object(key: &DpopKeyPair) -> Result<JsValue, JsValue> {
    let public_jwk = js_sys::JSON::parse(&key.public_jwk().canonical_json())?;
    js_sys::Object::freeze(public_jwk.unchecked_ref::<js_sys::Object>());
    let obj = js_sys::Object::new();
    for (name, value) in [
        ("id", JsValue::from_str(key.id())),
        ("jkt", JsValue::from_str(key.jkt())),
        ("alg", JsValue::from_str("ES256")),
        ("persisted", JsValue::from_bool(key.persisted())),
        ("publicJwk", public_jwk),
        ("keyPair", key.key_pair().into()),
    ] {
        js_sys::Reflect::set(&obj, &JsValue::from_str(name), &value)?;
    }
    let hidden = js_sys::Object::new();
    js_sys::Reflect::set(&hidden, &"value".into(), &JsValue::from_str(key.header_encoded()))?;
    js_sys::Object::define_property(&obj, &header_symbol(), &hidden);
    Ok(js_sys::Object::freeze(&obj).into())
}

fn bad_key() -> JsValue {
    core_to_js(Error::arg("key", "must be a DPoPKeyPair from generateDPoPKeyPair or loadDPoPKeyPair"))
}

/// Reads the private key and cached header back from a `DPoPKeyPair` object.
fn key_parts(key: &JsValue) -> Result<(web_sys::CryptoKey, String), JsValue> {
    if !key.is_object() {
        return Err(bad_key());
    }
    let header = js_sys::Reflect::get(key, &header_symbol()).ok().and_then(|h| h.as_string()).ok_or_else(bad_key)?;
    let private_key = get(&get(key, "keyPair"), "privateKey");
    let private_key = private_key.dyn_into::<web_sys::CryptoKey>().map_err(|_| bad_key())?;
    Ok((private_key, header))
}

/// Generates a DPoP key pair: ECDSA P-256 with a non-extractable private key, stored in
/// IndexedDB unless `persist: false`.
///
/// Rejects with `ERR_CRYPTO_UNAVAILABLE` outside a secure context, `ERR_KEY_STORE_UNAVAILABLE`
/// without IndexedDB, `ERR_KEY_EXISTS` when the id is taken (a stored key is never replaced),
/// `ERR_KEY_STORE` when storing fails.
#[wasm_bindgen(js_name = generateDPoPKeyPair, unchecked_return_type = "Promise<DPoPKeyPair>")]
pub fn generate_dpop_key_pair(options: Option<GenerateOptions>) -> js_sys::Promise {
    // An extern type (no JS-side type check) keeps the parameter optional in the .d.ts; the
    // value is checked here.
    let options: Option<JsValue> = options.map(Into::into);
    promise(Box::pin(async move {
        let (id, persist) = if let Some(options) = options.filter(|o| !o.is_undefined() && !o.is_null()) {
            if !options.is_object() {
                return Err(core_to_js(Error::arg("options", "must be an object")));
            }
            let persist = get(&options, "persist");
            let persist = if persist.is_undefined() {
                true
            } else {
                persist.as_bool().ok_or_else(|| core_to_js(Error::arg("persist", "must be a boolean")))?
            };
            (opt_str(&options, "id")?, persist)
        } else {
            (None, true)
        };
        let key = DpopKeyPair::generate(id, persist).await.map_err(to_js)?;
        key_object(&key)
    }))
}

/// Loads the DPoP key pair stored in IndexedDB under `id`.
///
/// Rejects with `ERR_KEY_NOT_FOUND` when there is none, `ERR_KEY_RECORD_INVALID` for a record
/// keybound cannot read.
#[wasm_bindgen(js_name = loadDPoPKeyPair, unchecked_return_type = "Promise<DPoPKeyPair>")]
pub fn load_dpop_key_pair(#[wasm_bindgen(unchecked_param_type = "string")] id: JsValue) -> js_sys::Promise {
    promise(Box::pin(async move {
        let id = string_arg(&id, "id")?;
        let key = DpopKeyPair::load(&id).await.map_err(to_js)?;
        key_object(&key)
    }))
}

/// Deletes the DPoP key pair stored under `id`. Resolves to whether one existed.
#[wasm_bindgen(js_name = deleteDPoPKeyPair, unchecked_return_type = "Promise<boolean>")]
pub fn delete_dpop_key_pair(#[wasm_bindgen(unchecked_param_type = "string")] id: JsValue) -> js_sys::Promise {
    promise(Box::pin(async move {
        let id = string_arg(&id, "id")?;
        let existed = DpopKeyPair::delete(&id).await.map_err(to_js)?;
        Ok(existed.into())
    }))
}

/// Creates a DPoP proof (RFC 9449 §4.2) signed by `key`: `typ` `dpop+jwt`, the public `jwk`, a
/// fresh `jti`, `htm`, normalized `htu`, integer `iat`, and `nonce`, `ath`, `c_s256` when asked.
/// Every failure, including a wrong `key`, is a rejection with a code.
#[wasm_bindgen(js_name = createDPoPProof, unchecked_return_type = "Promise<string>")]
pub fn create_dpop_proof(
    #[wasm_bindgen(unchecked_param_type = "DPoPKeyPair")] key: JsValue,
    #[wasm_bindgen(unchecked_param_type = "DPoPProofOptions")] options: JsValue,
) -> js_sys::Promise {
    promise(Box::pin(async move {
        let (private_key, header) = key_parts(&key)?;
        if !options.is_object() {
            return Err(core_to_js(Error::arg("options", "must be an object with htm and htu")));
        }
        let htm = req_str(&options, "htm")?;
        let htu = req_str(&options, "htu")?;
        let nonce = opt_str(&options, "nonce")?;
        let access_token = opt_str(&options, "accessToken")?;
        let code = opt_str(&options, "code")?;
        let params = ProofParams {
            htm: &htm,
            htu: &htu,
            nonce: nonce.as_deref(),
            access_token: access_token.as_deref(),
            code: code.as_deref(),
        };
        let proof = sign_proof(&private_key, &header, &params, now_secs()).await.map_err(to_js)?;
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
pub fn calculate_pkce_code_challenge(#[wasm_bindgen(unchecked_param_type = "string")] verifier: JsValue) -> Result<String, JsValue> {
    pkce::code_challenge(&string_arg(&verifier, "verifier")?).map_err(core_to_js)
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
