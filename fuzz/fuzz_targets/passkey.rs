//! What `protocol::passkey` parses from the page and the authenticator: COSE_Key CBOR
//! (`cose_key_to_jwk`), attestation objects and their authenticatorData
//! (`attestation_public_key`), DER ECDSA signatures (`der_to_raw_ecdsa`), and assertions
//! (`verify_assertion`: clientDataJSON + authenticatorData + signature).
//!
//! Input: byte 0 picks the mode (low 2 bits) and options; the rest is the data. Assertion mode:
//! two big-endian u16 lengths, authenticatorData, clientDataJSON, then the signature. Properties:
//! never panics; keys from COSE and attestation objects are well-formed public JWKs whose
//! canonical JSON parses back to them; DER parsing is the exact inverse of minimal DER encoding
//! (der(raw(x)) == x and raw(der(r||s)) == r||s); an accepted assertion has our rpIdHash, UP (and
//! UV when required), no BS without BE, and a sign count that grew (or both zero); the
//! always-failing verifier accepts nothing; the real one accepts a subset with the same count.
#![no_main]

mod common;

use std::sync::OnceLock;

use keybound::native::{block_on, NativeVerifier};
use keybound::protocol::b64;
use keybound::protocol::jwk::PublicJwk;
use keybound::protocol::passkey::{self, Assertion, AssertionCheck};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

const PASSKEY: &str = include_str!("../../tests/vectors/passkey_virtual.json");

struct Fixture {
    keys: Vec<PublicJwk>,
    challenge: [u8; 32],
    origin: String,
    rp_id: String,
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

fn fixture() -> Fixture {
    let v: serde_json::Value = serde_json::from_str(PASSKEY).expect("passkey vector");
    let s = |k: &str| v[k].as_str().expect("string").to_owned();
    let message = b64::decode(&s("message"), "message").expect("b64");
    let rsa = v["jwks"]["keys"][0].to_string();
    Fixture {
        keys: vec![
            PublicJwk::from_json(&v["public_jwk"].to_string()).expect("jwk"),
            PublicJwk::from_json(r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#).expect("ed25519"),
            PublicJwk::from_json(&rsa).expect("rsa"),
            PublicJwk::from_json(r#"{"kty":"EC","crv":"P-384","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#).expect("p384"),
        ],
        challenge: passkey::signing_challenge(&s("id_token"), &message, v["nonce"].as_str(), &s("htm"), &s("htu")).expect("challenge"),
        origin: s("origin"),
        rp_id: s("rp_id"),
    }
}

fn check_jwk(jwk: &PublicJwk) {
    let again = PublicJwk::from_json(&jwk.canonical_json()).expect("canonical JSON parses");
    assert_eq!(&again, jwk);
    assert_eq!(jwk.thumbprint().len(), 43);
}

/// Minimal DER `SEQUENCE { INTEGER r, INTEGER s }` of a raw `r || s`.
fn der(raw: &[u8]) -> Vec<u8> {
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut body = Vec::new();
    for int in [r, s] {
        let start = int.iter().position(|b| *b != 0).unwrap_or(int.len() - 1);
        let int = &int[start..];
        body.push(0x02);
        if int[0] & 0x80 != 0 {
            body.push(int.len() as u8 + 1);
            body.push(0);
        } else {
            body.push(int.len() as u8);
        }
        body.extend_from_slice(int);
    }
    let mut out = vec![0x30];
    if body.len() >= 0x80 {
        out.push(0x81);
    }
    out.push(body.len() as u8);
    out.extend(body);
    out
}

fn assertion(sel: u8, data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let a_len = usize::from(u16::from_be_bytes([data[0], data[1]]));
    let c_len = usize::from(u16::from_be_bytes([data[2], data[3]]));
    let rest = &data[4..];
    let Some(authenticator_data) = rest.get(..a_len) else { return };
    let Some(client_data_json) = rest.get(a_len..a_len + c_len) else { return };
    let signature = &rest[a_len + c_len..];
    let f = FIXTURE.get_or_init(fixture);
    let key = &f.keys[usize::from(sel >> 2) % f.keys.len()];
    let tops: &[&str] = if sel & 0x10 != 0 { &["https://top.example"] } else { &[] };
    let origins = [f.origin.as_str(), "https://app.example.com"];
    let check = AssertionCheck {
        challenge: &f.challenge,
        origins: &origins,
        rp_id: &f.rp_id,
        require_user_verification: sel & 0x20 != 0,
        previous_sign_count: [0, 1, 2, u32::MAX][usize::from(sel >> 6)],
        top_origins: tops,
    };
    let a = Assertion { authenticator_data, client_data_json, signature };
    let _ = passkey::signed_data_hash(&a);
    assert!(block_on(passkey::verify_assertion(key, &a, &check, &common::AlwaysFail)).is_err());
    let r = common::checked(block_on(passkey::verify_assertion(key, &a, &check, &common::AlwaysOk)));
    common::trace("assertion (always-ok)", &r);
    let Ok(count) = r else { return };
    if !common::accepted_object(client_data_json, "clientDataJSON") {
        return;
    }
    let d = authenticator_data;
    assert!(d.len() >= 37);
    assert_eq!(&d[..32], &Sha256::digest(f.rp_id.as_bytes())[..]);
    assert!(d[32] & 0x01 != 0);
    assert!(!check.require_user_verification || d[32] & 0x04 != 0);
    assert!(!(d[32] & 0x10 != 0 && d[32] & 0x08 == 0));
    assert_eq!(count, u32::from_be_bytes([d[33], d[34], d[35], d[36]]));
    assert!(count > check.previous_sign_count || (count == 0 && check.previous_sign_count == 0));
    let cd: serde_json::Value = serde_json::from_slice(client_data_json).expect("accepted clientDataJSON is JSON");
    assert_eq!(cd["type"], "webauthn.get");
    assert_eq!(cd["challenge"], b64::encode(f.challenge).as_str());
    let real = block_on(passkey::verify_assertion(key, &a, &check, &NativeVerifier));
    common::trace("assertion (native)", &real);
    if let Ok(real) = real {
        assert_eq!(real, count);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    match sel & 3 {
        0 => {
            let r = common::checked(passkey::cose_key_to_jwk(rest));
            common::trace("cose", &r);
            if let Ok(jwk) = r {
                check_jwk(&jwk);
                assert!(!matches!(jwk, PublicJwk::Ec { crv: keybound::protocol::jwk::EcCurve::P521, .. }));
            }
        }
        1 => {
            let r = common::checked(passkey::attestation_public_key(rest));
            common::trace("attestation", &r);
            if let Ok((id, jwk)) = r {
                check_jwk(&jwk);
                assert!(id.len() <= usize::from(u16::MAX));
            }
        }
        2 => {
            let len = [32, 48, 66, 1][usize::from(sel >> 2) % 4];
            let r = common::checked(passkey::der_to_raw_ecdsa(rest, len));
            common::trace("der", &r);
            if let Ok(raw) = r {
                assert_eq!(raw.len(), 2 * len);
                assert_eq!(der(&raw), rest, "DER accepted in a non-minimal form");
            }
            if rest.len() == 2 * len {
                let back = passkey::der_to_raw_ecdsa(&der(rest), len).expect("minimal DER of r || s");
                assert_eq!(back, rest);
            }
        }
        _ => assertion(sel, rest),
    }
});
