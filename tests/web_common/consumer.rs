//! KeyBoundConsumer in the browser (Window and Worker): a presentation made with a real
//! non-extractable WebCrypto key is accepted once; replays, other URLs, unaccepted audiences,
//! missing nonces and a failing replay store are refused with their codes.

use js_sys::Reflect;
use keybound::protocol::htu::Htu;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

use keybound::bindings::consumer::JsConsumer;
use keybound::browser::js::now_secs;
use keybound::browser::DpopKeyPair;
use keybound::native::Es256Signer;
use keybound::protocol::dpop::ProofParams;
use keybound::protocol::jws;

const OP_D: &str = "M80UlktZOyzxpKL_Jv3D8LfIen1AiK22NHGnbF2iePE";
const ISS: &str = "https://op.example.com";
const HTU: &str = "https://api.app.example.com/v1/session";
const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"f2mEVtz-4D7TDq4D2cbLtq_wWMXEVum-ulZqGcuIIiE","y":"U0RYaKMYkvBdnB6kV5c4t-ERaueOskEM__UuMq4psOk","kid":"op-es256-2026-09","use":"sig","alg":"ES256"}]}"#;

fn get(v: &JsValue, k: &str) -> JsValue {
    Reflect::get(v, &k.into()).expect("get")
}

fn mint_id_token(key: &DpopKeyPair) -> String {
    let now = now_secs();
    let claims = format!(
        r#"{{"iss":"{ISS}","sub":"248289761001","aud":"s6BhdRkqt3","azp":"s6BhdRkqt3","iat":{now},"exp":{},"cnf":{{"jwk":{}}}}}"#,
        now + 600,
        key.public_jwk().canonical_json()
    );
    let header = r#"{"alg":"ES256","kid":"op-es256-2026-09","typ":"dpop+id_token"}"#;
    let op = Es256Signer::from_jwk_d(OP_D).expect("op key");
    let input = jws::signing_input(header, &claims);
    jws::assemble(&input, &op.sign_sync(input.as_bytes()))
}

async fn consumer(extra: &str) -> JsConsumer {
    let options = js_sys::JSON::parse(&format!(
        r#"{{"consumerId":"test-consumer","issuers":[{{"issuer":"{ISS}","clientIds":["s6BhdRkqt3"],"jwks":{JWKS}}}]{extra}}}"#
    ))
    .expect("json");
    consumer_from(options).await
}

async fn consumer_from(options: JsValue) -> JsConsumer {
    let c = JsFuture::from(JsConsumer::create(options)).await.expect("consumer");
    wasm_bindgen::convert::TryFromJsValue::try_from_js_value(c).expect("handle")
}

fn presentation(id_token: &str, proof: &str, url: &str) -> JsValue {
    let p = js_sys::Object::new();
    for (k, v) in [("idToken", id_token), ("dpop", proof), ("method", "POST"), ("url", url), ("action", "open-session")] {
        Reflect::set(&p, &k.into(), &v.into()).expect("set");
    }
    p.into()
}

async fn proof(key: &DpopKeyPair, id_token: &str, htu: &str, nonce: Option<&str>) -> String {
    let htu = &Htu::parse(htu).expect("htu");
    key.proof(&ProofParams { htm: "POST", htu, nonce, access_token: Some(id_token), code: None }).await.expect("proof")
}

