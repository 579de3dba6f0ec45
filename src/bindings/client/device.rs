//! `KeyBoundClient`'s device flow (RFC 8628 with Key Binding).

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::super::args::{get, promise, string_arg};
use super::super::errors::{core_to_js, to_js};
use super::session::session_object;
use super::{DeviceOptions, JsClient};
use crate::error::Error;

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
