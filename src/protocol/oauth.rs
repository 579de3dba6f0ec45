//! OpenID Connect endpoints as request builders and response processors (the caller owns I/O):
//! discovery, the authorization request with Key Binding (KB §2.1), the callback (RFC 9207),
//! and the token endpoint for the code and refresh grants (KB §2.3, §5; RFC 9449 §8).
//!
//! Builders never retry and never send anything; processors turn an [`HttpResponse`] into data
//! or a coded error. `use_dpop_nonce` comes back as `ERR_USE_DPOP_NONCE` carrying the nonce; the
//! caller retries once with a new proof.

use std::fmt;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::protocol::htu::{check_http_url, Htu};
use crate::protocol::secret::{RedactedForm, RedactedHeaders, RedactedJson, Secret};

/// An HTTP request to send. `Debug` redacts secrets (codes, PKCE verifiers, refresh tokens,
/// device codes, DPoP proofs): only non-secret form parameters and headers are shown.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpRequest {
    /// Method.
    pub method: &'static str,
    /// Absolute URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(&'static str, String)>,
    /// Form-encoded body (empty for GET).
    pub body: String,
}

/// An HTTP response as received. `Debug` redacts the body (tokens), showing only non-secret
/// JSON members.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The `DPoP-Nonce` header, if any (RFC 9449 §8).
    pub dpop_nonce: Option<String>,
    /// The body text.
    pub body: String,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("body", &RedactedForm(&self.body))
            .finish()
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("dpop_nonce", &self.dpop_nonce)
            .field("body", &RedactedJson(&self.body))
            .finish()
    }
}

// ---- Discovery -------------------------------------------------------------------------------

