//! Native tests of the protocol core against the published vectors (the KB -03 examples: key
//! thumbprint, `c_s256` over the example `code` and `device_code`, the three example proofs;
//! RFC 9449's key and `ath`; RFC 7636's PKCE pair; RFC 7638's RSA thumbprint) and the worked
//! example in `tests/vectors/worked_example.json`, plus one negative test per error code the
//! core can produce.
#![cfg(all(feature = "native", not(target_arch = "wasm32")))]

use keybound::protocol::htu::Htu;
use std::collections::{BTreeMap, HashSet};

use keybound::native::block_on;
use keybound::native::{Es256Signer, NativeVerifier};
use keybound::protocol::dpop::{self, DpopClaims, DpopHeader, ProofCheck, ProofParams};
use keybound::protocol::jwa::Alg;
use keybound::protocol::jwk::PublicJwk;
use keybound::protocol::{b64, jws, pkce};
use keybound::{Error, ErrorCode};

fn vectors() -> BTreeMap<String, String> {
    serde_json::from_str(include_str!("vectors/worked_example.json")).expect("vector file")
}

// Keys from the KB -03 examples and RFC 9449.
const KB_EXAMPLE_KEY: &str =
    r#"{"crv":"P-256","kty":"EC","x":"ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc","y":"nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4"}"#;
const RFC9449_KEY: &str =
    r#"{"kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","crv":"P-256"}"#;
const RFC7638_RSA_KEY: &str = r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#;
const CLIENT_KEY: &str = r#"{"kty": "EC", "crv": "P-256", "x": "V8Ok_mX6-51HS6UDE5CB6Rjrg6qVknQ9OPm9ILHoj1M", "y": "hvF-K-t8abiAs-KSDQbmZlHOa_Z_Xt7aqQ70FHxW6Wg"}"#;
const CLIENT_D: &str = "EdiqAaCkaOmnDTOZuSzBCITGx2O7JLc3pV6ZTgtmwPs";
const CLIENT_JKT: &str = "mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0";
const OP_KEY: &str = r#"{"kty": "EC", "crv": "P-256", "x": "f2mEVtz-4D7TDq4D2cbLtq_wWMXEVum-ulZqGcuIIiE", "y": "U0RYaKMYkvBdnB6kV5c4t-ERaueOskEM__UuMq4psOk", "kid": "op-es256-2026-09", "use": "sig", "alg": "ES256"}"#;
const OP_D: &str = "M80UlktZOyzxpKL_Jv3D8LfIen1AiK22NHGnbF2iePE";
const ES256: &[Alg] = &[Alg::Es256];

fn jwk(json: &str) -> PublicJwk {
    PublicJwk::from_json(json).expect("valid JWK")
}

// ---- RFC 7638, RFC 9449 §10, KB §2.1: thumbprints -------------------------------------------

