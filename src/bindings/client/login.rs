//! `KeyBoundClient`'s logins and logouts.

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::super::args::{get, promise};
use super::super::errors::{core_to_js, to_js};
use super::options::{callback_url, login_options, logout_options};
use super::session::session_object;
use super::{JsClient, LoginInit, LogoutInit, OptionalString};
use crate::browser::client::Client;
use crate::error::Error;

/// Runs a logout; returns the resolved object and the URL to navigate to.
async fn logout_object(inner: &Client, options: Option<LogoutInit>) -> Result<(JsValue, Option<String>), JsValue> {
    let (redirect, state) = logout_options(options)?;
    let out = inner.logout(redirect.as_deref(), state).await.map_err(to_js)?;
    let obj = js_sys::Object::new();
    if let Some(url) = &out.url {
        js_sys::Reflect::set(&obj, &"url".into(), &url.as_str().into())?;
    }
    if let Some(state) = &out.state {
        js_sys::Reflect::set(&obj, &"state".into(), &state.as_str().into())?;
    }
    js_sys::Reflect::set(&obj, &"revoked".into(), &out.revoked.map_or(JsValue::NULL, JsValue::from_bool))?;
    if let Some(e) = out.revocation_error {
        js_sys::Reflect::set(&obj, &"revocationError".into(), &to_js(e))?;
    }
    Ok((obj.into(), out.url))
}

#[wasm_bindgen(js_class = KeyBoundClient)]
impl JsClient {
    /// Starts a login: a fresh non-extractable key, and `state`, `nonce` and PKCE verifier stored
    /// in IndexedDB. Resolves to the authorization URL to navigate to, the `state`, and the key's
    /// IndexedDB id (`loadDPoPKeyPair(keyId)`). `options` may ask for `maxAge` and `acrValues`;
    /// the pending login remembers them and `finishLogin` checks `auth_time` and `acr`.
    #[wasm_bindgen(js_name = startLogin, unchecked_return_type = "Promise<{ url: string; state: string; keyId: string }>")]
    pub fn start_login(&self, options: Option<LoginInit>) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let options = login_options(options)?;
            let (url, state, key_id) = inner.start_login(&options).await.map_err(to_js)?;
            let obj = js_sys::Object::new();
            js_sys::Reflect::set(&obj, &"url".into(), &url.into())?;
            js_sys::Reflect::set(&obj, &"state".into(), &state.into())?;
            js_sys::Reflect::set(&obj, &"keyId".into(), &key_id.into())?;
            Ok(obj.into())
        }))
    }

    /// `startLogin(options)`, then navigates the Window to the authorization URL.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn login(&self, options: Option<LoginInit>) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let options = login_options(options)?;
            let location = get(&js_sys::global(), "location");
            let assign = get(&location, "assign");
            let Some(assign) = assign.dyn_ref::<js_sys::Function>() else {
                return Err(core_to_js(Error::arg("login", "needs a Window; in a Worker use startLogin()")));
            };
            let (url, _, _) = inner.start_login(&options).await.map_err(to_js)?;
            assign.call1(&location, &url.into())?;
            Ok(JsValue::UNDEFINED)
        }))
    }

    /// Finishes the login from the callback URL (default: the current location). Resolves to the
    /// session.
    #[wasm_bindgen(js_name = finishLogin, unchecked_return_type = "Promise<KeyBoundSession>")]
    pub fn finish_login(&self, url: Option<OptionalString>) -> js_sys::Promise {
        let url: JsValue = url.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let url = callback_url(&url)?;
            let session = inner.finish_login(&url).await.map_err(to_js)?;
            session_object(&session)
        }))
    }

    /// Logs out without navigating: revokes the refresh token (RFC 7009, with a DPoP proof when
    /// it is DPoP-bound) when the OP has a revocation endpoint, deletes the key and the session
    /// (other tabs and workers see it at once), and resolves to the OP's end-session URL with
    /// `id_token_hint`, `client_id`, `post_logout_redirect_uri` and `state`. A failed revocation
    /// is reported (`revoked: false`, `revocationError`), never kept as a session.
    #[wasm_bindgen(js_name = startLogout, unchecked_return_type = "Promise<KeyBoundLogout>")]
    pub fn start_logout(&self, options: Option<LogoutInit>) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move { logout_object(&inner, options).await.map(|(obj, _)| obj) }))
    }

    /// `startLogout(options)`, then navigates the Window to the end-session URL (when the OP has
    /// one). Resolves to the same object.
    #[wasm_bindgen(unchecked_return_type = "Promise<KeyBoundLogout>")]
    pub fn logout(&self, options: Option<LogoutInit>) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let location = get(&js_sys::global(), "location");
            let assign = get(&location, "assign");
            let Some(assign) = assign.dyn_ref::<js_sys::Function>() else {
                return Err(core_to_js(Error::arg("logout", "needs a Window; in a Worker use startLogout()")));
            };
            let (obj, url) = logout_object(&inner, options).await?;
            if let Some(url) = url {
                assign.call1(&location, &url.into())?;
            }
            Ok(obj)
        }))
    }

    /// Checks the post-logout redirect (default: the current location) against the `state` of a
    /// logout started by this origin. Rejects with `ERR_STATE_MISMATCH`.
    #[wasm_bindgen(js_name = finishLogout, unchecked_return_type = "Promise<void>")]
    pub fn finish_logout(&self, url: Option<OptionalString>) -> js_sys::Promise {
        let url: JsValue = url.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let url = callback_url(&url)?;
            inner.finish_logout(&url).await.map_err(to_js)?;
            Ok(JsValue::UNDEFINED)
        }))
    }
}
