//! The DPoP nonce cache (RFC 9449 §8, §9): the latest `DPoP-Nonce` learned per server endpoint.

use crate::protocol::htu::normalize_htu;

/// How many endpoints' nonces a cache keeps; the oldest is dropped first.
pub const NONCE_CACHE_SIZE: usize = 100;

/// The cache slot of a request URL. DPoP nonces belong to the server endpoint that issued them:
/// the slot is the normalized `htu` (no query or fragment), so an authorization server's nonce
/// is never sent to a resource on the same origin, or the reverse. A URL that does not
/// normalize is its own slot.
pub fn nonce_slot(url: &str) -> String {
    normalize_htu(url).unwrap_or_else(|_| url.to_owned())
}

/// The latest nonce per slot (see [`nonce_slot`]); `None` records that a slot is known to have
/// none. At most [`NONCE_CACHE_SIZE`] slots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NonceCache {
    entries: Vec<(String, Option<String>)>,
}

impl NonceCache {
    /// What is known of `slot`: `None` when nothing, `Some(None)` when it has no nonce.
    pub fn get(&self, slot: &str) -> Option<Option<&str>> {
        self.entries.iter().find(|(s, _)| s == slot).map(|(_, n)| n.as_deref())
    }

    /// Whether `nonce` is already the latest for `slot` (then there is nothing to store or
    /// announce).
    pub fn knows(&self, slot: &str, nonce: &str) -> bool {
        self.get(slot) == Some(Some(nonce))
    }

    /// Records `nonce` (or that there is none) as the latest for `slot`, dropping the oldest
    /// slot beyond [`NONCE_CACHE_SIZE`].
    pub fn set(&mut self, slot: &str, nonce: Option<&str>) {
        self.entries.retain(|(s, _)| s != slot);
        self.entries.push((slot.to_owned(), nonce.map(str::to_owned)));
        if self.entries.len() > NONCE_CACHE_SIZE {
            self.entries.remove(0);
        }
    }

    /// How many slots are known.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no slot is known.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
