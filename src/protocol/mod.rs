//! The protocol core: pure Rust, sans-IO. Nothing here depends on the browser or on JS bindings
//! (`tests/layering.rs` enforces it), so everything below is testable natively with `cargo test`.
//!
//! Randomness, time and signatures come from the caller: randomness and time as arguments,
//! signing and verification through the [`crypto::Signer`] and [`crypto::Verifier`] traits.

pub mod b64;
pub mod challenge;
pub(crate) mod claims;
pub mod consumer;
pub mod crypto;
pub mod dpop;
pub mod htu;
pub mod id_token;
pub mod json;
pub mod jwa;
pub mod jwk;
pub mod jws;
pub mod oauth;
pub mod passkey;
pub mod pkce;
pub mod secret;
pub mod session;
