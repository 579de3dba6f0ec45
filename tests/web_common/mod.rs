//! Tests shared by the Window and the Worker binaries: real WebCrypto, real IndexedDB.

mod consumer;
mod lowlevel;

use js_sys::{Object, Promise, Reflect};
use keybound::protocol::htu::Htu;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

use keybound::bindings::{api, errors, keys};
use keybound::browser::subtle::{self, WebCryptoVerifier};
use keybound::browser::{database, DpopKeyPair};
use keybound::protocol::dpop::{self, ProofCheck, ProofParams};
use keybound::protocol::jwa::Alg;
use keybound::protocol::jwk::PublicJwk;
use keybound::protocol::{b64, jws};
use keybound::ErrorCode;

fn unique_id(prefix: &str) -> String {
    let mut r = [0u8; 9];
    subtle::fill_random(&mut r).expect("random");
    format!("{prefix}-{}", b64::encode(r))
}

fn get(v: &JsValue, name: &str) -> JsValue {
    Reflect::get(v, &name.into()).expect("property")
}

/// `crypto.subtle.exportKey("jwk", key)`: resolves for a public key, must reject for a
/// non-extractable private key. (`"pkcs8"` would also reject for a public key, so it proves
/// nothing.)
async fn export_jwk(key: &web_sys::CryptoKey) -> Result<JsValue, JsValue> {
    JsFuture::from(subtle::subtle().expect("subtle").export_key("jwk", key)?).await
}

fn code_of(err: &JsValue) -> String {
    get(err, "code").as_string().unwrap_or_default()
}

/// Replaces `globalThis[name]` for the duration of a test and restores it afterwards, whether
/// the property is an own accessor of the global or lives on its prototype.
struct Shadow {
    name: &'static str,
    saved: JsValue,
}

impl Shadow {
    fn new(name: &'static str, value: &JsValue) -> Shadow {
        let global = js_sys::global();
        let saved = Object::get_own_property_descriptor(&global, &name.into());
        let desc = Object::new();
        Reflect::set(&desc, &"value".into(), value).expect("set");
        Reflect::set(&desc, &"configurable".into(), &true.into()).expect("set");
        Reflect::set(&desc, &"writable".into(), &true.into()).expect("set");
        Object::define_property(&global, &name.into(), &desc);
        Shadow { name, saved }
    }
}

impl Drop for Shadow {
    fn drop(&mut self) {
        let global = js_sys::global();
        if self.saved.is_undefined() {
            let _ = Reflect::delete_property(&global, &self.name.into());
        } else {
            Object::define_property(&global, &self.name.into(), self.saved.unchecked_ref());
        }
    }
}

#[wasm_bindgen_test]
fn kb_example_thumbprint_in_the_browser() {
    let jwk = PublicJwk::from_json(
        r#"{"crv":"P-256","kty":"EC","x":"ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc","y":"nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4"}"#,
    )
    .expect("jwk");
    assert_eq!(jwk.thumbprint(), "dnfb1T9jil_gOhti60baHs_WD_a4D8JN9VDJXbmBmGw");
}

#[wasm_bindgen_test]
async fn generated_key_is_non_extractable_and_survives_an_indexeddb_round_trip() {
    let id = unique_id("roundtrip");
    let key = DpopKeyPair::generate(Some(id.clone()), true).await.expect("generate");
    let private = key.key_pair().get_private_key();
    assert!(!private.extractable(), "private key must be non-extractable");
    assert!(key.key_pair().get_public_key().extractable(), "public key stays exportable");
    assert!(export_jwk(&private).await.is_err(), "exporting the private key must fail");
    assert!(export_jwk(&key.key_pair().get_public_key()).await.is_ok());
    assert_eq!(key.jkt().len(), 43);

    // Every database call opens a new connection and closes it afterwards, so this read goes
    // through a closed-and-reopened database and a structured-clone read-back.
    let db = database::open().await.expect("open");
    db.close();
    let loaded = DpopKeyPair::load(&id).await.expect("load");
    let loaded_private = loaded.key_pair().get_private_key();
    assert!(!loaded_private.extractable(), "still non-extractable after the round trip");
    assert!(export_jwk(&loaded_private).await.is_err(), "exporting the reloaded private key must fail");
    assert_eq!(loaded.jkt(), key.jkt());

    // The reloaded private key signs; the original public key verifies.
    let htu = Htu::parse("https://rs.example/r").expect("htu");
    let proof = loaded.proof(&ProofParams::new("GET", &htu)).await.expect("proof");
    let check = ProofCheck {
        htm: "GET",
        htu: &htu,
        now: keybound::browser::js::now_secs(),
        max_age: 60,
        max_skew: 5,
        allowed_algs: &[Alg::Es256],
        nonce: None,
        access_token: None,
        code: None,
        expected_jkt: Some(key.jkt()),
    };
    dpop::verify_proof(&proof, &check, &WebCryptoVerifier).await.expect("verifies with the original key");

    assert!(DpopKeyPair::delete(&id).await.expect("delete"));
    assert!(!DpopKeyPair::delete(&id).await.expect("delete again"));
    let err = DpopKeyPair::load(&id).await.expect_err("gone");
    assert_eq!(err.error.code(), ErrorCode::KeyNotFound);
}

