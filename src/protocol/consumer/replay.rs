//! Single use: the replay store a consumer records each accepted proof in, and the step that
//! fails closed when the store cannot answer (docs/profile.md §5).

use std::collections::HashMap;

use super::ConsumerPolicy;
use crate::error::{Error, Result};

/// Single-use `jti` storage for the acceptance window. Implement it over a shared store (Redis
/// `SET key 1 NX EXAT expires_at`) when several consumer instances must see each other's proofs.
#[allow(async_fn_in_trait)]
pub trait ReplayStore {
    /// Stores `key` until `expires_at` (seconds since the epoch). Returns `true` if it was new,
    /// `false` if it was already there and not expired at `now` (a replay).
    ///
    /// # Errors
    /// `ERR_REPLAY_STORE_UNAVAILABLE`: the verifier then refuses (fails closed).
    async fn check_and_store(&self, key: &str, now: i64, expires_at: i64) -> Result<bool>;
}

/// The default replay store: in memory. Expired entries are dropped whenever the map has doubled
/// since the last sweep, so memory stays bounded by about twice the proofs accepted within one
/// window, however long the stream.
#[derive(Debug, Default)]
pub struct MemoryReplayStore {
    entries: std::cell::RefCell<HashMap<String, i64>>,
    sweep_at: std::cell::Cell<usize>,
}

impl MemoryReplayStore {
    /// A new, empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries held (for memory checks).
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.borrow().is_empty()
    }
}

impl ReplayStore for MemoryReplayStore {
    async fn check_and_store(&self, key: &str, now: i64, expires_at: i64) -> Result<bool> {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= self.sweep_at.get().max(1024) {
            entries.retain(|_, exp| *exp >= now);
            self.sweep_at.set(entries.len() * 2);
        }
        if entries.get(key).is_some_and(|exp| *exp >= now) {
            return Ok(false);
        }
        entries.insert(key.to_owned(), expires_at);
        Ok(true)
    }
}

/// The single-use step of a presentation: `key` goes into the replay store for the acceptance
/// window; a key already there is `ERR_DPOP_REPLAY`. Fails closed: any store error is
/// `ERR_REPLAY_STORE_UNAVAILABLE`, and nothing is accepted without the store's answer.
pub(crate) async fn use_once<R: ReplayStore>(replay: &R, key: &str, policy: &ConsumerPolicy, now: i64) -> Result<()> {
    let fresh = replay.check_and_store(key, now, now + policy.proof_max_age + policy.clock_skew).await.map_err(|e| match e {
        e @ Error::ReplayStoreUnavailable { .. } => e,
        other => Error::ReplayStoreUnavailable { message: other.to_string() },
    })?;
    if fresh {
        Ok(())
    } else {
        Err(Error::DpopReplay)
    }
}
