//! What a client stores (docs/profile.md §7): pending logins keyed by `state`, sessions keyed by
//! [`super::session_id`], pending logouts keyed by [`logout_key`], all as JSON text. Every record
//! carries a version; a record that is unreadable, or of a version this keybound does not know,
//! is refused with `ERR_KEY_RECORD_INVALID`, never half-read.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::protocol::id_token::{AuthenticationCheck, IdTokenClaims, ValidatedIdToken};
use crate::protocol::oauth::{TokenResponse, TokenType};
use crate::protocol::passkey::NonceMode;
use crate::protocol::{b64, json};

/// How long a pending login (and a pending logout) stays valid, in seconds.
pub const PENDING_TTL: i64 = 600;
/// Record format version of pending logins and sessions.
pub const RECORD_VERSION: u32 = 1;
/// Version of a pending login that asked for `max_age` or `acr_values`: a version of keybound
/// that cannot check them refuses it (`ERR_KEY_RECORD_INVALID`) rather than skip the checks.
/// Both versions are read.
pub const PENDING_AUTH_VERSION: u32 = 2;
/// The prefix of a pending logout's id in the pending store (login states are base64url).
pub const LOGOUT_PREFIX: &str = "logout:";
/// The longest `state` a callback may carry to finish a login.
pub const MAX_LOGIN_STATE: usize = 256;
/// The longest `state` of a logout.
pub const MAX_LOGOUT_STATE: usize = 200;

/// The passkey binding of a login: which passkey, how the nonce commits to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyBinding {
    /// The passkey's name in IndexedDB.
    pub name: String,
    /// Its thumbprint.
    pub jkt: String,
    /// `"plain"` or `"salted"`.
    pub mode: String,
    /// The salt (salted mode), base64url: hand it to consumers with the presentation.
    pub salt: Option<String>,
    /// The login's ID Token: a refreshed ID Token loses the `nonce`, so passkey presentations
    /// use this one.
    pub id_token: String,
}

impl PasskeyBinding {
    /// The OIDC `nonce` of a passkey-nonce login and its binding, for the passkey stored under
    /// `name` whose thumbprint is `jkt`: the commitment `mode` makes of it (plain: the
    /// thumbprint; salted: a salted hash, with `salt` the 32 random bytes the browser drew). The
    /// binding's `id_token` is filled in when the login finishes.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for salted mode without a salt; the commitment's errors.
    pub fn commit(name: &str, jkt: String, mode: NonceMode, salt: Option<&[u8]>) -> Result<(String, Self), Error> {
        let salt = match mode {
            NonceMode::Salted => Some(salt.ok_or(Error::arg("salt", "is required in salted mode"))?),
            NonceMode::Plain => None,
        };
        let nonce = crate::protocol::passkey::commitment(mode, &jkt, salt)?;
        let mode = match mode {
            NonceMode::Plain => "plain",
            NonceMode::Salted => "salted",
        };
        let binding =
            PasskeyBinding { name: name.to_owned(), jkt, mode: mode.into(), salt: salt.map(b64::encode), id_token: String::new() };
        Ok((nonce, binding))
    }

    /// Whether the passkey stored under the binding's name (thumbprint `jkt`) is still the one
    /// the login committed to. A passkey registered again under the same name is not: its
    /// assertions would be refused by every consumer, so it is refused before the user is asked
    /// for a gesture.
    ///
    /// # Errors
    /// `ERR_PASSKEY_NONCE_MISMATCH`.
    pub fn check_passkey(&self, jkt: &str) -> Result<(), Error> {
        if jkt == self.jkt {
            Ok(())
        } else {
            Err(Error::PasskeyNonceMismatch)
        }
    }
}

/// A login between the authorization request and the callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRecord {
    /// [`RECORD_VERSION`], or [`PENDING_AUTH_VERSION`] when `max_age` or `acr_values` was asked.
    pub v: u32,
    /// The issuer the login was started with.
    pub issuer: String,
    /// The client that started it.
    pub client_id: String,
    /// The redirect URI sent.
    pub redirect_uri: String,
    /// The IndexedDB id of the login's key pair.
    pub key_id: String,
    /// The OIDC `nonce` sent.
    pub nonce: String,
    /// The PKCE verifier.
    pub verifier: String,
    /// When the login started, seconds since the epoch.
    pub created_at: i64,
    /// Whether the ID Token was asked to be bound (`bound_key` + `dpop_jkt`).
    #[serde(default = "yes")]
    pub bind: bool,
    /// The passkey the nonce commits to, in passkey-nonce logins.
    #[serde(default, deserialize_with = "json::nested_object")]
    pub passkey: Option<PasskeyBinding>,
    /// The named session that started the login: only that session may finish it.
    #[serde(default)]
    pub session_name: String,
    /// `max_age` asked (absent in version 1 records).
    #[serde(default)]
    pub max_age: Option<i64>,
    /// `acr_values` asked.
    #[serde(default)]
    pub acr_values: Option<String>,
    /// Whether the `acr` must be one of `acr_values`.
    #[serde(default)]
    pub require_acr: bool,
}

