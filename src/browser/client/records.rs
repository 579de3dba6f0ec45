//! What a client stores in IndexedDB: pending logins (by `state`), sessions (by session id) and
//! pending logouts, with their format versions.

use serde::{Deserialize, Serialize};

use super::super::platform::{now_ms, now_secs};
use super::ClientConfig;
use crate::protocol::id_token::{self, IdTokenClaims, ValidatedIdToken};
use crate::protocol::oauth::{TokenResponse, TokenType};

/// How long a pending login stays valid, in seconds.
pub(super) const PENDING_TTL: i64 = 600;
/// Record format version of pending logins and sessions.
pub(super) const RECORD_VERSION: u32 = 1;
/// Version of a pending login that asked for `max_age` or `acr_values`: a version of keybound
/// that cannot check them refuses it (`ERR_KEY_RECORD_INVALID`) rather than skip the checks.
/// Both versions are read.
pub(super) const PENDING_AUTH_VERSION: u32 = 2;

/// The passkey binding of a login: which passkey, how the nonce commits to it.
#[derive(Clone, Debug, Serialize, Deserialize)]
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

#[derive(Serialize, Deserialize)]
pub(super) struct PendingRecord {
    pub(super) v: u32,
    pub(super) issuer: String,
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) key_id: String,
    pub(super) nonce: String,
    pub(super) verifier: String,
    pub(super) created_at: i64,
    #[serde(default = "yes")]
    pub(super) bind: bool,
    #[serde(default)]
    pub(super) passkey: Option<PasskeyBinding>,
    /// The named session that started the login: only that session may finish it.
    #[serde(default)]
    pub(super) session_name: String,
    /// What the login asked of the authentication (absent in version 1 records).
    #[serde(default)]
    pub(super) max_age: Option<i64>,
    #[serde(default)]
    pub(super) acr_values: Option<String>,
    #[serde(default)]
    pub(super) require_acr: bool,
}

impl PendingRecord {
    pub(super) fn auth(&self) -> id_token::AuthenticationCheck<'_> {
        id_token::AuthenticationCheck { max_age: self.max_age, acr_values: self.acr_values.as_deref(), require_acr: self.require_acr }
    }
}

pub(super) fn yes() -> bool {
    true
}

/// A signed-in session as stored. Tokens are secrets; `Debug` is not derived.
#[derive(Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub(super) v: u32,
    pub(super) issuer: String,
    pub(super) client_id: String,
    pub(super) key_id: String,
    /// Thumbprint of our key (the `dpop_jkt` sent).
    pub jkt: String,
    /// Whether the ID Token is bound to our key.
    pub bound: bool,
    /// The ID Token.
    pub id_token: String,
    /// Its verified payload, as JSON text.
    pub claims_json: String,
    pub(super) iss: String,
    pub(super) sub: String,
    pub(super) aud: Vec<String>,
    pub(super) azp: Option<String>,
    pub(super) auth_time: Option<i64>,
    pub(super) nonce: Option<String>,
    pub(super) cnf_jkt: Option<String>,
    /// The access token.
    pub access_token: String,
    /// `token_type` as normalized: `DPoP`, `Bearer` or as received.
    pub token_type: String,
    /// Access token expiry, seconds since the epoch, when known.
    pub expires_at: Option<i64>,
    pub(super) refresh_token: Option<String>,
    /// When the tokens were last obtained (`Date.now()`, ms): lets a caller that waited for the
    /// refresh lock see that another tab or worker refreshed meanwhile.
    #[serde(default)]
    pub(super) updated_at: f64,
    /// The passkey binding, when the login committed its nonce to a passkey.
    #[serde(default)]
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

impl SessionRecord {
    /// The IndexedDB id of this session's DPoP key pair (`loadDPoPKeyPair(keyId)`).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Whether a refresh token is held.
    pub fn has_refresh_token(&self) -> bool {
        self.refresh_token.is_some()
    }

    pub(super) fn claims(&self) -> IdTokenClaims {
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

    pub(super) fn set_id_token(&mut self, id_token: String, v: ValidatedIdToken) {
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

    pub(super) fn set_tokens(&mut self, t: &TokenResponse) {
        self.access_token = t.access_token.expose().to_owned();
        self.token_type = match &t.token_type {
            TokenType::Dpop => "DPoP".to_owned(),
            TokenType::Bearer => "Bearer".to_owned(),
            TokenType::Other(other) => other.clone(),
        };
        self.expires_at = t.expires_in.map(|e| now_secs() + e);
        self.updated_at = now_ms();
        if let Some(rt) = &t.refresh_token {
            // A rotated refresh token replaces the old one (stays bound to the same key).
            self.refresh_token = Some(rt.expose().to_owned());
        }
    }
}

/// The prefix of a pending logout's id in the pending store (login states are base64url).
pub(super) const LOGOUT_PREFIX: &str = "logout:";

/// A pending logout: what the post-logout page checks.
#[derive(Serialize, Deserialize)]
pub(super) struct PendingLogout {
    pub(super) issuer: String,
    pub(super) client_id: String,
    pub(super) created_at: i64,
}

pub(super) fn session_id_of(config: &ClientConfig) -> String {
    if config.session_name.is_empty() {
        format!("{} {}", config.issuer, config.client_id)
    } else {
        format!("{} {} {}", config.issuer, config.client_id, config.session_name)
    }
}
