//! `PublicJwk::from_json` (RFC 7517/7518 §6/8037) with RFC 7638 thumbprints, and
//! `id_token::Jwks::from_json` with key selection (`Jwks::select`).
//!
//! Input: JSON text, parsed both as one JWK and as a JWKS; its first byte also picks the
//! `alg`/`kid` of a header to select a key for. Properties: never panics; a parsed key never
//! holds a private member, its canonical JSON parses back to the same key (and is a fixed point),
//! its thumbprint is 43 base64url characters and equal to that of the re-parsed key, Serialize
//! equals the canonical JSON; a selected key fits the header `alg` and has the header `kid`.
#![no_main]

mod common;

use keybound::protocol::id_token::Jwks;
use keybound::protocol::jwa::Alg;
use keybound::protocol::jwk::PublicJwk;
use keybound::protocol::{b64, jws};
use keybound::ErrorCode;
use libfuzzer_sys::fuzz_target;

fn check_key(jwk: &PublicJwk) {
    let canonical = jwk.canonical_json();
    let again = PublicJwk::from_json(&canonical).unwrap_or_else(|e| panic!("canonical JSON {canonical:?} refused: {e}"));
    assert_eq!(&again, jwk);
    assert_eq!(again.canonical_json(), canonical);
    let t = jwk.thumbprint();
    assert_eq!(t.len(), 43);
    assert_eq!(b64::decode(&t, "thumbprint").expect("thumbprint is base64url").len(), 32);
    assert_eq!(again.thumbprint(), t);
    assert!(jwk.same_key(&again));
    assert_eq!(jwk.thumbprint_uri(), format!("urn:ietf:params:oauth:jwk-thumbprint:sha-256:{t}"));
    assert_eq!(serde_json::to_string(jwk).expect("serialize"), canonical);
    // Never a private member in what we would publish.
    let v: serde_json::Value = serde_json::from_str(&canonical).expect("canonical JSON is JSON");
    for m in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        assert!(v.get(m).is_none());
    }
    // Some algorithm fits every parsed key.
    assert!(Alg::ALL.iter().any(|a| a.check_key(jwk).is_ok()));
}

/// A header with this `alg` and `kid`, made the only way outside the crate: by parsing a JWS.
fn header(alg: Alg, kid: Option<&str>) -> Option<jws::Header> {
    let mut h = serde_json::json!({ "alg": alg.as_str() });
    if let Some(kid) = kid {
        h["kid"] = kid.into();
    }
    let token = format!("{}.{}.{}", b64::encode(h.to_string()), b64::encode("{}"), b64::encode("sig"));
    jws::parse(&token, Alg::ALL, jws::Limits::default()).ok().map(|p| p.header)
}

/// Whether parsing got past JSON (accepted, or refused for what the JSON said).
fn past_json<T>(r: &keybound::Result<T>) -> bool {
    !matches!(r, Err(e) if e.code() == ErrorCode::JsonInvalid)
}

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else { return };
    let single = common::checked(PublicJwk::from_json(json));
    common::trace("jwk", &single);
    if past_json(&single) && !common::accepted_object(data, "JWK") {
        return;
    }
    match single {
        Ok(jwk) => {
            check_key(&jwk);
            // The input members that define the key are kept exactly.
            let v: serde_json::Value = serde_json::from_str(json).expect("accepted JSON is JSON");
            for m in ["kty", "crv", "x", "y", "n", "e"] {
                let canon: serde_json::Value = serde_json::from_str(&jwk.canonical_json()).expect("json");
                if let Some(c) = canon.get(m) {
                    assert_eq!(v.get(m), Some(c), "member {m}");
                }
            }
        }
        Err(e) => {
            let private = ["\"d\"", "\"p\"", "\"q\"", "\"dp\"", "\"dq\"", "\"qi\"", "\"oth\"", "\"k\""];
            if e.code() == ErrorCode::JwkPrivateKey {
                assert!(private.iter().any(|m| json.contains(m)) || json.contains('\\'));
            }
        }
    }

    let set = common::checked(Jwks::from_json(json));
    common::trace("jwks", &set);
    if past_json(&set) && !common::accepted_object(data, "JWKS") {
        return;
    }
    let Ok(set) = set else { return };
    assert_eq!(set.is_empty(), set.len() == 0);
    // Select with a header chosen by the input: every alg, with and without a `kid` taken from
    // the document (the first "kid" string value, if any).
    let kid = serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| v.get("keys")?.as_array()?.iter().find_map(|k| k.get("kid")?.as_str().map(str::to_owned)));
    let alg = Alg::ALL[usize::from(data.first().copied().unwrap_or(0)) % Alg::ALL.len()];
    for kid in [None, kid.as_deref()] {
        let Some(h) = header(alg, kid) else { continue };
        match common::checked(set.select(&h)) {
            Ok(k) => {
                alg.check_key(k).expect("selected a key that does not fit alg");
                check_key(k);
            }
            Err(e) => assert_eq!(e.code(), ErrorCode::JwksNoMatchingKey),
        }
    }
});
