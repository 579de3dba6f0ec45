//! The stored session: saving, reading (refusing and discarding a record of another version),
//! forgetting.

use super::super::database::{self, SESSION_STORE};
use super::super::dpop_key::DpopKeyPair;
use super::super::js::Result;
use super::{Client, SessionRecord};
use crate::error::Error;

impl Client {
    pub(super) async fn save(&self, record: &SessionRecord) -> Result<()> {
        let text = record.to_json()?;
        let saved = database::put_text(SESSION_STORE, &self.session_id(), &text).await;
        // Whatever happened, this client and the others read IndexedDB again next time.
        self.session_changed(if saved.is_ok() { Some(record) } else { None });
        saved
    }

    /// The stored session of this client, if any.
    ///
    /// # Errors
    /// `ERR_KEY_STORE*`; `ERR_KEY_RECORD_INVALID` for a record of another version.
    pub async fn stored_session(&self) -> Result<Option<SessionRecord>> {
        let Some(text) = database::get_text(SESSION_STORE, &self.session_id(), false).await? else { return Ok(None) };
        match SessionRecord::parse(&text) {
            Ok(record) => Ok(Some(record)),
            Err(refused) => {
                // Stored by another version of keybound (or damaged): discard it cleanly, with its
                // key if it names one, and say so once. The next call finds no session.
                if let Some(key_id) = &refused.key_id {
                    let _ = DpopKeyPair::delete(key_id).await;
                }
                database::delete_in(SESSION_STORE, &self.session_id()).await?;
                self.session_changed(None);
                Err(refused.error.into())
            }
        }
    }

    pub(super) async fn session_or_err(&self) -> Result<SessionRecord> {
        self.stored_session().await?.ok_or_else(|| Error::NoSession.into())
    }

    /// Forgets the session: deletes its key pair and its stored tokens. Returns whether there was
    /// one.
    ///
    /// # Errors
    /// `ERR_KEY_STORE*`.
    pub async fn forget(&self) -> Result<bool> {
        let result = match self.stored_session().await.ok().flatten() {
            None => database::delete_in(SESSION_STORE, &self.session_id()).await,
            Some(record) => {
                let _ = DpopKeyPair::delete(record.key_id()).await;
                database::delete_in(SESSION_STORE, &self.session_id()).await
            }
        };
        self.session_changed(None);
        result
    }
}
