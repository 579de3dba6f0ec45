//! The JavaScript API every entry has: JWK thumbprints, the error codes and the types entries
//! share (a passkey presentation is made by one entry and checked by another). DPoP keys, proofs
//! and PKCE are in `keys` (the client entries).

use wasm_bindgen::prelude::*;

use super::errors::core_to_js;
use crate::error::{Error, ErrorCode};
use crate::protocol::jwk::PublicJwk;

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

/** A passkey signature over the login ID Token and a message: what to send to a consumer. */
export interface KeyBoundPasskeyPresentation {
  idToken: string;
  publicJwk: JWK;
  mode: "salted" | "plain";
  salt: string | null;
  credentialId: string;
  /** base64url */
  message: string;
  nonce: string | null;
  authenticatorData: string;
  clientDataJSON: string;
  signature: string;
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "JWK")]
    pub type JsJwk;
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

/// Whether `err` is a keybound error: an `Error` named `KeyboundError` whose `code` is one of
/// [`ErrorCode`]. Takes anything a `catch` gives, and narrows it in TypeScript. Errors of every
/// entry qualify (they share the codes).
#[wasm_bindgen(js_name = isKeyboundError, unchecked_return_type = "err is KeyboundError")]
pub fn is_keybound_error(#[wasm_bindgen(unchecked_param_type = "unknown")] err: JsValue) -> bool {
    if !err.is_instance_of::<js_sys::Error>() {
        return false;
    }
    let prop = |name: &str| js_sys::Reflect::get(&err, &JsValue::from_str(name)).ok().and_then(|v| v.as_string());
    prop("name").as_deref() == Some("KeyboundError") && prop("code").is_some_and(|c| ErrorCode::ALL.iter().any(|k| k.as_str() == c))
}

/// Every error code keybound can produce (the same list as the `ErrorCode` type).
#[wasm_bindgen(js_name = errorCodes, unchecked_return_type = "ErrorCode[]")]
pub fn error_codes() -> js_sys::Array {
    ErrorCode::ALL.iter().map(|c| JsValue::from_str(c.as_str())).collect()
}
