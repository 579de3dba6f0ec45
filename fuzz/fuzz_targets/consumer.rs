//! The consumer entry points: `consumer::verify_presentation` (ID Token + DPoP proof,
//! docs/profile.md §2) and `consumer::verify_passkey_presentation` (§4), plus `consumer::claimed`,
//! `EvidenceRecord` and `Counters`, which read hostile presentations for logs.
//!
//! Input: `selector byte || id_token '\n' proof`. The selector picks the policy (legacy `typ`,
//! required nonce), the nonce key, and (bit 7) the passkey path, where the proof is ignored and
//! the recorded Chromium assertion (tests/vectors/passkey_virtual.json) is presented with the
//! fuzzed ID Token. Properties: never panics; the always-failing verifier accepts nothing; an
//! accepted presentation names an accepted issuer and client, a `cnf_jkt` equal to the proof
//! key's thumbprint, and is refused as a replay the second time; the real verifier accepts a
//! subset with the same result; `claimed` agrees with what was accepted; evidence records are
//! JSON with every echoed string capped at 256 characters (+ ellipsis).
#![no_main]

mod common;

use std::sync::OnceLock;

use keybound::native::{block_on, HmacNonceKey, NativeVerifier};
use keybound::protocol::b64;
use keybound::protocol::consumer::{self, AcceptedIssuer, ConsumerPolicy, Counters, EvidenceRecord, MemoryReplayStore, NoNonces, Presentation};
use keybound::protocol::id_token::Jwks;
use keybound::protocol::jwk::PublicJwk;
use keybound::protocol::consumer::{PasskeyAccepted, PasskeyCheck, PasskeyPresentation};
use keybound::protocol::passkey::{Assertion, NonceMode};
use keybound::ErrorCode;
use libfuzzer_sys::fuzz_target;

const PASSKEY: &str = include_str!("../../tests/vectors/passkey_virtual.json");

struct Fixture {
    issuers: Vec<AcceptedIssuer>,
    nonce_key: HmacNonceKey,
    pk: serde_json::Value,
    pk_jwk: PublicJwk,
    pk_bytes: [Vec<u8>; 5], // salt, message, authenticator_data, client_data_json, signature
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

fn fixture() -> Fixture {
    let pk: serde_json::Value = serde_json::from_str(PASSKEY).expect("passkey vector");
    let b = |k: &str| b64::decode(pk[k].as_str().expect("string"), "vector").expect("b64");
    Fixture {
        issuers: vec![
            AcceptedIssuer { issuer: common::ISSUER.into(), jwks: common::jwks(), client_ids: vec![common::CLIENT_ID.into()] },
            AcceptedIssuer {
                issuer: pk["issuer"].as_str().expect("issuer").into(),
                jwks: Jwks::from_json(&pk["jwks"].to_string()).expect("jwks"),
                client_ids: vec![pk["client_id"].as_str().expect("client_id").into(), "second-client".into()],
            },
        ],
        nonce_key: HmacNonceKey::new(&[7u8; 32]).expect("key"),
        pk_jwk: PublicJwk::from_json(&pk["public_jwk"].to_string()).expect("jwk"),
        pk_bytes: [b("salt"), b("message"), b("authenticator_data"), b("client_data_json"), b("signature")],
        pk,
    }
}

fn check_record(r: &EvidenceRecord) {
    let json = r.to_json();
    assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok(), "evidence is not JSON: {json}");
    let capped = |s: &str| assert!(s.chars().count() <= 257, "uncapped evidence string ({} chars)", s.chars().count());
    for s in [&r.issuer, &r.subject, &r.azp, &r.jti, &r.cnf_jkt, &r.proof_jkt].into_iter().flatten() {
        capped(s);
    }
    capped(&r.htm);
    capped(&r.htu);
    assert!(r.audience.len() <= 16);
    r.audience.iter().for_each(|a| capped(a));
    Counters::default().count(r);
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let (id_token, proof) = text.split_once('\n').unwrap_or((text, ""));
    let f = FIXTURE.get_or_init(fixture);
    let policy = ConsumerPolicy {
        legacy_typ: sel & 1 != 0,
        require_nonce: sel & 2 != 0,
        consumer_id: if sel & 4 != 0 { "consumer-a".into() } else { String::new() },
        ..ConsumerPolicy::default()
    };
    let key = (sel & 8 != 0).then_some(&f.nonce_key);

