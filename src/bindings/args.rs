//! Decoding JavaScript arguments in Rust, so that a wrong type is a coded `ERR_INVALID_ARGUMENT`
//! (with `argument`) and never a trap or an uncoded throw.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;

use wasm_bindgen::JsValue;

use super::errors::core_to_js;
use crate::error::Error;
use crate::protocol::id_token::BindingPolicy;

/// A boxed future resolving to a JS value; every async export goes through [`promise`].
pub type JsFuture = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// Turns a future into a Promise. One non-generic function, so the promise machinery is
/// instantiated once in the wasm instead of once per export.
pub fn promise(fut: JsFuture) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(fut)
}

thread_local! {
    /// Property keys made once: a JS string made from Rust costs a `TextDecoder` call each
    /// time, and option names are read on every call.
    static KEYS: RefCell<Vec<(&'static str, JsValue)>> = const { RefCell::new(Vec::new()) };
    /// The last string read for some option names, with its JS value: an option that is `===`
    /// to the last one is not transferred again. Only for non-secret options.
    static LAST_STRINGS: RefCell<Vec<(&'static str, JsValue, String)>> = const { RefCell::new(Vec::new()) };
}

/// The JS property key `name`, made once.
pub fn key(name: &'static str) -> JsValue {
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if let Some((_, k)) = keys.iter().find(|(n, _)| std::ptr::eq(*n, name) || *n == name) {
            return k.clone();
        }
        let k = JsValue::from_str(name);
        keys.push((name, k.clone()));
        k
    })
}

/// `obj[name]`, or `undefined`.
pub fn get(obj: &JsValue, name: &'static str) -> JsValue {
    js_sys::Reflect::get(obj, &key(name)).unwrap_or(JsValue::UNDEFINED)
}

/// As [`opt_str`], but the string is kept and reused while the option's value stays `===` to
/// the last one. For options that are not secret (issuer, client id, thumbprints, nonces).
pub fn opt_str_reused(obj: &JsValue, name: &'static str) -> Result<Option<String>, JsValue> {
    let v = get(obj, name);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    let hit = LAST_STRINGS.with(|last| last.borrow().iter().find(|(n, js, _)| *n == name && *js == v).map(|(_, _, s)| s.clone()));
    if let Some(s) = hit {
        return Ok(Some(s));
    }
    let s = string_arg(&v, name)?;
    LAST_STRINGS.with(|last| {
        let mut last = last.borrow_mut();
        last.retain(|(n, _, _)| *n != name);
        last.push((name, v, s.clone()));
    });
    Ok(Some(s))
}

/// A string argument.
pub fn string_arg(value: &JsValue, name: &'static str) -> Result<String, JsValue> {
    value.as_string().ok_or_else(|| core_to_js(Error::arg(name, "must be a string")))
}

/// An object argument.
pub fn object_arg(value: &JsValue, name: &'static str) -> Result<(), JsValue> {
    if value.is_object() {
        Ok(())
    } else {
        Err(core_to_js(Error::arg(name, "must be an object")))
    }
}

/// An optional string member: `undefined`/`null` → `None`, a string → `Some`, else an error.
pub fn opt_str(obj: &JsValue, name: &'static str) -> Result<Option<String>, JsValue> {
    let v = get(obj, name);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    string_arg(&v, name).map(Some)
}

/// A required string member.
pub fn req_str(obj: &JsValue, name: &'static str) -> Result<String, JsValue> {
    opt_str(obj, name)?.ok_or_else(|| core_to_js(Error::arg(name, "is required")))
}

/// The member `name` of `obj`, decoded into `T` with serde-wasm-bindgen (no JSON text in
/// between): `Option<bool>`, `Option<f64>`, `Option<String>`, `Option<Vec<String>>`, ... A value
/// of another type is `ERR_INVALID_ARGUMENT` naming the member, never a silent default;
/// `undefined` and `null` are `None`.
pub fn member<T: serde::de::DeserializeOwned>(obj: &JsValue, name: &'static str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(get(obj, name)).map_err(|_| core_to_js(Error::arg(name, "is of the wrong type (see the typings)")))
}

/// The `binding` option: `"required"` (default) or `"preferred"`.
pub fn binding_policy(obj: &JsValue) -> Result<BindingPolicy, JsValue> {
    match opt_str(obj, "binding")?.as_deref() {
        None | Some("required") => Ok(BindingPolicy::Required),
        Some("preferred") => Ok(BindingPolicy::Preferred),
        Some(_) => Err(core_to_js(Error::arg("binding", "must be \"required\" or \"preferred\""))),
    }
}

/// The `timeout` option (milliseconds, 1 to 600,000), if given.
pub fn timeout_option(options: &JsValue) -> Result<Option<u32>, JsValue> {
    let v = get(options, "timeout");
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(ms) if ms.fract() == 0.0 && (1.0..=f64::from(crate::browser::http::MAX_TIMEOUT_MS)).contains(&ms) => Ok(Some(ms as u32)),
        _ => Err(core_to_js(Error::arg("timeout", "must be a whole number of milliseconds from 1 to 600000"))),
    }
}

/// An optional boolean member: absent (`undefined`/`null`) is `default`; anything but a boolean
/// is `ERR_INVALID_ARGUMENT` naming it (a `"true"` string is never read as `false`).
pub fn opt_bool(obj: &JsValue, name: &'static str, default: bool) -> Result<bool, JsValue> {
    let v = get(obj, name);
    if v.is_undefined() || v.is_null() {
        return Ok(default);
    }
    v.as_bool().ok_or_else(|| core_to_js(Error::arg(name, "must be a boolean")))
}

/// An optional whole number of seconds in `min..=max`: absent is `default`; anything else
/// (a string, a fraction, out of range) is `ERR_INVALID_ARGUMENT` naming it.
pub fn opt_seconds(obj: &JsValue, name: &'static str, default: i64, min: i64, max: i64) -> Result<i64, JsValue> {
    let v = get(obj, name);
    if v.is_undefined() || v.is_null() {
        return Ok(default);
    }
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= min as f64 && n <= max as f64 => Ok(n as i64),
        _ => Err(core_to_js(Error::arg(name, "must be a whole number of seconds in range"))),
    }
}

/// A day, in seconds: the largest clock tolerance and proof age accepted.
pub const DAY: i64 = 86_400;
/// The largest `currentDate` accepted: JavaScript's largest safe integer.
pub const MAX_TIME: i64 = 9_007_199_254_740_991;