fn yes() -> bool {
    true
}

/// The version of a new pending login: [`PENDING_AUTH_VERSION`] when it asks for `max_age` or
/// `acr_values`, so that a keybound that cannot check them refuses it.
pub fn pending_version(max_age: Option<i64>, acr_values: Option<&str>) -> u32 {
    if max_age.is_some() || acr_values.is_some() {
        PENDING_AUTH_VERSION
    } else {
        RECORD_VERSION
    }
}

impl PendingRecord {
    /// What the login asked of the authentication.
    pub fn auth(&self) -> AuthenticationCheck<'_> {
        AuthenticationCheck { max_age: self.max_age, acr_values: self.acr_values.as_deref(), require_acr: self.require_acr }
    }

    /// The record as stored.
    ///
    /// # Errors
    /// `ERR_JSON_INVALID` (does not happen for these types).
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(|e| Error::json("pending login", e))
    }

    /// Reads a stored pending login.
    ///
    /// # Errors
    /// `ERR_KEY_RECORD_INVALID`: unreadable, or of a version other than [`RECORD_VERSION`] and
    /// [`PENDING_AUTH_VERSION`].
    pub fn parse(text: &str) -> Result<Self, Error> {
        let record: PendingRecord =
            json::from_object(text.as_bytes()).map_err(|_| Error::KeyRecordInvalid { reason: "unreadable pending login" })?;
        if record.v != RECORD_VERSION && record.v != PENDING_AUTH_VERSION {
            return Err(Error::KeyRecordInvalid { reason: "pending login of an unknown version" });
        }
        Ok(record)
    }

    /// Whether this login may be finished by `issuer`'s client `client_id` at `now`.
    ///
    /// # Errors
    /// `ERR_STATE_MISMATCH`: another issuer or client, or older than [`PENDING_TTL`].
    pub fn check(&self, issuer: &str, client_id: &str, now: i64) -> Result<(), Error> {
        if self.issuer != issuer || self.client_id != client_id || now - self.created_at > PENDING_TTL {
            return Err(Error::StateMismatch);
        }
        Ok(())
    }
}

/// Whether a stored pending login (as text) was started by another named session than
/// `session_name`: that session's to finish, so it is refused without being consumed. A record
/// that does not read is not another session's (the full read refuses it).
pub fn started_by_other_session(text: &str, session_name: &str) -> bool {
    #[derive(Deserialize)]
    struct Owner {
        #[serde(default)]
        session_name: String,
    }
    json::from_object::<Owner>(text.as_bytes()).map(|o| o.session_name != session_name).unwrap_or(false)
}

/// The `state` of a login callback, when it can name a pending login: 1 to
/// [`MAX_LOGIN_STATE`] characters, not a logout's.
///
/// # Errors
/// `ERR_STATE_MISMATCH`.
pub fn login_state(state: Option<&str>) -> Result<&str, Error> {
    state.filter(|s| !s.is_empty() && s.len() <= MAX_LOGIN_STATE && !s.starts_with(LOGOUT_PREFIX)).ok_or(Error::StateMismatch)
}

/// The `state` of a post-logout redirect, when it can name a pending logout: 1 to
/// [`MAX_LOGOUT_STATE`] characters.
///
/// # Errors
/// `ERR_STATE_MISMATCH`.
pub fn logout_state(state: Option<&str>) -> Result<&str, Error> {
    state.filter(|s| !s.is_empty() && s.len() <= MAX_LOGOUT_STATE).ok_or(Error::StateMismatch)
}

/// Checks a `state` a caller gives `logout`.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` unless 1 to [`MAX_LOGOUT_STATE`] characters.
pub fn check_logout_state_argument(state: Option<&str>) -> Result<(), Error> {
    if state.is_some_and(|s| s.is_empty() || s.len() > MAX_LOGOUT_STATE) {
        return Err(Error::arg("state", "must be 1 to 200 characters"));
    }
    Ok(())
}

