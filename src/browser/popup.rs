//! Popup login: the authorization request in a popup, the login finished in the page that
//! opened it.
//!
//! The opener opens the popup at once (so within the user's click: a popup opened after an
//! `await` is blocked by most browsers), starts the login ([`Client::start_login`]: the login's
//! key, `state`, PKCE, PAR when the OP has it) and sends the popup to the OP. The redirect page,
//! in the popup, calls [`hand_back`]: when its `state` is a popup login's, it posts the callback
//! URL to its opener (`postMessage` to its own origin only) and on the origin's
//! `BroadcastChannel` (which still reaches the opener when the OP's
//! `Cross-Origin-Opener-Policy` cut the popup from it), and closes. The opener takes the first
//! message from its own origin whose `state` is its login's, closes the popup and finishes the
//! login with [`Client::finish_login`]: the same checks as a redirect login, key binding
//! included. A blocked popup, a popup the user closed, a timeout and an aborted signal are coded
//! errors; in each the pending login and its key are deleted, and every listener and timer is
//! removed.
//!
//! The platform is reached through the global scope (`open`, `opener`, `location`), so in a
//! Worker, which has none of these, `loginPopup` is `ERR_INVALID_ARGUMENT`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::client::{Client, LoginOptions, SessionRecord};
use super::database::{self, PENDING_STORE};
use super::dpop_key::DpopKeyPair;
use super::js::{global_prop, object, string_prop, BrowserError, Result};
use crate::error::Error;
use crate::protocol::oauth;

/// The origin's channel on which a popup's redirect page hands the callback back.
const CHANNEL: &str = "keybound popup login";
/// The `kind` of a hand-back message.
const MESSAGE_KIND: &str = "keybound:popup-callback";
/// The prefix of a popup login's mark in the pending store (login states are base64url, so a
/// mark never collides with one).
const MARK_PREFIX: &str = "popup:";
/// How long `loginPopup` waits for the popup by default, milliseconds.
pub const DEFAULT_TIMEOUT_MS: u32 = 300_000;
/// The longest `timeout` accepted, milliseconds (one hour).
pub const MAX_TIMEOUT_MS: u32 = 3_600_000;
/// How often the opener looks whether the user closed the popup, milliseconds.
const POLL_MS: i32 = 250;

fn mark(state: &str) -> String {
    format!("{MARK_PREFIX}{state}")
}

fn own_origin() -> String {
    global_prop("location").map(|l| string_prop(&l, "origin")).unwrap_or_default()
}

/// Calls `target[name](args...)`; `Err` when it is not a function or it threw.
fn call(target: &JsValue, name: &str, args: &[&JsValue]) -> std::result::Result<JsValue, JsValue> {
    let f: Function = Reflect::get(target, &JsValue::from_str(name))?.dyn_into()?;
    let args: js_sys::Array = args.iter().copied().collect();
    f.apply(target, &args)
}

/// A popup opened for a login.
#[derive(Debug)]
pub struct Popup {
    handle: JsValue,
}

impl Popup {
    /// Opens an empty popup (`open("about:blank", "_blank", features)`). Call it before any
    /// `await`, while the user's click still counts.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` where the global scope cannot open one (a Worker);
    /// `ERR_POPUP_BLOCKED` when the browser opened none.
    pub fn open(features: &str) -> Result<Popup> {
        let global = js_sys::global();
        if !Reflect::get(&global, &"open".into()).is_ok_and(|f| f.is_function()) {
            return Err(Error::arg("loginPopup", "needs a page that can open popups; in a Worker use startLogin()").into());
        }
        match call(&global, "open", &[&"about:blank".into(), &"_blank".into(), &features.into()]) {
            Ok(handle) if handle.is_object() => Ok(Popup { handle }),
            Ok(_) => Err(Error::PopupBlocked.into()),
            Err(cause) => Err(BrowserError { error: Error::PopupBlocked, cause: Some(cause) }),
        }
    }

    fn closed(&self) -> bool {
        Reflect::get(&self.handle, &"closed".into()).ok().and_then(|c| c.as_bool()).unwrap_or(true)
    }

