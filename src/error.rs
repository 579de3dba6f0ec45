//! The one error type of keybound, with a stable `ERR_*` code per variant.
//!
//! Codes are API: they are never renamed, and new variants only add codes. JavaScript receives
//! them as the `code` property of a real `Error` (see `bindings::errors`), and the TypeScript
//! union `ErrorCode` in the generated `.d.ts` is produced from the same list as
//! [`ErrorCode::ALL`], so the two cannot drift apart.

use std::borrow::Cow;
use std::fmt;

/// The most characters of an attacker-controlled string (a claim, an OP's error text, a
/// parser message quoting input) that an error message or evidence record echoes.
pub const MAX_ECHO_CHARS: usize = 256;

/// `s` cut to [`MAX_ECHO_CHARS`] characters, with an ellipsis (`…`) when it was longer.
pub(crate) fn cap_echo(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(MAX_ECHO_CHARS) {
        None => Cow::Borrowed(s),
        Some((i, _)) => Cow::Owned(format!("{}…", &s[..i])),
    }
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, )*) => {
        /// A stable, machine-readable error code. `as_str()` gives the `ERR_*` string.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The stable `ERR_*` string for this code.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),* }
            }
        }

        /// The TypeScript declaration of the `ErrorCode` union, generated from the same list as
        /// [`ErrorCode::ALL`]. The wasm bindings append it to the `.d.ts`.
        pub const ERROR_CODE_TS: &str = concat!(
            "/** Every stable error code a keybound `Error` can carry in its `code` property. */\n",
            "export type ErrorCode =",
            $( "\n  | \"", $code, "\"", )*
            ";\n"
        );
    };
}

