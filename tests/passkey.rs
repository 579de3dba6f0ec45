//! Passkey-nonce binding, protocol side: commitments, the signing challenge, DER conversion, and
//! every WebAuthn assertion check with a negative test asserting its code. The authenticator is
//! simulated in software (a P-256 key); vectors recorded from a browser's virtual authenticator
//! come with the browser work.
#![cfg(all(feature = "native", not(target_arch = "wasm32")))]

use keybound::native::block_on;
use keybound::native::{Es256Signer, NativeVerifier};
use keybound::protocol::b64;
use keybound::protocol::crypto::Signer;
use keybound::protocol::passkey::{self, Assertion, AssertionCheck, NonceMode};
use keybound::ErrorCode;
use sha2::{Digest, Sha256};

/// DER `SEQUENCE { INTEGER r, INTEGER s }` from a raw `r || s` (test-side encoder).
fn der(raw: &[u8]) -> Vec<u8> {
    let int = |x: &[u8]| {
        let mut x: Vec<u8> = x.iter().copied().skip_while(|b| *b == 0).collect();
        if x.is_empty() || x[0] & 0x80 != 0 {
            x.insert(0, 0);
        }
        let mut out = vec![0x02, x.len() as u8];
        out.extend(x);
        out
    };
    let (r, s) = raw.split_at(raw.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

const ORIGIN: &str = "http://localhost:8080";
/// The consumer request a passkey signature is made for.
const HTM: &str = "POST";
const HTU: &str = "https://api.example.com/v1/pay";
const RP_ID: &str = "localhost";

struct Authenticator {
    key: Es256Signer,
}

impl Authenticator {
    fn new(seed: u8) -> Self {
        Authenticator { key: Es256Signer::from_scalar(&[seed; 32]).unwrap() }
    }
    fn assert(&self, challenge: &[u8], rp_id: &str, flags: u8, count: u32, typ: &str, origin: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let cdj = format!(r#"{{"type":"{typ}","challenge":"{}","origin":"{origin}","crossOrigin":false}}"#, b64::encode(challenge));
        self.assert_cdj(rp_id, flags, count, &cdj)
    }
    /// An assertion over a given clientDataJSON.
    fn assert_cdj(&self, rp_id: &str, flags: u8, count: u32, cdj: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let cdj = cdj.as_bytes().to_vec();
        let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend(count.to_be_bytes());
        let mut signed = data.clone();
        signed.extend(Sha256::digest(&cdj));
        (data, cdj, der(&self.key.sign_sync(&signed)))
    }
}

fn check(challenge: &[u8]) -> AssertionCheck<'_> {
    AssertionCheck {
        challenge,
        origins: &[ORIGIN],
        rp_id: RP_ID,
        require_user_verification: true,
        previous_sign_count: 0,
        top_origins: &[],
    }
}

/// The P-256 group order n, big-endian (SEC 2 §2.4.2).
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
    0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// The other valid ECDSA signature over the same data: (r, n - s), as anyone can make from a
/// signature without the key (test-side big-endian subtraction).
fn malleate(der_sig: &[u8]) -> Vec<u8> {
    let mut raw = passkey::der_to_raw_ecdsa(der_sig, 32).unwrap();
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(P256_N[i]) - i16::from(raw[32 + i]) - borrow;
        raw[32 + i] = d.rem_euclid(256) as u8;
        borrow = i16::from(d < 0);
    }
    der(&raw)
}

#[test]
fn commitments_plain_and_salted_are_distinct() {
    let jkt = "mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0";
    assert_eq!(passkey::commitment(NonceMode::Plain, jkt, None).unwrap(), jkt);
    let salt = [7u8; 32];
    let salted = passkey::commitment(NonceMode::Salted, jkt, Some(&salt)).unwrap();
    assert_eq!(salted.len(), 43);
    assert_ne!(salted, jkt, "a salted nonce does not reveal the thumbprint");
    assert_eq!(salted, passkey::commitment(NonceMode::Salted, jkt, Some(&salt)).unwrap(), "deterministic");
    assert_ne!(salted, passkey::commitment(NonceMode::Salted, jkt, Some(&[8u8; 32])).unwrap(), "the salt matters");
    // Plain-vs-salted confusion: a plain nonce is never the salted commitment of the same key.
    assert_ne!(passkey::commitment(NonceMode::Plain, jkt, None).unwrap(), salted);
    assert_eq!(passkey::commitment(NonceMode::Salted, jkt, Some(&[1u8; 16])).unwrap_err().code(), ErrorCode::InvalidArgument);
    assert_eq!(passkey::commitment(NonceMode::Plain, jkt, Some(&salt)).unwrap_err().code(), ErrorCode::InvalidArgument);
}

#[test]
fn signing_challenges_are_unambiguous() {
    let a = passkey::signing_challenge("t", b"message", None, HTM, HTU).unwrap();
    assert_eq!(a, passkey::signing_challenge("t", b"message", None, HTM, HTU).unwrap());
    assert_ne!(a, passkey::signing_challenge("t", b"message", Some("n"), HTM, HTU).unwrap());
    assert_ne!(
        passkey::signing_challenge("ab", b"c", None, HTM, HTU).unwrap(),
        passkey::signing_challenge("a", b"bc", None, HTM, HTU).unwrap(),
        "length-prefixed"
    );
    assert_ne!(a, passkey::signing_challenge("t", b"message", None, "GET", HTU).unwrap(), "method");
    assert_ne!(a, passkey::signing_challenge("t", b"message", None, HTM, "https://api.example.com/v1/pa").unwrap(), "URL");
    assert_eq!(a, passkey::signing_challenge("t", b"message", None, "post", "https://api.example.com/v1/pay?q#f").unwrap(), "normalized");
    // The nonce and the method are length-prefixed too: moving a byte between them changes it.
    assert_ne!(
        passkey::signing_challenge("t", b"m", Some("nP"), "OST", HTU).unwrap(),
        passkey::signing_challenge("t", b"m", Some("n"), "POST", HTU).unwrap()
    );
    assert_eq!(passkey::signing_challenge("t", b"m", None, "", HTU).unwrap_err().code(), ErrorCode::InvalidArgument);
    assert_eq!(passkey::signing_challenge("t", b"m", None, HTM, "javascript:alert(1)").unwrap_err().code(), ErrorCode::UrlInvalid);
}

#[test]
fn der_signatures_convert_to_raw_and_malformed_ones_are_refused() {
    let raw: Vec<u8> = (1..=64).collect();
    assert_eq!(passkey::der_to_raw_ecdsa(&der(&raw), 32).unwrap(), raw);
    let mut high = raw.clone();
    high[0] = 0xff; // r needs a leading zero in DER
    high[32] = 0x00; // s has a leading zero byte in raw: shorter in DER
    assert_eq!(passkey::der_to_raw_ecdsa(&der(&high), 32).unwrap(), high);
    for bad in [
        vec![0x31, 0x00],
        vec![0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01],
        vec![0x30, 0x08, 0x02, 0x02, 0x00, 0x01, 0x02, 0x02, 0x00, 0x01],
        vec![],
    ] {
        assert_eq!(passkey::der_to_raw_ecdsa(&bad, 32).unwrap_err().code(), ErrorCode::WebAuthnInvalid, "{bad:?}");
    }
}

#[test]
fn a_software_passkey_assertion_verifies_and_every_check_refuses_with_its_code() {
    let auth = Authenticator::new(11);
    let jwk = auth.key.public_jwk().clone();
    let challenge = passkey::signing_challenge("id.token.here", b"transfer 10 EUR", Some("cn-1"), HTM, HTU).unwrap();
    let ok = |data: &[u8], cdj: &[u8], sig: &[u8], c: &AssertionCheck<'_>| {
        block_on(passkey::verify_assertion(
            &jwk,
            &Assertion { authenticator_data: data, client_data_json: cdj, signature: sig },
            c,
            &NativeVerifier,
        ))
    };
    let (data, cdj, sig) = auth.assert(&challenge, RP_ID, 0x05, 7, "webauthn.get", ORIGIN);
    assert_eq!(ok(&data, &cdj, &sig, &check(&challenge)).unwrap(), 7, "returns the new sign count");

    let refuse = |(data, cdj, sig): (Vec<u8>, Vec<u8>, Vec<u8>), c: &AssertionCheck<'_>| ok(&data, &cdj, &sig, c).unwrap_err().code();
    let other = passkey::signing_challenge("id.token.here", b"transfer 10000 EUR", Some("cn-1"), HTM, HTU).unwrap();
    let cases = [
        (
            "registration response",
            ErrorCode::WebAuthnType,
            refuse(auth.assert(&challenge, RP_ID, 0x05, 7, "webauthn.create", ORIGIN), &check(&challenge)),
        ),
        (
            "assertion for another challenge",
            ErrorCode::WebAuthnChallenge,
            refuse(auth.assert(&other, RP_ID, 0x05, 7, "webauthn.get", ORIGIN), &check(&challenge)),
        ),
        (
            "wrong origin",
            ErrorCode::WebAuthnOrigin,
            refuse(auth.assert(&challenge, RP_ID, 0x05, 7, "webauthn.get", "http://evil.localhost:8080"), &check(&challenge)),
        ),
        (
            "wrong rpId",
            ErrorCode::WebAuthnRpId,
            refuse(auth.assert(&challenge, "evil.example", 0x05, 7, "webauthn.get", ORIGIN), &check(&challenge)),
        ),
        (
            "missing UP flag",
            ErrorCode::WebAuthnUserPresence,
            refuse(auth.assert(&challenge, RP_ID, 0x04, 7, "webauthn.get", ORIGIN), &check(&challenge)),
        ),
        (
            "UV required, not done",
            ErrorCode::WebAuthnUserVerification,
            refuse(auth.assert(&challenge, RP_ID, 0x01, 7, "webauthn.get", ORIGIN), &check(&challenge)),
        ),
        (
            "signature by another key",
            ErrorCode::JwsSignatureInvalid,
            refuse(Authenticator::new(12).assert(&challenge, RP_ID, 0x05, 7, "webauthn.get", ORIGIN), &check(&challenge)),
        ),
        ("tampered clientDataJSON", ErrorCode::JwsSignatureInvalid, {
            let (data, cdj, sig) = auth.assert(&challenge, RP_ID, 0x05, 7, "webauthn.get", ORIGIN);
            let tampered = String::from_utf8(cdj).unwrap().replace("\"crossOrigin\":false", "\"crossOrigin\":false ");
            ok(&data, tampered.as_bytes(), &sig, &check(&challenge)).unwrap_err().code()
        }),
        (
            "sign count went back",
            ErrorCode::WebAuthnSignCount,
            refuse(
                auth.assert(&challenge, RP_ID, 0x05, 7, "webauthn.get", ORIGIN),
                &AssertionCheck { previous_sign_count: 9, ..check(&challenge) },
            ),
        ),
        ("authenticatorData too short", ErrorCode::WebAuthnInvalid, ok(&data[..36], &cdj, &sig, &check(&challenge)).unwrap_err().code()),
        // WebAuthn L3: BS (0x10) without BE (0x08) is invalid.
        (
            "backup state without backup eligibility",
            ErrorCode::WebAuthnInvalid,
            refuse(auth.assert(&challenge, RP_ID, 0x15, 7, "webauthn.get", ORIGIN), &check(&challenge)),
        ),
        (
            "cross-origin iframe (topOrigin)",
            ErrorCode::WebAuthnOrigin,
            refuse(
                auth.assert_cdj(RP_ID, 0x05, 7, &cdj_with(&challenge, r#","crossOrigin":true,"topOrigin":"https://evil.example""#)),
                &check(&challenge),
            ),
        ),
        (
            "topOrigin with crossOrigin false",
            ErrorCode::WebAuthnOrigin,
            refuse(
                auth.assert_cdj(RP_ID, 0x05, 7, &cdj_with(&challenge, r#","crossOrigin":false,"topOrigin":"https://evil.example""#)),
                &check(&challenge),
            ),
        ),
        (
            "topOrigin not the allowed one",
            ErrorCode::WebAuthnOrigin,
            refuse(
                auth.assert_cdj(RP_ID, 0x05, 7, &cdj_with(&challenge, r#","crossOrigin":true,"topOrigin":"https://evil.example""#)),
                &AssertionCheck { top_origins: &["https://portal.example"], ..check(&challenge) },
            ),
        ),
        (
            "crossOrigin true, no topOrigin",
            ErrorCode::WebAuthnOrigin,
            refuse(auth.assert_cdj(RP_ID, 0x05, 7, &cdj_with(&challenge, r#","crossOrigin":true"#)), &check(&challenge)),
        ),
    ];
    for (name, want, got) in cases {
        assert_eq!(got, want, "{name}");
    }
    // Without required UV, UP alone is enough; a zero count is fine when nobody counts.
    let (data, cdj, sig) = auth.assert(&challenge, RP_ID, 0x01, 0, "webauthn.get", ORIGIN);
    assert_eq!(ok(&data, &cdj, &sig, &AssertionCheck { require_user_verification: false, ..check(&challenge) }).unwrap(), 0);
}

fn cdj_with(challenge: &[u8], extra: &str) -> String {
    format!(r#"{{"type":"webauthn.get","challenge":"{}","origin":"{ORIGIN}"{extra}}}"#, b64::encode(challenge))
}

#[test]
fn backup_flags_and_allowed_top_origins_are_accepted() {
    let auth = Authenticator::new(11);
    let jwk = auth.key.public_jwk().clone();
    let challenge = passkey::signing_challenge("id.token.here", b"m", None, HTM, HTU).unwrap();
    let ok = |(data, cdj, sig): (Vec<u8>, Vec<u8>, Vec<u8>), c: &AssertionCheck<'_>| {
        block_on(passkey::verify_assertion(
            &jwk,
            &Assertion { authenticator_data: &data, client_data_json: &cdj, signature: &sig },
            c,
            &NativeVerifier,
        ))
    };
    // BE alone and BE | BS (a synced passkey) are fine.
    assert_eq!(ok(auth.assert(&challenge, RP_ID, 0x0d, 1, "webauthn.get", ORIGIN), &check(&challenge)).unwrap(), 1);
    assert_eq!(ok(auth.assert(&challenge, RP_ID, 0x1d, 1, "webauthn.get", ORIGIN), &check(&challenge)).unwrap(), 1);
    // An explicitly allowed top-level origin may embed the ceremony.
    let embedded = auth.assert_cdj(RP_ID, 0x05, 1, &cdj_with(&challenge, r#","crossOrigin":true,"topOrigin":"https://portal.example""#));
    assert_eq!(ok(embedded, &AssertionCheck { top_origins: &["https://portal.example"], ..check(&challenge) }).unwrap(), 1);
    // Both (r, s) and (r, n - s) verify: the malleated twin is a valid signature, which is why
    // single use is keyed on the signed data (see the presentation tests).
    let (data, cdj, sig) = auth.assert(&challenge, RP_ID, 0x05, 1, "webauthn.get", ORIGIN);
    let twin = malleate(&sig);
    assert_ne!(twin, sig);
    assert_eq!(ok((data, cdj, twin), &check(&challenge)).unwrap(), 1);
}

fn cbor(v: &ciborium::Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).unwrap();
    out
}

#[test]
fn cose_keys_and_attestation_objects_give_the_public_jwk() {
    use ciborium::Value as V;
    let auth = Authenticator::new(11);
    let jwk = auth.key.public_jwk();
    let v = serde_json::from_str::<serde_json::Value>(&jwk.canonical_json()).unwrap();
    let (x, y) = (b64::decode(v["x"].as_str().unwrap(), "x").unwrap(), b64::decode(v["y"].as_str().unwrap(), "y").unwrap());
    let cose = V::Map(vec![
        (V::Integer(1.into()), V::Integer(2.into())),
        (V::Integer(3.into()), V::Integer((-7).into())),
        (V::Integer((-1).into()), V::Integer(1.into())),
        (V::Integer((-2).into()), V::Bytes(x)),
        (V::Integer((-3).into()), V::Bytes(y)),
    ]);
    let cose_bytes = cbor(&cose);
    assert_eq!(passkey::cose_key_to_jwk(&cose_bytes).unwrap().thumbprint(), jwk.thumbprint());
    // An attestation object ("none" format) around it.
    let mut auth_data = Sha256::digest(b"localhost").to_vec();
    auth_data.push(0x45); // UP | UV | AT
    auth_data.extend(0u32.to_be_bytes());
    auth_data.extend([0u8; 16]); // aaguid
    let cred_id = vec![9u8; 20];
    auth_data.extend((cred_id.len() as u16).to_be_bytes());
    auth_data.extend(&cred_id);
    auth_data.extend(&cose_bytes);
    let att = cbor(&V::Map(vec![
        (V::Text("fmt".into()), V::Text("none".into())),
        (V::Text("attStmt".into()), V::Map(vec![])),
        (V::Text("authData".into()), V::Bytes(auth_data.clone())),
    ]));
    let (id, key) = passkey::attestation_public_key(&att).unwrap();
    assert_eq!(id, cred_id);
    assert_eq!(key.thumbprint(), jwk.thumbprint());
    // Refusals.
    assert_eq!(passkey::cose_key_to_jwk(b"\xff\xff").unwrap_err().code(), ErrorCode::WebAuthnInvalid);
    let hmac_key = cbor(&V::Map(vec![(V::Integer(1.into()), V::Integer(4.into()))]));
    assert_eq!(passkey::cose_key_to_jwk(&hmac_key).unwrap_err().code(), ErrorCode::JwkUnsupported);
    auth_data[32] = 0x05; // no AT flag
    let no_at = cbor(&V::Map(vec![(V::Text("authData".into()), V::Bytes(auth_data))]));
    assert_eq!(passkey::attestation_public_key(&no_at).unwrap_err().code(), ErrorCode::WebAuthnInvalid);
}

mod presentation {
    use super::*;
    use keybound::native::HmacNonceKey;
    use keybound::protocol::consumer::{self, AcceptedIssuer, ConsumerPolicy, MemoryReplayStore, NoNonces, ReplayStore};
    use keybound::protocol::consumer::{PasskeyAccepted, PasskeyCheck, PasskeyPresentation};
    use keybound::protocol::id_token::Jwks;
    use keybound::protocol::jwa::Alg;
    use keybound::protocol::jws;

    const OP_D: &str = "M80UlktZOyzxpKL_Jv3D8LfIen1AiK22NHGnbF2iePE";
    const ISS: &str = "https://op.example.com";
    const NOW: i64 = 1_800_000_000;

    fn issuers() -> Vec<AcceptedIssuer> {
        let op = Es256Signer::from_jwk_d(OP_D).unwrap();
        let jwks =
            Jwks::from_json(&format!(r#"{{"keys":[{}]}}"#, op.public_jwk().canonical_json().replacen('{', r#"{"kid":"k1","#, 1))).unwrap();
        vec![AcceptedIssuer { issuer: ISS.into(), jwks, client_ids: vec!["app".into()] }]
    }

    /// Any OP: a plain OIDC ID Token whose nonce is the commitment (no Key Binding needed).
    fn id_token(iss: &str, nonce: &str) -> String {
        let op = Es256Signer::from_jwk_d(OP_D).unwrap();
        let claims = format!(r#"{{"iss":"{iss}","sub":"u1","aud":"app","iat":{NOW},"exp":{},"nonce":"{nonce}"}}"#, NOW + 600);
        let input = jws::signing_input(r#"{"alg":"ES256","kid":"k1"}"#, &claims);
        jws::assemble(&input, &op.sign_sync(input.as_bytes()))
    }

    fn run(
        auth: &Authenticator,
        token: &str,
        mode: NonceMode,
        salt: Option<&[u8]>,
        signed_message: &[u8],
        presented_message: &[u8],
    ) -> keybound::Result<PasskeyAccepted> {
        run_at(auth, token, mode, salt, (signed_message, HTM, HTU), (presented_message, HTM, HTU))
    }

    /// As `run`, with the (message, method, URL) the passkey signed and the ones the consumer sees.
    fn run_at(
        auth: &Authenticator,
        token: &str,
        mode: NonceMode,
        salt: Option<&[u8]>,
        (signed_message, signed_htm, signed_htu): (&[u8], &str, &str),
        (presented_message, htm, htu): (&[u8], &str, &str),
    ) -> keybound::Result<PasskeyAccepted> {
        let challenge = passkey::signing_challenge(token, signed_message, Some("cn-7"), signed_htm, signed_htu).unwrap();
        let (data, cdj, sig) = auth.assert(&challenge, RP_ID, 0x05, 3, "webauthn.get", ORIGIN);
        let jwk = auth.key.public_jwk().clone();
        let p = PasskeyPresentation {
            id_token: token,
            public_jwk: &jwk,
            mode,
            salt,
            message: presented_message,
            consumer_nonce: Some("cn-7"),
            htm,
            htu,
            assertion: Assertion { authenticator_data: &data, client_data_json: &cdj, signature: &sig },
        };
        let check = PasskeyCheck { origins: &[ORIGIN], rp_id: RP_ID, require_user_verification: true, previous_sign_count: 0 };
        let policy = ConsumerPolicy { id_token_algs: vec![Alg::Es256], ..ConsumerPolicy::default() };
        block_on(consumer::verify_passkey_presentation(
            &issuers(),
            &policy,
            &p,
            &check,
            NOW,
            None::<&NoNonces>,
            &NativeVerifier,
            &MemoryReplayStore::new(),
        ))
    }

    struct FailingStore;
    impl ReplayStore for FailingStore {
        async fn check_and_store(&self, _key: &str, _now: i64, _exp: i64) -> keybound::Result<bool> {
            Err(keybound::Error::Network { url: "redis://127.0.0.1:6379".into(), message: "connection refused".into() })
        }
    }

    const CONSUMER: &str = "payments";

    /// The Rust passkey verifier has the JS consumer's steps: the consumer nonce (required with a
    /// nonce key, bound to this consumer, fresh), single use keyed on the signed data (so the
    /// malleated twin of a signature is a replay too), failing closed.
    #[test]
    fn presentations_need_a_fresh_nonce_of_this_consumer_and_are_single_use() {
        let auth = Authenticator::new(23);
        let jwk = auth.key.public_jwk().clone();
        let salt = [3u8; 32];
        let token = id_token(ISS, &passkey::commitment(NonceMode::Salted, &jwk.thumbprint(), Some(&salt)).unwrap());
        let key = HmacNonceKey::new(&[5u8; 32]).unwrap();
        let policy = ConsumerPolicy { id_token_algs: vec![Alg::Es256], consumer_id: CONSUMER.into(), ..ConsumerPolicy::default() };
        let check = PasskeyCheck { origins: &[ORIGIN], rp_id: RP_ID, require_user_verification: true, previous_sign_count: 0 };
        let signed = |nonce: Option<&str>| {
            let challenge = passkey::signing_challenge(&token, b"m", nonce, HTM, HTU).unwrap();
            auth.assert(&challenge, RP_ID, 0x05, 0, "webauthn.get", ORIGIN)
        };
        // Builds the presentation and hands it to one of the verifier setups below.
        let verify = |nonce: Option<&str>,
                      (data, cdj, sig): &(Vec<u8>, Vec<u8>, Vec<u8>),
                      run: &dyn Fn(&PasskeyPresentation<'_>) -> keybound::Result<PasskeyAccepted>| {
            let p = PasskeyPresentation {
                id_token: &token,
                public_jwk: &jwk,
                mode: NonceMode::Salted,
                salt: Some(&salt),
                message: b"m",
                consumer_nonce: nonce,
                htm: HTM,
                htu: HTU,
                assertion: Assertion { authenticator_data: data, client_data_json: cdj, signature: sig },
            };
            run(&p)
        };
        let memory = MemoryReplayStore::new();
        let with_key = |p: &PasskeyPresentation<'_>| {
            block_on(consumer::verify_passkey_presentation(&issuers(), &policy, p, &check, NOW, Some(&key), &NativeVerifier, &memory))
        };
        let code = |r: keybound::Result<PasskeyAccepted>| r.unwrap_err().code();

        let nonce = block_on(consumer::issue_nonce(&key, CONSUMER, NOW - 5)).unwrap();
        let good = signed(Some(&nonce));
        verify(Some(&nonce), &good, &with_key).expect("a fresh nonce of this consumer");
        assert_eq!(code(verify(Some(&nonce), &good, &with_key)), ErrorCode::DpopReplay, "the same assertion again");
        let twin = (good.0.clone(), good.1.clone(), malleate(&good.2));
        assert_eq!(code(verify(Some(&nonce), &twin, &with_key)), ErrorCode::DpopReplay, "its malleated twin");

        assert_eq!(code(verify(None, &signed(None), &with_key)), ErrorCode::DpopNonceRequired, "no nonce");
        let forged = "cn-9f2Kq1x7";
        assert_eq!(code(verify(Some(forged), &signed(Some(forged)), &with_key)), ErrorCode::DpopNonceMismatch, "not ours");
        let other = block_on(consumer::issue_nonce(&key, "another-consumer", NOW)).unwrap();
        assert_eq!(code(verify(Some(&other), &signed(Some(&other)), &with_key)), ErrorCode::DpopNonceMismatch, "another consumer's");
        let stale = block_on(consumer::issue_nonce(&key, CONSUMER, NOW - 3600)).unwrap();
        assert_eq!(code(verify(Some(&stale), &signed(Some(&stale)), &with_key)), ErrorCode::DpopNonceMismatch, "stale");

        // Without a nonce key, `require_nonce` refuses everything; the store still fails closed.
        let strict = ConsumerPolicy { require_nonce: true, ..policy.clone() };
        let no_key = |p: &PasskeyPresentation<'_>| {
            block_on(consumer::verify_passkey_presentation(
                &issuers(),
                &strict,
                p,
                &check,
                NOW,
                None::<&NoNonces>,
                &NativeVerifier,
                &MemoryReplayStore::new(),
            ))
        };
        assert_eq!(code(verify(None, &signed(None), &no_key)), ErrorCode::DpopNonceRequired);
        assert_eq!(code(verify(Some(&nonce), &signed(Some(&nonce)), &no_key)), ErrorCode::DpopNonceMismatch);
        let failing = |p: &PasskeyPresentation<'_>| {
            block_on(consumer::verify_passkey_presentation(&issuers(), &policy, p, &check, NOW, Some(&key), &NativeVerifier, &FailingStore))
        };
        let fresh = block_on(consumer::issue_nonce(&key, CONSUMER, NOW)).unwrap();
        assert_eq!(code(verify(Some(&fresh), &signed(Some(&fresh)), &failing)), ErrorCode::ReplayStoreUnavailable);

        // A request nonce: good for the request the presentation is verified at, not for another.
        let here = consumer::NonceScope::Request { htm: HTM, htu: HTU };
        let scoped = block_on(consumer::issue_scoped_nonce(&key, CONSUMER, here, NOW)).unwrap();
        verify(Some(&scoped), &signed(Some(&scoped)), &with_key).expect("a request nonce for this request");
        let there = consumer::NonceScope::Request { htm: HTM, htu: "https://api.example.com/v1/refund" };
        let elsewhere = block_on(consumer::issue_scoped_nonce(&key, CONSUMER, there, NOW)).unwrap();
        assert_eq!(code(verify(Some(&elsewhere), &signed(Some(&elsewhere)), &with_key)), ErrorCode::DpopNonceMismatch, "for another URL");
    }

    #[test]
    fn salted_and_plain_presentations_verify_and_refusals_carry_codes() {
        let auth = Authenticator::new(21);
        let jkt = auth.key.public_jwk().thumbprint();
        let salt = [3u8; 32];
        let salted = id_token(ISS, &passkey::commitment(NonceMode::Salted, &jkt, Some(&salt)).unwrap());
        let plain = id_token(ISS, &jkt);
        let ok = run(&auth, &salted, NonceMode::Salted, Some(&salt), b"m", b"m").expect("salted");
        assert_eq!((ok.sub.as_str(), ok.passkey_jkt.as_str(), ok.sign_count), ("u1", jkt.as_str(), 3));
        run(&auth, &plain, NonceMode::Plain, None, b"m", b"m").expect("plain");
        let code = |r: keybound::Result<PasskeyAccepted>| r.unwrap_err().code();
        assert_eq!(
            code(run(&auth, &salted, NonceMode::Salted, Some(&[4u8; 32]), b"m", b"m")),
            ErrorCode::PasskeyNonceMismatch,
            "wrong salt"
        );
        assert_eq!(
            code(run(&auth, &plain, NonceMode::Salted, Some(&salt), b"m", b"m")),
            ErrorCode::PasskeyNonceMismatch,
            "plain token as salted"
        );
        assert_eq!(code(run(&auth, &salted, NonceMode::Plain, None, b"m", b"m")), ErrorCode::PasskeyNonceMismatch, "salted token as plain");
        assert_eq!(
            code(run(&Authenticator::new(22), &salted, NonceMode::Salted, Some(&salt), b"m", b"m")),
            ErrorCode::PasskeyNonceMismatch,
            "another passkey"
        );
        let foreign = id_token("https://evil.example", &passkey::commitment(NonceMode::Salted, &jkt, Some(&salt)).unwrap());
        assert_eq!(
            code(run(&auth, &foreign, NonceMode::Salted, Some(&salt), b"m", b"m")),
            ErrorCode::IssuerNotAccepted,
            "ID Token from another issuer"
        );
        assert_eq!(
            code(run(&auth, &salted, NonceMode::Salted, Some(&salt), b"pay 10", b"pay 1000")),
            ErrorCode::WebAuthnChallenge,
            "assertion over another message"
        );
    }

    /// The assertion is bound to the consumer request it was made for, as a DPoP proof is by
    /// `htm`/`htu`: presented to another endpoint or with another method, it is refused.
    #[test]
    fn an_assertion_verifies_only_at_the_endpoint_it_was_made_for() {
        let auth = Authenticator::new(24);
        let jkt = auth.key.public_jwk().thumbprint();
        let salt = [3u8; 32];
        let token = id_token(ISS, &passkey::commitment(NonceMode::Salted, &jkt, Some(&salt)).unwrap());
        let signed = (&b"m"[..], "POST", "https://api.example.com/v1/pay");
        let at = |htm, htu| run_at(&auth, &token, NonceMode::Salted, Some(&salt), signed, (b"m", htm, htu));
        at("POST", "https://api.example.com/v1/pay").expect("the endpoint it was made for");
        // The same request as the consumer may see it: method case, query, default port, host case.
        at("post", "https://API.example.com:443/v1/pay?x=1#f").expect("the same request, normalized");
        for (htm, htu, why) in [
            ("POST", "https://api.example.com/v1/refund", "another path"),
            ("POST", "https://other.example.com/v1/pay", "another host"),
            ("POST", "http://api.example.com/v1/pay", "another scheme"),
            ("PUT", "https://api.example.com/v1/pay", "another method"),
        ] {
            assert_eq!(at(htm, htu).unwrap_err().code(), ErrorCode::WebAuthnChallenge, "{why}");
        }
        // The consumer's own URL and method must be valid: refused with their codes, not mismatched.
        assert_eq!(at("POST", "/v1/pay").unwrap_err().code(), ErrorCode::UrlInvalid);
        assert_eq!(at("PO ST", "https://api.example.com/v1/pay").unwrap_err().code(), ErrorCode::InvalidArgument);
    }
}
