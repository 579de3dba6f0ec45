//! Decoding JavaScript arguments in Rust, so that a wrong type is a coded `ERR_INVALID_ARGUMENT`
//! (with `argument`) and never a trap or an uncoded throw.

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

/// `obj[name]`, or `undefined`.
pub fn get(obj: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
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

/// The `binding` option: `"required"` (default) or `"preferred"`.
pub fn binding_policy(obj: &JsValue) -> Result<BindingPolicy, JsValue> {
    match opt_str(obj, "binding")?.as_deref() {
        None | Some("required") => Ok(BindingPolicy::Required),
        Some("preferred") => Ok(BindingPolicy::Preferred),
        Some(_) => Err(core_to_js(Error::arg("binding", "must be \"required\" or \"preferred\""))),
    }
}