    if sel & 0x80 != 0 {
        // The passkey path.
        let [salt, message, authenticator_data, client_data_json, signature] = &f.pk_bytes;
        let p = PasskeyPresentation {
            id_token,
            public_jwk: &f.pk_jwk,
            mode: if sel & 0x10 != 0 { NonceMode::Plain } else { NonceMode::Salted },
            salt: (sel & 0x10 == 0).then_some(salt.as_slice()),
            message,
            consumer_nonce: (sel & 0x20 != 0).then_some(proof).or(f.pk["nonce"].as_str()),
            // The consumer's own request: the recorded one, or the input's second line as the URL.
            htm: f.pk["htm"].as_str().expect("htm"),
            htu: if sel & 0x40 != 0 { proof } else { f.pk["htu"].as_str().expect("htu") },
            assertion: Assertion { authenticator_data, client_data_json, signature },
        };
        let origin = f.pk["origin"].as_str().expect("origin");
        let check = PasskeyCheck { origins: &[origin], rp_id: f.pk["rp_id"].as_str().expect("rp_id"), require_user_verification: true, previous_sign_count: 0 };
        let now = f.pk["now"].as_i64().expect("now");
        let run = |v: &dyn Fn(&MemoryReplayStore) -> keybound::Result<PasskeyAccepted>| v(&MemoryReplayStore::new());
        let fail = run(&|s| block_on(keybound::protocol::consumer::verify_passkey_presentation(&f.issuers, &policy, &p, &check, now, key, &common::AlwaysFail, s)));
        assert!(fail.is_err());
        let r = common::checked(run(&|s| block_on(keybound::protocol::consumer::verify_passkey_presentation(&f.issuers, &policy, &p, &check, now, key, &common::AlwaysOk, s))));
        common::trace("passkey presentation (always-ok)", &r);
        if let Ok(a) = &r {
            assert!(f.issuers.iter().any(|i| i.issuer == a.iss && a.aud.iter().all(|x| i.client_ids.contains(x))));
            assert_eq!(a.passkey_jkt, f.pk_jwk.thumbprint());
            let real = run(&|s| block_on(keybound::protocol::consumer::verify_passkey_presentation(&f.issuers, &policy, &p, &check, now, key, &NativeVerifier, s)));
            common::trace("passkey presentation (native)", &real);
            if let Ok(real) = real {
                assert_eq!(&real, a);
            }
        }
        check_record(&EvidenceRecord::passkey("consumer-a", "fuzz", &p, now, &r));
        return;
    }

    let presentation = Presentation { id_token, proof, htm: "POST", htu: "https://api.app.example.com/v1/session" };
    let now = common::T0 + 3015;
    let with = |s: &MemoryReplayStore, which: u8| match (which, key) {
        (0, Some(k)) => block_on(consumer::verify_presentation(&f.issuers, &policy, &presentation, now, Some(k), &common::AlwaysOk, s)),
        (0, None) => block_on(consumer::verify_presentation(&f.issuers, &policy, &presentation, now, None::<&NoNonces>, &common::AlwaysOk, s)),
        (1, Some(k)) => block_on(consumer::verify_presentation(&f.issuers, &policy, &presentation, now, Some(k), &common::AlwaysFail, s)),
        (1, None) => block_on(consumer::verify_presentation(&f.issuers, &policy, &presentation, now, None::<&NoNonces>, &common::AlwaysFail, s)),
        (_, Some(k)) => block_on(consumer::verify_presentation(&f.issuers, &policy, &presentation, now, Some(k), &NativeVerifier, s)),
        (_, None) => block_on(consumer::verify_presentation(&f.issuers, &policy, &presentation, now, None::<&NoNonces>, &NativeVerifier, s)),
    };
    assert!(with(&MemoryReplayStore::new(), 1).is_err());
    let store = MemoryReplayStore::new();
    let r = common::checked(with(&store, 0));
    common::trace("presentation (always-ok)", &r);
    let claimed = consumer::claimed(&presentation);
    if r.is_ok()
        && !(common::accepted_object(&common::jws_part(id_token, 1), "ID Token claims set")
            && common::accepted_object(&common::jws_part(proof, 1), "DPoP claims set"))
    {
        return;
    }
    if let Ok(a) = &r {
        let issuer = f.issuers.iter().find(|i| i.issuer == a.iss).expect("accepted issuer");
        assert!(!a.aud.is_empty() && a.aud.iter().all(|x| issuer.client_ids.contains(x)));
        assert!(a.azp.as_ref().is_none_or(|x| issuer.client_ids.contains(x)));
        assert_eq!(a.cnf_jkt.len(), 43);
        assert!(a.proof_iat >= now - policy.proof_max_age && a.proof_iat <= now + policy.clock_skew);
        if policy.require_nonce {
            // Without a nonce key a required nonce can never be satisfied.
            assert!(key.is_some());
        }
        assert_eq!(claimed.iss.as_deref(), Some(a.iss.as_str()));
        assert_eq!(claimed.sub.as_deref(), Some(a.sub.as_str()));
        assert_eq!(claimed.cnf_jkt.as_deref(), Some(a.cnf_jkt.as_str()));
        assert_eq!(claimed.proof_jkt.as_deref(), Some(a.cnf_jkt.as_str()));
        assert_eq!(claimed.jti.as_deref(), Some(a.jti.as_str()));
        // Single use.
        let replay = with(&store, 0).expect_err("a replayed presentation was accepted");
        assert_eq!(replay.code(), ErrorCode::DpopReplay);
        let real = with(&MemoryReplayStore::new(), 2);
        common::trace("presentation (native)", &real);
        if let Ok(real) = real {
            assert_eq!(&real, a);
        }
    }
    check_record(&EvidenceRecord::new("consumer-a", "fuzz", &presentation, now, &r));
});
