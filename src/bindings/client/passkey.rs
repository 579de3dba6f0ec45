//! `KeyBoundClient.signWithPasskey`.

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::super::args::{object_arg, opt_str, promise, req_str, string_arg};
use super::super::errors::to_js;
use super::JsClient;

#[wasm_bindgen(js_class = KeyBoundClient)]
impl JsClient {
    /// Signs `message` (a string) with the session's passkey: a WebAuthn assertion over the login
    /// ID Token, the message, the consumer's `nonce` and the request it is for (`method`, `url`:
    /// the assertion verifies only at that endpoint). Needs a session logged in with `passkey`
    /// set.
    #[wasm_bindgen(js_name = signWithPasskey, unchecked_return_type = "Promise<KeyBoundPasskeyPresentation>")]
    pub fn sign_with_passkey(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] message: JsValue,
        #[wasm_bindgen(unchecked_param_type = "{ method: string; url: string; nonce?: string }")] options: JsValue,
    ) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let message = string_arg(&message, "message")?;
            object_arg(&options, "options")?;
            let (method, url) = (req_str(&options, "method")?, req_str(&options, "url")?);
            let nonce = opt_str(&options, "nonce")?;
            let target = crate::browser::client::PasskeyTarget { htm: &method, htu: &url, consumer_nonce: nonce.as_deref() };
            let sig = inner.sign_with_passkey(message.as_bytes(), &target).await.map_err(to_js)?;
            let obj = js_sys::Object::new();
            let set = |k: &str, v: JsValue| js_sys::Reflect::set(&obj, &JsValue::from_str(k), &v).map(|_| ());
            set("idToken", sig.id_token.as_str().into())?;
            set("publicJwk", js_sys::JSON::parse(&sig.public_jwk)?)?;
            set("mode", sig.binding.mode.as_str().into())?;
            set("salt", sig.binding.salt.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL))?;
            set("credentialId", sig.credential_id.as_str().into())?;
            set("message", crate::protocol::b64::encode(message.as_bytes()).into())?;
            set("nonce", nonce.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL))?;
            set("authenticatorData", crate::protocol::b64::encode(&sig.assertion.authenticator_data).into())?;
            set("clientDataJSON", crate::protocol::b64::encode(&sig.assertion.client_data_json).into())?;
            set("signature", crate::protocol::b64::encode(&sig.assertion.signature).into())?;
            Ok(obj.into())
        }))
    }
}