#[test]
fn rfc7638_section_3_1_rsa_thumbprint() {
    let key = jwk(RFC7638_RSA_KEY);
    assert_eq!(key.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    assert_eq!(key.thumbprint_uri(), "urn:ietf:params:oauth:jwk-thumbprint:sha-256:NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

#[test]
fn kb_example_key_dpop_jkt() {
    assert_eq!(jwk(KB_EXAMPLE_KEY).thumbprint(), "dnfb1T9jil_gOhti60baHs_WD_a4D8JN9VDJXbmBmGw");
}

#[test]
fn rfc9449_example_key_jkt_and_ath() {
    assert_eq!(jwk(RFC9449_KEY).thumbprint(), "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
    assert_eq!(pkce::ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU").unwrap(), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
}

#[test]
fn worked_example_client_key_jkt_and_member_order_does_not_matter() {
    let key = jwk(CLIENT_KEY);
    assert_eq!(key.thumbprint(), CLIENT_JKT);
    // Same key, other member order, extra optional members: same thumbprint.
    let decorated = r#"{"y":"hvF-K-t8abiAs-KSDQbmZlHOa_Z_Xt7aqQ70FHxW6Wg","use":"sig","kid":"k1","alg":"ES256","x":"V8Ok_mX6-51HS6UDE5CB6Rjrg6qVknQ9OPm9ILHoj1M","crv":"P-256","kty":"EC"}"#;
    assert!(key.same_key(&jwk(decorated)));
    assert!(!key.same_key(&jwk(KB_EXAMPLE_KEY)));
    assert_eq!(
        key.canonical_json(),
        r#"{"crv":"P-256","kty":"EC","x":"V8Ok_mX6-51HS6UDE5CB6Rjrg6qVknQ9OPm9ILHoj1M","y":"hvF-K-t8abiAs-KSDQbmZlHOa_Z_Xt7aqQ70FHxW6Wg"}"#
    );
}

#[test]
fn native_signer_derives_the_example_public_keys() {
    assert_eq!(Es256Signer::from_jwk_d(CLIENT_D).unwrap().public_jwk_thumbprint(), CLIENT_JKT);
    let op = Es256Signer::from_jwk_d(OP_D).unwrap();
    assert!(jwk(OP_KEY).same_key(keybound::protocol::crypto::Signer::public_jwk(&op)));
}

trait Thumb {
    fn public_jwk_thumbprint(&self) -> String;
}
impl Thumb for Es256Signer {
    fn public_jwk_thumbprint(&self) -> String {
        keybound::protocol::crypto::Signer::public_jwk(self).thumbprint()
    }
}

// ---- RFC 7636, KB c_s256 ---------------------------------------------------------------------

#[test]
fn rfc7636_appendix_b_code_challenge() {
    assert_eq!(pkce::code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    // Worked example §5.2.
    assert_eq!(pkce::code_challenge("Yb3Jm0fJ3tqzOJ1mZr9gq2wF0k1kXnVvQm3PpWq8sZE").unwrap(), "fWqQ4kEy5h3WbXFtrbl9Bl1pZoof-zNLCrkD77r3Dps");
}

#[test]
fn kb_c_s256_over_code_and_device_code() {
    assert_eq!(pkce::c_s256("SplxlOBeZQQYbYS6WxSbIA").unwrap(), "o1uBp9eSe3DsmScN0jYriFgKKFdK-BLywC9WRpV5GG8");
    assert_eq!(pkce::c_s256("GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS").unwrap(), "z-6KJMF671PQKXSuIHAVQfnEVR2x1AUsfHlvC50va38");
    assert_eq!(pkce::c_s256("Q3JkYXV0aGNvZGUtZXhhbXBsZS0wMDE").unwrap(), "05q1XFlWXx0za6UwQ_p9Vax0JqaDhC_3A9PRsfWTs40");
}

#[test]
fn random_verifier_is_a_valid_43_char_verifier() {
    let v = pkce::verifier_from_random(&[0xa5; 32]);
    assert_eq!(v.len(), 43);
    pkce::check_verifier(&v).unwrap();
}

// ---- The worked example's signed objects verify natively ------------------------------------

static TOKEN_HTU: std::sync::LazyLock<Htu> = std::sync::LazyLock::new(|| Htu::parse("https://op.example.com/token").unwrap());

fn token_check<'a>() -> ProofCheck<'a> {
    ProofCheck {
        htm: "POST",
        htu: &TOKEN_HTU,
        now: 1_790_000_020,
        max_age: 60,
        max_skew: 60,
        allowed_algs: ES256,
        nonce: None,
        access_token: None,
        code: Some("Q3JkYXV0aGNvZGUtZXhhbXBsZS0wMDE"),
        expected_jkt: Some(CLIENT_JKT),
    }
}

#[test]
fn worked_example_token_request_proof_passes_every_check() {
    let v = vectors();
    let proof = block_on(dpop::verify_proof(&v["proof_token"], &token_check(), &NativeVerifier)).unwrap();
    assert_eq!(proof.jkt, CLIENT_JKT);
    assert_eq!(proof.claims.jti, "6f1c2d9e-2b7a-4f8e-9c1d-3a5b7e9f0a12");
    assert_eq!(proof.claims.c_s256.as_deref(), Some("05q1XFlWXx0za6UwQ_p9Vax0JqaDhC_3A9PRsfWTs40"));
}

#[test]
fn worked_example_refresh_proof_passes_without_c_s256() {
    let v = vectors();
    let check = ProofCheck { now: 1_790_003_000, code: None, ..token_check() };
    let proof = block_on(dpop::verify_proof(&v["proof_refresh"], &check, &NativeVerifier)).unwrap();
    assert_eq!(proof.claims.c_s256, None);
    // The same proof is refused where c_s256 is required.
    let strict = ProofCheck { now: 1_790_003_000, ..token_check() };
    let err = block_on(dpop::verify_proof(&v["proof_refresh"], &strict, &NativeVerifier)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::DpopCodeHashMismatch);
}

#[test]
fn worked_example_presentation_proof_binds_the_refreshed_id_token() {
    let v = vectors();
    let htu = Htu::parse("https://api.app.example.com/v1/session").unwrap();
    let check = ProofCheck {
        htm: "POST",
        htu: &htu,
        now: 1_790_003_010,
        nonce: Some("cn-9f2Kq1x7"),
        access_token: Some(&v["id_token_refreshed"]),
        code: None,
        ..token_check()
    };
    let proof = block_on(dpop::verify_proof(&v["proof_presentation"], &check, &NativeVerifier)).unwrap();
    assert_eq!(proof.claims.ath.as_deref(), Some("FCqqlR8-gv1EuzhhM_cDKfZmaOJOPUOjfJAEKLGS1jo"));
    // ath over the other ID Token does not match.
    let other = ProofCheck { access_token: Some(&v["id_token"]), ..check };
    let err = block_on(dpop::verify_proof(&v["proof_presentation"], &other, &NativeVerifier)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::DpopAthMismatch);
}

#[test]
fn worked_example_id_tokens_verify_with_the_op_key_and_carry_cnf() {
    let v = vectors();
    let op = jwk(OP_KEY);
    for name in ["id_token", "id_token_refreshed"] {
        let parsed = jws::parse(&v[name], &[Alg::Es256, Alg::Rs256], jws::Limits::default()).unwrap();
        assert!(jws::typ_matches(parsed.header.typ.as_deref(), "dpop+id_token"));
        assert_eq!(parsed.header.kid.as_deref(), Some("op-es256-2026-09"));
        let payload = block_on(jws::verify(&parsed, &op, &NativeVerifier)).unwrap();
        #[derive(serde::Deserialize)]
        struct Cnf {
            jwk: serde_json::Value,
        }
        #[derive(serde::Deserialize)]
        struct Claims {
            cnf: Cnf,
        }
        let claims: Claims = serde_json::from_slice(payload).unwrap();
        assert_eq!(jwk(&claims.cnf.jwk.to_string()).thumbprint(), CLIENT_JKT, "{name}");
        // The client key does not verify the OP's signature.
        let err = block_on(jws::verify(&parsed, &jwk(CLIENT_KEY), &NativeVerifier)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::JwsSignatureInvalid);
    }
}

#[test]
fn typ_comparison_follows_rfc_7515() {
    assert!(jws::typ_matches(Some("dpop+id_token"), "dpop+id_token"));
    assert!(jws::typ_matches(Some("application/DPoP+ID_Token"), "dpop+id_token"));
    assert!(!jws::typ_matches(Some("JWT"), "dpop+id_token"));
    assert!(!jws::typ_matches(Some("id_token+cnf"), "dpop+id_token"));
    assert!(!jws::typ_matches(None, "dpop+id_token"));
}

// ---- Building proofs ---------------------------------------------------------------------------

#[test]
fn built_proof_has_the_rfc9449_shape_and_verifies() {
    let signer = Es256Signer::from_jwk_d(CLIENT_D).unwrap();
    let header = DpopHeader::new(Alg::Es256, &jwk(CLIENT_KEY)).unwrap();
    assert_eq!(header.jkt(), CLIENT_JKT);
    let htu = Htu::parse("HTTPS://OP.example.com:443/token?x=1#f").unwrap();
    let params = ProofParams {
        htm: "POST",
        htu: &htu,
        nonce: Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"),
        access_token: None,
        code: Some("Q3JkYXV0aGNvZGUtZXhhbXBsZS0wMDE"),
    };
    let claims = DpopClaims::new(&params, "6f1c2d9e-2b7a-4f8e-9c1d-3a5b7e9f0a12".into(), 1_790_000_021).unwrap();
    let proof = block_on(dpop::create_proof(&signer, &header, &claims)).unwrap();

    let parts: Vec<&str> = proof.split('.').collect();
    let header_text = String::from_utf8(b64::decode(parts[0], "h").unwrap()).unwrap();
    let key = jwk(CLIENT_KEY);
    let PublicJwk::Ec { x, y, .. } = &key else { panic!("an EC key") };
    assert_eq!(header_text, format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}}}"#));
    let h: serde_json::Value = serde_json::from_slice(header_text.as_bytes()).unwrap();
    assert_eq!(h["typ"], "dpop+jwt");
    assert_eq!(h["alg"], "ES256");
    assert!(h["jwk"].get("d").is_none());
    assert_eq!(h.as_object().unwrap().len(), 3);
    let p: serde_json::Value = serde_json::from_slice(&b64::decode(parts[1], "p").unwrap()).unwrap();
    assert_eq!(p["htu"], "https://op.example.com/token");
    assert_eq!(p["htm"], "POST");
    assert!(p["iat"].is_i64());
    assert_eq!(p["c_s256"], "05q1XFlWXx0za6UwQ_p9Vax0JqaDhC_3A9PRsfWTs40");
    assert_eq!(p["nonce"], "eyJ7S_zG.eyJH0-Z.HX4w-7v");
    assert!(p.get("ath").is_none());
    assert_eq!(b64::decode(parts[2], "s").unwrap().len(), 64, "raw r||s, not DER");

    let check = ProofCheck { now: 1_790_000_021, nonce: Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"), ..token_check() };
    block_on(dpop::verify_proof(&proof, &check, &NativeVerifier)).unwrap();
}

#[test]
fn proof_header_must_belong_to_the_signer() {
    let signer = Es256Signer::from_jwk_d(CLIENT_D).unwrap();
    let other = DpopHeader::new(Alg::Es256, &jwk(KB_EXAMPLE_KEY)).unwrap();
    let htu = Htu::parse("https://rs.example/x").unwrap();
    let claims = DpopClaims::new(&ProofParams::new("GET", &htu), "j".into(), 1).unwrap();
    let err = block_on(dpop::create_proof(&signer, &other, &claims)).unwrap_err();
    assert_eq!(err, Error::InvalidArgument { name: "header", reason: "was built for another key or algorithm" });
}

// ---- One negative test per error code of the core --------------------------------------------

fn sign_raw(header_json: &str, payload_json: &str) -> String {
    let signer = Es256Signer::from_jwk_d(CLIENT_D).unwrap();
    let input = jws::signing_input(header_json, payload_json);
    jws::assemble(&input, &signer.sign_sync(input.as_bytes()))
}

fn proof_with(header_extra: &str, payload: &str) -> String {
    let header = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}{header_extra}}}"#, jwk(CLIENT_KEY).canonical_json());
    sign_raw(&header, payload)
}

const GOOD_PAYLOAD: &str = r#"{"jti":"j-1","htm":"POST","htu":"https://op.example.com/token","iat":1790000020,"c_s256":"05q1XFlWXx0za6UwQ_p9Vax0JqaDhC_3A9PRsfWTs40"}"#;

fn check_proof(proof: &str, check: &ProofCheck<'_>) -> ErrorCode {
    block_on(dpop::verify_proof(proof, check, &NativeVerifier)).expect_err("must be refused").code()
}

/// Each case produces one refusal from real input; the last test checks they cover every code
/// the core can emit.
fn negative_cases() -> Vec<(&'static str, ErrorCode, ErrorCode)> {
    let good = proof_with("", GOOD_PAYLOAD);
    assert!(block_on(dpop::verify_proof(&good, &token_check(), &NativeVerifier)).is_ok(), "baseline must pass");
    let c = token_check;
    let mut cases = vec![
        ("htm not a token", ErrorCode::InvalidArgument,
            DpopClaims::new(&ProofParams::new("PO ST", &TOKEN_HTU), "j".into(), 1).unwrap_err().code()),
        ("padded base64url", ErrorCode::Base64UrlInvalid, b64::decode("AQ==", "x").unwrap_err().code()),
        ("JWK not JSON", ErrorCode::JsonInvalid, PublicJwk::from_json("{kty:EC}").unwrap_err().code()),
        ("EC x too short", ErrorCode::JwkInvalid,
            PublicJwk::from_json(r#"{"kty":"EC","crv":"P-256","x":"AQAB","y":"AQAB"}"#).unwrap_err().code()),
        ("private d", ErrorCode::JwkPrivateKey,
            PublicJwk::from_json(&format!(r#"{{"kty":"EC","crv":"P-256","x":"V8Ok_mX6-51HS6UDE5CB6Rjrg6qVknQ9OPm9ILHoj1M","y":"hvF-K-t8abiAs-KSDQbmZlHOa_Z_Xt7aqQ70FHxW6Wg","d":"{CLIENT_D}"}}"#)).unwrap_err().code()),
        ("oct key", ErrorCode::JwkPrivateKey, PublicJwk::from_json(r#"{"kty":"oct","k":"AAAA"}"#).unwrap_err().code()),
        ("secp256k1", ErrorCode::JwkUnsupported,
            PublicJwk::from_json(r#"{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"}"#).unwrap_err().code()),
        ("X25519 is not a signing key", ErrorCode::JwkUnsupported,
            PublicJwk::from_json(r#"{"kty":"OKP","crv":"X25519","x":"AA"}"#).unwrap_err().code()),
        ("RSA 1024", ErrorCode::JwkWeakKey,
            PublicJwk::from_json(&format!(r#"{{"kty":"RSA","e":"AQAB","n":"{}"}}"#, b64::encode([0xc3u8; 128]))).unwrap_err().code()),
        ("two parts", ErrorCode::JwsMalformed, jws::parse("a.b", ES256, jws::Limits::default()).unwrap_err().code()),
        ("oversized", ErrorCode::JwsTooLarge,
            jws::parse(&"a".repeat(70_000), ES256, jws::Limits::default()).unwrap_err().code()),
        ("JWE", ErrorCode::JweUnsupported, jws::parse("a.b.c.d.e", ES256, jws::Limits::default()).unwrap_err().code()),
        ("alg none", ErrorCode::JwsAlgNotAllowed,
            jws::parse(&format!("{}.e30.c2ln", b64::encode(r#"{"alg":"none"}"#)), ES256, jws::Limits::default()).unwrap_err().code()),
        ("alg HS256", ErrorCode::JwsAlgNotAllowed,
            check_proof(&format!("{}.e30.c2ln", b64::encode(r#"{"alg":"HS256","typ":"dpop+jwt"}"#)), &c())),
        ("RS256 not on the list", ErrorCode::JwsAlgNotAllowed,
            jws::parse(&format!("{}.e30.c2ln", b64::encode(r#"{"alg":"RS256"}"#)), ES256, jws::Limits::default()).unwrap_err().code()),
        ("ES384 header over a P-256 jwk", ErrorCode::JwsAlgKeyMismatch, {
            let header = format!(r#"{{"typ":"dpop+jwt","alg":"ES384","jwk":{}}}"#, jwk(CLIENT_KEY).canonical_json());
            check_proof(&sign_raw(&header, GOOD_PAYLOAD), &ProofCheck { allowed_algs: &[Alg::Es256, Alg::Es384], ..c() })
        }),
        ("crit", ErrorCode::JwsCritUnsupported, check_proof(&proof_with(r#","crit":["exp"],"exp":1"#, GOOD_PAYLOAD), &c())),
        ("empty crit", ErrorCode::JwsCritUnsupported, check_proof(&proof_with(r#","crit":[]"#, GOOD_PAYLOAD), &c())),
        // RFC 7515 §4.1.11: `crit` is a non-empty array of strings or absent; `null` is not absent.
        ("crit null", ErrorCode::JwsCritUnsupported, check_proof(&proof_with(r#","crit":null"#, GOOD_PAYLOAD), &c())),
        ("crit not an array", ErrorCode::JsonInvalid, check_proof(&proof_with(r#","crit":"exp""#, GOOD_PAYLOAD), &c())),
        ("crit with a number", ErrorCode::JsonInvalid, check_proof(&proof_with(r#","crit":[1]"#, GOOD_PAYLOAD), &c())),
        ("RSA e = 1", ErrorCode::JwkWeakKey,
            PublicJwk::from_json(&format!(r#"{{"kty":"RSA","e":"AQ","n":"{}"}}"#, b64::encode([0xc3u8; 256]))).unwrap_err().code()),
        ("RSA e = 2", ErrorCode::JwkWeakKey,
            PublicJwk::from_json(&format!(r#"{{"kty":"RSA","e":"Ag","n":"{}"}}"#, b64::encode([0xc3u8; 256]))).unwrap_err().code()),
        ("RSA even e", ErrorCode::JwkInvalid,
            PublicJwk::from_json(&format!(r#"{{"kty":"RSA","e":"AQAA","n":"{}"}}"#, b64::encode([0xc3u8; 256]))).unwrap_err().code()),
        ("tampered payload", ErrorCode::JwsSignatureInvalid, {
            let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
            parts[1] = b64::encode(GOOD_PAYLOAD.replace("j-1", "j-2"));
            check_proof(&parts.join("."), &c())
        }),
        ("htu javascript:", ErrorCode::UrlInvalid,
            Htu::parse("javascript:alert(1)").unwrap_err().code()),
        ("short verifier", ErrorCode::PkceVerifierInvalid, pkce::code_challenge("too-short").unwrap_err().code()),
        ("typ JWT", ErrorCode::DpopTypInvalid, {
            let header = format!(r#"{{"typ":"JWT","alg":"ES256","jwk":{}}}"#, jwk(CLIENT_KEY).canonical_json());
            check_proof(&sign_raw(&header, GOOD_PAYLOAD), &c())
        }),
        ("no jwk", ErrorCode::DpopJwkMissing, check_proof(&sign_raw(r#"{"typ":"dpop+jwt","alg":"ES256","kid":"k"}"#, GOOD_PAYLOAD), &c())),
        ("private jwk in proof", ErrorCode::JwkPrivateKey, {
            let header = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{{"kty":"EC","crv":"P-256","x":"V8Ok_mX6-51HS6UDE5CB6Rjrg6qVknQ9OPm9ILHoj1M","y":"hvF-K-t8abiAs-KSDQbmZlHOa_Z_Xt7aqQ70FHxW6Wg","d":"{CLIENT_D}"}}}}"#);
            check_proof(&sign_raw(&header, GOOD_PAYLOAD), &c())
        }),
        ("no iat", ErrorCode::DpopClaimMissing,
            check_proof(&proof_with("", r#"{"jti":"j","htm":"POST","htu":"https://op.example.com/token"}"#), &c())),
        ("jti too long", ErrorCode::DpopJtiInvalid,
            check_proof(&proof_with("", &GOOD_PAYLOAD.replace("j-1", &"j".repeat(257))), &c())),
        ("GET proof for POST", ErrorCode::DpopHtmMismatch, check_proof(&good, &ProofCheck { htm: "GET", ..c() })),
        ("other URL", ErrorCode::DpopHtuMismatch, check_proof(&good, &ProofCheck { htu: &Htu::parse("https://op.example.com/token2").unwrap(), ..c() })),
        ("stale iat", ErrorCode::DpopIatOutOfWindow, check_proof(&good, &ProofCheck { now: 1_790_000_020 + 61, ..c() })),
        ("future iat", ErrorCode::DpopIatOutOfWindow, check_proof(&good, &ProofCheck { now: 1_790_000_020 - 61, ..c() })),
        ("nonce missing", ErrorCode::DpopNonceMismatch, check_proof(&good, &ProofCheck { nonce: Some("n1"), ..c() })),
        ("ath missing", ErrorCode::DpopAthMismatch, check_proof(&good, &ProofCheck { access_token: Some("at"), ..c() })),
        ("c_s256 for another code", ErrorCode::DpopCodeHashMismatch, check_proof(&good, &ProofCheck { code: Some("other-code"), ..c() })),
        ("another key", ErrorCode::DpopKeyMismatch,
            check_proof(&good, &ProofCheck { expected_jkt: Some("dnfb1T9jil_gOhti60baHs_WD_a4D8JN9VDJXbmBmGw"), ..c() })),
    ];
    // Duplicate JSON members are refused, not resolved last-wins.
    cases.push((
        "duplicate alg member",
        ErrorCode::JsonInvalid,
        jws::parse(&format!("{}.e30.c2ln", b64::encode(r#"{"alg":"ES256","alg":"none"}"#)), ES256, jws::Limits::default())
            .unwrap_err()
            .code(),
    ));
    cases
}

#[test]
fn each_refusal_carries_its_code() {
    for (name, want, got) in negative_cases() {
        assert_eq!(got, want, "case {name:?}");
    }
}

/// Every error code is asserted by some test under tests/, op/tests/ or e2e/ (as
/// `ErrorCode::Variant` or as its `"ERR_..."` string), except the few listed here with the reason.
#[test]
fn every_error_code_is_asserted_by_a_test() {
    let untested: &[(ErrorCode, &str)] =
        &[(ErrorCode::KeyStore, "needs an IndexedDB that fails mid-operation"), (ErrorCode::Js, "reserved for unexpected exceptions")];
    let mut sources = String::new();
    let mut dirs = vec![
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests")),
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/e2e")),
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/op/tests")),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("node_modules") && !path.ends_with("out") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs" || e == "mjs") && !path.ends_with("protocol_vectors.rs") {
                sources.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let covered: HashSet<ErrorCode> = negative_cases().into_iter().map(|(_, want, _)| want).collect();
    let missing: Vec<&str> = ErrorCode::ALL
        .iter()
        .filter(|c| !covered.contains(c) && !untested.iter().any(|(u, _)| u == *c))
        .filter(|c| {
            !sources.contains(&format!("ErrorCode::{c:?}"))
                && !sources.contains(&format!("\"{}\"", c.as_str()))
                && !sources.contains(&format!("'{}'", c.as_str()))
        })
        .map(|c| c.as_str())
        .collect();
    assert!(missing.is_empty(), "error codes no test asserts: {missing:?}");
}

/// A raw P-256 point (as WebCrypto's `exportKey("raw")` gives it) makes the same JWK, and so the
/// same thumbprint, as the JWK of that key.
#[test]
fn a_sec1_point_makes_the_same_jwk_and_thumbprint() {
    use keybound::protocol::jwk::{EcCurve, PublicJwk};
    let jwk =
        r#"{"kty":"EC","crv":"P-256","x":"ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc","y":"nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4"}"#;
    let parsed = PublicJwk::from_json(jwk).expect("jwk");
    let mut point = vec![0x04];
    point.extend(keybound::protocol::b64::decode("ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc", "x").expect("x"));
    point.extend(keybound::protocol::b64::decode("nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4", "y").expect("y"));
    let from_point = PublicJwk::from_sec1_point(EcCurve::P256, &point).expect("point");
    assert_eq!(from_point, parsed);
    assert_eq!(from_point.thumbprint(), "dnfb1T9jil_gOhti60baHs_WD_a4D8JN9VDJXbmBmGw");
    // Compressed, truncated, or of another curve's length: refused with a code.
    let mut compressed = point[..33].to_vec();
    compressed[0] = 0x02;
    for bad in [&compressed[..], &point[..64], &[][..], &point[1..]] {
        let err = PublicJwk::from_sec1_point(EcCurve::P256, bad).expect_err("bad point");
        assert_eq!(err.code(), keybound::ErrorCode::JwkInvalid);
    }
    assert_eq!(PublicJwk::from_sec1_point(EcCurve::P384, &point).expect_err("P-384 length").code(), keybound::ErrorCode::JwkInvalid);
}

/// JOSE documents in array form are refused (serde would read a struct from an array): a JWS
/// header, a JWK, a JWK Set (found by the fuzzer), and a `jwk` nested in a header.
#[test]
fn jose_documents_in_array_form_are_refused() {
    let header = b64::encode(r#"["ES256","dpop+jwt",null,null,null]"#);
    let payload = b64::encode(r#"{"jti":"x"}"#);
    let token = format!("{header}.{payload}.c2ln");
    let err = jws::parse(&token, &[Alg::Es256], jws::Limits::default()).expect_err("array header");
    assert_eq!(err.code(), ErrorCode::JsonInvalid);
    let err = PublicJwk::from_json(
        r#"["EC","P-256","ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc","nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4"]"#,
    )
    .expect_err("array JWK");
    assert_eq!(err.code(), ErrorCode::JsonInvalid);
    let err = keybound::protocol::id_token::Jwks::from_json("[[]]").expect_err("array JWKS");
    assert_eq!(err.code(), ErrorCode::JsonInvalid);
    // A header that is an object but whose `jwk` is in array form (a DPoP proof's key).
    let header = b64::encode(
        r#"{"alg":"ES256","typ":"dpop+jwt","jwk":["EC","P-256","ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc","nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4"]}"#,
    );
    let err = jws::parse(&format!("{header}.{payload}.c2ln"), &[Alg::Es256], jws::Limits::default()).expect_err("array jwk");
    assert_eq!(err.code(), ErrorCode::JsonInvalid);
    // Objects still parse, with leading white space.
    assert!(PublicJwk::from_json(
        r#" {"kty":"EC","crv":"P-256","x":"ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc","y":"nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4"}"#
    )
    .is_ok());
}