/// The `state` of a logout: the caller's, else, when the OP is to redirect back
/// (`post_logout_redirect_uri`), a fresh one from `random` (RP-Initiated Logout 1.0 §2: the
/// returned `state` is what ties the redirect to this logout); none without a redirect.
///
/// # Errors
/// As [`check_logout_state_argument`], and `random`'s.
pub fn new_logout_state(
    post_logout_redirect_uri: Option<&str>,
    state: Option<String>,
    random: impl FnOnce() -> Result<String, Error>,
) -> Result<Option<String>, Error> {
    let state = match (post_logout_redirect_uri, state) {
        (Some(_), None) => Some(random()?),
        (_, state) => state,
    };
    check_logout_state_argument(state.as_deref())?;
    Ok(state)
}

/// The pending store id of the logout sent with `state`.
pub fn logout_key(state: &str) -> String {
    format!("{LOGOUT_PREFIX}{state}")
}

/// A pending logout: what the post-logout page checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogout {
    /// The issuer logged out of.
    pub issuer: String,
    /// The client that logged out.
    pub client_id: String,
    /// When, seconds since the epoch.
    pub created_at: i64,
}

impl PendingLogout {
    /// The record as stored.
    ///
    /// # Errors
    /// `ERR_JSON_INVALID` (does not happen for this type).
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(|e| Error::json("pending logout", e))
    }

    /// Reads a stored pending logout.
    ///
    /// # Errors
    /// `ERR_KEY_RECORD_INVALID`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        json::from_object(text.as_bytes()).map_err(|_| Error::KeyRecordInvalid { reason: "unreadable pending logout" })
    }

    /// Whether the post-logout page of `issuer`'s client `client_id` may accept it at `now`.
    ///
    /// # Errors
    /// `ERR_STATE_MISMATCH`: another issuer or client, or older than [`PENDING_TTL`].
    pub fn check(&self, issuer: &str, client_id: &str, now: i64) -> Result<(), Error> {
        if self.issuer != issuer || self.client_id != client_id || now - self.created_at > PENDING_TTL {
            return Err(Error::StateMismatch);
        }
        Ok(())
    }
}

/// A signed-in session as stored. Tokens are secrets; `Debug` is not derived.
#[derive(Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    v: u32,
    issuer: String,
    client_id: String,
    key_id: String,
    /// Thumbprint of our key (the `dpop_jkt` sent).
    pub jkt: String,
    /// Whether the ID Token is bound to our key.
    pub bound: bool,
    /// The ID Token.
    pub id_token: String,
    /// Its verified payload, as JSON text.
    pub claims_json: String,
    iss: String,
    sub: String,
    aud: Vec<String>,
    azp: Option<String>,
    auth_time: Option<i64>,
    nonce: Option<String>,
    cnf_jkt: Option<String>,
    /// The access token.
    pub access_token: String,
    /// `token_type` as normalized: `DPoP`, `Bearer` or as received.
    pub token_type: String,
    /// Access token expiry, seconds since the epoch, when known.
    pub expires_at: Option<i64>,
    refresh_token: Option<String>,
    /// When the tokens were last obtained (`Date.now()`, ms): lets a caller that waited for the
    /// refresh lock see that another tab or worker refreshed meanwhile.
    #[serde(default)]
    updated_at: f64,
    /// The passkey binding, when the login committed its nonce to a passkey.
    #[serde(default, deserialize_with = "json::nested_object")]
    pub passkey: Option<PasskeyBinding>,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("issuer", &self.issuer)
            .field("sub", &self.sub)
            .field("jkt", &self.jkt)
            .field("bound", &self.bound)
            .field("token_type", &self.token_type)
            .field("tokens", &"[redacted]")
            .finish()
    }
}

/// A stored session that was refused: the browser layer deletes it, and its key when it names
/// one, and reports `error`.
#[derive(Debug)]
pub struct RefusedSession {
    /// The key the record names, if it names one.
    pub key_id: Option<String>,
    /// `ERR_KEY_RECORD_INVALID`, saying whether the record was unreadable or of another version.
    pub error: Error,
}

impl SessionRecord {
    /// A session of `issuer`'s client `client_id` with the key `key_id` (thumbprint `jkt`),
    /// before its ID Token and tokens are set.
    pub fn new(issuer: &str, client_id: &str, key_id: &str, jkt: &str) -> Self {
        SessionRecord {
            v: RECORD_VERSION,
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            key_id: key_id.to_owned(),
            jkt: jkt.to_owned(),
            bound: false,
            id_token: String::new(),
            claims_json: String::new(),
            iss: String::new(),
            sub: String::new(),
            aud: Vec::new(),
            azp: None,
            auth_time: None,
            nonce: None,
            cnf_jkt: None,
            access_token: String::new(),
            token_type: String::new(),
            expires_at: None,
            refresh_token: None,
            updated_at: 0.0,
            passkey: None,
        }
    }