error_codes! {
    /// An argument was missing or had the wrong shape.
    InvalidArgument = "ERR_INVALID_ARGUMENT",
    /// A value that must be base64url (no padding, URL-safe alphabet) was not.
    Base64UrlInvalid = "ERR_BASE64URL_INVALID",
    /// A JSON document could not be parsed into the expected shape.
    JsonInvalid = "ERR_JSON_INVALID",
    /// A JWK lacked a required member or a member had the wrong form or length.
    JwkInvalid = "ERR_JWK_INVALID",
    /// A JWK that must be public carried private key material.
    JwkPrivateKey = "ERR_JWK_PRIVATE_KEY",
    /// The JWK `kty` or `crv` is not one keybound accepts.
    JwkUnsupported = "ERR_JWK_UNSUPPORTED",
    /// The key is too weak (for example an RSA modulus under 2048 bits).
    JwkWeakKey = "ERR_JWK_WEAK_KEY",
    /// A compact JWS was not three non-empty base64url parts.
    JwsMalformed = "ERR_JWS_MALFORMED",
    /// A compact JWS or one of its parts exceeded the size limit.
    JwsTooLarge = "ERR_JWS_TOO_LARGE",
    /// A five-part compact JWE was given where a JWS was expected.
    JweUnsupported = "ERR_JWE_UNSUPPORTED",
    /// The JWS `alg` is `none`, symmetric, unknown or not on the allow-list.
    JwsAlgNotAllowed = "ERR_JWS_ALG_NOT_ALLOWED",
    /// The JWS `alg` does not fit the key type or curve.
    JwsAlgKeyMismatch = "ERR_JWS_ALG_KEY_MISMATCH",
    /// The JWS header lists a `crit` extension keybound does not understand.
    JwsCritUnsupported = "ERR_JWS_CRIT_UNSUPPORTED",
    /// The JWS signature did not verify.
    JwsSignatureInvalid = "ERR_JWS_SIGNATURE_INVALID",
    /// A URL could not be used (not absolute http(s), or malformed).
    UrlInvalid = "ERR_URL_INVALID",
    /// A PKCE code verifier was not 43 to 128 unreserved characters.
    PkceVerifierInvalid = "ERR_PKCE_VERIFIER_INVALID",
    /// The DPoP proof header `typ` was not `dpop+jwt`.
    DpopTypInvalid = "ERR_DPOP_TYP_INVALID",
    /// The DPoP proof header carried no usable public `jwk`.
    DpopJwkMissing = "ERR_DPOP_JWK_MISSING",
    /// A required DPoP proof claim was missing or had the wrong type.
    DpopClaimMissing = "ERR_DPOP_CLAIM_MISSING",
    /// The DPoP proof `htm` did not equal the request method.
    DpopHtmMismatch = "ERR_DPOP_HTM_MISMATCH",
    /// The DPoP proof `htu` did not equal the request URI (after normalization).
    DpopHtuMismatch = "ERR_DPOP_HTU_MISMATCH",
    /// The DPoP proof `iat` was outside the acceptance window.
    DpopIatOutOfWindow = "ERR_DPOP_IAT_OUT_OF_WINDOW",
    /// The DPoP proof `jti` was too short or too long.
    DpopJtiInvalid = "ERR_DPOP_JTI_INVALID",
    /// The DPoP proof `nonce` was missing or not the expected server nonce.
    DpopNonceMismatch = "ERR_DPOP_NONCE_MISMATCH",
    /// The DPoP proof `ath` was missing or not the hash of the presented token.
    DpopAthMismatch = "ERR_DPOP_ATH_MISMATCH",
    /// The DPoP proof `c_s256` was missing or not the hash of the presented code.
    DpopCodeHashMismatch = "ERR_DPOP_C_S256_MISMATCH",
    /// The DPoP proof key's thumbprint was not the expected one (`dpop_jkt` / `cnf`).
    DpopKeyMismatch = "ERR_DPOP_KEY_MISMATCH",
    /// No key in the JWKS fits the token header (`kid`, `alg`, `use`).
    JwksNoMatchingKey = "ERR_JWKS_NO_MATCHING_KEY",
    /// A required ID Token claim is missing or has the wrong type.
    IdTokenClaimMissing = "ERR_ID_TOKEN_CLAIM_MISSING",
    /// The ID Token `iss` is not the configured issuer.
    IdTokenIssuerMismatch = "ERR_ID_TOKEN_ISS_MISMATCH",
    /// The ID Token `aud` does not contain the client_id, or lists untrusted audiences.
    IdTokenAudienceMismatch = "ERR_ID_TOKEN_AUD_MISMATCH",
    /// The ID Token `azp` is present and not the client_id.
    IdTokenAzpMismatch = "ERR_ID_TOKEN_AZP_MISMATCH",
    /// The ID Token has expired (`exp`).
    IdTokenExpired = "ERR_ID_TOKEN_EXPIRED",
    /// The ID Token `iat` or `nbf` is implausible (in the future, or too old), or its
    /// `auth_time` is in the future.
    IdTokenIatInvalid = "ERR_ID_TOKEN_IAT_INVALID",
    /// The ID Token `nonce` is not the one sent in the authentication request.
    IdTokenNonceMismatch = "ERR_ID_TOKEN_NONCE_MISMATCH",
    /// The ID Token is not key-bound (`typ` is not `dpop+id_token`, or no `cnf.jwk`) and the
    /// binding policy requires it.
    IdTokenUnbound = "ERR_ID_TOKEN_UNBOUND",
    /// The ID Token `cnf.jwk` is not our key (thumbprint mismatch), or `cnf` is malformed.
    IdTokenCnfMismatch = "ERR_ID_TOKEN_CNF_MISMATCH",
    /// A refreshed ID Token changed `iss`, `sub`, `aud`, `azp`, `auth_time`, `nonce` or `cnf`
    /// (OIDC Core §12.2, KB §5).
    IdTokenRefreshMismatch = "ERR_ID_TOKEN_REFRESH_MISMATCH",
    /// `max_age` was requested and the ID Token has no `auth_time` (OIDC Core §3.1.2.1).
    IdTokenAuthTimeMissing = "ERR_ID_TOKEN_AUTH_TIME_MISSING",
    /// The user authenticated longer ago than the `max_age` requested (`auth_time` + `max_age`
    /// + clock skew is before now).
    IdTokenAuthTooOld = "ERR_ID_TOKEN_AUTH_TOO_OLD",
    /// The ID Token `acr` is absent or not one of the `acr_values` requested, and the caller
    /// required it.
    IdTokenAcrNotSatisfied = "ERR_ID_TOKEN_ACR_NOT_SATISFIED",
    /// The discovery document's `issuer` is not the configured issuer (OIDC Discovery §4.3).
    DiscoveryIssuerMismatch = "ERR_DISCOVERY_ISSUER_MISMATCH",
    /// The discovery document lacks a required endpoint or has a malformed one.
    DiscoveryInvalid = "ERR_DISCOVERY_INVALID",
    /// The callback's `state` is missing or not one we issued.
    StateMismatch = "ERR_STATE_MISMATCH",
    /// The callback's `iss` is missing (when the OP advertises RFC 9207) or not the issuer.
    IssMismatch = "ERR_ISS_MISMATCH",
    /// The OP answered with an OAuth error (`error`, `error_description`).
    OAuthError = "ERR_OAUTH_ERROR",
    /// The server asked for a DPoP nonce (`use_dpop_nonce`); retry once with the nonce given.
    UseDpopNonce = "ERR_USE_DPOP_NONCE",
    /// A response was not what the protocol says (status, content type, JSON shape).
    OAuthResponseInvalid = "ERR_OAUTH_RESPONSE_INVALID",
    /// The ID Token's issuer is not one this consumer accepts.
    IssuerNotAccepted = "ERR_ISSUER_NOT_ACCEPTED",
    /// The ID Token header `typ` is not `dpop+id_token` (a consumer accepts only bound tokens).
    IdTokenTypInvalid = "ERR_ID_TOKEN_TYP_INVALID",
    /// The ID Token has no `cnf`: it is not bound to any key.
    CnfMissing = "ERR_CNF_MISSING",
    /// The ID Token has `cnf.jkt` but no `cnf.jwk` (does not conform to Key Binding).
    CnfJktOnly = "ERR_CNF_JKT_ONLY",
    /// The proof's `jti` was already used within the acceptance window (a replay).
    DpopReplay = "ERR_DPOP_REPLAY",
    /// The replay store could not be reached; the verifier fails closed.
    ReplayStoreUnavailable = "ERR_REPLAY_STORE_UNAVAILABLE",
    /// No `DPoP` proof came with the presentation.
    DpopProofMissing = "ERR_DPOP_PROOF_MISSING",
    /// The consumer requires a nonce and the proof has none: challenge with a fresh nonce.
    DpopNonceRequired = "ERR_DPOP_NONCE_REQUIRED",
    /// The ID Token's `nonce` is not the commitment to this passkey (in the stated mode and salt).
    PasskeyNonceMismatch = "ERR_PASSKEY_NONCE_MISMATCH",
    /// WebAuthn data is malformed (authenticatorData, DER signature).
    WebAuthnInvalid = "ERR_WEBAUTHN_INVALID",
    /// The clientDataJSON `type` is not `webauthn.get`.
    WebAuthnType = "ERR_WEBAUTHN_TYPE",
    /// The assertion answers another challenge.
    WebAuthnChallenge = "ERR_WEBAUTHN_CHALLENGE",
    /// The assertion was made for an origin that is not accepted.
    WebAuthnOrigin = "ERR_WEBAUTHN_ORIGIN",
    /// The authenticatorData rpIdHash is not SHA-256 of the RP ID.
    WebAuthnRpId = "ERR_WEBAUTHN_RP_ID",
    /// The user-present flag is not set.
    WebAuthnUserPresence = "ERR_WEBAUTHN_USER_PRESENCE",
    /// User verification was required and not performed.
    WebAuthnUserVerification = "ERR_WEBAUTHN_USER_VERIFICATION",
    /// The sign count did not grow: a possible cloned authenticator.
    WebAuthnSignCount = "ERR_WEBAUTHN_SIGN_COUNT",
    /// The user denied the device authorization (RFC 8628 `access_denied`).
    DeviceAccessDenied = "ERR_DEVICE_ACCESS_DENIED",
    /// The device code expired before the user finished (RFC 8628 `expired_token`).
    DeviceCodeExpired = "ERR_DEVICE_CODE_EXPIRED",
    /// The operation was cancelled by the caller.
    Cancelled = "ERR_CANCELLED",
    /// `loginPopup`: the browser refused to open the popup (`open()` gave no window: a popup
    /// blocker, or no user gesture). Nothing was started.
    PopupBlocked = "ERR_POPUP_BLOCKED",
    /// `loginPopup`: the user closed the popup before the OP sent it back. The pending login is
    /// deleted.
    PopupClosed = "ERR_POPUP_CLOSED",
    /// `loginPopup`: the popup did not come back within the `timeout` option (5 minutes by
    /// default). The popup is closed and the pending login deleted.
    PopupTimeout = "ERR_POPUP_TIMEOUT",
    /// A request took longer than its timeout (the client's or consumer's `timeout` option,
    /// 30 seconds by default) and was aborted.
    Timeout = "ERR_TIMEOUT",
    /// A request could not be made (network failure, CORS refusal, refused redirect).
    Network = "ERR_NETWORK",
    /// No signed-in session is stored for this client.
    NoSession = "ERR_NO_SESSION",
    /// The session holds no refresh token (the OP issued none; ask for `offline_access`).
    NoRefreshToken = "ERR_NO_REFRESH_TOKEN",
    /// WebCrypto (`crypto.subtle`) is not available: not a secure context, or no WebCrypto.
    CryptoUnavailable = "ERR_CRYPTO_UNAVAILABLE",
    /// A WebCrypto operation failed.
    CryptoOperation = "ERR_CRYPTO_OPERATION",
    /// IndexedDB is not available in this context.
    KeyStoreUnavailable = "ERR_KEY_STORE_UNAVAILABLE",
    /// An IndexedDB operation failed or was blocked.
    KeyStore = "ERR_KEY_STORE",
    /// No key is stored under the requested id.
    KeyNotFound = "ERR_KEY_NOT_FOUND",
    /// A key is already stored under that id; it is never silently replaced.
    KeyExists = "ERR_KEY_EXISTS",
    /// A stored key record had an unknown version or shape.
    KeyRecordInvalid = "ERR_KEY_RECORD_INVALID",
    /// An unexpected JavaScript exception.
    Js = "ERR_JS",
    /// A function of a plain-ES-module entry (`keybound/web`, `keybound/consumer/web`, …) was
    /// called before `init()` or `initSync()` had instantiated its wasm. Raised by the JS glue,
    /// which has no wasm to ask (so no [`Error`] variant carries it); the bundler and Node
    /// entries instantiate at import and never raise it.
    NotInitialized = "ERR_NOT_INITIALIZED",
}

