//! Native tests of ID Token validation (OIDC Core §3.1.3.7, KB §4) with the worked example: the example
//! token validates and is bound; each validation step has a negative test asserting its code.
#![cfg(all(feature = "native", not(target_arch = "wasm32")))]

use keybound::native::block_on;
use keybound::native::{Es256Signer, NativeVerifier};
use keybound::protocol::id_token::{self, BindingPolicy, IdTokenCheck, Jwks};
use keybound::protocol::jwa::Alg;
use keybound::protocol::{b64, jws};
use keybound::ErrorCode;
use serde_json::{json, Value};

const OP_D: &str = "M80UlktZOyzxpKL_Jv3D8LfIen1AiK22NHGnbF2iePE";
const OTHER_D: &str = "EdiqAaCkaOmnDTOZuSzBCITGx2O7JLc3pV6ZTgtmwPs";
const CLIENT_JKT: &str = "mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0";
const JWKS: &str = r#"{"keys":[
  {"kty":"RSA","use":"enc","kid":"enc-1","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
  {"kty":"EC","crv":"secp256k1","kid":"k1","x":"AA","y":"AA"},
  {"kty":"EC","crv":"P-256","x":"f2mEVtz-4D7TDq4D2cbLtq_wWMXEVum-ulZqGcuIIiE","y":"U0RYaKMYkvBdnB6kV5c4t-ERaueOskEM__UuMq4psOk","kid":"op-es256-2026-09","use":"sig","alg":"ES256"}
]}"#;
const CLIENT_JWK: &str =
    r#"{"kty":"EC","crv":"P-256","x":"V8Ok_mX6-51HS6UDE5CB6Rjrg6qVknQ9OPm9ILHoj1M","y":"hvF-K-t8abiAs-KSDQbmZlHOa_Z_Xt7aqQ70FHxW6Wg"}"#;
const NOW: i64 = 1_790_000_030;

fn jwks() -> Jwks {
    Jwks::from_json(JWKS).expect("jwks")
}

fn check<'a>() -> IdTokenCheck<'a> {
    IdTokenCheck {
        issuer: "https://op.example.com",
        client_id: "s6BhdRkqt3",
        extra_audiences: &[],
        allowed_algs: &[Alg::Es256, Alg::Rs256],
        now: NOW,
        clock_skew: 60,
        max_age: 600,
        nonce: Some("n-0S6_WzA2Mj-7c1e"),
        expected_jkt: Some(CLIENT_JKT),
        binding: BindingPolicy::Required,
    }
}

fn good_claims() -> Value {
    json!({
        "iss": "https://op.example.com", "sub": "248289761001", "aud": "s6BhdRkqt3", "azp": "s6BhdRkqt3",
        "iat": 1_790_000_022, "exp": 1_790_003_622, "auth_time": 1_790_000_000, "nonce": "n-0S6_WzA2Mj-7c1e",
        "cnf": {"jwk": serde_json::from_str::<Value>(CLIENT_JWK).unwrap()}
    })
}

fn good_header() -> Value {
    json!({"alg": "ES256", "kid": "op-es256-2026-09", "typ": "dpop+id_token"})
}

fn mint_with(d: &str, header: &Value, claims: &Value) -> String {
    let signer = Es256Signer::from_jwk_d(d).unwrap();
    let input = jws::signing_input(&header.to_string(), &claims.to_string());
    jws::assemble(&input, &signer.sign_sync(input.as_bytes()))
}

fn mint(header: &Value, claims: &Value) -> String {
    mint_with(OP_D, header, claims)
}

fn refused(token: &str, c: &IdTokenCheck<'_>) -> ErrorCode {
    block_on(id_token::validate(token, &jwks(), c, &NativeVerifier)).expect_err("must be refused").code()
}

#[test]
fn jwks_keeps_only_usable_signature_keys() {
    // The enc key is kept (it is a valid RSA key) but never selected for signatures; the
    // secp256k1 key is skipped.
    assert_eq!(jwks().len(), 2);
    let private = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"f2mEVtz-4D7TDq4D2cbLtq_wWMXEVum-ulZqGcuIIiE","y":"U0RYaKMYkvBdnB6kV5c4t-ERaueOskEM__UuMq4psOk","d":"M80UlktZOyzxpKL_Jv3D8LfIen1AiK22NHGnbF2iePE"}]}"#;
    assert_eq!(Jwks::from_json(private).unwrap_err().code(), ErrorCode::JwkPrivateKey);
}

