//! The JavaScript API (first cut): DPoP key pairs, thumbprints, proofs, PKCE.

use wasm_bindgen::prelude::*;

use super::args::{get, opt_str, promise, string_arg};
use super::errors::{core_to_js, to_js};
use crate::browser::dpop_key::template_input;
use crate::browser::js::now_secs;
use crate::browser::{subtle, DpopKeyPair};
use crate::error::{Error, ErrorCode};
use crate::protocol::dpop::{ProofParams, ProofTemplate};
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

/// Property keys read on every proof, made once: reading them then costs no string transfer.
struct Keys {
    header: JsValue,
    key_pair: JsValue,
    private_key: JsValue,
    htm: JsValue,
    htu: JsValue,
    nonce: JsValue,
    access_token: JsValue,
    code: JsValue,
}

thread_local! {
    /// The last `DPoPKeyPair` object a proof was made with, and its parts. Key objects are
    /// frozen, so the same object always has the same parts: a proof with the same key reads
    /// nothing back from it.
    static LAST_KEY: std::cell::RefCell<Option<(JsValue, web_sys::CryptoKey, String)>> = const { std::cell::RefCell::new(None) };
    static KEYS: Keys = Keys {
        header: js_sys::Symbol::for_(HEADER_SYMBOL).into(),
        key_pair: "keyPair".into(),
        private_key: "privateKey".into(),
        htm: "htm".into(),
        htu: "htu".into(),
        nonce: "nonce".into(),
        access_token: "accessToken".into(),
        code: "code".into(),
    };
}

fn header_symbol() -> JsValue {
    KEYS.with(|k| k.header.clone())
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

/// `obj[key]` for a cached key, or `undefined`.
fn get_key(obj: &JsValue, key: &JsValue) -> JsValue {
    js_sys::Reflect::get(obj, key).unwrap_or(JsValue::UNDEFINED)
}

/// Reads the private key and cached header back from a `DPoPKeyPair` object.
fn key_parts(key: &JsValue, keys: &Keys) -> Result<(web_sys::CryptoKey, String), JsValue> {
    if !key.is_object() {
        return Err(bad_key());
    }
    let header = get_key(key, &keys.header).as_string().ok_or_else(bad_key)?;
    let private_key = get_key(&get_key(key, &keys.key_pair), &keys.private_key);
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
///
/// The claims are built synchronously and the promise returned is WebCrypto's `sign`, chained
/// once: no Rust future runs, so a proof costs little more than the signature.
#[wasm_bindgen(js_name = createDPoPProof, unchecked_return_type = "Promise<string>")]
pub fn create_dpop_proof(
    #[wasm_bindgen(unchecked_param_type = "DPoPKeyPair")] key: JsValue,
    #[wasm_bindgen(unchecked_param_type = "DPoPProofOptions")] options: JsValue,
) -> js_sys::Promise {
    match KEYS.with(|keys| start_proof(&key, &options, keys)) {
        Ok(promise) => promise,
        Err(err) => js_sys::Promise::reject(&err),
    }
}

/// The option values of the last proof and the template made from them. Callers usually make
/// many proofs for the same few requests: when a value is `===` to the last one, nothing is read
/// or recomputed (no string transfer, no URL normalization, no hashing).
struct LastOptions {
    values: [JsValue; 5],
    template: ProofTemplate,
}

thread_local! {
    static LAST_OPTIONS: std::cell::RefCell<Option<LastOptions>> = const { std::cell::RefCell::new(None) };
}

fn start_proof(key: &JsValue, options: &JsValue, keys: &Keys) -> Result<js_sys::Promise, JsValue> {
    let cached = LAST_KEY.with(|last| last.borrow().as_ref().filter(|(k, _, _)| k == key).map(|(_, pk, h)| (pk.clone(), h.clone())));
    let (private_key, header) = match cached {
        Some(parts) => parts,
        None => {
            let parts = key_parts(key, keys)?;
            LAST_KEY.with(|last| *last.borrow_mut() = Some((key.clone(), parts.0.clone(), parts.1.clone())));
            parts
        }
    };
    if !options.is_object() {
        return Err(core_to_js(Error::arg("options", "must be an object with htm and htu")));
    }
    let values = [&keys.htm, &keys.htu, &keys.nonce, &keys.access_token, &keys.code].map(|k| get_key(options, k));
    let input = LAST_OPTIONS.with(|last| -> Result<String, JsValue> {
        let mut last = last.borrow_mut();
        let template = match last.as_mut() {
            Some(l) if l.values == values => &l.template,
            _ => {
                let template = template_from(&values)?;
                &last.insert(LastOptions { values, template }).template
            }
        };
        template_input(&header, template, now_secs()).map_err(to_js)
    })?;
    subtle::sign_es256_jws(&private_key, input).map_err(to_js)
}

/// Checks the option values `[htm, htu, nonce, accessToken, code]` and prepares their template.
fn template_from(values: &[JsValue; 5]) -> Result<ProofTemplate, JsValue> {
    let opt = |v: &JsValue, name: &'static str| -> Result<Option<String>, JsValue> {
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        string_arg(v, name).map(Some)
    };
    let required = |v: Option<String>, name: &'static str| v.ok_or_else(|| core_to_js(Error::arg(name, "is required")));
    let htm = required(opt(&values[0], "htm")?, "htm")?;
    let htu = required(opt(&values[1], "htu")?, "htu")?;
    let nonce = opt(&values[2], "nonce")?;
    let access_token = opt(&values[3], "accessToken")?;
    let code = opt(&values[4], "code")?;
    ProofTemplate::new(&ProofParams {
        htm: &htm,
        htu: &htu,
        nonce: nonce.as_deref(),
        access_token: access_token.as_deref(),
        code: code.as_deref(),
    })
    .map_err(core_to_js)
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

