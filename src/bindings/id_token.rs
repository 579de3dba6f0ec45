//! ID Tokens in the low-level API: `createLocalJWKSet` (a JWKS parsed once) and
//! `validateIdToken`.
//!
//! The hot path makes no Rust future: the options are read, the JWS parsed and the key chosen
//! synchronously; WebCrypto's `verify` is started with the already imported key and chained once
//! to a callback made when the module started, which checks the claims (OIDC Core §3.1.3.7,
//! KB §4) when the signature is known good. A key not yet imported takes the async path once.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::args::{binding_policy, get, object_arg, opt_bool, opt_seconds, opt_str, opt_str_reused, promise, DAY, MAX_TIME};
use super::errors::{core_to_js, to_js};
use crate::browser::js::{crypto_error, now_secs};
use crate::browser::subtle::{self, persistent2, Callback, Thenable, WebCryptoVerifier};
use crate::error::Error;
use crate::protocol::id_token::{self, AuthenticationCheck, BindingPolicy, IdTokenCheck, Jwks};
use crate::protocol::jwa::Alg;
use crate::protocol::jws;

#[wasm_bindgen(typescript_custom_section)]
const TS_ID_TOKEN: &'static str = r#"
export interface ValidateIdTokenOptions {
  issuer: string;
  clientId: string;
  /** The OIDC nonce sent in the authorization request. */
  nonce?: string;
  /** The `dpop_jkt` sent; omit when binding was not requested. */
  dpopJkt?: string;
  /** Default `"required"`. */
  binding?: "required" | "preferred";
  /** Algorithms accepted. Default `["RS256", "PS256", "ES256"]`. */
  algorithms?: string[];
  /** Seconds since the epoch. Default is now. */
  currentDate?: number;
  /** Clock skew in seconds. Default 60. */
  clockTolerance?: number;
  /** How old `iat` may be, in seconds. Default 600. (Not the OIDC `max_age`: see `requestedMaxAge`.) */
  maxAge?: number;
  /** The `max_age` sent in the authorization request: `auth_time` must be present and within it (`ERR_ID_TOKEN_AUTH_TIME_MISSING`, `ERR_ID_TOKEN_AUTH_TOO_OLD`). */
  requestedMaxAge?: number;
  /** The `acr_values` sent, space-separated. */
  acrValues?: string;
  /** Refuse an `acr` that is not one of `acrValues` (`ERR_ID_TOKEN_ACR_NOT_SATISFIED`). Default false. */
  requireAcr?: boolean;
}

/**
 * A snapshot of a JWKS made by `createLocalJWKSet`: a frozen, ordinary JWKS object (`keys`),
 * whose keys keybound has already parsed. Pass it to `validateIdToken` instead of the JWKS:
 * nothing is parsed or imported again.
 */
export interface LocalJWKSet {
  readonly keys: readonly Readonly<JWK>[];
}

export interface ValidatedIdToken {
  /** The verified payload. */
  claims: { iss: string; sub: string; aud: string | string[]; [claim: string]: unknown };
  /** Bound to the key with `dpopJkt`. */
  bound: boolean;
}
"#;

/// The symbol under which a `LocalJWKSet` ([`create_local_jwk_set`]) keeps its id.
const SET_SYMBOL: &str = "keybound.localJwkSet";
/// How many parsed sets are kept. A set that fell out is parsed again from its own (frozen)
/// keys, so this bounds memory, never correctness.
const SETS_KEPT: usize = 16;

/// The next id, and the parsed sets by id, oldest first.
type Sets = (f64, Vec<(f64, Rc<Jwks>)>);

thread_local! {
    static SET_KEY: JsValue = js_sys::Symbol::for_(SET_SYMBOL).into();
    static SETS: RefCell<Sets> = const { RefCell::new((0.0, Vec::new())) };
}

fn parse_jwks(jwks: &JsValue) -> Result<Jwks, JsValue> {
    let json = js_sys::JSON::stringify(jwks)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| core_to_js(Error::arg("jwks", "must be JSON-serializable")))?;
    Jwks::from_json(&json).map_err(core_to_js)
}

/// The parsed keys of a set made by `createLocalJWKSet`, if `jwks` is one and it is still kept.
fn local_set(jwks: &JsValue) -> Option<Rc<Jwks>> {
    let id = SET_KEY.with(|k| js_sys::Reflect::get(jwks, k).ok())?.as_f64()?;
    SETS.with(|sets| sets.borrow().1.iter().find(|(i, _)| *i == id).map(|(_, set)| set.clone()))
}

