//! The `#[wasm_bindgen]` facade: argument decoding, calls into the browser layer, and errors
//! turned into real JavaScript `Error`s. No protocol logic lives here.

pub mod api;
pub mod args;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "consumer")]
pub mod consumer;
pub mod errors;
#[cfg(feature = "client")]
pub mod id_token;
#[cfg(feature = "client")]
pub mod keys;
#[cfg(feature = "client")]
pub mod logout;
#[cfg(feature = "client")]
pub mod lowlevel;
#[cfg(feature = "passkey")]
pub mod passkey;
