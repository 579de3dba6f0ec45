//! An ID Token's claims as read from its JSON payload, and the checks that every reader of an
//! ID Token makes, the login (`id_token`) and the consumer alike: `sub` (OIDC Core §2),
//! NumericDates (RFC 7519 §2), `exp`, `iat` and `nbf` against the clock with a skew (OIDC Core
//! §3.1.3.7 steps 9-10, RFC 7519 §4.1.4-4.1.6).
//!
//! Each reader checks the issuer, the audience and the binding its own way, in its own order;
//! the shared parts live here so that the two cannot drift.

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};
use crate::protocol::jwk::RawJwk;

/// `cnf` (RFC 7800 §3.1) as read: a `jwk` object and the `jkt` some OPs add.
#[derive(Deserialize)]
pub(crate) struct RawCnf {
    #[serde(default, deserialize_with = "crate::protocol::json::nested_object")]
    pub(crate) jwk: Option<RawJwk>,
    pub(crate) jkt: Option<serde_json::Value>,
}

/// The claims keybound reads (the payload itself is kept as text for the caller).
#[derive(Deserialize)]
pub(crate) struct RawClaims {
    pub(crate) iss: Option<String>,
    pub(crate) sub: Option<String>,
    pub(crate) aud: Option<Audience>,
    pub(crate) exp: Option<f64>,
    pub(crate) iat: Option<f64>,
    pub(crate) nbf: Option<f64>,
    pub(crate) nonce: Option<String>,
    pub(crate) azp: Option<String>,
    pub(crate) auth_time: Option<f64>,
    /// An `acr` that is not a string is read as absent (it satisfies no requested value), not
    /// as a malformed token.
    pub(crate) acr: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "crate::protocol::json::nested_object")]
    pub(crate) cnf: Option<RawCnf>,
}

/// `aud`: one string or an array (RFC 7519 §4.1.3).
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

// Read as the value comes (`deserialize_any`) instead of by serde's `untagged`, which buffers
// the value first in code of its own.
impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Audience;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Audience, E> {
                Ok(Audience::One(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Audience, A::Error> {
                let mut all = Vec::new();
                while let Some(a) = seq.next_element::<String>()? {
                    all.push(a);
                }
                Ok(Audience::Many(all))
            }
        }
        d.deserialize_any(V)
    }
}

impl Audience {
    pub(crate) fn into_vec(self) -> Vec<String> {
        match self {
            Audience::One(a) => vec![a],
            Audience::Many(v) => v,
        }
    }
}

/// A NumericDate (RFC 7519 §2) as whole seconds; fractions are truncated. A value that is not
/// a finite date from 1970 on is `ERR_ID_TOKEN_CLAIM_MISSING` naming `claim`.
pub(crate) fn numeric_date(v: Option<f64>, claim: &'static str) -> Result<Option<i64>> {
    match v {
        None => Ok(None),
        Some(x) if x.is_finite() && (0.0..9.0e15).contains(&x) => Ok(Some(x.trunc() as i64)),
        Some(_) => Err(Error::IdTokenClaimMissing { claim }),
    }
}

/// The time claims of an ID Token, read: `exp` and `iat` are required.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Times {
    pub(crate) exp: i64,
    pub(crate) iat: i64,
    pub(crate) nbf: Option<i64>,
    pub(crate) auth_time: Option<i64>,
}

impl RawClaims {
    /// Parses an ID Token payload (duplicate members refused, as everywhere).
    pub(crate) fn parse(payload: &[u8]) -> Result<Self> {
        crate::protocol::json::object(payload, "ID Token claims")
    }

    /// `sub`: present, non-empty, at most 255 ASCII characters' worth of bytes (OIDC Core §2).
    pub(crate) fn take_sub(&mut self) -> Result<String> {
        match self.sub.take() {
            Some(sub) if !sub.is_empty() && sub.len() <= 255 => Ok(sub),
            _ => Err(Error::IdTokenClaimMissing { claim: "sub" }),
        }
    }

    /// `aud` as a list; required.
    pub(crate) fn take_aud(&mut self) -> Result<Vec<String>> {
        self.aud.take().map(Audience::into_vec).ok_or(Error::IdTokenClaimMissing { claim: "aud" })
    }

