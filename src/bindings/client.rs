//! The `KeyBoundClient` class: the login flow for JavaScript.

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::args::{binding_policy, get, object_arg, opt_str, promise, req_str, string_arg};
use super::errors::{core_to_js, to_js};
#[cfg(feature = "agent")]
use crate::browser::client::DeviceLogin;
use crate::browser::client::{Client, ClientConfig, LoginOptions, SessionRecord};
use crate::error::Error;

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

/// The deadline of one `fetch`/`presentTo`: `init.timeout` (else the client's) and `init.signal`.
fn request_deadline(client: &Client, init: &JsValue) -> Result<crate::browser::http::Deadline, JsValue> {
    let mut deadline = client.deadline();
    if init.is_object() {
        if let Some(ms) = super::args::timeout_option(init)? {
            deadline.timeout_ms = ms;
        }
        let signal = get(init, "signal");
        if !signal.is_undefined() && !signal.is_null() {
            let signal =
                signal.dyn_into::<web_sys::AbortSignal>().map_err(|_| core_to_js(Error::arg("signal", "must be an AbortSignal")))?;
            deadline = deadline.with_signal(Some(signal));
        }
    }
    Ok(deadline)
}

/// Runs a logout; returns the resolved object and the URL to navigate to.
async fn logout_object(inner: &Client, options: Option<LogoutInit>) -> Result<(JsValue, Option<String>), JsValue> {
    let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
    let (mut redirect, mut state) = (None, None);
    if !options.is_undefined() && !options.is_null() {
        object_arg(&options, "options")?;
        redirect = opt_str(&options, "postLogoutRedirectUri")?;
        state = opt_str(&options, "state")?;
    }
    let out = inner.logout(redirect.as_deref(), state).await.map_err(to_js)?;
    let obj = js_sys::Object::new();
    if let Some(url) = &out.url {
        js_sys::Reflect::set(&obj, &"url".into(), &url.as_str().into())?;
    }
    if let Some(state) = &out.state {
        js_sys::Reflect::set(&obj, &"state".into(), &state.as_str().into())?;
    }
    js_sys::Reflect::set(&obj, &"revoked".into(), &out.revoked.map_or(JsValue::NULL, JsValue::from_bool))?;
    if let Some(e) = out.revocation_error {
        js_sys::Reflect::set(&obj, &"revocationError".into(), &to_js(e))?;
    }
    Ok((obj.into(), out.url))
}

/// Reads `startLogin`/`login` options (absent: nothing asked).
fn login_options(options: Option<LoginInit>) -> Result<LoginOptions, JsValue> {
    let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
    if options.is_undefined() || options.is_null() {
        return Ok(LoginOptions::default());
    }
    object_arg(&options, "options")?;
    let max_age = match get(&options, "maxAge") {
        v if v.is_undefined() || v.is_null() => None,
        _ => Some(super::args::opt_seconds(&options, "maxAge", 0, 0, super::args::MAX_TIME)?),
    };
    let bad_acr = || core_to_js(Error::arg("acrValues", "must be a string or an array of strings without spaces"));
    let acr_values = match get(&options, "acrValues") {
        v if v.is_undefined() || v.is_null() => None,
        v if v.is_string() => v.as_string(),
        v if js_sys::Array::is_array(&v) => {
            let mut joined = String::new();
            for item in js_sys::Array::from(&v).iter() {
                match item.as_string() {
                    Some(s) if !s.is_empty() && !s.contains(' ') => {
                        if !joined.is_empty() {
                            joined.push(' ');
                        }
                        joined.push_str(&s);
                    }
                    _ => return Err(bad_acr()),
                }
            }
            Some(joined)
        }
        _ => return Err(bad_acr()),
    };
    Ok(LoginOptions { max_age, acr_values, require_acr: super::args::opt_bool(&options, "requireAcr", false)? })
}