/// Which DPoP proof claim an [`Error::DpopClaimMissing`] is about.
pub type ClaimName = &'static str;

/// Every failure keybound reports. Match on [`Error::code`] for a stable identity; the
/// `Display` text is for people and may change.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An argument was missing or had the wrong shape.
    InvalidArgument {
        /// The argument's name as the caller knows it.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A value that must be base64url was not; `what` names the value.
    Base64UrlInvalid {
        /// The value that failed to decode.
        what: &'static str,
    },
    /// A JSON document did not parse into the expected shape.
    JsonInvalid {
        /// The document that failed.
        what: &'static str,
        /// The parser's explanation.
        detail: String,
    },
    /// A JWK member was missing or malformed.
    JwkInvalid {
        /// What is wrong.
        reason: &'static str,
    },
    /// A JWK that must be public held the named private member.
    JwkPrivateKey {
        /// The private member found (`d`, `p`, `k`, ...).
        member: &'static str,
    },
    /// A JWK `kty`/`crv` keybound does not accept.
    JwkUnsupported {
        /// The offending `kty` or `crv` value.
        value: String,
    },
    /// The key is too weak.
    JwkWeakKey {
        /// Why.
        reason: &'static str,
    },
    /// A compact JWS was malformed.
    JwsMalformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// A compact JWS exceeded a size limit.
    JwsTooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// A compact JWE (five parts) was given where a JWS was expected.
    JweUnsupported,
    /// The `alg` is not allowed.
    JwsAlgNotAllowed {
        /// The `alg` value as received.
        alg: String,
    },
    /// The `alg` does not fit the key.
    JwsAlgKeyMismatch {
        /// The `alg` value.
        alg: &'static str,
    },
    /// The header lists a `crit` extension keybound does not understand (or `crit` is malformed).
    JwsCritUnsupported {
        /// The first unsupported entry, or a description of the malformation.
        name: String,
    },
    /// The JWS signature did not verify.
    JwsSignatureInvalid,
    /// A URL could not be used.
    UrlInvalid {
        /// What is wrong.
        reason: &'static str,
    },
    /// A PKCE code verifier was malformed.
    PkceVerifierInvalid,
    /// The proof `typ` was not `dpop+jwt`.
    DpopTypInvalid,
    /// The proof header had no public `jwk`.
    DpopJwkMissing,
    /// A required proof claim was missing or mistyped.
    DpopClaimMissing {
        /// The claim.
        claim: ClaimName,
    },
    /// `htm` mismatch.
    DpopHtmMismatch,
    /// `htu` mismatch.
    DpopHtuMismatch,
    /// `iat` outside the window.
    DpopIatOutOfWindow {
        /// The proof's `iat`.
        iat: i64,
        /// The verifier's clock.
        now: i64,
    },
    /// `jti` too short or too long.
    DpopJtiInvalid,
    /// `nonce` missing or wrong.
    DpopNonceMismatch,
    /// `ath` missing or wrong.
    DpopAthMismatch,
    /// `c_s256` missing or wrong.
    DpopCodeHashMismatch,
    /// The proof key is not the expected key.
    DpopKeyMismatch,
    /// No JWKS key fits.
    JwksNoMatchingKey {
        /// The header `kid`, if any.
        kid: Option<String>,
    },
    /// A required ID Token claim is missing or mistyped.
    IdTokenClaimMissing {
        /// The claim.
        claim: ClaimName,
    },
    /// `iss` mismatch.
    IdTokenIssuerMismatch,
    /// `aud` mismatch.
    IdTokenAudienceMismatch,
    /// `azp` mismatch.
    IdTokenAzpMismatch,
    /// Expired.
    IdTokenExpired {
        /// The token's `exp`.
        exp: i64,
        /// The validator's clock.
        now: i64,
    },
    /// `iat`/`nbf` implausible.
    IdTokenIatInvalid {
        /// Which claim.
        claim: ClaimName,
    },
    /// `nonce` mismatch.
    IdTokenNonceMismatch,
    /// Not key-bound while binding is required.
    IdTokenUnbound {
        /// Why the token counts as unbound.
        reason: &'static str,
    },
    /// `cnf` is not our key.
    IdTokenCnfMismatch,
    /// A refreshed token changed what must stay the same.
    IdTokenRefreshMismatch {
        /// The claim that changed.
        claim: ClaimName,
    },
    /// No `auth_time` although `max_age` was requested.
    IdTokenAuthTimeMissing,
    /// The authentication is older than the requested `max_age`.
    IdTokenAuthTooOld {
        /// The token's `auth_time`.
        auth_time: i64,
        /// The `max_age` requested, seconds.
        max_age: i64,
        /// The validator's clock.
        now: i64,
    },
    /// `acr` not among the requested values.
    IdTokenAcrNotSatisfied {
        /// The token's `acr`, if it had a string one.
        acr: Option<String>,
    },
    /// Discovery `issuer` mismatch.
    DiscoveryIssuerMismatch {
        /// The issuer the document claims.
        found: String,
    },
    /// Discovery document unusable.
    DiscoveryInvalid {
        /// What is wrong.
        reason: &'static str,
    },
    /// `state` mismatch.
    StateMismatch,
    /// RFC 9207 `iss` mismatch or missing.
    IssMismatch,
    /// An OAuth error response.
    OAuthError {
        /// The `error` code, as the OP sent it.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
        /// The HTTP status, for token-endpoint errors (0 for front-channel errors).
        status: u16,
    },
    /// The server wants a DPoP nonce.
    UseDpopNonce {
        /// The `DPoP-Nonce` to put in the retried proof.
        nonce: String,
    },
    /// A response that does not follow the protocol.
    OAuthResponseInvalid {
        /// What is wrong.
        reason: &'static str,
        /// The HTTP status.
        status: u16,
    },
    /// Issuer not accepted.
    IssuerNotAccepted {
        /// The `iss` the token claims.
        iss: String,
    },
    /// `typ` is not `dpop+id_token`.
    IdTokenTypInvalid,
    /// No `cnf`.
    CnfMissing,
    /// `cnf.jkt` only.
    CnfJktOnly,
    /// `jti` replayed.
    DpopReplay,
    /// Replay store unreachable.
    ReplayStoreUnavailable {
        /// The store's explanation.
        message: String,
    },
    /// No proof.
    DpopProofMissing,
    /// Nonce required but absent.
    DpopNonceRequired,
    /// Passkey commitment mismatch.
    PasskeyNonceMismatch,
    /// Malformed WebAuthn data.
    WebAuthnInvalid {
        /// What is wrong.
        reason: &'static str,
    },
    /// Wrong clientDataJSON type.
    WebAuthnType,
    /// Wrong challenge.
    WebAuthnChallenge,
    /// Origin not accepted.
    WebAuthnOrigin {
        /// The origin in clientDataJSON.
        origin: String,
    },
    /// Wrong rpIdHash.
    WebAuthnRpId,
    /// No user presence.
    WebAuthnUserPresence,
    /// No user verification.
    WebAuthnUserVerification,
    /// Sign count did not grow.
    WebAuthnSignCount {
        /// The count stored.
        previous: u32,
        /// The count received.
        now: u32,
    },
    /// Device authorization denied.
    DeviceAccessDenied,
    /// Device code expired.
    DeviceCodeExpired,
    /// Cancelled.
    Cancelled,
    /// The popup could not be opened.
    PopupBlocked,
    /// The popup was closed by the user.
    PopupClosed,
    /// The popup did not come back in time.
    PopupTimeout {
        /// The timeout, milliseconds.
        timeout_ms: u32,
    },
    /// A request took longer than its timeout and was aborted.
    Timeout {
        /// The URL.
        url: String,
        /// The timeout, milliseconds.
        timeout_ms: u32,
    },
    /// A request could not be made.
    Network {
        /// The URL.
        url: String,
        /// The browser's message (browsers hide CORS details on purpose).
        message: String,
    },
    /// No session.
    NoSession,
    /// No refresh token.
    NoRefreshToken,
    /// WebCrypto is not available.
    CryptoUnavailable,
    /// A WebCrypto operation failed.
    CryptoOperation {
        /// The operation (`generateKey`, `sign`, ...).
        operation: &'static str,
        /// The browser's message.
        message: String,
    },
    /// IndexedDB is not available.
    KeyStoreUnavailable,
    /// An IndexedDB operation failed.
    KeyStore {
        /// The operation (`open`, `put`, ...).
        operation: &'static str,
        /// The browser's message.
        message: String,
    },
    /// No key under that id.
    KeyNotFound {
        /// The id looked up.
        id: String,
    },
    /// The id is taken.
    KeyExists {
        /// The id.
        id: String,
    },
    /// A stored record was unusable.
    KeyRecordInvalid {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An unexpected JavaScript exception.
    Js {
        /// The exception's `name`.
        name: String,
        /// The exception's `message`.
        message: String,
    },
    /// A login or refresh refused after the OP answered with tokens: the refusal (whose code
    /// this error has), and whether the tokens of that answer were revoked (RFC 7009) before
    /// they were dropped (`revoked` on the JS error).
    AnswerRefused {
        /// The refusal.
        error: Box<Error>,
        /// Whether every token of the answer was revoked; false when the OP has no revocation
        /// endpoint or a revocation failed.
        revoked: bool,
    },
}

/// The value of a structured field of an [`Error`], as JavaScript gets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field<'a> {
    /// A string (attacker-controlled ones capped at [`MAX_ECHO_CHARS`] characters).
    Str(Cow<'a, str>),
    /// A number.
    Num(i64),
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
}

impl Error {
    /// The structured fields of this error, under the names JavaScript sees on the `Error`
    /// (camelCase; `code`, `message` and `cause` aside). One list for every path, so a field that
    /// one API exposes is exposed by all; the `KeyboundError` typings declare the same names.
    /// Strings that came from the network or the page are capped at [`MAX_ECHO_CHARS`].
    pub fn fields(&self) -> Vec<(&'static str, Field<'_>)> {
        let mut out = Vec::new();
        self.each_field(|name, value| out.push((name, value)));
        out
    }

    /// [`Error::fields`] one by one, without collecting them.
    pub fn each_field<'a>(&'a self, mut f: impl FnMut(&'static str, Field<'a>)) {
        self.each_field_dyn(&mut f);
    }

    fn each_field_dyn<'a>(&'a self, f: &mut dyn FnMut(&'static str, Field<'a>)) {
        let echo = |v: &str| Field::Str(cap_echo(v).into_owned().into());
        match self {
            Error::InvalidArgument { name, .. } => f("argument", Field::Str((*name).into())),
            Error::JwkPrivateKey { member } => f("member", Field::Str((*member).into())),
            Error::JwsTooLarge { limit } => f("limit", Field::Num(i64::try_from(*limit).unwrap_or(i64::MAX))),
            Error::JwsAlgNotAllowed { alg } => f("alg", echo(alg)),
            Error::JwsAlgKeyMismatch { alg } => f("alg", Field::Str((*alg).into())),
            Error::JwsCritUnsupported { name } => f("crit", echo(name)),
            Error::DpopClaimMissing { claim }
            | Error::IdTokenClaimMissing { claim }
            | Error::IdTokenIatInvalid { claim }
            | Error::IdTokenRefreshMismatch { claim } => f("claim", Field::Str((*claim).into())),
            Error::DpopIatOutOfWindow { iat, now } => {
                f("iat", Field::Num(*iat));
                f("now", Field::Num(*now));
            }
            Error::IdTokenExpired { exp, now } => {
                f("exp", Field::Num(*exp));
                f("now", Field::Num(*now));
            }
            Error::JwksNoMatchingKey { kid } => f("kid", kid.as_deref().map_or(Field::Null, echo)),
            Error::IdTokenAuthTooOld { auth_time, max_age, now } => {
                f("authTime", Field::Num(*auth_time));
                f("maxAge", Field::Num(*max_age));
                f("now", Field::Num(*now));
            }
            Error::IdTokenAcrNotSatisfied { acr } => f("acr", acr.as_deref().map_or(Field::Null, echo)),
            Error::DiscoveryIssuerMismatch { found: iss } | Error::IssuerNotAccepted { iss } => f("issuer", echo(iss)),
            Error::OAuthError { error, description, status } => {
                f("error", echo(error));
                f("errorDescription", description.as_deref().map_or(Field::Null, echo));
                f("status", Field::Num(i64::from(*status)));
            }
            Error::UseDpopNonce { nonce } => f("dpopNonce", echo(nonce)),
            Error::OAuthResponseInvalid { status, .. } => f("status", Field::Num(i64::from(*status))),
            Error::WebAuthnOrigin { origin } => f("origin", echo(origin)),
            Error::WebAuthnSignCount { previous, now } => {
                f("previousSignCount", Field::Num(i64::from(*previous)));
                f("signCount", Field::Num(i64::from(*now)));
            }
            Error::Timeout { url, timeout_ms } => {
                f("url", echo(url));
                f("timeout", Field::Num(i64::from(*timeout_ms)));
            }
            Error::PopupTimeout { timeout_ms } => f("timeout", Field::Num(i64::from(*timeout_ms))),
            Error::Network { url, .. } => f("url", echo(url)),
            Error::CryptoOperation { operation, .. } | Error::KeyStore { operation, .. } => f("operation", Field::Str((*operation).into())),
            Error::KeyNotFound { id } | Error::KeyExists { id } => f("keyId", echo(id)),
            Error::AnswerRefused { error, revoked } => {
                error.each_field_dyn(f);
                f("revoked", Field::Bool(*revoked));
            }
            _ => {}
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            Error::Base64UrlInvalid { .. } => ErrorCode::Base64UrlInvalid,
            Error::JsonInvalid { .. } => ErrorCode::JsonInvalid,
            Error::JwkInvalid { .. } => ErrorCode::JwkInvalid,
            Error::JwkPrivateKey { .. } => ErrorCode::JwkPrivateKey,
            Error::JwkUnsupported { .. } => ErrorCode::JwkUnsupported,
            Error::JwkWeakKey { .. } => ErrorCode::JwkWeakKey,
            Error::JwsMalformed { .. } => ErrorCode::JwsMalformed,
            Error::JwsTooLarge { .. } => ErrorCode::JwsTooLarge,
            Error::JweUnsupported => ErrorCode::JweUnsupported,
            Error::JwsAlgNotAllowed { .. } => ErrorCode::JwsAlgNotAllowed,
            Error::JwsAlgKeyMismatch { .. } => ErrorCode::JwsAlgKeyMismatch,
            Error::JwsCritUnsupported { .. } => ErrorCode::JwsCritUnsupported,
            Error::JwsSignatureInvalid => ErrorCode::JwsSignatureInvalid,
            Error::UrlInvalid { .. } => ErrorCode::UrlInvalid,
            Error::PkceVerifierInvalid => ErrorCode::PkceVerifierInvalid,
            Error::DpopTypInvalid => ErrorCode::DpopTypInvalid,
            Error::DpopJwkMissing => ErrorCode::DpopJwkMissing,
            Error::DpopClaimMissing { .. } => ErrorCode::DpopClaimMissing,
            Error::DpopHtmMismatch => ErrorCode::DpopHtmMismatch,
            Error::DpopHtuMismatch => ErrorCode::DpopHtuMismatch,
            Error::DpopIatOutOfWindow { .. } => ErrorCode::DpopIatOutOfWindow,
            Error::DpopJtiInvalid => ErrorCode::DpopJtiInvalid,
            Error::DpopNonceMismatch => ErrorCode::DpopNonceMismatch,
            Error::DpopAthMismatch => ErrorCode::DpopAthMismatch,
            Error::DpopCodeHashMismatch => ErrorCode::DpopCodeHashMismatch,
            Error::DpopKeyMismatch => ErrorCode::DpopKeyMismatch,
            Error::JwksNoMatchingKey { .. } => ErrorCode::JwksNoMatchingKey,
            Error::IdTokenClaimMissing { .. } => ErrorCode::IdTokenClaimMissing,
            Error::IdTokenIssuerMismatch => ErrorCode::IdTokenIssuerMismatch,
            Error::IdTokenAudienceMismatch => ErrorCode::IdTokenAudienceMismatch,
            Error::IdTokenAzpMismatch => ErrorCode::IdTokenAzpMismatch,
            Error::IdTokenExpired { .. } => ErrorCode::IdTokenExpired,
            Error::IdTokenIatInvalid { .. } => ErrorCode::IdTokenIatInvalid,
            Error::IdTokenNonceMismatch => ErrorCode::IdTokenNonceMismatch,
            Error::IdTokenUnbound { .. } => ErrorCode::IdTokenUnbound,
            Error::IdTokenCnfMismatch => ErrorCode::IdTokenCnfMismatch,
            Error::IdTokenRefreshMismatch { .. } => ErrorCode::IdTokenRefreshMismatch,
            Error::IdTokenAuthTimeMissing => ErrorCode::IdTokenAuthTimeMissing,
            Error::IdTokenAuthTooOld { .. } => ErrorCode::IdTokenAuthTooOld,
            Error::IdTokenAcrNotSatisfied { .. } => ErrorCode::IdTokenAcrNotSatisfied,
            Error::DiscoveryIssuerMismatch { .. } => ErrorCode::DiscoveryIssuerMismatch,
            Error::DiscoveryInvalid { .. } => ErrorCode::DiscoveryInvalid,
            Error::StateMismatch => ErrorCode::StateMismatch,
            Error::IssMismatch => ErrorCode::IssMismatch,
            Error::OAuthError { .. } => ErrorCode::OAuthError,
            Error::UseDpopNonce { .. } => ErrorCode::UseDpopNonce,
            Error::OAuthResponseInvalid { .. } => ErrorCode::OAuthResponseInvalid,
            Error::IssuerNotAccepted { .. } => ErrorCode::IssuerNotAccepted,
            Error::IdTokenTypInvalid => ErrorCode::IdTokenTypInvalid,
            Error::CnfMissing => ErrorCode::CnfMissing,
            Error::CnfJktOnly => ErrorCode::CnfJktOnly,
            Error::DpopReplay => ErrorCode::DpopReplay,
            Error::ReplayStoreUnavailable { .. } => ErrorCode::ReplayStoreUnavailable,
            Error::DpopProofMissing => ErrorCode::DpopProofMissing,
            Error::DpopNonceRequired => ErrorCode::DpopNonceRequired,
            Error::PasskeyNonceMismatch => ErrorCode::PasskeyNonceMismatch,
            Error::WebAuthnInvalid { .. } => ErrorCode::WebAuthnInvalid,
            Error::WebAuthnType => ErrorCode::WebAuthnType,
            Error::WebAuthnChallenge => ErrorCode::WebAuthnChallenge,
            Error::WebAuthnOrigin { .. } => ErrorCode::WebAuthnOrigin,
            Error::WebAuthnRpId => ErrorCode::WebAuthnRpId,
            Error::WebAuthnUserPresence => ErrorCode::WebAuthnUserPresence,
            Error::WebAuthnUserVerification => ErrorCode::WebAuthnUserVerification,
            Error::WebAuthnSignCount { .. } => ErrorCode::WebAuthnSignCount,
            Error::DeviceAccessDenied => ErrorCode::DeviceAccessDenied,
            Error::DeviceCodeExpired => ErrorCode::DeviceCodeExpired,
            Error::Cancelled => ErrorCode::Cancelled,
            Error::PopupBlocked => ErrorCode::PopupBlocked,
            Error::PopupClosed => ErrorCode::PopupClosed,
            Error::PopupTimeout { .. } => ErrorCode::PopupTimeout,
            Error::Timeout { .. } => ErrorCode::Timeout,
            Error::Network { .. } => ErrorCode::Network,
            Error::NoSession => ErrorCode::NoSession,
            Error::NoRefreshToken => ErrorCode::NoRefreshToken,
            Error::CryptoUnavailable => ErrorCode::CryptoUnavailable,
            Error::CryptoOperation { .. } => ErrorCode::CryptoOperation,
            Error::KeyStoreUnavailable => ErrorCode::KeyStoreUnavailable,
            Error::KeyStore { .. } => ErrorCode::KeyStore,
            Error::KeyNotFound { .. } => ErrorCode::KeyNotFound,
            Error::KeyExists { .. } => ErrorCode::KeyExists,
            Error::KeyRecordInvalid { .. } => ErrorCode::KeyRecordInvalid,
            Error::Js { .. } => ErrorCode::Js,
            Error::AnswerRefused { error, .. } => error.code(),
        }
    }

    /// Shorthand for [`Error::InvalidArgument`].
    pub(crate) fn arg(name: &'static str, reason: &'static str) -> Self {
        Error::InvalidArgument { name, reason }
    }

    pub(crate) fn json(what: &'static str, err: serde_json::Error) -> Self {
        Error::JsonInvalid { what, detail: err.to_string() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument { name, reason } => write!(f, "\"{name}\" {reason}"),
            Error::Base64UrlInvalid { what } => {
                write!(f, "{what} is not unpadded base64url")
            }
            Error::JsonInvalid { what, detail } => write!(f, "{what} is not valid JSON of the expected shape: {}", cap_echo(detail)),
            Error::JwkInvalid { reason } => write!(f, "invalid JWK: {reason}"),
            Error::JwkPrivateKey { member } => {
                write!(f, "JWK must be public but holds the private member \"{member}\"")
            }
            Error::JwkUnsupported { value } => write!(f, "unsupported JWK key type or curve \"{}\"", cap_echo(value)),
            Error::JwkWeakKey { reason } => write!(f, "key too weak: {reason}"),
            Error::JwsMalformed { reason } => write!(f, "malformed compact JWS: {reason}"),
            Error::JwsTooLarge { limit } => write!(f, "compact JWS exceeds the {limit}-byte limit"),
            Error::JweUnsupported => f.write_str("got a compact JWE (five parts); only signed JWS is supported"),
            Error::JwsAlgNotAllowed { alg } => write!(f, "\"alg\" (algorithm) \"{}\" is not allowed", cap_echo(alg)),
            Error::JwsAlgKeyMismatch { alg } => {
                write!(f, "\"alg\" (algorithm) \"{alg}\" does not fit the key type or curve")
            }
            Error::JwsCritUnsupported { name } => {
                write!(f, "\"crit\" (critical) header lists unsupported extension \"{}\"", cap_echo(name))
            }
            Error::JwsSignatureInvalid => f.write_str("JWS signature verification failed"),
            Error::UrlInvalid { reason } => write!(f, "invalid URL: {reason}"),
            Error::PkceVerifierInvalid => f.write_str("PKCE code verifier must be 43 to 128 characters of [A-Za-z0-9-._~]"),
            Error::DpopTypInvalid => f.write_str("DPoP proof \"typ\" header must be \"dpop+jwt\""),
            Error::DpopJwkMissing => f.write_str("DPoP proof header has no public \"jwk\""),
            Error::DpopClaimMissing { claim } => {
                write!(f, "DPoP proof \"{claim}\" claim is missing or has the wrong type")
            }
            Error::DpopHtmMismatch => f.write_str("DPoP proof \"htm\" does not match the request method"),
            Error::DpopHtuMismatch => f.write_str("DPoP proof \"htu\" does not match the request URI"),
            Error::DpopIatOutOfWindow { iat, now } => {
                write!(f, "DPoP proof \"iat\" {iat} is outside the acceptance window around {now}")
            }
            Error::DpopJtiInvalid => f.write_str("DPoP proof \"jti\" is too short or too long"),
            Error::DpopNonceMismatch => f.write_str("DPoP proof \"nonce\" is missing or not the expected value"),
            Error::DpopAthMismatch => f.write_str("DPoP proof \"ath\" is missing or not the hash of the token"),
            Error::DpopCodeHashMismatch => f.write_str("DPoP proof \"c_s256\" is missing or not the hash of the code"),
            Error::DpopKeyMismatch => f.write_str("DPoP proof key thumbprint is not the expected one"),
            Error::JwksNoMatchingKey { kid: Some(kid) } => {
                write!(f, "no key in the issuer's JWKS matches \"kid\" \"{}\"", cap_echo(kid))
            }
            Error::JwksNoMatchingKey { kid: None } => {
                f.write_str("the token has no \"kid\" and the issuer's JWKS has no single key that fits")
            }
            Error::IdTokenClaimMissing { claim } => {
                write!(f, "ID Token \"{claim}\" claim is missing or has the wrong type")
            }
            Error::IdTokenIssuerMismatch => f.write_str("ID Token \"iss\" (issuer) is not the configured issuer"),
            Error::IdTokenAudienceMismatch => {
                f.write_str("ID Token \"aud\" (audience) does not contain only trusted values including the client_id")
            }
            Error::IdTokenAzpMismatch => f.write_str("ID Token \"azp\" (authorized party) is not the client_id"),
            Error::IdTokenExpired { exp, now } => write!(f, "ID Token expired: \"exp\" {exp} is before {now}"),
            Error::IdTokenIatInvalid { claim } => write!(f, "ID Token \"{claim}\" claim check failed"),
            Error::IdTokenNonceMismatch => f.write_str("ID Token \"nonce\" is not the value sent in the request"),
            Error::IdTokenUnbound { reason } => write!(f, "ID Token is not key-bound: {reason}"),
            Error::IdTokenCnfMismatch => f.write_str("ID Token \"cnf\" does not hold this client's key"),
            Error::IdTokenRefreshMismatch { claim } => {
                write!(f, "refreshed ID Token changed \"{claim}\"")
            }
            Error::IdTokenAuthTimeMissing => f.write_str("ID Token has no \"auth_time\" although max_age was requested"),
            Error::IdTokenAuthTooOld { auth_time, max_age, now } => {
                write!(f, "the user authenticated at {auth_time}, more than max_age {max_age} s before {now}")
            }
            Error::IdTokenAcrNotSatisfied { acr: Some(acr) } => {
                write!(f, "ID Token \"acr\" \"{}\" is not one of the requested acr_values", cap_echo(acr))
            }
            Error::IdTokenAcrNotSatisfied { acr: None } => f.write_str("ID Token has no \"acr\" although acr_values were required"),
            Error::DiscoveryIssuerMismatch { found } => {
                write!(f, "discovery document \"issuer\" \"{}\" is not the configured issuer", cap_echo(found))
            }
            Error::DiscoveryInvalid { reason } => write!(f, "unusable discovery document: {reason}"),
            Error::StateMismatch => f.write_str("authorization response \"state\" is missing or unknown"),
            Error::IssMismatch => f.write_str("authorization response \"iss\" is missing or not the issuer (RFC 9207)"),
            Error::OAuthError { error, description: Some(d), .. } => {
                write!(f, "the OP answered \"{}\": {}", cap_echo(error), cap_echo(d))
            }
            Error::OAuthError { error, description: None, .. } => write!(f, "the OP answered \"{}\"", cap_echo(error)),
            Error::UseDpopNonce { .. } => f.write_str("the server requires a DPoP nonce (use_dpop_nonce)"),
            Error::OAuthResponseInvalid { reason, status } => {
                write!(f, "unexpected response (HTTP {status}): {reason}")
            }
            Error::IssuerNotAccepted { iss } => {
                write!(f, "ID Token issuer \"{}\" is not accepted by this consumer", cap_echo(iss))
            }
            Error::IdTokenTypInvalid => f.write_str("ID Token \"typ\" header is not dpop+id_token"),
            Error::CnfMissing => f.write_str("ID Token has no \"cnf\": it is not bound to a key"),
            Error::CnfJktOnly => f.write_str("ID Token has \"cnf.jkt\" but no \"cnf.jwk\" (Key Binding requires the JWK)"),
            Error::DpopReplay => f.write_str("DPoP proof \"jti\" was already used (replay)"),
            Error::ReplayStoreUnavailable { message } => {
                write!(f, "replay store unavailable, refusing (fail closed): {}", cap_echo(message))
            }
            Error::DpopProofMissing => f.write_str("no DPoP proof: send the DPoP header"),
            Error::DpopNonceRequired => f.write_str("a DPoP nonce is required: retry with the nonce given"),
            Error::PasskeyNonceMismatch => {
                f.write_str("the ID Token \"nonce\" is not the commitment to this passkey (mode or salt differ)")
            }
            Error::WebAuthnInvalid { reason } => write!(f, "malformed WebAuthn data: {reason}"),
            Error::WebAuthnType => f.write_str("clientDataJSON \"type\" is not webauthn.get"),
            Error::WebAuthnChallenge => f.write_str("the WebAuthn assertion answers another challenge"),
            Error::WebAuthnOrigin { origin } => {
                write!(f, "the WebAuthn assertion was made for origin \"{}\", which is not accepted", cap_echo(origin))
            }
            Error::WebAuthnRpId => f.write_str("authenticatorData rpIdHash is not SHA-256 of the RP ID"),
            Error::WebAuthnUserPresence => f.write_str("the authenticator did not report user presence"),
            Error::WebAuthnUserVerification => f.write_str("user verification was required and not performed"),
            Error::WebAuthnSignCount { previous, now } => {
                write!(f, "the sign count did not grow ({previous} then {now}): possibly a cloned authenticator")
            }
            Error::DeviceAccessDenied => f.write_str("the user denied the device authorization (access_denied)"),
            Error::DeviceCodeExpired => f.write_str("the device code expired before the user finished (expired_token)"),
            Error::Cancelled => f.write_str("cancelled"),
            Error::PopupBlocked => f.write_str("the browser did not open the login popup (a popup blocker, or no user gesture)"),
            Error::PopupClosed => f.write_str("the login popup was closed before the login finished"),
            Error::PopupTimeout { timeout_ms } => write!(f, "the login popup did not come back within {timeout_ms} ms"),
            Error::Timeout { url, timeout_ms } => {
                write!(f, "request to {} got no answer within {timeout_ms} ms and was aborted", cap_echo(url))
            }
            Error::Network { url, message } => write!(
                f,
                "request to {} failed: {} (network error, or the server does not allow this origin by CORS)",
                cap_echo(url),
                cap_echo(message)
            ),
            Error::NoSession => f.write_str("no signed-in session: call startLogin() and finishLogin() first"),
            Error::NoRefreshToken => f.write_str("the session has no refresh token (the OP issued none; request offline_access)"),
            Error::CryptoUnavailable => {
                f.write_str("WebCrypto (crypto.subtle) is unavailable; keybound needs a secure context (https or localhost)")
            }
            Error::CryptoOperation { operation, message } if operation.starts_with("credentials.") => {
                write!(f, "WebAuthn {operation} failed: {}", cap_echo(message))
            }
            Error::CryptoOperation { operation, message } => {
                write!(f, "WebCrypto {operation} failed: {}", cap_echo(message))
            }
            Error::KeyStoreUnavailable => f.write_str("IndexedDB is unavailable in this context"),
            Error::KeyStore { operation, message } => write!(f, "IndexedDB {operation} failed: {}", cap_echo(message)),
            Error::KeyNotFound { id } => write!(f, "no key is stored under id \"{}\"", cap_echo(id)),
            Error::KeyExists { id } => write!(f, "a key is already stored under id \"{}\"", cap_echo(id)),
            Error::KeyRecordInvalid { reason } => write!(f, "stored key record is unusable: {reason}"),
            Error::Js { name, message } => {
                write!(f, "unexpected JavaScript exception {}: {}", cap_echo(name), cap_echo(message))
            }
            Error::AnswerRefused { error, revoked: true } => write!(f, "{error} (the tokens of that answer were revoked)"),
            Error::AnswerRefused { error, revoked: false } => write!(f, "{error} (the tokens of that answer could not be revoked)"),
        }
    }
}

