//! `dpop::verify_proof` (RFC 9449 §4.3 + Key Binding `c_s256`) with fuzzed proof strings.
//!
//! Input: `selector byte || proof text`. The selector picks one of the worked example's three
//! checks (token request with `c_s256`, refresh, presentation with `ath` and `nonce`), the
//! allow-list and whether the key's thumbprint is pinned. Properties: never panics; the
//! always-failing verifier accepts nothing; an accepted proof matches `htm`, `htu` (after
//! normalization), the `iat` window, `nonce`, `ath`, `c_s256`, the pinned thumbprint, and its
//! `jkt` is its `jwk`'s thumbprint; the real verifier accepts a subset of what the always-ok one
//! accepts, with the same result.
#![no_main]

mod common;

use keybound::native::{block_on, NativeVerifier};
use keybound::protocol::dpop::{self, ProofCheck};
use keybound::protocol::htu::{normalize_htu, Htu};
use keybound::protocol::jwa::Alg;
use keybound::protocol::pkce;
use keybound::ErrorCode;
use libfuzzer_sys::fuzz_target;

/// The worked example's refreshed ID Token: the `ath` of its presentation proof is over it.
const ID_TOKEN_REFRESHED: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6Im9wLWVzMjU2LTIwMjYtMDkiLCJ0eXAiOiJkcG9wK2lkX3Rva2VuIn0.eyJpc3MiOiJodHRwczovL29wLmV4YW1wbGUuY29tIiwic3ViIjoiMjQ4Mjg5NzYxMDAxIiwiYXVkIjoiczZCaGRSa3F0MyIsImF6cCI6InM2QmhkUmtxdDMiLCJpYXQiOjE3OTAwMDMwMDEsImV4cCI6MTc5MDAwNjYwMSwiYXV0aF90aW1lIjoxNzkwMDAwMDAwLCJjbmYiOnsiandrIjp7Imt0eSI6IkVDIiwiY3J2IjoiUC0yNTYiLCJ4IjoiVjhPa19tWDYtNTFIUzZVREU1Q0I2UmpyZzZxVmtuUTlPUG05SUxIb2oxTSIsInkiOiJodkYtSy10OGFiaUFzLUtTRFFibVpsSE9hX1pfWHQ3YXFRNzBGSHhXNldnIn19fQ.8L2PxhCEs5cHq-ezDbAOe2-8nSrS9a4IF7zTQAhQ4V1EwVfetREP2SD51LwHFUXJHyc8JcoH7niEnemF65MKXw";

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let Ok(proof) = std::str::from_utf8(rest) else { return };
    let t0 = common::T0;
    let htu = |u: &str| Htu::parse(u).expect("a valid htu");
    let (token, session, odd) =
        (htu("https://op.example.com/token"), htu("https://api.app.example.com/v1/session"), htu("HTTPS://Op.Example.com:443/a/../token?x#y"));
    let base = ProofCheck {
        htm: "POST",
        htu: &token,
        now: t0 + 30,
        max_age: 300,
        max_skew: 60,
        allowed_algs: if sel & 0x10 != 0 { &[Alg::Es256] } else { Alg::ALL },
        nonce: None,
        access_token: None,
        code: None,
        expected_jkt: (sel & 0x20 != 0).then_some(common::DPOP_JKT),
    };
    let check = match sel % 4 {
        0 => ProofCheck { code: Some(common::CODE), ..base },
        1 => ProofCheck { now: t0 + 3010, ..base },
        2 => ProofCheck {
            htu: &session,
            now: t0 + 3015,
            nonce: Some("cn-9f2Kq1x7"),
            access_token: Some(ID_TOKEN_REFRESHED),
            ..base
        },
        _ => ProofCheck { htm: "GET", htu: &odd, nonce: Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"), ..base },
    };
    assert!(block_on(dpop::verify_proof(proof, &check, &common::AlwaysFail)).is_err());
    let r = common::checked(block_on(dpop::verify_proof(proof, &check, &common::AlwaysOk)));
    common::trace("verify_proof (always-ok)", &r);
    match &r {
        Ok(v) => {
            if !common::accepted_object(&common::jws_part(proof, 0), "JWS header") || !common::accepted_object(&common::jws_part(proof, 1), "DPoP claims set") {
                return;
            }
            let c = &v.claims;
            assert_eq!(c.htm, check.htm);
            assert_eq!(normalize_htu(&c.htu).ok().as_deref(), Some(check.htu.as_str()));
            assert!(c.iat >= check.now - check.max_age && c.iat <= check.now + check.max_skew);
            assert!(!c.jti.is_empty() && c.jti.len() <= dpop::MAX_JTI_LEN);
            if let Some(n) = check.nonce {
                assert_eq!(c.nonce.as_deref(), Some(n));
            }
            if let Some(t) = check.access_token {
                assert_eq!(c.ath.as_deref(), Some(pkce::s256(t).as_str()));
            }
            if let Some(code) = check.code {
                assert_eq!(c.c_s256.as_deref(), Some(pkce::s256(code).as_str()));
            }
            assert_eq!(v.jkt, v.jwk.thumbprint());
            if let Some(j) = check.expected_jkt {
                assert_eq!(v.jkt, j);
            }
            // The header alg fits the key and is allowed.
            assert!(check.allowed_algs.iter().any(|a| a.check_key(&v.jwk).is_ok()));
            let real = block_on(dpop::verify_proof(proof, &check, &NativeVerifier));
            common::trace("verify_proof (native)", &real);
            if let Ok(real) = real {
                assert_eq!(&real, v);
            }
            // The claims re-serialize into a proof body that parses back to the same claims.
            let input = dpop::signing_input("e30", c).expect("signing input");
            let body = input.split('.').nth(1).expect("two parts");
            let json = keybound::protocol::b64::decode(body, "claims").expect("b64");
            let back: dpop::DpopClaims = serde_json::from_slice(&json).expect("claims JSON");
            assert_eq!(&back, c);
        }
        Err(e) => assert_ne!(e.code(), ErrorCode::JwsSignatureInvalid, "the always-ok verifier refuses nothing"),
    }
});
