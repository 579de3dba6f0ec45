//! The low-level API of logout, for people who own their I/O: token revocation (RFC 7009) and
//! RP-Initiated Logout 1.0, as a request builder and a processor each, in the style of the PAR
//! and token functions (`lowlevel.rs`). `KeyBoundClient.logout` is the same steps with the I/O
//! done for you.

use wasm_bindgen::prelude::*;

use super::args::{object_arg, opt_str, req_str};
use super::errors::core_to_js;
use super::lowlevel::{request_object, response_arg};
use crate::protocol::oauth;

#[wasm_bindgen(typescript_custom_section)]
const TS_LOGOUT: &'static str = r#"
export interface RevocationRequestParameters {
  /** The OP's `revocation_endpoint`. */
  revocationEndpoint: string;
  /** The token to revoke. */
  token: string;
  /** Default `"refresh_token"`. */
  tokenTypeHint?: "refresh_token" | "access_token";
  clientId: string;
  /**
   * For a DPoP-bound token: a proof by the token's key with `htm` POST and `htu` the revocation
   * endpoint (`createDPoPProof`), sent in the `DPoP` header.
   */
  dpopProof?: string;
}

export interface EndSessionUrlParameters {
  /** The OP's `end_session_endpoint`. */
  endSessionEndpoint: string;
  clientId: string;
  /** The session's ID Token. */
  idTokenHint?: string;
  /** Where the OP sends the browser back (registered with the OP). */
  postLogoutRedirectUri?: string;
  /** Comes back on the redirect: check it with `validateEndSessionResponse`. Needs `postLogoutRedirectUri`. */
  state?: string;
}
"#;

/// Builds a token revocation request (RFC 7009 §2.1) to send yourself: a form POST of `token`,
/// `token_type_hint` and `client_id`, with `dpopProof` in the `DPoP` header when given. Throws
/// `ERR_URL_INVALID` (the endpoint) and `ERR_INVALID_ARGUMENT` (with `argument`).
#[wasm_bindgen(js_name = buildRevocationRequest, unchecked_return_type = "HttpRequestLike")]
pub fn build_revocation_request(
    #[wasm_bindgen(unchecked_param_type = "RevocationRequestParameters")] params: JsValue,
) -> Result<JsValue, JsValue> {
    object_arg(&params, "params")?;
    let req = oauth::checked_revocation_request(
        &req_str(&params, "revocationEndpoint")?,
        &req_str(&params, "token")?,
        opt_str(&params, "tokenTypeHint")?.as_deref(),
        &req_str(&params, "clientId")?,
        opt_str(&params, "dpopProof")?.as_deref(),
    )
    .map_err(core_to_js)?;
    request_object(&req)
}

/// Processes a revocation response: returns on 200 (also for a token the OP did not know, RFC
/// 7009 §2.2). Throws `ERR_USE_DPOP_NONCE` (with `dpopNonce`: retry once with a new proof),
/// `ERR_OAUTH_ERROR` (with `error`, `errorDescription`, `status`), `ERR_OAUTH_RESPONSE_INVALID`.
#[wasm_bindgen(js_name = processRevocationResponse)]
pub fn process_revocation_response(#[wasm_bindgen(unchecked_param_type = "HttpResponseLike")] response: JsValue) -> Result<(), JsValue> {
    oauth::process_revocation_response(&response_arg(&response)?).map_err(core_to_js)
}

/// The RP-Initiated Logout URL (OpenID Connect RP-Initiated Logout 1.0 §2): `end_session_endpoint`
/// with `id_token_hint`, `client_id`, `post_logout_redirect_uri` and `state`, each when given.
/// Throws `ERR_URL_INVALID` (the endpoint or the redirect URI) and `ERR_INVALID_ARGUMENT` (a
/// `state` without `postLogoutRedirectUri`).
#[wasm_bindgen(js_name = buildEndSessionUrl)]
pub fn build_end_session_url(#[wasm_bindgen(unchecked_param_type = "EndSessionUrlParameters")] params: JsValue) -> Result<String, JsValue> {
    object_arg(&params, "params")?;
    oauth::end_session_url(
        &req_str(&params, "endSessionEndpoint")?,
        opt_str(&params, "idTokenHint")?.as_deref(),
        &req_str(&params, "clientId")?,
        opt_str(&params, "postLogoutRedirectUri")?.as_deref(),
        opt_str(&params, "state")?.as_deref(),
    )
    .map_err(core_to_js)
}

/// Checks the post-logout redirect (`url`, with or without the query) against the `state` sent:
/// present once and equal. Throws `ERR_STATE_MISMATCH`, `ERR_OAUTH_RESPONSE_INVALID` (a repeated
/// parameter). Single use is yours to keep: forget the state once checked.
#[wasm_bindgen(js_name = validateEndSessionResponse)]
pub fn validate_end_session_response(
    url: String,
    #[wasm_bindgen(unchecked_param_type = "{ state: string }")] expected: JsValue,
) -> Result<(), JsValue> {
    object_arg(&expected, "expected")?;
    let state = req_str(&expected, "state")?;
    oauth::check_logout_callback(&oauth::parse_callback(&url), &state).map_err(core_to_js)
}
