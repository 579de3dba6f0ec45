//! The DPoP nonce cache (RFC 9449 §8, §9): the latest `DPoP-Nonce` learned per server endpoint.

use crate::protocol::htu::Htu;

/// How many endpoints' nonces a cache keeps; the oldest is dropped first.
pub const NONCE_CACHE_SIZE: usize = 100;

/// The latest nonce per server endpoint. DPoP nonces belong to the endpoint that issued them, so
/// the key is the request's [`Htu`] (normalized, no query or fragment): an authorization
/// server's nonce is never sent to a resource on the same origin, or the reverse. `None` records
/// that an endpoint is known to have none. At most [`NONCE_CACHE_SIZE`] endpoints.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NonceCache {
    entries: Vec<(Htu, Option<String>)>,
}

impl NonceCache {
    /// What is known of the endpoint `htu`: `None` when nothing, `Some(None)` when it has no nonce.
    pub fn get(&self, htu: &Htu) -> Option<Option<&str>> {
        self.entries.iter().find(|(s, _)| s == htu).map(|(_, n)| n.as_deref())
    }

    /// Whether `nonce` is already the latest for `htu` (then there is nothing to store or
    /// announce).
    pub fn knows(&self, htu: &Htu, nonce: &str) -> bool {
        self.get(htu) == Some(Some(nonce))
    }

    /// Records `nonce` (or that there is none) as the latest for `htu`, dropping the oldest
    /// endpoint beyond [`NONCE_CACHE_SIZE`].
    pub fn set(&mut self, htu: &Htu, nonce: Option<&str>) {
        self.entries.retain(|(s, _)| s != htu);
        self.entries.push((htu.clone(), nonce.map(str::to_owned)));
        if self.entries.len() > NONCE_CACHE_SIZE {
            self.entries.remove(0);
        }
    }

    /// How many endpoints are known.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no endpoint is known.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