/// Checks an issuer identifier: https, or http on a loopback host (development), no query or
/// fragment (OIDC Discovery §2).
///
/// # Errors
/// `ERR_URL_INVALID`.
pub fn check_issuer(issuer: &str) -> Result<()> {
    check_http_url(issuer)?;
    if issuer.contains(['?', '#']) {
        return Err(Error::UrlInvalid { reason: "an issuer has no query or fragment" });
    }
    let lower = issuer.to_ascii_lowercase();
    let loopback = ["http://localhost", "http://127.0.0.1", "http://[::1]"]
        .iter()
        .any(|p| lower.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/'])));
    if !lower.starts_with("https://") && !loopback {
        return Err(Error::UrlInvalid { reason: "an issuer must use https (http only on a loopback host)" });
    }
    Ok(())
}

/// The discovery request for an issuer (OIDC Discovery §4.1).
///
/// # Errors
/// `ERR_URL_INVALID` for an unusable issuer.
pub fn discovery_request(issuer: &str) -> Result<HttpRequest> {
    check_issuer(issuer)?;
    Ok(HttpRequest {
        method: "GET",
        url: format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/')),
        headers: vec![("accept", "application/json".to_owned())],
        body: String::new(),
    })
}

/// The OP metadata keybound uses (OpenID Connect Discovery 1.0 §3, RFC 8414 §2, RFC 9449 §5.1, RFC 9126 §5).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// Issuer identifier; equal to the configured issuer.
    pub issuer: String,
    /// Authorization endpoint.
    pub authorization_endpoint: String,
    /// Token endpoint (used unchanged as DPoP `htu`).
    pub token_endpoint: String,
    /// JWKS URI.
    pub jwks_uri: String,
    /// UserInfo endpoint.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// Device authorization endpoint (RFC 8628).
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    /// Scopes; `bound_key` here is a hint of Key Binding support, not proof.
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    /// DPoP proof algorithms.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// ID Token signing algorithms.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// PKCE methods.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// RFC 9207: the authorization response carries `iss`.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 9126: the pushed authorization request endpoint.
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// RFC 9126 §5: the OP accepts authorization requests only through PAR.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// RFC 7009 token revocation endpoint.
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// OpenID Connect RP-Initiated Logout 1.0 endpoint.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

impl ProviderMetadata {
    /// Whether `bound_key` is listed in `scopes_supported` (a hint only: KB §2.1 does not require it).
    pub fn advertises_bound_key(&self) -> bool {
        self.scopes_supported.iter().any(|s| s == "bound_key")
    }
}

/// Whether `issuer` is an `https` issuer: then every URL it hands out must be `https` too (an
/// `http` issuer is only allowed on a loopback host, for development; see [`check_issuer`]).
fn issuer_is_https(issuer: &str) -> bool {
    issuer.get(..8).is_some_and(|p| p.eq_ignore_ascii_case("https://"))
}

/// Whether `url` is an absolute http(s) URL, and `https` when the issuer is.
fn url_fits_issuer(url: &str, issuer: &str) -> bool {
    Htu::parse(url).is_ok_and(|n| n.as_str().starts_with("https://") || (n.as_str().starts_with("http://") && !issuer_is_https(issuer)))
}

/// Processes a discovery response: `issuer` must equal `expected_issuer` exactly, and every
/// endpoint must be an absolute URL, `https` when the issuer is `https` (an `http` token
/// endpoint would leak codes and refresh tokens to the network).
///
/// # Errors
/// `ERR_OAUTH_RESPONSE_INVALID` (status), `ERR_JSON_INVALID`, `ERR_DISCOVERY_ISSUER_MISMATCH`,
/// `ERR_DISCOVERY_INVALID`.
pub fn process_discovery_response(response: &HttpResponse, expected_issuer: &str) -> Result<ProviderMetadata> {
    if response.status != 200 {
        return Err(Error::OAuthResponseInvalid { reason: "discovery did not answer 200", status: response.status });
    }
    let meta: ProviderMetadata = crate::protocol::json::object(response.body.as_bytes(), "discovery document")?;
    if meta.issuer != expected_issuer {
        return Err(Error::DiscoveryIssuerMismatch { found: meta.issuer });
    }
    for (url, reason) in [
        (Some(&meta.authorization_endpoint), "\"authorization_endpoint\" is not an absolute http(s) URL (https for an https issuer)"),
        (Some(&meta.token_endpoint), "\"token_endpoint\" is not an absolute http(s) URL (https for an https issuer)"),
        (Some(&meta.jwks_uri), "\"jwks_uri\" is not an absolute http(s) URL (https for an https issuer)"),
        (meta.userinfo_endpoint.as_ref(), "\"userinfo_endpoint\" is not an absolute http(s) URL (https for an https issuer)"),
        (
            meta.device_authorization_endpoint.as_ref(),
            "\"device_authorization_endpoint\" is not an absolute http(s) URL (https for an https issuer)",
        ),
        (
            meta.pushed_authorization_request_endpoint.as_ref(),
            "\"pushed_authorization_request_endpoint\" is not an absolute http(s) URL (https for an https issuer)",
        ),
        (meta.revocation_endpoint.as_ref(), "\"revocation_endpoint\" is not an absolute http(s) URL (https for an https issuer)"),
        (meta.end_session_endpoint.as_ref(), "\"end_session_endpoint\" is not an absolute http(s) URL (https for an https issuer)"),
    ] {
        if url.is_some_and(|u| !url_fits_issuer(u, expected_issuer)) {
            return Err(Error::DiscoveryInvalid { reason });
        }
    }
    if meta.require_pushed_authorization_requests && meta.pushed_authorization_request_endpoint.is_none() {
        return Err(Error::DiscoveryInvalid {
            reason: "\"require_pushed_authorization_requests\" without a \"pushed_authorization_request_endpoint\"",
        });
    }
    Ok(meta)
}

// ---- Authorization request and callback ------------------------------------------------------

/// The parameters of a key-bound authorization request (KB §2.1).
#[derive(Clone, Copy, Debug)]
pub struct AuthorizationRequest<'a> {
    /// From discovery.
    pub authorization_endpoint: &'a str,
    /// The client.
    pub client_id: &'a str,
    /// Registered redirect URI.
    pub redirect_uri: &'a str,
    /// Requested scopes, space-separated; `openid` and (with `dpop_jkt`) `bound_key` are added
    /// when missing.
    pub scope: &'a str,
    /// CSRF `state`.
    pub state: &'a str,
    /// OIDC `nonce`.
    pub nonce: &'a str,
    /// PKCE S256 challenge.
    pub code_challenge: &'a str,
    /// Thumbprint of the binding key; `None` for an unbound login.
    pub dpop_jkt: Option<&'a str>,
    /// OIDC `max_age`, seconds: the OP re-authenticates a user who signed in longer ago, and the
    /// ID Token must carry `auth_time` (check it with `id_token::check_authentication`).
    pub max_age: Option<i64>,
    /// OIDC `acr_values`, space-separated, in order of preference.
    pub acr_values: Option<&'a str>,
}

/// The scope string actually requested: the caller's scopes plus `openid` (and `bound_key`
/// when binding), without duplicates, in a stable order.
pub fn effective_scope(scope: &str, bind: bool) -> String {
    let mut scopes: Vec<&str> = Vec::new();
    for s in std::iter::once("openid").chain(scope.split(' ')).chain(bind.then_some("bound_key")) {
        if !s.is_empty() && !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    scopes.join(" ")
}

/// Builds the authorization URL (`response_type=code`, PKCE S256, `dpop_jkt`, and `max_age` and
/// `acr_values` when asked).
///
/// # Errors
/// `ERR_URL_INVALID` for the endpoint or redirect URI; `ERR_INVALID_ARGUMENT` for empty values,
/// a negative `max_age` or empty `acr_values`.
pub fn authorization_url(req: &AuthorizationRequest<'_>) -> Result<String> {
    check_http_url(req.authorization_endpoint)?;
    let query = authorization_params(req)?;
    // `+` for spaces is form encoding; authorization servers decode the query as such.
    let sep = if req.authorization_endpoint.contains('?') { '&' } else { '?' };
    Ok(format!("{}{sep}{query}", req.authorization_endpoint))
}

/// The authorization request's parameters, form-encoded (the URL's query, or a PAR body).
fn authorization_params(req: &AuthorizationRequest<'_>) -> Result<String> {
    check_http_url(req.redirect_uri)?;
    for (name, value) in [("clientId", req.client_id), ("state", req.state), ("nonce", req.nonce), ("codeChallenge", req.code_challenge)] {
        if value.is_empty() {
            return Err(Error::arg(name, "must not be empty"));
        }
    }
    let scope = effective_scope(req.scope, req.dpop_jkt.is_some());
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", req.client_id)
        .append_pair("redirect_uri", req.redirect_uri)
        .append_pair("scope", &scope)
        .append_pair("state", req.state)
        .append_pair("nonce", req.nonce)
        .append_pair("code_challenge", req.code_challenge)
        .append_pair("code_challenge_method", "S256");
    if let Some(jkt) = req.dpop_jkt {
        query.append_pair("dpop_jkt", jkt);
    }
    if let Some(max_age) = req.max_age {
        if max_age < 0 {
            return Err(Error::arg("maxAge", "must not be negative"));
        }
        query.append_pair("max_age", &max_age.to_string());
    }
    if let Some(acr) = req.acr_values {
        if acr.split(' ').all(str::is_empty) {
            return Err(Error::arg("acrValues", "must name at least one value"));
        }
        query.append_pair("acr_values", acr);
    }
    Ok(query.finish())
}

// ---- Pushed authorization requests (RFC 9126, RFC 9449 §10.1) --------------------------------

/// Whether a login pushes its authorization request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ParMode {
    /// When the OP has a PAR endpoint. Default.
    #[default]
    Auto,
    /// Always; an OP without a PAR endpoint is an error.
    Always,
    /// Never; an OP that requires PAR is an error.
    Never,
}

