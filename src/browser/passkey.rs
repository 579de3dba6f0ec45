//! Passkeys in the browser: registration (the public key read with `getPublicKey()` and
//! WebCrypto, or from the attestation object), storage of the public data in IndexedDB, and
//! assertions. WebAuthn needs a host name RP ID (`localhost` works, `127.0.0.1` does not).

use js_sys::{Array, ArrayBuffer, Function, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::js::{describe, global_prop, object, BrowserError, Result};
use super::{database, subtle};
use crate::error::Error;
use crate::protocol::b64;
use crate::protocol::jwk::PublicJwk;
use crate::protocol::passkey;

/// A registered passkey: public data only.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredPasskey {
    v: u32,
    /// The credential id, base64url.
    pub credential_id: String,
    /// The public key as canonical JWK JSON.
    pub public_jwk: String,
    /// The COSE algorithm (-7 ES256, -8 EdDSA, -257 RS256).
    pub alg: i64,
    /// The RP ID it was registered for.
    pub rp_id: String,
}

impl StoredPasskey {
    /// The public key.
    ///
    /// # Errors
    /// The JWK errors (for a damaged record).
    pub fn jwk(&self) -> crate::Result<PublicJwk> {
        PublicJwk::from_json(&self.public_jwk)
    }
}

fn webauthn_error(operation: &'static str) -> impl Fn(JsValue) -> BrowserError {
    move |cause| {
        let (name, message) = describe(&cause);
        BrowserError { error: Error::CryptoOperation { operation, message: format!("{name}: {message}") }, cause: Some(cause) }
    }
}

fn credentials() -> Result<(JsValue, Function, Function)> {
    let container = global_prop("navigator")
        .and_then(|n| Reflect::get(&n, &"credentials".into()).ok())
        .filter(|c| c.is_object())
        .ok_or(Error::arg("navigator.credentials", "WebAuthn is not available here (it needs a page in a secure context)"))?;
    let method = |name: &str| Reflect::get(&container, &name.into()).ok().and_then(|f| f.dyn_into::<Function>().ok());
    let (Some(create), Some(get)) = (method("create"), method("get")) else {
        return Err(Error::arg("navigator.credentials", "WebAuthn is not available here").into());
    };
    Ok((container, create, get))
}

fn bytes(v: &JsValue) -> Vec<u8> {
    Uint8Array::new(v).to_vec()
}

fn field(v: &JsValue, name: &str) -> JsValue {
    Reflect::get(v, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

/// The WebCrypto import parameters for a COSE algorithm.
fn import_params(alg: i64) -> Option<js_sys::Object> {
    match alg {
        -7 => Some(object(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())])),
        -257 => Some(object(&[("name", "RSASSA-PKCS1-v1_5".into()), ("hash", "SHA-256".into())])),
        -8 => Some(object(&[("name", "Ed25519".into())])),
        _ => None,
    }
}

async fn spki_to_jwk(spki: &[u8], alg: i64) -> Result<PublicJwk> {
    let params = import_params(alg).ok_or(Error::JwkUnsupported { value: format!("COSE alg {alg}") })?;
    let subtle = subtle::subtle()?;
    let p = subtle
        .import_key_with_object("spki", &Uint8Array::from(spki), &params, true, &Array::of1(&"verify".into()))
        .map_err(super::js::crypto_error("importKey"))?;
    let key: web_sys::CryptoKey = JsFuture::from(p).await.map_err(super::js::crypto_error("importKey"))?.unchecked_into();
    subtle::export_public_jwk(&key).await
}

