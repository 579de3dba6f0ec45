//! The low-level API for people who own their I/O: request builders and response processors over
//! the sans-IO protocol core. They never send anything and never retry; `KeyBoundClient` is the
//! same steps with the I/O done for you.

use wasm_bindgen::prelude::*;

use super::args::{get, object_arg, opt_seconds, opt_str, req_str, MAX_TIME};
use super::errors::core_to_js;
use crate::error::{Error, ErrorCode};
use crate::protocol::oauth::{self, AuthorizationRequest, HttpRequest, HttpResponse, TokenType};

#[wasm_bindgen(typescript_custom_section)]
const TS_LOWLEVEL: &'static str = r#"
/** An HTTP response as the processors read it (copy these from your `Response`). */
export interface HttpResponseLike {
  status: number;
  /** The `Content-Type` header. */
  contentType?: string | null;
  /** The `DPoP-Nonce` header. */
  dpopNonce?: string | null;
  body: string;
}

/** An HTTP request to send yourself. */
export interface HttpRequestLike {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface AuthorizationUrlParameters {
  authorizationEndpoint: string;
  clientId: string;
  redirectUri: string;
  /** Scopes besides `openid` (and `bound_key`, added with `dpopJkt`). */
  scope?: string;
  state: string;
  nonce: string;
  /** PKCE S256 challenge (`calculatePKCECodeChallenge`). */
  codeChallenge: string;
  /** The binding key's thumbprint; adds `dpop_jkt` and the `bound_key` scope. */
  dpopJkt?: string;
  /** OIDC `max_age`, seconds (check `auth_time` with `validateIdToken`'s `requestedMaxAge`). */
  maxAge?: number;
  /** OIDC `acr_values`, space-separated. */
  acrValues?: string;
}

export interface TokenEndpointResponse {
  accessToken: string;
  /** `"DPoP"`, `"Bearer"`, or as received. */
  tokenType: string;
  expiresIn?: number;
  refreshToken?: string;
  /** Not yet validated: pass it to `validateIdToken`. */
  idToken?: string;
  scope?: string;
  /** A `DPoP-Nonce` that came with the success; use it for the next proof. */
  dpopNonce?: string;
}

"#;

pub(super) fn response_arg(v: &JsValue) -> Result<HttpResponse, JsValue> {
    object_arg(v, "response")?;
    let status = get(v, "status")
        .as_f64()
        .filter(|s| (100.0..600.0).contains(s))
        .ok_or_else(|| core_to_js(Error::arg("status", "must be an HTTP status number")))?;
    Ok(HttpResponse {
        status: status as u16,
        content_type: opt_str(v, "contentType")?,
        dpop_nonce: opt_str(v, "dpopNonce")?,
        body: req_str(v, "body")?,
    })
}

pub(super) fn request_object(req: &HttpRequest) -> Result<JsValue, JsValue> {
    let headers = js_sys::Object::new();
    for (n, v) in &req.headers {
        js_sys::Reflect::set(&headers, &JsValue::from_str(n), &JsValue::from_str(v))?;
    }
    let obj = js_sys::Object::new();
    js_sys::Reflect::set(&obj, &"method".into(), &req.method.into())?;
    js_sys::Reflect::set(&obj, &"url".into(), &req.url.as_str().into())?;
    js_sys::Reflect::set(&obj, &"headers".into(), &headers)?;
    js_sys::Reflect::set(&obj, &"body".into(), &req.body.as_str().into())?;
    Ok(obj.into())
}

/// Builds a key-bound authorization URL: `response_type=code`, `scope` with `openid` (and
/// `bound_key` with `dpopJkt`), `dpop_jkt`, PKCE S256, `state`, `nonce`.
#[wasm_bindgen(js_name = buildAuthorizationUrl)]
pub fn build_authorization_url(
    #[wasm_bindgen(unchecked_param_type = "AuthorizationUrlParameters")] params: JsValue,
) -> Result<String, JsValue> {
    let as_get = |r: &AuthorizationRequest<'_>| {
        oauth::authorization_url(r).map(|url| HttpRequest { method: "GET", url, headers: Vec::new(), body: String::new() })
    };
    Ok(with_authorization_request(&params, &as_get)?.url)
}

