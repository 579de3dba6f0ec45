//! `KeyBoundClient.loginPopup` and `KeyBoundClient.handlePopupCallback`: the popup login
//! (`crate::browser::popup`) for JavaScript.

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::super::args::{get, opt_str, promise};
use super::super::errors::{core_to_js, to_js};
use super::options::{callback_url, login_options};
use super::session::session_object;
use super::{JsClient, LoginInit, OptionalString};
use crate::browser::popup::{self, Popup, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS};
use crate::error::Error;

#[wasm_bindgen(typescript_custom_section)]
const TS_POPUP: &'static str = r#"
/** The options of `loginPopup`: what one login asks (`KeyBoundLoginOptions`), and the popup's own. */
export interface KeyBoundPopupOptions extends KeyBoundLoginOptions {
  /** Milliseconds to wait for the popup to come back before `ERR_POPUP_TIMEOUT`. A whole number from 1 to 3600000. Default 300000 (5 minutes). */
  timeout?: number;
  /** Gives up waiting (`ERR_CANCELLED`): the popup is closed and the pending login deleted. */
  signal?: AbortSignal;
  /** The `features` of `window.open`. Default `"popup,width=500,height=650"`. */
  features?: string;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// The `options` argument of `loginPopup`.
    #[wasm_bindgen(typescript_type = "KeyBoundPopupOptions")]
    pub type PopupInit;
}

/// The popup's own options: timeout (ms), `open` features, signal.
fn popup_options(options: &JsValue) -> Result<(u32, String, Option<web_sys::AbortSignal>), JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok((DEFAULT_TIMEOUT_MS, "popup,width=500,height=650".to_owned(), None));
    }
    let timeout = match get(options, "timeout") {
        v if v.is_undefined() || v.is_null() => DEFAULT_TIMEOUT_MS,
        v => match v.as_f64() {
            Some(ms) if ms.fract() == 0.0 && (1.0..=f64::from(MAX_TIMEOUT_MS)).contains(&ms) => ms as u32,
            _ => return Err(core_to_js(Error::arg("timeout", "must be a whole number of milliseconds from 1 to 3600000"))),
        },
    };
    let features = opt_str(options, "features")?.unwrap_or_else(|| "popup,width=500,height=650".to_owned());
    let signal = match get(options, "signal") {
        v if v.is_undefined() || v.is_null() => None,
        v => Some(v.dyn_into::<web_sys::AbortSignal>().map_err(|_| core_to_js(Error::arg("signal", "must be an AbortSignal")))?),
    };
    Ok((timeout, features, signal))
}

#[wasm_bindgen(js_class = KeyBoundClient)]
impl JsClient {
    /// Logs in in a popup and resolves to the session, without leaving the page. Call it from a
    /// click handler: the popup opens at once, before anything is awaited. The redirect page, in
    /// the popup, calls `KeyBoundClient.handlePopupCallback()`, which hands the callback back to
    /// this page; the login is finished here with the checks of `finishLogin` (key binding
    /// included). Rejects with `ERR_POPUP_BLOCKED` (nothing was started), `ERR_POPUP_CLOSED`,
    /// `ERR_POPUP_TIMEOUT`, `ERR_CANCELLED` (the pending login and its key are deleted in each),
    /// and what `startLogin` and `finishLogin` reject with. In a Worker: `ERR_INVALID_ARGUMENT`.
    #[wasm_bindgen(js_name = loginPopup, unchecked_return_type = "Promise<KeyBoundSession>")]
    pub fn login_popup(&self, options: Option<PopupInit>) -> js_sys::Promise {
        let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        // Everything that can be refused before the popup opens is checked now, and the popup is
        // opened synchronously, within the user's click.
        let checked = login_options(Some(options.clone().unchecked_into::<LoginInit>()))
            .and_then(|login| popup_options(&options).map(|p| (login, p)))
            .and_then(|(login, (timeout, features, signal))| {
                let popup = Popup::open(&features).map_err(to_js)?;
                Ok((login, timeout, signal, popup))
            });
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let (login, timeout, signal, popup) = checked?;
            let session = popup::login(&inner, popup, &login, timeout, signal.as_ref()).await.map_err(to_js)?;
            session_object(&session)
        }))
    }

    /// For the redirect page: when `url` (default: the current location) is the callback of a
    /// `loginPopup` started by this origin, hands it to the page that opened the popup
    /// (`postMessage` to this origin only, and this origin's `BroadcastChannel`), closes the
    /// popup and resolves to `true`: do nothing more. Otherwise resolves to `false` and touches
    /// nothing: finish a redirect login with `finishLogin` as usual. Needs no client, so call it
    /// before `discover`.
    #[wasm_bindgen(js_name = handlePopupCallback, unchecked_return_type = "Promise<boolean>")]
    pub fn handle_popup_callback(url: Option<OptionalString>) -> js_sys::Promise {
        let url: JsValue = url.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        promise(Box::pin(async move {
            let url = callback_url(&url)?;
            Ok(popup::hand_back(&url).await.map_err(to_js)?.into())
        }))
    }
}