/// Decides whether to push: with [`ParMode::Auto`], when the OP has a PAR endpoint (always when
/// it requires PAR). Returns the endpoint to push to, or `None`.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` (`par`): `Always` with no PAR endpoint, or `Never` at an OP that
/// requires PAR.
pub fn par_endpoint(mode: ParMode, meta: &ProviderMetadata) -> Result<Option<&str>> {
    let endpoint = meta.pushed_authorization_request_endpoint.as_deref();
    match mode {
        ParMode::Never if meta.require_pushed_authorization_requests => {
            Err(Error::arg("par", "is \"never\" but the OP requires pushed authorization requests"))
        }
        ParMode::Never => Ok(None),
        ParMode::Always if endpoint.is_none() => {
            Err(Error::arg("par", "is \"always\" but the OP has no pushed_authorization_request_endpoint"))
        }
        _ => Ok(endpoint),
    }
}

/// The pushed authorization request (RFC 9126 §2.1): the authorization request's parameters
/// (with `dpop_jkt`, `bound_key`, PKCE, `state`, `nonce`) as a form POST to the PAR endpoint,
/// with a DPoP proof of the login's key (RFC 9449 §10.1: `htm` POST, `htu` the PAR endpoint, no
/// `ath`, no `c_s256`). The OP binds the code to the proof's key; with `dpop_jkt` too, the two
/// must match.
///
/// # Errors
/// As [`authorization_url`], and `ERR_URL_INVALID` for the PAR endpoint.
pub fn par_request(par_endpoint: &str, req: &AuthorizationRequest<'_>, dpop_proof: Option<&str>) -> Result<HttpRequest> {
    check_http_url(par_endpoint)?;
    check_http_url(req.authorization_endpoint)?;
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded".to_owned()), ("accept", "application/json".to_owned())];
    if let Some(proof) = dpop_proof {
        headers.push(("dpop", proof.to_owned()));
    }
    Ok(HttpRequest { method: "POST", url: par_endpoint.to_owned(), headers, body: authorization_params(req)? })
}

/// A pushed authorization request's answer (RFC 9126 §2.2). `Debug` redacts the
/// `request_uri`, which stands for the pushed request until it is used.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushedAuthorization {
    /// The `request_uri` to send to the authorization endpoint.
    pub request_uri: String,
    /// Its lifetime, seconds.
    pub expires_in: i64,
}

impl fmt::Debug for PushedAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushedAuthorization").field("request_uri", &"[redacted]").field("expires_in", &self.expires_in).finish()
    }
}

#[derive(Deserialize)]
struct RawPushed {
    request_uri: Option<String>,
    expires_in: Option<f64>,
}

/// The largest PAR `expires_in` accepted: one hour (RFC 9126 suggests 5 to 600 seconds).
pub const MAX_PAR_EXPIRES_IN: i64 = 3600;

/// Processes a PAR response: 201 (or 200) with a `request_uri` and an `expires_in` in
/// 1..=[`MAX_PAR_EXPIRES_IN`].
///
/// # Errors
/// `ERR_USE_DPOP_NONCE` (400 `use_dpop_nonce` with a `DPoP-Nonce`: retry once with a new proof),
/// `ERR_OAUTH_ERROR`, `ERR_OAUTH_RESPONSE_INVALID`, `ERR_JSON_INVALID`.
pub fn process_par_response(response: &HttpResponse) -> Result<PushedAuthorization> {
    let invalid = |reason| Error::OAuthResponseInvalid { reason, status: response.status };
    if response.status != 201 && response.status != 200 {
        // Errors as at the token endpoint (RFC 9126 §2.3, RFC 9449 §8).
        return Err(error_answer(response, "the PAR endpoint answered an error without an OAuth error body"));
    }
    if !is_json(response) {
        return Err(invalid("the PAR response is not JSON"));
    }
    let raw: RawPushed = crate::protocol::json::object(response.body.as_bytes(), "PAR response")?;
    let request_uri = raw.request_uri.filter(|u| !u.is_empty() && u.len() <= 2048).ok_or(invalid("no \"request_uri\""))?;
    let expires_in = match raw.expires_in {
        Some(e) if e.is_finite() && e >= 1.0 && e <= MAX_PAR_EXPIRES_IN as f64 => e as i64,
        _ => return Err(invalid("\"expires_in\" is missing, under one second or over one hour")),
    };
    Ok(PushedAuthorization { request_uri, expires_in })
}

