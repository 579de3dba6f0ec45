//! The low-level JS API (own-your-I/O builders and processors) against the worked example (tests/vectors/worked_example.json).

use js_sys::Reflect;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

use keybound::bindings::id_token::validate_id_token;
use keybound::bindings::lowlevel as ll;

fn obj(json: &str) -> JsValue {
    js_sys::JSON::parse(json).expect("json")
}

fn get(v: &JsValue, k: &str) -> JsValue {
    Reflect::get(v, &k.into()).expect("get")
}

fn code_of(err: &JsValue) -> String {
    get(err, "code").as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
fn authorization_url_callback_and_token_request_of_the_worked_example() {
    let url = ll::build_authorization_url(obj(
        r#"{"authorizationEndpoint":"https://op.example.com/authorize","clientId":"s6BhdRkqt3","redirectUri":"https://app.example.com/cb",
            "scope":"profile offline_access","state":"Hx3pQ9vZt1","nonce":"n-0S6_WzA2Mj-7c1e",
            "codeChallenge":"fWqQ4kEy5h3WbXFtrbl9Bl1pZoof-zNLCrkD77r3Dps","dpopJkt":"mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0"}"#,
    ))
    .expect("url");
    let parsed = web_sys_url_params(&url);
    assert_eq!(parsed.get("scope").map(String::as_str), Some("openid profile offline_access bound_key"));
    assert_eq!(parsed.get("dpop_jkt").map(String::as_str), Some("mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0"));
    assert_eq!(parsed.get("code_challenge_method").map(String::as_str), Some("S256"));
    assert_eq!(parsed.get("response_type").map(String::as_str), Some("code"));

    let code = ll::validate_authorization_response(
        "https://app.example.com/cb?code=Q3JkYXV0aGNvZGUtZXhhbXBsZS0wMDE&state=Hx3pQ9vZt1&iss=https%3A%2F%2Fop.example.com".into(),
        obj(r#"{"state":"Hx3pQ9vZt1","issuer":"https://op.example.com","issRequired":true}"#),
    )
    .expect("code");
    assert_eq!(code, "Q3JkYXV0aGNvZGUtZXhhbXBsZS0wMDE");
    let err = ll::validate_authorization_response(
        "https://app.example.com/cb?code=x&state=forged".into(),
        obj(r#"{"state":"Hx3pQ9vZt1","issuer":"https://op.example.com"}"#),
    )
    .expect_err("state");
    assert_eq!(code_of(&err), "ERR_STATE_MISMATCH");

    let req = ll::build_code_token_request(obj(
        r#"{"tokenEndpoint":"https://op.example.com/token","code":"Q3JkYXV0aGNvZGUtZXhhbXBsZS0wMDE","redirectUri":"https://app.example.com/cb",
            "codeVerifier":"Yb3Jm0fJ3tqzOJ1mZr9gq2wF0k1kXnVvQm3PpWq8sZE","clientId":"s6BhdRkqt3","dpopProof":"p.r.s"}"#,
    ))
    .expect("request");
    assert_eq!(
        get(&req, "body").as_string().as_deref(),
        Some("grant_type=authorization_code&code=Q3JkYXV0aGNvZGUtZXhhbXBsZS0wMDE&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&code_verifier=Yb3Jm0fJ3tqzOJ1mZr9gq2wF0k1kXnVvQm3PpWq8sZE&client_id=s6BhdRkqt3")
    );
    assert_eq!(get(&get(&req, "headers"), "dpop").as_string().as_deref(), Some("p.r.s"));
}

fn web_sys_url_params(url: &str) -> std::collections::HashMap<String, String> {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let params = js_sys::eval(&format!("Object.fromEntries(new URLSearchParams({:?}))", query)).expect("eval");
    js_sys::Object::entries(&params.into())
        .iter()
        .map(|e| {
            let pair = js_sys::Array::from(&e);
            (pair.get(0).as_string().unwrap_or_default(), pair.get(1).as_string().unwrap_or_default())
        })
        .collect()
}

#[wasm_bindgen_test]
fn token_responses() {
    let ok = ll::process_token_response(obj(
        r#"{"status":200,"contentType":"application/json","body":"{\"access_token\":\"SlAV32hkKG\",\"token_type\":\"dpop\",\"expires_in\":3600,\"refresh_token\":\"8xLOxBtZp8-rt-1\",\"id_token\":\"a.b.c\"}"}"#,
    ))
    .expect("ok");
    assert_eq!(get(&ok, "tokenType").as_string().as_deref(), Some("DPoP"));
    assert_eq!(get(&ok, "refreshToken").as_string().as_deref(), Some("8xLOxBtZp8-rt-1"));
    let err = ll::process_token_response(obj(
        r#"{"status":400,"contentType":"application/json","dpopNonce":"eyJ7S_zG.eyJH0-Z.HX4w-7v","body":"{\"error\":\"use_dpop_nonce\"}"}"#,
    ))
    .expect_err("nonce");
    assert_eq!(code_of(&err), "ERR_USE_DPOP_NONCE");
    assert!(ll::is_dpop_nonce_error(err.clone()));
    assert_eq!(get(&err, "dpopNonce").as_string().as_deref(), Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"));
    let err = ll::process_token_response(obj(r#"{"status":400,"contentType":"application/json","body":"{\"error\":\"invalid_grant\"}"}"#))
        .expect_err("grant");
    assert_eq!(code_of(&err), "ERR_OAUTH_ERROR");
    assert_eq!(get(&err, "error").as_string().as_deref(), Some("invalid_grant"));
    assert!(get(&err, "errorDescription").is_null(), "declared, null when the OP sent none");
    assert_eq!(get(&err, "status").as_f64(), Some(400.0));
    assert!(!ll::is_dpop_nonce_error(err));
    let err = ll::process_token_response(obj(r#"{"status":"200","body":""}"#)).expect_err("bad status");
    assert_eq!(code_of(&err), "ERR_INVALID_ARGUMENT");
}

#[wasm_bindgen_test]
async fn validate_id_token_of_the_worked_example() {
    let vectors: std::collections::BTreeMap<String, String> =
        serde_json::from_str(include_str!("../vectors/worked_example.json")).expect("vectors");
    let jwks = obj(
        r#"{"keys":[{"kty":"EC","crv":"P-256","x":"f2mEVtz-4D7TDq4D2cbLtq_wWMXEVum-ulZqGcuIIiE","y":"U0RYaKMYkvBdnB6kV5c4t-ERaueOskEM__UuMq4psOk","kid":"op-es256-2026-09","use":"sig","alg":"ES256"}]}"#,
    );
    let options = r#"{"issuer":"https://op.example.com","clientId":"s6BhdRkqt3","nonce":"n-0S6_WzA2Mj-7c1e","dpopJkt":"mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0","currentDate":1790000030}"#;
    let v = JsFuture::from(validate_id_token(vectors["id_token"].clone(), jwks.clone(), obj(options))).await.expect("valid");
    assert_eq!(get(&v, "bound").as_bool(), Some(true));
    assert_eq!(get(&get(&v, "claims"), "sub").as_string().as_deref(), Some("248289761001"));
    let other_key = options.replace("mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0", "dnfb1T9jil_gOhti60baHs_WD_a4D8JN9VDJXbmBmGw");
    let err = JsFuture::from(validate_id_token(vectors["id_token"].clone(), jwks.clone(), obj(&other_key))).await.expect_err("other key");
    assert_eq!(code_of(&err), "ERR_ID_TOKEN_CNF_MISMATCH");
    let late = options.replace("1790000030", "1800000000");
    let err = JsFuture::from(validate_id_token(vectors["id_token"].clone(), jwks.clone(), obj(&late))).await.expect_err("expired");
    assert_eq!(code_of(&err), "ERR_ID_TOKEN_EXPIRED");
    // Structured fields reach JS on this path too (Error::fields): the times, the unknown kid.
    assert_eq!(get(&err, "now").as_f64(), Some(1_800_000_000.0));
    assert!(get(&err, "exp").as_f64().is_some_and(|exp| exp < 1_800_000_000.0));
    let other_kid = obj(&jwks_text_with_kid("another-kid"));
    let err = JsFuture::from(validate_id_token(vectors["id_token"].clone(), other_kid, obj(options))).await.expect_err("kid");
    assert_eq!(code_of(&err), "ERR_JWKS_NO_MATCHING_KEY");
    assert_eq!(get(&err, "kid").as_string().as_deref(), Some("op-es256-2026-09"));
}

fn jwks_text_with_kid(kid: &str) -> String {
    format!(
        r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":"f2mEVtz-4D7TDq4D2cbLtq_wWMXEVum-ulZqGcuIIiE","y":"U0RYaKMYkvBdnB6kV5c4t-ERaueOskEM__UuMq4psOk","kid":"{kid}","use":"sig","alg":"ES256"}}]}}"#
    )
}

#[wasm_bindgen_test]
fn revocation_and_end_session_builders() {
    use keybound::bindings::logout as lo;
    let req = lo::build_revocation_request(obj(
        r#"{"revocationEndpoint":"https://op.example.com/revoke","token":"rt-1","clientId":"s6BhdRkqt3","dpopProof":"p.r.s"}"#,
    ))
    .expect("request");
    assert_eq!(get(&req, "method").as_string().as_deref(), Some("POST"));
    assert_eq!(get(&req, "body").as_string().as_deref(), Some("token=rt-1&token_type_hint=refresh_token&client_id=s6BhdRkqt3"));
    assert_eq!(get(&get(&req, "headers"), "dpop").as_string().as_deref(), Some("p.r.s"));
    let err = lo::build_revocation_request(obj(
        r#"{"revocationEndpoint":"https://op.example.com/revoke","token":"rt-1","tokenTypeHint":"id_token","clientId":"c"}"#,
    ))
    .expect_err("hint");
    assert_eq!((code_of(&err), get(&err, "argument").as_string()), ("ERR_INVALID_ARGUMENT".to_owned(), Some("tokenTypeHint".to_owned())));
    lo::process_revocation_response(obj(r#"{"status":200,"contentType":"application/json","body":"{}"}"#)).expect("revoked");
    let err = lo::process_revocation_response(obj(
        r#"{"status":400,"contentType":"application/json","body":"{\"error\":\"invalid_dpop_proof\"}"}"#,
    ))
    .expect_err("refused");
    assert_eq!((code_of(&err), get(&err, "error").as_string()), ("ERR_OAUTH_ERROR".to_owned(), Some("invalid_dpop_proof".to_owned())));

    let url = lo::build_end_session_url(obj(
        r#"{"endSessionEndpoint":"https://op.example.com/logout","clientId":"c","idTokenHint":"a.b.c","postLogoutRedirectUri":"https://app.example.com/bye","state":"st-9"}"#,
    ))
    .expect("url");
    assert_eq!(url, "https://op.example.com/logout?id_token_hint=a.b.c&client_id=c&post_logout_redirect_uri=https%3A%2F%2Fapp.example.com%2Fbye&state=st-9");
    let err = lo::build_end_session_url(obj(r#"{"endSessionEndpoint":"https://op.example.com/logout","clientId":"c","state":"st-9"}"#))
        .expect_err("state alone");
    assert_eq!(code_of(&err), "ERR_INVALID_ARGUMENT");
    lo::validate_end_session_response("https://app.example.com/bye?state=st-9".into(), obj(r#"{"state":"st-9"}"#)).expect("state");
    let err =
        lo::validate_end_session_response("https://app.example.com/bye?state=st-8".into(), obj(r#"{"state":"st-9"}"#)).expect_err("forged");
    assert_eq!(code_of(&err), "ERR_STATE_MISMATCH");
}
