//! Passkey registration for JavaScript.

use wasm_bindgen::prelude::*;

use super::args::{object_arg, opt_str, promise, req_str};
use super::errors::to_js;
use crate::browser::passkey::{self, StoredPasskey};

#[wasm_bindgen(typescript_custom_section)]
const TS_PASSKEY: &'static str = r#"
/** A registered passkey's public data (kept in IndexedDB; nothing secret). */
export interface KeyBoundPasskey {
  name: string;
  credentialId: string;
  publicJwk: JWK;
  /** RFC 7638 thumbprint of the passkey's public key. */
  jkt: string;
  /** COSE algorithm: -7 ES256, -8 EdDSA, -257 RS256. */
  alg: number;
  rpId: string;
}
"#;

fn passkey_object(name: &str, p: &StoredPasskey) -> Result<JsValue, JsValue> {
    let jwk = p.jwk().map_err(|e| to_js(e.into()))?;
    let obj = js_sys::Object::new();
    let set = |k: &str, v: JsValue| js_sys::Reflect::set(&obj, &JsValue::from_str(k), &v).map(|_| ());
    set("name", name.into())?;
    set("credentialId", p.credential_id.as_str().into())?;
    set("publicJwk", js_sys::JSON::parse(&p.public_jwk)?)?;
    set("jkt", jwk.thumbprint().into())?;
    set("alg", JsValue::from_f64(p.alg as f64))?;
    set("rpId", p.rp_id.as_str().into())?;
    Ok(obj.into())
}

/// Registers a passkey with WebAuthn (ES256; Ed25519 and RS256 accepted) and stores its public
/// key and credential id under `name` (default `"default"`). Needs a Window on a host name
/// (`localhost` works; an IP address is not a valid RP ID).
#[wasm_bindgen(js_name = registerPasskey, unchecked_return_type = "Promise<KeyBoundPasskey>")]
pub fn register_passkey(
    #[wasm_bindgen(unchecked_param_type = "{ userName: string; name?: string; rpId?: string }")] options: JsValue,
) -> js_sys::Promise {
    promise(Box::pin(async move {
        object_arg(&options, "options")?;
        let user = req_str(&options, "userName")?;
        let name = opt_str(&options, "name")?.unwrap_or_else(|| "default".into());
        let rp_id = opt_str(&options, "rpId")?;
        let stored = passkey::register(&name, &user, rp_id.as_deref()).await.map_err(to_js)?;
        passkey_object(&name, &stored)
    }))
}

/// The passkey registered under `name` (default `"default"`); rejects with `ERR_KEY_NOT_FOUND`.
#[wasm_bindgen(js_name = loadPasskey, unchecked_return_type = "Promise<KeyBoundPasskey>")]
pub fn load_passkey(#[wasm_bindgen(unchecked_param_type = "string | undefined")] name: JsValue) -> js_sys::Promise {
    promise(Box::pin(async move {
        let name = name.as_string().unwrap_or_else(|| "default".into());
        let stored = passkey::load(&name).await.map_err(to_js)?;
        passkey_object(&name, &stored)
    }))
}
