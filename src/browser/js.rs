//! JavaScript values at the boundary: errors keep the original exception as `cause`, and
//! nothing here unwraps a value that came from JavaScript.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::error::{Error, Field};

/// A keybound [`Error`] plus, for failures inside a browser API, the original exception (a
/// `DOMException` or `Error`), which the bindings expose to JavaScript as `cause`.
#[derive(Debug, Clone)]
pub struct BrowserError {
    /// The coded error.
    pub error: Error,
    /// The browser's own exception, when there was one.
    pub cause: Option<JsValue>,
}

impl From<Error> for BrowserError {
    fn from(error: Error) -> Self {
        BrowserError { error, cause: None }
    }
}

impl BrowserError {
    /// This error as a JavaScript `Error` named `KeyboundError`, with `code`, `cause` (the
    /// browser's exception, when there was one) and every structured field of the error
    /// ([`Error::fields`]: `argument`, `claim`, `kid`, `status`, `error`, `dpopNonce`, …), on
    /// every path.
    pub fn into_js(self) -> JsValue {
        let js = js_sys::Error::new(&self.error.to_string());
        js.set_name("KeyboundError");
        // Setting own properties on a fresh Error cannot throw.
        let _ = Reflect::set(&js, &"code".into(), &self.error.code().as_str().into());
        if let Some(cause) = self.cause {
            let _ = Reflect::set(&js, &"cause".into(), &cause);
        }
        self.error.each_field(|name, value| {
            let value = match value {
                Field::Str(v) => JsValue::from_str(&v),
                Field::Num(n) => JsValue::from_f64(n as f64),
                Field::Null => JsValue::NULL,
                Field::Bool(b) => JsValue::from_bool(b),
            };
            let _ = Reflect::set(&js, &JsValue::from_str(name), &value);
        });
        js.into()
    }
}

/// Result type of the browser layer.
pub type Result<T, E = BrowserError> = std::result::Result<T, E>;

/// Reads a string property, or `""`.
pub(crate) fn string_prop(value: &JsValue, name: &str) -> String {
    Reflect::get(value, &JsValue::from_str(name)).ok().and_then(|v| v.as_string()).unwrap_or_default()
}

/// `name: message` of a thrown value, whatever it is.
pub(crate) fn describe(value: &JsValue) -> (String, String) {
    let name = string_prop(value, "name");
    let message = string_prop(value, "message");
    if name.is_empty() && message.is_empty() {
        let text = value.as_string().or_else(|| js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string()));
        return ("Error".to_owned(), text.unwrap_or_else(|| "unknown exception".to_owned()));
    }
    (name, message)
}

/// Maps a WebCrypto rejection to `ERR_CRYPTO_OPERATION`, keeping the exception as cause.
pub(crate) fn crypto_error(operation: &'static str) -> impl Fn(JsValue) -> BrowserError {
    move |cause| {
        let (name, message) = describe(&cause);
        BrowserError { error: Error::CryptoOperation { operation, message: format!("{name}: {message}") }, cause: Some(cause) }
    }
}

/// Maps an IndexedDB failure to `ERR_KEY_STORE`, keeping the exception as cause.
pub(crate) fn store_error(operation: &'static str) -> impl Fn(JsValue) -> BrowserError {
    move |cause| {
        let (name, message) = describe(&cause);
        BrowserError { error: Error::KeyStore { operation, message: format!("{name}: {message}") }, cause: Some(cause) }
    }
}

/// Builds a plain object from key/value pairs. Setting a property on a fresh plain object
/// cannot throw, so the results are ignored.
pub(crate) fn object(entries: &[(&str, JsValue)]) -> js_sys::Object {
    let obj = js_sys::Object::new();
    for (k, v) in entries {
        let _ = Reflect::set(&obj, &JsValue::from_str(k), v);
    }
    obj
}

/// `globalThis[name]`, or `None` when it is missing, `undefined` or `null`.
pub(crate) fn global_prop(name: &str) -> Option<JsValue> {
    let value = Reflect::get(&js_sys::global(), &JsValue::from_str(name)).ok()?;
    (!value.is_undefined() && !value.is_null()).then_some(value)
}

/// Whether the current global scope is a worker (`WorkerGlobalScope` is exposed only there).
pub fn in_worker() -> bool {
    global_prop("WorkerGlobalScope").is_some()
}

/// Current time in whole seconds since the epoch: kept here for the callers that import it from
/// this module; the clock lives in [`super::platform`].
pub use super::platform::now_secs;

/// Whether `globalThis[name]` is present (not `undefined`/`null`).
pub fn global_prop_exists(name: &str) -> bool {
    global_prop(name).is_some()
}
