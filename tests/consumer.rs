//! The consuming component natively: the worked example's presentation (docs/profile.md §2) verifies; every check has a
//! negative test asserting its code; replays, a failing replay store, consumer nonces, evidence
//! records, counters, and the replay store's memory under a stream of fresh proofs.
#![cfg(all(feature = "native", not(target_arch = "wasm32")))]

use std::collections::{BTreeMap, HashSet};

use keybound::native::block_on;
use keybound::native::{Es256Signer, HmacNonceKey, NativeVerifier};
use keybound::protocol::consumer::{
    self, AcceptedIssuer, ConsumerPolicy, Counters, EvidenceRecord, MemoryReplayStore, NoNonces, NonceScope, Presentation, ReplayStore,
};
use keybound::protocol::id_token::Jwks;
use keybound::protocol::jwa::Alg;
use keybound::protocol::jwk::PublicJwk;
use keybound::protocol::{b64, jws, pkce};
use keybound::{Error, ErrorCode, Result};
use serde_json::{json, Value};

const OP_D: &str = "M80UlktZOyzxpKL_Jv3D8LfIen1AiK22NHGnbF2iePE";
const CLIENT_D: &str = "EdiqAaCkaOmnDTOZuSzBCITGx2O7JLc3pV6ZTgtmwPs";
const CONSUMER: &str = "api.app.example.com";
const OTHER_JWK: &str =
    r#"{"kty":"EC","crv":"P-256","x":"ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc","y":"nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4"}"#;
const ISS: &str = "https://op.example.com";
const HTU: &str = "https://api.app.example.com/v1/session";
const NOW: i64 = 1_790_003_010;