/// The authorization URL after a push (RFC 9126 §4): `client_id` and `request_uri` only.
///
/// # Errors
/// `ERR_URL_INVALID`; `ERR_INVALID_ARGUMENT` for an empty `client_id` or `request_uri`.
pub fn par_authorization_url(authorization_endpoint: &str, client_id: &str, request_uri: &str) -> Result<String> {
    check_http_url(authorization_endpoint)?;
    for (name, value) in [("clientId", client_id), ("requestUri", request_uri)] {
        if value.is_empty() {
            return Err(Error::arg(name, "must not be empty"));
        }
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("client_id", client_id).append_pair("request_uri", request_uri);
    let sep = if authorization_endpoint.contains('?') { '&' } else { '?' };
    Ok(format!("{authorization_endpoint}{sep}{}", query.finish()))
}

/// The parameters of an authorization response (the callback URL's query).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackParams {
    /// `state`.
    pub state: Option<String>,
    /// `code`.
    pub code: Option<Secret>,
    /// RFC 9207 `iss`.
    pub iss: Option<String>,
    /// `error`.
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
    /// The name of a parameter that appeared more than once, if any: [`check_callback`] refuses
    /// the whole response (RFC 6749 §3.1, a parameter is never sent twice), so that
    /// `iss=evil&iss=<issuer>` cannot pass as last-wins.
    pub repeated: Option<String>,
}

/// Reads the callback parameters from a full callback URL or its query string.
pub fn parse_callback(url_or_query: &str) -> CallbackParams {
    let query = match url_or_query.split_once('?') {
        Some((_, q)) => q,
        None => url_or_query,
    };
    let query = query.split('#').next().unwrap_or("");
    let mut out = CallbackParams::default();
    // A BTreeSet, not a HashSet: serde_json's maps already bring the B-tree, and a HashSet
    // would add hashbrown and SipHash to the client entries for this one check.
    let mut seen = std::collections::BTreeSet::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if !seen.insert(k.clone()) && out.repeated.is_none() {
            out.repeated = Some(k.clone().into_owned());
        }
        let v = v.into_owned();
        match k.as_ref() {
            "state" => out.state = Some(v),
            "code" => out.code = Some(Secret::new(v)),
            "iss" => out.iss = Some(v),
            "error" => out.error = Some(v),
            "error_description" => out.error_description = Some(v),
            _ => {}
        }
    }
    out
}

/// Checks a callback against what we sent, in this order: no parameter repeated, `state`,
/// RFC 9207 `iss` (required when `iss_required`), then an OAuth error, then `code`. Returns the
/// code.
///
/// # Errors
/// `ERR_OAUTH_RESPONSE_INVALID` (a repeated parameter, or no code), `ERR_STATE_MISMATCH`,
/// `ERR_ISS_MISMATCH`, `ERR_OAUTH_ERROR`.
pub fn check_callback(params: &CallbackParams, expected_state: &str, issuer: &str, iss_required: bool) -> Result<Secret> {
    // RFC 6749 §3.1: parameters are never repeated; which copy would count is not ours to guess.
    if params.repeated.is_some() {
        return Err(Error::OAuthResponseInvalid { reason: "the callback repeats a parameter", status: 0 });
    }
    if params.state.as_deref() != Some(expected_state) {
        return Err(Error::StateMismatch);
    }
    match params.iss.as_deref() {
        Some(iss) if iss != issuer => return Err(Error::IssMismatch),
        None if iss_required => return Err(Error::IssMismatch),
        _ => {}
    }
    if let Some(error) = &params.error {
        return Err(Error::OAuthError { error: error.clone(), description: params.error_description.clone(), status: 0 });
    }
    params
        .code
        .clone()
        .filter(|c| !c.expose().is_empty())
        .ok_or(Error::OAuthResponseInvalid { reason: "the callback has neither code nor error", status: 0 })
}

// ---- Token endpoint --------------------------------------------------------------------------

fn token_request(token_endpoint: &str, dpop_proof: &str, form: form_urlencoded::Serializer<'_, String>) -> HttpRequest {
    let mut form = form;
    HttpRequest {
        method: "POST",
        url: token_endpoint.to_owned(),
        headers: vec![
            ("content-type", "application/x-www-form-urlencoded".to_owned()),
            ("accept", "application/json".to_owned()),
            ("dpop", dpop_proof.to_owned()),
        ],
        body: form.finish(),
    }
}

