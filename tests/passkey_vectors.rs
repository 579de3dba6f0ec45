//! A passkey presentation recorded from Chromium's CDP virtual authenticator (`node
//! e2e/passkey.mjs --record`: a salted passkey login at the reference OP, then
//! `signWithPasskey`), verified natively: the real browser's clientDataJSON, authenticatorData and
//! DER signature, and the reference OP's RS256 ID Token, through
//! `verify_passkey_presentation` with the RustCrypto verifier. Plus refusals on the same data.
#![cfg(all(feature = "native", not(target_arch = "wasm32")))]

use keybound::native::block_on;
use keybound::native::NativeVerifier;
use keybound::protocol::b64;
use keybound::protocol::consumer::{
    self, AcceptedIssuer, ConsumerPolicy, MemoryReplayStore, NoNonces, PasskeyAccepted, PasskeyCheck, PasskeyPresentation,
};
use keybound::protocol::id_token::Jwks;
use keybound::protocol::jwa::Alg;
use keybound::protocol::jwk::PublicJwk;
use keybound::protocol::passkey::{self, Assertion, NonceMode};
use keybound::ErrorCode;
use serde_json::Value;

/// The recorded presentation, decoded.
struct Vector {
    v: Value,
    issuer: String,
    client_id: String,
    id_token: String,
    jwk: PublicJwk,
    mode: NonceMode,
    salt: Option<Vec<u8>>,
    message: Vec<u8>,
    nonce: Option<String>,
    htm: String,
    htu: String,
    authenticator_data: Vec<u8>,
    client_data_json: Vec<u8>,
    signature: Vec<u8>,
    origin: String,
    rp_id: String,
    require_uv: bool,
    now: i64,
}

fn load() -> Vector {
    let v: Value = serde_json::from_str(include_str!("vectors/passkey_virtual.json")).expect("the vector file is JSON");
    let s = |k: &str| v[k].as_str().unwrap_or_else(|| panic!("{k} is a string")).to_owned();
    let bytes = |k: &'static str| b64::decode(v[k].as_str().unwrap_or_else(|| panic!("{k} is a string")), k).unwrap();
    Vector {
        issuer: s("issuer"),
        client_id: s("client_id"),
        id_token: s("id_token"),
        jwk: PublicJwk::from_json(&v["public_jwk"].to_string()).unwrap(),
        mode: match v["mode"].as_str() {
            Some("salted") => NonceMode::Salted,
            Some("plain") => NonceMode::Plain,
            other => panic!("mode {other:?}"),
        },
        salt: v["salt"].as_str().map(|s| b64::decode(s, "salt").unwrap()),
        message: bytes("message"),
        nonce: v["nonce"].as_str().map(str::to_owned),
        htm: s("htm"),
        htu: s("htu"),
        authenticator_data: bytes("authenticator_data"),
        client_data_json: bytes("client_data_json"),
        signature: bytes("signature"),
        origin: s("origin"),
        rp_id: s("rp_id"),
        require_uv: v["require_user_verification"].as_bool().unwrap(),
        now: v["now"].as_i64().unwrap(),
        v,
    }
}

impl Vector {
    fn issuers(&self) -> Vec<AcceptedIssuer> {
        vec![AcceptedIssuer {
            issuer: self.issuer.clone(),
            jwks: Jwks::from_json(&self.v["jwks"].to_string()).unwrap(),
            client_ids: vec![self.client_id.clone()],
        }]
    }

    /// Verifies the recorded presentation with `message` and `origin` in place of the recorded ones.
    fn verify(&self, message: &[u8], origin: &str, previous_sign_count: u32) -> keybound::Result<PasskeyAccepted> {
        self.verify_at(message, origin, previous_sign_count, &self.htm, &self.htu)
    }

    /// As `verify`, presented to the consumer request `htm` `htu`.
    fn verify_at(&self, message: &[u8], origin: &str, previous_sign_count: u32, htm: &str, htu: &str) -> keybound::Result<PasskeyAccepted> {
        let presentation = PasskeyPresentation {
            id_token: &self.id_token,
            public_jwk: &self.jwk,
            mode: self.mode,
            salt: self.salt.as_deref(),
            message,
            consumer_nonce: self.nonce.as_deref(),
            htm,
            htu,
            assertion: Assertion {
                authenticator_data: &self.authenticator_data,
                client_data_json: &self.client_data_json,
                signature: &self.signature,
            },
        };
        let check =
            PasskeyCheck { origins: &[origin], rp_id: &self.rp_id, require_user_verification: self.require_uv, previous_sign_count };
        // The reference OP signs its ID Tokens with RS256.
        let policy = ConsumerPolicy { id_token_algs: vec![Alg::Rs256, Alg::Es256], ..ConsumerPolicy::default() };
        block_on(consumer::verify_passkey_presentation(
            &self.issuers(),
            &policy,
            &presentation,
            &check,
            self.now,
            None::<&NoNonces>,
            &NativeVerifier,
            &MemoryReplayStore::new(),
        ))
    }
}