    /// The record as stored.
    ///
    /// # Errors
    /// `ERR_JSON_INVALID` (does not happen for this type).
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(|e| Error::json("session", e))
    }

    /// Reads a stored session.
    ///
    /// # Errors
    /// A [`RefusedSession`] for a record that is unreadable or not of [`RECORD_VERSION`] (stored
    /// by another version of keybound): discard it, and the next call finds no session.
    pub fn parse(text: &str) -> Result<Self, RefusedSession> {
        let refused = |reason| {
            #[derive(Deserialize)]
            struct KeyOnly {
                key_id: Option<String>,
            }
            let key_id = json::from_object::<KeyOnly>(text.as_bytes()).ok().and_then(|k| k.key_id);
            RefusedSession { key_id, error: Error::KeyRecordInvalid { reason } }
        };
        match json::from_object::<SessionRecord>(text.as_bytes()) {
            Ok(record) if record.v == RECORD_VERSION => Ok(record),
            Ok(_) => Err(refused("a session stored by another version of keybound was discarded; log in again")),
            Err(_) => Err(refused("an unreadable stored session was discarded; log in again")),
        }
    }

    /// The IndexedDB id of this session's DPoP key pair (`loadDPoPKeyPair(keyId)`).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The key of `self`, a stored session, to delete when `next` replaces it: a new login
    /// makes a new key, and the old one must not outlive its session. `None` when both use the
    /// same key.
    pub fn key_to_forget(&self, next: &SessionRecord) -> Option<&str> {
        (self.key_id != next.key_id).then_some(self.key_id.as_str())
    }

    /// Whether a refresh token is held.
    pub fn has_refresh_token(&self) -> bool {
        self.refresh_token.is_some()
    }

    /// The refresh token, if one is held.
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref()
    }

    /// Whether the access token is DPoP-bound (requests carry a proof by the session key).
    pub fn is_dpop(&self) -> bool {
        self.token_type.eq_ignore_ascii_case("dpop")
    }

    /// What logout revokes (RFC 7009): the refresh token, else the access token, with its
    /// `token_type_hint`.
    pub fn revocation_token(&self) -> (&str, &'static str) {
        match &self.refresh_token {
            Some(rt) => (rt.as_str(), "refresh_token"),
            None => (self.access_token.as_str(), "access_token"),
        }
    }

    /// Whether the tokens were obtained after `started_ms` (`Date.now()`): a caller that waited
    /// for the refresh lock while another tab or worker refreshed reuses that refresh (a refresh
    /// token is never used twice).
    pub fn refreshed_since(&self, started_ms: f64) -> bool {
        self.updated_at > started_ms
    }

    /// The checked claims a refreshed ID Token must keep (OIDC Core §12.2, KB §5).
    pub fn claims(&self) -> IdTokenClaims {
        IdTokenClaims {
            iss: self.iss.clone(),
            sub: self.sub.clone(),
            aud: self.aud.clone(),
            exp: 0,
            iat: 0,
            nonce: self.nonce.clone(),
            azp: self.azp.clone(),
            auth_time: self.auth_time,
            cnf_jkt: self.cnf_jkt.clone(),
            acr: None,
        }
    }

    /// Takes a validated ID Token.
    pub fn set_id_token(&mut self, id_token: String, v: ValidatedIdToken) {
        self.id_token = id_token;
        self.claims_json = v.claims_json;
        self.bound = v.bound;
        self.iss = v.claims.iss;
        self.sub = v.claims.sub;
        self.aud = v.claims.aud;
        self.azp = v.claims.azp;
        self.auth_time = v.claims.auth_time;
        self.nonce = v.claims.nonce;
        self.cnf_jkt = v.claims.cnf_jkt;
    }

    /// Takes a token response received at `now_secs` (`now_ms` in milliseconds). A rotated
    /// refresh token replaces the old one (it stays bound to the same key); a response without
    /// one keeps it.
    pub fn set_tokens(&mut self, t: &TokenResponse, now_secs: i64, now_ms: f64) {
        self.access_token = t.access_token.expose().to_owned();
        self.token_type = match &t.token_type {
            TokenType::Dpop => "DPoP".to_owned(),
            TokenType::Bearer => "Bearer".to_owned(),
            TokenType::Other(other) => other.clone(),
        };
        self.expires_at = t.expires_in.map(|e| now_secs + e);
        self.updated_at = now_ms;
        if let Some(rt) = &t.refresh_token {
            self.refresh_token = Some(rt.expose().to_owned());
        }
    }
}
