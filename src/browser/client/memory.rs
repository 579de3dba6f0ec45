//! What a client keeps in memory between calls, and the `BroadcastChannel` on which the
//! origin's clients (tabs, workers) keep each other's memory coherent.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};

use super::super::database;
use super::super::dpop_key::DpopKeyPair;
use super::super::js::{self, Result};
use super::{Client, SessionRecord};
use crate::protocol::htu::Htu;
use crate::protocol::session::nonce::NonceCache;

/// The name of the `BroadcastChannel` on which clients of one origin (tabs, workers) tell each
/// other that a session changed or a DPoP nonce was learned.
pub(super) const CHANNEL: &str = "keybound";

/// What a client keeps in memory between calls, so that `fetch`, `present` and `presentTo` make
/// no IndexedDB round trip while nothing changed. IndexedDB stays the truth: a change made by
/// this client updates the memory and is broadcast; a change broadcast by another client of the
/// origin clears (session) or updates (nonce) the memory. `refresh` reads IndexedDB under its
/// Web Lock, so a rotated refresh token is never read stale.
#[derive(Debug, Default)]
pub(super) struct Memory {
    /// The session of this client's name, and its key once loaded.
    pub(super) session: Option<(SessionRecord, Option<DpopKeyPair>)>,
    /// The latest `DPoP-Nonce` per endpoint.
    pub(super) nonces: NonceCache,
}

/// The channel and its message handler, closed when the client is dropped.
pub(super) struct Channel {
    pub(super) channel: web_sys::BroadcastChannel,
    pub(super) _on_message: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Channel")
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}

/// Opens the origin's channel, applying other clients' messages to `memory`. `None` where
/// `BroadcastChannel` does not exist (then nothing is kept in memory).
pub(super) fn open_channel(session_id: String, memory: Rc<RefCell<Memory>>) -> Option<Channel> {
    js::global_prop("BroadcastChannel")?;
    let channel = web_sys::BroadcastChannel::new(CHANNEL).ok()?;
    let on_message = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        let data = event.data();
        let field = |name: &str| js_sys::Reflect::get(&data, &JsValue::from_str(name)).ok().and_then(|v| v.as_string());
        let Ok(mut memory) = memory.try_borrow_mut() else { return };
        match field("k").as_deref() {
            Some("session") if field("id").as_deref() == Some(session_id.as_str()) => memory.session = None,
            Some("nonce") => {
                // The sender's `htu`, normalized already: parsing it again only refuses junk.
                if let Some(htu) = field("slot").and_then(|slot| Htu::parse(&slot).ok()) {
                    memory.nonces.set(&htu, field("nonce").as_deref());
                }
            }
            _ => {}
        }
    });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    Some(Channel { channel, _on_message: on_message })
}

impl Client {
    /// Tells the origin's other clients something changed (best effort: without a channel, they
    /// keep nothing in memory either).
    pub(super) fn announce(&self, entries: &[(&str, JsValue)]) {
        if let Some(c) = &self.channel {
            let _ = c.channel.post_message(&js::object(entries));
        }
    }

    /// This client's session changed in IndexedDB: remember `record` (or nothing), and tell the
    /// others to forget theirs.
    pub(super) fn session_changed(&self, record: Option<&SessionRecord>) {
        if self.channel.is_some() {
            let mut memory = self.memory.borrow_mut();
            memory.session = record.map(|r| {
                // The same key object serves on while the session keeps its key (a refresh).
                let key = memory.session.take().and_then(|(old, key)| key.filter(|_| old.key_id() == r.key_id()));
                (r.clone(), key)
            });
        }
        self.announce(&[("k", "session".into()), ("id", self.session_id().into())]);
    }

    /// The session for a hot path: from memory while nothing changed, else from IndexedDB (then
    /// kept, without its key).
    ///
    /// # Errors
    /// `ERR_NO_SESSION`, `ERR_KEY_STORE*`, `ERR_KEY_RECORD_INVALID`.
    pub(super) async fn hot_session(&self) -> Result<SessionRecord> {
        if let Some((record, _)) = self.memory.borrow().session.as_ref() {
            return Ok(record.clone());
        }
        let record = self.session_or_err().await?;
        if self.channel.is_some() {
            self.memory.borrow_mut().session = Some((record.clone(), None));
        }
        Ok(record)
    }

    /// The session and its key for a hot path (`fetch`, `present`): from memory while nothing
    /// changed, else from IndexedDB (then kept).
    ///
    /// # Errors
    /// `ERR_NO_SESSION`, `ERR_KEY_NOT_FOUND`, `ERR_KEY_STORE*`, `ERR_KEY_RECORD_INVALID`.
    pub(super) async fn session_and_key(&self) -> Result<(SessionRecord, DpopKeyPair)> {
        let kept = self.memory.borrow().session.clone();
        if let Some((record, Some(key))) = kept {
            return Ok((record, key));
        }
        let record = self.hot_session().await?;
        let key = DpopKeyPair::load(record.key_id()).await?;
        if self.channel.is_some() {
            self.memory.borrow_mut().session = Some((record.clone(), Some(key.clone())));
        }
        Ok((record, key))
    }

    /// The latest nonce for this endpoint: the one shared through IndexedDB by any tab or worker
    /// of the origin, else this client's own. Sharing is best effort: storage errors fall back
    /// to memory.
    pub(super) async fn nonce_for(&self, htu: &Htu) -> Option<String> {
        if let Some(known) = self.memory.borrow().nonces.get(htu) {
            return known.map(str::to_owned);
        }
        let stored = database::get_text(database::NONCE_STORE, htu.as_str(), false).await.ok().flatten();
        // Kept (also "none") only where other clients' nonces reach this one through the channel.
        if self.channel.is_some() || stored.is_some() {
            self.memory.borrow_mut().nonces.set(htu, stored.as_deref());
        }
        stored
    }

    /// Records `nonce` as the latest of the endpoint `htu`, in memory, in IndexedDB (shared by
    /// the origin's tabs and workers) and on the channel.
    pub(super) async fn remember_nonce(&self, htu: &Htu, nonce: &str) {
        let known = self.memory.borrow().nonces.knows(htu, nonce);
        if known {
            return;
        }
        self.memory.borrow_mut().nonces.set(htu, Some(nonce));
        let _ = database::put_text(database::NONCE_STORE, htu.as_str(), nonce).await;
        self.announce(&[("k", "nonce".into()), ("slot", htu.as_str().into()), ("nonce", nonce.into())]);
    }
}
