//! `KeyBoundClient`'s session and what it sends: `session`, `refresh`, `fetch`, `present`,
//! `presentTo`, `forget`.

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::super::args::{get, object_arg, opt_str, promise, req_str, string_arg};
use super::super::errors::{core_to_js, to_js};
use super::options::request_deadline;
use super::{FetchInit, JsClient, PresentInit};
use crate::browser::client::SessionRecord;
use crate::error::Error;

pub(super) fn session_object(s: &SessionRecord) -> Result<JsValue, JsValue> {
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

#[wasm_bindgen(js_class = KeyBoundClient)]
impl JsClient {
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

    /// Forgets the session: deletes its key pair and stored tokens. Resolves to whether there was
    /// one.
    #[wasm_bindgen(unchecked_return_type = "Promise<boolean>")]
    pub fn forget(&self) -> js_sys::Promise {
        let inner = Rc::clone(&self.inner);
        promise(Box::pin(async move { Ok(inner.forget().await.map_err(to_js)?.into()) }))
    }
}
