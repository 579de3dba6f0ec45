//! WebCrypto: key generation (private key non-extractable), public JWK export, ES256 signing,
//! and (in `browser::verify`, re-exported here) a `Verifier` for every algorithm keybound verifies.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Crypto, CryptoKey, CryptoKeyPair, SubtleCrypto};

use super::js::{crypto_error, global_prop, object, BrowserError, Result};
pub use super::verify::{start_verify, WebCryptoVerifier};
use crate::error::Error;
use crate::protocol::jwk::PublicJwk;

/// The WebCrypto objects every operation needs, looked up once per global scope: a proof then
/// costs no property lookups on `globalThis` and no parameter object allocation.
pub(crate) struct Handles {
    crypto: Crypto,
    pub(crate) subtle: SubtleCrypto,
    /// `{ name: "ECDSA", hash: "SHA-256" }`, the ES256 sign and verify parameters.
    es256: js_sys::Object,
    /// Turns `crypto.subtle.sign`'s outcome into the compact JWS or a coded error (see
    /// [`sign_es256_jws`]).
    settle_jws: Callback,
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// A promise, seen only to call `then` with plain functions.
    #[wasm_bindgen(js_name = Promise)]
    pub(crate) type Thenable;
    /// `promise.then(onFulfilled, onRejected)`.
    #[wasm_bindgen(method, js_name = then)]
    pub(crate) fn then_fns(this: &Thenable, ok: &Callback, err: &Callback) -> js_sys::Promise;
    /// A function, seen only to call `bind` and to pass it to `then`.
    #[wasm_bindgen(js_name = Function)]
    pub(crate) type Callback;
    /// `f.bind(thisArg, arg)`.
    #[wasm_bindgen(method, js_name = bind)]
    pub(crate) fn bind_arg(this: &Callback, this_arg: &JsValue, arg: &JsValue) -> Callback;
    /// `f.bind(thisArg, a, b)`.
    #[wasm_bindgen(method, js_name = bind)]
    pub(crate) fn bind_args(this: &Callback, this_arg: &JsValue, a: &JsValue, b: &JsValue) -> Callback;
}

thread_local! {
    static HANDLES: RefCell<Option<Rc<Handles>>> = const { RefCell::new(None) };
}

fn lookup_handles() -> Result<Handles> {
    let crypto: Crypto = global_prop("crypto").ok_or(Error::CryptoUnavailable)?.unchecked_into();
    let subtle = js_sys::Reflect::get(&crypto, &JsValue::from_str("subtle")).map_err(|_| Error::CryptoUnavailable)?;
    if subtle.is_undefined() || subtle.is_null() {
        return Err(Error::CryptoUnavailable.into());
    }
    // One callback made once and kept for the life of the module: the per-proof cost is one
    // `bind` and one `then`, instead of a future, a task and two closures per proof.
    Ok(Handles {
        crypto,
        subtle: subtle.unchecked_into(),
        es256: object(&[("name", "ECDSA".into()), ("hash", "SHA-256".into())]),
        settle_jws: persistent2(settle_jws),
    })
}

thread_local! {
    /// Signing inputs whose signature WebCrypto is computing, by slot. They stay in Rust while
    /// the signature is made, so only the finished JWS crosses to JavaScript.
    static PENDING: RefCell<Vec<Option<String>>> = const { RefCell::new(Vec::new()) };
    /// Random bytes from `crypto.getRandomValues`, drawn 16 at a time for proof `jti`s: one call
    /// into the browser per 64 proofs instead of one per proof.
    static RANDOM: RefCell<(Vec<u8>, usize)> = const { RefCell::new((Vec::new(), 0)) };
}

const RANDOM_POOL: usize = 1024;

/// Fills `buf` (at most 64 bytes) from a pool refilled by `crypto.getRandomValues`. Each byte is
/// handed out once.
pub fn fill_random_pooled(buf: &mut [u8]) -> Result<()> {
    if buf.len() > 64 {
        return fill_random(buf);
    }
    RANDOM.with(|cell| {
        let mut pool = cell.borrow_mut();
        let (bytes, used) = &mut *pool;
        if bytes.len() != RANDOM_POOL || *used + buf.len() > RANDOM_POOL {
            bytes.resize(RANDOM_POOL, 0);
            fill_random(bytes)?;
            *used = 0;
        }
        buf.copy_from_slice(&bytes[*used..*used + buf.len()]);
        // Consumed bytes are zeroed, so the pool never holds a value already handed out.
        bytes[*used..*used + buf.len()].fill(0);
        *used += buf.len();
        Ok(())
    })
}