/// The code exchange (KB §2.3): `grant_type=authorization_code` with PKCE and a DPoP proof that
/// carries `c_s256` over `code`.
pub fn code_token_request(
    token_endpoint: &str,
    code: &str,
    redirect_uri: &str,
    code_verifier: &str,
    client_id: &str,
    dpop_proof: &str,
) -> HttpRequest {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_verifier", code_verifier)
        .append_pair("client_id", client_id);
    token_request(token_endpoint, dpop_proof, form)
}

/// The refresh (KB §5): a new proof from the same key, without `c_s256`.
pub fn refresh_token_request(token_endpoint: &str, refresh_token: &str, client_id: &str, dpop_proof: &str) -> HttpRequest {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "refresh_token").append_pair("refresh_token", refresh_token).append_pair("client_id", client_id);
    token_request(token_endpoint, dpop_proof, form)
}

/// How the access token must be presented.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenType {
    /// `Authorization: Bearer` (authentik, and OPs that bind only the ID Token).
    Bearer,
    /// `Authorization: DPoP` plus a proof with `ath` (RFC 9449 §7).
    Dpop,
    /// Anything else, as received.
    Other(String),
}

/// A successful token response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token.
    pub access_token: Secret,
    /// `token_type`, compared case-insensitively (RFC 6749 §7.1).
    pub token_type: TokenType,
    /// Lifetime in seconds.
    pub expires_in: Option<i64>,
    /// A (possibly rotated) refresh token.
    pub refresh_token: Option<Secret>,
    /// The ID Token, not yet validated.
    pub id_token: Option<String>,
    /// Granted scopes (a hint).
    pub scope: Option<String>,
    /// A `DPoP-Nonce` sent with the success; use it for the next request (RFC 9449 §8.2).
    pub dpop_nonce: Option<String>,
}

#[derive(Deserialize)]
struct RawToken {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<f64>,
    refresh_token: Option<String>,
    id_token: Option<String>,
    scope: Option<String>,
}

#[derive(Deserialize)]
struct RawError {
    error: Option<String>,
    error_description: Option<String>,
}

/// The largest clock offset a client learns from a server's `Date` header: one day. A device
/// whose clock is further off cannot use TLS either; an offset beyond this comes from a broken
/// or hostile header and is not learned.
pub const MAX_CLOCK_OFFSET: i64 = 24 * 3600;

/// The clock offset (server minus local, seconds) to learn from a server's `Date` header read at
/// local time `local`: 0 under 5 seconds (the header has one-second resolution), the offset up
/// to [`MAX_CLOCK_OFFSET`], and `None` (learn nothing, keep the previous offset) beyond.
pub fn learned_clock_offset(server: i64, local: i64) -> Option<i64> {
    let offset = server.checked_sub(local)?;
    match offset.checked_abs()? {
        0..5 => Some(0),
        5..=MAX_CLOCK_OFFSET => Some(offset),
        _ => None,
    }
}

/// A `DPoP-Nonce` value is `1*NQCHAR` (RFC 9449 §8.1): printable ASCII without space, `"` or
/// `\`. Anything else (for example two headers joined with ", ") is ignored.
pub fn valid_dpop_nonce(value: &str) -> Option<&str> {
    let ok = !value.is_empty()
        && value.len() <= 1024
        && value.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
    ok.then_some(value)
}

fn is_json(response: &HttpResponse) -> bool {
    response.content_type.as_deref().is_some_and(|ct| {
        let media = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        media == "application/json" || media.ends_with("+json")
    })
}

/// The error of a non-success answer of an endpoint that takes DPoP proofs: `ERR_USE_DPOP_NONCE`
/// (400 `use_dpop_nonce` with a valid `DPoP-Nonce`), `ERR_OAUTH_ERROR` (a 4xx OAuth error
/// body), else `ERR_OAUTH_RESPONSE_INVALID` with `reason`.
fn error_answer(response: &HttpResponse, reason: &'static str) -> Error {
    if (400..500).contains(&response.status) && is_json(response) {
        if let Ok(RawError { error: Some(error), error_description }) =
            crate::protocol::json::object(response.body.as_bytes(), "OAuth error")
        {
            if error == "use_dpop_nonce" {
                if let Some(nonce) = response.dpop_nonce.as_deref().and_then(valid_dpop_nonce) {
                    return Error::UseDpopNonce { nonce: nonce.to_owned() };
                }
            }
            return Error::OAuthError { error, description: error_description, status: response.status };
        }
    }
    Error::OAuthResponseInvalid { reason, status: response.status }
}

/// The largest token `expires_in` accepted: 10 years (of 365 days), in seconds.
pub const MAX_TOKEN_EXPIRES_IN: i64 = 10 * 365 * 24 * 3600;
/// The largest device-code `expires_in` accepted: one day, in seconds.
pub const MAX_DEVICE_EXPIRES_IN: i64 = 24 * 3600;
/// The largest device polling `interval` accepted: one hour, in seconds.
pub const MAX_DEVICE_INTERVAL: i64 = 3600;