#[wasm_bindgen_test]
async fn webcrypto_proof_verifies_with_webcrypto_and_with_the_native_verifier() {
    let key = DpopKeyPair::generate(None, false).await.expect("generate");
    assert!(!key.persisted());
    let sent = Htu::parse("HTTP://127.0.0.1:8080/token?ignored=1").expect("htu");
    let params =
        ProofParams { htm: "POST", htu: &sent, nonce: Some("server-nonce-1"), access_token: None, code: Some("SplxlOBeZQQYbYS6WxSbIA") };
    let proof = key.proof(&params).await.expect("proof");
    let expected = Htu::parse("http://127.0.0.1:8080/token").expect("htu");
    let check = ProofCheck {
        htm: "POST",
        htu: &expected,
        now: keybound::browser::js::now_secs(),
        max_age: 60,
        max_skew: 5,
        allowed_algs: &[Alg::Es256],
        nonce: Some("server-nonce-1"),
        access_token: None,
        code: Some("SplxlOBeZQQYbYS6WxSbIA"),
        expected_jkt: Some(key.jkt()),
    };
    let verified = dpop::verify_proof(&proof, &check, &WebCryptoVerifier).await.expect("webcrypto verify");
    assert_eq!(verified.claims.c_s256.as_deref(), Some("o1uBp9eSe3DsmScN0jYriFgKKFdK-BLywC9WRpV5GG8"));
    assert_eq!(verified.claims.htu, "http://127.0.0.1:8080/token");
    assert_eq!(b64::decode(&verified.claims.jti, "jti").expect("jti").len(), 16, "128-bit jti");

    // The same bytes through RustCrypto (compiled to wasm here).
    keybound::native::verify_signature(
        Alg::Es256,
        key.public_jwk(),
        proof.rsplit_once('.').expect("dot").0.as_bytes(),
        &b64::decode(proof.rsplit('.').next().expect("sig"), "sig").expect("b64"),
    )
    .expect("native verify");

    // Two proofs never share a jti.
    let again = key.proof(&params).await.expect("proof");
    let v2 = dpop::verify_proof(&again, &check, &WebCryptoVerifier).await.expect("verify");
    assert_ne!(v2.claims.jti, verified.claims.jti);

    // A tampered proof fails.
    let mut parts: Vec<String> = proof.split('.').map(str::to_owned).collect();
    parts[1] = b64::encode(br#"{"jti":"x","htm":"POST","htu":"http://127.0.0.1:8080/token","iat":1}"#);
    let err = dpop::verify_proof(&parts.join("."), &check, &WebCryptoVerifier).await.expect_err("tampered");
    assert_eq!(err.code(), ErrorCode::JwsSignatureInvalid);
}

#[wasm_bindgen_test]
async fn webcrypto_verifies_the_worked_example_id_token() {
    let vectors: std::collections::BTreeMap<String, String> =
        serde_json::from_str(include_str!("../vectors/worked_example.json")).expect("vectors");
    let op = PublicJwk::from_json(
        r#"{"kty":"EC","crv":"P-256","x":"f2mEVtz-4D7TDq4D2cbLtq_wWMXEVum-ulZqGcuIIiE","y":"U0RYaKMYkvBdnB6kV5c4t-ERaueOskEM__UuMq4psOk"}"#,
    )
    .expect("op key");
    let token = &vectors["id_token"];
    let parsed = jws::parse(token, &[Alg::Es256], jws::Limits::default()).expect("parse");
    jws::verify(&parsed, &op, &WebCryptoVerifier).await.expect("verifies");
    let mut tampered = token.clone();
    tampered.replace_range(tampered.len() - 3.., "AAA");
    let parsed = jws::parse(&tampered, &[Alg::Es256], jws::Limits::default()).expect("parse");
    let err = jws::verify(&parsed, &op, &WebCryptoVerifier).await.expect_err("tampered");
    assert_eq!(err.code(), ErrorCode::JwsSignatureInvalid);
}

#[wasm_bindgen_test]
async fn missing_indexeddb_is_a_coded_error_not_a_hang() {
    let _shadow = Shadow::new("indexedDB", &JsValue::UNDEFINED);
    let err = DpopKeyPair::generate(Some(unique_id("no-idb")), true).await.expect_err("no IndexedDB");
    assert_eq!(err.error.code(), ErrorCode::KeyStoreUnavailable);
    let err = DpopKeyPair::load("anything").await.expect_err("no IndexedDB");
    assert_eq!(err.error.code(), ErrorCode::KeyStoreUnavailable);
    // An in-memory key still works without IndexedDB.
    let key = DpopKeyPair::generate(None, false).await.expect("ephemeral key");
    assert_eq!(key.jkt().len(), 43);
}

#[wasm_bindgen_test]
async fn missing_webcrypto_is_a_coded_error() {
    let err = {
        let _shadow = Shadow::new("crypto", &Object::new().into());
        DpopKeyPair::generate(None, false).await.expect_err("no crypto.subtle")
    };
    assert_eq!(err.error.code(), ErrorCode::CryptoUnavailable);
    // Restored afterwards.
    DpopKeyPair::generate(None, false).await.expect("crypto is back");
}

#[wasm_bindgen_test]
async fn a_stored_record_of_another_version_is_refused() {
    let id = unique_id("v99");
    let db = database::open().await.expect("open");
    let tx = db.transaction_with_str_and_mode(database::KEY_STORE, web_sys::IdbTransactionMode::Readwrite).expect("tx");
    let record = Object::new();
    Reflect::set(&record, &"v".into(), &99.into()).expect("set");
    tx.object_store(database::KEY_STORE).expect("store").put_with_key(&record, &id.as_str().into()).expect("put");
    let done = Promise::new(&mut |resolve, _| tx.set_oncomplete(Some(&resolve)));
    JsFuture::from(done).await.expect("committed");
    db.close();
    let err = DpopKeyPair::load(&id).await.expect_err("unknown version");
    assert_eq!(err.error.code(), ErrorCode::KeyRecordInvalid);
    assert!(DpopKeyPair::delete(&id).await.expect("delete"));
}

#[wasm_bindgen_test]
async fn js_errors_are_real_errors_with_a_code_and_a_cause() {
    // A core error from the facade.
    let private_jwk = js_sys::JSON::parse(
        r#"{"kty":"EC","crv":"P-256","x":"V8Ok_mX6-51HS6UDE5CB6Rjrg6qVknQ9OPm9ILHoj1M","y":"hvF-K-t8abiAs-KSDQbmZlHOa_Z_Xt7aqQ70FHxW6Wg","d":"EdiqAaCkaOmnDTOZuSzBCITGx2O7JLc3pV6ZTgtmwPs"}"#,
    )
    .expect("json");
    let err = api::calculate_jwk_thumbprint(private_jwk.unchecked_into()).expect_err("private JWK");
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(get(&err, "name").as_string().as_deref(), Some("KeyboundError"));
    assert_eq!(code_of(&err), "ERR_JWK_PRIVATE_KEY");

    // A browser exception keeps the DOMException as `cause`: signing with the public key.
    let key = DpopKeyPair::generate(None, false).await.expect("generate");
    let failure = subtle::sign_es256(&key.key_pair().get_public_key(), b"x").await.expect_err("wrong key usage");
    let err = errors::to_js(failure);
    assert_eq!(code_of(&err), "ERR_CRYPTO_OPERATION");
    let cause = get(&err, "cause");
    assert!(cause.is_instance_of::<web_sys::DomException>(), "cause is the DOMException");

    // Rejections of the async facade carry codes too.
    let bad = js_sys::JSON::parse(r#"{"htm":"POST"}"#).expect("json");
    let js_key =
        JsFuture::from(keys::generate_dpop_key_pair(Some(js_sys::JSON::parse(r#"{"persist":false}"#).expect("json").unchecked_into())))
            .await
            .expect("key");
    assert!(Object::is_frozen(js_key.unchecked_ref::<Object>()), "the key object is frozen");
    let err = JsFuture::from(keys::create_dpop_proof(js_key.clone(), bad)).await.expect_err("no htu");
    assert_eq!(code_of(&err), "ERR_INVALID_ARGUMENT");
    assert_eq!(get(&err, "argument").as_string().as_deref(), Some("htu"));

    // Every Rust code is exposed to JS, once.
    let codes: Vec<String> = api::error_codes().iter().filter_map(|c| c.as_string()).collect();
    assert_eq!(codes.len(), ErrorCode::ALL.len());
}

#[wasm_bindgen_test]
async fn wrong_argument_types_are_coded_rejections_not_traps() {
    // A number, an object, null where a string id is expected: ERR_INVALID_ARGUMENT, not a
    // "memory access out of bounds" trap inside the wasm.
    for id in [JsValue::from(42), Object::new().into(), JsValue::NULL, JsValue::UNDEFINED] {
        let err = JsFuture::from(keys::load_dpop_key_pair(id.clone())).await.expect_err("not a string");
        assert_eq!(code_of(&err), "ERR_INVALID_ARGUMENT");
        assert_eq!(get(&err, "argument").as_string().as_deref(), Some("id"));
        let err = JsFuture::from(keys::delete_dpop_key_pair(id.clone())).await.expect_err("not a string");
        assert_eq!(code_of(&err), "ERR_INVALID_ARGUMENT");
        let err = keys::calculate_pkce_code_challenge(id).expect_err("not a string");
        assert_eq!(code_of(&err), "ERR_INVALID_ARGUMENT");
    }
    // Anything but a DPoPKeyPair object as `key`: a rejected promise with a code, never a throw.
    let options = js_sys::JSON::parse(r#"{"htm":"POST","htu":"https://op.example.com/token"}"#).expect("json");
    let fake = js_sys::JSON::parse(r#"{"id":"x","jkt":"y","keyPair":{}}"#).expect("json");
    for key in [JsValue::NULL, Object::new().into(), fake, JsValue::from("key")] {
        let err = JsFuture::from(keys::create_dpop_proof(key, options.clone())).await.expect_err("not a key");
        assert_eq!(code_of(&err), "ERR_INVALID_ARGUMENT");
        assert_eq!(get(&err, "argument").as_string().as_deref(), Some("key"));
    }
    // The real thing works with the same options.
    let key =
        JsFuture::from(keys::generate_dpop_key_pair(Some(js_sys::JSON::parse(r#"{"persist":false}"#).expect("json").unchecked_into())))
            .await
            .expect("key");
    let proof = JsFuture::from(keys::create_dpop_proof(key, options)).await.expect("proof");
    assert_eq!(proof.as_string().expect("string").split('.').count(), 3);
}

#[wasm_bindgen_test]
async fn a_stored_key_is_never_silently_replaced() {
    let id = unique_id("taken");
    let first = DpopKeyPair::generate(Some(id.clone()), true).await.expect("first");
    let err = DpopKeyPair::generate(Some(id.clone()), true).await.expect_err("id taken");
    assert_eq!(err.error.code(), ErrorCode::KeyExists);
    assert_eq!(DpopKeyPair::load(&id).await.expect("load").jkt(), first.jkt(), "the first key is still there");
    assert!(DpopKeyPair::delete(&id).await.expect("delete"));
}

/// Every request is bounded by `AbortSignal.timeout`; a platform without it gets a coded error
/// before anything is sent, never a request that could wait forever. An aborted caller signal is
/// `ERR_CANCELLED`, also before anything is sent.
#[wasm_bindgen_test]
async fn requests_without_a_bound_are_refused_with_a_code() {
    use keybound::browser::http::{self, Deadline};
    let req = || keybound::protocol::oauth::discovery_request("http://127.0.0.1:9").expect("a request");
    let err = {
        let _shadow = Shadow::new("AbortSignal", &Object::new().into());
        http::send(&req(), &Deadline::default()).await.expect_err("no AbortSignal.timeout")
    };
    assert_eq!(err.error.code(), ErrorCode::Network);
    assert!(err.error.to_string().contains("AbortSignal"), "{}", err.error);
    let class: js_sys::Function = Reflect::get(&js_sys::global(), &"AbortController".into()).expect("AbortController").unchecked_into();
    let controller = Reflect::construct(&class, &js_sys::Array::new()).expect("new AbortController");
    let abort: js_sys::Function = Reflect::get(&controller, &"abort".into()).expect("abort").unchecked_into();
    abort.call0(&controller).expect("abort()");
    let signal: web_sys::AbortSignal = Reflect::get(&controller, &"signal".into()).expect("signal").unchecked_into();
    let deadline = Deadline::default().with_signal(Some(signal));
    let err = http::send(&req(), &deadline).await.expect_err("aborted");
    assert_eq!(err.error.code(), ErrorCode::Cancelled);
}