/// The end of [`sign_es256_jws`]: `outcome` is the signature (an `ArrayBuffer`) or WebCrypto's
/// exception; either way the slot is freed.
fn settle_jws(slot: JsValue, outcome: JsValue) -> std::result::Result<JsValue, JsValue> {
    let slot = slot.as_f64().map(|f| f as usize);
    let input = PENDING.with(|p| slot.and_then(|i| p.borrow_mut().get_mut(i).and_then(Option::take)));
    if !outcome.is_instance_of::<js_sys::ArrayBuffer>() {
        return Err(crypto_error("sign")(outcome).into_js());
    }
    let input = input
        .ok_or_else(|| BrowserError::from(Error::CryptoOperation { operation: "sign", message: "lost signing input".into() }).into_js())?;
    Ok(JsValue::from_str(&crate::protocol::jws::assemble(&input, &Uint8Array::new(&outcome).to_vec())))
}

thread_local! {
    static CRYPTO_KEY: JsValue = JsValue::from_str("crypto");
}

/// The cached [`Handles`], or `ERR_CRYPTO_UNAVAILABLE` (insecure context, or no WebCrypto). The
/// cache holds only while `globalThis.crypto` is the object it was made from (one identity
/// check); a failed lookup is not cached.
pub(crate) fn handles() -> Result<Rc<Handles>> {
    let current = CRYPTO_KEY.with(|k| js_sys::Reflect::get(&js_sys::global(), k).unwrap_or(JsValue::UNDEFINED));
    HANDLES.with(|cell| {
        if let Some(h) = cell.borrow().as_ref() {
            if JsValue::from(h.crypto.clone()) == current {
                return Ok(h.clone());
            }
        }
        let h = Rc::new(lookup_handles()?);
        *cell.borrow_mut() = Some(h.clone());
        Ok(h)
    })
}

/// `globalThis.crypto`, or `ERR_CRYPTO_UNAVAILABLE`.
pub fn crypto() -> Result<Crypto> {
    Ok(handles()?.crypto.clone())
}

/// `crypto.subtle`, or `ERR_CRYPTO_UNAVAILABLE` (insecure context, or no WebCrypto).
pub fn subtle() -> Result<SubtleCrypto> {
    Ok(handles()?.subtle.clone())
}

/// Fills `buf` from `crypto.getRandomValues`.
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    handles()?.crypto.get_random_values_with_u8_array(buf).map_err(crypto_error("getRandomValues"))?;
    Ok(())
}

/// ES256-signs the JWS `signing_input` and resolves to the compact JWS
/// (`signing_input.signature`). No Rust future is involved: the promise is WebCrypto's, chained
/// once to a callback made when the module started, so a proof costs what the signature costs.
/// Rejects with `ERR_CRYPTO_OPERATION` (the `DOMException` as `cause`).
pub fn sign_es256_jws(private_key: &CryptoKey, signing_input: String) -> Result<js_sys::Promise> {
    let h = handles()?;
    let promise = h.subtle.sign_with_object_and_u8_array(&h.es256, private_key, signing_input.as_bytes()).map_err(crypto_error("sign"))?;
    let slot = PENDING.with(|p| park(&mut p.borrow_mut(), signing_input));
    let settle = h.settle_jws.bind_arg(&JsValue::NULL, &JsValue::from_f64(slot as f64));
    Ok(promise.unchecked_ref::<Thenable>().then_fns(&settle, &settle))
}

/// Keeps `value` in the first free slot of `slots` (a callback's state while WebCrypto works)
/// and returns the slot's index, which the callback is bound to.
pub(crate) fn park<T>(slots: &mut Vec<Option<T>>, value: T) -> usize {
    match slots.iter().position(Option::is_none) {
        Some(i) => {
            slots[i] = Some(value);
            i
        }
        None => {
            slots.push(Some(value));
            slots.len() - 1
        }
    }
}

