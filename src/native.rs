//! RustCrypto implementations of [`Signer`] and [`Verifier`], for native tests, the reference
//! OP and Rust backends (feature `native`).
//!
//! Verifies ES256, ES384, RS256/384/512, PS256/384/512 and EdDSA (Ed25519). ES512 is not
//! available natively and is refused with `ERR_JWS_ALG_NOT_ALLOWED`.

use p256::ecdsa::signature::{Signer as _, Verifier as _};
use rsa::{BigUint, RsaPublicKey};
use sha2::{Sha256, Sha384, Sha512};

use crate::error::{Error, Result};
use crate::protocol::b64;
use crate::protocol::crypto::{Signer, Verifier};
use crate::protocol::jwa::Alg;
use crate::protocol::jwk::{EcCurve, PublicJwk};

/// Runs a protocol-core future to completion on the calling thread, without an executor. With
/// the native signers and verifiers (and an in-memory replay store) nothing ever waits, so one
/// poll finishes it: this is how Rust backends, the reference OP and the tests call the async
/// verification API.
///
/// # Panics
/// If the future is not ready after one poll, i.e. something in it really waits (a networked
/// replay store, a timer): that future needs an executor instead.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    match std::pin::pin!(f).as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("keybound::native::block_on: the future waited; run it on an executor"),
    }
}

/// Verifies JWS signatures with RustCrypto.
#[derive(Clone, Copy, Debug, Default)]
pub struct NativeVerifier;

fn invalid_key(reason: &'static str) -> Error {
    Error::JwkInvalid { reason }
}

/// The uncompressed SEC1 encoding `04 || x || y`; the curve type checks the lengths.
fn sec1_point(x: &str, y: &str) -> Result<Vec<u8>> {
    let mut out = vec![4u8];
    out.extend(b64::decode(x, "JWK member")?);
    out.extend(b64::decode(y, "JWK member")?);
    Ok(out)
}

/// Synchronous verification; [`NativeVerifier`] wraps it for the async trait.
///
/// # Errors
/// `ERR_JWS_ALG_KEY_MISMATCH`, `ERR_JWK_INVALID` (not a point on the curve, bad RSA key),
/// `ERR_JWS_ALG_NOT_ALLOWED` (ES512), `ERR_JWS_SIGNATURE_INVALID`.
pub fn verify_signature(alg: Alg, key: &PublicJwk, input: &[u8], signature: &[u8]) -> Result<()> {
    alg.check_key(key)?;
    let ok = match (alg, key) {
        (Alg::Es256, PublicJwk::Ec { x, y, .. }) => {
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1_point(x, y)?).map_err(|_| invalid_key("not a point on P-256"))?;
            let sig = p256::ecdsa::Signature::from_slice(signature).map_err(|_| Error::JwsSignatureInvalid)?;
            vk.verify(input, &sig).is_ok()
        }
        (Alg::Es384, PublicJwk::Ec { x, y, .. }) => {
            let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1_point(x, y)?).map_err(|_| invalid_key("not a point on P-384"))?;
            let sig = p384::ecdsa::Signature::from_slice(signature).map_err(|_| Error::JwsSignatureInvalid)?;
            vk.verify(input, &sig).is_ok()
        }
        (Alg::EdDsa, PublicJwk::Okp { x }) => {
            let bytes: [u8; 32] = b64::decode(x, "JWK member")?.try_into().map_err(|_| invalid_key("Ed25519 key must be 32 bytes"))?;
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| invalid_key("not an Ed25519 point"))?;
            let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| Error::JwsSignatureInvalid)?;
            vk.verify_strict(input, &sig).is_ok()
        }
        (Alg::Rs256 | Alg::Rs384 | Alg::Rs512 | Alg::Ps256 | Alg::Ps384 | Alg::Ps512, PublicJwk::Rsa { n, e }) => {
            let pk = RsaPublicKey::new(
                BigUint::from_bytes_be(&b64::decode(n, "JWK member")?),
                BigUint::from_bytes_be(&b64::decode(e, "JWK member")?),
            )
            .map_err(|_| invalid_key("unusable RSA public key"))?;
            verify_rsa(alg, pk, input, signature)
        }
        (Alg::Es512, _) => return Err(Error::JwsAlgNotAllowed { alg: "ES512".into() }),
        _ => return Err(Error::JwsAlgKeyMismatch { alg: alg.as_str() }),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::JwsSignatureInvalid)
    }
}

fn verify_rsa(alg: Alg, pk: RsaPublicKey, input: &[u8], signature: &[u8]) -> bool {
    use rsa::{pkcs1v15, pss};
    let Ok(pkcs1) = pkcs1v15::Signature::try_from(signature) else { return false };
    let Ok(pss_sig) = pss::Signature::try_from(signature) else { return false };
    match alg {
        Alg::Rs256 => pkcs1v15::VerifyingKey::<Sha256>::new(pk).verify(input, &pkcs1).is_ok(),
        Alg::Rs384 => pkcs1v15::VerifyingKey::<Sha384>::new(pk).verify(input, &pkcs1).is_ok(),
        Alg::Rs512 => pkcs1v15::VerifyingKey::<Sha512>::new(pk).verify(input, &pkcs1).is_ok(),
        Alg::Ps256 => pss::VerifyingKey::<Sha256>::new(pk).verify(input, &pss_sig).is_ok(),
        Alg::Ps384 => pss::VerifyingKey::<Sha384>::new(pk).verify(input, &pss_sig).is_ok(),
        Alg::Ps512 => pss::VerifyingKey::<Sha512>::new(pk).verify(input, &pss_sig).is_ok(),
        _ => false,
    }
}