/// Makes a `LocalJWKSet` (a TypeScript type): a frozen snapshot of `jwks` whose keys are parsed now, once, and
/// whose WebCrypto keys are imported on first use and then reused. Later changes to the object
/// passed in have no effect. Like jose's `createLocalJWKSet`; pass the result to
/// `validateIdToken`.
///
/// Throws `ERR_JSON_INVALID` for a JWKS that is not one, `ERR_JWK_PRIVATE_KEY` if it publishes
/// private key material (keys of unsupported types are skipped, as in every JWKS keybound reads).
#[wasm_bindgen(js_name = createLocalJWKSet, unchecked_return_type = "LocalJWKSet")]
pub fn create_local_jwk_set(#[wasm_bindgen(unchecked_param_type = "{ keys: unknown[] }")] jwks: JsValue) -> Result<JsValue, JsValue> {
    object_arg(&jwks, "jwks")?;
    let json = js_sys::JSON::stringify(&jwks)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| core_to_js(Error::arg("jwks", "must be JSON-serializable")))?;
    let parsed = Jwks::from_json(&json).map_err(core_to_js)?;
    // The snapshot: a deep copy, frozen, so the object and the parsed keys cannot disagree.
    let copy = js_sys::JSON::parse(&json)?;
    deep_freeze(&copy);
    let id = SETS.with(|sets| {
        let mut sets = sets.borrow_mut();
        sets.0 += 1.0;
        let id = sets.0;
        if sets.1.len() == SETS_KEPT {
            sets.1.remove(0);
        }
        sets.1.push((id, Rc::new(parsed)));
        id
    });
    let out = js_sys::Object::new();
    js_sys::Reflect::set(&out, &"keys".into(), &js_sys::Reflect::get(&copy, &"keys".into())?)?;
    let hidden = js_sys::Object::new();
    js_sys::Reflect::set(&hidden, &"value".into(), &JsValue::from_f64(id))?;
    SET_KEY.with(|k| js_sys::Object::define_property(&out, k, &hidden));
    Ok(js_sys::Object::freeze(&out).into())
}

/// Freezes `value` and everything reachable from it (a parsed JSON document: no cycles).
fn deep_freeze(value: &JsValue) {
    if !value.is_object() {
        return;
    }
    for child in js_sys::Object::values(value.unchecked_ref()).iter() {
        deep_freeze(&child);
    }
    js_sys::Object::freeze(value.unchecked_ref::<js_sys::Object>());
}

/// `validateIdToken`'s options, read and checked once per call.
struct Checks {
    issuer: String,
    client_id: String,
    nonce: Option<String>,
    jkt: Option<String>,
    binding: BindingPolicy,
    algs: Vec<Alg>,
    now: i64,
    clock_skew: i64,
    max_age: i64,
    requested_max_age: Option<i64>,
    acr_values: Option<String>,
    require_acr: bool,
}

impl Checks {
    fn read(options: &JsValue) -> Result<Self, JsValue> {
        let required = |v: Option<String>, name: &'static str| v.ok_or_else(|| core_to_js(Error::arg(name, "is required")));
        let issuer = required(opt_str_reused(options, "issuer")?, "issuer")?;
        let client_id = required(opt_str_reused(options, "clientId")?, "clientId")?;
        let (nonce, jkt) = (opt_str_reused(options, "nonce")?, opt_str_reused(options, "dpopJkt")?);
        let binding = binding_policy(options)?;
        let algs: Vec<Alg> = match get(options, "algorithms") {
            v if v.is_undefined() => vec![Alg::Rs256, Alg::Ps256, Alg::Es256],
            v => js_sys::Array::from(&v)
                .iter()
                .map(|a| a.as_string().ok_or(Error::arg("algorithms", "must be strings")).and_then(|a| Alg::from_name(&a)))
                .collect::<Result<_, _>>()
                .map_err(core_to_js)?,
        };
        let requested_max_age = match get(options, "requestedMaxAge") {
            v if v.is_undefined() || v.is_null() => None,
            _ => Some(opt_seconds(options, "requestedMaxAge", 0, 0, MAX_TIME)?),
        };
        Ok(Self {
            issuer,
            client_id,
            nonce,
            jkt,
            binding,
            algs,
            requested_max_age,
            acr_values: opt_str(options, "acrValues")?,
            require_acr: opt_bool(options, "requireAcr", false)?,
            now: opt_seconds(options, "currentDate", now_secs(), 0, MAX_TIME)?,
            clock_skew: opt_seconds(options, "clockTolerance", 60, 0, DAY)?,
            max_age: opt_seconds(options, "maxAge", 600, 0, 10 * 365 * DAY)?,
        })
    }