fn session_object(s: &SessionRecord) -> Result<JsValue, JsValue> {
    let obj = js_sys::Object::new();
    let set = |k: &str, v: JsValue| js_sys::Reflect::set(&obj, &JsValue::from_str(k), &v).map(|_| ());
    set("claims", js_sys::JSON::parse(&s.claims_json)?)?;
    set("idToken", JsValue::from_str(&s.id_token))?;
    set("bound", JsValue::from_bool(s.bound))?;
    set("jkt", JsValue::from_str(&s.jkt))?;
    set("keyId", JsValue::from_str(s.key_id()))?;
    set("tokenType", JsValue::from_str(&s.token_type))?;
    set("accessToken", JsValue::from_str(&s.access_token))?;
    if let Some(e) = s.expires_at {
        set("expiresAt", JsValue::from_f64(e as f64))?;
    }
    set("hasRefreshToken", JsValue::from_bool(s.has_refresh_token()))?;
    if let Some(p) = &s.passkey {
        let pk = js_sys::Object::new();
        js_sys::Reflect::set(&pk, &"jkt".into(), &p.jkt.as_str().into())?;
        js_sys::Reflect::set(&pk, &"mode".into(), &p.mode.as_str().into())?;
        js_sys::Reflect::set(&pk, &"salt".into(), &p.salt.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL))?;
        js_sys::Reflect::set(&pk, &"name".into(), &p.name.as_str().into())?;
        set("passkey", pk.into())?;
    }
    Ok(obj.into())
}

#[wasm_bindgen]
extern "C" {
    /// A string argument that may be omitted (an extern type: optional in the .d.ts, with no
    /// JS-side type check; the value is checked in Rust).
    #[wasm_bindgen(typescript_type = "string")]
    pub type OptionalString;
    /// The `init` argument of `fetch`.
    #[wasm_bindgen(typescript_type = "KeyBoundFetchInit")]
    pub type FetchInit;
    /// The `options` argument of `finishDeviceLogin`.
    #[wasm_bindgen(typescript_type = "KeyBoundDeviceOptions")]
    pub type DeviceOptions;
    /// The `init` argument of `presentTo`.
    #[wasm_bindgen(typescript_type = "KeyBoundPresentInit")]
    pub type PresentInit;
    /// The `options` argument of `startLogout` and `logout`.
    #[wasm_bindgen(typescript_type = "KeyBoundLogoutOptions")]
    pub type LogoutInit;
    /// The `options` argument of `startLogin` and `login`.
    #[wasm_bindgen(typescript_type = "KeyBoundLoginOptions")]
    pub type LoginInit;
}

/// A key-bound OpenID Connect client for one issuer. Create it with `KeyBoundClient.discover`.
#[wasm_bindgen(js_name = KeyBoundClient)]
pub struct JsClient {
    inner: Rc<Client>,
    #[cfg(feature = "agent")]
    devices: Rc<std::cell::RefCell<Vec<(String, DeviceLogin)>>>,
}

#[wasm_bindgen(js_class = KeyBoundClient)]
impl JsClient {
    /// Fetches the OP's discovery document (its `issuer` must equal `issuer` exactly) and JWKS.
    ///
    /// Rejects with `ERR_URL_INVALID`, `ERR_NETWORK`, `ERR_DISCOVERY_ISSUER_MISMATCH`,
    /// `ERR_DISCOVERY_INVALID`, `ERR_INVALID_ARGUMENT`.
    #[wasm_bindgen(unchecked_return_type = "Promise<KeyBoundClient>")]
    pub fn discover(
        #[wasm_bindgen(unchecked_param_type = "string")] issuer: JsValue,
        #[wasm_bindgen(unchecked_param_type = "KeyBoundClientOptions")] options: JsValue,
    ) -> js_sys::Promise {
        promise(Box::pin(async move {
            let issuer = string_arg(&issuer, "issuer")?;
            object_arg(&options, "options")?;
            let config = ClientConfig {
                issuer,
                client_id: req_str(&options, "clientId")?,
                redirect_uri: req_str(&options, "redirectUri")?,
                scope: opt_str(&options, "scope")?.unwrap_or_default(),
                binding: binding_policy(&options)?,
                session_name: opt_str(&options, "session")?.unwrap_or_default(),
                bind_key: super::args::opt_bool(&options, "keyBinding", true)?,
                timeout_ms: super::args::timeout_option(&options)?.unwrap_or(crate::browser::http::DEFAULT_TIMEOUT_MS),
                par: match opt_str(&options, "par")?.as_deref() {
                    None | Some("auto") => crate::protocol::oauth::ParMode::Auto,
                    Some("always") => crate::protocol::oauth::ParMode::Always,
                    Some("never") => crate::protocol::oauth::ParMode::Never,
                    Some(_) => return Err(core_to_js(Error::arg("par", "must be \"auto\", \"always\" or \"never\""))),
                },
                passkey: match get(&options, "passkey") {
                    v if v.is_undefined() || v.is_null() => None,
                    #[cfg(not(feature = "passkey"))]
                    _ => return Err(core_to_js(Error::arg("passkey", "passkey logins are in the keybound/passkey entry"))),
                    #[cfg(feature = "passkey")]
                    v => {
                        object_arg(&v, "passkey")?;
                        let mode = match opt_str(&v, "mode")?.as_deref() {
                            None | Some("salted") => crate::protocol::passkey::NonceMode::Salted,
                            Some("plain") => crate::protocol::passkey::NonceMode::Plain,
                            Some(_) => return Err(core_to_js(Error::arg("mode", "must be \"salted\" or \"plain\""))),
                        };
                        Some((opt_str(&v, "name")?.unwrap_or_else(|| "default".into()), mode))
                    }
                },
            };
            let client = Client::discover(config).await.map_err(to_js)?;
            Ok(JsClient {
                inner: Rc::new(client),
                #[cfg(feature = "agent")]
                devices: Rc::default(),
            }
            .into())
        }))
    }