    fn navigate(&self, url: &str) -> Result<()> {
        Reflect::set(&self.handle, &"location".into(), &url.into())
            .map(|_| ())
            .map_err(|cause| BrowserError { error: Error::PopupClosed, cause: Some(cause) })
    }

    /// Closes the popup (nothing when it is closed already).
    pub fn close(&self) {
        let _ = call(&self.handle, "close", &[]);
    }
}

/// How the wait for the popup ended.
#[derive(Debug)]
enum Outcome {
    Callback(String),
    Closed,
    TimedOut,
    Aborted,
}

/// Runs a popup login in `popup` (from [`Popup::open`]) and resolves to the session.
///
/// # Errors
/// `ERR_POPUP_CLOSED`, `ERR_POPUP_TIMEOUT` (with `timeout`), `ERR_CANCELLED` (the signal), and
/// whatever [`Client::start_login`] and [`Client::finish_login`] refuse with. On every error the
/// popup is closed and the pending login and its key are gone.
pub async fn login(
    client: &Client,
    popup: Popup,
    options: &LoginOptions,
    timeout_ms: u32,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<SessionRecord> {
    let (url, state, key_id) = match client.start_login(options).await {
        Ok(started) => started,
        Err(e) => {
            popup.close();
            return Err(e);
        }
    };
    let outcome = match database::put_text(PENDING_STORE, &mark(&state), "1").await.and_then(|()| popup.navigate(&url)) {
        Ok(()) => Ok(wait(&popup, &state, timeout_ms, signal).await),
        Err(e) => Err(e),
    };
    let _ = database::delete_in(PENDING_STORE, &mark(&state)).await;
    popup.close();
    let result = match outcome {
        Ok(Outcome::Callback(callback)) => client.finish_login(&callback).await,
        Ok(Outcome::Closed) => Err(Error::PopupClosed.into()),
        Ok(Outcome::TimedOut) => Err(Error::PopupTimeout { timeout_ms }.into()),
        Ok(Outcome::Aborted) => Err(Error::Cancelled.into()),
        Err(e) => Err(e),
    };
    if result.is_err() {
        // A refused login is gone already; one that was not finished (closed, timed out,
        // aborted, or the OP unreachable) cannot be finished later by anyone: forget it.
        let _ = database::delete_in(PENDING_STORE, &state).await;
        let _ = DpopKeyPair::delete(&key_id).await;
    }
    result
}

/// Waits for the popup's callback, its closing, the timeout or the signal, whichever comes first;
/// then removes every listener and timer.
async fn wait(popup: &Popup, state: &str, timeout_ms: u32, signal: Option<&web_sys::AbortSignal>) -> Outcome {
    let outcome: Rc<RefCell<Option<Outcome>>> = Rc::new(RefCell::new(None));
    let resolve: Rc<RefCell<Option<Function>>> = Rc::new(RefCell::new(None));
    let done = js_sys::Promise::new(&mut |res, _| *resolve.borrow_mut() = Some(res));
    let settle = {
        let (outcome, resolve) = (Rc::clone(&outcome), Rc::clone(&resolve));
        Rc::new(move |o: Outcome| {
            if let Some(res) = resolve.borrow_mut().take() {
                *outcome.borrow_mut() = Some(o);
                let _ = res.call0(&JsValue::UNDEFINED);
            }
        })
    };
    // A hand-back message: the callback URL of this login (its state), from this origin.
    let accept = {
        let (settle, state) = (Rc::clone(&settle), state.to_owned());
        move |data: &JsValue| {
            if string_prop(data, "kind") != MESSAGE_KIND {
                return;
            }
            let url = string_prop(data, "url");
            if oauth::parse_callback(&url).state.as_deref() == Some(state.as_str()) {
                settle(Outcome::Callback(url));
            }
        }
    };
    let global = js_sys::global();
    let origin = own_origin();
    let on_message = {
        let (accept, source) = (accept.clone(), popup.handle.clone());
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            // Exactly our origin, and from the popup we opened.
            let from_popup = e.source().is_some_and(|s| js_sys::Object::is(&s, &source));
            if e.origin() == origin && from_popup {
                accept(&e.data());
            }
        })
    };
    let _ = call(&global, "addEventListener", &[&"message".into(), on_message.as_ref()]);
    let channel = web_sys::BroadcastChannel::new(CHANNEL).ok();
    let on_channel = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| accept(&e.data()));
    if let Some(c) = &channel {
        c.set_onmessage(Some(on_channel.as_ref().unchecked_ref()));
    }
    // Closed by the user: seen closed on two polls in a row, so that a hand-back posted just
    // before the popup closed itself is taken first.
    let on_poll = {
        let (settle, handle, seen) = (Rc::clone(&settle), Popup { handle: popup.handle.clone() }, Cell::new(false));
        Closure::<dyn FnMut()>::new(move || {
            if handle.closed() {
                if seen.replace(true) {
                    settle(Outcome::Closed);
                }
            } else {
                seen.set(false);
            }
        })
    };
    let interval = call(&global, "setInterval", &[on_poll.as_ref(), &JsValue::from(POLL_MS)]).unwrap_or(JsValue::UNDEFINED);
    let on_timeout = {
        let settle = Rc::clone(&settle);
        Closure::<dyn FnMut()>::new(move || settle(Outcome::TimedOut))
    };
    let timer = call(&global, "setTimeout", &[on_timeout.as_ref(), &JsValue::from(timeout_ms)]).unwrap_or(JsValue::UNDEFINED);
    let on_abort = {
        let settle = Rc::clone(&settle);
        Closure::<dyn FnMut()>::new(move || settle(Outcome::Aborted))
    };
    if let Some(signal) = signal {
        if signal.aborted() {
            settle(Outcome::Aborted);
        } else {
            let _ = call(signal, "addEventListener", &[&"abort".into(), on_abort.as_ref()]);
        }
    }

    let _ = JsFuture::from(done).await;

    let _ = call(&global, "removeEventListener", &[&"message".into(), on_message.as_ref()]);
    if let Some(c) = &channel {
        c.set_onmessage(None);
        c.close();
    }
    let _ = call(&global, "clearInterval", &[&interval]);
    let _ = call(&global, "clearTimeout", &[&timer]);
    if let Some(signal) = signal {
        let _ = call(signal, "removeEventListener", &[&"abort".into(), on_abort.as_ref()]);
    }
    // The closures are dropped here, after nothing can call them any more.
    drop((on_message, on_channel, on_poll, on_timeout, on_abort));
    let taken = outcome.borrow_mut().take();
    taken.unwrap_or(Outcome::Closed)
}

