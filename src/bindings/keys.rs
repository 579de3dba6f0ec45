//! The JavaScript API of DPoP keys and proofs, and PKCE (the client entries).

use wasm_bindgen::prelude::*;

use super::args::{self, get, opt_str, promise, string_arg};
use super::errors::{core_to_js, to_js};
use crate::browser::dpop_key::template_input;
use crate::browser::js::now_secs;
use crate::browser::{subtle, DpopKeyPair};
use crate::error::Error;
use crate::protocol::dpop::{ProofParams, ProofTemplate};
use crate::protocol::htu::Htu;
use crate::protocol::jwk::{EcCurve, PublicJwk};
use crate::protocol::{b64, pkce};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
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

#[wasm_bindgen(inline_js = "export function dpopKeyObject(header, id, persisted, crv, parts, keyPair) {
  const [jkt, x, y, value] = parts.split('.');
  const key = { id: id ?? jkt, jkt, alg: 'ES256', persisted, publicJwk: Object.freeze({ crv, kty: 'EC', x, y }), keyPair };
  Object.defineProperty(key, header, { value });
  return Object.freeze(key);
}
export function exportThenFinish(generated, subtle, id, finish, generateFailed, exportFailed) {
  return generated.then((pair) => subtle.exportKey('raw', pair.publicKey).then((raw) => finish(id, pair, raw), exportFailed), generateFailed);
}")]
extern "C" {
    /// `generated.then(pair => subtle.exportKey("raw", pair.publicKey).then(raw => finish(id,
    /// pair, raw), exportFailed), generateFailed)`: the two WebCrypto steps of an in-memory key
    /// chained in JavaScript, so that Rust is entered once per key, at the end.
    #[wasm_bindgen(js_name = exportThenFinish)]
    fn export_then_finish(
        generated: &js_sys::Promise,
        subtle: &web_sys::SubtleCrypto,
        id: &JsValue,
        finish: &subtle::Callback,
        generate_failed: &subtle::Callback,
        export_failed: &subtle::Callback,
    ) -> js_sys::Promise;

    /// Builds the frozen `DPoPKeyPair` object in one call (object construction only: every
    /// value comes from Rust). `parts` is `jkt.x.y.header`, four base64url strings in one, so
    /// that one string crosses instead of four (each crossing is a `TextDecoder` call); `id` is
    /// `undefined` when it is the thumbprint.
    #[wasm_bindgen(js_name = dpopKeyObject)]
    fn dpop_key_object(header: &JsValue, id: &JsValue, persisted: bool, crv: &JsValue, parts: &str, key_pair: &JsValue) -> JsValue;
}

/// Builds the frozen JavaScript `DPoPKeyPair` object for a key: `id`, `jkt`, `alg`, `persisted`,
/// `publicJwk` (frozen, in RFC 7638 member order), `keyPair`, and the encoded proof header
/// under a registered symbol (not enumerable).
fn key_object(key: &DpopKeyPair) -> Result<JsValue, JsValue> {
    let PublicJwk::Ec { crv, x, y, .. } = key.public_jwk() else {
        return Err(core_to_js(Error::arg("key", "is not a P-256 key")));
    };
    let id = if key.id() == key.jkt() { JsValue::UNDEFINED } else { JsValue::from_str(key.id()) };
    let parts = [key.jkt(), x, y, key.header_encoded()].join(".");
    Ok(dpop_key_object(&header_symbol(), &id, key.persisted(), &args::key(crv.as_str()), &parts, key.key_pair()))
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
    let (id, persist) = match generate_options(options) {
        Ok(parsed) => parsed,
        Err(e) => return js_sys::Promise::reject(&e),
    };
    if !persist {
        // A key kept in memory only: WebCrypto's promises chained (generate, export the raw
        // point, build), no Rust future and no JSON round trip.
        return generate_in_memory(id);
    }
    promise(Box::pin(async move {
        let key = DpopKeyPair::generate(id, true).await.map_err(to_js)?;
        key_object(&key)
    }))
}

/// The options of `generateDPoPKeyPair`: `(id, persist)`.
fn generate_options(options: Option<JsValue>) -> Result<(Option<String>, bool), JsValue> {
    let Some(options) = options.filter(|o| !o.is_undefined() && !o.is_null()) else {
        return Ok((None, true));
    };
    if !options.is_object() {
        return Err(core_to_js(Error::arg("options", "must be an object")));
    }
    let persist = get(&options, "persist");
    let persist = if persist.is_undefined() {
        true
    } else {
        persist.as_bool().ok_or_else(|| core_to_js(Error::arg("persist", "must be a boolean")))?
    };
    Ok((opt_str(&options, "id")?, persist))
}

/// The callbacks of [`generate_in_memory`], made once.
struct KeygenSteps {
    /// `(id, pair, raw point)`: the frozen `DPoPKeyPair` object.
    finish: subtle::Callback,
    generate_failed: subtle::Callback,
    export_failed: subtle::Callback,
}

thread_local! {
    static KEYGEN: KeygenSteps = KeygenSteps {
        finish: subtle::persistent3(|id, pair, raw| {
            let jwk = PublicJwk::from_sec1_point(EcCurve::P256, &js_sys::Uint8Array::new(&raw).to_vec()).map_err(core_to_js)?;
            let key = DpopKeyPair::from_parts(id.as_string(), pair.unchecked_into(), jwk, false).map_err(to_js)?;
            key_object(&key)
        }),
        generate_failed: subtle::crypto_rejection("generateKey"),
        export_failed: subtle::crypto_rejection("exportKey"),
    };
}

/// Generates a key pair kept in memory only, as a promise of its `DPoPKeyPair` object.
fn generate_in_memory(id: Option<String>) -> js_sys::Promise {
    let started = subtle::subtle().and_then(|subtle| Ok((subtle::generate_p256_promise()?, subtle)));
    let (generated, subtle) = match started {
        Ok(s) => s,
        Err(e) => return js_sys::Promise::reject(&to_js(e)),
    };
    let id = id.map_or(JsValue::UNDEFINED, |id| JsValue::from_str(&id));
    KEYGEN.with(|k| export_then_finish(&generated, &subtle, &id, &k.finish, &k.generate_failed, &k.export_failed))
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
    ProofTemplate::check_htm(&htm).map_err(core_to_js)?;
    let htu = Htu::parse(&htu).map_err(core_to_js)?;
    ProofTemplate::new(&ProofParams {
        htm: &htm,
        htu: &htu,
        nonce: nonce.as_deref(),
        access_token: access_token.as_deref(),
        code: code.as_deref(),
    })
    .map_err(core_to_js)
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
