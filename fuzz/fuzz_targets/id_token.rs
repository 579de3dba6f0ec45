//! `id_token::validate` (OIDC Core §3.1.3.7 + Key Binding) and `id_token::check_refreshed`.
//!
//! Input: `selector byte || token text`. The selector picks the check (binding policy, whether a
//! nonce and a `dpop_jkt` are expected). The JWKS and the issuer are the worked example's
//! (tests/vectors/worked_example.json). A verifier that accepts every signature makes every claim check reachable; one
//! that refuses every signature must never accept. Properties: never panics; an accepted token
//! has our issuer, our client_id among trusted audiences, a matching `azp`, is unexpired, has the
//! nonce we sent, and `bound` means `cnf.jwk` has exactly the thumbprint we sent; validating again
//! gives the same result; the real verifier never accepts what the always-ok one refuses;
//! a token is its own valid refresh.
#![no_main]

mod common;

use std::sync::OnceLock;

use keybound::native::{block_on, NativeVerifier};
use keybound::protocol::id_token::{self, BindingPolicy, IdTokenCheck, Jwks};
use keybound::protocol::jwa::Alg;
use keybound::ErrorCode;
use libfuzzer_sys::fuzz_target;

static JWKS: OnceLock<Jwks> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let Ok(token) = std::str::from_utf8(rest) else { return };
    let jwks = JWKS.get_or_init(common::jwks);
    let check = IdTokenCheck {
        issuer: common::ISSUER,
        client_id: common::CLIENT_ID,
        extra_audiences: if sel & 0x10 != 0 { &["other-client"] } else { &[] },
        allowed_algs: if sel & 0x20 != 0 { &[Alg::Es256, Alg::Rs256] } else { Alg::ALL },
        // The worked example's token is fresh at t0+30, its refresh at t0+3020.
        now: common::T0 + [30, 3020, 3600, 7000][usize::from(sel >> 6)],
        clock_skew: 60,
        max_age: 600,
        nonce: (sel & 1 != 0).then_some(common::OIDC_NONCE),
        expected_jkt: (sel & 2 != 0).then_some(common::DPOP_JKT),
        binding: if sel & 4 != 0 { BindingPolicy::Preferred } else { BindingPolicy::Required },
    };
    assert!(block_on(id_token::validate(token, jwks, &check, &common::AlwaysFail)).is_err());
    let r = common::checked(block_on(id_token::validate(token, jwks, &check, &common::AlwaysOk)));
    common::trace("validate (always-ok)", &r);
    let again = block_on(id_token::validate(token, jwks, &check, &common::AlwaysOk));
    assert_eq!(r, again, "validation is not deterministic");
    match &r {
        Ok(v) => {
            if !common::accepted_object(&common::jws_part(token, 0), "JWS header") || !common::accepted_object(&common::jws_part(token, 1), "ID Token claims set") {
                return;
            }
            let c = &v.claims;
            assert_eq!(c.iss, check.issuer);
            assert!(c.aud.iter().any(|a| a == check.client_id));
            assert!(c.aud.iter().all(|a| a == check.client_id || check.extra_audiences.contains(&a.as_str())));
            assert!(c.azp.as_deref().is_none_or(|a| a == check.client_id));
            assert!(c.exp > check.now - check.clock_skew);
            assert!(c.iat <= check.now + check.clock_skew && c.iat >= check.now - check.max_age);
            assert!(!c.sub.is_empty() && c.sub.len() <= 255);
            if let Some(n) = check.nonce {
                assert_eq!(c.nonce.as_deref(), Some(n));
            }
            if v.bound {
                assert_eq!(c.cnf_jkt.as_deref(), check.expected_jkt);
            } else if check.expected_jkt.is_some() {
                assert_eq!(check.binding, BindingPolicy::Preferred);
            }
            if let (Some(expected), Some(jkt)) = (check.expected_jkt, &c.cnf_jkt) {
                assert_eq!(jkt, expected, "accepted a token bound to another key");
            }
            assert!(check.allowed_algs.contains(&v.alg));
            assert!(serde_json::from_str::<serde_json::Value>(&v.claims_json).is_ok());
            id_token::check_refreshed(c, c).expect("a token is its own valid refresh");
            // With real signatures: never more than the always-ok verifier.
            let real = block_on(id_token::validate(token, jwks, &check, &NativeVerifier));
            common::trace("validate (native)", &real);
            if let Ok(real) = real {
                assert_eq!(&real, v);
            }
        }
        Err(e) => assert_ne!(e.code(), ErrorCode::JwsSignatureInvalid, "the always-ok verifier refuses nothing"),
    }
});