    /// The issuer.
    #[wasm_bindgen(getter)]
    pub fn issuer(&self) -> String {
        self.inner.config().issuer.clone()
    }

    /// The OP's clock minus this device's clock, in seconds, learned from the OP's `Date` header
    /// and applied to proofs and token time checks (0 when under 5 seconds).
    #[wasm_bindgen(getter, js_name = clockOffset)]
    pub fn clock_offset(&self) -> f64 {
        self.inner.clock_offset() as f64
    }

    /// The OP's UserInfo endpoint, if it has one.
    #[wasm_bindgen(getter, js_name = userinfoEndpoint)]
    pub fn userinfo_endpoint(&self) -> Option<String> {
        self.inner.metadata().userinfo_endpoint.clone()
    }

    /// The token endpoint (the DPoP `htu` of token requests).
    #[wasm_bindgen(getter, js_name = tokenEndpoint)]
    pub fn token_endpoint(&self) -> String {
        self.inner.metadata().token_endpoint.clone()
    }

    /// The DPoP proof sent with the last token request (for demos and diagnostics; a proof is
    /// single use and bound to its request).
    #[wasm_bindgen(getter, js_name = lastTokenRequestProof)]
    pub fn last_token_request_proof(&self) -> Option<String> {
        self.inner.last_token_proof()
    }

    /// The proof sent with the last presentation (`present`/`presentTo`), for demos and
    /// diagnostics.
    #[wasm_bindgen(getter, js_name = lastPresentationProof)]
    pub fn last_presentation_proof(&self) -> Option<String> {
        self.inner.last_presentation_proof()
    }

    /// Whether the OP lists `bound_key` in `scopes_supported` (a hint only: the validated ID
    /// Token is the proof).
    #[wasm_bindgen(getter, js_name = advertisesKeyBinding)]
    pub fn advertises_key_binding(&self) -> bool {
        self.inner.metadata().advertises_bound_key()
    }