/// Reads `AuthorizationUrlParameters` and hands the request to `f`.
/// (One body for both callers: a `dyn` keeps it from being compiled twice.)
fn with_authorization_request(
    params: &JsValue,
    f: &dyn Fn(&AuthorizationRequest<'_>) -> Result<HttpRequest, Error>,
) -> Result<HttpRequest, JsValue> {
    object_arg(params, "params")?;
    let (endpoint, client_id, redirect_uri) =
        (req_str(params, "authorizationEndpoint")?, req_str(params, "clientId")?, req_str(params, "redirectUri")?);
    let (scope, state, nonce) = (opt_str(params, "scope")?.unwrap_or_default(), req_str(params, "state")?, req_str(params, "nonce")?);
    let (challenge, jkt) = (req_str(params, "codeChallenge")?, opt_str(params, "dpopJkt")?);
    let max_age = match get(params, "maxAge") {
        v if v.is_undefined() || v.is_null() => None,
        _ => Some(opt_seconds(params, "maxAge", 0, 0, MAX_TIME)?),
    };
    let acr_values = opt_str(params, "acrValues")?;
    f(&AuthorizationRequest {
        authorization_endpoint: &endpoint,
        client_id: &client_id,
        redirect_uri: &redirect_uri,
        scope: &scope,
        state: &state,
        nonce: &nonce,
        code_challenge: &challenge,
        dpop_jkt: jkt.as_deref(),
        max_age,
        acr_values: acr_values.as_deref(),
    })
    .map_err(core_to_js)
}

/// Checks a discovery response: `issuer` must equal `issuer` exactly. Returns the metadata.
#[wasm_bindgen(js_name = processDiscoveryResponse, unchecked_return_type = "Record<string, unknown>")]
pub fn process_discovery_response(
    #[wasm_bindgen(unchecked_param_type = "HttpResponseLike")] response: JsValue,
    issuer: String,
) -> Result<JsValue, JsValue> {
    let res = response_arg(&response)?;
    oauth::process_discovery_response(&res, &issuer).map_err(core_to_js)?;
    js_sys::JSON::parse(&res.body)
}

/// Checks an authorization response (the callback URL): `state` first, then RFC 9207 `iss`
/// (required with `issRequired`), then OAuth errors. Returns the code.
#[wasm_bindgen(js_name = validateAuthorizationResponse)]
pub fn validate_authorization_response(
    url: String,
    #[wasm_bindgen(unchecked_param_type = "{ state: string; issuer: string; issRequired?: boolean }")] expected: JsValue,
) -> Result<String, JsValue> {
    object_arg(&expected, "expected")?;
    let (state, issuer) = (req_str(&expected, "state")?, req_str(&expected, "issuer")?);
    let iss_required = super::args::opt_bool(&expected, "issRequired", false)?;
    let code = oauth::check_callback(&oauth::parse_callback(&url), &state, &issuer, iss_required).map_err(core_to_js)?;
    Ok(code.expose().to_owned())
}

/// The code exchange request (send it yourself; make `dpopProof` with `createDPoPProof(key,
/// {htm: "POST", htu: tokenEndpoint, code})`).
#[wasm_bindgen(js_name = buildCodeTokenRequest, unchecked_return_type = "HttpRequestLike")]
pub fn build_code_token_request(
    #[wasm_bindgen(
        unchecked_param_type = "{ tokenEndpoint: string; code: string; redirectUri: string; codeVerifier: string; clientId: string; dpopProof: string }"
    )]
    p: JsValue,
) -> Result<JsValue, JsValue> {
    object_arg(&p, "params")?;
    let req = oauth::code_token_request(
        &req_str(&p, "tokenEndpoint")?,
        &req_str(&p, "code")?,
        &req_str(&p, "redirectUri")?,
        &req_str(&p, "codeVerifier")?,
        &req_str(&p, "clientId")?,
        &req_str(&p, "dpopProof")?,
    );
    request_object(&req)
}

/// The refresh request (a new proof from the same key, without `code`).
#[wasm_bindgen(js_name = buildRefreshTokenRequest, unchecked_return_type = "HttpRequestLike")]
pub fn build_refresh_token_request(
    #[wasm_bindgen(unchecked_param_type = "{ tokenEndpoint: string; refreshToken: string; clientId: string; dpopProof: string }")]
    p: JsValue,
) -> Result<JsValue, JsValue> {
    object_arg(&p, "params")?;
    let req = oauth::refresh_token_request(
        &req_str(&p, "tokenEndpoint")?,
        &req_str(&p, "refreshToken")?,
        &req_str(&p, "clientId")?,
        &req_str(&p, "dpopProof")?,
    );
    request_object(&req)
}