/// Registers a passkey (ES256 preferred; Ed25519 and RS256 accepted) and stores its public data
/// under `name`.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` without WebAuthn; `ERR_CRYPTO_OPERATION` when the browser refuses
/// (the `DOMException` is the cause, for example `NotAllowedError`); `ERR_WEBAUTHN_INVALID`.
pub async fn register(name: &str, user_name: &str, rp_id: Option<&str>) -> Result<StoredPasskey> {
    let (container, create, _) = credentials()?;
    let mut challenge = [0u8; 32];
    subtle::fill_random(&mut challenge)?;
    let mut user_id = [0u8; 16];
    subtle::fill_random(&mut user_id)?;
    let rp = object(&[("name", "keybound".into())]);
    if let Some(id) = rp_id {
        let _ = Reflect::set(&rp, &"id".into(), &id.into());
    }
    let params = Array::new();
    for alg in [-7, -8, -257] {
        params.push(&object(&[("type", "public-key".into()), ("alg", alg.into())]));
    }
    let public_key = object(&[
        ("rp", rp.into()),
        (
            "user",
            object(&[("id", Uint8Array::from(&user_id[..]).into()), ("name", user_name.into()), ("displayName", user_name.into())]).into(),
        ),
        ("challenge", Uint8Array::from(&challenge[..]).into()),
        ("pubKeyCredParams", params.into()),
        ("authenticatorSelection", object(&[("residentKey", "preferred".into()), ("userVerification", "preferred".into())]).into()),
        ("attestation", "none".into()),
        ("timeout", 60_000.into()),
    ]);
    let promise = create.call1(&container, &object(&[("publicKey", public_key.into())])).map_err(webauthn_error("credentials.create"))?;
    let credential = JsFuture::from(js_sys::Promise::resolve(&promise)).await.map_err(webauthn_error("credentials.create"))?;
    let credential_id = bytes(&field(&credential, "rawId"));
    let response = field(&credential, "response");
    let get_key = field(&response, "getPublicKey").dyn_into::<Function>().ok();
    let get_alg = field(&response, "getPublicKeyAlgorithm").dyn_into::<Function>().ok();
    let (jwk, alg) = match (get_key, get_alg) {
        (Some(get_key), Some(get_alg)) => {
            let spki = get_key.call0(&response).map_err(webauthn_error("getPublicKey"))?;
            let alg = get_alg.call0(&response).ok().and_then(|a| a.as_f64()).unwrap_or(-7.0) as i64;
            if !spki.is_instance_of::<ArrayBuffer>() {
                return Err(Error::JwkUnsupported { value: format!("COSE alg {alg} (no SPKI)") }.into());
            }
            (spki_to_jwk(&bytes(&spki), alg).await?, alg)
        }
        _ => {
            // No getPublicKey(): read the COSE key from the attestation object.
            let (_, jwk) = passkey::attestation_public_key(&bytes(&field(&response, "attestationObject")))?;
            let alg = match &jwk {
                PublicJwk::Rsa { .. } => -257,
                PublicJwk::Okp { .. } => -8,
                _ => -7,
            };
            (jwk, alg)
        }
    };
    let rp_id = rp_id
        .map(str::to_owned)
        .unwrap_or_else(|| global_prop("location").map(|l| field(&l, "hostname")).and_then(|h| h.as_string()).unwrap_or_default());
    let stored = StoredPasskey { v: 1, credential_id: b64::encode(credential_id), public_jwk: jwk.canonical_json(), alg, rp_id };
    let text = serde_json::to_string(&stored).map_err(|e| Error::json("passkey", e))?;
    database::put_text(database::PASSKEY_STORE, name, &text).await?;
    Ok(stored)
}

/// The passkey stored under `name`.
///
/// # Errors
/// `ERR_KEY_NOT_FOUND`; `ERR_KEY_RECORD_INVALID`.
pub async fn load(name: &str) -> Result<StoredPasskey> {
    let text = database::get_text(database::PASSKEY_STORE, name, false).await?.ok_or(Error::KeyNotFound { id: name.to_owned() })?;
    let stored: StoredPasskey =
        crate::protocol::json::from_object(text.as_bytes()).map_err(|_| Error::KeyRecordInvalid { reason: "unreadable passkey record" })?;
    if stored.v != 1 {
        return Err(Error::KeyRecordInvalid { reason: "passkey record of an unknown version" }.into());
    }
    Ok(stored)
}

/// An assertion as the browser returns it.
#[derive(Clone, Debug)]
pub struct BrowserAssertion {
    /// `authenticatorData`.
    pub authenticator_data: Vec<u8>,
    /// `clientDataJSON`.
    pub client_data_json: Vec<u8>,
    /// `signature`.
    pub signature: Vec<u8>,
}

/// Asks the passkey to sign `challenge` (user verification required).
///
/// # Errors
/// `ERR_CRYPTO_OPERATION` (the browser's refusal as cause), `ERR_INVALID_ARGUMENT`.
pub async fn assert(passkey: &StoredPasskey, challenge: &[u8]) -> Result<BrowserAssertion> {
    let (container, _, get) = credentials()?;
    let id = b64::decode(&passkey.credential_id, "credential id")?;
    let allow = Array::of1(&object(&[("type", "public-key".into()), ("id", Uint8Array::from(&id[..]).into())]));
    let public_key = object(&[
        ("challenge", Uint8Array::from(challenge).into()),
        ("allowCredentials", allow.into()),
        ("rpId", passkey.rp_id.as_str().into()),
        ("userVerification", "required".into()),
        ("timeout", 60_000.into()),
    ]);
    let promise = get.call1(&container, &object(&[("publicKey", public_key.into())])).map_err(webauthn_error("credentials.get"))?;
    let credential = JsFuture::from(js_sys::Promise::resolve(&promise)).await.map_err(webauthn_error("credentials.get"))?;
    let response = field(&credential, "response");
    Ok(BrowserAssertion {
        authenticator_data: bytes(&field(&response, "authenticatorData")),
        client_data_json: bytes(&field(&response, "clientDataJSON")),
        signature: bytes(&field(&response, "signature")),
    })
}
