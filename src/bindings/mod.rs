//! The `#[wasm_bindgen]` facade: argument decoding, calls into the browser layer, and errors
//! turned into real JavaScript `Error`s. No protocol logic lives here.

pub mod api;
pub mod args;
pub mod client;
pub mod consumer;
pub mod errors;
pub mod lowlevel;
pub mod passkey;