/// Processes a token response (code exchange or refresh).
///
/// # Errors
/// `ERR_USE_DPOP_NONCE` (400 `use_dpop_nonce` with a `DPoP-Nonce`: retry once), `ERR_OAUTH_ERROR`
/// (a 4xx RFC 6749 §5.2 body), `ERR_OAUTH_RESPONSE_INVALID` (5xx, HTML, non-JSON, missing
/// `access_token`/`token_type`, an `expires_in` that is negative or over
/// [`MAX_TOKEN_EXPIRES_IN`]).
pub fn process_token_response(response: &HttpResponse) -> Result<TokenResponse> {
    let invalid = |reason| Error::OAuthResponseInvalid { reason, status: response.status };
    if response.status != 200 {
        return Err(error_answer(response, "the token endpoint answered an error without an OAuth error body"));
    }
    if !is_json(response) {
        return Err(invalid("the token response is not JSON"));
    }
    let raw: RawToken = crate::protocol::json::object(response.body.as_bytes(), "token response")?;
    let access_token = raw.access_token.filter(|t| !t.is_empty()).ok_or(invalid("no \"access_token\""))?;
    // Refused rather than clamped: a lifetime the OP cannot mean says the response is not sane.
    let expires_in = match raw.expires_in {
        None => None,
        Some(e) if e.is_finite() && (0.0..=MAX_TOKEN_EXPIRES_IN as f64).contains(&e) => Some(e as i64),
        Some(_) => return Err(invalid("\"expires_in\" is negative, not finite or over 10 years")),
    };
    let token_type = match raw.token_type.ok_or(invalid("no \"token_type\""))? {
        t if t.eq_ignore_ascii_case("bearer") => TokenType::Bearer,
        t if t.eq_ignore_ascii_case("dpop") => TokenType::Dpop,
        t => TokenType::Other(t),
    };
    Ok(TokenResponse {
        access_token: Secret::new(access_token),
        token_type,
        expires_in,
        refresh_token: raw.refresh_token.map(Secret::new),
        id_token: raw.id_token,
        scope: raw.scope,
        dpop_nonce: response.dpop_nonce.as_deref().and_then(valid_dpop_nonce).map(str::to_owned),
    })
}

// ---- Revocation (RFC 7009) and RP-Initiated Logout 1.0 --------------------------------------

/// A token revocation request (RFC 7009 §2.1) from a public client: `token`,
/// `token_type_hint` (`refresh_token` or `access_token`) and `client_id`, with a DPoP proof
/// (`htm` POST, `htu` the revocation endpoint) when the token is DPoP-bound.
pub fn revocation_request(endpoint: &str, token: &str, token_type_hint: &str, client_id: &str, dpop_proof: Option<&str>) -> HttpRequest {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("token", token).append_pair("token_type_hint", token_type_hint).append_pair("client_id", client_id);
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded".to_owned()), ("accept", "application/json".to_owned())];
    if let Some(proof) = dpop_proof {
        headers.push(("dpop", proof.to_owned()));
    }
    HttpRequest { method: "POST", url: endpoint.to_owned(), headers, body: form.finish() }
}

/// [`revocation_request`] for arguments from a caller (the low-level API): the endpoint an
/// absolute http(s) URL, a token, and `token_type_hint` `refresh_token` or `access_token` (RFC
/// 7009 §2.1; default `refresh_token`).
///
/// # Errors
/// `ERR_URL_INVALID` for the endpoint; `ERR_INVALID_ARGUMENT` for an empty `token` or
/// `clientId`, another hint, or an empty proof.
pub fn checked_revocation_request(
    endpoint: &str,
    token: &str,
    token_type_hint: Option<&str>,
    client_id: &str,
    dpop_proof: Option<&str>,
) -> Result<HttpRequest> {
    check_http_url(endpoint)?;
    if token.is_empty() {
        return Err(Error::arg("token", "must not be empty"));
    }
    if client_id.is_empty() {
        return Err(Error::arg("clientId", "must not be empty"));
    }
    let hint = match token_type_hint {
        None | Some("refresh_token") => "refresh_token",
        Some("access_token") => "access_token",
        Some(_) => return Err(Error::arg("tokenTypeHint", "must be \"refresh_token\" or \"access_token\"")),
    };
    if dpop_proof.is_some_and(str::is_empty) {
        return Err(Error::arg("dpopProof", "must not be empty"));
    }
    Ok(revocation_request(endpoint, token, hint, client_id, dpop_proof))
}

/// Processes a revocation response: 200 is success (also for a token the OP did not know,
/// RFC 7009 §2.2).
///
/// # Errors
/// `ERR_USE_DPOP_NONCE` (retry once), `ERR_OAUTH_ERROR`, `ERR_OAUTH_RESPONSE_INVALID`.
pub fn process_revocation_response(response: &HttpResponse) -> Result<()> {
    match response.status {
        200 => Ok(()),
        _ => Err(error_answer(response, "the revocation endpoint answered an error without an OAuth error body")),
    }
}

/// A token of a refused token response, to revoke (RFC 7009) before it is dropped.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RefusedToken<'a> {
    /// The token.
    pub token: &'a str,
    /// Its `token_type_hint`: `refresh_token` or `access_token`.
    pub hint: &'static str,
    /// Whether the revocation carries a DPoP proof by the login's key: the answer's
    /// `token_type` is DPoP, so the OP bound its tokens to that key (a public client's refresh
    /// token with them, RFC 9449 §5).
    pub dpop: bool,
}

