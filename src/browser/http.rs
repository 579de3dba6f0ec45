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

/// Builds a gloo-net request (method, headers, redirects refused).
pub(crate) fn builder(method: &str, url: &str, headers: &[(&str, &str)]) -> RequestBuilder {
    let method = match method {
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        "DELETE" => Method::DELETE,
        "PATCH" => Method::PATCH,
        "HEAD" => Method::HEAD,
        _ => Method::GET,
    };
    let mut b = RequestBuilder::new(url).method(method).redirect(RequestRedirect::Error);
    for (name, value) in headers {
        b = b.header(name, value);
    }
    b
}

/// Sends a request and reads the whole response.
///
/// # Errors
/// `ERR_NETWORK` when the request could not be made or the body not read.
pub async fn send(req: &HttpRequest) -> Result<HttpResponse> {
    let headers: Vec<(&str, &str)> = req.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let b = builder(req.method, &req.url, &headers);
    let response = if req.body.is_empty() {
        b.send().await
    } else {
        b.body(req.body.as_str()).map_err(|e| network(&req.url, e))?.send().await
    }
    .map_err(|e| network(&req.url, e))?;
    let body = response.text().await.map_err(|e| network(&req.url, e))?;
    Ok(HttpResponse {
        status: response.status(),
        content_type: response.headers().get("content-type"),
        dpop_nonce: response.headers().get("dpop-nonce"),
        body,
    })
}
