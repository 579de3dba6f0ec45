//! HTTP through gloo-net (the global `fetch`, so it works in Workers): sends the protocol core's
//! [`HttpRequest`]s and returns [`HttpResponse`]s. Redirects are refused: no proof-bearing request
//! follows one (a redirect would carry the DPoP proof to another URI).

use gloo_net::http::{Method, RequestBuilder};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use web_sys::{AbortSignal, RequestRedirect};

use super::js::{BrowserError, Result};
use crate::error::Error;
use crate::protocol::oauth::{HttpRequest, HttpResponse};

/// How long a request may take when the caller says nothing: 30 seconds.
pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;
/// The longest timeout accepted: 10 minutes.
pub const MAX_TIMEOUT_MS: u32 = 600_000;

/// When a request must give up: after `timeout_ms`, or when the caller's `signal` aborts. Every
/// request keybound makes carries one, so no request waits forever for a server that never
/// answers (the whole exchange is covered: the response headers and reading the body).
#[derive(Clone, Debug)]
pub struct Deadline {
    /// Milliseconds before the request is aborted with `ERR_TIMEOUT`.
    pub timeout_ms: u32,
    /// The caller's signal: aborting it aborts the request with `ERR_CANCELLED`.
    pub signal: Option<AbortSignal>,
}

impl Default for Deadline {
    fn default() -> Self {
        Deadline { timeout_ms: DEFAULT_TIMEOUT_MS, signal: None }
    }
}

impl Deadline {
    /// This deadline with the caller's `signal` (when there is one) as well.
    pub fn with_signal(&self, signal: Option<AbortSignal>) -> Deadline {
        Deadline { timeout_ms: self.timeout_ms, signal: signal.or_else(|| self.signal.clone()) }
    }
}

#[wasm_bindgen]
extern "C" {
    /// `AbortSignal.timeout(ms)`: a signal the browser aborts after `ms` (no timer to clear).
    #[wasm_bindgen(js_namespace = AbortSignal, js_name = timeout, catch)]
    fn abort_signal_timeout(ms: u32) -> std::result::Result<AbortSignal, JsValue>;
    /// `AbortSignal.any(signals)`: aborts when any of them does.
    #[wasm_bindgen(js_namespace = AbortSignal, js_name = any, catch)]
    fn abort_signal_any(signals: &js_sys::Array) -> std::result::Result<AbortSignal, JsValue>;
}

/// The signal of one request: the timeout's, combined with the caller's.
///
/// # Errors
/// `ERR_CANCELLED` when the caller's signal is already aborted; `ERR_NETWORK` when the platform
/// has no `AbortSignal.timeout` / `AbortSignal.any` (Chromium 116, Firefox 124, Safari 17.4,
/// Node 20.3 have both).
fn request_signal(url: &str, deadline: &Deadline) -> Result<AbortSignal> {
    if deadline.signal.as_ref().is_some_and(AbortSignal::aborted) {
        return Err(Error::Cancelled.into());
    }
    let unsupported = |_| {
        BrowserError::from(Error::Network {
            url: url.to_owned(),
            message: "this platform has no AbortSignal.timeout/any, which keybound needs to bound every request".into(),
        })
    };
    let timeout = abort_signal_timeout(deadline.timeout_ms.clamp(1, MAX_TIMEOUT_MS)).map_err(unsupported)?;
    match &deadline.signal {
        None => Ok(timeout),
        Some(signal) => abort_signal_any(&js_sys::Array::of2(&timeout, signal)).map_err(unsupported),
    }
}

/// The error of a request that failed: cancelled by the caller, timed out, or a network error.
fn failure(url: &str, deadline: &Deadline, signal: &AbortSignal, err: gloo_net::Error) -> BrowserError {
    if deadline.signal.as_ref().is_some_and(AbortSignal::aborted) {
        return Error::Cancelled.into();
    }
    if signal.aborted() {
        return Error::Timeout { url: url.to_owned(), timeout_ms: deadline.timeout_ms }.into();
    }
    network(url, err)
}