/// Processes a token response. Throws `ERR_USE_DPOP_NONCE` (with `dpopNonce` on the error) when
/// the server wants a nonce: make a new proof with it and retry once.
/// Builds a pushed authorization request (RFC 9126 §2.1) to send yourself: the parameters of
/// `buildAuthorizationUrl` as a form POST to `parEndpoint`, with `dpopProof` (a proof by the
/// login's key, `htm` POST, `htu` the PAR endpoint: RFC 9449 §10.1) in the `DPoP` header.
#[wasm_bindgen(js_name = buildPushedAuthorizationRequest, unchecked_return_type = "HttpRequestLike")]
pub fn build_pushed_authorization_request(
    #[wasm_bindgen(unchecked_param_type = "AuthorizationUrlParameters & { parEndpoint: string; dpopProof?: string }")] params: JsValue,
) -> Result<JsValue, JsValue> {
    object_arg(&params, "params")?;
    let (endpoint, proof) = (req_str(&params, "parEndpoint")?, opt_str(&params, "dpopProof")?);
    request_object(&with_authorization_request(&params, &|r| oauth::par_request(&endpoint, r, proof.as_deref()))?)
}

/// Processes a pushed authorization response: `{ requestUri, expiresIn }`. Throws
/// `ERR_USE_DPOP_NONCE` (with `dpopNonce`: retry once with a new proof), `ERR_OAUTH_ERROR` (with
/// `error`, `errorDescription`, `status`), `ERR_OAUTH_RESPONSE_INVALID`.
#[wasm_bindgen(js_name = processPushedAuthorizationResponse, unchecked_return_type = "{ requestUri: string; expiresIn: number }")]
pub fn process_pushed_authorization_response(
    #[wasm_bindgen(unchecked_param_type = "HttpResponseLike")] response: JsValue,
) -> Result<JsValue, JsValue> {
    let pushed = oauth::process_par_response(&response_arg(&response)?).map_err(core_to_js)?;
    let obj = js_sys::Object::new();
    js_sys::Reflect::set(&obj, &"requestUri".into(), &pushed.request_uri.into())?;
    js_sys::Reflect::set(&obj, &"expiresIn".into(), &JsValue::from_f64(pushed.expires_in as f64))?;
    Ok(obj.into())
}

/// The authorization URL after a push: `client_id` and `request_uri` only (RFC 9126 §4).
#[wasm_bindgen(js_name = buildPushedAuthorizationUrl)]
pub fn build_pushed_authorization_url(
    #[wasm_bindgen(unchecked_param_type = "{ authorizationEndpoint: string; clientId: string; requestUri: string }")] params: JsValue,
) -> Result<String, JsValue> {
    object_arg(&params, "params")?;
    oauth::par_authorization_url(
        &req_str(&params, "authorizationEndpoint")?,
        &req_str(&params, "clientId")?,
        &req_str(&params, "requestUri")?,
    )
    .map_err(core_to_js)
}

#[wasm_bindgen(js_name = processTokenResponse, unchecked_return_type = "TokenEndpointResponse")]
pub fn process_token_response(#[wasm_bindgen(unchecked_param_type = "HttpResponseLike")] response: JsValue) -> Result<JsValue, JsValue> {
    let res = response_arg(&response)?;
    // `dpopNonce`, `error`, `errorDescription` and `status` come with the error (`Error::fields`).
    let t = oauth::process_token_response(&res).map_err(core_to_js)?;
    let obj = js_sys::Object::new();
    let set = |k: &str, v: JsValue| js_sys::Reflect::set(&obj, &JsValue::from_str(k), &v).map(|_| ());
    set("accessToken", t.access_token.expose().into())?;
    set(
        "tokenType",
        match &t.token_type {
            TokenType::Dpop => "DPoP".into(),
            TokenType::Bearer => "Bearer".into(),
            TokenType::Other(o) => o.as_str().into(),
        },
    )?;
    if let Some(e) = t.expires_in {
        set("expiresIn", JsValue::from_f64(e as f64))?;
    }
    if let Some(r) = &t.refresh_token {
        set("refreshToken", r.expose().into())?;
    }
    if let Some(i) = &t.id_token {
        set("idToken", i.as_str().into())?;
    }
    if let Some(s) = &t.scope {
        set("scope", s.as_str().into())?;
    }
    if let Some(n) = &t.dpop_nonce {
        set("dpopNonce", n.as_str().into())?;
    }
    Ok(obj.into())
}

/// Whether an error asks for a DPoP nonce (`ERR_USE_DPOP_NONCE`); its `dpopNonce` is the value.
/// Takes anything a `catch` gives, and narrows it in TypeScript.
#[wasm_bindgen(js_name = isDPoPNonceError, unchecked_return_type = "err is KeyboundError & { code: \"ERR_USE_DPOP_NONCE\"; dpopNonce: string }")]
pub fn is_dpop_nonce_error(#[wasm_bindgen(unchecked_param_type = "unknown")] err: JsValue) -> bool {
    super::api::is_keybound_error(err.clone()) && get(&err, "code").as_string().as_deref() == Some(ErrorCode::UseDpopNonce.as_str())
}