    /// Starts a login: a fresh non-extractable key, and `state`, `nonce` and PKCE verifier stored
    /// in IndexedDB. Resolves to the authorization URL to navigate to, the `state`, and the key's
    /// IndexedDB id (`loadDPoPKeyPair(keyId)`). `options` may ask for `maxAge` and `acrValues`;
    /// the pending login remembers them and `finishLogin` checks `auth_time` and `acr`.
    #[wasm_bindgen(js_name = startLogin, unchecked_return_type = "Promise<{ url: string; state: string; keyId: string }>")]
    pub fn start_login(&self, options: Option<LoginInit>) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let options = login_options(options)?;
            let (url, state, key_id) = inner.start_login(&options).await.map_err(to_js)?;
            let obj = js_sys::Object::new();
            js_sys::Reflect::set(&obj, &"url".into(), &url.into())?;
            js_sys::Reflect::set(&obj, &"state".into(), &state.into())?;
            js_sys::Reflect::set(&obj, &"keyId".into(), &key_id.into())?;
            Ok(obj.into())
        }))
    }

    /// `startLogin(options)`, then navigates the Window to the authorization URL.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn login(&self, options: Option<LoginInit>) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let options = login_options(options)?;
            let location = get(&js_sys::global(), "location");
            let assign = get(&location, "assign");
            let Some(assign) = assign.dyn_ref::<js_sys::Function>() else {
                return Err(core_to_js(Error::arg("login", "needs a Window; in a Worker use startLogin()")));
            };
            let (url, _, _) = inner.start_login(&options).await.map_err(to_js)?;
            assign.call1(&location, &url.into())?;
            Ok(JsValue::UNDEFINED)
        }))
    }

    /// Finishes the login from the callback URL (default: the current location). Resolves to the
    /// session.
    #[wasm_bindgen(js_name = finishLogin, unchecked_return_type = "Promise<KeyBoundSession>")]
    pub fn finish_login(&self, url: Option<OptionalString>) -> js_sys::Promise {
        let url: JsValue = url.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let url = callback_url(&url)?;
            let session = inner.finish_login(&url).await.map_err(to_js)?;
            session_object(&session)
        }))
    }

    /// The stored session, or `null`.
    #[wasm_bindgen(unchecked_return_type = "Promise<KeyBoundSession | null>")]
    pub fn session(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            match inner.stored_session().await.map_err(to_js)? {
                Some(s) => session_object(&s),
                None => Ok(JsValue::NULL),
            }
        }))
    }

    /// Refreshes with a new DPoP proof from the same key; the refreshed ID Token must keep the
    /// same user and the same `cnf`.
    #[wasm_bindgen(unchecked_return_type = "Promise<KeyBoundSession>")]
    pub fn refresh(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move { session_object(&inner.refresh().await.map_err(to_js)?) }))
    }

    /// `fetch` with the access token (`Authorization: DPoP` + proof with `ath`, or `Bearer`),
    /// retrying once on a `use_dpop_nonce` challenge. Never sends the ID Token.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(&self, #[wasm_bindgen(unchecked_param_type = "string")] url: JsValue, init: Option<FetchInit>) -> js_sys::Promise {
        let init: JsValue = init.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let url = string_arg(&url, "url")?;
            let (mut method, mut headers, mut body) = ("GET".to_owned(), Vec::new(), None);
            let deadline = request_deadline(&inner, &init)?;
            if init.is_object() {
                method = opt_str(&init, "method")?.unwrap_or(method);
                body = opt_str(&init, "body")?;
                let h = get(&init, "headers");
                if !h.is_undefined() && !h.is_null() {
                    // A `Headers` object (iterable of pairs) or a plain object of strings.
                    let pairs: Vec<JsValue> = if h.is_instance_of::<web_sys::Headers>() {
                        js_sys::try_iter(&h)?.map(|it| it.collect::<Result<Vec<_>, _>>()).transpose()?.unwrap_or_default()
                    } else if h.is_object() {
                        js_sys::Object::entries(h.unchecked_ref()).iter().collect()
                    } else {
                        return Err(core_to_js(Error::arg("headers", "must be an object of strings or a Headers")));
                    };
                    for pair in pairs {
                        let pair: js_sys::Array = pair.unchecked_into();
                        match (pair.get(0).as_string(), pair.get(1).as_string()) {
                            (Some(k), Some(v)) => headers.push((k, v)),
                            _ => return Err(core_to_js(Error::arg("headers", "values must be strings"))),
                        }
                    }
                }
            }
            let res = inner.fetch(&method, &url, &headers, body.as_deref(), &deadline).await.map_err(to_js)?;
            Ok(res.into())
        }))
    }

    /// A presentation for a consumer: the ID Token and a proof by the bound key over `htm`/`htu`
    /// with `ath` over the ID Token (keybound's profile, not a standard). Send the ID Token in
    /// the body or a header the consumer names, never as `Authorization: Bearer`.
    #[wasm_bindgen(unchecked_return_type = "Promise<{ idToken: string; dpop: string }>")]
    pub fn present(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ htm: string; htu: string; nonce?: string }")] options: JsValue,
    ) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            object_arg(&options, "options")?;
            let (htm, htu, nonce) = (req_str(&options, "htm")?, req_str(&options, "htu")?, opt_str(&options, "nonce")?);
            let (id_token, proof) = inner.present(&htm, &htu, nonce.as_deref()).await.map_err(to_js)?;
            let obj = js_sys::Object::new();
            js_sys::Reflect::set(&obj, &"idToken".into(), &id_token.into())?;
            js_sys::Reflect::set(&obj, &"dpop".into(), &proof.into())?;
            Ok(obj.into())
        }))
    }

    /// Presents the session to a consumer at `url` (`DPoP` header, ID Token in a JSON body
    /// `{"id_token": …}` or in `init.idTokenHeader`), retrying once on a 401 `use_dpop_nonce`.
    #[wasm_bindgen(js_name = presentTo, unchecked_return_type = "Promise<Response>")]
    pub fn present_to(&self, #[wasm_bindgen(unchecked_param_type = "string")] url: JsValue, init: Option<PresentInit>) -> js_sys::Promise {
        let init: JsValue = init.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let url = string_arg(&url, "url")?;
            let (mut method, mut body, mut header) = ("POST".to_owned(), None, None);
            let deadline = request_deadline(&inner, &init)?;
            if init.is_object() {
                method = opt_str(&init, "method")?.unwrap_or(method);
                body = opt_str(&init, "body")?;
                header = opt_str(&init, "idTokenHeader")?;
            }
            let res = inner.present_to(&method, &url, body.as_deref(), header.as_deref(), &deadline).await.map_err(to_js)?;
            Ok(res.into())
        }))
    }

    /// Logs out without navigating: revokes the refresh token (RFC 7009, with a DPoP proof when
    /// it is DPoP-bound) when the OP has a revocation endpoint, deletes the key and the session
    /// (other tabs and workers see it at once), and resolves to the OP's end-session URL with
    /// `id_token_hint`, `client_id`, `post_logout_redirect_uri` and `state`. A failed revocation
    /// is reported (`revoked: false`, `revocationError`), never kept as a session.
    #[wasm_bindgen(js_name = startLogout, unchecked_return_type = "Promise<KeyBoundLogout>")]
    pub fn start_logout(&self, options: Option<LogoutInit>) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move { logout_object(&inner, options).await.map(|(obj, _)| obj) }))
    }

    /// `startLogout(options)`, then navigates the Window to the end-session URL (when the OP has
    /// one). Resolves to the same object.
    #[wasm_bindgen(unchecked_return_type = "Promise<KeyBoundLogout>")]
    pub fn logout(&self, options: Option<LogoutInit>) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let location = get(&js_sys::global(), "location");
            let assign = get(&location, "assign");
            let Some(assign) = assign.dyn_ref::<js_sys::Function>() else {
                return Err(core_to_js(Error::arg("logout", "needs a Window; in a Worker use startLogout()")));
            };
            let (obj, url) = logout_object(&inner, options).await?;
            if let Some(url) = url {
                assign.call1(&location, &url.into())?;
            }
            Ok(obj)
        }))
    }

    /// Checks the post-logout redirect (default: the current location) against the `state` of a
    /// logout started by this origin. Rejects with `ERR_STATE_MISMATCH`.
    #[wasm_bindgen(js_name = finishLogout, unchecked_return_type = "Promise<void>")]
    pub fn finish_logout(&self, url: Option<OptionalString>) -> js_sys::Promise {
        let url: JsValue = url.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let url = callback_url(&url)?;
            inner.finish_logout(&url).await.map_err(to_js)?;
            Ok(JsValue::UNDEFINED)
        }))
    }

    /// Forgets the session: deletes its key pair and stored tokens. Resolves to whether there was
    /// one.
    #[wasm_bindgen(unchecked_return_type = "Promise<boolean>")]
    pub fn forget(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move { Ok(inner.forget().await.map_err(to_js)?.into()) }))
    }
}