impl fmt::Debug for RefusedToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefusedToken").field("token", &"[redacted]").field("hint", &self.hint).field("dpop", &self.dpop).finish()
    }
}

/// What to revoke when a login or a refresh is refused after the OP answered with tokens (an
/// unbound ID Token under `required`, a `cnf` of another key, any failed ID Token or
/// authentication check, a refreshed ID Token that changed): every token of that answer, since
/// the client drops them, and nobody else may use them. The refresh token first (at most OPs
/// revoking it also ends the grant's access tokens), then the access token.
///
/// `kept_refresh_token` is the refresh token a refused refresh leaves in the session: an OP that
/// does not rotate answers with the same one, which is not revoked (the session keeps working
/// as before the refusal).
pub fn tokens_to_revoke<'a>(answer: &'a TokenResponse, kept_refresh_token: Option<&str>) -> Vec<RefusedToken<'a>> {
    let dpop = answer.token_type == TokenType::Dpop;
    let mut out = Vec::with_capacity(2);
    if let Some(rt) = answer.refresh_token.as_ref().map(Secret::expose).filter(|rt| !rt.is_empty() && Some(*rt) != kept_refresh_token) {
        out.push(RefusedToken { token: rt, hint: "refresh_token", dpop });
    }
    let at = answer.access_token.expose();
    if !at.is_empty() {
        out.push(RefusedToken { token: at, hint: "access_token", dpop });
    }
    out
}

/// The RP-Initiated Logout request (OpenID Connect RP-Initiated Logout 1.0 §2): the end-session
/// URL with `id_token_hint`, `client_id`, `post_logout_redirect_uri` and `state`, each when given.
///
/// # Errors
/// `ERR_URL_INVALID` for the endpoint or the redirect URI; `ERR_INVALID_ARGUMENT` for a
/// `state` without a `post_logout_redirect_uri` (it would never come back).
pub fn end_session_url(
    end_session_endpoint: &str,
    id_token_hint: Option<&str>,
    client_id: &str,
    post_logout_redirect_uri: Option<&str>,
    state: Option<&str>,
) -> Result<String> {
    check_http_url(end_session_endpoint)?;
    if let Some(uri) = post_logout_redirect_uri {
        check_http_url(uri)?;
    } else if state.is_some() {
        return Err(Error::arg("state", "needs postLogoutRedirectUri"));
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(hint) = id_token_hint {
        query.append_pair("id_token_hint", hint);
    }
    query.append_pair("client_id", client_id);
    if let Some(uri) = post_logout_redirect_uri {
        query.append_pair("post_logout_redirect_uri", uri);
    }
    if let Some(state) = state {
        query.append_pair("state", state);
    }
    let sep = if end_session_endpoint.contains('?') { '&' } else { '?' };
    Ok(format!("{end_session_endpoint}{sep}{}", query.finish()))
}

/// Checks the post-logout redirect against the `state` sent: present once and equal.
///
/// # Errors
/// `ERR_OAUTH_RESPONSE_INVALID` (a repeated parameter), `ERR_STATE_MISMATCH`.
pub fn check_logout_callback(params: &CallbackParams, expected_state: &str) -> Result<()> {
    if params.repeated.is_some() {
        return Err(Error::OAuthResponseInvalid { reason: "the post-logout redirect repeats a parameter", status: 0 });
    }
    if params.state.as_deref() != Some(expected_state) || expected_state.is_empty() {
        return Err(Error::StateMismatch);
    }
    Ok(())
}

// ---- Device authorization (RFC 8628, KB §3) ---------------------------------------------------

/// The device authorization request (KB §3.1): `scope` with `openid` (and `bound_key` with
/// `dpop_jkt`), and `dpop_jkt`. The optional OIDC `nonce` is sent too (KB's example does; an OP
/// may not echo it).
pub fn device_authorization_request(
    endpoint: &str,
    client_id: &str,
    scope: &str,
    dpop_jkt: Option<&str>,
    nonce: Option<&str>,
) -> HttpRequest {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("client_id", client_id).append_pair("scope", &effective_scope(scope, dpop_jkt.is_some()));
    if let Some(jkt) = dpop_jkt {
        form.append_pair("dpop_jkt", jkt);
    }
    if let Some(n) = nonce {
        form.append_pair("nonce", n);
    }
    HttpRequest {
        method: "POST",
        url: endpoint.to_owned(),
        headers: vec![("content-type", "application/x-www-form-urlencoded".to_owned()), ("accept", "application/json".to_owned())],
        body: form.finish(),
    }
}

/// A device authorization response (RFC 8628 §3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceAuthorization {
    /// The device code (a secret: it is what gets exchanged).
    pub device_code: Secret,
    /// The code the user types.
    pub user_code: String,
    /// Where the user goes.
    pub verification_uri: String,
    /// The same with the code filled in, if the OP offers it.
    pub verification_uri_complete: Option<String>,
    /// Lifetime of the codes, seconds.
    pub expires_in: i64,
    /// Minimum polling interval, seconds (default 5).
    pub interval: i64,
}

