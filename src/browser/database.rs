//! The keybound IndexedDB database: `CryptoKeyPair`s under string ids (`keys`), and the text
//! records of the flows (pending logins, sessions, DPoP nonces, passkeys) in stores of their own.
//!
//! The pair is stored as-is (structured clone), so the private key stays non-extractable across
//! reloads: IndexedDB keeps the key handle, never key bytes. Each record is versioned
//! (`{v: 1, keyPair, jkt, createdAt}`); a record of another version is refused with
//! `ERR_KEY_RECORD_INVALID`, never half-read.

use js_sys::{Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, CryptoKeyPair, IdbDatabase, IdbFactory, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode};

use super::js::{global_prop, object, store_error, BrowserError, Result};
use crate::error::Error;

/// Database name.
pub const DB_NAME: &str = "keybound";
/// Database schema version. 1: `keys`. 2: adds `pending` and `sessions`. 3: adds `nonces`.
/// 4: adds `passkeys`. Upgrades only add stores, so keys and sessions survive them.
pub const DB_VERSION: u32 = 4;
/// Object store holding key records.
pub const KEY_STORE: &str = "keys";
/// Object store holding pending logins (JSON text) by `state`.
pub const PENDING_STORE: &str = "pending";
/// Object store holding sessions (JSON text) by session id.
pub const SESSION_STORE: &str = "sessions";
/// Object store holding the latest DPoP nonce per server endpoint, shared by tabs and workers.
pub const NONCE_STORE: &str = "nonces";
/// Object store holding registered passkeys (public data only: credential id and public JWK).
pub const PASSKEY_STORE: &str = "passkeys";
/// Version of the key record format.
pub const RECORD_VERSION: u32 = 1;

fn factory() -> Result<IdbFactory> {
    Ok(global_prop("indexedDB").ok_or(Error::KeyStoreUnavailable)?.unchecked_into())
}

/// Attaches success/error handlers to a request **now**, before any event can fire.
fn watch_request(req: &IdbRequest) -> JsFuture {
    JsFuture::from(Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    }))
}

/// Awaits a watched request and returns its `result`.
async fn request_result(req: &IdbRequest, watched: JsFuture, operation: &'static str) -> Result<JsValue> {
    let outcome = watched.await;
    req.set_onsuccess(None);
    req.set_onerror(None);
    match outcome {
        Ok(_) => req.result().map_err(store_error(operation)),
        Err(_) => {
            let cause = req.error().ok().flatten().map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
            Err(store_error(operation)(cause))
        }
    }
}

/// Attaches complete/error/abort handlers to a transaction **now**.
fn watch_transaction(tx: &IdbTransaction) -> JsFuture {
    JsFuture::from(Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        tx.set_onabort(Some(&reject));
    }))
}

/// Awaits a watched transaction's completion.
async fn transaction_result(tx: &IdbTransaction, watched: JsFuture, operation: &'static str) -> Result<()> {
    let outcome = watched.await;
    tx.set_oncomplete(None);
    tx.set_onerror(None);
    tx.set_onabort(None);
    outcome.map(|_| ()).map_err(|event| {
        // On a failed request the transaction's `error` event fires before `tx.error` is set;
        // the DOMException is on the request that failed (the event's target).
        let from_target = Reflect::get(&event, &"target".into())
            .and_then(|t| Reflect::get(&t, &"error".into()))
            .ok()
            .filter(|e| !e.is_undefined() && !e.is_null());
        let cause = tx.error().map(JsValue::from).or(from_target).unwrap_or(event);
        store_error(operation)(cause)
    })
}

/// Opens (and on first use creates) the database.
///
/// # Errors
/// `ERR_KEY_STORE_UNAVAILABLE` without IndexedDB; `ERR_KEY_STORE` when opening fails or is
/// blocked by another connection holding an older version open.
pub async fn open() -> Result<IdbDatabase> {
    let req: IdbOpenDbRequest = factory()?.open_with_u32(DB_NAME, DB_VERSION).map_err(store_error("open"))?;
    let upgrade_req = req.clone();
    let on_upgrade = Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
        if let Ok(db) = upgrade_req.result() {
            let db: IdbDatabase = db.unchecked_into();
            for store in [KEY_STORE, PENDING_STORE, SESSION_STORE, NONCE_STORE, PASSKEY_STORE] {
                if !db.object_store_names().contains(store) {
                    // A failure here aborts the upgrade, which rejects the open request below.
                    let _ = db.create_object_store(store);
                }
            }
        }
    });
    req.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let promise = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
        req.set_onblocked(Some(&reject));
    });
    let outcome = JsFuture::from(promise).await;
    req.set_onupgradeneeded(None);
    req.set_onsuccess(None);
    req.set_onerror(None);
    req.set_onblocked(None);
    drop(on_upgrade);
    match outcome {
        Ok(_) => Ok(req.result().map_err(store_error("open"))?.unchecked_into()),
        Err(event) => {
            let cause = req.error().ok().flatten().map(JsValue::from).unwrap_or(event);
            Err(store_error("open")(cause))
        }
    }
}

fn check_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 256 {
        return Err(Error::arg("id", "must be 1 to 256 characters").into());
    }
    Ok(())
}