    fn id_token(&self) -> IdTokenCheck<'_> {
        IdTokenCheck {
            issuer: &self.issuer,
            client_id: &self.client_id,
            extra_audiences: &[],
            allowed_algs: &self.algs,
            now: self.now,
            clock_skew: self.clock_skew,
            max_age: self.max_age,
            nonce: self.nonce.as_deref(),
            expected_jkt: self.jkt.as_deref(),
            binding: self.binding,
        }
    }

    /// `auth_time` and `acr` against what was asked, then the result object.
    fn accept(&self, v: id_token::ValidatedIdToken) -> Result<JsValue, JsValue> {
        let auth =
            AuthenticationCheck { max_age: self.requested_max_age, acr_values: self.acr_values.as_deref(), require_acr: self.require_acr };
        id_token::check_authentication(&v.claims, &auth, self.now, self.clock_skew).map_err(core_to_js)?;
        let obj = js_sys::Object::new();
        js_sys::Reflect::set(&obj, &"claims".into(), &js_sys::JSON::parse(&v.claims_json)?)?;
        js_sys::Reflect::set(&obj, &"bound".into(), &v.bound.into())?;
        Ok(obj.into())
    }
}

/// What a validation keeps while WebCrypto verifies its signature.
struct Pending {
    header: jws::Header,
    payload: Vec<u8>,
    checks: Checks,
}

thread_local! {
    /// Validations whose signature WebCrypto is verifying, by slot.
    static PENDING: RefCell<Vec<Option<Pending>>> = const { RefCell::new(Vec::new()) };
    /// The end of every validation on the synchronous path, made once.
    static SETTLE: Callback = persistent2(settle);
}

/// Validates an ID Token with the issuer's JWKS (spec: OIDC Core §3.1.3.7 plus Key Binding):
/// signature, `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`, then the binding (`typ`
/// `dpop+id_token` and thumbprint(`cnf.jwk`) == `dpopJkt`), then `auth_time` and `acr` against
/// `requestedMaxAge` and `acrValues`.
#[wasm_bindgen(js_name = validateIdToken, unchecked_return_type = "Promise<ValidatedIdToken>")]
pub fn validate_id_token(
    #[wasm_bindgen(js_name = "idToken")] id_token: String,
    #[wasm_bindgen(unchecked_param_type = "{ keys: unknown[] } | LocalJWKSet")] jwks: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ValidateIdTokenOptions")] options: JsValue,
) -> js_sys::Promise {
    match start(id_token, &jwks, &options) {
        Ok(promise) => promise,
        Err(err) => js_sys::Promise::reject(&err),
    }
}

/// Everything up to WebCrypto's `verify`, synchronously; the rest in [`settle`].
fn start(token: String, jwks: &JsValue, options: &JsValue) -> Result<js_sys::Promise, JsValue> {
    object_arg(jwks, "jwks")?;
    object_arg(options, "options")?;
    let set = local_set(jwks).map_or_else(|| parse_jwks(jwks).map(Rc::new), Ok)?;
    let checks = Checks::read(options)?;
    let parsed = jws::parse(&token, &checks.algs, jws::Limits::default()).map_err(core_to_js)?;
    let key = set.select(&parsed.header).map_err(core_to_js)?;
    let Some(verify) =
        subtle::start_verify(parsed.header.alg, key, parsed.signing_input().as_bytes(), parsed.signature()).map_err(to_js)?
    else {
        // The key is not imported yet: import it (kept for the next calls), then as above.
        return Ok(promise(Box::pin(async move {
            let v = id_token::validate(&token, &set, &checks.id_token(), &WebCryptoVerifier).await.map_err(core_to_js)?;
            checks.accept(v)
        })));
    };
    let pending = Pending { header: parsed.header.clone(), payload: parsed.payload_unverified().to_vec(), checks };
    let slot = PENDING.with(|p| subtle::park(&mut p.borrow_mut(), pending));
    let settle = SETTLE.with(|f| f.bind_arg(&JsValue::NULL, &JsValue::from_f64(slot as f64)));
    Ok(verify.unchecked_ref::<Thenable>().then_fns(&settle, &settle))
}

/// The end of [`start`]: `outcome` is WebCrypto's verdict (a boolean) or its exception; either
/// way the slot is freed. The claims are believed only after a `true`.
fn settle(slot: JsValue, outcome: JsValue) -> Result<JsValue, JsValue> {
    let slot = slot.as_f64().map(|f| f as usize);
    let pending = PENDING.with(|p| slot.and_then(|i| p.borrow_mut().get_mut(i).and_then(Option::take)));
    let Some(Pending { header, payload, checks }) = pending else {
        return Err(core_to_js(Error::CryptoOperation { operation: "verify", message: "lost the token being verified".into() }));
    };
    match outcome.as_bool() {
        Some(true) => checks.accept(id_token::check_claims(&header, payload, &checks.id_token()).map_err(core_to_js)?),
        Some(false) => Err(core_to_js(Error::JwsSignatureInvalid)),
        None => Err(crypto_error("verify")(outcome).into_js()),
    }
}
