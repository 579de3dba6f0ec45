//! JSON documents from the network and the page, read strictly.
//!
//! Every JSON document keybound reads is an object (JOSE headers and claims, JWKs and JWK sets,
//! OAuth and discovery responses, clientDataJSON), but serde's derived structs also read a JSON
//! array, field by field in declaration order: `["ES256", …]` would pass for a header. So a
//! document is refused unless its first character (after white space) opens an object, before
//! serde reads it. Duplicate members are still refused by serde (`duplicate field`).
//!
//! The same holds for nested members: a `jwk` in a JOSE header, `cnf` and its `jwk` in claims
//! are read with `nested_object`, which takes only an object (duplicates still refused).

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

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

/// serde `deserialize_with` for an optional nested member that must be an object: absent or
/// `null` is `None`; an object is read into `T` through its map, so the derived reader still
/// refuses duplicate members; an array (which a derived struct would read field by field) or
/// any other value is an error. Use with `#[serde(default, deserialize_with = "…")]`.
pub(crate) fn nested_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> std::result::Result<Option<T>, D::Error> {
    d.deserialize_option(Nested(PhantomData))
}

struct Nested<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for Nested<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_none<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Some)
    }
}
