//! JSON documents from the network and the page, read strictly.
//!
//! Every JSON document keybound reads is an object (JOSE headers and claims, JWKs and JWK sets,
//! OAuth and discovery responses, clientDataJSON), but serde's derived structs also read a JSON
//! array, field by field in declaration order: `["ES256", …]` would pass for a header. So a
//! document is refused unless its first character (after white space) opens an object, before
//! serde reads it. Duplicate members are still refused by serde (`duplicate field`).
//!
//! Not yet covered: a nested member given as an array (a `jwk` or `cnf` inside a document);
//! reading nested members through a map would lose the duplicate-member refusal.

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Parses `bytes` as a JSON object into `T`, naming `what` in the error.
///
/// # Errors
/// `ERR_JSON_INVALID` for anything that is not a JSON object of `T`'s shape.
pub fn object<T: DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T> {
    if bytes.iter().find(|b| !b" \t\r\n".contains(b)) != Some(&b'{') {
        return Err(Error::JsonInvalid { what, detail: "not a JSON object".to_owned() });
    }
    serde_json::from_slice(bytes).map_err(|e| Error::json(what, e))
}