#[test]
fn worked_example_id_token_is_valid_and_bound() {
    let vectors: std::collections::BTreeMap<String, String> = serde_json::from_str(include_str!("vectors/worked_example.json")).unwrap();
    let v = block_on(id_token::validate(&vectors["id_token"], &jwks(), &check(), &NativeVerifier)).unwrap();
    assert!(v.bound);
    assert_eq!(v.claims.sub, "248289761001");
    assert_eq!(v.claims.cnf_jkt.as_deref(), Some(CLIENT_JKT));
    assert!(v.claims_json.contains("\"auth_time\":1790000000"));

    // The refreshed token of §5.6: valid without a nonce, and consistent with the original.
    let later = IdTokenCheck { now: 1_790_003_005, nonce: None, ..check() };
    let r = block_on(id_token::validate(&vectors["id_token_refreshed"], &jwks(), &later, &NativeVerifier)).unwrap();
    assert!(r.bound);
    id_token::check_refreshed(&v.claims, &r.claims).unwrap();
}

#[test]
fn a_token_without_kid_uses_the_only_fitting_key() {
    let header = json!({"alg": "ES256", "typ": "dpop+id_token"});
    let v = block_on(id_token::validate(&mint(&header, &good_claims()), &jwks(), &check(), &NativeVerifier)).unwrap();
    assert!(v.bound);
}

#[test]
fn binding_policy_preferred_reports_unbound_tokens() {
    let mut claims = good_claims();
    claims.as_object_mut().unwrap().remove("cnf");
    let token = mint(&json!({"alg": "ES256", "kid": "op-es256-2026-09", "typ": "JWT"}), &claims);
    // Required (the default): the OP ignored bound_key, refused with its own code.
    assert_eq!(refused(&token, &check()), ErrorCode::IdTokenUnbound);
    // Preferred: accepted, reported unbound.
    let preferred = IdTokenCheck { binding: BindingPolicy::Preferred, ..check() };
    let v = block_on(id_token::validate(&token, &jwks(), &preferred, &NativeVerifier)).unwrap();
    assert!(!v.bound);
    assert_eq!(v.claims.cnf_jkt, None);
}