impl std::error::Error for Error {}

/// keybound's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn structured_fields_are_named_for_javascript_and_capped() {
        let long = "x".repeat(MAX_ECHO_CHARS + 10);
        let e = Error::OAuthError { error: long.clone(), description: None, status: 400 };
        let f = e.fields();
        let names: Vec<&str> = f.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["error", "errorDescription", "status"]);
        match &f[0].1 {
            Field::Str(v) => assert!(v.chars().count() == MAX_ECHO_CHARS + 1 && v.ends_with('…'), "capped: {}", v.len()),
            other => panic!("{other:?}"),
        }
        assert_eq!(f[1].1, Field::Null);
        assert_eq!(f[2].1, Field::Num(400));
        assert_eq!(Error::JwksNoMatchingKey { kid: None }.fields(), [("kid", Field::Null)]);
        assert_eq!(Error::arg("timeout", "must be a number").fields(), [("argument", Field::Str("timeout".into()))]);
        assert_eq!(Error::UseDpopNonce { nonce: "n-1".into() }.fields(), [("dpopNonce", Field::Str("n-1".into()))]);
        assert!(Error::JwsSignatureInvalid.fields().is_empty());
        // Every name is camelCase and never one the Error already has.
        for e in [
            Error::WebAuthnSignCount { previous: 1, now: 1 },
            Error::Timeout { url: "https://op".into(), timeout_ms: 5 },
            Error::KeyExists { id: "k".into() },
            Error::IdTokenExpired { exp: 1, now: 2 },
        ] {
            for (name, _) in e.fields() {
                assert!(name.chars().all(|c| c.is_ascii_alphanumeric()) && name.starts_with(|c: char| c.is_ascii_lowercase()), "{name}");
                assert!(!["code", "message", "cause", "name", "stack"].contains(&name), "{name}");
            }
        }
    }

    #[test]
    fn codes_are_unique_well_formed_and_in_the_typescript_union() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate error code {s}");
            assert!(s.starts_with("ERR_"), "{s} must start with ERR_");
            assert!(s[4..].chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'), "{s} must be SCREAMING_SNAKE");
            assert!(ERROR_CODE_TS.contains(&format!("| \"{s}\"")), "{s} missing from the TS union");
        }
        // The union holds exactly the codes, no more.
        assert_eq!(ERROR_CODE_TS.matches("| \"ERR_").count(), ErrorCode::ALL.len());
    }
}