fn issuers() -> Vec<AcceptedIssuer> {
    let jwks = Jwks::from_json(r#"{"keys":[{"kty":"EC","crv":"P-256","x":"f2mEVtz-4D7TDq4D2cbLtq_wWMXEVum-ulZqGcuIIiE","y":"U0RYaKMYkvBdnB6kV5c4t-ERaueOskEM__UuMq4psOk","kid":"op-es256-2026-09","use":"sig","alg":"ES256"}]}"#).unwrap();
    vec![AcceptedIssuer { issuer: ISS.into(), jwks, client_ids: vec!["s6BhdRkqt3".into()] }]
}

fn policy() -> ConsumerPolicy {
    ConsumerPolicy { id_token_algs: vec![Alg::Es256, Alg::Rs256], ..ConsumerPolicy::default() }
}

fn signer(d: &str) -> Es256Signer {
    Es256Signer::from_jwk_d(d).unwrap()
}

fn public(s: &Es256Signer) -> Value {
    serde_json::from_str(&keybound::protocol::crypto::Signer::public_jwk(s).canonical_json()).unwrap()
}

fn sign(s: &Es256Signer, header: &Value, claims: &Value) -> String {
    let input = jws::signing_input(&header.to_string(), &claims.to_string());
    jws::assemble(&input, &s.sign_sync(input.as_bytes()))
}

fn id_claims() -> Value {
    json!({"iss": ISS, "sub": "248289761001", "aud": "s6BhdRkqt3", "azp": "s6BhdRkqt3", "iat": NOW - 9, "exp": NOW + 3591,
           "auth_time": 1_790_000_000, "cnf": {"jwk": public(&signer(CLIENT_D))}})
}

fn id_header() -> Value {
    json!({"alg": "ES256", "kid": "op-es256-2026-09", "typ": "dpop+id_token"})
}

fn id_token_with(edit: impl Fn(&mut serde_json::Map<String, Value>), header: impl Fn(&mut serde_json::Map<String, Value>)) -> String {
    let mut c = id_claims();
    edit(c.as_object_mut().unwrap());
    let mut h = id_header();
    header(h.as_object_mut().unwrap());
    sign(&signer(OP_D), &h, &c)
}

fn good_id_token() -> String {
    id_token_with(|_| {}, |_| {})
}

static JTI: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn proof_claims(id_token: &str) -> Value {
    let n = JTI.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    json!({"jti": format!("jti-{n}"), "htm": "POST", "htu": HTU, "iat": NOW, "ath": pkce::s256(id_token)})
}

fn proof_with(
    id_token: &str,
    key: &Es256Signer,
    edit: impl Fn(&mut serde_json::Map<String, Value>),
    header: impl Fn(&mut serde_json::Map<String, Value>),
) -> String {
    let mut c = proof_claims(id_token);
    edit(c.as_object_mut().unwrap());
    let mut h = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": public(key)});
    header(h.as_object_mut().unwrap());
    sign(key, &h, &c)
}

fn good_proof(id_token: &str) -> String {
    proof_with(id_token, &signer(CLIENT_D), |_| {}, |_| {})
}

fn verify(id_token: &str, proof: &str, policy: &ConsumerPolicy, store: &MemoryReplayStore) -> Result<consumer::Accepted> {
    let p = Presentation { id_token, proof, htm: "POST", htu: HTU };
    block_on(consumer::verify_presentation(&issuers(), policy, &p, NOW, None::<&NoNonces>, &NativeVerifier, store))
}

#[test]
fn the_spec_5_7_presentation_verifies() {
    let v: BTreeMap<String, String> = serde_json::from_str(include_str!("vectors/worked_example.json")).unwrap();
    let store = MemoryReplayStore::new();
    let a = verify(&v["id_token_refreshed"], &v["proof_presentation"], &policy(), &store).expect("accepted");
    assert_eq!(a.sub, "248289761001");
    assert_eq!(a.cnf_jkt, "mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0");
    assert_eq!(a.jti, "c0ffee00-1234-4abc-8def-0123456789ab");
    // The same presentation again is a replay.
    let err = verify(&v["id_token_refreshed"], &v["proof_presentation"], &policy(), &store).unwrap_err();
    assert_eq!(err.code(), ErrorCode::DpopReplay);
    // The proof is bound to the refreshed token: presenting it with the original token fails.
    let err = verify(&v["id_token"], &v["proof_presentation"], &policy(), &MemoryReplayStore::new()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::DpopAthMismatch);
}

struct FailingStore;
impl ReplayStore for FailingStore {
    async fn check_and_store(&self, _key: &str, _now: i64, _exp: i64) -> Result<bool> {
        Err(Error::Network { url: "redis://127.0.0.1:6379".into(), message: "connection refused".into() })
    }
}

/// At least 25 distinct refusals, each from real input, each with its own code.
#[test]
fn every_check_refuses_with_its_code() {
    let good = good_id_token();
    let store = MemoryReplayStore::new;
    let p = policy;
    let other = Es256Signer::from_scalar(&[7u8; 32]).unwrap();
    let refuse = |id: &str, proof: &str, pol: &ConsumerPolicy| verify(id, proof, pol, &store()).unwrap_err().code();
    let edit_id = |e: &dyn Fn(&mut serde_json::Map<String, Value>)| id_token_with(|m| e(m), |_| {});
    let edit_hdr = |e: &dyn Fn(&mut serde_json::Map<String, Value>)| id_token_with(|_| {}, |h| e(h));
    let cases: Vec<(&str, ErrorCode, ErrorCode)> = vec![
        ("issuer not accepted", ErrorCode::IssuerNotAccepted, {
            let t = edit_id(&|m| {
                m.insert("iss".into(), json!("https://evil.example"));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("ID Token signed by another key", ErrorCode::JwsSignatureInvalid, {
            let t = sign(&other, &id_header(), &id_claims());
            refuse(&t, &good_proof(&t), &p())
        }),
        ("unknown kid", ErrorCode::JwksNoMatchingKey, {
            let t = edit_hdr(&|h| {
                h.insert("kid".into(), json!("nope"));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("ID Token alg none", ErrorCode::JwsAlgNotAllowed, {
            let t = format!("{}.{}.", b64::encode(r#"{"alg":"none"}"#), b64::encode(id_claims().to_string()));
            refuse(&t, &good_proof(&t), &p())
        }),
        ("ID Token as JWE", ErrorCode::JweUnsupported, refuse("a.b.c.d.e", &good_proof("a.b.c.d.e"), &p())),
        ("ID Token not a JWS", ErrorCode::JwsMalformed, refuse("garbage", &good_proof("garbage"), &p())),
        ("typ JWT (unbound token)", ErrorCode::IdTokenTypInvalid, {
            let t = id_token_with(
                |m| {
                    m.remove("cnf");
                },
                |h| {
                    h.insert("typ".into(), json!("JWT"));
                },
            );
            refuse(&t, &good_proof(&t), &p())
        }),
        ("legacy typ refused by default", ErrorCode::IdTokenTypInvalid, {
            let t = edit_hdr(&|h| {
                h.insert("typ".into(), json!("id_token+cnf"));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("cnf.jwk in array form", ErrorCode::JsonInvalid, {
            let t = edit_id(&|m| {
                let jwk = public(&signer(CLIENT_D));
                m.insert("cnf".into(), json!({ "jwk": [jwk["kty"], jwk["crv"], jwk["x"], jwk["y"]] }));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("cnf in array form", ErrorCode::JsonInvalid, {
            let t = edit_id(&|m| {
                m.insert("cnf".into(), json!([public(&signer(CLIENT_D))]));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("cnf missing", ErrorCode::CnfMissing, {
            let t = edit_id(&|m| {
                m.remove("cnf");
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("cnf.jkt instead of cnf.jwk", ErrorCode::CnfJktOnly, {
            let t = edit_id(&|m| {
                m.insert("cnf".into(), json!({"jkt": "mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0"}));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("cnf.jwk with a private key", ErrorCode::JwkPrivateKey, {
            let t = edit_id(&|m| {
                let mut k = public(&signer(CLIENT_D));
                k["d"] = json!(CLIENT_D);
                m.insert("cnf".into(), json!({"jwk": k}));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("expired", ErrorCode::IdTokenExpired, {
            let t = edit_id(&|m| {
                m.insert("exp".into(), json!(NOW - 120));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("iat in the future", ErrorCode::IdTokenIatInvalid, {
            let t = edit_id(&|m| {
                m.insert("iat".into(), json!(NOW + 600));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("no sub", ErrorCode::IdTokenClaimMissing, {
            let t = edit_id(&|m| {
                m.remove("sub");
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("empty sub", ErrorCode::IdTokenClaimMissing, {
            let t = edit_id(&|m| {
                m.insert("sub".into(), json!(""));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("sub over 255", ErrorCode::IdTokenClaimMissing, {
            let t = edit_id(&|m| {
                m.insert("sub".into(), json!("s".repeat(256)));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("cnf.jwk ours, cnf.jkt another key's", ErrorCode::IdTokenCnfMismatch, {
            let t = edit_id(&|m| {
                m.insert("cnf".into(), json!({"jwk": public(&signer(CLIENT_D)), "jkt": "dnfb1T9jil_gOhti60baHs_WD_a4D8JN9VDJXbmBmGw"}));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("aud not accepted", ErrorCode::IdTokenAudienceMismatch, {
            let t = edit_id(&|m| {
                m.insert("aud".into(), json!("another-app"));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("aud with an extra client", ErrorCode::IdTokenAudienceMismatch, {
            let t = edit_id(&|m| {
                m.insert("aud".into(), json!(["s6BhdRkqt3", "another-app"]));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("azp of another client", ErrorCode::IdTokenAzpMismatch, {
            let t = edit_id(&|m| {
                m.insert("azp".into(), json!("another-app"));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("empty accepted list accepts nothing", ErrorCode::IdTokenAudienceMismatch, {
            let mut iss = issuers();
            iss[0].client_ids.clear();
            let pr = good_proof(&good);
            let pres = Presentation { id_token: &good, proof: &pr, htm: "POST", htu: HTU };
            block_on(consumer::verify_presentation(&iss, &p(), &pres, NOW, None::<&NoNonces>, &NativeVerifier, &store()))
                .unwrap_err()
                .code()
        }),
        (
            "proof typ JWT",
            ErrorCode::DpopTypInvalid,
            refuse(
                &good,
                &proof_with(
                    &good,
                    &signer(CLIENT_D),
                    |_| {},
                    |h| {
                        h.insert("typ".into(), json!("JWT"));
                    },
                ),
                &p(),
            ),
        ),
        (
            "proof alg HS256",
            ErrorCode::JwsAlgNotAllowed,
            refuse(
                &good,
                &proof_with(
                    &good,
                    &signer(CLIENT_D),
                    |_| {},
                    |h| {
                        h.insert("alg".into(), json!("HS256"));
                    },
                ),
                &p(),
            ),
        ),
        (
            "proof without jwk",
            ErrorCode::DpopJwkMissing,
            refuse(
                &good,
                &proof_with(
                    &good,
                    &signer(CLIENT_D),
                    |_| {},
                    |h| {
                        h.remove("jwk");
                    },
                ),
                &p(),
            ),
        ),
        (
            "proof jkt instead of jwk",
            ErrorCode::DpopJwkMissing,
            refuse(
                &good,
                &proof_with(
                    &good,
                    &signer(CLIENT_D),
                    |_| {},
                    |h| {
                        h.remove("jwk");
                        h.insert("jkt".into(), json!("x"));
                    },
                ),
                &p(),
            ),
        ),
        (
            "proof with a private jwk",
            ErrorCode::JwkPrivateKey,
            refuse(
                &good,
                &proof_with(
                    &good,
                    &signer(CLIENT_D),
                    |_| {},
                    |h| {
                        h["jwk"]["d"] = json!(CLIENT_D);
                    },
                ),
                &p(),
            ),
        ),
        ("proof signature tampered", ErrorCode::JwsSignatureInvalid, {
            let pr = good_proof(&good);
            let (head, _) = pr.rsplit_once('.').unwrap();
            refuse(&good, &format!("{head}.{}", b64::encode([1u8; 64])), &p())
        }),
        (
            "proof without iat",
            ErrorCode::DpopClaimMissing,
            refuse(
                &good,
                &proof_with(
                    &good,
                    &signer(CLIENT_D),
                    |m| {
                        m.remove("iat");
                    },
                    |_| {},
                ),
                &p(),
            ),
        ),
        (
            "proof jti too long",
            ErrorCode::DpopJtiInvalid,
            refuse(
                &good,
                &proof_with(
                    &good,
                    &signer(CLIENT_D),
                    |m| {
                        m.insert("jti".into(), json!("j".repeat(300)));
                    },
                    |_| {},
                ),
                &p(),
            ),
        ),
        (
            "proof for another method",
            ErrorCode::DpopHtmMismatch,
            refuse(
                &good,
                &proof_with(
                    &good,
                    &signer(CLIENT_D),
                    |m| {
                        m.insert("htm".into(), json!("GET"));
                    },
                    |_| {},
                ),
                &p(),
            ),
        ),
        (
            "proof for another URL",
            ErrorCode::DpopHtuMismatch,
            refuse(
                &good,
                &proof_with(
                    &good,
                    &signer(CLIENT_D),
                    |m| {
                        m.insert("htu".into(), json!("https://api.app.example.com/v1/admin"));
                    },
                    |_| {},
                ),
                &p(),
            ),
        ),
        (
            "stale proof",
            ErrorCode::DpopIatOutOfWindow,
            refuse(
                &good,
                &proof_with(
                    &good,
                    &signer(CLIENT_D),
                    |m| {
                        m.insert("iat".into(), json!(NOW - 300));
                    },
                    |_| {},
                ),
                &p(),
            ),
        ),
        (
            "proof from the future",
            ErrorCode::DpopIatOutOfWindow,
            refuse(
                &good,
                &proof_with(
                    &good,
                    &signer(CLIENT_D),
                    |m| {
                        m.insert("iat".into(), json!(NOW + 300));
                    },
                    |_| {},
                ),
                &p(),
            ),
        ),
        (
            "ath over another token",
            ErrorCode::DpopAthMismatch,
            refuse(
                &good,
                &proof_with(
                    &good,
                    &signer(CLIENT_D),
                    |m| {
                        m.insert("ath".into(), json!(pkce::s256("another.id.token")));
                    },
                    |_| {},
                ),
                &p(),
            ),
        ),
        (
            "no ath",
            ErrorCode::DpopAthMismatch,
            refuse(
                &good,
                &proof_with(
                    &good,
                    &signer(CLIENT_D),
                    |m| {
                        m.remove("ath");
                    },
                    |_| {},
                ),
                &p(),
            ),
        ),
        ("proof by another key than cnf", ErrorCode::DpopKeyMismatch, refuse(&good, &proof_with(&good, &other, |_| {}, |_| {}), &p())),
        ("cnf of another key", ErrorCode::DpopKeyMismatch, {
            let t = edit_id(&|m| {
                m.insert("cnf".into(), json!({"jwk": serde_json::from_str::<Value>(OTHER_JWK).unwrap()}));
            });
            refuse(&t, &good_proof(&t), &p())
        }),
        ("no DPoP header", ErrorCode::DpopProofMissing, refuse(&good, "", &p())),
        (
            "nonce required, none sent",
            ErrorCode::DpopNonceRequired,
            refuse(&good, &good_proof(&good), &ConsumerPolicy { require_nonce: true, ..p() }),
        ),
        ("replay", ErrorCode::DpopReplay, {
            let s = store();
            let pr = good_proof(&good);
            verify(&good, &pr, &p(), &s).expect("first use");
            verify(&good, &pr, &p(), &s).unwrap_err().code()
        }),
        ("replay store unavailable: fail closed", ErrorCode::ReplayStoreUnavailable, {
            let pr = good_proof(&good);
            let pres = Presentation { id_token: &good, proof: &pr, htm: "POST", htu: HTU };
            block_on(consumer::verify_presentation(&issuers(), &p(), &pres, NOW, None::<&NoNonces>, &NativeVerifier, &FailingStore))
                .unwrap_err()
                .code()
        }),
    ];
    let mut distinct = HashSet::new();
    for (name, want, got) in &cases {
        assert_eq!(got, want, "case {name:?}");
        distinct.insert(*want);
    }
    println!("consumer refusals tested: {} cases, {} distinct codes", cases.len(), distinct.len());
    assert!(distinct.len() >= 25, "only {} distinct refusal codes", distinct.len());
    // The legacy switch accepts draft-00 typ when on.
    let legacy = edit_hdr(&|h| {
        h.insert("typ".into(), json!("id_token+cnf"));
    });
    verify(&legacy, &good_proof(&legacy), &ConsumerPolicy { legacy_typ: true, ..p() }, &store())
        .expect("legacy typ accepted when switched on");
}

#[test]
fn consumer_nonces_are_stateless_and_time_bounded() {
    let key = HmacNonceKey::new(&[9u8; 32]).unwrap();
    let nonce = block_on(consumer::issue_nonce(&key, CONSUMER, NOW - 10)).unwrap();
    assert!(block_on(consumer::check_nonce(&key, CONSUMER, &nonce, "POST", HTU, NOW, 60, 5)).unwrap());
    assert!(!block_on(consumer::check_nonce(&key, CONSUMER, &nonce, "POST", HTU, NOW + 120, 60, 5)).unwrap(), "expired");
    let other = HmacNonceKey::new(&[8u8; 32]).unwrap();
    assert!(!block_on(consumer::check_nonce(&other, CONSUMER, &nonce, "POST", HTU, NOW, 60, 5)).unwrap(), "another key's nonce");
    assert!(!block_on(consumer::check_nonce(&key, CONSUMER, "not-a-nonce", "POST", HTU, NOW, 60, 5)).unwrap());
    assert_eq!(HmacNonceKey::new(&[1u8; 16]).unwrap_err().code(), ErrorCode::InvalidArgument);

    let good = good_id_token();
    let policy = ConsumerPolicy { require_nonce: true, consumer_id: CONSUMER.into(), ..policy() };
    let run = |proof: &str| {
        let p = Presentation { id_token: &good, proof, htm: "POST", htu: HTU };
        block_on(consumer::verify_presentation(&issuers(), &policy, &p, NOW, Some(&key), &NativeVerifier, &MemoryReplayStore::new()))
    };
    let with_nonce = |n: &str| {
        proof_with(
            &good,
            &signer(CLIENT_D),
            |m| {
                m.insert("nonce".into(), json!(n));
            },
            |_| {},
        )
    };
    run(&with_nonce(&nonce)).expect("accepted with our nonce");
    assert_eq!(run(&with_nonce("cn-9f2Kq1x7")).unwrap_err().code(), ErrorCode::DpopNonceMismatch);
    let old = block_on(consumer::issue_nonce(&key, CONSUMER, NOW - 3600)).unwrap();
    assert_eq!(run(&with_nonce(&old)).unwrap_err().code(), ErrorCode::DpopNonceMismatch, "a pre-generated proof with an old nonce");
    assert_eq!(run(&good_proof(&good)).unwrap_err().code(), ErrorCode::DpopNonceRequired);
}

/// A request nonce is good only for the method and URL it was issued for (query aside); a
/// consumer nonce for any request to that consumer. A scope byte that was tampered with does not
/// turn one into the other.
#[test]
fn request_nonces_are_bound_to_the_request() {
    let key = HmacNonceKey::new(&[9u8; 32]).unwrap();
    let check = |nonce: &str, htm: &str, htu: &str| block_on(consumer::check_nonce(&key, CONSUMER, nonce, htm, htu, NOW, 60, 5)).unwrap();
    let scope = NonceScope::Request { htm: "POST", htu: HTU };
    let nonce = block_on(consumer::issue_scoped_nonce(&key, CONSUMER, scope, NOW - 10)).unwrap();
    assert!(check(&nonce, "POST", HTU));
    assert!(check(&nonce, "post", &format!("{HTU}?page=2")), "the same request: method case, query");
    assert!(!check(&nonce, "PUT", HTU), "another method");
    assert!(!check(&nonce, "POST", "https://api.app.example.com/v1/orders"), "another URL");
    assert!(!check(&nonce, "POST", "not a url"), "an invalid URL is a mismatch");
    // The scope byte flipped to 0 ("any request"): the MAC covers it.
    let mut bytes = b64::decode(&nonce, "nonce").unwrap();
    assert_eq!(bytes[8], 1);
    bytes[8] = 0;
    assert!(!check(&b64::encode(&bytes), "POST", "https://api.app.example.com/v1/orders"), "widened scope");
    bytes[8] = 7;
    assert!(!check(&b64::encode(&bytes), "POST", HTU), "unknown scope");
    // A consumer nonce works for any request to the consumer.
    let any = block_on(consumer::issue_nonce(&key, CONSUMER, NOW)).unwrap();
    assert!(check(&any, "DELETE", "https://api.app.example.com/v1/orders"));
    // Bad scopes are refused when issuing.
    let bad = |htm, htu| block_on(consumer::issue_scoped_nonce(&key, CONSUMER, NonceScope::Request { htm, htu }, NOW)).unwrap_err().code();
    assert_eq!(bad("PO ST", HTU), ErrorCode::InvalidArgument);
    assert_eq!(bad("POST", "/v1/session"), ErrorCode::UrlInvalid);

    // Through the verifier: a proof carrying a request nonce, presented at that request and at another.
    let good = good_id_token();
    let policy = ConsumerPolicy { require_nonce: true, consumer_id: CONSUMER.into(), ..policy() };
    let at = |htu: &str| {
        let proof = proof_with(
            &good,
            &signer(CLIENT_D),
            |m| {
                m.insert("nonce".into(), json!(nonce));
                m.insert("htu".into(), json!(htu));
            },
            |_| {},
        );
        let p = Presentation { id_token: &good, proof: &proof, htm: "POST", htu };
        block_on(consumer::verify_presentation(&issuers(), &policy, &p, NOW, Some(&key), &NativeVerifier, &MemoryReplayStore::new()))
    };
    at(HTU).expect("the request the nonce was issued for");
    assert_eq!(at("https://api.app.example.com/v1/orders").unwrap_err().code(), ErrorCode::DpopNonceMismatch);
}

/// A nonce is bound to the consumer that issued it: consumer B refuses consumer A's nonce even
/// when both share the nonce secret (one leaked proof cannot be replayed across consumers).
#[test]
fn consumer_nonces_are_bound_to_the_consumer() {
    let key = HmacNonceKey::new(&[9u8; 32]).unwrap();
    let from_a = block_on(consumer::issue_nonce(&key, "consumer-a", NOW)).unwrap();
    assert!(block_on(consumer::check_nonce(&key, "consumer-a", &from_a, "POST", HTU, NOW, 60, 5)).unwrap());
    assert!(!block_on(consumer::check_nonce(&key, "consumer-b", &from_a, "POST", HTU, NOW, 60, 5)).unwrap(), "A's nonce at B");
    // 8 bytes of time, the scope byte (0: any request to this consumer), the 32-byte HMAC-SHA-256 tag.
    assert_eq!(b64::decode(&from_a, "nonce").unwrap().len(), 8 + 1 + 32);
    assert_eq!(b64::decode(&from_a, "nonce").unwrap()[8], 0);
    assert_eq!(b64::decode(&from_a, "nonce").unwrap()[..8], NOW.to_be_bytes());

    let good = good_id_token();
    let proof = proof_with(
        &good,
        &signer(CLIENT_D),
        |m| {
            m.insert("nonce".into(), json!(from_a));
        },
        |_| {},
    );
    let run = |consumer_id: &str| {
        let policy = ConsumerPolicy { require_nonce: true, consumer_id: consumer_id.into(), ..policy() };
        let p = Presentation { id_token: &good, proof: &proof, htm: "POST", htu: HTU };
        block_on(consumer::verify_presentation(&issuers(), &policy, &p, NOW, Some(&key), &NativeVerifier, &MemoryReplayStore::new()))
    };
    assert_eq!(run("consumer-b").unwrap_err().code(), ErrorCode::DpopNonceMismatch);
    run("consumer-a").expect("accepted by the consumer that issued the nonce");
}

/// `cnf` with both `jwk` and the `jkt` of that same key is fine (only two different keys are
/// refused).
#[test]
fn cnf_with_jwk_and_its_own_jkt_is_accepted() {
    let jkt = PublicJwk::from_json(&public(&signer(CLIENT_D)).to_string()).unwrap().thumbprint();
    let t = id_token_with(
        |m| {
            m.insert("cnf".into(), json!({"jwk": public(&signer(CLIENT_D)), "jkt": jkt}));
        },
        |_| {},
    );
    let a = verify(&t, &good_proof(&t), &policy(), &MemoryReplayStore::new()).expect("accepted");
    assert_eq!(a.cnf_jkt, jkt);
}

/// A refused presentation's claimed strings go into the evidence record capped, with an
/// ellipsis: a hostile token cannot write megabytes into the logs per request.
#[test]
fn evidence_records_cap_claimed_strings() {
    let max = keybound::error::MAX_ECHO_CHARS;
    let long = "x".repeat(8_000);
    let t = id_token_with(
        |m| {
            m.insert("iss".into(), json!(format!("https://{long}")));
            m.insert("sub".into(), json!(long));
        },
        |_| {},
    );
    let pr = proof_with(
        &t,
        &signer(CLIENT_D),
        |m| {
            m.insert("jti".into(), json!(long));
        },
        |_| {},
    );
    let htu = format!("{HTU}?q={long}");
    let pres = Presentation { id_token: &t, proof: &pr, htm: "POST", htu: &htu };
    let result = verify(&t, &pr, &policy(), &MemoryReplayStore::new());
    assert_eq!(result.as_ref().unwrap_err().code(), ErrorCode::IssuerNotAccepted);
    assert!(result.as_ref().unwrap_err().to_string().chars().count() < max + 100);
    let record = EvidenceRecord::new("demo-consumer", "open-session", &pres, NOW, &result);
    for field in [record.issuer.as_deref().unwrap(), record.subject.as_deref().unwrap(), record.jti.as_deref().unwrap(), &record.htu] {
        assert_eq!(field.chars().count(), max + 1, "{} chars", field.chars().count());
        assert!(field.ends_with('…'));
    }
    assert!(record.to_json().len() < 4 * max + 1000, "{} bytes", record.to_json().len());
    // Short values are kept whole.
    let good = good_id_token();
    let pr = good_proof(&good);
    let pres = Presentation { id_token: &good, proof: &pr, htm: "POST", htu: HTU };
    let record =
        EvidenceRecord::new("demo-consumer", "open-session", &pres, NOW, &verify(&good, &pr, &policy(), &MemoryReplayStore::new()));
    assert_eq!(record.htu, HTU);
    assert_eq!(record.outcome, "accepted");
}

#[test]
fn evidence_records_keep_the_facts_apart_and_counters_count() {
    let good = good_id_token();
    let store = MemoryReplayStore::new();
    let pr = good_proof(&good);
    let pres = Presentation { id_token: &good, proof: &pr, htm: "POST", htu: HTU };
    let mut counters = Counters::default();
    let r1 = verify(&good, &pr, &policy(), &store);
    let e1 = EvidenceRecord::new("demo-consumer", "open-session", &pres, NOW, &r1);
    let r2 = verify(&good, &pr, &policy(), &store);
    let e2 = EvidenceRecord::new("demo-consumer", "open-session", &pres, NOW, &r2);
    let other = Es256Signer::from_scalar(&[7u8; 32]).unwrap();
    let pr3 = proof_with(&good, &other, |_| {}, |_| {});
    let pres3 = Presentation { id_token: &good, proof: &pr3, htm: "POST", htu: HTU };
    let e3 = EvidenceRecord::new("demo-consumer", "open-session", &pres3, NOW, &verify(&good, &pr3, &policy(), &store));
    for e in [&e1, &e2, &e3] {
        counters.count(e);
    }
    let j1: Value = serde_json::from_str(&e1.to_json()).unwrap();
    assert_eq!(j1["outcome"], "accepted");
    assert_eq!(j1["issuer"], ISS);
    assert_eq!(j1["subject"], "248289761001");
    assert_eq!(j1["audience"], json!(["s6BhdRkqt3"]));
    assert_eq!(j1["cnf_jkt"], "mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0");
    assert_eq!(j1["consumer"], "demo-consumer");
    assert_eq!(j1["action"], "open-session");
    assert_eq!(j1["htu"], HTU);
    assert_eq!(j1["verified"], true);
    let j2: Value = serde_json::from_str(&e2.to_json()).unwrap();
    assert_eq!(j2["outcome"], "refused");
    assert_eq!(j2["error"], "ERR_DPOP_REPLAY");
    assert_eq!(j2["verified"], false);
    let j3: Value = serde_json::from_str(&e3.to_json()).unwrap();
    assert_eq!(j3["error"], "ERR_DPOP_KEY_MISMATCH");
    assert_ne!(j3["cnf_jkt"], j3["proof_jkt"], "the record shows which key signed and which was bound");
    assert_eq!((counters.accepted, counters.refused, counters.replays, counters.key_mismatches), (1, 2, 1, 1));
    assert_eq!(counters.refusals_by_key.get("mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0"), Some(&2));
}

#[test]
fn replay_store_memory_stays_flat_under_a_stream_of_fresh_proofs() {
    // 200,000 fresh jtis at 100 per second with a 120 s window: the store holds about one
    // window's worth (12,000), however long the stream runs.
    let store = MemoryReplayStore::new();
    let mut peak = 0;
    for i in 0..200_000i64 {
        let now = 1_800_000_000 + i / 100;
        assert!(block_on(store.check_and_store(&format!("htu jti-{i}"), now, now + 120)).unwrap());
        peak = peak.max(store.len());
    }
    println!("replay store: 200000 fresh proofs, window 12000, peak entries {peak}, final {}", store.len());
    assert!(peak <= 2 * 12_100 + 1024, "peak {peak}");
}