#[test]
fn each_validation_step_has_its_code() {
    let c = check;
    let with = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut claims = good_claims();
        edit(claims.as_object_mut().unwrap());
        mint(&good_header(), &claims)
    };
    let header_with = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut h = good_header();
        edit(h.as_object_mut().unwrap());
        mint(&h, &good_claims())
    };
    let other_key_jwk = json!({"kty":"EC","crv":"P-256","x":"ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc","y":"nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4"});
    let cases: Vec<(&str, ErrorCode, ErrorCode)> = vec![
        ("JWE", ErrorCode::JweUnsupported, refused("a.b.c.d.e", &c())),
        (
            "alg none",
            ErrorCode::JwsAlgNotAllowed,
            refused(&format!("{}.{}.", b64::encode(r#"{"alg":"none"}"#), b64::encode(good_claims().to_string())), &c()),
        ),
        (
            "alg HS256",
            ErrorCode::JwsAlgNotAllowed,
            refused(
                &header_with(&|h| {
                    h.insert("alg".into(), json!("HS256"));
                }),
                &c(),
            ),
        ),
        (
            "crit",
            ErrorCode::JwsCritUnsupported,
            refused(
                &header_with(&|h| {
                    h.insert("crit".into(), json!(["b64"]));
                }),
                &c(),
            ),
        ),
        (
            "unknown kid",
            ErrorCode::JwksNoMatchingKey,
            refused(
                &header_with(&|h| {
                    h.insert("kid".into(), json!("rotated-2027"));
                }),
                &c(),
            ),
        ),
        (
            "kid of the enc key",
            ErrorCode::JwksNoMatchingKey,
            refused(
                &header_with(&|h| {
                    h.insert("kid".into(), json!("enc-1"));
                }),
                &c(),
            ),
        ),
        ("signed by another key", ErrorCode::JwsSignatureInvalid, refused(&mint_with(OTHER_D, &good_header(), &good_claims()), &c())),
        ("embedded jwk is ignored", ErrorCode::JwsSignatureInvalid, {
            let mut h = good_header();
            h.as_object_mut().unwrap().insert("jwk".into(), serde_json::from_str(CLIENT_JWK).unwrap());
            refused(&mint_with(OTHER_D, &h, &good_claims()), &c())
        }),
        (
            "no sub",
            ErrorCode::IdTokenClaimMissing,
            refused(
                &with(&|m| {
                    m.remove("sub");
                }),
                &c(),
            ),
        ),
        (
            "exp as a string",
            ErrorCode::JsonInvalid,
            refused(
                &with(&|m| {
                    m.insert("exp".into(), json!("soon"));
                }),
                &c(),
            ),
        ),
        (
            "wrong iss",
            ErrorCode::IdTokenIssuerMismatch,
            refused(
                &with(&|m| {
                    m.insert("iss".into(), json!("https://op.example.com/"));
                }),
                &c(),
            ),
        ),
        (
            "aud of another client",
            ErrorCode::IdTokenAudienceMismatch,
            refused(
                &with(&|m| {
                    m.insert("aud".into(), json!("other-client"));
                }),
                &c(),
            ),
        ),
        (
            "extra untrusted aud",
            ErrorCode::IdTokenAudienceMismatch,
            refused(
                &with(&|m| {
                    m.insert("aud".into(), json!(["s6BhdRkqt3", "evil"]));
                }),
                &c(),
            ),
        ),
        (
            "azp of another client",
            ErrorCode::IdTokenAzpMismatch,
            refused(
                &with(&|m| {
                    m.insert("azp".into(), json!("other"));
                }),
                &c(),
            ),
        ),
        (
            "expired",
            ErrorCode::IdTokenExpired,
            refused(
                &with(&|m| {
                    m.insert("exp".into(), json!(NOW - 61));
                }),
                &c(),
            ),
        ),
        (
            "iat in the future",
            ErrorCode::IdTokenIatInvalid,
            refused(
                &with(&|m| {
                    m.insert("iat".into(), json!(NOW + 120));
                }),
                &c(),
            ),
        ),
        (
            "iat too old",
            ErrorCode::IdTokenIatInvalid,
            refused(
                &with(&|m| {
                    m.insert("iat".into(), json!(NOW - 3600));
                }),
                &c(),
            ),
        ),
        (
            "nbf in the future",
            ErrorCode::IdTokenIatInvalid,
            refused(
                &with(&|m| {
                    m.insert("nbf".into(), json!(NOW + 120));
                }),
                &c(),
            ),
        ),
        (
            "wrong nonce",
            ErrorCode::IdTokenNonceMismatch,
            refused(
                &with(&|m| {
                    m.insert("nonce".into(), json!("replayed"));
                }),
                &c(),
            ),
        ),
        (
            "missing nonce",
            ErrorCode::IdTokenNonceMismatch,
            refused(
                &with(&|m| {
                    m.remove("nonce");
                }),
                &c(),
            ),
        ),
        (
            "typ JWT with cnf",
            ErrorCode::IdTokenUnbound,
            refused(
                &header_with(&|h| {
                    h.insert("typ".into(), json!("JWT"));
                }),
                &c(),
            ),
        ),
        (
            "legacy typ id_token+cnf",
            ErrorCode::IdTokenUnbound,
            refused(
                &header_with(&|h| {
                    h.insert("typ".into(), json!("id_token+cnf"));
                }),
                &c(),
            ),
        ),
        (
            "cnf.jkt instead of cnf.jwk",
            ErrorCode::IdTokenUnbound,
            refused(
                &with(&|m| {
                    m.insert("cnf".into(), json!({"jkt": CLIENT_JKT}));
                }),
                &c(),
            ),
        ),
        (
            "cnf for another key",
            ErrorCode::IdTokenCnfMismatch,
            refused(
                &with(&|m| {
                    m.insert("cnf".into(), json!({"jwk": other_key_jwk}));
                }),
                &c(),
            ),
        ),
        (
            "cnf for another key, preferred",
            ErrorCode::IdTokenCnfMismatch,
            refused(
                &with(&|m| {
                    m.insert("cnf".into(), json!({"jwk": other_key_jwk}));
                }),
                &IdTokenCheck { binding: BindingPolicy::Preferred, ..c() },
            ),
        ),
        // Our key in `jwk`, another key's thumbprint in `jkt`: two keys, refused.
        (
            "cnf.jwk and cnf.jkt of different keys",
            ErrorCode::IdTokenCnfMismatch,
            refused(
                &with(&|m| {
                    let k: Value = serde_json::from_str(CLIENT_JWK).unwrap();
                    m.insert("cnf".into(), json!({"jwk": k, "jkt": "dnfb1T9jil_gOhti60baHs_WD_a4D8JN9VDJXbmBmGw"}));
                }),
                &IdTokenCheck { binding: BindingPolicy::Preferred, ..c() },
            ),
        ),
        (
            "cnf.jkt not a string next to cnf.jwk",
            ErrorCode::IdTokenCnfMismatch,
            refused(
                &with(&|m| {
                    let k: Value = serde_json::from_str(CLIENT_JWK).unwrap();
                    m.insert("cnf".into(), json!({"jwk": k, "jkt": 1}));
                }),
                &c(),
            ),
        ),
        (
            "cnf with a private key",
            ErrorCode::JwkPrivateKey,
            refused(
                &with(&|m| {
                    let mut k: Value = serde_json::from_str(CLIENT_JWK).unwrap();
                    k.as_object_mut().unwrap().insert("d".into(), json!(OTHER_D));
                    m.insert("cnf".into(), json!({"jwk": k}));
                }),
                &c(),
            ),
        ),
    ];
    for (name, want, got) in cases {
        assert_eq!(got, want, "case {name:?}");
    }
}

#[test]
fn cnf_with_jwk_and_its_own_jkt_is_accepted() {
    let mut claims = good_claims();
    let k: Value = serde_json::from_str(CLIENT_JWK).unwrap();
    claims.as_object_mut().unwrap().insert("cnf".into(), json!({"jwk": k, "jkt": CLIENT_JKT}));
    let v = block_on(id_token::validate(&mint(&good_header(), &claims), &jwks(), &check(), &NativeVerifier)).unwrap();
    assert!(v.bound);
}

#[test]
fn refresh_must_keep_identity_and_key() {
    let v = block_on(id_token::validate(&mint(&good_header(), &good_claims()), &jwks(), &check(), &NativeVerifier)).unwrap();
    let later = IdTokenCheck { nonce: None, ..check() };
    let refreshed = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut claims = good_claims();
        let m = claims.as_object_mut().unwrap();
        m.remove("nonce");
        edit(m);
        block_on(id_token::validate(&mint(&good_header(), &claims), &jwks(), &later, &NativeVerifier)).unwrap().claims
    };
    id_token::check_refreshed(&v.claims, &refreshed(&|_| {})).unwrap();
    let other_key = json!({"kty":"EC","crv":"P-256","x":"ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc","y":"nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4"});
    let lenient = IdTokenCheck { nonce: None, expected_jkt: None, ..check() };
    let cases: Vec<(&str, keybound::protocol::id_token::IdTokenClaims)> = vec![
        (
            "sub",
            refreshed(&|m| {
                m.insert("sub".into(), json!("someone-else"));
            }),
        ),
        (
            "auth_time",
            refreshed(&|m| {
                m.insert("auth_time".into(), json!(1_790_000_010));
            }),
        ),
        (
            "nonce",
            refreshed(&|m| {
                m.insert("nonce".into(), json!("new-nonce"));
            }),
        ),
        ("cnf", {
            let mut claims = good_claims();
            claims.as_object_mut().unwrap().insert("cnf".into(), json!({"jwk": other_key}));
            block_on(id_token::validate(&mint(&good_header(), &claims), &jwks(), &lenient, &NativeVerifier)).unwrap().claims
        }),
    ];
    for (claim, r) in cases {
        let err = id_token::check_refreshed(&v.claims, &r).unwrap_err();
        assert_eq!(err.code(), ErrorCode::IdTokenRefreshMismatch, "{claim}");
        assert!(err.to_string().contains(claim), "{err}");
    }
}

/// An unknown `kid` is worth one JWKS refetch however recent the set is (key rotation right after
/// discovery); the same `kid` again within a minute of its own refetch is not.
#[test]
fn an_unknown_kid_refetches_the_jwks_once_per_kid_and_minute() {
    use keybound::protocol::id_token::{should_refetch_jwks, JwksRefetch, JWKS_REFETCH_INTERVAL};
    let now = 1_700_000_000;
    // Never refetched (the set came from discovery a second ago): refetch.
    assert!(should_refetch_jwks(Some("k2"), None, now));
    let last = JwksRefetch { kid: Some("k2".into()), at: now };
    // The same kid right after its own refetch: not again...
    assert!(!should_refetch_jwks(Some("k2"), Some(&last), now + 1));
    assert!(!should_refetch_jwks(Some("k2"), Some(&last), now + JWKS_REFETCH_INTERVAL));
    // ...until the interval has passed.
    assert!(should_refetch_jwks(Some("k2"), Some(&last), now + JWKS_REFETCH_INTERVAL + 1));
    // Another kid (the OP rotated again), or a token without kid: refetch.
    assert!(should_refetch_jwks(Some("k3"), Some(&last), now + 1));
    assert!(should_refetch_jwks(None, Some(&last), now + 1));
    let none = JwksRefetch { kid: None, at: now };
    assert!(!should_refetch_jwks(None, Some(&none), now + 5));
}

/// Nested members must be objects too: `cnf` or `cnf.jwk` in array form (which serde would read
/// field by field) is refused, and so is a duplicate member inside `cnf`; `cnf: null` is absent.
#[test]
fn nested_members_in_array_form_or_duplicated_are_refused() {
    let jwk: Value = serde_json::from_str(CLIENT_JWK).unwrap();
    let jwk_array = json!([jwk["kty"], jwk["crv"], jwk["x"], jwk["y"]]);
    let with_cnf = |cnf: Value| {
        let mut claims = good_claims();
        claims["cnf"] = cnf;
        mint(&good_header(), &claims)
    };
    assert_eq!(refused(&with_cnf(json!([jwk.clone(), null])), &check()), ErrorCode::JsonInvalid, "cnf as an array");
    assert_eq!(refused(&with_cnf(json!({ "jwk": jwk_array })), &check()), ErrorCode::JsonInvalid, "cnf.jwk as an array");
    assert_eq!(refused(&with_cnf(json!("jwk")), &check()), ErrorCode::JsonInvalid, "cnf as a string");
    assert_eq!(refused(&with_cnf(Value::Null), &check()), ErrorCode::IdTokenUnbound, "cnf: null is no cnf");
    // A duplicate member inside cnf: the serializer cannot make one, so the payload is written by hand.
    let claims = good_claims().to_string();
    let dup = claims.replace(r#""cnf":{"jwk":"#, &format!(r#""cnf":{{"jwk":{jwk},"jwk":"#));
    assert_ne!(dup, claims, "the edit applied");
    let input = jws::signing_input(&good_header().to_string(), &dup);
    let token = jws::assemble(&input, &Es256Signer::from_jwk_d(OP_D).unwrap().sign_sync(input.as_bytes()));
    assert_eq!(refused(&token, &check()), ErrorCode::JsonInvalid, "duplicate jwk in cnf");
    // Control: the object form is accepted.
    let accepted = block_on(id_token::validate(&with_cnf(json!({ "jwk": jwk })), &jwks(), &check(), &NativeVerifier)).unwrap();
    assert!(accepted.bound);
    assert_eq!(accepted.claims.cnf_jkt.as_deref(), Some(CLIENT_JKT));
}

/// `aud` is one string or an array of strings, and nothing else; a JWKS key's `kid`, `alg` and
/// `use` are strings (or absent, or `null`), while a `jwk` in `cnf` may carry them in any type.
#[test]
fn aud_and_jwks_members_have_their_json_types() {
    let with_aud = |aud: Value| {
        let mut claims = good_claims();
        claims["aud"] = aud;
        mint(&good_header(), &claims)
    };
    let listed = block_on(id_token::validate(&with_aud(json!(["s6BhdRkqt3"])), &jwks(), &check(), &NativeVerifier)).unwrap();
    assert_eq!(listed.claims.aud, ["s6BhdRkqt3"], "an array of one is read as that audience");
    for bad in [json!(5), json!(["s6BhdRkqt3", 5]), json!({"s6BhdRkqt3": true}), json!(true)] {
        assert_eq!(refused(&with_aud(bad.clone()), &check()), ErrorCode::JsonInvalid, "aud {bad}");
    }
    assert_eq!(refused(&with_aud(Value::Null), &check()), ErrorCode::IdTokenClaimMissing, "aud: null is no aud");

    let jwks_with = |member: &str, value: Value| {
        let mut set: Value = serde_json::from_str(JWKS).unwrap();
        set["keys"][0][member] = value;
        Jwks::from_json(&set.to_string())
    };
    for member in ["kid", "alg", "use"] {
        for bad in [json!(5), json!(["x"]), json!({}), json!(false)] {
            assert_eq!(jwks_with(member, bad.clone()).unwrap_err().code(), ErrorCode::JsonInvalid, "{member}: {bad}");
        }
        assert_eq!(jwks_with(member, Value::Null).unwrap().len(), 2, "{member}: null");
    }
    // A key in array form (read field by field, it would be a P-256 key) is refused.
    let jwk: Value = serde_json::from_str(CLIENT_JWK).unwrap();
    let mut fields = vec![jwk["kty"].clone(), jwk["crv"].clone(), jwk["x"].clone(), jwk["y"].clone()];
    fields.resize(17, Value::Null);
    let array_key = json!({ "keys": [fields] }).to_string();
    assert_eq!(Jwks::from_json(&array_key).unwrap_err().code(), ErrorCode::JsonInvalid, "a key in array form");
    let mut jwk = jwk;
    jwk["kid"] = json!(7);
    jwk["use"] = json!(["sig"]);
    let mut claims = good_claims();
    claims["cnf"] = json!({ "jwk": jwk });
    let accepted = block_on(id_token::validate(&mint(&good_header(), &claims), &jwks(), &check(), &NativeVerifier)).unwrap();
    assert!(accepted.bound, "the cnf.jwk's kid and use are ignored, its key still binds");
    assert_eq!(accepted.claims.cnf_jkt.as_deref(), Some(CLIENT_JKT));
}

/// The claims of a good token with `edit` applied, as validated.
fn validated_claims(edit: &dyn Fn(&mut serde_json::Map<String, Value>)) -> id_token::IdTokenClaims {
    let mut claims = good_claims();
    edit(claims.as_object_mut().unwrap());
    block_on(id_token::validate(&mint(&good_header(), &claims), &jwks(), &check(), &NativeVerifier)).unwrap().claims
}

#[test]
fn max_age_bounds_auth_time_with_the_skew() {
    use id_token::{check_authentication, AuthenticationCheck};
    // auth_time 1_790_000_000, NOW 1_790_000_030, skew 60.
    let claims = validated_claims(&|_| {});
    let asked = |max_age| AuthenticationCheck { max_age: Some(max_age), ..AuthenticationCheck::default() };
    // Nothing asked: nothing checked, even without auth_time.
    let no_auth_time = validated_claims(&|c| {
        c.remove("auth_time");
    });
    check_authentication(&no_auth_time, &AuthenticationCheck::default(), NOW, 60).unwrap();
    // 30 s ago: within max_age 30 exactly, and within max_age 0 thanks to the skew (30 <= 60).
    check_authentication(&claims, &asked(30), NOW, 60).unwrap();
    check_authentication(&claims, &asked(0), NOW, 60).unwrap();
    // The boundary: auth_time + max_age + skew == now passes, one second later does not.
    check_authentication(&claims, &asked(0), 1_790_000_060, 60).unwrap();
    let err = check_authentication(&claims, &asked(0), 1_790_000_061, 60).unwrap_err();
    assert_eq!(err.code(), ErrorCode::IdTokenAuthTooOld);
    assert_eq!(err, keybound::Error::IdTokenAuthTooOld { auth_time: 1_790_000_000, max_age: 0, now: 1_790_000_061 });
    assert_eq!(check_authentication(&claims, &asked(600), NOW + 661, 60).unwrap_err().code(), ErrorCode::IdTokenAuthTooOld);
    // max_age asked and no auth_time: refused with its own code.
    assert_eq!(check_authentication(&no_auth_time, &asked(600), NOW, 60).unwrap_err().code(), ErrorCode::IdTokenAuthTimeMissing);
    // An auth_time that is not a number is no auth_time at all (validate refuses it first).
    let mut bad = good_claims();
    bad["auth_time"] = json!("yesterday");
    assert_eq!(refused(&mint(&good_header(), &bad), &check()), ErrorCode::JsonInvalid);
    // auth_time in the future beyond the skew is implausible, however large max_age is.
    let future = validated_claims(&|c| {
        c.insert("auth_time".into(), json!(NOW + 61));
    });
    assert_eq!(check_authentication(&future, &asked(600), NOW, 60).unwrap_err().code(), ErrorCode::IdTokenIatInvalid);
    let near_future = validated_claims(&|c| {
        c.insert("auth_time".into(), json!(NOW + 60));
    });
    check_authentication(&near_future, &asked(600), NOW, 60).unwrap();
    // A negative max_age is a caller's mistake.
    assert_eq!(check_authentication(&claims, &asked(-1), NOW, 60).unwrap_err().code(), ErrorCode::InvalidArgument);
}

#[test]
fn acr_must_be_a_requested_value_when_required() {
    use id_token::{check_authentication, AuthenticationCheck};
    let with_acr = |acr: Value| {
        validated_claims(&move |c| {
            c.insert("acr".into(), acr.clone());
        })
    };
    let required = AuthenticationCheck { acr_values: Some("urn:mfa  pwd"), require_acr: true, ..AuthenticationCheck::default() };
    let voluntary = AuthenticationCheck { require_acr: false, ..required };
    for ok in ["urn:mfa", "pwd"] {
        let claims = with_acr(json!(ok));
        assert_eq!(claims.acr.as_deref(), Some(ok));
        check_authentication(&claims, &required, NOW, 60).unwrap();
    }
    // Another level, no acr, or a non-string acr: refused when required, accepted otherwise.
    for (claims, acr) in [
        (with_acr(json!("urn:weak")), Some("urn:weak")),
        (validated_claims(&|_| {}), None),
        (with_acr(json!(2)), None),
        (with_acr(json!(["urn:mfa"])), None),
        (with_acr(json!({"urn:mfa": "pwd"})), None),
        (with_acr(json!(true)), None),
        (with_acr(json!(2.5)), None),
        (with_acr(Value::Null), None),
        (with_acr(json!("")), Some("")),
        (with_acr(json!("urn:mfa pwd")), Some("urn:mfa pwd")),
    ] {
        let err = check_authentication(&claims, &required, NOW, 60).unwrap_err();
        assert_eq!(err.code(), ErrorCode::IdTokenAcrNotSatisfied, "{acr:?}");
        assert_eq!(err, keybound::Error::IdTokenAcrNotSatisfied { acr: acr.map(str::to_owned) });
        check_authentication(&claims, &voluntary, NOW, 60).unwrap();
    }
    // Required without any value is a caller's mistake, not a refusal of the token.
    for acr_values in [None, Some(""), Some("  ")] {
        let c = AuthenticationCheck { acr_values, require_acr: true, ..AuthenticationCheck::default() };
        assert_eq!(check_authentication(&with_acr(json!("pwd")), &c, NOW, 60).unwrap_err().code(), ErrorCode::InvalidArgument);
    }
    // The same checks of the request alone, before it is sent.
    assert_eq!(
        AuthenticationCheck { acr_values: Some(" "), ..AuthenticationCheck::default() }.check_request().unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        AuthenticationCheck { max_age: Some(-1), ..AuthenticationCheck::default() }.check_request().unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        AuthenticationCheck { require_acr: true, ..AuthenticationCheck::default() }.check_request().unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    required.check_request().unwrap();
    AuthenticationCheck::default().check_request().unwrap();
    // Both checks at once: max_age fails first.
    let both = AuthenticationCheck { max_age: Some(0), ..required };
    assert_eq!(check_authentication(&with_acr(json!("urn:weak")), &both, NOW + 61, 60).unwrap_err().code(), ErrorCode::IdTokenAuthTooOld);
}
