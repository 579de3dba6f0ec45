//! Strict base64url as JOSE uses it (RFC 7515 §2): URL-safe alphabet, no padding.
//!
//! Nothing lenient here: padding, the standard alphabet's `+` and `/`, whitespace and
//! non-canonical trailing bits are all rejected.

use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use crate::error::{Error, Result};

const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Encodes bytes as unpadded base64url.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    ENGINE.encode(bytes)
}

/// Decodes unpadded base64url, rejecting padding and non-alphabet bytes.
///
/// # Errors
/// `ERR_BASE64URL_INVALID`, naming `what`.
pub fn decode(input: &str, what: &'static str) -> Result<Vec<u8>> {
    ENGINE.decode(input).map_err(|_| Error::Base64UrlInvalid { what })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn round_trips_every_length() {
        for len in 0..40u8 {
            let bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37).wrapping_add(250)).collect();
            let enc = encode(&bytes);
            assert!(!enc.contains('='));
            assert_eq!(decode(&enc, "x").unwrap(), bytes);
        }
    }

    #[test]
    fn uses_the_url_safe_alphabet() {
        assert_eq!(encode([0xfb, 0xff]), "-_8");
        assert_eq!(decode("-_8", "x").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn rejects_padding_standard_alphabet_whitespace_and_trailing_bits() {
        for bad in ["-_8=", "AQ==", "+/8", "ab cd", "ab\ncd", "A", "AR", "Zm9v!", "QUJD\u{e9}"] {
            let err = decode(bad, "thing").unwrap_err();
            assert_eq!(err.code(), ErrorCode::Base64UrlInvalid, "{bad:?}");
        }
    }
}