fn code(err: &JsValue) -> String {
    get(err, "code").as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn a_presentation_is_accepted_once_and_refusals_carry_codes_and_evidence() {
    let key = DpopKeyPair::generate(None, false).await.expect("key");
    let id_token = mint_id_token(&key);
    let c = consumer("").await;

    let p = proof(&key, &id_token, HTU, None).await;
    let ok = JsFuture::from(c.verify(presentation(&id_token, &p, HTU))).await.expect("accepted");
    assert_eq!(get(&ok, "cnfJkt").as_string().as_deref(), Some(key.jkt()));
    assert_eq!(get(&get(&ok, "claims"), "sub").as_string().as_deref(), Some("248289761001"));
    let ev = get(&ok, "evidence");
    assert_eq!(get(&ev, "outcome").as_string().as_deref(), Some("accepted"));
    assert_eq!(get(&ev, "consumer").as_string().as_deref(), Some("test-consumer"));
    assert_eq!(get(&ev, "action").as_string().as_deref(), Some("open-session"));

    // The same request again: a replay, with its evidence.
    let err = JsFuture::from(c.verify(presentation(&id_token, &p, HTU))).await.expect_err("replay");
    assert_eq!(code(&err), "ERR_DPOP_REPLAY");
    assert_eq!(get(&get(&err, "evidence"), "outcome").as_string().as_deref(), Some("refused"));
    // A proof for another URL.
    let p2 = proof(&key, &id_token, "https://api.app.example.com/v1/admin", None).await;
    let err = JsFuture::from(c.verify(presentation(&id_token, &p2, HTU))).await.expect_err("other URL");
    assert_eq!(code(&err), "ERR_DPOP_HTU_MISMATCH");
    // Another key's proof for this token.
    let other = DpopKeyPair::generate(None, false).await.expect("key");
    let p3 = proof(&other, &id_token, HTU, None).await;
    let err = JsFuture::from(c.verify(presentation(&id_token, &p3, HTU))).await.expect_err("other key");
    assert_eq!(code(&err), "ERR_DPOP_KEY_MISMATCH");

    let counters = c.counters();
    assert_eq!(get(&counters, "accepted").as_f64(), Some(1.0));
    assert_eq!(get(&counters, "replays").as_f64(), Some(1.0));
    assert_eq!(get(&counters, "key_mismatches").as_f64(), Some(1.0));
    assert_eq!(c.records().length(), 4);
}

#[wasm_bindgen_test]
async fn audiences_nonces_and_a_failing_store() {
    let key = DpopKeyPair::generate(None, false).await.expect("key");
    let id_token = mint_id_token(&key);

    // A consumer that serves another application refuses this token.
    let other_app =
        js_sys::JSON::parse(&format!(r#"{{"consumerId":"c","issuers":[{{"issuer":"{ISS}","clientIds":["another-app"],"jwks":{JWKS}}}]}}"#))
            .expect("json");
    let c = consumer_from(other_app).await;
    let err = JsFuture::from(c.verify(presentation(&id_token, &proof(&key, &id_token, HTU, None).await, HTU))).await.expect_err("aud");
    assert_eq!(code(&err), "ERR_ID_TOKEN_AUD_MISMATCH");

    // Nonces required: the first attempt gets a fresh nonce to retry with.
    let c = consumer(r#","requireNonce":true"#).await;
    let err = JsFuture::from(c.verify(presentation(&id_token, &proof(&key, &id_token, HTU, None).await, HTU))).await.expect_err("no nonce");
    assert_eq!(code(&err), "ERR_DPOP_NONCE_REQUIRED");
    let nonce = get(&err, "dpopNonce").as_string().expect("a fresh nonce on the error");
    JsFuture::from(c.verify(presentation(&id_token, &proof(&key, &id_token, HTU, Some(&nonce)).await, HTU)))
        .await
        .expect("accepted with the nonce");
    let err = JsFuture::from(c.verify(presentation(&id_token, &proof(&key, &id_token, HTU, Some("made-up")).await, HTU)))
        .await
        .expect_err("bad nonce");
    assert_eq!(code(&err), "ERR_DPOP_NONCE_MISMATCH");

    // A replay store that fails: refused (fail closed), not accepted.
    let options =
        js_sys::JSON::parse(&format!(r#"{{"consumerId":"c","issuers":[{{"issuer":"{ISS}","clientIds":["s6BhdRkqt3"],"jwks":{JWKS}}}]}}"#))
            .expect("json");
    let failing = js_sys::eval("({ checkAndStore: async () => { throw new Error('redis is down'); } })").expect("store");
    Reflect::set(&options, &"replayStore".into(), &failing).expect("set");
    let c = consumer_from(options).await;
    let err =
        JsFuture::from(c.verify(presentation(&id_token, &proof(&key, &id_token, HTU, None).await, HTU))).await.expect_err("store down");
    assert_eq!(code(&err), "ERR_REPLAY_STORE_UNAVAILABLE");
    // A working JS store sees the jti.
    let options =
        js_sys::JSON::parse(&format!(r#"{{"consumerId":"c","issuers":[{{"issuer":"{ISS}","clientIds":["s6BhdRkqt3"],"jwks":{JWKS}}}]}}"#))
            .expect("json");
    let store = js_sys::eval("(() => { const seen = new Map(); globalThis.__kbSeen = seen; return { checkAndStore: async (k, now, exp) => { if (seen.has(k) && seen.get(k) >= now) return false; seen.set(k, exp); return true; } }; })()").expect("store");
    Reflect::set(&options, &"replayStore".into(), &store).expect("set");
    let c = consumer_from(options).await;
    let p = proof(&key, &id_token, HTU, None).await;
    JsFuture::from(c.verify(presentation(&id_token, &p, HTU))).await.expect("accepted");
    let err = JsFuture::from(c.verify(presentation(&id_token, &p, HTU))).await.expect_err("replay via the JS store");
    assert_eq!(code(&err), "ERR_DPOP_REPLAY");
    let seen: js_sys::Map = js_sys::eval("globalThis.__kbSeen").expect("map").unchecked_into();
    assert_eq!(seen.size(), 1);
}
