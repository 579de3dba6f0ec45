//! keybound errors as JavaScript values: a real `Error` (so `instanceof Error` and stack
//! traces work) named `KeyboundError`, with a stable `code`, the browser's exception as `cause`
//! when there was one, and `argument` for `ERR_INVALID_ARGUMENT`.

use wasm_bindgen::prelude::*;

use crate::browser::BrowserError;
use crate::error::{Error, ERROR_CODE_TS};

#[wasm_bindgen(typescript_custom_section)]
const TS_ERROR_CODE: &'static str = ERROR_CODE_TS;

#[wasm_bindgen(typescript_custom_section)]
const TS_ERROR: &'static str = r#"
/**
 * Every keybound failure rejects (or throws) a real `Error` whose `name` is `"KeyboundError"`
 * and whose `code` is one of {@link ErrorCode}. Branch on `code`, never on `message`.
 */
export interface KeyboundError extends Error {
  name: "KeyboundError";
  code: ErrorCode;
  /** The browser's own exception (a DOMException or Error), for failures inside a browser API. */
  cause?: unknown;
  /** For `ERR_INVALID_ARGUMENT`: the argument at fault. */
  argument?: string;
}
"#;

/// Converts a browser-layer error into a JavaScript `Error`.
pub fn to_js(err: BrowserError) -> JsValue {
    err.into_js()
}

/// Converts a core error into a JavaScript `Error`.
pub fn core_to_js(err: Error) -> JsValue {
    to_js(err.into())
}