#[cfg(feature = "passkey")]
#[wasm_bindgen(js_class = KeyBoundClient)]
impl JsClient {
    /// Signs `message` (a string) with the session's passkey: a WebAuthn assertion over the login
    /// ID Token, the message, the consumer's `nonce` and the request it is for (`method`, `url`:
    /// the assertion verifies only at that endpoint). Needs a session logged in with `passkey`
    /// set.
    #[wasm_bindgen(js_name = signWithPasskey, unchecked_return_type = "Promise<KeyBoundPasskeyPresentation>")]
    pub fn sign_with_passkey(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] message: JsValue,
        #[wasm_bindgen(unchecked_param_type = "{ method: string; url: string; nonce?: string }")] options: JsValue,
    ) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move {
            let message = string_arg(&message, "message")?;
            object_arg(&options, "options")?;
            let (method, url) = (req_str(&options, "method")?, req_str(&options, "url")?);
            let nonce = opt_str(&options, "nonce")?;
            let target = crate::browser::client::PasskeyTarget { htm: &method, htu: &url, consumer_nonce: nonce.as_deref() };
            let sig = inner.sign_with_passkey(message.as_bytes(), &target).await.map_err(to_js)?;
            let obj = js_sys::Object::new();
            let set = |k: &str, v: JsValue| js_sys::Reflect::set(&obj, &JsValue::from_str(k), &v).map(|_| ());
            set("idToken", sig.id_token.as_str().into())?;
            set("publicJwk", js_sys::JSON::parse(&sig.public_jwk)?)?;
            set("mode", sig.binding.mode.as_str().into())?;
            set("salt", sig.binding.salt.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL))?;
            set("credentialId", sig.credential_id.as_str().into())?;
            set("message", crate::protocol::b64::encode(message.as_bytes()).into())?;
            set("nonce", nonce.as_deref().map(JsValue::from_str).unwrap_or(JsValue::NULL))?;
            set("authenticatorData", crate::protocol::b64::encode(&sig.assertion.authenticator_data).into())?;
            set("clientDataJSON", crate::protocol::b64::encode(&sig.assertion.client_data_json).into())?;
            set("signature", crate::protocol::b64::encode(&sig.assertion.signature).into())?;
            Ok(obj.into())
        }))
    }
}

