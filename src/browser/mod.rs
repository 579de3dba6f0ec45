//! The browser layer (wasm32 only): the one place web-sys, js-sys and wasm-bindgen-futures
//! appear. Everything here works in a Window and in a dedicated Worker, because it reaches the
//! platform through the global scope (`globalThis`), never through `window()`.

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "consumer")]
pub mod consumer;
pub mod database;
pub mod dpop_key;
pub mod http;
pub mod js;
#[cfg(feature = "passkey")]
pub mod passkey;
pub mod platform;
#[cfg(feature = "client")]
pub mod popup;
pub mod subtle;
pub mod verify;

pub use dpop_key::DpopKeyPair;
pub use js::BrowserError;
