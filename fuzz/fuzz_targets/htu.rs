//! `htu::normalize_htu` (RFC 9449 §4.2 / RFC 3986 §6.2.2-6.2.3), and `oauth::check_issuer` over it.
//! Properties: never panics; the result is an absolute http(s) URI without query or fragment,
//! printable ASCII, and normalizing it again changes nothing (idempotence).
#![no_main]

mod common;

use keybound::protocol::{htu, oauth};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    match common::checked(htu::normalize_htu(input)) {
        Ok(n) => {
            assert!(n.starts_with("https://") || n.starts_with("http://"), "{n:?}");
            assert!(!n.contains(['?', '#']), "{n:?}");
            assert!(n.bytes().all(|b| b.is_ascii_graphic()), "{n:?}");
            let again = htu::normalize_htu(&n).unwrap_or_else(|e| panic!("normalized {input:?} to {n:?}, which is refused: {e}"));
            assert_eq!(again, n, "not idempotent for {input:?}");
            // Case of scheme and host never matters.
            if let Some((scheme, rest)) = input.split_once("://") {
                let upper = format!("{}://{}", scheme.to_ascii_uppercase(), rest);
                let _ = htu::normalize_htu(&upper);
            }
        }
        Err(e) => assert_eq!(e.code(), keybound::ErrorCode::UrlInvalid),
    }
    // An accepted issuer is a normalizable URL.
    if common::checked(oauth::check_issuer(input)).is_ok() {
        assert!(htu::normalize_htu(input).is_ok());
        let _ = oauth::discovery_request(input).expect("discovery_request for a checked issuer");
    }
});
