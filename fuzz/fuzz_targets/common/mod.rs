//! Shared pieces of the fuzz targets: test verifiers, the worked-example fixtures (tests/vectors/worked_example.json)
//! and the checks every returned error must pass.
#![allow(dead_code)]

use keybound::protocol::crypto::Verifier;
use keybound::protocol::jwa::Alg;
use keybound::protocol::jwk::PublicJwk;
use keybound::Error;

/// A verifier that accepts every signature, so the checks after the signature are reachable.
pub struct AlwaysOk;

impl Verifier for AlwaysOk {
    async fn verify(&self, _alg: Alg, _key: &PublicJwk, _input: &[u8], _sig: &[u8]) -> keybound::Result<()> {
        Ok(())
    }
}

/// A verifier that refuses every signature: nothing may be accepted with it.
pub struct AlwaysFail;

impl Verifier for AlwaysFail {
    async fn verify(&self, _alg: Alg, _key: &PublicJwk, _input: &[u8], _sig: &[u8]) -> keybound::Result<()> {
        Err(Error::JwsSignatureInvalid)
    }
}

/// Every error from hostile input: a stable `ERR_*` code, and a message that stays bounded
/// (attacker-controlled strings are capped at 256 characters each, a message echoes at most two).
pub fn check_error(e: &Error) {
    let code = e.code().as_str();
    assert!(code.starts_with("ERR_"), "code {code:?}");
    let msg = e.to_string();
    assert!(!msg.is_empty());
    assert!(msg.chars().count() <= 1600, "unbounded error message ({} chars) for {code}", msg.chars().count());
    let _ = format!("{e:?}");
}

/// `check_error` on the error side of a result, passing the result on.
pub fn checked<T>(r: keybound::Result<T>) -> keybound::Result<T> {
    if let Err(e) = &r {
        check_error(e);
    }
    r
}

/// Splits `data` at the first `n - 1` occurrences of `sep`; missing parts are empty.
pub fn split_n(data: &[u8], sep: u8, n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |b| *b == sep).collect();
    while out.len() < n {
        out.push(&[]);
    }
    out
}

/// Lossy text: the parsers take `&str`, and the network gives bytes.
pub fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

// ---- the worked example ---------------------------------------------------------------------

pub const ISSUER: &str = "https://op.example.com";
pub const CLIENT_ID: &str = "s6BhdRkqt3";
pub const T0: i64 = 1_790_000_000;
/// thumbprint of the client DPoP key.
pub const DPOP_JKT: &str = "mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0";
pub const CODE: &str = "Q3JkYXV0aGNvZGUtZXhhbXBsZS0wMDE";
pub const OIDC_NONCE: &str = "n-0S6_WzA2Mj-7c1e";

/// The OP's JWKS: the worked example's ES256 key, the recorded RS256 key (passkey vector), an
/// Ed25519 key, a P-384 key, a key without `kid`, an encryption key and an unsupported curve.
pub const JWKS: &str = r#"{"keys":[
 {"kty":"EC","crv":"P-256","x":"f2mEVtz-4D7TDq4D2cbLtq_wWMXEVum-ulZqGcuIIiE","y":"U0RYaKMYkvBdnB6kV5c4t-ERaueOskEM__UuMq4psOk","kid":"op-es256-2026-09","use":"sig","alg":"ES256"},
 {"kty":"RSA","e":"AQAB","kid":"op-rs256-eB5oe6zx","alg":"RS256","use":"sig","n":"u_MaQO6SVb8TCyj0qA4K6Ds58t1fEgImtWs7YfjyalReZFZVI_GNXg_QB_YJAGcRuBO92j2h_JMHgvszPNHjAFnSSTKOgEerIzevVx15kxQo9nZdPLNx1oOz0jx2UAzApXarGnqqF0TLIrGqTtBM0J3POG72Y6lPdMF6HXz0vSc5g3E8LbKW4hmwHyFaPytBQ4tiwSlOpnrgb7SpHEXuvZtP1zDv-dS6y81tGb3Z1wxRJbMmJ1rTZ7ufp-ZoZE-5BcDJywMbHiBNDrVodsKrlFcDUteJTXTcUONrU-6EY_H9RFskuLHYWEUObel30VWcWdKyUF8kiv2SMcQ7hXpvyw"},
 {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"op-ed25519"},
 {"kty":"EC","crv":"P-256","x":"ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc","y":"nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4"},
 {"kty":"EC","crv":"P-256","x":"V8Ok_mX6-51HS6UDE5CB6Rjrg6qVknQ9OPm9ILHoj1M","y":"hvF-K-t8abiAs-KSDQbmZlHOa_Z_Xt7aqQ70FHxW6Wg","kid":"enc","use":"enc"},
 {"kty":"EC","crv":"secp256k1","x":"AAAA","y":"AAAA","kid":"k1"}
]}"#;

/// The parsed `JWKS` (five usable keys).
pub fn jwks() -> keybound::protocol::id_token::Jwks {
    let jwks = keybound::protocol::id_token::Jwks::from_json(JWKS).expect("fixture JWKS");
    assert_eq!(jwks.len(), 5);
    jwks
}

/// With `FUZZ_TRACE=1` in the environment, prints each labelled outcome (to check what the seeds
/// reach: `FUZZ_TRACE=1 fuzz/target/<triple>/release/<target> fuzz/seeds/<target>/*`).
pub fn trace<T>(label: &str, r: &keybound::Result<T>) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some()) {
        match r {
            Ok(_) => eprintln!("trace: {label}: accepted"),
            Err(e) => eprintln!("trace: {label}: {}", e.code().as_str()),
        }
    }
}

/// Whether `json` is a JSON object (its first non-whitespace byte is `{`).
pub fn is_object(json: &[u8]) -> bool {
    json.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) == Some(&b'{')
}

/// A property that a known, reported issue violates: returns `true` when it holds. When it does
/// not: panics, or with `KEYBOUND_FUZZ_SKIP_KNOWN` set in the environment returns `false` so that
/// the caller stops there (to fuzz everything else while the issue is open; see README.md).
pub fn known_issue(holds: bool, what: impl FnOnce() -> String) -> bool {
    static SKIP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if holds {
        return true;
    }
    if *SKIP.get_or_init(|| std::env::var_os("KEYBOUND_FUZZ_SKIP_KNOWN").is_some()) {
        return false;
    }
    panic!("{}", what());
}

/// Checks that a JSON document the crate got past parsing was an object (JOSE headers, JWKs, JWT
/// claims sets, OAuth responses and clientDataJSON are JSON objects; serde's derived
/// `Deserialize` also reads a JSON array, field by field: a known issue).
pub fn accepted_object(json: &[u8], what: &str) -> bool {
    known_issue(is_object(json), || format!("{what} accepted, but it is not a JSON object: {:?}", String::from_utf8_lossy(json)))
}

/// The decoded part `i` of a compact JWS (empty when it is not base64url).
pub fn jws_part(token: &str, i: usize) -> Vec<u8> {
    token.split('.').nth(i).and_then(|p| keybound::protocol::b64::decode(p, "part").ok()).unwrap_or_default()
}