fn network(url: &str, err: gloo_net::Error) -> BrowserError {
    let message = match err {
        gloo_net::Error::JsError(e) => format!("{}: {}", e.name, e.message),
        other => other.to_string(),
    };
    Error::Network { url: url.to_owned(), message }.into()
}

/// Normalizes a method as `fetch` does: the standard methods upper-cased, case-insensitively;
/// any other valid token kept as is (methods are case-sensitive).
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` for something that is not an HTTP method token.
pub fn normalize_method(method: &str) -> crate::Result<String> {
    const STANDARD: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    if let Some(m) = STANDARD.iter().find(|m| m.eq_ignore_ascii_case(method)) {
        return Ok((*m).to_owned());
    }
    Method::from_bytes(method.as_bytes()).map(|_| method.to_owned()).map_err(|_| Error::arg("method", "must be an HTTP method token"))
}

/// Builds a gloo-net request (method, headers, redirects refused, aborted by `signal`).
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` for an invalid method.
fn builder(method: &str, url: &str, headers: &[(&str, &str)], signal: &AbortSignal) -> crate::Result<RequestBuilder> {
    let method =
        Method::from_bytes(normalize_method(method)?.as_bytes()).map_err(|_| Error::arg("method", "must be an HTTP method token"))?;
    let mut b = RequestBuilder::new(url).method(method).redirect(RequestRedirect::Error).abort_signal(Some(signal));
    for (name, value) in headers {
        b = b.header(name, value);
    }
    Ok(b)
}

/// The server's clock from a response's `Date` header, in seconds since the epoch (cross-origin
/// servers must list `Date` in `Access-Control-Expose-Headers` for the browser to show it).
pub fn server_time(date: Option<&str>) -> Option<i64> {
    let ms = js_sys::Date::parse(date?);
    ms.is_finite().then(|| (ms / 1000.0).floor() as i64)
}

/// Sends a request and reads the whole response; also returns the `Date` header.
///
/// # Errors
/// `ERR_NETWORK`, `ERR_TIMEOUT`, `ERR_CANCELLED`.
pub async fn send_with_date(req: &HttpRequest, deadline: &Deadline) -> Result<(HttpResponse, Option<String>)> {
    let headers: Vec<(&str, &str)> = req.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let signal = request_signal(&req.url, deadline)?;
    let b = builder(req.method, &req.url, &headers, &signal)?;
    let fail = |e| failure(&req.url, deadline, &signal, e);
    let response =
        if req.body.is_empty() { b.send().await } else { b.body(req.body.as_str()).map_err(fail)?.send().await }.map_err(fail)?;
    let date = response.headers().get("date");
    let body = response.text().await.map_err(fail)?;
    Ok((
        HttpResponse {
            status: response.status(),
            content_type: response.headers().get("content-type"),
            dpop_nonce: response.headers().get("dpop-nonce"),
            body,
        },
        date,
    ))
}

/// Sends a request and reads the whole response.
///
/// # Errors
/// `ERR_NETWORK` when the request could not be made or the body not read; `ERR_TIMEOUT`,
/// `ERR_CANCELLED`.
pub async fn send(req: &HttpRequest, deadline: &Deadline) -> Result<HttpResponse> {
    Ok(send_with_date(req, deadline).await?.0)
}

/// Sends a request whose response is handed back unread (`client.fetch`, `presentTo`). The
/// timeout and the caller's signal stay attached to the response: they also bound reading its
/// body (a longer download needs a longer `timeout`).
///
/// # Errors
/// `ERR_INVALID_ARGUMENT`, `ERR_NETWORK`, `ERR_TIMEOUT`, `ERR_CANCELLED`.
pub async fn send_raw(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    deadline: &Deadline,
) -> Result<gloo_net::http::Response> {
    let signal = request_signal(url, deadline)?;
    let b = builder(method, url, headers, &signal)?;
    let fail = |e| failure(url, deadline, &signal, e);
    match body {
        Some(text) => b.body(text).map_err(fail)?.send().await,
        None => b.send().await,
    }
    .map_err(fail)
}