#[test]
fn the_recorded_data_is_consistent() {
    let x = load();
    let expected = &x.v["expected"];
    let jkt = x.jwk.thumbprint();
    assert_eq!(jkt, expected["passkey_jkt"].as_str().unwrap());
    // The ID Token's nonce is the salted commitment to the passkey.
    let payload: Value = serde_json::from_slice(&b64::decode(x.id_token.split('.').nth(1).unwrap(), "payload").unwrap()).unwrap();
    assert_eq!(payload["nonce"].as_str().unwrap(), passkey::commitment(x.mode, &jkt, x.salt.as_deref()).unwrap());
    assert_ne!(payload["nonce"].as_str().unwrap(), jkt, "salted: the nonce is not the thumbprint");
    // The browser's clientDataJSON answers the signing challenge over this ID Token, message, nonce.
    let client: Value = serde_json::from_slice(&x.client_data_json).unwrap();
    assert_eq!(client["type"], "webauthn.get");
    assert_eq!(client["origin"].as_str().unwrap(), x.origin);
    let challenge = passkey::signing_challenge(&x.id_token, &x.message, x.nonce.as_deref(), &x.htm, &x.htu).unwrap();
    assert_eq!(client["challenge"].as_str().unwrap(), b64::encode(challenge));
    // A DER ECDSA signature, as WebAuthn returns it for ES256.
    assert_eq!(x.signature[0], 0x30);
    assert_eq!(passkey::der_to_raw_ecdsa(&x.signature, 32).unwrap().len(), 64);
}

/// The recorded Chromium signature is high-S (s > n/2): authenticators do not normalize ECDSA
/// signatures, so a verifier that refused high-S would refuse about half of real assertions.
/// Malleability is handled by keying single use on the signed data instead.
#[test]
fn the_recorded_signature_is_high_s_and_still_verifies() {
    const P256_HALF_N: [u8; 32] = [
        0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b,
        0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
    ];
    let x = load();
    let raw = passkey::der_to_raw_ecdsa(&x.signature, 32).unwrap();
    assert!(raw[32..] > P256_HALF_N[..], "high-S");
    x.verify(&x.message, &x.origin, 0).expect("accepted");
}

#[test]
fn the_virtual_authenticator_presentation_verifies_natively() {
    let x = load();
    let expected = &x.v["expected"];
    let ok = x.verify(&x.message, &x.origin, 0).expect("the recorded presentation verifies");
    assert_eq!(ok.iss, x.issuer);
    assert_eq!(ok.sub, expected["sub"].as_str().unwrap());
    assert_eq!(ok.aud, vec![x.client_id.clone()]);
    assert_eq!(ok.passkey_jkt, expected["passkey_jkt"].as_str().unwrap());
    assert_eq!(u64::from(ok.sign_count), expected["sign_count"].as_u64().unwrap());
    let claims: Value = serde_json::from_str(&ok.claims_json).unwrap();
    assert_eq!(claims["sub"], expected["sub"]);
}

#[test]
fn the_recorded_presentation_is_refused_for_another_message_origin_or_endpoint() {
    let x = load();
    let code = |r: keybound::Result<PasskeyAccepted>| r.expect_err("refused").code();
    assert_eq!(code(x.verify(b"transfer 10000 EUR to eve", &x.origin, 0)), ErrorCode::WebAuthnChallenge, "another message");
    assert_eq!(code(x.verify(&x.message, "https://app.example.com", 0)), ErrorCode::WebAuthnOrigin, "another origin");
    let elsewhere = format!("{}/elsewhere", x.htu.trim_end_matches('/'));
    assert_eq!(code(x.verify_at(&x.message, &x.origin, 0, &x.htm, &elsewhere)), ErrorCode::WebAuthnChallenge, "another endpoint");
    assert_eq!(code(x.verify_at(&x.message, &x.origin, 0, "DELETE", &x.htu)), ErrorCode::WebAuthnChallenge, "another method");
    // The same presentation after the consumer saw its sign count: a replay.
    let count = x.v["expected"]["sign_count"].as_u64().unwrap() as u32;
    assert_eq!(code(x.verify(&x.message, &x.origin, count)), ErrorCode::WebAuthnSignCount, "sign count not grown");
}
