//! Public JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037) and their RFC 7638 thumbprints.
//!
//! A [`PublicJwk`] can only hold public key material: parsing rejects any private member, so a
//! value of this type is safe to put in a DPoP header or compare with a `cnf.jwk`. Keys are
//! compared by thumbprint, never by JSON equality (OPs may drop optional members).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::protocol::b64;

/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits (a bound on work, not a strength rule).
pub const MAX_RSA_BITS: usize = 16384;

/// A NIST curve for `kty: "EC"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EcCurve {
    /// P-256 (secp256r1).
    P256,
    /// P-384 (secp384r1).
    P384,
    /// P-521 (secp521r1).
    P521,
}

impl EcCurve {
    /// The JWK `crv` name.
    pub const fn as_str(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
            EcCurve::P521 => "P-521",
        }
    }

    /// Length in bytes of one coordinate.
    pub const fn coordinate_len(self) -> usize {
        match self {
            EcCurve::P256 => 32,
            EcCurve::P384 => 48,
            EcCurve::P521 => 66,
        }
    }
}

/// A public key as a JWK, holding only the members that define the key. The strings are the
/// base64url members exactly as received, checked to decode to the right lengths. Values come
/// only from parsing ([`PublicJwk::from_json`]), so every `PublicJwk` is well-formed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PublicJwk {
    /// `kty: "EC"`.
    #[non_exhaustive]
    Ec {
        /// The curve.
        crv: EcCurve,
        /// The x coordinate, base64url.
        x: String,
        /// The y coordinate, base64url.
        y: String,
    },
    /// `kty: "RSA"`.
    #[non_exhaustive]
    Rsa {
        /// The modulus, base64url (big-endian, minimal).
        n: String,
        /// The public exponent, base64url.
        e: String,
    },
    /// `kty: "OKP"` with `crv: "Ed25519"`.
    #[non_exhaustive]
    Okp {
        /// The public key, base64url (32 bytes).
        x: String,
    },
}

/// A JWK as it arrives on the wire: every member we read or must refuse.
#[derive(Deserialize, Default)]
pub(crate) struct RawJwk {
    kty: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
    d: Option<serde::de::IgnoredAny>,
    p: Option<serde::de::IgnoredAny>,
    q: Option<serde::de::IgnoredAny>,
    dp: Option<serde::de::IgnoredAny>,
    dq: Option<serde::de::IgnoredAny>,
    qi: Option<serde::de::IgnoredAny>,
    oth: Option<serde::de::IgnoredAny>,
    k: Option<serde::de::IgnoredAny>,
    /// `kid`, `alg` and `use`, of any type: a JWKS reads them (and requires strings); a header's
    /// `jwk` or a `cnf.jwk` ignores them. Read here rather than by a JWKS key type that
    /// flattens this one: serde's `flatten` buffers every member first, in code of its own.
    pub(crate) kid: Option<serde_json::Value>,
    pub(crate) alg: Option<serde_json::Value>,
    #[serde(rename = "use")]
    pub(crate) use_: Option<serde_json::Value>,
}

fn required<'a>(v: &'a Option<String>, reason: &'static str) -> Result<&'a str> {
    v.as_deref().ok_or(Error::JwkInvalid { reason })
}

fn coordinate(v: &Option<String>, len: usize, missing: &'static str, bad: &'static str) -> Result<String> {
    let s = required(v, missing)?;
    let bytes = b64::decode(s, "JWK member")?;
    if bytes.len() != len {
        return Err(Error::JwkInvalid { reason: bad });
    }
    Ok(s.to_owned())
}

impl PublicJwk {
    /// Parses a public JWK from JSON text.
    ///
    /// # Errors
    /// `ERR_JSON_INVALID`, `ERR_JWK_PRIVATE_KEY` (any of `d p q dp dq qi oth k`),
    /// `ERR_JWK_UNSUPPORTED` (a `kty`/`crv` other than EC P-256/384/521, RSA, OKP Ed25519),
    /// `ERR_JWK_INVALID` (missing member, wrong length, even RSA exponent), `ERR_JWK_WEAK_KEY` (RSA
    /// under 2048 bits, or exponent under 3),
    /// `ERR_BASE64URL_INVALID`.
    pub fn from_json(json: &str) -> Result<Self> {
        let raw: RawJwk = crate::protocol::json::object(json.as_bytes(), "JWK")?;
        Self::from_raw(raw)
    }

