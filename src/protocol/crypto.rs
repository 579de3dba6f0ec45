//! Signing and verification as traits, so the protocol core never touches a crypto backend.
//!
//! They are `async` because WebCrypto is. The browser layer implements them with
//! `crypto.subtle`; the `native` feature implements them with RustCrypto.

use crate::error::Result;
use crate::protocol::jwa::Alg;
use crate::protocol::jwk::PublicJwk;

/// Something that signs JWS signing inputs with one private key.
#[allow(async_fn_in_trait)]
pub trait Signer {
    /// The algorithm this signer produces.
    fn alg(&self) -> Alg;

    /// The public half of the key, as a JWK.
    fn public_jwk(&self) -> &PublicJwk;

    /// Signs `signing_input` and returns the JWS signature bytes (for ECDSA the raw `r || s`,
    /// RFC 7518 §3.4).
    async fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>>;
}

/// Something that verifies JWS signatures.
#[allow(async_fn_in_trait)]
pub trait Verifier {
    /// Verifies `signature` over `signing_input` with `key` under `alg`.
    ///
    /// Callers have already checked that `alg` fits `key` ([`Alg::check_key`]).
    ///
    /// # Errors
    /// `ERR_JWS_SIGNATURE_INVALID` when the signature does not verify; the backend's own errors
    /// when the key cannot be used.
    async fn verify(&self, alg: Alg, key: &PublicJwk, signing_input: &[u8], signature: &[u8]) -> Result<()>;
}
