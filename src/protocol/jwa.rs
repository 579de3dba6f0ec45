//! JWS algorithms (RFC 7518 §3, RFC 8037) and which key each one takes.
//!
//! The algorithm is always checked against the key type and curve; the header's `alg` never
//! decides how a key is interpreted. `none` and the HMAC algorithms are not representable.

use crate::error::{Error, Result};
use crate::protocol::jwk::{EcCurve, PublicJwk};

/// An asymmetric JWS algorithm keybound can sign or verify with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Alg {
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// ECDSA P-384 with SHA-384.
    Es384,
    /// ECDSA P-521 with SHA-512.
    Es512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// RSASSA-PSS with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512.
    Ps512,
    /// EdDSA (Ed25519 here).
    EdDsa,
}

impl Alg {
    /// Every algorithm, strongest default first.
    pub const ALL: &'static [Alg] =
        &[Alg::Es256, Alg::Es384, Alg::Es512, Alg::Rs256, Alg::Rs384, Alg::Rs512, Alg::Ps256, Alg::Ps384, Alg::Ps512, Alg::EdDsa];

    /// The registered JWS name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::Es384 => "ES384",
            Alg::Es512 => "ES512",
            Alg::Rs256 => "RS256",
            Alg::Rs384 => "RS384",
            Alg::Rs512 => "RS512",
            Alg::Ps256 => "PS256",
            Alg::Ps384 => "PS384",
            Alg::Ps512 => "PS512",
            Alg::EdDsa => "EdDSA",
        }
    }

    /// Parses a JWS `alg` name (case-sensitive, RFC 7515 §4.1.1).
    ///
    /// # Errors
    /// `ERR_JWS_ALG_NOT_ALLOWED` for `none`, `HS*`, and anything unknown.
    pub fn from_name(name: &str) -> Result<Alg> {
        Alg::ALL.iter().copied().find(|a| a.as_str() == name).ok_or_else(|| Error::JwsAlgNotAllowed { alg: name.to_owned() })
    }

    /// Checks that `key` is the kind of key this algorithm uses.
    ///
    /// # Errors
    /// `ERR_JWS_ALG_KEY_MISMATCH`.
    pub fn check_key(self, key: &PublicJwk) -> Result<()> {
        let fits = matches!(
            (self, key),
            (Alg::Es256, PublicJwk::Ec { crv: EcCurve::P256, .. })
                | (Alg::Es384, PublicJwk::Ec { crv: EcCurve::P384, .. })
                | (Alg::Es512, PublicJwk::Ec { crv: EcCurve::P521, .. })
                | (Alg::EdDsa, PublicJwk::Okp { .. })
                | (Alg::Rs256 | Alg::Rs384 | Alg::Rs512 | Alg::Ps256 | Alg::Ps384 | Alg::Ps512, PublicJwk::Rsa { .. })
        );
        if fits {
            Ok(())
        } else {
            Err(Error::JwsAlgKeyMismatch { alg: self.as_str() })
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn names_round_trip() {
        for alg in Alg::ALL {
            assert_eq!(Alg::from_name(alg.as_str()).unwrap(), *alg);
        }
    }

    #[test]
    fn none_hmac_unknown_and_wrong_case_are_refused() {
        for name in ["none", "None", "HS256", "HS384", "HS512", "es256", "ES256K", "", "RSA-OAEP"] {
            assert_eq!(Alg::from_name(name).unwrap_err().code(), ErrorCode::JwsAlgNotAllowed, "{name}");
        }
    }
}
