//! Reading `KeyBoundClient`'s option objects.

use wasm_bindgen::prelude::*;

use super::super::args::{get, object_arg, opt_str, string_arg};
use super::super::errors::core_to_js;
use super::{LoginInit, LogoutInit};
use crate::browser::client::{Client, LoginOptions};
use crate::error::Error;

/// The deadline of one `fetch`/`presentTo`: `init.timeout` (else the client's) and `init.signal`.
pub(super) fn request_deadline(client: &Client, init: &JsValue) -> Result<crate::browser::http::Deadline, JsValue> {
    let mut deadline = client.deadline();
    if init.is_object() {
        if let Some(ms) = super::super::args::timeout_option(init)? {
            deadline.timeout_ms = ms;
        }
        let signal = get(init, "signal");
        if !signal.is_undefined() && !signal.is_null() {
            let signal =
                signal.dyn_into::<web_sys::AbortSignal>().map_err(|_| core_to_js(Error::arg("signal", "must be an AbortSignal")))?;
            deadline = deadline.with_signal(Some(signal));
        }
    }
    Ok(deadline)
}

/// Reads `startLogin`/`login` options (absent: nothing asked).
pub(super) fn login_options(options: Option<LoginInit>) -> Result<LoginOptions, JsValue> {
    let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
    if options.is_undefined() || options.is_null() {
        return Ok(LoginOptions::default());
    }
    object_arg(&options, "options")?;
    let max_age = match get(&options, "maxAge") {
        v if v.is_undefined() || v.is_null() => None,
        _ => Some(super::super::args::opt_seconds(&options, "maxAge", 0, 0, super::super::args::MAX_TIME)?),
    };
    let bad_acr = || core_to_js(Error::arg("acrValues", "must be a string or an array of strings without spaces"));
    let acr_values = match get(&options, "acrValues") {
        v if v.is_undefined() || v.is_null() => None,
        v if v.is_string() => v.as_string(),
        v if js_sys::Array::is_array(&v) => {
            let mut joined = String::new();
            for item in js_sys::Array::from(&v).iter() {
                match item.as_string() {
                    Some(s) if !s.is_empty() && !s.contains(' ') => {
                        if !joined.is_empty() {
                            joined.push(' ');
                        }
                        joined.push_str(&s);
                    }
                    _ => return Err(bad_acr()),
                }
            }
            Some(joined)
        }
        _ => return Err(bad_acr()),
    };
    Ok(LoginOptions { max_age, acr_values, require_acr: super::super::args::opt_bool(&options, "requireAcr", false)? })
}

/// The `postLogoutRedirectUri` and `state` of `startLogout`/`logout` options (absent: neither).
pub(super) fn logout_options(options: Option<LogoutInit>) -> Result<(Option<String>, Option<String>), JsValue> {
    let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
    let (mut redirect, mut state) = (None, None);
    if !options.is_undefined() && !options.is_null() {
        object_arg(&options, "options")?;
        redirect = opt_str(&options, "postLogoutRedirectUri")?;
        state = opt_str(&options, "state")?;
    }
    Ok((redirect, state))
}

/// The callback URL a `finish*` call was given, or the current location when it was given none.
pub(super) fn callback_url(url: &JsValue) -> Result<String, JsValue> {
    if url.is_undefined() || url.is_null() {
        Ok(get(&get(&js_sys::global(), "location"), "href").as_string().unwrap_or_default())
    } else {
        string_arg(url, "url")
    }
}
