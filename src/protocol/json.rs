//! JSON documents from the network and the page, read strictly.
//!
//! Every JSON document keybound reads is an object (JOSE headers and claims, JWKs and JWK sets,
//! OAuth and discovery responses, clientDataJSON, its own records), but serde's derived structs
//! also read a JSON array, field by field in declaration order: `["ES256", …]` would pass for a
//! header. So every struct is read as a map only, through [`from_object`] (a document),
//! `nested_object` (a member) and `objects` (an array of objects, a JWKS's `keys`): the
//! array form is refused, and serde's reader for it is never compiled in. [`object`] also says
//! "not a JSON object" when a document does not start with `{`. Duplicate members are still
//! refused by serde (`duplicate field`).

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};
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
    from_object(bytes).map_err(|e| Error::json(what, e))
}

/// Reads `bytes` as one JSON object into `T` (duplicate members refused), with serde_json's
/// error. Every JSON document keybound reads goes through here or [`object`].
///
/// A derived struct is read as a map only: its reader for the array form (serde's `visit_seq`)
/// is never called, so it is not in the wasm either. Serde_json's `from_slice` would call
/// `deserialize_struct`, which takes both forms.
///
/// # Errors
/// serde_json's, for anything that is not a JSON object of `T`'s shape.
pub fn from_object<T: DeserializeOwned>(bytes: &[u8]) -> std::result::Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Object(PhantomData).deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Reads a JSON object into `T` through its map (see [`from_object`]): the one way keybound
/// reads a struct, for a document, a member and a list element alike.
struct Object<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Object<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<T, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Object<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
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
        Object(PhantomData).deserialize(d).map(Some)
    }
}

/// serde `deserialize_with` for a list of objects (a JWKS's `keys`): each element is read as
/// [`nested_object`] reads one, so an element in array form is refused, not read field by field.
pub(crate) fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> std::result::Result<Vec<T>, D::Error> {
    d.deserialize_seq(Objects(PhantomData))
}

struct Objects<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for Objects<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of JSON objects")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Vec<T>, A::Error> {
        let mut all = Vec::new();
        while let Some(one) = seq.next_element_seed(Object(PhantomData))? {
            all.push(one);
        }
        Ok(all)
    }
}
