//! The platform services the flows need besides the network and storage: the clock, randomness,
//! timers (cleared when done) and Web Locks. All through the global scope, so they work in a
//! Window and in a Worker.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::js::{global_prop, Result};
use super::subtle;
use crate::protocol::b64;

/// Current time in whole seconds since the epoch (`Date.now()`).
pub fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

/// Current time in milliseconds since the epoch (`Date.now()`).
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// `n` random bytes (`crypto.getRandomValues`), base64url.
///
/// # Errors
/// `ERR_CRYPTO_UNAVAILABLE`, `ERR_CRYPTO_OPERATION`.
pub fn random(n: usize) -> Result<String> {
    let mut buf = vec![0u8; n];
    subtle::fill_random(&mut buf)?;
    Ok(b64::encode(buf))
}

/// Waits `secs` seconds with the global `setTimeout` (Window or Worker); an aborted `signal`
/// ends the wait early with `ERR_CANCELLED`. The timer and the abort listener are removed when
/// the wait ends, whichever way it ends.
///
/// # Errors
/// `ERR_CANCELLED`.
#[cfg(feature = "agent")]
pub async fn sleep_secs(secs: i64, signal: Option<&web_sys::AbortSignal>) -> Result<()> {
    use crate::error::Error;
    if signal.is_some_and(|s| s.aborted()) {
        return Err(Error::Cancelled.into());
    }
    let ms = JsValue::from_f64((secs.max(0) * 1000) as f64);
    let mut timer = JsValue::UNDEFINED;
    let mut on_abort: Option<Function> = None;
    let promise = Promise::new(&mut |resolve, _reject| {
        if let Some(set_timeout) = global_prop("setTimeout").and_then(|f| f.dyn_into::<Function>().ok()) {
            timer = set_timeout.call2(&JsValue::UNDEFINED, &resolve, &ms).unwrap_or(JsValue::UNDEFINED);
        }
        if let Some(s) = signal {
            let _ = s.add_event_listener_with_callback("abort", &resolve);
            on_abort = Some(resolve);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    if let Some(clear) = global_prop("clearTimeout").and_then(|f| f.dyn_into::<Function>().ok()) {
        let _ = clear.call1(&JsValue::UNDEFINED, &timer);
    }
    if let (Some(s), Some(listener)) = (signal, &on_abort) {
        let _ = s.remove_event_listener_with_callback("abort", listener);
    }
    if signal.is_some_and(|s| s.aborted()) {
        return Err(Error::Cancelled.into());
    }
    Ok(())
}

/// Runs `f` holding the Web Lock `name` (`navigator.locks`, in a Window and in a Worker; shared
/// by every tab and worker of the origin). Where Web Locks do not exist, runs `f` unguarded.
///
/// # Errors
/// Those of `f`.
pub async fn with_lock<T>(name: &str, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let locks = global_prop("navigator").and_then(|n| Reflect::get(&n, &"locks".into()).ok()).filter(|l| l.is_object());
    let request = locks.as_ref().and_then(|l| Reflect::get(l, &"request".into()).ok()).and_then(|r| r.dyn_into::<Function>().ok());
    let (Some(locks), Some(request)) = (locks, request) else { return f.await };
    let mut on_acquired: Option<Function> = None;
    let acquired = Promise::new(&mut |resolve, _| on_acquired = Some(resolve));
    let mut on_done: Option<Function> = None;
    let done = Promise::new(&mut |resolve, _| on_done = Some(resolve));
    let (Some(on_acquired), Some(on_done)) = (on_acquired, on_done) else { return f.await };
    let held = done.clone();
    // The lock is held until the promise returned by this callback settles.
    let callback = wasm_bindgen::closure::Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let _ = on_acquired.call0(&JsValue::UNDEFINED);
        held.into()
    });
    if request.call2(&locks, &JsValue::from_str(name), &callback).is_err() {
        return f.await;
    }
    let _ = wasm_bindgen_futures::JsFuture::from(acquired).await;
    let out = f.await;
    let _ = on_done.call0(&JsValue::UNDEFINED);
    out
}
