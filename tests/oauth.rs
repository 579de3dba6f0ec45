//! Native tests of the endpoint builders and processors against the worked example (tests/vectors/worked_example.json),
//! with one negative test per refusal, each asserting its code.
#![cfg(not(target_arch = "wasm32"))]

use keybound::protocol::oauth::{self, AuthorizationRequest, HttpResponse, TokenType};
use keybound::{Error, ErrorCode};

const ISSUER: &str = "https://op.example.com";

const DISCOVERY: &str = r#"{
  "issuer": "https://op.example.com",
  "authorization_endpoint": "https://op.example.com/authorize",
  "token_endpoint": "https://op.example.com/token",
  "device_authorization_endpoint": "https://op.example.com/device_authorization",
  "jwks_uri": "https://op.example.com/jwks",
  "scopes_supported": ["openid", "profile", "email", "offline_access", "bound_key"],
  "response_types_supported": ["code"],
  "id_token_signing_alg_values_supported": ["ES256", "RS256"],
  "dpop_signing_alg_values_supported": ["ES256", "PS256"],
  "code_challenge_methods_supported": ["S256"],
  "authorization_response_iss_parameter_supported": true
}"#;

fn json_response(status: u16, body: &str) -> HttpResponse {
    HttpResponse { status, content_type: Some("application/json; charset=utf-8".into()), dpop_nonce: None, body: body.into() }
}

#[test]
fn discovery_of_the_worked_example() {
    let req = oauth::discovery_request("https://op.example.com").unwrap();
    assert_eq!(req.url, "https://op.example.com/.well-known/openid-configuration");
    let meta = oauth::process_discovery_response(&json_response(200, DISCOVERY), "https://op.example.com").unwrap();
    assert_eq!(meta.token_endpoint, "https://op.example.com/token");
    assert!(meta.advertises_bound_key());
    assert!(meta.authorization_response_iss_parameter_supported);
    assert_eq!(meta.dpop_signing_alg_values_supported, ["ES256", "PS256"]);
}

#[test]
fn discovery_refusals() {
    let code = |r: Result<_, Error>| r.map(|_: oauth::ProviderMetadata| ()).unwrap_err().code();
    assert_eq!(
        code(oauth::process_discovery_response(&json_response(200, DISCOVERY), "https://op.example.com/")),
        ErrorCode::DiscoveryIssuerMismatch
    );
    let bad_endpoint = DISCOVERY.replace("\"https://op.example.com/token\"", "\"/token\"");
    assert_eq!(
        code(oauth::process_discovery_response(&json_response(200, &bad_endpoint), "https://op.example.com")),
        ErrorCode::DiscoveryInvalid
    );
    let no_jwks = DISCOVERY.replace("\"jwks_uri\"", "\"jwks\"");
    assert_eq!(code(oauth::process_discovery_response(&json_response(200, &no_jwks), "https://op.example.com")), ErrorCode::JsonInvalid);
    assert_eq!(
        code(oauth::process_discovery_response(&json_response(404, "{}"), "https://op.example.com")),
        ErrorCode::OAuthResponseInvalid
    );
}

/// Every endpoint of an https issuer is https: an http token endpoint would send codes, PKCE
/// verifiers and refresh tokens in the clear. An http (loopback) issuer may use http.
#[test]
fn discovery_refuses_http_endpoints_for_an_https_issuer() {
    let code =
        |doc: &str, issuer: &str| oauth::process_discovery_response(&json_response(200, doc), issuer).map(|_| ()).unwrap_err().code();
    for endpoint in ["/token", "/authorize", "/jwks", "/device_authorization"] {
        let doc = DISCOVERY.replace(&format!("\"https://op.example.com{endpoint}\""), &format!("\"http://op.example.com{endpoint}\""));
        assert_ne!(doc, DISCOVERY);
        assert_eq!(code(&doc, ISSUER), ErrorCode::DiscoveryInvalid, "{endpoint}");
    }
    let doc = DISCOVERY.replace("\"https://op.example.com/device_authorization\"", "\"javascript:alert(1)\"");
    assert_eq!(code(&doc, ISSUER), ErrorCode::DiscoveryInvalid);
    let doc = DISCOVERY.replace("\"jwks_uri\"", "\"userinfo_endpoint\": \"http://op.example.com/userinfo\", \"jwks_uri\"");
    assert_eq!(code(&doc, ISSUER), ErrorCode::DiscoveryInvalid);
    // A loopback http issuer (development, the reference OP's tests) keeps http endpoints.
    let local = DISCOVERY.replace("https://op.example.com", "http://127.0.0.1:9000");
    let meta = oauth::process_discovery_response(&json_response(200, &local), "http://127.0.0.1:9000").unwrap();
    assert_eq!(meta.token_endpoint, "http://127.0.0.1:9000/token");
}

