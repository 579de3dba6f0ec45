//! Throughput of the native consumer verifier: N distinct presentations (ES256 ID Token + ES256
//! proof, fresh jti each), verified one after the other with the in-memory replay store.
//! Prints figures; asserts nothing about speed.
//!
//!     cargo run --release --features native --example consumer_bench [N]

use std::time::Instant;

use keybound::native::block_on;
use keybound::native::{Es256Signer, NativeVerifier};
use keybound::protocol::consumer::{self, AcceptedIssuer, ConsumerPolicy, MemoryReplayStore, NoNonces, Presentation};
use keybound::protocol::crypto::Signer;
use keybound::protocol::id_token::Jwks;
use keybound::protocol::jwa::Alg;
use keybound::protocol::{jws, pkce};

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5000);
    let op = Es256Signer::from_scalar(&[3u8; 32]).expect("op key");
    let client = Es256Signer::from_scalar(&[5u8; 32]).expect("client key");
    let now = 1_800_000_000i64;
    let htu = "https://api.example.com/v1/session";
    let jwks = Jwks::from_json(&format!(r#"{{"keys":[{}]}}"#, op.public_jwk().canonical_json().replacen('{', r#"{"kid":"k1","#, 1)))
        .expect("jwks");
    let issuers = [AcceptedIssuer { issuer: "https://op.example.com".into(), jwks, client_ids: vec!["app".into()] }];
    let policy = ConsumerPolicy { id_token_algs: vec![Alg::Es256], ..ConsumerPolicy::default() };
    let claims = format!(
        r#"{{"iss":"https://op.example.com","sub":"u1","aud":"app","iat":{now},"exp":{},"cnf":{{"jwk":{}}}}}"#,
        now + 3600,
        client.public_jwk().canonical_json()
    );
    let input = jws::signing_input(r#"{"alg":"ES256","kid":"k1","typ":"dpop+id_token"}"#, &claims);
    let id_token = jws::assemble(&input, &op.sign_sync(input.as_bytes()));
    let header = format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{}}}"#, client.public_jwk().canonical_json());
    let ath = pkce::s256(&id_token);
    let proofs: Vec<String> = (0..n)
        .map(|i| {
            let input =
                jws::signing_input(&header, &format!(r#"{{"jti":"jti-{i}","htm":"POST","htu":"{htu}","iat":{now},"ath":"{ath}"}}"#));
            jws::assemble(&input, &client.sign_sync(input.as_bytes()))
        })
        .collect();
    let store = MemoryReplayStore::new();
    let start = Instant::now();
    for proof in &proofs {
        let p = Presentation { id_token: &id_token, proof, htm: "POST", htu };
        block_on(consumer::verify_presentation(&issuers, &policy, &p, now, None::<&NoNonces>, &NativeVerifier, &store)).expect("accepted");
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "native consumer verifier: {n} presentations in {:.1} ms = {:.0} presentations/s ({:.1} µs each; two ES256 verifications per presentation)",
        secs * 1e3,
        n as f64 / secs,
        secs * 1e6 / n as f64
    );
}