#[derive(Deserialize)]
struct RawDevice {
    device_code: Option<String>,
    user_code: Option<String>,
    verification_uri: Option<String>,
    verification_uri_complete: Option<String>,
    expires_in: Option<f64>,
    interval: Option<f64>,
}

/// Processes a device authorization response from `issuer`'s device endpoint. The
/// verification URIs are shown to the user, so they must be absolute http(s) URLs (`https` when
/// the issuer is: no `javascript:`, no downgrade); `expires_in` must be in 1..=[`MAX_DEVICE_EXPIRES_IN`]
/// and `interval` (default 5) in 0..=[`MAX_DEVICE_INTERVAL`] (0 is polled as 1).
///
/// # Errors
/// `ERR_OAUTH_ERROR` (for example authentik's `dpop_jkt_required`), `ERR_OAUTH_RESPONSE_INVALID`,
/// `ERR_JSON_INVALID`.
pub fn process_device_authorization_response(response: &HttpResponse, issuer: &str) -> Result<DeviceAuthorization> {
    let invalid = |reason| Error::OAuthResponseInvalid { reason, status: response.status };
    if response.status != 200 {
        if is_json(response) {
            if let Ok(RawError { error: Some(error), error_description }) =
                crate::protocol::json::object(response.body.as_bytes(), "OAuth error")
            {
                return Err(Error::OAuthError { error, description: error_description, status: response.status });
            }
        }
        return Err(invalid("the device authorization endpoint answered an error without an OAuth error body"));
    }
    let raw: RawDevice = crate::protocol::json::object(response.body.as_bytes(), "device authorization response")?;
    let device_code = raw.device_code.filter(|c| !c.is_empty()).ok_or(invalid("no \"device_code\""))?;
    let user_code = raw.user_code.filter(|c| !c.is_empty()).ok_or(invalid("no \"user_code\""))?;
    let verification_uri = raw.verification_uri.ok_or(invalid("no \"verification_uri\""))?;
    if !url_fits_issuer(&verification_uri, issuer) {
        return Err(invalid("\"verification_uri\" is not an absolute http(s) URL (https for an https issuer)"));
    }
    if raw.verification_uri_complete.as_deref().is_some_and(|u| !url_fits_issuer(u, issuer)) {
        return Err(invalid("\"verification_uri_complete\" is not an absolute http(s) URL (https for an https issuer)"));
    }
    let expires_in = raw.expires_in.ok_or(invalid("no positive \"expires_in\""))?;
    // At least one second: a fraction below it would truncate to 0 (expired at once).
    if !(expires_in.is_finite() && expires_in >= 1.0) {
        return Err(invalid("no \"expires_in\" of at least one second"));
    }
    if expires_in > MAX_DEVICE_EXPIRES_IN as f64 {
        return Err(invalid("\"expires_in\" is over one day"));
    }
    let expires_in = expires_in as i64;
    let interval = match raw.interval {
        None => 5,
        Some(i) if i.is_finite() && (0.0..=MAX_DEVICE_INTERVAL as f64).contains(&i) => (i as i64).max(1),
        Some(_) => return Err(invalid("\"interval\" is negative, not finite or over one hour")),
    };
    Ok(DeviceAuthorization {
        device_code: Secret::new(device_code),
        user_code,
        verification_uri,
        verification_uri_complete: raw.verification_uri_complete,
        expires_in,
        interval,
    })
}

/// A token poll (RFC 8628 §3.4) with a new DPoP proof carrying `c_s256` over the `device_code`
/// (KB §3.3).
pub fn device_token_request(token_endpoint: &str, device_code: &str, client_id: &str, dpop_proof: &str) -> HttpRequest {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "urn:ietf:params:oauth:grant-type:device_code")
        .append_pair("device_code", device_code)
        .append_pair("client_id", client_id);
    token_request(token_endpoint, dpop_proof, form)
}

/// What one poll tells the client to do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DevicePoll {
    /// Done: the tokens.
    Tokens(Box<TokenResponse>),
    /// Not yet: poll again after the interval.
    Pending,
    /// Too fast: add 5 seconds to the interval, for good (RFC 8628 §3.5).
    SlowDown,
}

/// Processes a token poll response.
///
/// # Errors
/// `ERR_DEVICE_ACCESS_DENIED`, `ERR_DEVICE_CODE_EXPIRED`, `ERR_USE_DPOP_NONCE`, and the token
/// endpoint's other codes.
pub fn process_device_poll_response(response: &HttpResponse) -> Result<DevicePoll> {
    match process_token_response(response) {
        Ok(t) => Ok(DevicePoll::Tokens(Box::new(t))),
        Err(Error::OAuthError { error, .. }) if error == "authorization_pending" => Ok(DevicePoll::Pending),
        Err(Error::OAuthError { error, .. }) if error == "slow_down" => Ok(DevicePoll::SlowDown),
        Err(Error::OAuthError { error, .. }) if error == "access_denied" => Err(Error::DeviceAccessDenied),
        Err(Error::OAuthError { error, .. }) if error == "expired_token" => Err(Error::DeviceCodeExpired),
        Err(e) => Err(e),
    }
}