/// The verification URIs are shown to the user: absolute http(s), https for an https issuer.
/// `expires_in` (device: at most a day; token: at most 10 years) and `interval` (at most an
/// hour) are bounded; values past the bounds are refused, never saturated.
#[test]
fn device_and_token_responses_are_bounded() {
    let device = |fields: &str| {
        let body = format!(r#"{{"device_code":"d","user_code":"u",{fields}}}"#);
        oauth::process_device_authorization_response(&json_response(200, &body), ISSUER)
    };
    let uri = r#""verification_uri":"https://op.example.com/device""#;
    let d = device(&format!(
        r#"{uri},"verification_uri_complete":"https://op.example.com/device?user_code=u","expires_in":86400,"interval":3600"#
    ))
    .unwrap();
    assert_eq!((d.expires_in, d.interval), (86400, 3600));
    assert_eq!(device(&format!(r#"{uri},"expires_in":60,"interval":0"#)).unwrap().interval, 1);
    for (name, fields) in [
        ("javascript: verification_uri", r#""verification_uri":"javascript:alert(1)","expires_in":60"#.to_owned()),
        ("http verification_uri", r#""verification_uri":"http://op.example.com/device","expires_in":60"#.to_owned()),
        ("javascript: verification_uri_complete", format!(r#"{uri},"verification_uri_complete":"javascript:alert(1)","expires_in":60"#)),
        ("data: verification_uri_complete", format!(r#"{uri},"verification_uri_complete":"data:text/html,x","expires_in":60"#)),
        ("expires_in 1e300", format!(r#"{uri},"expires_in":1e300"#)),
        ("expires_in over a day", format!(r#"{uri},"expires_in":86401"#)),
        ("expires_in 0", format!(r#"{uri},"expires_in":0"#)),
        ("interval 1e300", format!(r#"{uri},"expires_in":60,"interval":1e300"#)),
        ("interval over an hour", format!(r#"{uri},"expires_in":60,"interval":3601"#)),
        ("negative interval", format!(r#"{uri},"expires_in":60,"interval":-5"#)),
    ] {
        assert_eq!(device(&fields).unwrap_err().code(), ErrorCode::OAuthResponseInvalid, "{name}");
    }
    // A loopback http issuer may show an http verification URI.
    let local = r#"{"device_code":"d","user_code":"u","verification_uri":"http://127.0.0.1:9000/device","expires_in":60}"#;
    oauth::process_device_authorization_response(&json_response(200, local), "http://127.0.0.1:9000").unwrap();

    let token = |expires: &str| {
        oauth::process_token_response(&json_response(200, &format!(r#"{{"access_token":"a","token_type":"DPoP","expires_in":{expires}}}"#)))
    };
    assert_eq!(token("315360000").unwrap().expires_in, Some(315_360_000));
    for bad in ["315360001", "1e300", "-1"] {
        assert_eq!(token(bad).unwrap_err().code(), ErrorCode::OAuthResponseInvalid, "{bad}");
    }
}

#[test]
fn issuers_must_be_https_or_loopback_http() {
    for ok in ["https://op.example.com", "http://localhost:8080", "http://127.0.0.1:9000/realms/x", "http://[::1]:80"] {
        oauth::check_issuer(ok).unwrap();
    }
    for bad in ["http://op.example.com", "http://localhost.evil.example", "https://op.example.com?x=1", "ftp://op.example.com"] {
        assert_eq!(oauth::check_issuer(bad).unwrap_err().code(), ErrorCode::UrlInvalid, "{bad}");
    }
}

#[test]
fn authorization_url_of_the_worked_example() {
    let url = oauth::authorization_url(&AuthorizationRequest {
        authorization_endpoint: "https://op.example.com/authorize",
        client_id: "s6BhdRkqt3",
        redirect_uri: "https://app.example.com/cb",
        scope: "profile offline_access",
        state: "Hx3pQ9vZt1",
        nonce: "n-0S6_WzA2Mj-7c1e",
        code_challenge: "fWqQ4kEy5h3WbXFtrbl9Bl1pZoof-zNLCrkD77r3Dps",
        dpop_jkt: Some("mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0"),
        max_age: None,
        acr_values: None,
    })
    .unwrap();
    let (base, query) = url.split_once('?').unwrap();
    assert_eq!(base, "https://op.example.com/authorize");
    let mut pairs: Vec<(String, String)> = form_pairs(query);
    pairs.sort();
    let mut want: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", "s6BhdRkqt3"),
        ("redirect_uri", "https://app.example.com/cb"),
        ("scope", "openid profile offline_access bound_key"),
        ("state", "Hx3pQ9vZt1"),
        ("nonce", "n-0S6_WzA2Mj-7c1e"),
        ("code_challenge", "fWqQ4kEy5h3WbXFtrbl9Bl1pZoof-zNLCrkD77r3Dps"),
        ("code_challenge_method", "S256"),
        ("dpop_jkt", "mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    want.sort();
    assert_eq!(pairs, want);
    // No binding: no bound_key, no dpop_jkt.
    assert_eq!(oauth::effective_scope("openid email", false), "openid email");
    assert_eq!(oauth::effective_scope("bound_key email", true), "openid bound_key email");
}

#[test]
fn authorization_url_carries_max_age_and_acr_values() {
    let req = AuthorizationRequest {
        authorization_endpoint: "https://op.example.com/authorize",
        client_id: "s6BhdRkqt3",
        redirect_uri: "https://app.example.com/cb",
        scope: "",
        state: "Hx3pQ9vZt1",
        nonce: "n-0S6_WzA2Mj-7c1e",
        code_challenge: "fWqQ4kEy5h3WbXFtrbl9Bl1pZoof-zNLCrkD77r3Dps",
        dpop_jkt: Some("mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0"),
        max_age: Some(0),
        acr_values: Some("urn:mfa pwd"),
    };
    let url = oauth::authorization_url(&req).unwrap();
    let pairs = form_pairs(url.split_once('?').unwrap().1);
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(value("max_age").as_deref(), Some("0"));
    assert_eq!(value("acr_values").as_deref(), Some("urn:mfa pwd"));
    assert_eq!(value("dpop_jkt").as_deref(), Some("mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0"));
    // Not asked: not sent.
    let plain = oauth::authorization_url(&AuthorizationRequest { max_age: None, acr_values: None, ..req }).unwrap();
    assert!(!plain.contains("max_age") && !plain.contains("acr_values"), "{plain}");
    // A negative max_age or empty acr_values are the caller's mistakes.
    for (bad, arg) in [
        (AuthorizationRequest { max_age: Some(-1), ..req }, "maxAge"),
        (AuthorizationRequest { acr_values: Some(""), ..req }, "acrValues"),
        (AuthorizationRequest { acr_values: Some("  "), ..req }, "acrValues"),
    ] {
        match oauth::authorization_url(&bad).unwrap_err() {
            Error::InvalidArgument { name, .. } => assert_eq!(name, arg),
            other => panic!("{other:?}"),
        }
    }
}

fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            let decode = |s: &str| {
                let s = s.replace('+', " ");
                let mut out = Vec::new();
                let b = s.as_bytes();
                let mut i = 0;
                while i < b.len() {
                    if b[i] == b'%' {
                        out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                        i += 3;
                    } else {
                        out.push(b[i]);
                        i += 1;
                    }
                }
                String::from_utf8(out).unwrap()
            };
            (decode(k), decode(v))
        })
        .collect()
}

#[test]
fn callback_of_the_worked_example() {
    let params = oauth::parse_callback(
        "https://app.example.com/cb?code=Q3JkYXV0aGNvZGUtZXhhbXBsZS0wMDE&state=Hx3pQ9vZt1&iss=https%3A%2F%2Fop.example.com",
    );
    let code = oauth::check_callback(&params, "Hx3pQ9vZt1", "https://op.example.com", true).unwrap();
    assert_eq!(code.expose(), "Q3JkYXV0aGNvZGUtZXhhbXBsZS0wMDE");
    assert!(!format!("{params:?}").contains("Q3Jk"), "the code is redacted in Debug");
}

#[test]
fn callback_refusals_state_first() {
    let check = |url: &str, iss_required: bool| {
        oauth::check_callback(&oauth::parse_callback(url), "Hx3pQ9vZt1", "https://op.example.com", iss_required).unwrap_err()
    };
    let iss = "iss=https%3A%2F%2Fop.example.com";
    assert_eq!(check(&format!("/cb?code=c&state=other&{iss}"), true).code(), ErrorCode::StateMismatch);
    assert_eq!(check(&format!("/cb?code=c&{iss}"), true).code(), ErrorCode::StateMismatch);
    // An error response with a wrong state is a state failure, not an OP error.
    assert_eq!(check(&format!("/cb?error=access_denied&state=forged&{iss}"), true).code(), ErrorCode::StateMismatch);
    assert_eq!(check("/cb?code=c&state=Hx3pQ9vZt1&iss=https%3A%2F%2Fevil.example", false).code(), ErrorCode::IssMismatch);
    assert_eq!(check("/cb?code=c&state=Hx3pQ9vZt1", true).code(), ErrorCode::IssMismatch);
    let err = check(&format!("/cb?error=access_denied&error_description=User+said+no&state=Hx3pQ9vZt1&{iss}"), true);
    assert_eq!(err, Error::OAuthError { error: "access_denied".into(), description: Some("User said no".into()), status: 0 });
    assert_eq!(check(&format!("/cb?state=Hx3pQ9vZt1&{iss}"), true).code(), ErrorCode::OAuthResponseInvalid);
    // Without RFC 9207 support a missing iss is fine.
    oauth::check_callback(&oauth::parse_callback("/cb?code=c&state=Hx3pQ9vZt1"), "Hx3pQ9vZt1", "https://op.example.com", false).unwrap();
}

/// RFC 6749 §3.1: no parameter is repeated. Last-wins would let `iss=evil&iss=<issuer>` pass
/// the RFC 9207 check (and first-wins the reverse), so any repetition refuses the response.
#[test]
fn callback_with_a_repeated_parameter_is_refused() {
    let check = |url: &str| oauth::check_callback(&oauth::parse_callback(url), "Hx3pQ9vZt1", "https://op.example.com", true);
    let iss = "iss=https%3A%2F%2Fop.example.com";
    check(&format!("/cb?code=c&state=Hx3pQ9vZt1&{iss}")).unwrap();
    for url in [
        format!("/cb?code=c&state=Hx3pQ9vZt1&iss=https%3A%2F%2Fevil.example&{iss}"),
        format!("/cb?code=c&state=Hx3pQ9vZt1&{iss}&iss=https%3A%2F%2Fevil.example"),
        format!("/cb?code=c&state=Hx3pQ9vZt1&state=Hx3pQ9vZt1&{iss}"),
        format!("/cb?code=c&code=d&state=Hx3pQ9vZt1&{iss}"),
        format!("/cb?code=c&state=Hx3pQ9vZt1&{iss}&session_state=a&session_state=b"),
    ] {
        let err = check(&url).unwrap_err();
        assert_eq!(err.code(), ErrorCode::OAuthResponseInvalid, "{url}");
    }
    assert_eq!(oauth::parse_callback("/cb?iss=a&state=s&iss=b").repeated.as_deref(), Some("iss"));
}

#[test]
fn token_requests_of_the_worked_example() {
    let req = oauth::code_token_request(
        "https://op.example.com/token",
        "Q3JkYXV0aGNvZGUtZXhhbXBsZS0wMDE",
        "https://app.example.com/cb",
        "Yb3Jm0fJ3tqzOJ1mZr9gq2wF0k1kXnVvQm3PpWq8sZE",
        "s6BhdRkqt3",
        "proof.jws.here",
    );
    assert_eq!(req.method, "POST");
    assert_eq!(
        req.body,
        "grant_type=authorization_code&code=Q3JkYXV0aGNvZGUtZXhhbXBsZS0wMDE&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&code_verifier=Yb3Jm0fJ3tqzOJ1mZr9gq2wF0k1kXnVvQm3PpWq8sZE&client_id=s6BhdRkqt3"
    );
    assert!(req.headers.contains(&("dpop", "proof.jws.here".to_owned())));
    assert!(req.headers.contains(&("content-type", "application/x-www-form-urlencoded".to_owned())));
    let refresh = oauth::refresh_token_request("https://op.example.com/token", "8xLOxBtZp8-rt-1", "s6BhdRkqt3", "p");
    assert_eq!(refresh.body, "grant_type=refresh_token&refresh_token=8xLOxBtZp8-rt-1&client_id=s6BhdRkqt3");
}

#[test]
fn token_response_of_the_worked_example() {
    let body = r#"{"access_token":"SlAV32hkKG","token_type":"Bearer","expires_in":3600,"refresh_token":"8xLOxBtZp8-rt-1","scope":"openid profile offline_access bound_key","id_token":"eyJ.x.y"}"#;
    let t = oauth::process_token_response(&json_response(200, body)).unwrap();
    assert_eq!(t.token_type, TokenType::Bearer);
    assert_eq!(t.access_token.expose(), "SlAV32hkKG");
    assert_eq!(t.refresh_token.as_ref().map(|r| r.expose()), Some("8xLOxBtZp8-rt-1"));
    assert_eq!(t.expires_in, Some(3600));
    assert!(!format!("{t:?}").contains("SlAV32hkKG"), "tokens are redacted in Debug");
    // token_type is case-insensitive; a nonce on a 200 is kept.
    let dpop = HttpResponse { dpop_nonce: Some("n-2".into()), ..json_response(200, &body.replace("\"Bearer\"", "\"dpop\"")) };
    let t = oauth::process_token_response(&dpop).unwrap();
    assert_eq!(t.token_type, TokenType::Dpop);
    assert_eq!(t.dpop_nonce.as_deref(), Some("n-2"));
}

#[test]
fn token_response_refusals() {
    let nonce = HttpResponse {
        dpop_nonce: Some("eyJ7S_zG.eyJH0-Z.HX4w-7v".into()),
        ..json_response(400, r#"{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}"#)
    };
    let err = oauth::process_token_response(&nonce).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UseDpopNonce);
    assert_eq!(err, Error::UseDpopNonce { nonce: "eyJ7S_zG.eyJH0-Z.HX4w-7v".into() });
    // Two DPoP-Nonce headers joined by the browser ("a, b") are not a nonce (RFC 9449 §8.1).
    let joined = HttpResponse { dpop_nonce: Some("n1, n1".into()), ..json_response(400, r#"{"error":"use_dpop_nonce"}"#) };
    assert_eq!(oauth::process_token_response(&joined).unwrap_err().code(), ErrorCode::OAuthError);
    assert_eq!(oauth::valid_dpop_nonce("eyJ7S_zG.eyJH0-Z.HX4w-7v"), Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"));
    assert_eq!(oauth::valid_dpop_nonce("a\"b"), None);
    // use_dpop_nonce without a DPoP-Nonce header cannot be retried: a plain OAuth error.
    let no_header = json_response(400, r#"{"error":"use_dpop_nonce"}"#);
    assert_eq!(oauth::process_token_response(&no_header).unwrap_err().code(), ErrorCode::OAuthError);
    let grant = json_response(400, r#"{"error":"invalid_grant"}"#);
    assert_eq!(oauth::process_token_response(&grant).unwrap_err().code(), ErrorCode::OAuthError);
    let html = HttpResponse { status: 500, content_type: Some("text/html".into()), dpop_nonce: None, body: "<h1>oops</h1>".into() };
    assert_eq!(oauth::process_token_response(&html).unwrap_err().code(), ErrorCode::OAuthResponseInvalid);
    let html_ok = HttpResponse { status: 200, ..html };
    assert_eq!(oauth::process_token_response(&html_ok).unwrap_err().code(), ErrorCode::OAuthResponseInvalid);
    let no_at = json_response(200, r#"{"token_type":"Bearer"}"#);
    assert_eq!(oauth::process_token_response(&no_at).unwrap_err().code(), ErrorCode::OAuthResponseInvalid);
    let not_json = json_response(200, "{");
    assert_eq!(oauth::process_token_response(&not_json).unwrap_err().code(), ErrorCode::JsonInvalid);
}

#[test]
fn device_flow_of_the_worked_example() {
    let req = oauth::device_authorization_request(
        "https://op.example.com/device_authorization",
        "s6BhdRkqt3",
        "offline_access",
        Some("mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0"),
        None,
    );
    let mut pairs = form_pairs(&req.body);
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("client_id".to_string(), "s6BhdRkqt3".to_string()),
            ("dpop_jkt".into(), "mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0".into()),
            ("scope".into(), "openid offline_access bound_key".into()),
        ]
    );
    let body = r#"{"device_code":"GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS","user_code":"059-461-148",
 "verification_uri":"https://op.example.com/device","expires_in":1800,"interval":5}"#;
    let d = oauth::process_device_authorization_response(&json_response(200, body), ISSUER).unwrap();
    assert_eq!(d.user_code, "059-461-148");
    assert_eq!(d.interval, 5);
    assert_eq!(keybound::protocol::pkce::c_s256(d.device_code.expose()).unwrap(), "z-6KJMF671PQKXSuIHAVQfnEVR2x1AUsfHlvC50va38");
    assert!(!format!("{d:?}").contains("GmRhm"), "the device code is redacted");
    let poll = oauth::device_token_request("https://op.example.com/token", d.device_code.expose(), "s6BhdRkqt3", "p.r.s");
    assert_eq!(
        poll.body,
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS&client_id=s6BhdRkqt3"
    );
    // Default interval, and refusals.
    let no_interval = r#"{"device_code":"d","user_code":"u","verification_uri":"https://op.example.com/device","expires_in":60}"#;
    assert_eq!(oauth::process_device_authorization_response(&json_response(200, no_interval), ISSUER).unwrap().interval, 5);
    let err = oauth::process_device_authorization_response(&json_response(400, r#"{"error":"dpop_jkt_required"}"#), ISSUER).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OAuthError);
    let bad_uri = no_interval.replace("https://op.example.com/device", "/device");
    assert_eq!(
        oauth::process_device_authorization_response(&json_response(200, &bad_uri), ISSUER).unwrap_err().code(),
        ErrorCode::OAuthResponseInvalid
    );
}

#[test]
fn device_poll_outcomes() {
    use oauth::DevicePoll;
    let poll = |err: &str| oauth::process_device_poll_response(&json_response(400, &format!(r#"{{"error":"{err}"}}"#)));
    assert_eq!(poll("authorization_pending").unwrap(), DevicePoll::Pending);
    assert_eq!(poll("slow_down").unwrap(), DevicePoll::SlowDown);
    assert_eq!(poll("access_denied").unwrap_err().code(), ErrorCode::DeviceAccessDenied);
    assert_eq!(poll("expired_token").unwrap_err().code(), ErrorCode::DeviceCodeExpired);
    assert_eq!(poll("invalid_grant").unwrap_err().code(), ErrorCode::OAuthError);
    let ok =
        oauth::process_device_poll_response(&json_response(200, r#"{"access_token":"a","token_type":"DPoP","id_token":"x.y.z"}"#)).unwrap();
    assert!(matches!(ok, DevicePoll::Tokens(t) if t.token_type == TokenType::Dpop));
}

/// `Debug` of requests and responses never prints codes, PKCE verifiers, refresh tokens, device
/// codes, DPoP proofs or access tokens.
#[test]
fn debug_of_requests_and_responses_redacts_secrets() {
    let secrets = [
        "Q3JkYXV0aGNvZGU",
        "Yb3Jm0fJ3tqzOJ1mZr9gq2wF0k1kXnVvQm3PpWq8sZE",
        "8xLOxBtZp8-rt-1",
        "GmRhmhcxhwAzkoEqiMEg",
        "eyJwcm9vZi",
        "SlAV32hkKG",
        "eyJ.id.token",
    ];
    let proof = "eyJwcm9vZi.payload.signature";
    let requests = [
        oauth::code_token_request(
            "https://op.example.com/token",
            "Q3JkYXV0aGNvZGU",
            "https://app.example.com/cb",
            "Yb3Jm0fJ3tqzOJ1mZr9gq2wF0k1kXnVvQm3PpWq8sZE",
            "s6BhdRkqt3",
            proof,
        ),
        oauth::refresh_token_request("https://op.example.com/token", "8xLOxBtZp8-rt-1", "s6BhdRkqt3", proof),
        oauth::device_token_request("https://op.example.com/token", "GmRhmhcxhwAzkoEqiMEg", "s6BhdRkqt3", proof),
    ];
    for req in &requests {
        let printed = format!("{req:?} {req:#?}");
        for secret in secrets {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("[redacted]"), "{printed}");
        assert!(printed.contains("client_id=s6BhdRkqt3"), "non-secret parameters stay readable: {printed}");
        assert!(printed.contains("https://op.example.com/token"));
    }
    let body = r#"{"access_token":"SlAV32hkKG","token_type":"DPoP","expires_in":3600,"refresh_token":"8xLOxBtZp8-rt-1","id_token":"eyJ.id.token"}"#;
    for res in [
        json_response(200, body),
        HttpResponse { content_type: Some("text/plain".into()), ..json_response(200, "access_token=SlAV32hkKG") },
    ] {
        let printed = format!("{res:?} {res:#?}");
        for secret in secrets {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("[redacted]"), "{printed}");
    }
    assert!(format!("{:?}", json_response(200, body)).contains("\"DPoP\""), "token_type is not a secret");
    // The DPoP proof inputs that carry a token or a code.
    use keybound::protocol::dpop::{ProofCheck, ProofParams};
    use keybound::protocol::htu::Htu;
    let htu = Htu::parse("https://op.example.com/token").unwrap();
    let params = ProofParams { access_token: Some("SlAV32hkKG"), code: Some("Q3JkYXV0aGNvZGU"), ..ProofParams::new("POST", &htu) };
    let check = ProofCheck {
        htm: "POST",
        htu: &htu,
        now: 0,
        max_age: 60,
        max_skew: 5,
        allowed_algs: &[],
        nonce: None,
        access_token: Some("SlAV32hkKG"),
        code: Some("Q3JkYXV0aGNvZGU"),
        expected_jkt: None,
    };
    let printed = format!("{params:?} {check:?}");
    for secret in secrets {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
    assert!(printed.contains("[redacted]") && printed.contains("https://op.example.com/token"), "{printed}");
}

/// Strings an attacker controls (an OP's error text, a claimed issuer, a JWK member) are echoed
/// in error messages at most `MAX_ECHO_CHARS` characters long, with an ellipsis.
#[test]
fn error_messages_cap_echoed_strings() {
    let long = "A".repeat(100_000);
    let err =
        oauth::process_token_response(&json_response(400, &format!(r#"{{"error":"{long}","error_description":"{long}"}}"#))).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OAuthError);
    let message = err.to_string();
    assert!(message.chars().count() < 2 * keybound::error::MAX_ECHO_CHARS + 100, "{} chars", message.chars().count());
    assert!(message.contains(&format!("{}…", "A".repeat(keybound::error::MAX_ECHO_CHARS))));
    let err = oauth::process_discovery_response(
        &json_response(200, &DISCOVERY.replace("\"issuer\": \"https://op.example.com\"", &format!("\"issuer\": \"{long}\""))),
        ISSUER,
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::DiscoveryIssuerMismatch);
    assert!(err.to_string().chars().count() < keybound::error::MAX_ECHO_CHARS + 100);
    let err = keybound::protocol::jwk::PublicJwk::from_json(&format!(r#"{{"kty":"{long}"}}"#)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::JwkUnsupported);
    assert!(err.to_string().ends_with("…\""), "{}", &err.to_string()[..300]);
    // Short strings are echoed whole, multi-byte characters are cut on a boundary.
    let err = oauth::process_token_response(&json_response(400, r#"{"error":"invalid_grant"}"#)).unwrap_err();
    assert_eq!(err.to_string(), "the OP answered \"invalid_grant\"");
    let err = keybound::protocol::jwk::PublicJwk::from_json(&format!(r#"{{"kty":"{}"}}"#, "é".repeat(300))).unwrap_err();
    assert_eq!(err.to_string(), format!("unsupported JWK key type or curve \"{}…\"", "é".repeat(256)));
}

/// The clock offset learned from a `Date` header: noise under 5 s is no offset, a day at most is
/// learned, anything beyond (or absurd) is not learned at all.
#[test]
fn the_learned_clock_offset_is_bounded() {
    use keybound::protocol::oauth::{learned_clock_offset, MAX_CLOCK_OFFSET};
    let local = 1_700_000_000;
    assert_eq!(learned_clock_offset(local + 4, local), Some(0));
    assert_eq!(learned_clock_offset(local - 4, local), Some(0));
    assert_eq!(learned_clock_offset(local + 420, local), Some(420));
    assert_eq!(learned_clock_offset(local - 420, local), Some(-420));
    assert_eq!(learned_clock_offset(local + MAX_CLOCK_OFFSET, local), Some(MAX_CLOCK_OFFSET));
    assert_eq!(learned_clock_offset(local + MAX_CLOCK_OFFSET + 1, local), None);
    assert_eq!(learned_clock_offset(local - 10 * 365 * 86_400, local), None);
    assert_eq!(learned_clock_offset(i64::MAX, local), None);
    assert_eq!(learned_clock_offset(i64::MIN, local), None);
}

/// Every JSON document keybound reads must be an object: serde's derived structs would also read
/// an array, field by field (found by the fuzzer). Arrays are refused with ERR_JSON_INVALID; an
/// OAuth error body that is an array is not read as an error.
#[test]
fn json_arrays_are_refused_where_objects_are_required() {
    fn code<T>(r: Result<T, Error>) -> ErrorCode {
        r.map(|_| ()).expect_err("an array must be refused").code()
    }
    // A token response in array form, in declaration order (access_token, token_type, ...).
    assert_eq!(
        code(oauth::process_token_response(&json_response(200, r#"["at","DPoP",60,"rt","id.tok.en","openid"]"#))),
        ErrorCode::JsonInvalid
    );
    assert_eq!(code(oauth::process_token_response(&json_response(200, "  \n[]"))), ErrorCode::JsonInvalid);
    assert_eq!(
        code(oauth::process_discovery_response(&json_response(200, r#"["https://op.example.com"]"#), ISSUER)),
        ErrorCode::JsonInvalid
    );
    assert_eq!(
        code(oauth::process_device_authorization_response(
            &json_response(200, r#"["d","u","https://op.example.com/device",null,600,5]"#),
            ISSUER
        )),
        ErrorCode::JsonInvalid
    );
    // An error body as an array is not an OAuth error response.
    let err = oauth::process_token_response(&json_response(400, r#"["invalid_grant","bad"]"#)).expect_err("refused");
    assert_ne!(err.code(), ErrorCode::OAuthError);
    // The same documents as objects still parse.
    assert!(oauth::process_token_response(&json_response(200, r#" {"access_token":"at","token_type":"DPoP"}"#)).is_ok());
}

/// A device `expires_in` under one second would truncate to 0 (found by the fuzzer): refused.
#[test]
fn a_device_code_lifetime_under_one_second_is_refused() {
    let body =
        |e: &str| format!(r#"{{"device_code":"d","user_code":"u","verification_uri":"https://op.example.com/device","expires_in":{e}}}"#);
    for e in ["0.5", "0.999", "0"] {
        let err = oauth::process_device_authorization_response(&json_response(200, &body(e)), ISSUER).expect_err(e);
        assert_eq!(err.code(), ErrorCode::OAuthResponseInvalid, "expires_in {e}");
    }
    let d = oauth::process_device_authorization_response(&json_response(200, &body("1.5")), ISSUER).expect("1.5 s");
    assert_eq!(d.expires_in, 1);
}

fn par_discovery(extra: &str) -> Result<oauth::ProviderMetadata, Error> {
    let doc = DISCOVERY.replace(
        "\"authorization_response_iss_parameter_supported\": true",
        &format!("\"authorization_response_iss_parameter_supported\": true{extra}"),
    );
    oauth::process_discovery_response(&json_response(200, &doc), ISSUER)
}

#[test]
fn par_is_used_when_advertised_always_when_required_and_never_when_refused() {
    use oauth::ParMode::{Always, Auto, Never};
    let none = par_discovery("").unwrap();
    let offered = par_discovery(r#", "pushed_authorization_request_endpoint": "https://op.example.com/par""#).unwrap();
    let required = par_discovery(
        r#", "pushed_authorization_request_endpoint": "https://op.example.com/par", "require_pushed_authorization_requests": true"#,
    )
    .unwrap();
    assert_eq!(oauth::par_endpoint(Auto, &none).unwrap(), None);
    assert_eq!(oauth::par_endpoint(Auto, &offered).unwrap(), Some("https://op.example.com/par"));
    assert_eq!(oauth::par_endpoint(Auto, &required).unwrap(), Some("https://op.example.com/par"));
    assert_eq!(oauth::par_endpoint(Always, &offered).unwrap(), Some("https://op.example.com/par"));
    assert_eq!(oauth::par_endpoint(Never, &offered).unwrap(), None);
    assert_eq!(oauth::par_endpoint(Never, &none).unwrap(), None);
    for (mode, meta) in [(Always, &none), (Never, &required)] {
        match oauth::par_endpoint(mode, meta).unwrap_err() {
            Error::InvalidArgument { name: "par", .. } => {}
            other => panic!("{mode:?}: {other:?}"),
        }
    }
    // Discovery: PAR required without an endpoint, or an http endpoint for an https issuer.
    for bad in [
        r#", "require_pushed_authorization_requests": true"#,
        r#", "pushed_authorization_request_endpoint": "http://op.example.com/par""#,
        r#", "pushed_authorization_request_endpoint": "/par""#,
    ] {
        assert_eq!(par_discovery(bad).unwrap_err().code(), ErrorCode::DiscoveryInvalid, "{bad}");
    }
}

#[test]
fn par_request_carries_the_whole_bound_request_and_the_proof() {
    let req = AuthorizationRequest {
        authorization_endpoint: "https://op.example.com/authorize",
        client_id: "s6BhdRkqt3",
        redirect_uri: "https://app.example.com/cb",
        scope: "offline_access",
        state: "Hx3pQ9vZt1",
        nonce: "n-0S6_WzA2Mj-7c1e",
        code_challenge: "fWqQ4kEy5h3WbXFtrbl9Bl1pZoof-zNLCrkD77r3Dps",
        dpop_jkt: Some("mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0"),
        max_age: Some(300),
        acr_values: None,
    };
    let http = oauth::par_request("https://op.example.com/par", &req, Some("proof.jwt.sig")).unwrap();
    assert_eq!((http.method, http.url.as_str()), ("POST", "https://op.example.com/par"));
    assert!(http.headers.contains(&("dpop", "proof.jwt.sig".to_owned())));
    assert!(http.headers.contains(&("content-type", "application/x-www-form-urlencoded".to_owned())));
    // The body is exactly the authorization URL's query.
    let url = oauth::authorization_url(&req).unwrap();
    assert_eq!(http.body, url.split_once('?').unwrap().1);
    let pairs = form_pairs(&http.body);
    for (k, v) in [
        ("dpop_jkt", "mjISTkEqO_ed2ieOD6TnboBmWH5MmEEenSMQ-1lSZQ0"),
        ("scope", "openid offline_access bound_key"),
        ("code_challenge_method", "S256"),
        ("state", "Hx3pQ9vZt1"),
        ("nonce", "n-0S6_WzA2Mj-7c1e"),
        ("max_age", "300"),
    ] {
        assert!(pairs.contains(&(k.to_owned(), v.to_owned())), "{k}");
    }
    // Without a proof: no DPoP header. The Debug form redacts the proof.
    assert!(!oauth::par_request("https://op.example.com/par", &req, None).unwrap().headers.iter().any(|(n, _)| *n == "dpop"));
    assert!(!format!("{http:?}").contains("proof.jwt.sig"));
    assert_eq!(oauth::par_request("par", &req, None).unwrap_err().code(), ErrorCode::UrlInvalid);
    assert_eq!(
        oauth::par_request("https://op.example.com/par", &AuthorizationRequest { state: "", ..req }, None).unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
}

#[test]
fn par_response_and_the_redirect_after_it() {
    let uri = "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c";
    let ok = oauth::process_par_response(&json_response(201, &format!(r#"{{"request_uri":"{uri}","expires_in":60}}"#))).unwrap();
    assert_eq!((ok.request_uri.as_str(), ok.expires_in), (uri, 60));
    assert!(!format!("{ok:?}").contains("6esc_11ACC5bwc014ltc14eY22c"), "Debug redacts the request_uri");
    assert_eq!(
        oauth::process_par_response(&json_response(200, &format!(r#"{{"request_uri":"{uri}","expires_in":90.5}}"#))).unwrap().expires_in,
        90
    );
    let nonce = HttpResponse { dpop_nonce: Some("eyJ7S_zG.eyJH0-Z.HX4w-7v".into()), ..json_response(400, r#"{"error":"use_dpop_nonce"}"#) };
    match oauth::process_par_response(&nonce).unwrap_err() {
        Error::UseDpopNonce { nonce } => assert_eq!(nonce, "eyJ7S_zG.eyJH0-Z.HX4w-7v"),
        other => panic!("{other:?}"),
    }
    let cases: Vec<(HttpResponse, ErrorCode)> = vec![
        (json_response(400, r#"{"error":"invalid_dpop_proof","error_description":"bad"}"#), ErrorCode::OAuthError),
        (json_response(400, r#"{"error":"use_dpop_nonce"}"#), ErrorCode::OAuthError),
        (json_response(201, r#"{"expires_in":60}"#), ErrorCode::OAuthResponseInvalid),
        (json_response(201, r#"{"request_uri":"","expires_in":60}"#), ErrorCode::OAuthResponseInvalid),
        (json_response(201, &format!(r#"{{"request_uri":"{uri}"}}"#)), ErrorCode::OAuthResponseInvalid),
        (json_response(201, &format!(r#"{{"request_uri":"{uri}","expires_in":0}}"#)), ErrorCode::OAuthResponseInvalid),
        (json_response(201, &format!(r#"{{"request_uri":"{uri}","expires_in":3601}}"#)), ErrorCode::OAuthResponseInvalid),
        (json_response(201, r#"{"request_uri":7,"expires_in":60}"#), ErrorCode::JsonInvalid),
        (json_response(201, "[]"), ErrorCode::JsonInvalid),
        (HttpResponse { content_type: Some("text/html".into()), ..json_response(201, "<p>hi</p>") }, ErrorCode::OAuthResponseInvalid),
        (HttpResponse { content_type: Some("text/html".into()), ..json_response(500, "<p>oops</p>") }, ErrorCode::OAuthResponseInvalid),
    ];
    for (res, want) in cases {
        assert_eq!(oauth::process_par_response(&res).unwrap_err().code(), want, "{res:?}");
    }
    let url = oauth::par_authorization_url("https://op.example.com/authorize", "s6BhdRkqt3", uri).unwrap();
    assert_eq!(url, "https://op.example.com/authorize?client_id=s6BhdRkqt3&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A6esc_11ACC5bwc014ltc14eY22c");
    assert_eq!(
        oauth::par_authorization_url("https://op.example.com/authorize", "s6BhdRkqt3", "").unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    assert_eq!(oauth::par_authorization_url("/authorize", "s6BhdRkqt3", uri).unwrap_err().code(), ErrorCode::UrlInvalid);
}

#[test]
fn checked_revocation_requests_refuse_bad_arguments() {
    let req = oauth::checked_revocation_request("https://op.example.com/revoke", "at-1", Some("access_token"), "c", Some("p.r.s")).unwrap();
    assert_eq!(req.body, "token=at-1&token_type_hint=access_token&client_id=c");
    assert!(req.headers.contains(&("dpop", "p.r.s".to_owned())));
    let default_hint = oauth::checked_revocation_request("https://op.example.com/revoke", "rt-1", None, "c", None).unwrap();
    assert_eq!(default_hint.body, "token=rt-1&token_type_hint=refresh_token&client_id=c");
    assert!(!default_hint.headers.iter().any(|(n, _)| *n == "dpop"));
    let arg = |r: Result<oauth::HttpRequest, Error>| match r.unwrap_err() {
        Error::InvalidArgument { name, .. } => name,
        other => panic!("{other:?}"),
    };
    assert_eq!(arg(oauth::checked_revocation_request("https://op.example.com/revoke", "", None, "c", None)), "token");
    assert_eq!(arg(oauth::checked_revocation_request("https://op.example.com/revoke", "t", None, "", None)), "clientId");
    assert_eq!(arg(oauth::checked_revocation_request("https://op.example.com/revoke", "t", Some("id_token"), "c", None)), "tokenTypeHint");
    assert_eq!(arg(oauth::checked_revocation_request("https://op.example.com/revoke", "t", None, "c", Some(""))), "dpopProof");
    assert_eq!(
        oauth::checked_revocation_request("revoke", "t", None, "c", None).unwrap_err().code(),
        ErrorCode::UrlInvalid,
        "a relative endpoint"
    );
}

#[test]
fn revocation_and_rp_initiated_logout() {
    let req = oauth::revocation_request("https://op.example.com/revoke", "rt-1", "refresh_token", "s6BhdRkqt3", Some("proof.jwt.sig"));
    assert_eq!((req.method, req.url.as_str()), ("POST", "https://op.example.com/revoke"));
    assert_eq!(req.body, "token=rt-1&token_type_hint=refresh_token&client_id=s6BhdRkqt3");
    assert!(req.headers.contains(&("dpop", "proof.jwt.sig".to_owned())));
    assert!(!format!("{req:?}").contains("rt-1") && !format!("{req:?}").contains("proof.jwt.sig"), "Debug redacts the token and proof");
    let bearer = oauth::revocation_request("https://op.example.com/revoke", "rt-1", "refresh_token", "s6BhdRkqt3", None);
    assert!(!bearer.headers.iter().any(|(n, _)| *n == "dpop"));

    oauth::process_revocation_response(&json_response(200, "")).unwrap();
    let nonce = HttpResponse { dpop_nonce: Some("n-1".into()), ..json_response(400, r#"{"error":"use_dpop_nonce"}"#) };
    assert_eq!(oauth::process_revocation_response(&nonce).unwrap_err().code(), ErrorCode::UseDpopNonce);
    assert_eq!(
        oauth::process_revocation_response(&json_response(400, r#"{"error":"invalid_request"}"#)).unwrap_err().code(),
        ErrorCode::OAuthError
    );
    let html = HttpResponse { content_type: Some("text/html".into()), ..json_response(503, "<p>down</p>") };
    assert_eq!(oauth::process_revocation_response(&html).unwrap_err().code(), ErrorCode::OAuthResponseInvalid);

    let url = oauth::end_session_url(
        "https://op.example.com/logout",
        Some("eyJ.a.b"),
        "s6BhdRkqt3",
        Some("https://app.example.com/bye"),
        Some("st-9"),
    )
    .unwrap();
    assert_eq!(
        url,
        "https://op.example.com/logout?id_token_hint=eyJ.a.b&client_id=s6BhdRkqt3&post_logout_redirect_uri=https%3A%2F%2Fapp.example.com%2Fbye&state=st-9"
    );
    assert_eq!(
        oauth::end_session_url("https://op.example.com/logout", None, "s6BhdRkqt3", None, None).unwrap(),
        "https://op.example.com/logout?client_id=s6BhdRkqt3"
    );
    match oauth::end_session_url("https://op.example.com/logout", None, "c", None, Some("st")).unwrap_err() {
        Error::InvalidArgument { name: "state", .. } => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(oauth::end_session_url("/logout", None, "c", None, None).unwrap_err().code(), ErrorCode::UrlInvalid);
    assert_eq!(
        oauth::end_session_url("https://op.example.com/logout", None, "c", Some("javascript:alert(1)"), None).unwrap_err().code(),
        ErrorCode::UrlInvalid
    );

    oauth::check_logout_callback(&oauth::parse_callback("https://app.example.com/bye?state=st-9"), "st-9").unwrap();
    for (url, want) in [
        ("https://app.example.com/bye?state=st-8", ErrorCode::StateMismatch),
        ("https://app.example.com/bye", ErrorCode::StateMismatch),
        ("https://app.example.com/bye?state=st-9&state=st-9", ErrorCode::OAuthResponseInvalid),
    ] {
        assert_eq!(oauth::check_logout_callback(&oauth::parse_callback(url), "st-9").unwrap_err().code(), want, "{url}");
    }
    assert_eq!(oauth::check_logout_callback(&oauth::parse_callback("?state="), "").unwrap_err().code(), ErrorCode::StateMismatch);

    // Discovery reads both endpoints, with the same URL rules as the others.
    let meta = par_discovery(
        r#", "revocation_endpoint": "https://op.example.com/revoke", "end_session_endpoint": "https://op.example.com/logout""#,
    )
    .unwrap();
    assert_eq!(meta.revocation_endpoint.as_deref(), Some("https://op.example.com/revoke"));
    assert_eq!(meta.end_session_endpoint.as_deref(), Some("https://op.example.com/logout"));
    for bad in [r#", "revocation_endpoint": "http://op.example.com/revoke""#, r#", "end_session_endpoint": "logout""#] {
        assert_eq!(par_discovery(bad).unwrap_err().code(), ErrorCode::DiscoveryInvalid, "{bad}");
    }
}

#[test]
fn a_refused_answer_revokes_its_refresh_token_then_its_access_token() {
    let dpop = oauth::process_token_response(&json_response(
        200,
        r#"{"access_token":"at-1","token_type":"DPoP","refresh_token":"rt-1","id_token":"a.b.c"}"#,
    ))
    .unwrap();
    let listed: Vec<(&str, &str, bool)> = oauth::tokens_to_revoke(&dpop, None).iter().map(|t| (t.token, t.hint, t.dpop)).collect();
    assert_eq!(listed, [("rt-1", "refresh_token", true), ("at-1", "access_token", true)]);
    assert!(!format!("{:?}", oauth::tokens_to_revoke(&dpop, None)).contains("rt-1"), "Debug redacts the tokens");
    // A refused refresh whose OP does not rotate answers with the refresh token the session
    // keeps: that one stays, the new access token goes.
    let kept: Vec<&str> = oauth::tokens_to_revoke(&dpop, Some("rt-1")).iter().map(|t| t.token).collect();
    assert_eq!(kept, ["at-1"]);
    let rotated: Vec<&str> = oauth::tokens_to_revoke(&dpop, Some("rt-0")).iter().map(|t| t.token).collect();
    assert_eq!(rotated, ["rt-1", "at-1"]);
    let bearer = oauth::process_token_response(&json_response(200, r#"{"access_token":"at-2","token_type":"Bearer"}"#)).unwrap();
    let listed: Vec<(&str, &str, bool)> = oauth::tokens_to_revoke(&bearer, None).iter().map(|t| (t.token, t.hint, t.dpop)).collect();
    assert_eq!(listed, [("at-2", "access_token", false)], "a Bearer answer is revoked without a proof");
}

#[test]
fn a_refused_answer_keeps_its_refusal_code_and_says_whether_it_was_revoked() {
    let refusal = Error::AnswerRefused { error: Box::new(Error::IdTokenCnfMismatch), revoked: true };
    assert_eq!(refusal.code(), ErrorCode::IdTokenCnfMismatch);
    assert_eq!(refusal.fields(), [("revoked", keybound::error::Field::Bool(true))]);
    assert!(refusal.to_string().ends_with("(the tokens of that answer were revoked)"), "{refusal}");
    // The refusal's own fields come first, then `revoked`.
    let acr = Error::AnswerRefused { error: Box::new(Error::IdTokenAcrNotSatisfied { acr: None }), revoked: false };
    assert_eq!(acr.code(), ErrorCode::IdTokenAcrNotSatisfied);
    let names: Vec<&str> = acr.fields().iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["acr", "revoked"]);
    assert!(acr.to_string().ends_with("could not be revoked)"), "{acr}");
}
