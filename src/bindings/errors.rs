//! keybound errors as JavaScript values: a real `Error` (so `instanceof Error` and stack
//! traces work) named `KeyboundError`, with a stable `code`, the browser's exception as `cause`
//! when there was one, and the error's structured fields (`Error::fields`).

use wasm_bindgen::prelude::*;

use crate::browser::BrowserError;
use crate::error::{Error, ERROR_CODE_TS};

#[wasm_bindgen(typescript_custom_section)]
const TS_ERROR_CODE: &'static str = ERROR_CODE_TS;

#[wasm_bindgen(typescript_custom_section)]
const TS_ERROR: &'static str = r#"
/**
 * Every keybound failure rejects (or throws) a real `Error` whose `name` is `"KeyboundError"`
 * and whose `code` is one of {@link ErrorCode}. Branch on `code`, never on `message`.
 */
export interface KeyboundError extends Error {
  name: "KeyboundError";
  code: ErrorCode;
  /** The browser's own exception (a DOMException or Error), for failures inside a browser API. */
  cause?: unknown;
  /** `ERR_INVALID_ARGUMENT`: the argument at fault. */
  argument?: string;
  /** `ERR_OAUTH_ERROR`: the OP's `error` and `error_description` (`null` when it sent none). */
  error?: string;
  errorDescription?: string | null;
  /** `ERR_OAUTH_ERROR`, `ERR_OAUTH_RESPONSE_INVALID`: the HTTP status. */
  status?: number;
  /** `ERR_USE_DPOP_NONCE`: the nonce to put in the next proof. The consumer's refusals that ask
   * for a nonce (`ERR_DPOP_NONCE_REQUIRED`, `_MISMATCH`, `ERR_DPOP_PROOF_MISSING`) carry a fresh one. */
  dpopNonce?: string;
  /** The claim at fault (`ERR_ID_TOKEN_CLAIM_MISSING`, `ERR_ID_TOKEN_IAT_INVALID`,
   * `ERR_ID_TOKEN_REFRESH_MISMATCH`, `ERR_DPOP_CLAIM_MISSING`). */
  claim?: string;
  /** `ERR_JWKS_NO_MATCHING_KEY`: the token's `kid` (`null` when it had none). */
  kid?: string | null;
  /** `ERR_ID_TOKEN_AUTH_TOO_OLD`: the token's `auth_time` and the `max_age` asked, seconds (and `now`). */
  authTime?: number;
  maxAge?: number;
  /** `ERR_ID_TOKEN_ACR_NOT_SATISFIED`: the token's `acr` (`null` when it had none). */
  acr?: string | null;
  /** `ERR_ID_TOKEN_EXPIRED` (`exp`, `now`), `ERR_DPOP_IAT_OUT_OF_WINDOW` (`iat`, `now`),
   * `ERR_ID_TOKEN_AUTH_TOO_OLD` (`now`): seconds. */
  exp?: number;
  iat?: number;
  now?: number;
  /** `ERR_JWS_ALG_NOT_ALLOWED`, `ERR_JWS_ALG_KEY_MISMATCH`. */
  alg?: string;
  /** `ERR_JWS_CRIT_UNSUPPORTED`: the extension named. */
  crit?: string;
  /** `ERR_JWS_TOO_LARGE`: the limit in bytes. */
  limit?: number;
  /** `ERR_JWK_PRIVATE_KEY`: the private member found. */
  member?: string;
  /** `ERR_ISSUER_NOT_ACCEPTED`: the token's `iss`; `ERR_DISCOVERY_ISSUER_MISMATCH`: the issuer found. */
  issuer?: string;
  /** `ERR_WEBAUTHN_ORIGIN`: the assertion's origin. */
  origin?: string;
  /** `ERR_WEBAUTHN_SIGN_COUNT`. */
  previousSignCount?: number;
  signCount?: number;
  /** `ERR_TIMEOUT` (with `timeout`, milliseconds), `ERR_NETWORK`: the URL. */
  url?: string;
  /** `ERR_TIMEOUT`, `ERR_POPUP_TIMEOUT`: the timeout, milliseconds. */
  timeout?: number;
  /** `ERR_CRYPTO_OPERATION`, `ERR_KEY_STORE`: the operation that failed. */
  operation?: string;
  /** `ERR_KEY_NOT_FOUND`, `ERR_KEY_EXISTS`: the key id. */
  keyId?: string;
  /**
   * A login or refresh refused after the OP answered with tokens (an unbound ID Token under
   * `"required"`, a `cnf` of another key, a failed ID Token check): whether the tokens of that
   * answer were revoked (RFC 7009) before they were dropped. `false` when the OP has no
   * revocation endpoint or a revocation failed.
   */
  revoked?: boolean;
  /** A consumer's refusal: the evidence record of the decision. */
  evidence?: KeyBoundEvidence;
}

/** One consumer decision, with the user, the application, the key holder and the proof kept apart. */
export interface KeyBoundEvidence {
  time: number; consumer: string; action: string; outcome: "accepted" | "refused"; error: ErrorCode | null;
  issuer: string | null; subject: string | null; audience: string[]; azp: string | null;
  cnf_jkt: string | null; proof_jkt: string | null; jti: string | null;
  /** How possession was proven: a DPoP proof (`verify`) or a passkey assertion (`verifyPasskey`). */
  proof_type: "dpop" | "passkey"; htm: string; htu: string;
  proof_iat: number | null; verified: boolean;
}
"#;

/// Converts a browser-layer error into a JavaScript `Error`.
pub fn to_js(err: BrowserError) -> JsValue {
    err.into_js()
}

/// Converts a core error into a JavaScript `Error`.
pub fn core_to_js(err: Error) -> JsValue {
    to_js(err.into())
}
