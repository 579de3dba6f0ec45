//! The TypeScript declarations of `KeyBoundClient`'s option and result objects.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_CLIENT: &'static str = r#"
export interface KeyBoundClientOptions {
  /** The public client's id. */
  clientId: string;
  /** The registered redirect URI (where `finishLogin` runs). */
  redirectUri: string;
  /** Scopes besides `openid` and `bound_key`, space-separated. Default is `""`; add `offline_access` for refresh. */
  scope?: string;
  /** `"required"` (default): an unbound ID Token is `ERR_ID_TOKEN_UNBOUND`. `"preferred"`: accepted, with `bound: false`. */
  binding?: "required" | "preferred";
  /** Bind the ID Token to a DPoP key (`bound_key` + `dpop_jkt`). Default true; false for passkey-only logins. */
  keyBinding?: boolean;
  /** Commit the OIDC `nonce` to a registered passkey (works with any OP). Default mode `"salted"`, name `"default"`. */
  passkey?: { name?: string; mode?: "salted" | "plain" };
  /**
   * Name of the stored session. Components of one origin that must keep their own session and
   * key (a page and an agent worker) use different names; a worker that should use the page's
   * session (split mode) leaves it out. Default: the origin-wide session for this issuer and client.
   */
  session?: string;
  /**
   * Milliseconds before any request the client makes (discovery, JWKS, token, device polls,
   * `fetch`, `presentTo`) is aborted with `ERR_TIMEOUT`. A whole number from 1 to 600000. Default 30000.
   */
  timeout?: number;
  /**
   * Pushed authorization requests (RFC 9126) with a DPoP proof of the login's key: `"auto"`
   * (default) pushes when the OP has a `pushed_authorization_request_endpoint`; `"always"` fails
   * with `ERR_INVALID_ARGUMENT` when it has none; `"never"` fails when the OP requires PAR.
   */
  par?: "auto" | "always" | "never";
}

/** A signed-in session. The ID Token's claims were verified (signature, iss, aud, azp, exp, iat, nonce). */
export interface KeyBoundSession {
  /** The verified ID Token payload. */
  claims: { iss: string; sub: string; aud: string | string[]; [claim: string]: unknown };
  /** The ID Token (do not send it as an access token). */
  idToken: string;
  /** Whether the ID Token is bound to this browser's key (`typ: dpop+id_token`, `cnf.jwk` = our key). */
  bound: boolean;
  /** The RFC 7638 thumbprint of this session's key (the `dpop_jkt` sent). */
  jkt: string;
  /** The IndexedDB id of this session's key pair: `loadDPoPKeyPair(keyId)` gives it back. */
  keyId: string;
  /** `"DPoP"` (use `client.fetch`, which adds the proof) or `"Bearer"`. */
  tokenType: string;
  /** The access token. */
  accessToken: string;
  /** Access token expiry in seconds since the epoch, when the OP said. */
  expiresAt?: number;
  /** Whether `refresh()` can be called. */
  hasRefreshToken: boolean;
  /** The passkey binding, when the login's nonce committed to a passkey. */
  passkey?: { name: string; jkt: string; mode: "salted" | "plain"; salt: string | null };
}

export interface KeyBoundDeviceLogin {
  /** Pass it to `finishDeviceLogin`. */
  id: string;
  /** The code the user types at `verificationUri`. */
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Seconds until the codes expire. */
  expiresIn: number;
  /** Polling interval in seconds. */
  interval: number;
}

export interface KeyBoundDeviceOptions {
  /** Cancels polling (`ERR_CANCELLED`). */
  signal?: AbortSignal;
  /** Hears each pending poll. */
  onPoll?: (event: { status: "authorization_pending" | "slow_down"; interval: number }) => void;
}

export interface KeyBoundPresentInit {
  /** Default `"POST"`. */
  method?: string;
  /** Aborts the request (`ERR_CANCELLED`). */
  signal?: AbortSignal;
  /** Milliseconds before the request is aborted with `ERR_TIMEOUT`; default: the client's `timeout`. */
  timeout?: number;
  /** A JSON object (as text) to send; `id_token` is added to it. */
  body?: string;
  /** Send the ID Token in this header instead of the body (never `Authorization`). */
  idTokenHeader?: string;
}

/** What one login asks of the user's authentication (OpenID Connect Core §3.1.2.1). */
export interface KeyBoundLoginOptions {
  /**
   * `max_age` in seconds: the OP re-authenticates a user who signed in longer ago, and the ID
   * Token must carry `auth_time` within it (plus 60 s of skew): else `ERR_ID_TOKEN_AUTH_TIME_MISSING`
   * or `ERR_ID_TOKEN_AUTH_TOO_OLD`. `0` asks for a fresh sign-in.
   */
  maxAge?: number;
  /** `acr_values`, in order of preference (an array, or one space-separated string). */
  acrValues?: string | string[];
  /** Refuse an ID Token whose `acr` is not one of `acrValues` (`ERR_ID_TOKEN_ACR_NOT_SATISFIED`). Default false: the `acr` is in `claims`. */
  requireAcr?: boolean;
}

export interface KeyBoundLogoutOptions {
  /** Where the OP sends the browser after logging out (registered with the OP). */
  postLogoutRedirectUri?: string;
  /** The `state` to send (default: a random one when `postLogoutRedirectUri` is given). */
  state?: string;
}

/** What `logout`/`startLogout` did. The local session and key are gone in every case. */
export interface KeyBoundLogout {
  /** The OP's end-session URL (`logout` navigates to it), when the OP has one. */
  url?: string;
  /** The `state` sent; `finishLogout` checks it on the post-logout page. */
  state?: string;
  /** `true`: the refresh (or access) token was revoked; `false`: revoking failed (`revocationError`); `null`: nothing to revoke. */
  revoked: boolean | null;
  revocationError?: KeyboundError;
}

export interface KeyBoundFetchInit {
  method?: string;
  /** Aborts the request, including reading the response body (`ERR_CANCELLED`). */
  signal?: AbortSignal;
  /** Milliseconds before the request (and reading its body) is aborted with `ERR_TIMEOUT`; default: the client's `timeout`. */
  timeout?: number;
  headers?: Record<string, string> | Headers;
  body?: string;
}
"#;
