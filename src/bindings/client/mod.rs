//! The `KeyBoundClient` class: the login flow for JavaScript. The class is written in parts:
//! construction and getters here, `login` (logins and logouts), `session` (the session and
//! what it sends), `device` (the device flow), `passkey`, `popup` (the popup login); `options`
//! reads the option objects, `typings` holds their TypeScript declarations.

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::args::{binding_policy, get, object_arg, opt_str, promise, req_str, string_arg};
use super::errors::{core_to_js, to_js};
#[cfg(feature = "agent")]
use crate::browser::client::DeviceLogin;
use crate::browser::client::{Client, ClientConfig};
use crate::error::Error;

#[cfg(feature = "agent")]
mod device;
mod login;
mod options;
#[cfg(feature = "passkey")]
mod passkey;
mod popup;
mod session;
mod typings;

#[wasm_bindgen]
extern "C" {
    /// A string argument that may be omitted (an extern type: optional in the .d.ts, with no
    /// JS-side type check; the value is checked in Rust).
    #[wasm_bindgen(typescript_type = "string")]
    pub type OptionalString;
    /// The `init` argument of `fetch`.
    #[wasm_bindgen(typescript_type = "KeyBoundFetchInit")]
    pub type FetchInit;
    /// The `options` argument of `finishDeviceLogin`.
    #[wasm_bindgen(typescript_type = "KeyBoundDeviceOptions")]
    pub type DeviceOptions;
    /// The `init` argument of `presentTo`.
    #[wasm_bindgen(typescript_type = "KeyBoundPresentInit")]
    pub type PresentInit;
    /// The `options` argument of `startLogout` and `logout`.
    #[wasm_bindgen(typescript_type = "KeyBoundLogoutOptions")]
    pub type LogoutInit;
    /// The `options` argument of `startLogin` and `login`.
    #[wasm_bindgen(typescript_type = "KeyBoundLoginOptions")]
    pub type LoginInit;
}

/// A key-bound OpenID Connect client for one issuer. Create it with `KeyBoundClient.discover`.
#[wasm_bindgen(js_name = KeyBoundClient)]
pub struct JsClient {
    inner: Rc<Client>,
    #[cfg(feature = "agent")]
    devices: Rc<std::cell::RefCell<Vec<(String, DeviceLogin)>>>,
}

#[wasm_bindgen(js_class = KeyBoundClient)]
impl JsClient {
    /// Fetches the OP's discovery document (its `issuer` must equal `issuer` exactly) and JWKS.
    ///
    /// Rejects with `ERR_URL_INVALID`, `ERR_NETWORK`, `ERR_DISCOVERY_ISSUER_MISMATCH`,
    /// `ERR_DISCOVERY_INVALID`, `ERR_INVALID_ARGUMENT`.
    #[wasm_bindgen(unchecked_return_type = "Promise<KeyBoundClient>")]
    pub fn discover(
        #[wasm_bindgen(unchecked_param_type = "string")] issuer: JsValue,
        #[wasm_bindgen(unchecked_param_type = "KeyBoundClientOptions")] options: JsValue,
    ) -> js_sys::Promise {
        promise(Box::pin(async move {
            let issuer = string_arg(&issuer, "issuer")?;
            object_arg(&options, "options")?;
            let config = ClientConfig {
                issuer,
                client_id: req_str(&options, "clientId")?,
                redirect_uri: req_str(&options, "redirectUri")?,
                scope: opt_str(&options, "scope")?.unwrap_or_default(),
                binding: binding_policy(&options)?,
                session_name: opt_str(&options, "session")?.unwrap_or_default(),
                bind_key: super::args::opt_bool(&options, "keyBinding", true)?,
                timeout_ms: super::args::timeout_option(&options)?.unwrap_or(crate::browser::http::DEFAULT_TIMEOUT_MS),
                par: match opt_str(&options, "par")?.as_deref() {
                    None | Some("auto") => crate::protocol::oauth::ParMode::Auto,
                    Some("always") => crate::protocol::oauth::ParMode::Always,
                    Some("never") => crate::protocol::oauth::ParMode::Never,
                    Some(_) => return Err(core_to_js(Error::arg("par", "must be \"auto\", \"always\" or \"never\""))),
                },
                passkey: match get(&options, "passkey") {
                    v if v.is_undefined() || v.is_null() => None,
                    #[cfg(not(feature = "passkey"))]
                    _ => return Err(core_to_js(Error::arg("passkey", "passkey logins are in the keybound/passkey entry"))),
                    #[cfg(feature = "passkey")]
                    v => {
                        object_arg(&v, "passkey")?;
                        let mode = match opt_str(&v, "mode")?.as_deref() {
                            None | Some("salted") => crate::protocol::passkey::NonceMode::Salted,
                            Some("plain") => crate::protocol::passkey::NonceMode::Plain,
                            Some(_) => return Err(core_to_js(Error::arg("mode", "must be \"salted\" or \"plain\""))),
                        };
                        Some((opt_str(&v, "name")?.unwrap_or_else(|| "default".into()), mode))
                    }
                },
            };
            let client = Client::discover(config).await.map_err(to_js)?;
            Ok(JsClient {
                inner: Rc::new(client),
                #[cfg(feature = "agent")]
                devices: Rc::default(),
            }
            .into())
        }))
    }

    /// The issuer.
    #[wasm_bindgen(getter)]
    pub fn issuer(&self) -> String {
        self.inner.config().issuer.clone()
    }

    /// The OP's clock minus this device's clock, in seconds, learned from the OP's `Date` header
    /// and applied to proofs and token time checks (0 when under 5 seconds).
    #[wasm_bindgen(getter, js_name = clockOffset)]
    pub fn clock_offset(&self) -> f64 {
        self.inner.clock_offset() as f64
    }

    /// The OP's UserInfo endpoint, if it has one.
    #[wasm_bindgen(getter, js_name = userinfoEndpoint)]
    pub fn userinfo_endpoint(&self) -> Option<String> {
        self.inner.metadata().userinfo_endpoint.clone()
    }

    /// The token endpoint (the DPoP `htu` of token requests).
    #[wasm_bindgen(getter, js_name = tokenEndpoint)]
    pub fn token_endpoint(&self) -> String {
        self.inner.metadata().token_endpoint.clone()
    }

    /// The DPoP proof sent with the last token request (for demos and diagnostics; a proof is
    /// single use and bound to its request).
    #[wasm_bindgen(getter, js_name = lastTokenRequestProof)]
    pub fn last_token_request_proof(&self) -> Option<String> {
        self.inner.last_token_proof()
    }

    /// The proof sent with the last presentation (`present`/`presentTo`), for demos and
    /// diagnostics.
    #[wasm_bindgen(getter, js_name = lastPresentationProof)]
    pub fn last_presentation_proof(&self) -> Option<String> {
        self.inner.last_presentation_proof()
    }

    /// Whether the OP lists `bound_key` in `scopes_supported` (a hint only: the validated ID
    /// Token is the proof).
    #[wasm_bindgen(getter, js_name = advertisesKeyBinding)]
    pub fn advertises_key_binding(&self) -> bool {
        self.inner.metadata().advertises_bound_key()
    }
}
