//! keybound: key-bound OpenID Connect for the browser.
//!
//! A client makes a non-extractable WebCrypto ECDSA P-256 key, sends its RFC 7638 thumbprint as
//! `dpop_jkt` with the `bound_key` scope, proves possession at the token endpoint with a DPoP
//! proof (RFC 9449) carrying `c_s256`, and receives an ID Token bound to that key
//! (OpenID Connect Key Binding 1.0).
//!
//! Layers, with dependencies pointing one way (`bindings → browser → protocol`):
//! - [`protocol`]: pure, sans-IO Rust (JOSE, JWK, DPoP, PKCE), tested natively;
//! - `browser` (wasm32 only): WebCrypto and IndexedDB, in a Window or a Worker;
//! - `bindings` (wasm32 only): the `#[wasm_bindgen]` facade for JavaScript.
//!
//! The `native` feature adds a RustCrypto signer and verifier (`native` module).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, clippy::dbg_macro, clippy::todo, clippy::unimplemented)]

pub mod error;
pub mod protocol;

#[cfg(feature = "native")]
pub mod native;

#[cfg(target_arch = "wasm32")]
pub mod browser;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod bindings;

pub use error::{Error, ErrorCode, Result};
