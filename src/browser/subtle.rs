//! WebCrypto: key generation (private key non-extractable), public JWK export, ES256 signing,
//! and a [`Verifier`] for every algorithm keybound verifies.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Crypto, CryptoKey, CryptoKeyPair, SubtleCrypto};

use super::js::{crypto_error, global_prop, object, Result};
use crate::error::Error;
use crate::protocol::crypto::Verifier;
use crate::protocol::jwa::Alg;
use crate::protocol::jwk::PublicJwk;

/// `globalThis.crypto`, or `ERR_CRYPTO_UNAVAILABLE`.
pub fn crypto() -> Result<Crypto> {
    Ok(global_prop("crypto").ok_or(Error::CryptoUnavailable)?.unchecked_into())
}

/// `crypto.subtle`, or `ERR_CRYPTO_UNAVAILABLE` (insecure context, or no WebCrypto).
pub fn subtle() -> Result<SubtleCrypto> {
    let crypto = crypto()?;
    let subtle = js_sys::Reflect::get(&crypto, &JsValue::from_str("subtle")).map_err(|_| Error::CryptoUnavailable)?;
    if subtle.is_undefined() || subtle.is_null() {
        return Err(Error::CryptoUnavailable.into());
    }
    Ok(subtle.unchecked_into())
}

/// Fills `buf` from `crypto.getRandomValues`.
pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    crypto()?.get_random_values_with_u8_array(buf).map_err(crypto_error("getRandomValues"))?;
    Ok(())
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
    let params = object(&[("name", "ECDSA".into()), ("hash", "SHA-256".into())]);
    let promise = subtle()?.sign_with_object_and_u8_array(&params, private_key, data).map_err(crypto_error("sign"))?;
    let sig = JsFuture::from(promise).await.map_err(crypto_error("sign"))?;
    Ok(Uint8Array::new(&sig).to_vec())
}

/// WebCrypto `(importKey params, verify params)` for an algorithm.
fn params(alg: Alg) -> (js_sys::Object, js_sys::Object) {
    let ec = |curve: &str, hash: &str| {
        (
            object(&[("name", "ECDSA".into()), ("namedCurve", curve.into())]),
            object(&[("name", "ECDSA".into()), ("hash", hash.into())]),
        )
    };
    let rsa = |name: &str, hash: &str, salt: u32| {
        (
            object(&[("name", name.into()), ("hash", hash.into())]),
            object(&[("name", name.into()), ("saltLength", salt.into())]),
        )
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

impl WebCryptoVerifier {
    async fn verify_js(&self, alg: Alg, key: &PublicJwk, input: &[u8], signature: &[u8]) -> Result<()> {
        alg.check_key(key)?;
        let subtle = subtle()?;
        let jwk = js_sys::JSON::parse(&key.canonical_json()).map_err(crypto_error("importKey"))?;
        let (import, verify) = params(alg);
        let usages = Array::of1(&"verify".into());
        let promise = subtle
            .import_key_with_object("jwk", jwk.unchecked_ref(), &import, false, &usages)
            .map_err(crypto_error("importKey"))?;
        let key: CryptoKey = JsFuture::from(promise).await.map_err(crypto_error("importKey"))?.unchecked_into();
        let promise = subtle
            .verify_with_object_and_u8_array_and_u8_array(&verify, &key, signature, input)
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
