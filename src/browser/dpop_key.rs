//! A DPoP key pair held as WebCrypto handles: the private key is non-extractable, the public
//! JWK is exported **once** and the encoded proof header and thumbprint are cached, so a proof
//! costs one claims serialization and one `crypto.subtle.sign`.

use web_sys::{CryptoKey, CryptoKeyPair};

use super::js::{now_secs, Result};
use super::{database, subtle};
use crate::error::Error;
use crate::protocol::b64;
use crate::protocol::crypto::Signer;
use crate::protocol::dpop::{self, DpopHeader, ProofParams, ProofTemplate};
use crate::protocol::jwa::Alg;
use crate::protocol::jwk::PublicJwk;

/// An ES256 DPoP key pair in WebCrypto, optionally persisted in IndexedDB under `id`.
#[derive(Debug, Clone)]
pub struct DpopKeyPair {
    id: String,
    pair: CryptoKeyPair,
    private_key: CryptoKey,
    jwk: PublicJwk,
    header: DpopHeader,
    persisted: bool,
}

impl DpopKeyPair {
    async fn from_pair(id: Option<String>, pair: CryptoKeyPair, persisted: bool) -> Result<Self> {
        let jwk = subtle::export_public_p256(&pair.get_public_key()).await?;
        Self::from_parts(id, pair, jwk, persisted)
    }

    /// A key pair from its WebCrypto pair and its public key (exported once): the proof header
    /// and thumbprint are computed here, once.
    ///
    /// # Errors
    /// `ERR_JWS_ALG_KEY_MISMATCH` when the public key is not P-256.
    pub fn from_parts(id: Option<String>, pair: CryptoKeyPair, jwk: PublicJwk, persisted: bool) -> Result<Self> {
        let header = DpopHeader::new(Alg::Es256, &jwk)?;
        let id = id.unwrap_or_else(|| header.jkt().to_owned());
        Ok(DpopKeyPair { id, private_key: pair.get_private_key(), pair, jwk, header, persisted })
    }

    /// Generates a fresh key pair (private key non-extractable). With `persist`, stores it in
    /// IndexedDB under `id` (default: the key's thumbprint), so it survives a reload. An id that
    /// is already taken is refused: a stored key is never silently replaced.
    ///
    /// # Errors
    /// `ERR_CRYPTO_UNAVAILABLE`, `ERR_CRYPTO_OPERATION`, and with `persist`
    /// `ERR_KEY_EXISTS`, `ERR_KEY_STORE_UNAVAILABLE`, `ERR_KEY_STORE`, `ERR_INVALID_ARGUMENT`.
    pub async fn generate(id: Option<String>, persist: bool) -> Result<Self> {
        let pair = subtle::generate_p256().await?;
        let key = Self::from_pair(id, pair, persist).await?;
        if persist {
            database::add(&key.id, &key.pair, key.header.jkt()).await?;
        }
        Ok(key)
    }

    /// Loads the key pair stored under `id`.
    ///
    /// # Errors
    /// `ERR_KEY_NOT_FOUND`, `ERR_KEY_RECORD_INVALID` (also when the stored thumbprint does not
    /// match the stored key), `ERR_KEY_STORE_UNAVAILABLE`, `ERR_KEY_STORE`, `ERR_CRYPTO_*`.
    pub async fn load(id: &str) -> Result<Self> {
        let stored = database::get(id).await?;
        let key = Self::from_pair(Some(id.to_owned()), stored.pair, true).await?;
        if key.header.jkt() != stored.jkt {
            return Err(Error::KeyRecordInvalid { reason: "stored thumbprint does not match the stored key" }.into());
        }
        Ok(key)
    }

    /// Deletes the key pair stored under `id`; returns whether one existed.
    pub async fn delete(id: &str) -> Result<bool> {
        database::delete(id).await
    }

    /// The id the key is (or would be) stored under.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the key is stored in IndexedDB.
    pub fn persisted(&self) -> bool {
        self.persisted
    }

    /// The RFC 7638 thumbprint: the `dpop_jkt`.
    pub fn jkt(&self) -> &str {
        self.header.jkt()
    }

    /// The public key.
    pub fn public_jwk(&self) -> &PublicJwk {
        &self.jwk
    }

    /// The WebCrypto key pair (the private key is non-extractable).
    pub fn key_pair(&self) -> &CryptoKeyPair {
        &self.pair
    }

    /// Makes a DPoP proof for `params`, with a fresh 128-bit `jti` and the current `iat`.
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT`, `ERR_URL_INVALID`, `ERR_CRYPTO_*`.
    pub async fn proof(&self, params: &ProofParams<'_>) -> Result<String> {
        self.proof_at(params, now_secs()).await
    }

    /// As [`DpopKeyPair::proof`], with an explicit `iat` (for a corrected clock).
    pub async fn proof_at(&self, params: &ProofParams<'_>, iat: i64) -> Result<String> {
        sign_proof(&self.private_key, self.header.encoded(), params, iat).await
    }

    /// The base64url-encoded proof header, computed once for this key.
    pub fn header_encoded(&self) -> &str {
        self.header.encoded()
    }
}

/// The signing input of a new proof for `params`: the cached encoded header, and claims with a
/// fresh 128-bit `jti` and `iat`.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT`, `ERR_URL_INVALID`, `ERR_CRYPTO_*` (randomness).
pub fn proof_input(header_encoded: &str, params: &ProofParams<'_>, iat: i64) -> Result<String> {
    template_input(header_encoded, &ProofTemplate::new(params)?, iat)
}

/// The signing input of a new proof from a prepared template: a fresh 128-bit `jti` and `iat`.
///
/// # Errors
/// `ERR_CRYPTO_*` (randomness).
pub fn template_input(header_encoded: &str, template: &ProofTemplate, iat: i64) -> Result<String> {
    let mut jti = [0u8; 16];
    subtle::fill_random_pooled(&mut jti)?;
    let claims = template.claims(b64::encode(jti), iat)?;
    Ok(dpop::signing_input(header_encoded, &claims)?)
}

/// Makes a DPoP proof with `private_key` and the cached encoded header of its public key: a fresh
/// 128-bit `jti`, the claims, one `crypto.subtle.sign`.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT`, `ERR_URL_INVALID`, `ERR_CRYPTO_*`.
pub async fn sign_proof(private_key: &CryptoKey, header_encoded: &str, params: &ProofParams<'_>, iat: i64) -> Result<String> {
    let input = proof_input(header_encoded, params, iat)?;
    let signature = subtle::sign_es256(private_key, input.as_bytes()).await?;
    Ok(crate::protocol::jws::assemble(&input, &signature))
}

impl Signer for DpopKeyPair {
    fn alg(&self) -> Alg {
        Alg::Es256
    }

    fn public_jwk(&self) -> &PublicJwk {
        &self.jwk
    }

    async fn sign(&self, signing_input: &[u8]) -> crate::Result<Vec<u8>> {
        subtle::sign_es256(&self.private_key, signing_input).await.map_err(|e| e.error)
    }
}
