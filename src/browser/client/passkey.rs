//! Passkey-nonce logins: the OIDC `nonce` commits to a registered passkey, and the session signs
//! messages with that passkey for a consumer.

use super::super::js::Result;
use super::super::passkey as browser_passkey;
use super::super::subtle;
use super::Client;
use super::PasskeyBinding;
use crate::error::Error;
use crate::protocol::passkey::NonceMode;

/// A passkey presentation made by [`Client::sign_with_passkey`].
#[cfg(feature = "passkey")]
#[derive(Clone, Debug)]
pub struct PasskeySignature {
    /// The login ID Token (its `nonce` commits to the passkey).
    pub id_token: String,
    /// The passkey's public JWK (canonical JSON).
    pub public_jwk: String,
    /// The binding.
    pub binding: PasskeyBinding,
    /// The credential id, base64url.
    pub credential_id: String,
    /// The assertion.
    pub assertion: browser_passkey::BrowserAssertion,
}

/// Where a passkey signature goes: the consumer's request and the nonce it issued. The
/// assertion verifies only for this method and URL (query and fragment aside).
#[cfg(feature = "passkey")]
#[derive(Clone, Copy, Debug)]
pub struct PasskeyTarget<'a> {
    /// The consumer request's method.
    pub htm: &'a str,
    /// The consumer request's URL.
    pub htu: &'a str,
    /// The consumer's nonce, when it issued one.
    pub consumer_nonce: Option<&'a str>,
}

/// The OIDC `nonce` of a passkey-nonce login and its binding: a commitment to the passkey
/// stored under `name` (plain: its thumbprint; salted: a salted hash of it).
#[cfg(feature = "passkey")]
pub(super) async fn passkey_nonce(name: &str, mode: NonceMode) -> Result<(String, PasskeyBinding)> {
    let stored = browser_passkey::load(name).await?;
    let mut salt = [0u8; 32];
    if mode == NonceMode::Salted {
        subtle::fill_random(&mut salt)?;
    }
    let salt = (mode == NonceMode::Salted).then_some(&salt[..]);
    Ok(PasskeyBinding::commit(name, stored.jwk()?.thumbprint(), mode, salt)?)
}

impl Client {
    /// Signs `message` with the session's passkey: a WebAuthn assertion whose challenge is
    /// `signing_challenge(login ID Token, message, consumer nonce, htm, htu)`. The result carries
    /// what a consumer needs: the ID Token, the public JWK, the mode and salt, and the assertion.
    ///
    /// # Errors
    /// `ERR_NO_SESSION`; `ERR_INVALID_ARGUMENT` when the session has no passkey binding or the
    /// method is not a method token; `ERR_URL_INVALID`; `ERR_CRYPTO_OPERATION` when the user or
    /// browser refuses.
    #[cfg(feature = "passkey")]
    pub async fn sign_with_passkey(&self, message: &[u8], target: &PasskeyTarget<'_>) -> Result<PasskeySignature> {
        // The challenge's inputs are checked before anything is read or the user is asked.
        let challenge_for =
            |id_token: &str| crate::protocol::passkey::signing_challenge(id_token, message, target.consumer_nonce, target.htm, target.htu);
        challenge_for("")?;
        let record = self.session_or_err().await?;
        let binding = record.passkey.clone().ok_or(Error::arg("passkey", "this session was not bound to a passkey at login"))?;
        let stored = browser_passkey::load(&binding.name).await?;
        binding.check_passkey(&stored.jwk()?.thumbprint())?;
        let challenge = challenge_for(&binding.id_token)?;
        let assertion = browser_passkey::assert(&stored, &challenge).await?;
        Ok(PasskeySignature {
            id_token: binding.id_token.clone(),
            public_jwk: stored.public_jwk.clone(),
            binding,
            credential_id: stored.credential_id,
            assertion,
        })
    }
}
