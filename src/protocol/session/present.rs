//! What a request to a resource or a consumer carries besides its DPoP proof: the access token's
//! `Authorization` header (RFC 9449 §7.1), and where a presentation puts the ID Token
//! (docs/profile.md §2): in a JSON body or a header the consumer names, never as an access token
//! (KB §9.5).

use crate::error::Error;

/// The `Authorization` header value of a request with the access token: `DPoP <token>` for a
/// DPoP-bound token (with a proof), else `Bearer <token>`.
pub fn authorization(dpop: bool, access_token: &str) -> String {
    format!("{} {access_token}", if dpop { "DPoP" } else { "Bearer" })
}

/// Checks the header a presentation is asked to carry the ID Token in, before anything else.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` for `Authorization` and `DPoP` (any case): the ID Token is not an
/// access token (KB §9.5), and `DPoP` carries the proof.
pub fn check_id_token_header(id_token_header: Option<&str>) -> Result<(), Error> {
    if id_token_header.is_some_and(|h| h.eq_ignore_ascii_case("authorization") || h.eq_ignore_ascii_case("dpop")) {
        return Err(Error::arg("idTokenHeader", "must not be Authorization or DPoP"));
    }
    Ok(())
}

/// Checks that a presentation with the (normalized) `method` can carry the ID Token.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` for `GET` and `HEAD` without an ID Token header: they have no body.
pub fn check_presentation_method(method: &str, id_token_header: Option<&str>) -> Result<(), Error> {
    if id_token_header.is_none() && (method == "GET" || method == "HEAD") {
        return Err(Error::arg("method", "GET and HEAD have no body to carry the ID Token: name an idTokenHeader"));
    }
    Ok(())
}

/// The JSON body of a presentation: the caller's JSON object (or `{}`) with `id_token` set.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` when `body` is not a JSON object.
pub fn presentation_body(body: Option<&str>, id_token: &str) -> Result<String, Error> {
    let mut obj: serde_json::Map<String, serde_json::Value> = match body {
        Some(b) => {
            crate::protocol::json::from_object(b.as_bytes()).map_err(|_| Error::arg("body", "must be a JSON object to carry id_token"))?
        }
        None => serde_json::Map::new(),
    };
    obj.insert("id_token".into(), serde_json::Value::String(id_token.to_owned()));
    // to_string, not Value's Display: that one brings a second serializer (a fmt::Write one).
    serde_json::to_string(&obj).map_err(|_| Error::arg("body", "must be a JSON object to carry id_token"))
}
