//! `b64::decode` / `b64::encode` (strict unpadded base64url, RFC 7515 §2).
//! Properties: decode never panics; whatever decodes re-encodes to exactly the input (no
//! padding, no second spelling of the same bytes); decode(encode(x)) == x for any bytes.
#![no_main]

mod common;

use keybound::protocol::b64;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Any bytes round-trip.
    let enc = b64::encode(data);
    assert!(!enc.contains('='));
    assert!(enc.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(enc.len(), (data.len() * 4).div_ceil(3));
    assert_eq!(b64::decode(&enc, "fuzz").expect("decode(encode(x))"), data);

    // Arbitrary text: strict decode is canonical.
    if let Ok(s) = std::str::from_utf8(data) {
        match common::checked(b64::decode(s, "fuzz")) {
            Ok(bytes) => assert_eq!(b64::encode(&bytes), s, "two spellings of the same bytes"),
            Err(e) => assert_eq!(e.code(), keybound::ErrorCode::Base64UrlInvalid),
        }
    }
});
