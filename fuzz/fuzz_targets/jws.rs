//! `jws::parse` (compact JWS, RFC 7515 §7.1) with an allow-list and size limits, then
//! `jws::verify` with the embedded `jwk` and the RustCrypto verifier.
//!
//! Input: the token text. Properties: never panics; an accepted token has exactly three parts,
//! its `alg` is on the allow-list, its signing input is the token up to the last dot, and its
//! payload and signature re-encode to the token's parts (strict base64url); a smaller
//! allow-list or smaller limits never accept more; an embedded `jwk` is public and its
//! canonical JSON parses back to the same key.
#![no_main]

mod common;

use keybound::protocol::jwa::Alg;
use keybound::protocol::{b64, jws};
use keybound::ErrorCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let all = common::checked(jws::parse(token, Alg::ALL, jws::Limits::default()));
    common::trace("parse", &all);
    // Nothing is allowed by an empty list.
    assert!(jws::parse(token, &[], jws::Limits::default()).is_err());
    // Narrower allow-list / limits: never accept what the wide one refused.
    let es256 = common::checked(jws::parse(token, &[Alg::Es256], jws::Limits::default()));
    let small = common::checked(jws::parse(token, Alg::ALL, jws::Limits { max_token: 512, max_header: 128 }));
    if all.is_err() {
        assert!(es256.is_err() && small.is_err());
    }
    if let Err(e) = &small {
        if token.len() > 512 {
            assert_eq!(e.code(), ErrorCode::JwsTooLarge);
        }
    }
    let Ok(parsed) = all else { return };
    if !common::accepted_object(&common::jws_part(token, 0), "JWS header") {
        return;
    }
    assert!(token.len() <= jws::Limits::default().max_token);
    assert!(Alg::ALL.contains(&parsed.header.alg));
    if let Ok(p) = &es256 {
        assert_eq!(p.header.alg, Alg::Es256);
    }
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let last_dot = token.rfind('.').expect("three parts");
    assert_eq!(parsed.signing_input(), &token[..last_dot]);
    assert_eq!(b64::encode(parsed.payload_unverified()), parts[1]);
    assert_eq!(b64::encode(parsed.signature()), parts[2]);
    assert!(!parsed.signature().is_empty());
    // Reassembling gives the token back.
    assert_eq!(jws::assemble(parsed.signing_input(), parsed.signature()), token);
    let _ = jws::typ_matches(parsed.header.typ.as_deref(), "dpop+jwt");
    if let Some(jwk) = &parsed.header.jwk {
        let canonical = jwk.canonical_json();
        let again = keybound::protocol::jwk::PublicJwk::from_json(&canonical).expect("canonical JSON of a parsed JWK");
        assert_eq!(&again, jwk);
        assert_eq!(jwk.thumbprint().len(), 43);
        // The embedded key is only ever used if `alg` fits it; run the real verifier.
        let r = common::checked(keybound::native::block_on(jws::verify(&parsed, jwk, &keybound::native::NativeVerifier)));
        common::trace("verify with embedded jwk (native)", &r);
        if r.is_ok() {
            parsed.header.alg.check_key(jwk).expect("verified with a key that does not fit alg");
        }
        let fake = common::checked(keybound::native::block_on(jws::verify(&parsed, jwk, &common::AlwaysOk)));
        assert_eq!(fake.is_ok(), parsed.header.alg.check_key(jwk).is_ok());
        if let Ok(p) = fake {
            assert_eq!(p, parsed.payload_unverified());
        }
    }
});