/// Stores `pair` under a new `id`.
///
/// # Errors
/// `ERR_KEY_EXISTS` when a record already has that id (it is left untouched).
pub async fn add(id: &str, pair: &CryptoKeyPair, jkt: &str) -> Result<()> {
    check_id(id)?;
    let db = open().await?;
    let result = async {
        let tx = db.transaction_with_str_and_mode(KEY_STORE, IdbTransactionMode::Readwrite).map_err(store_error("put"))?;
        let store = tx.object_store(KEY_STORE).map_err(store_error("put"))?;
        let record = object(&[
            ("v", RECORD_VERSION.into()),
            ("keyPair", pair.into()),
            ("jkt", jkt.into()),
            ("createdAt", js_sys::Date::now().into()),
        ]);
        let done = watch_transaction(&tx);
        store.add_with_key(&record, &JsValue::from_str(id)).map_err(store_error("put"))?;
        transaction_result(&tx, done, "put").await
    }
    .await;
    db.close();
    result.map_err(|e| match &e.cause {
        Some(cause) if super::js::string_prop(cause, "name") == "ConstraintError" => {
            BrowserError { error: Error::KeyExists { id: id.to_owned() }, cause: e.cause.clone() }
        }
        _ => e,
    })
}

/// A stored key record.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// The key pair (private key non-extractable).
    pub pair: CryptoKeyPair,
    /// The thumbprint recorded when the key was stored.
    pub jkt: String,
}

fn invalid(reason: &'static str) -> BrowserError {
    Error::KeyRecordInvalid { reason }.into()
}

/// Reads the record stored under `id`.
///
/// # Errors
/// `ERR_KEY_NOT_FOUND`; `ERR_KEY_RECORD_INVALID` for a record of another version or shape.
pub async fn get(id: &str) -> Result<StoredKey> {
    check_id(id)?;
    let db = open().await?;
    let result = async {
        let tx = db.transaction_with_str(KEY_STORE).map_err(store_error("get"))?;
        let store = tx.object_store(KEY_STORE).map_err(store_error("get"))?;
        let req = store.get(&JsValue::from_str(id)).map_err(store_error("get"))?;
        let watched = watch_request(&req);
        request_result(&req, watched, "get").await
    }
    .await;
    db.close();
    let record = result?;
    if record.is_undefined() {
        return Err(Error::KeyNotFound { id: id.to_owned() }.into());
    }
    let field = |name: &str| Reflect::get(&record, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
    if field("v").as_f64() != Some(f64::from(RECORD_VERSION)) {
        return Err(invalid("unknown record version"));
    }
    let pair = field("keyPair");
    let private_key = Reflect::get(&pair, &JsValue::from_str("privateKey")).unwrap_or(JsValue::UNDEFINED);
    let public_key = Reflect::get(&pair, &JsValue::from_str("publicKey")).unwrap_or(JsValue::UNDEFINED);
    if !private_key.is_instance_of::<CryptoKey>() || !public_key.is_instance_of::<CryptoKey>() {
        return Err(invalid("\"keyPair\" does not hold two CryptoKeys"));
    }
    let jkt = field("jkt").as_string().ok_or_else(|| invalid("\"jkt\" is missing"))?;
    Ok(StoredKey { pair: pair.unchecked_into(), jkt })
}

/// Deletes the key record under `id`. Returns whether one existed.
pub async fn delete(id: &str) -> Result<bool> {
    delete_in(KEY_STORE, id).await
}

/// Stores JSON text under `id` in `store`, replacing what was there.
pub async fn put_text(store: &'static str, id: &str, text: &str) -> Result<()> {
    check_id(id)?;
    let db = open().await?;
    let result = async {
        let tx = db.transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite).map_err(store_error("put"))?;
        let os = tx.object_store(store).map_err(store_error("put"))?;
        let done = watch_transaction(&tx);
        os.put_with_key(&JsValue::from_str(text), &JsValue::from_str(id)).map_err(store_error("put"))?;
        transaction_result(&tx, done, "put").await
    }
    .await;
    db.close();
    result
}

/// Reads the JSON text under `id` in `store`; with `take`, deletes it in the same transaction
/// (single use, also across tabs).
pub async fn get_text(store: &'static str, id: &str, take: bool) -> Result<Option<String>> {
    check_id(id)?;
    let db = open().await?;
    let result = async {
        let mode = if take { IdbTransactionMode::Readwrite } else { IdbTransactionMode::Readonly };
        let tx = db.transaction_with_str_and_mode(store, mode).map_err(store_error("get"))?;
        let os = tx.object_store(store).map_err(store_error("get"))?;
        let done = watch_transaction(&tx);
        let key = JsValue::from_str(id);
        let req = os.get(&key).map_err(store_error("get"))?;
        let watched = watch_request(&req);
        if take {
            os.delete(&key).map_err(store_error("get"))?;
        }
        let value = request_result(&req, watched, "get").await?;
        transaction_result(&tx, done, "get").await?;
        Ok(value.as_string())
    }
    .await;
    db.close();
    result
}

/// Deletes `id` from `store`; returns whether it existed.
pub async fn delete_in(store: &'static str, id: &str) -> Result<bool> {
    check_id(id)?;
    let db = open().await?;
    let result = async {
        let tx = db.transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite).map_err(store_error("delete"))?;
        let os = tx.object_store(store).map_err(store_error("delete"))?;
        let key = JsValue::from_str(id);
        let done = watch_transaction(&tx);
        let count_req = os.count_with_key(&key).map_err(store_error("delete"))?;
        let counted = watch_request(&count_req);
        os.delete(&key).map_err(store_error("delete"))?;
        let count = request_result(&count_req, counted, "delete").await?;
        transaction_result(&tx, done, "delete").await?;
        Ok(count.as_f64().unwrap_or(0.0) > 0.0)
    }
    .await;
    db.close();
    result
}