    pub(crate) fn from_raw(raw: RawJwk) -> Result<Self> {
        // RFC 9449 §4.3 step 7 / RFC 7517: a public JWK carries no private member. Checked
        // before anything else so that a private key never gets further than this line.
        let private = [
            ("d", raw.d.is_some()),
            ("p", raw.p.is_some()),
            ("q", raw.q.is_some()),
            ("dp", raw.dp.is_some()),
            ("dq", raw.dq.is_some()),
            ("qi", raw.qi.is_some()),
            ("oth", raw.oth.is_some()),
            ("k", raw.k.is_some()),
        ];
        if let Some((member, _)) = private.iter().find(|(_, present)| *present) {
            return Err(Error::JwkPrivateKey { member });
        }
        let kty = required(&raw.kty, "missing \"kty\"")?;
        match kty {
            "EC" => {
                let crv = match required(&raw.crv, "missing \"crv\"")? {
                    "P-256" => EcCurve::P256,
                    "P-384" => EcCurve::P384,
                    "P-521" => EcCurve::P521,
                    other => return Err(Error::JwkUnsupported { value: other.to_owned() }),
                };
                let len = crv.coordinate_len();
                let x = coordinate(&raw.x, len, "missing \"x\"", "\"x\" has the wrong length for the curve")?;
                let y = coordinate(&raw.y, len, "missing \"y\"", "\"y\" has the wrong length for the curve")?;
                Ok(PublicJwk::Ec { crv, x, y })
            }
            "RSA" => {
                let n_str = required(&raw.n, "missing \"n\"")?;
                let e_str = required(&raw.e, "missing \"e\"")?;
                let n = b64::decode(n_str, "JWK member")?;
                let e = b64::decode(e_str, "JWK member")?;
                // RFC 7518 §6.3.1.1: the modulus is the minimal big-endian encoding.
                if n.first().is_none_or(|b| *b == 0) {
                    return Err(Error::JwkInvalid { reason: "\"n\" is empty or has a leading zero octet" });
                }
                if e.is_empty() || e.len() > 8 || e[0] == 0 {
                    return Err(Error::JwkInvalid { reason: "\"e\" is empty, too long or has a leading zero octet" });
                }
                // RFC 8017 §3.1: e is odd and at least 3. e = 1 makes a "signature" the message
                // itself; an even e is not an RSA exponent at all.
                let e_value = e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
                if e_value < 3 {
                    return Err(Error::JwkWeakKey { reason: "RSA public exponent is under 3" });
                }
                if e_value % 2 == 0 {
                    return Err(Error::JwkInvalid { reason: "RSA public exponent is even" });
                }
                let bits = n.len() * 8 - n[0].leading_zeros() as usize;
                if bits < MIN_RSA_BITS {
                    return Err(Error::JwkWeakKey { reason: "RSA modulus is shorter than 2048 bits" });
                }
                if bits > MAX_RSA_BITS {
                    return Err(Error::JwkInvalid { reason: "RSA modulus is longer than 16384 bits" });
                }
                Ok(PublicJwk::Rsa { n: n_str.to_owned(), e: e_str.to_owned() })
            }
            "OKP" => match required(&raw.crv, "missing \"crv\"")? {
                "Ed25519" => {
                    let x = coordinate(&raw.x, 32, "missing \"x\"", "\"x\" must be 32 bytes for Ed25519")?;
                    Ok(PublicJwk::Okp { x })
                }
                other => Err(Error::JwkUnsupported { value: other.to_owned() }),
            },
            other => Err(Error::JwkUnsupported { value: other.to_owned() }),
        }
    }

    /// The RFC 7638 §3.2 canonical JSON: only the required members, sorted, no whitespace.
    /// It is also a valid JWK, and is what keybound puts in DPoP headers.
    pub fn canonical_json(&self) -> String {
        // Serializing borrowed strings into a Vec cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The public key of an uncompressed SEC1 point (`0x04 || x || y`, SEC 1 §2.3.3), as
    /// WebCrypto's `exportKey("raw")` gives it for an EC public key. The point is not checked to
    /// lie on the curve (nor is a parsed JWK's): it must come from a trusted source such as
    /// WebCrypto.
    ///
    /// # Errors
    /// `ERR_JWK_INVALID` for a point that is not uncompressed or not of the curve's length.
    pub fn from_sec1_point(crv: EcCurve, point: &[u8]) -> Result<Self> {
        let len = crv.coordinate_len();
        match point.split_first() {
            Some((0x04, xy)) if xy.len() == 2 * len => {
                let (x, y) = xy.split_at(len);
                Ok(PublicJwk::Ec { crv, x: b64::encode(x), y: b64::encode(y) })
            }
            _ => Err(Error::JwkInvalid { reason: "not an uncompressed EC point of the curve's length" }),
        }
    }

    /// The RFC 7638 JWK SHA-256 thumbprint, base64url (43 characters). This is the value of
    /// `dpop_jkt` (RFC 9449 §10) and `cnf.jkt`.
    pub fn thumbprint(&self) -> String {
        thumbprint_of(&self.canonical_json())
    }

    /// The RFC 9278 thumbprint URI (`urn:ietf:params:oauth:jwk-thumbprint:sha-256:...`).
    pub fn thumbprint_uri(&self) -> String {
        format!("urn:ietf:params:oauth:jwk-thumbprint:sha-256:{}", self.thumbprint())
    }

    /// Whether two JWKs are the same key (equal thumbprints).
    pub fn same_key(&self, other: &PublicJwk) -> bool {
        self.thumbprint() == other.thumbprint()
    }
}

/// The RFC 7638 thumbprint of a key's canonical JSON ([`PublicJwk::canonical_json`]).
pub(crate) fn thumbprint_of(canonical_json: &str) -> String {
    b64::encode(Sha256::digest(canonical_json.as_bytes()))
}

/// The RFC 7638 members of each key type, in the order they sort (so serialized, they are the
/// canonical JSON).
#[derive(Serialize)]
struct CanonicalEc<'a> {
    crv: &'a str,
    kty: &'a str,
    x: &'a str,
    y: &'a str,
}

#[derive(Serialize)]
struct CanonicalRsa<'a> {
    e: &'a str,
    kty: &'a str,
    n: &'a str,
}

#[derive(Serialize)]
struct CanonicalOkp<'a> {
    crv: &'a str,
    kty: &'a str,
    x: &'a str,
}

/// Serializes as the canonical JSON ([`PublicJwk::canonical_json`]), directly: no JSON text is
/// made and read back.
impl Serialize for PublicJwk {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            PublicJwk::Ec { crv, x, y } => CanonicalEc { crv: crv.as_str(), kty: "EC", x, y }.serialize(serializer),
            PublicJwk::Rsa { n, e } => CanonicalRsa { e, kty: "RSA", n }.serialize(serializer),
            PublicJwk::Okp { x } => CanonicalOkp { crv: "Ed25519", kty: "OKP", x }.serialize(serializer),
        }
    }
}