    /// `exp`, `iat`, `nbf` and `auth_time` read as NumericDates; `exp` and `iat` required.
    pub(crate) fn times(&self) -> Result<Times> {
        let missing = |claim| Error::IdTokenClaimMissing { claim };
        Ok(Times {
            exp: numeric_date(self.exp, "exp")?.ok_or(missing("exp"))?,
            iat: numeric_date(self.iat, "iat")?.ok_or(missing("iat"))?,
            nbf: numeric_date(self.nbf, "nbf")?,
            auth_time: numeric_date(self.auth_time, "auth_time")?,
        })
    }
}

impl Times {
    /// Against the clock `now`, with `skew` seconds either way: not expired, `iat` not in the
    /// future (nor older than `iat_max_age` when given), `nbf` not in the future.
    ///
    /// # Errors
    /// `ERR_ID_TOKEN_EXPIRED`, `ERR_ID_TOKEN_IAT_INVALID` naming `iat` or `nbf`.
    pub(crate) fn check(&self, now: i64, skew: i64, iat_max_age: Option<i64>) -> Result<()> {
        if self.exp <= now.saturating_sub(skew) {
            return Err(Error::IdTokenExpired { exp: self.exp, now });
        }
        if self.iat > now.saturating_add(skew) || iat_max_age.is_some_and(|max| self.iat < now.saturating_sub(max)) {
            return Err(Error::IdTokenIatInvalid { claim: "iat" });
        }
        if self.nbf.is_some_and(|nbf| nbf > now.saturating_add(skew)) {
            return Err(Error::IdTokenIatInvalid { claim: "nbf" });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn claims(json: &str) -> RawClaims {
        RawClaims::parse(json.as_bytes()).unwrap()
    }

    #[test]
    fn sub_is_required_non_empty_and_bounded() {
        assert!(claims(r#"{"sub":"alice"}"#).take_sub().is_ok());
        for json in [r#"{}"#, r#"{"sub":""}"#, &format!(r#"{{"sub":"{}"}}"#, "a".repeat(256))] {
            assert!(matches!(claims(json).take_sub(), Err(Error::IdTokenClaimMissing { claim: "sub" })), "{json}");
        }
    }

    #[test]
    fn numeric_dates_are_truncated_and_bounded() {
        assert_eq!(numeric_date(Some(1.9), "exp").unwrap(), Some(1));
        assert!(matches!(numeric_date(Some(-1.0), "exp"), Err(Error::IdTokenClaimMissing { claim: "exp" })));
        assert!(matches!(numeric_date(Some(1e16), "iat"), Err(Error::IdTokenClaimMissing { claim: "iat" })));
        assert!(matches!(claims(r#"{"iat":1}"#).times(), Err(Error::IdTokenClaimMissing { claim: "exp" })));
        assert!(matches!(claims(r#"{"exp":1}"#).times(), Err(Error::IdTokenClaimMissing { claim: "iat" })));
        // Not a number at all: a malformed token, refused when it is read.
        assert!(RawClaims::parse(br#"{"auth_time":"yesterday"}"#).is_err());
    }

    #[test]
    fn times_against_the_clock_with_skew() {
        let t = |exp, iat, nbf| Times { exp, iat, nbf, auth_time: None };
        let now = 1_000_000;
        assert!(t(now + 1, now, None).check(now, 60, Some(600)).is_ok());
        assert!(t(now - 59, now - 100, None).check(now, 60, None).is_ok(), "within the skew");
        assert!(matches!(t(now - 60, now - 100, None).check(now, 60, None), Err(Error::IdTokenExpired { .. })));
        assert!(matches!(t(now + 100, now + 61, None).check(now, 60, None), Err(Error::IdTokenIatInvalid { claim: "iat" })));
        assert!(matches!(t(now + 100, now - 601, None).check(now, 60, Some(600)), Err(Error::IdTokenIatInvalid { claim: "iat" })));
        assert!(t(now + 100, now - 601, None).check(now, 60, None).is_ok(), "no iat age limit for the consumer");
        assert!(matches!(t(now + 100, now, Some(now + 61)).check(now, 60, None), Err(Error::IdTokenIatInvalid { claim: "nbf" })));
    }
}