#[cfg(feature = "agent")]
#[wasm_bindgen(js_class = KeyBoundClient)]
impl JsClient {
    /// Starts a device login (RFC 8628 with Key Binding) for a component that cannot redirect:
    /// a fresh non-extractable key and the device authorization request with `bound_key` and
    /// `dpop_jkt`. Show `userCode` and `verificationUri` (or `verificationUriComplete`) to the
    /// user, then call `finishDeviceLogin(id)`.
    #[wasm_bindgen(js_name = startDeviceLogin, unchecked_return_type = "Promise<KeyBoundDeviceLogin>")]
    pub fn start_device_login(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        let devices = Rc::clone(&self.devices);
        promise(Box::pin(async move {
            let login = inner.start_device_login().await.map_err(to_js)?;
            let id = login.auth.user_code.clone();
            let obj = js_sys::Object::new();
            let set = |k: &str, v: JsValue| js_sys::Reflect::set(&obj, &JsValue::from_str(k), &v).map(|_| ());
            set("id", id.as_str().into())?;
            set("userCode", login.auth.user_code.as_str().into())?;
            set("verificationUri", login.auth.verification_uri.as_str().into())?;
            if let Some(c) = &login.auth.verification_uri_complete {
                set("verificationUriComplete", c.as_str().into())?;
            }
            set("expiresIn", JsValue::from_f64(login.auth.expires_in as f64))?;
            set("interval", JsValue::from_f64(login.auth.interval as f64))?;
            let mut list = devices.borrow_mut();
            list.retain(|(i, _)| *i != id);
            list.push((id, login));
            Ok(obj.into())
        }))
    }

    /// Polls until the user finished the device login; resolves to the session. `signal`
    /// (an `AbortSignal`) cancels with `ERR_CANCELLED`; `onPoll({status, interval})` hears each
    /// pending poll (`"authorization_pending"` or `"slow_down"`). Rejects with
    /// `ERR_DEVICE_ACCESS_DENIED` or `ERR_DEVICE_CODE_EXPIRED`.
    #[wasm_bindgen(js_name = finishDeviceLogin, unchecked_return_type = "Promise<KeyBoundSession>")]
    pub fn finish_device_login(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
        options: Option<DeviceOptions>,
    ) -> js_sys::Promise {
        let options: JsValue = options.map(Into::into).unwrap_or(JsValue::UNDEFINED);
        let inner = Rc::clone(&self.inner);
        let devices = Rc::clone(&self.devices);
        promise(Box::pin(async move {
            let id = string_arg(&id, "id")?;
            let login = devices
                .borrow()
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, l)| l.clone())
                .ok_or_else(|| core_to_js(Error::arg("id", "is not a device login started by this client")))?;
            let signal = get(&options, "signal").dyn_into::<web_sys::AbortSignal>().ok();
            let on_poll = get(&options, "onPoll").dyn_into::<js_sys::Function>().ok();
            let report = |status: &str, interval: i64| {
                if let Some(f) = &on_poll {
                    let event = js_sys::Object::new();
                    let _ = js_sys::Reflect::set(&event, &"status".into(), &status.into());
                    let _ = js_sys::Reflect::set(&event, &"interval".into(), &JsValue::from_f64(interval as f64));
                    let _ = f.call1(&JsValue::UNDEFINED, &event);
                }
            };
            let result = inner.finish_device_login(&login, signal.as_ref(), &report).await;
            devices.borrow_mut().retain(|(i, _)| *i != id);
            session_object(&result.map_err(to_js)?)
        }))
    }
}

/// The callback URL a `finish*` call was given, or the current location when it was given none.
fn callback_url(url: &JsValue) -> Result<String, JsValue> {
    if url.is_undefined() || url.is_null() {
        Ok(get(&get(&js_sys::global(), "location"), "href").as_string().unwrap_or_default())
    } else {
        string_arg(url, "url")
    }
}