/// A JS function made from a Rust closure of two arguments, kept for the life of the module: a
/// promise chain built from these costs a `bind` per step, not a closure and a future.
pub(crate) fn persistent2(f: impl Fn(JsValue, JsValue) -> std::result::Result<JsValue, JsValue> + 'static) -> Callback {
    Closure::<dyn Fn(JsValue, JsValue) -> std::result::Result<JsValue, JsValue>>::new(f).into_js_value().unchecked_into()
}

#[cfg(feature = "client")]
/// As [`persistent2`], with three arguments.
pub(crate) fn persistent3(f: impl Fn(JsValue, JsValue, JsValue) -> std::result::Result<JsValue, JsValue> + 'static) -> Callback {
    Closure::<dyn Fn(JsValue, JsValue, JsValue) -> std::result::Result<JsValue, JsValue>>::new(f).into_js_value().unchecked_into()
}

#[cfg(feature = "client")]
/// A rejection handler, kept for the life of the module, that turns WebCrypto's exception into
/// `ERR_CRYPTO_OPERATION` naming `operation` (the exception as `cause`).
pub(crate) fn crypto_rejection(operation: &'static str) -> Callback {
    Closure::<dyn Fn(JsValue) -> std::result::Result<JsValue, JsValue>>::new(move |cause: JsValue| {
        Err(crypto_error(operation)(cause).into_js())
    })
    .into_js_value()
    .unchecked_into()
}

thread_local! {
    static P256_GEN: (js_sys::Object, Array) = (
        object(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())]),
        Array::of2(&"sign".into(), &"verify".into()),
    );
}

#[cfg(feature = "client")]
/// `crypto.subtle.generateKey` for an ECDSA P-256 pair whose private key is **not
/// extractable**, as WebCrypto's promise.
pub(crate) fn generate_p256_promise() -> Result<js_sys::Promise> {
    let subtle = handles()?.subtle.clone();
    P256_GEN.with(|(params, usages)| subtle.generate_key_with_object(params, false, usages).map_err(crypto_error("generateKey")))
}

/// `crypto.subtle.exportKey("raw", key)`: for an EC public key, the uncompressed point.
pub(crate) fn export_raw_promise(key: &CryptoKey) -> Result<js_sys::Promise> {
    handles()?.subtle.export_key("raw", key).map_err(crypto_error("exportKey"))
}

/// Exports an EC P-256 public key as a [`PublicJwk`], from its raw point.
pub async fn export_public_p256(key: &CryptoKey) -> Result<PublicJwk> {
    let raw = JsFuture::from(export_raw_promise(key)?).await.map_err(crypto_error("exportKey"))?;
    Ok(PublicJwk::from_sec1_point(crate::protocol::jwk::EcCurve::P256, &Uint8Array::new(&raw).to_vec())?)
}

/// Generates an ECDSA P-256 key pair whose private key is **not extractable**.
pub async fn generate_p256() -> Result<CryptoKeyPair> {
    let params = object(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())]);
    let usages = Array::of2(&"sign".into(), &"verify".into());
    let promise = subtle()?.generate_key_with_object(&params, false, &usages).map_err(crypto_error("generateKey"))?;
    let pair = JsFuture::from(promise).await.map_err(crypto_error("generateKey"))?;
    Ok(pair.unchecked_into())
}

/// Exports a public key as a [`PublicJwk`] (through `JSON.stringify`, then the strict parser).
pub async fn export_public_jwk(key: &CryptoKey) -> Result<PublicJwk> {
    let promise = subtle()?.export_key("jwk", key).map_err(crypto_error("exportKey"))?;
    let jwk = JsFuture::from(promise).await.map_err(crypto_error("exportKey"))?;
    let text = js_sys::JSON::stringify(&jwk).map_err(crypto_error("exportKey"))?;
    let text = text.as_string().ok_or(Error::JwkInvalid { reason: "exported key is not a JSON object" })?;
    Ok(PublicJwk::from_json(&text)?)
}

/// ES256-signs `data`; WebCrypto returns the raw 64-byte `r || s` that JWS wants.
pub async fn sign_es256(private_key: &CryptoKey, data: &[u8]) -> Result<Vec<u8>> {
    let h = handles()?;
    let promise = h.subtle.sign_with_object_and_u8_array(&h.es256, private_key, data).map_err(crypto_error("sign"))?;
    let sig = JsFuture::from(promise).await.map_err(crypto_error("sign"))?;
    Ok(Uint8Array::new(&sig).to_vec())
}
