//! HTTP through gloo-net (the global `fetch`, so it works in Workers): sends the protocol core's
//! [`HttpRequest`]s and returns [`HttpResponse`]s. Redirects are refused: no proof-bearing request
//! follows one (a redirect would carry the DPoP proof to another URI).

use gloo_net::http::{Method, RequestBuilder};
use web_sys::RequestRedirect;

use super::js::{BrowserError, Result};
use crate::error::Error;
use crate::protocol::oauth::{HttpRequest, HttpResponse};

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

/// Builds a gloo-net request (method, headers, redirects refused).
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` for an invalid method.
pub(crate) fn builder(method: &str, url: &str, headers: &[(&str, &str)]) -> crate::Result<RequestBuilder> {
    let method = Method::from_bytes(normalize_method(method)?.as_bytes()).map_err(|_| Error::arg("method", "must be an HTTP method token"))?;
    let mut b = RequestBuilder::new(url).method(method).redirect(RequestRedirect::Error);
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
/// `ERR_NETWORK`.
pub async fn send_with_date(req: &HttpRequest) -> Result<(HttpResponse, Option<String>)> {
    let headers: Vec<(&str, &str)> = req.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let b = builder(req.method, &req.url, &headers)?;
    let response = if req.body.is_empty() {
        b.send().await
    } else {
        b.body(req.body.as_str()).map_err(|e| network(&req.url, e))?.send().await
    }
    .map_err(|e| network(&req.url, e))?;
    let date = response.headers().get("date");
    let body = response.text().await.map_err(|e| network(&req.url, e))?;
    Ok((
        HttpResponse { status: response.status(), content_type: response.headers().get("content-type"), dpop_nonce: response.headers().get("dpop-nonce"), body },
        date,
    ))
}

/// Sends a request and reads the whole response.
///
/// # Errors
/// `ERR_NETWORK` when the request could not be made or the body not read.
pub async fn send(req: &HttpRequest) -> Result<HttpResponse> {
    Ok(send_with_date(req).await?.0)
}
