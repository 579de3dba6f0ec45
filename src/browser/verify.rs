//! JWS signature verification with WebCrypto: public keys imported once and kept, a
//! [`Verifier`] for every algorithm keybound verifies, and [`start_verify`] for callers that
//! chain WebCrypto's promise themselves.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;

use super::js::{crypto_error, object, Result};
use super::subtle::{handles, subtle};
use crate::error::Error;
use crate::protocol::crypto::Verifier;
use crate::protocol::jwa::Alg;
use crate::protocol::jwk::PublicJwk;

/// WebCrypto `(importKey params, verify params)` for an algorithm.
fn params(alg: Alg) -> (js_sys::Object, js_sys::Object) {
    let ec = |curve: &str, hash: &str| {
        (object(&[("name", "ECDSA".into()), ("namedCurve", curve.into())]), object(&[("name", "ECDSA".into()), ("hash", hash.into())]))
    };
    let rsa = |name: &str, hash: &str, salt: u32| {
        (object(&[("name", name.into()), ("hash", hash.into())]), object(&[("name", name.into()), ("saltLength", salt.into())]))
    };
    match alg {
        Alg::Es256 => ec("P-256", "SHA-256"),
        Alg::Es384 => ec("P-384", "SHA-384"),
        Alg::Es512 => ec("P-521", "SHA-512"),
        Alg::Rs256 => rsa("RSASSA-PKCS1-v1_5", "SHA-256", 0),
        Alg::Rs384 => rsa("RSASSA-PKCS1-v1_5", "SHA-384", 0),
        Alg::Rs512 => rsa("RSASSA-PKCS1-v1_5", "SHA-512", 0),
        Alg::Ps256 => rsa("RSA-PSS", "SHA-256", 32),
        Alg::Ps384 => rsa("RSA-PSS", "SHA-384", 48),
        Alg::Ps512 => rsa("RSA-PSS", "SHA-512", 64),
        Alg::EdDsa => (object(&[("name", "Ed25519".into())]), object(&[("name", "Ed25519".into())])),
    }
}

/// Verifies JWS signatures with WebCrypto.
#[derive(Clone, Copy, Debug, Default)]
pub struct WebCryptoVerifier;

/// A public key imported into WebCrypto, with its verify parameters.
struct Imported {
    alg: Alg,
    jwk: PublicJwk,
    key: CryptoKey,
    verify: js_sys::Object,
}

/// How many imported public keys are kept (most recently used first). An issuer publishes a
/// few keys; a consumer sees one presenting key per session, and a server has many sessions at
/// once: with 32, the presentations of 200 sessions interleaved cost 1.7x those of one (each
/// proof key imported again). A lookup scans the list, about a microsecond for a few hundred
/// keys, against tens for an import. Public keys only: nothing secret is kept.
const IMPORTED_KEYS: usize = 1024;

thread_local! {
    static IMPORTED: RefCell<Vec<Rc<Imported>>> = const { RefCell::new(Vec::new()) };
}

/// The WebCrypto key for `jwk` under `alg`, imported once and then reused while it stays among
/// the [`IMPORTED_KEYS`] most recently used. Keys are compared by their whole public JWK, so a
/// rotated key with a reused `kid` is imported afresh.
async fn imported_key(alg: Alg, jwk: &PublicJwk) -> Result<Rc<Imported>> {
    if let Some(entry) = cached_key(alg, jwk) {
        return Ok(entry);
    }
    let subtle = subtle()?;
    let js_jwk = js_sys::JSON::parse(&jwk.canonical_json()).map_err(crypto_error("importKey"))?;
    let (import, verify) = params(alg);
    let usages = Array::of1(&"verify".into());
    let promise =
        subtle.import_key_with_object("jwk", js_jwk.unchecked_ref(), &import, false, &usages).map_err(crypto_error("importKey"))?;
    let key: CryptoKey = JsFuture::from(promise).await.map_err(crypto_error("importKey"))?.unchecked_into();
    let entry = Rc::new(Imported { alg, jwk: jwk.clone(), key, verify });
    IMPORTED.with(|cache| {
        let mut cache = cache.borrow_mut();
        cache.insert(0, entry.clone());
        cache.truncate(IMPORTED_KEYS);
    });
    Ok(entry)
}

/// The imported key for `jwk` under `alg` if it is in the cache (it becomes the most recently
/// used), without waiting for anything.
fn cached_key(alg: Alg, jwk: &PublicJwk) -> Option<Rc<Imported>> {
    IMPORTED.with(|cache| {
        let mut cache = cache.borrow_mut();
        let i = cache.iter().position(|k| k.alg == alg && k.jwk == *jwk)?;
        if i > 0 {
            let entry = cache.remove(i);
            cache.insert(0, entry);
        }
        Some(cache[0].clone())
    })
}

/// WebCrypto's `verify` of `signature` over `input` with `key` under `alg`, started now when
/// the key is already imported: a promise of a boolean (or WebCrypto's exception). `None` when
/// the key has not been imported yet (then use [`WebCryptoVerifier`], which imports it).
///
/// # Errors
/// `ERR_JWK_INVALID` and the like for a key that does not fit `alg`; `ERR_CRYPTO_UNAVAILABLE`.
pub fn start_verify(alg: Alg, key: &PublicJwk, input: &[u8], signature: &[u8]) -> Result<Option<js_sys::Promise>> {
    alg.check_key(key)?;
    let Some(imported) = cached_key(alg, key) else { return Ok(None) };
    let promise = handles()?
        .subtle
        .verify_with_object_and_u8_array_and_u8_array(&imported.verify, &imported.key, signature, input)
        .map_err(crypto_error("verify"))?;
    Ok(Some(promise))
}

impl WebCryptoVerifier {
    async fn verify_js(&self, alg: Alg, key: &PublicJwk, input: &[u8], signature: &[u8]) -> Result<()> {
        alg.check_key(key)?;
        let imported = imported_key(alg, key).await?;
        let promise = subtle()?
            .verify_with_object_and_u8_array_and_u8_array(&imported.verify, &imported.key, signature, input)
            .map_err(crypto_error("verify"))?;
        let ok = JsFuture::from(promise).await.map_err(crypto_error("verify"))?;
        if ok.as_bool() == Some(true) {
            Ok(())
        } else {
            Err(Error::JwsSignatureInvalid.into())
        }
    }
}

impl Verifier for WebCryptoVerifier {
    async fn verify(&self, alg: Alg, key: &PublicJwk, signing_input: &[u8], signature: &[u8]) -> crate::Result<()> {
        self.verify_js(alg, key, signing_input, signature).await.map_err(|e| e.error)
    }
}