/// The redirect page's side: when `url` (the page's location) is the callback of a popup login
/// started by this origin, hands it to the opener (`postMessage` to this origin only, and the
/// origin's `BroadcastChannel`), closes the popup and returns `true`. Otherwise returns `false`
/// and touches nothing: the page finishes a redirect login as usual.
///
/// # Errors
/// `ERR_KEY_STORE*` (the pending store could not be read).
pub async fn hand_back(url: &str) -> Result<bool> {
    let Some(state) = oauth::parse_callback(url).state.filter(|s| !s.is_empty() && s.len() <= 256) else {
        return Ok(false);
    };
    if database::get_text(PENDING_STORE, &mark(&state), false).await?.is_none() {
        return Ok(false);
    }
    let message: JsValue = object(&[("kind", MESSAGE_KIND.into()), ("url", url.into())]).into();
    if let Some(opener) = global_prop("opener") {
        // Only to a page of our own origin; a cross-origin opener gets nothing.
        let _ = call(&opener, "postMessage", &[&message, &own_origin().into()]);
    }
    if let Ok(channel) = web_sys::BroadcastChannel::new(CHANNEL) {
        let _ = channel.post_message(&message);
        channel.close();
    }
    let _ = call(&js_sys::global(), "close", &[]);
    Ok(true)
}