impl Verifier for NativeVerifier {
    async fn verify(&self, alg: Alg, key: &PublicJwk, signing_input: &[u8], signature: &[u8]) -> Result<()> {
        verify_signature(alg, key, signing_input, signature)
    }
}

/// An ES256 signer over a P-256 private key held in memory.
#[derive(Clone)]
pub struct Es256Signer {
    key: p256::ecdsa::SigningKey,
    jwk: PublicJwk,
}

impl std::fmt::Debug for Es256Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Es256Signer").field("jwk", &self.jwk).field("key", &"[redacted]").finish()
    }
}

impl Es256Signer {
    /// From the 32-byte private scalar.
    ///
    /// # Errors
    /// `ERR_JWK_INVALID` when the scalar is zero or out of range.
    pub fn from_scalar(d: &[u8]) -> Result<Self> {
        let key = p256::ecdsa::SigningKey::from_slice(d).map_err(|_| invalid_key("not a P-256 private scalar"))?;
        let point = key.verifying_key().to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err(invalid_key("not a P-256 private scalar"));
        };
        let jwk = PublicJwk::Ec { crv: EcCurve::P256, x: b64::encode(x), y: b64::encode(y) };
        Ok(Es256Signer { key, jwk })
    }

    /// From the base64url JWK `d` member.
    ///
    /// # Errors
    /// `ERR_BASE64URL_INVALID`, `ERR_JWK_INVALID`.
    pub fn from_jwk_d(d: &str) -> Result<Self> {
        Self::from_scalar(&b64::decode(d, "JWK \"d\"")?)
    }

    /// Signs synchronously; returns the raw 64-byte `r || s`. RFC 6979 deterministic nonces.
    pub fn sign_sync(&self, input: &[u8]) -> Vec<u8> {
        let sig: p256::ecdsa::Signature = self.key.sign(input);
        sig.to_bytes().to_vec()
    }
}

impl Signer for Es256Signer {
    fn alg(&self) -> Alg {
        Alg::Es256
    }

    fn public_jwk(&self) -> &PublicJwk {
        &self.jwk
    }

    async fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>> {
        Ok(self.sign_sync(signing_input))
    }
}

/// An RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signer over an RSA private key held in memory.
#[derive(Clone)]
pub struct Rs256Signer {
    key: rsa::pkcs1v15::SigningKey<Sha256>,
    jwk: PublicJwk,
}

impl std::fmt::Debug for Rs256Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rs256Signer").field("jwk", &self.jwk).field("key", &"[redacted]").finish()
    }
}

impl Rs256Signer {
    /// From a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    ///
    /// # Errors
    /// `ERR_JWK_INVALID` when the PEM is not an RSA private key; `ERR_JWK_WEAK_KEY` under 2048 bits.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self> {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::traits::PublicKeyParts;
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(pem).map_err(|_| invalid_key("not a PKCS#8 RSA private key"))?;
        let public = private.to_public_key();
        let json =
            format!(r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#, b64::encode(public.n().to_bytes_be()), b64::encode(public.e().to_bytes_be()));
        let jwk = PublicJwk::from_json(&json)?;
        Ok(Rs256Signer { key: rsa::pkcs1v15::SigningKey::<Sha256>::new(private), jwk })
    }

    /// Signs synchronously (PKCS#1 v1.5 is deterministic).
    pub fn sign_sync(&self, input: &[u8]) -> Vec<u8> {
        use rsa::signature::{SignatureEncoding, Signer as _};
        self.key.sign(input).to_vec()
    }
}

impl Signer for Rs256Signer {
    fn alg(&self) -> Alg {
        Alg::Rs256
    }

    fn public_jwk(&self) -> &PublicJwk {
        &self.jwk
    }

    async fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>> {
        Ok(self.sign_sync(signing_input))
    }
}

/// An HMAC-SHA-256 key for stateless consumer nonces
/// ([`crate::protocol::consumer::issue_nonce`]).
#[derive(Clone)]
pub struct HmacNonceKey {
    key: Vec<u8>,
}

impl std::fmt::Debug for HmacNonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacNonceKey([redacted])")
    }
}

impl HmacNonceKey {
    /// From secret bytes (at least 32).
    ///
    /// # Errors
    /// `ERR_INVALID_ARGUMENT` for a secret shorter than 32 bytes.
    pub fn new(secret: &[u8]) -> Result<Self> {
        if secret.len() < 32 {
            return Err(Error::arg("nonceSecret", "must be at least 32 bytes"));
        }
        Ok(HmacNonceKey { key: secret.to_vec() })
    }

    fn mac(&self) -> hmac::Hmac<Sha256> {
        use hmac::Mac;
        // HMAC accepts keys of any length.
        hmac::Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length")
    }
}

impl crate::protocol::consumer::NonceKey for HmacNonceKey {
    async fn tag(&self, data: &[u8]) -> Result<Vec<u8>> {
        use hmac::Mac;
        let mut m = self.mac();
        m.update(data);
        Ok(m.finalize().into_bytes().to_vec())
    }

    async fn check(&self, data: &[u8], tag: &[u8]) -> Result<bool> {
        use hmac::Mac;
        let mut m = self.mac();
        m.update(data);
        Ok(m.verify_slice(tag).is_ok())
    }
}
