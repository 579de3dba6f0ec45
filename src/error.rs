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

/// Declares every error once: its doc, its fields, its stable code and its message (a
/// closure-like `|f| ...` writing to the formatter, with the fields bound by name). From these
/// rows come the [`Error`] enum, [`ErrorCode`] (with [`ErrorCode::ALL`] and the TypeScript
/// union), [`Error::code`] and `Display`, so none of them can drift from another. The structured
/// fields JavaScript sees are listed once too, in [`Error::each_field`].
macro_rules! errors {
    (
        $(
            $(#[$doc:meta])*
            $variant:ident $({ $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? })? = $code:literal,
            |$f:ident| $msg:expr;
        )*
        // Variants that wrap a refusal and keep its code.
        { $(
            $(#[$wdoc:meta])*
            $wvariant:ident { $($(#[$wfdoc:meta])* $wfield:ident : $wty:ty),* $(,)? } => code($wcode:expr),
            |$wf:ident| $wmsg:expr;
        )* }
        // Codes the JavaScript glue raises, with no variant.
        [ $( $(#[$cdoc:meta])* $cvariant:ident = $ccode:literal, )* ]
    ) => {
        /// A stable, machine-readable error code. `as_str()` gives the `ERR_*` string.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
            $( $(#[$cdoc])* $cvariant, )*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)* $(ErrorCode::$cvariant,)*];

            /// The stable `ERR_*` string for this code.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                    $(ErrorCode::$cvariant => $ccode,)*
                }
            }
        }

        /// The TypeScript declaration of the `ErrorCode` union, generated from the same list as
        /// [`ErrorCode::ALL`]. The wasm bindings append it to the `.d.ts`.
        pub const ERROR_CODE_TS: &str = concat!(
            "/** Every stable error code a keybound `Error` can carry in its `code` property. */\n",
            "export type ErrorCode =",
            $( "\n  | \"", $code, "\"", )*
            $( "\n  | \"", $ccode, "\"", )*
            ";\n"
        );

        /// Every failure keybound reports. Match on [`Error::code`] for a stable identity; the
        /// `Display` text is for people and may change.
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Error {
            $( $(#[$doc])* $variant $({ $($(#[$fdoc])* $field: $ty),* })?, )*
            $( $(#[$wdoc])* $wvariant { $($(#[$wfdoc])* $wfield: $wty),* }, )*
        }

        impl Error {
            /// The stable code of this error.
            pub fn code(&self) -> ErrorCode {
                match self {
                    $(Error::$variant { .. } => ErrorCode::$variant,)*
                    $(
                        #[allow(unused_variables)]
                        Error::$wvariant { $($wfield),* } => $wcode,
                    )*
                }
            }
        }

        impl fmt::Display for Error {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(
                        #[allow(unused_variables)]
                        Error::$variant $({ $($field),* })? => {
                            let $f = &mut *formatter;
                            $msg
                        }
                    )*
                    $(
                        #[allow(unused_variables)]
                        Error::$wvariant { $($wfield),* } => {
                            let $wf = &mut *formatter;
                            $wmsg
                        }
                    )*
                }
            }
        }
    };
}

errors! {
    // ---- Arguments and encodings ----
    /// An argument was missing or had the wrong shape.
    InvalidArgument {
        /// The argument's name as the caller knows it.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    } = "ERR_INVALID_ARGUMENT",
    |f| write!(f, "\"{name}\" {reason}");
    /// A value that must be base64url (no padding, URL-safe alphabet) was not.
    Base64UrlInvalid {
        /// The value that failed to decode.
        what: &'static str,
    } = "ERR_BASE64URL_INVALID",
    |f| write!(f, "{what} is not unpadded base64url");
    /// A JSON document could not be parsed into the expected shape.
    JsonInvalid {
        /// The document that failed.
        what: &'static str,
        /// The parser's explanation.
        detail: String,
    } = "ERR_JSON_INVALID",
    |f| write!(f, "{what} is not valid JSON of the expected shape: {}", cap_echo(detail));

    // ---- JSON Web Keys (RFC 7517) ----
    /// A JWK lacked a required member or a member had the wrong form or length.
    JwkInvalid {
        /// What is wrong.
        reason: &'static str,
    } = "ERR_JWK_INVALID",
    |f| write!(f, "invalid JWK: {reason}");
    /// A JWK that must be public carried private key material.
    JwkPrivateKey {
        /// The private member found (`d`, `p`, `k`, ...).
        member: &'static str,
    } = "ERR_JWK_PRIVATE_KEY",
    |f| write!(f, "JWK must be public but holds the private member \"{member}\"");
    /// The JWK `kty` or `crv` is not one keybound accepts.
    JwkUnsupported {
        /// The offending `kty` or `crv` value.
        value: String,
    } = "ERR_JWK_UNSUPPORTED",
    |f| write!(f, "unsupported JWK key type or curve \"{}\"", cap_echo(value));
    /// The key is too weak (for example an RSA modulus under 2048 bits).
    JwkWeakKey {
        /// Why.
        reason: &'static str,
    } = "ERR_JWK_WEAK_KEY",
    |f| write!(f, "key too weak: {reason}");

    // ---- JSON Web Signatures (RFC 7515) ----
    /// A compact JWS was not three non-empty base64url parts.
    JwsMalformed {
        /// What is wrong.
        reason: &'static str,
    } = "ERR_JWS_MALFORMED",
    |f| write!(f, "malformed compact JWS: {reason}");
    /// A compact JWS or one of its parts exceeded the size limit.
    JwsTooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    } = "ERR_JWS_TOO_LARGE",
    |f| write!(f, "compact JWS exceeds the {limit}-byte limit");
    /// A five-part compact JWE was given where a JWS was expected.
    JweUnsupported = "ERR_JWE_UNSUPPORTED",
    |f| f.write_str("got a compact JWE (five parts); only signed JWS is supported");
    /// The JWS `alg` is `none`, symmetric, unknown or not on the allow-list.
    JwsAlgNotAllowed {
        /// The `alg` value as received.
        alg: String,
    } = "ERR_JWS_ALG_NOT_ALLOWED",
    |f| write!(f, "\"alg\" (algorithm) \"{}\" is not allowed", cap_echo(alg));
    /// The JWS `alg` does not fit the key type or curve.
    JwsAlgKeyMismatch {
        /// The `alg` value.
        alg: &'static str,
    } = "ERR_JWS_ALG_KEY_MISMATCH",
    |f| write!(f, "\"alg\" (algorithm) \"{alg}\" does not fit the key type or curve");
    /// The JWS header lists a `crit` extension keybound does not understand.
    JwsCritUnsupported {
        /// The first unsupported entry, or a description of the malformation.
        name: String,
    } = "ERR_JWS_CRIT_UNSUPPORTED",
    |f| write!(f, "\"crit\" (critical) header lists unsupported extension \"{}\"", cap_echo(name));
    /// The JWS signature did not verify.
    JwsSignatureInvalid = "ERR_JWS_SIGNATURE_INVALID",
    |f| f.write_str("JWS signature verification failed");

    // ---- URLs and PKCE ----
    /// A URL could not be used (not absolute http(s), or malformed).
    UrlInvalid {
        /// What is wrong.
        reason: &'static str,
    } = "ERR_URL_INVALID",
    |f| write!(f, "invalid URL: {reason}");
    /// A PKCE code verifier was not 43 to 128 unreserved characters.
    PkceVerifierInvalid = "ERR_PKCE_VERIFIER_INVALID",
    |f| f.write_str("PKCE code verifier must be 43 to 128 characters of [A-Za-z0-9-._~]");

    // ---- DPoP proofs (RFC 9449) ----
    /// The DPoP proof header `typ` was not `dpop+jwt`.
    DpopTypInvalid = "ERR_DPOP_TYP_INVALID",
    |f| f.write_str("DPoP proof \"typ\" header must be \"dpop+jwt\"");
    /// The DPoP proof header carried no usable public `jwk`.
    DpopJwkMissing = "ERR_DPOP_JWK_MISSING",
    |f| f.write_str("DPoP proof header has no public \"jwk\"");
    /// A required DPoP proof claim was missing or had the wrong type.
    DpopClaimMissing {
        /// The claim.
        claim: ClaimName,
    } = "ERR_DPOP_CLAIM_MISSING",
    |f| write!(f, "DPoP proof \"{claim}\" claim is missing or has the wrong type");
    /// The DPoP proof `htm` did not equal the request method.
    DpopHtmMismatch = "ERR_DPOP_HTM_MISMATCH",
    |f| f.write_str("DPoP proof \"htm\" does not match the request method");
    /// The DPoP proof `htu` did not equal the request URI (after normalization).
    DpopHtuMismatch = "ERR_DPOP_HTU_MISMATCH",
    |f| f.write_str("DPoP proof \"htu\" does not match the request URI");
    /// The DPoP proof `iat` was outside the acceptance window.
    DpopIatOutOfWindow {
        /// The proof's `iat`.
        iat: i64,
        /// The verifier's clock.
        now: i64,
    } = "ERR_DPOP_IAT_OUT_OF_WINDOW",
    |f| write!(f, "DPoP proof \"iat\" {iat} is outside the acceptance window around {now}");
    /// The DPoP proof `jti` was too short or too long.
    DpopJtiInvalid = "ERR_DPOP_JTI_INVALID",
    |f| f.write_str("DPoP proof \"jti\" is too short or too long");
    /// The DPoP proof `nonce` was missing or not the expected server nonce.
    DpopNonceMismatch = "ERR_DPOP_NONCE_MISMATCH",
    |f| f.write_str("DPoP proof \"nonce\" is missing or not the expected value");
    /// The DPoP proof `ath` was missing or not the hash of the presented token.
    DpopAthMismatch = "ERR_DPOP_ATH_MISMATCH",
    |f| f.write_str("DPoP proof \"ath\" is missing or not the hash of the token");
    /// The DPoP proof `c_s256` was missing or not the hash of the presented code.
    DpopCodeHashMismatch = "ERR_DPOP_C_S256_MISMATCH",
    |f| f.write_str("DPoP proof \"c_s256\" is missing or not the hash of the code");
    /// The DPoP proof key's thumbprint was not the expected one (`dpop_jkt` / `cnf`).
    DpopKeyMismatch = "ERR_DPOP_KEY_MISMATCH",
    |f| f.write_str("DPoP proof key thumbprint is not the expected one");

    // ---- ID Tokens (OIDC Core §3.1.3.7, Key Binding) ----
    /// No key in the JWKS fits the token header (`kid`, `alg`, `use`).
    JwksNoMatchingKey {
        /// The header `kid`, if any.
        kid: Option<String>,
    } = "ERR_JWKS_NO_MATCHING_KEY",
    |f| match kid {
        Some(kid) => write!(f, "no key in the issuer's JWKS matches \"kid\" \"{}\"", cap_echo(kid)),
        None => f.write_str("the token has no \"kid\" and the issuer's JWKS has no single key that fits"),
        };
    /// A required ID Token claim is missing or has the wrong type.
    IdTokenClaimMissing {
        /// The claim.
        claim: ClaimName,
    } = "ERR_ID_TOKEN_CLAIM_MISSING",
    |f| write!(f, "ID Token \"{claim}\" claim is missing or has the wrong type");
    /// The ID Token `iss` is not the configured issuer.
    IdTokenIssuerMismatch = "ERR_ID_TOKEN_ISS_MISMATCH",
    |f| f.write_str("ID Token \"iss\" (issuer) is not the configured issuer");
    /// The ID Token `aud` does not contain the client_id, or lists untrusted audiences.
    IdTokenAudienceMismatch = "ERR_ID_TOKEN_AUD_MISMATCH",
    |f| f.write_str("ID Token \"aud\" (audience) does not contain only trusted values including the client_id");
    /// The ID Token `azp` is present and not the client_id.
    IdTokenAzpMismatch = "ERR_ID_TOKEN_AZP_MISMATCH",
    |f| f.write_str("ID Token \"azp\" (authorized party) is not the client_id");
    /// The ID Token has expired (`exp`).
    IdTokenExpired {
        /// The token's `exp`.
        exp: i64,
        /// The validator's clock.
        now: i64,
    } = "ERR_ID_TOKEN_EXPIRED",
    |f| write!(f, "ID Token expired: \"exp\" {exp} is before {now}");
    /// The ID Token `iat` or `nbf` is implausible (in the future, or too old), or its
    /// `auth_time` is in the future.
    IdTokenIatInvalid {
        /// Which claim.
        claim: ClaimName,
    } = "ERR_ID_TOKEN_IAT_INVALID",
    |f| write!(f, "ID Token \"{claim}\" claim check failed");
    /// The ID Token `nonce` is not the one sent in the authentication request.
    IdTokenNonceMismatch = "ERR_ID_TOKEN_NONCE_MISMATCH",
    |f| f.write_str("ID Token \"nonce\" is not the value sent in the request");
    /// The ID Token is not key-bound (`typ` is not `dpop+id_token`, or no `cnf.jwk`) and the
    /// binding policy requires it.
    IdTokenUnbound {
        /// Why the token counts as unbound.
        reason: &'static str,
    } = "ERR_ID_TOKEN_UNBOUND",
    |f| write!(f, "ID Token is not key-bound: {reason}");
    /// The ID Token `cnf.jwk` is not our key (thumbprint mismatch), or `cnf` is malformed.
    IdTokenCnfMismatch = "ERR_ID_TOKEN_CNF_MISMATCH",
    |f| f.write_str("ID Token \"cnf\" does not hold this client's key");
    /// A refreshed ID Token changed `iss`, `sub`, `aud`, `azp`, `auth_time`, `nonce` or `cnf`
    /// (OIDC Core §12.2, KB §5).
    IdTokenRefreshMismatch {
        /// The claim that changed.
        claim: ClaimName,
    } = "ERR_ID_TOKEN_REFRESH_MISMATCH",
    |f| write!(f, "refreshed ID Token changed \"{claim}\"");
    /// `max_age` was requested and the ID Token has no `auth_time` (OIDC Core §3.1.2.1).
    IdTokenAuthTimeMissing = "ERR_ID_TOKEN_AUTH_TIME_MISSING",
    |f| f.write_str("ID Token has no \"auth_time\" although max_age was requested");
    /// The user authenticated longer ago than the `max_age` requested (`auth_time` + `max_age`
    /// + clock skew is before now).
    IdTokenAuthTooOld {
        /// The token's `auth_time`.
        auth_time: i64,
        /// The `max_age` requested, seconds.
        max_age: i64,
        /// The validator's clock.
        now: i64,
    } = "ERR_ID_TOKEN_AUTH_TOO_OLD",
    |f| write!(f, "the user authenticated at {auth_time}, more than max_age {max_age} s before {now}");
    /// The ID Token `acr` is absent or not one of the `acr_values` requested, and the caller
    /// required it.
    IdTokenAcrNotSatisfied {
        /// The token's `acr`, if it had a string one.
        acr: Option<String>,
    } = "ERR_ID_TOKEN_ACR_NOT_SATISFIED",
    |f| match acr {
        Some(acr) => write!(f, "ID Token \"acr\" \"{}\" is not one of the requested acr_values", cap_echo(acr)),
        None => f.write_str("ID Token has no \"acr\" although acr_values were required"),
    };

    // ---- Discovery and OAuth responses ----
    /// The discovery document's `issuer` is not the configured issuer (OIDC Discovery §4.3).
    DiscoveryIssuerMismatch {
        /// The issuer the document claims.
        found: String,
    } = "ERR_DISCOVERY_ISSUER_MISMATCH",
    |f| write!(f, "discovery document \"issuer\" \"{}\" is not the configured issuer", cap_echo(found));
    /// The discovery document lacks a required endpoint or has a malformed one.
    DiscoveryInvalid {
        /// What is wrong.
        reason: &'static str,
    } = "ERR_DISCOVERY_INVALID",
    |f| write!(f, "unusable discovery document: {reason}");
    /// The callback's `state` is missing or not one we issued.
    StateMismatch = "ERR_STATE_MISMATCH",
    |f| f.write_str("authorization response \"state\" is missing or unknown");
    /// The callback's `iss` is missing (when the OP advertises RFC 9207) or not the issuer.
    IssMismatch = "ERR_ISS_MISMATCH",
    |f| f.write_str("authorization response \"iss\" is missing or not the issuer (RFC 9207)");
    /// The OP answered with an OAuth error (`error`, `error_description`).
    OAuthError {
        /// The `error` code, as the OP sent it.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
        /// The HTTP status, for token-endpoint errors (0 for front-channel errors).
        status: u16,
    } = "ERR_OAUTH_ERROR",
    |f| match description {
        Some(d) => write!(f, "the OP answered \"{}\": {}", cap_echo(error), cap_echo(d)),
        None => write!(f, "the OP answered \"{}\"", cap_echo(error)),
        };
    /// The server asked for a DPoP nonce (`use_dpop_nonce`); retry once with the nonce given.
    UseDpopNonce {
        /// The `DPoP-Nonce` to put in the retried proof.
        nonce: String,
    } = "ERR_USE_DPOP_NONCE",
    |f| f.write_str("the server requires a DPoP nonce (use_dpop_nonce)");
    /// A response was not what the protocol says (status, content type, JSON shape).
    OAuthResponseInvalid {
        /// What is wrong.
        reason: &'static str,
        /// The HTTP status.
        status: u16,
    } = "ERR_OAUTH_RESPONSE_INVALID",
    |f| write!(f, "unexpected response (HTTP {status}): {reason}");

    // ---- Consumers (docs/profile.md) ----
    /// The ID Token's issuer is not one this consumer accepts.
    IssuerNotAccepted {
        /// The `iss` the token claims.
        iss: String,
    } = "ERR_ISSUER_NOT_ACCEPTED",
    |f| write!(f, "ID Token issuer \"{}\" is not accepted by this consumer", cap_echo(iss));
    /// The ID Token header `typ` is not `dpop+id_token` (a consumer accepts only bound tokens).
    IdTokenTypInvalid = "ERR_ID_TOKEN_TYP_INVALID",
    |f| f.write_str("ID Token \"typ\" header is not dpop+id_token");
    /// The ID Token has no `cnf`: it is not bound to any key.
    CnfMissing = "ERR_CNF_MISSING",
    |f| f.write_str("ID Token has no \"cnf\": it is not bound to a key");
    /// The ID Token has `cnf.jkt` but no `cnf.jwk` (does not conform to Key Binding).
    CnfJktOnly = "ERR_CNF_JKT_ONLY",
    |f| f.write_str("ID Token has \"cnf.jkt\" but no \"cnf.jwk\" (Key Binding requires the JWK)");
    /// The proof's `jti` was already used within the acceptance window (a replay).
    DpopReplay = "ERR_DPOP_REPLAY",
    |f| f.write_str("DPoP proof \"jti\" was already used (replay)");
    /// The replay store could not be reached; the verifier fails closed.
    ReplayStoreUnavailable {
        /// The store's explanation.
        message: String,
    } = "ERR_REPLAY_STORE_UNAVAILABLE",
    |f| write!(f, "replay store unavailable, refusing (fail closed): {}", cap_echo(message));
    /// No `DPoP` proof came with the presentation.
    DpopProofMissing = "ERR_DPOP_PROOF_MISSING",
    |f| f.write_str("no DPoP proof: send the DPoP header");
    /// The consumer requires a nonce and the proof has none: challenge with a fresh nonce.
    DpopNonceRequired = "ERR_DPOP_NONCE_REQUIRED",
    |f| f.write_str("a DPoP nonce is required: retry with the nonce given");

    // ---- Passkeys and WebAuthn ----
    /// The ID Token's `nonce` is not the commitment to this passkey (in the stated mode and salt).
    PasskeyNonceMismatch = "ERR_PASSKEY_NONCE_MISMATCH",
    |f| f.write_str("the ID Token \"nonce\" is not the commitment to this passkey (mode or salt differ)");
    /// WebAuthn data is malformed (authenticatorData, DER signature).
    WebAuthnInvalid {
        /// What is wrong.
        reason: &'static str,
    } = "ERR_WEBAUTHN_INVALID",
    |f| write!(f, "malformed WebAuthn data: {reason}");
    /// The clientDataJSON `type` is not `webauthn.get`.
    WebAuthnType = "ERR_WEBAUTHN_TYPE",
    |f| f.write_str("clientDataJSON \"type\" is not webauthn.get");
    /// The assertion answers another challenge.
    WebAuthnChallenge = "ERR_WEBAUTHN_CHALLENGE",
    |f| f.write_str("the WebAuthn assertion answers another challenge");
    /// The assertion was made for an origin that is not accepted.
    WebAuthnOrigin {
        /// The origin in clientDataJSON.
        origin: String,
    } = "ERR_WEBAUTHN_ORIGIN",
    |f| write!(f, "the WebAuthn assertion was made for origin \"{}\", which is not accepted", cap_echo(origin));
    /// The authenticatorData rpIdHash is not SHA-256 of the RP ID.
    WebAuthnRpId = "ERR_WEBAUTHN_RP_ID",
    |f| f.write_str("authenticatorData rpIdHash is not SHA-256 of the RP ID");
    /// The user-present flag is not set.
    WebAuthnUserPresence = "ERR_WEBAUTHN_USER_PRESENCE",
    |f| f.write_str("the authenticator did not report user presence");
    /// User verification was required and not performed.
    WebAuthnUserVerification = "ERR_WEBAUTHN_USER_VERIFICATION",
    |f| f.write_str("user verification was required and not performed");
    /// The sign count did not grow: a possible cloned authenticator.
    WebAuthnSignCount {
        /// The count stored.
        previous: u32,
        /// The count received.
        now: u32,
    } = "ERR_WEBAUTHN_SIGN_COUNT",
    |f| write!(f, "the sign count did not grow ({previous} then {now}): possibly a cloned authenticator");

    // ---- The device flow (RFC 8628) ----
    /// The user denied the device authorization (RFC 8628 `access_denied`).
    DeviceAccessDenied = "ERR_DEVICE_ACCESS_DENIED",
    |f| f.write_str("the user denied the device authorization (access_denied)");
    /// The device code expired before the user finished (RFC 8628 `expired_token`).
    DeviceCodeExpired = "ERR_DEVICE_CODE_EXPIRED",
    |f| f.write_str("the device code expired before the user finished (expired_token)");

    // ---- I/O: cancellation, requests, sessions, WebCrypto, IndexedDB, JavaScript ----
    /// The operation was cancelled by the caller.
    Cancelled = "ERR_CANCELLED",
    |f| f.write_str("cancelled");
    /// `loginPopup`: the browser refused to open the popup (`open()` gave no window: a popup
    /// blocker, or no user gesture). Nothing was started.
    PopupBlocked = "ERR_POPUP_BLOCKED",
    |f| f.write_str("the browser did not open the login popup (a popup blocker, or no user gesture)");
    /// `loginPopup`: the user closed the popup before the OP sent it back. The pending login is
    /// deleted.
    PopupClosed = "ERR_POPUP_CLOSED",
    |f| f.write_str("the login popup was closed before the login finished");
    /// `loginPopup`: the popup did not come back within the `timeout` option (5 minutes by
    /// default). The popup is closed and the pending login deleted.
    PopupTimeout {
        /// The timeout, milliseconds.
        timeout_ms: u32,
    } = "ERR_POPUP_TIMEOUT",
    |f| write!(f, "the login popup did not come back within {timeout_ms} ms");
    /// A request took longer than its timeout (the client's or consumer's `timeout` option,
    /// 30 seconds by default) and was aborted.
    Timeout {
        /// The URL.
        url: String,
        /// The timeout, milliseconds.
        timeout_ms: u32,
    } = "ERR_TIMEOUT",
    |f| write!(f, "request to {} got no answer within {timeout_ms} ms and was aborted", cap_echo(url));
    /// A request could not be made (network failure, CORS refusal, refused redirect).
    Network {
        /// The URL.
        url: String,
        /// The browser's message (browsers hide CORS details on purpose).
        message: String,
    } = "ERR_NETWORK",
    |f| write!(
        f,
        "request to {} failed: {} (network error, or the server does not allow this origin by CORS)",
        cap_echo(url),
        cap_echo(message)
    );
    /// No signed-in session is stored for this client.
    NoSession = "ERR_NO_SESSION",
    |f| f.write_str("no signed-in session: call startLogin() and finishLogin() first");
    /// The session holds no refresh token (the OP issued none; ask for `offline_access`).
    NoRefreshToken = "ERR_NO_REFRESH_TOKEN",
    |f| f.write_str("the session has no refresh token (the OP issued none; request offline_access)");
    /// WebCrypto (`crypto.subtle`) is not available: not a secure context, or no WebCrypto.
    CryptoUnavailable = "ERR_CRYPTO_UNAVAILABLE",
    |f| f.write_str("WebCrypto (crypto.subtle) is unavailable; keybound needs a secure context (https or localhost)");
    /// A WebCrypto operation failed.
    CryptoOperation {
        /// The operation (`generateKey`, `sign`, ...).
        operation: &'static str,
        /// The browser's message.
        message: String,
    } = "ERR_CRYPTO_OPERATION",
    |f| if operation.starts_with("credentials.") {
        write!(f, "WebAuthn {operation} failed: {}", cap_echo(message))
    } else {
        write!(f, "WebCrypto {operation} failed: {}", cap_echo(message))
    };
    /// IndexedDB is not available in this context.
    KeyStoreUnavailable = "ERR_KEY_STORE_UNAVAILABLE",
    |f| f.write_str("IndexedDB is unavailable in this context");
    /// An IndexedDB operation failed or was blocked.
    KeyStore {
        /// The operation (`open`, `put`, ...).
        operation: &'static str,
        /// The browser's message.
        message: String,
    } = "ERR_KEY_STORE",
    |f| write!(f, "IndexedDB {operation} failed: {}", cap_echo(message));
    /// No key is stored under the requested id.
    KeyNotFound {
        /// The id looked up.
        id: String,
    } = "ERR_KEY_NOT_FOUND",
    |f| write!(f, "no key is stored under id \"{}\"", cap_echo(id));
    /// A key is already stored under that id; it is never silently replaced.
    KeyExists {
        /// The id.
        id: String,
    } = "ERR_KEY_EXISTS",
    |f| write!(f, "a key is already stored under id \"{}\"", cap_echo(id));
    /// A stored key record had an unknown version or shape.
    KeyRecordInvalid {
        /// What is wrong with it.
        reason: &'static str,
    } = "ERR_KEY_RECORD_INVALID",
    |f| write!(f, "stored key record is unusable: {reason}");
    /// An unexpected JavaScript exception.
    Js {
        /// The exception's `name`.
        name: String,
        /// The exception's `message`.
        message: String,
    } = "ERR_JS",
    |f| write!(f, "unexpected JavaScript exception {}: {}", cap_echo(name), cap_echo(message));


    // ---- Wrappers: a refusal with more facts, keeping the refusal's code ----
    {
        /// A login or refresh refused after the OP answered with tokens: the refusal (whose code
        /// this error has), and whether the tokens of that answer were revoked (RFC 7009) before
        /// they were dropped (`revoked` on the JS error).
        AnswerRefused {
            /// The refusal.
            error: Box<Error>,
            /// Whether every token of the answer was revoked; false when the OP has no revocation
            /// endpoint or a revocation failed.
            revoked: bool,
        } => code(error.code()),
        |f| if *revoked {
            write!(f, "{error} (the tokens of that answer were revoked)")
        } else {
            write!(f, "{error} (the tokens of that answer could not be revoked)")
        };
    }

    // ---- Raised by the JavaScript glue, which has no wasm to ask: a code and no variant ----
    [
        /// A function of a plain-ES-module entry (`keybound/web`, `keybound/consumer/web`, …) was
        /// called before `init()` or `initSync()` had instantiated its wasm. Raised by the JS glue,
        /// which has no wasm to ask (so no [`Error`] variant carries it); the bundler and Node
        /// entries instantiate at import and never raise it.
        NotInitialized = "ERR_NOT_INITIALIZED",
    ]
}

/// Which DPoP proof claim an [`Error::DpopClaimMissing`] is about.
pub type ClaimName = &'static str;

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

    /// Shorthand for [`Error::InvalidArgument`].
    pub(crate) fn arg(name: &'static str, reason: &'static str) -> Self {
        Error::InvalidArgument { name, reason }
    }

    pub(crate) fn json(what: &'static str, err: serde_json::Error) -> Self {
        Error::JsonInvalid { what, detail: err.to_string() }
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
