//! Native tests of the client's session core (`protocol::session`): every decision the browser
//! client makes about records, nonces, retries, the device poll, the JWKS refetch and login
//! checks, including each branch the Playwright suites reach through a browser.
#![cfg(not(target_arch = "wasm32"))]

use keybound::protocol::b64;
use keybound::protocol::htu::Htu;
use keybound::protocol::id_token::{AuthenticationCheck, BindingPolicy};
use keybound::protocol::jwa::Alg;
use keybound::protocol::oauth::{self, DevicePoll, HttpResponse, TokenResponse, TokenType};
use keybound::protocol::passkey::{self, NonceMode};
use keybound::protocol::session::device::{DevicePolling, DeviceStep, SLOW_DOWN_STEP};
use keybound::protocol::session::jwks::JwksRefetchGate;
use keybound::protocol::session::login::{keeps_pending, refresh_binding, LoginCheck};
use keybound::protocol::session::nonce::{NonceCache, NONCE_CACHE_SIZE};
use keybound::protocol::session::records::{
    self, pending_version, PasskeyBinding, PendingLogout, PendingRecord, SessionRecord, PENDING_AUTH_VERSION, PENDING_TTL, RECORD_VERSION,
};
use keybound::protocol::session::retry::{self, NonceRetry, Step};
use keybound::protocol::session::{self as core, CLOCK_SKEW, ID_TOKEN_MAX_AGE};
use keybound::{Error, ErrorCode};

const ISS: &str = "https://op.example.com";
const CLIENT: &str = "app";
const NOW: i64 = 1_800_000_000;

fn code<T: std::fmt::Debug>(r: Result<T, Error>) -> ErrorCode {
    r.expect_err("must be refused").code()
}

fn pending(v: u32) -> PendingRecord {
    PendingRecord {
        v,
        issuer: ISS.into(),
        client_id: CLIENT.into(),
        redirect_uri: "https://app.example/cb".into(),
        key_id: "login:abc".into(),
        nonce: "n-0S6_WzA2Mj".into(),
        verifier: "v".repeat(43),
        created_at: NOW,
        bind: true,
        passkey: None,
        session_name: String::new(),
        max_age: None,
        acr_values: None,
        require_acr: false,
    }
}

fn tokens(body: &str) -> TokenResponse {
    let res = HttpResponse { status: 200, content_type: Some("application/json".into()), dpop_nonce: None, body: body.into() };
    oauth::process_token_response(&res).expect("token response")
}

fn oauth_error(error: &str) -> HttpResponse {
    HttpResponse { status: 400, content_type: Some("application/json".into()), dpop_nonce: None, body: format!(r#"{{"error":"{error}"}}"#) }
}

// ---- records: pending logins ----

#[test]
fn a_pending_login_asks_for_the_auth_version_only_when_it_asks_max_age_or_acr() {
    assert_eq!(pending_version(None, None), RECORD_VERSION);
    assert_eq!(pending_version(Some(0), None), PENDING_AUTH_VERSION);
    assert_eq!(pending_version(None, Some("urn:mace:incommon:iap:silver")), PENDING_AUTH_VERSION);
}

#[test]
fn pending_logins_of_both_versions_round_trip() {
    for v in [RECORD_VERSION, PENDING_AUTH_VERSION] {
        let mut p = pending(v);
        p.max_age = Some(300);
        p.acr_values = Some("gold".into());
        p.require_acr = true;
        let back = PendingRecord::parse(&p.to_json().expect("json")).expect("parse");
        assert_eq!(back, p);
        let auth = back.auth();
        assert_eq!((auth.max_age, auth.acr_values, auth.require_acr), (Some(300), Some("gold"), true));
    }
}

#[test]
fn a_version_1_pending_login_from_before_the_optional_fields_reads_with_their_defaults() {
    let old = r#"{"v":1,"issuer":"https://op.example.com","client_id":"app","redirect_uri":"https://app.example/cb",
        "key_id":"login:abc","nonce":"n","verifier":"v","created_at":1800000000}"#;
    let p = PendingRecord::parse(old).expect("parse");
    assert!(p.bind, "binding was always asked before the field existed");
    assert_eq!((p.passkey, p.session_name.as_str(), p.max_age, p.acr_values, p.require_acr), (None, "", None, None, false));
}

#[test]
fn a_pending_login_of_a_future_or_unknown_version_is_refused_not_half_read() {
    for v in [0, 3, 99] {
        let err = PendingRecord::parse(&pending(v).to_json().expect("json")).expect_err("refused");
        assert_eq!(err.code(), ErrorCode::KeyRecordInvalid, "v{v}");
        assert!(matches!(err, Error::KeyRecordInvalid { reason } if reason.contains("unknown version")), "v{v}");
    }
}

#[test]
fn an_unreadable_pending_login_is_refused() {
    for text in ["", "not json", "[]", r#"{"v":1}"#, r#"{"v":"1","issuer":1}"#] {
        let err = PendingRecord::parse(text).expect_err("refused");
        assert!(matches!(err, Error::KeyRecordInvalid { reason } if reason.contains("unreadable")), "{text:?}");
    }
}

#[test]
fn a_pending_login_belongs_to_its_issuer_and_client_and_expires() {
    let p = pending(RECORD_VERSION);
    assert!(p.check(ISS, CLIENT, NOW).is_ok());
    assert!(p.check(ISS, CLIENT, NOW + PENDING_TTL).is_ok(), "valid for exactly its time to live");
    assert_eq!(code(p.check(ISS, CLIENT, NOW + PENDING_TTL + 1)), ErrorCode::StateMismatch, "expired");
    assert_eq!(code(p.check("https://op.example.com/", CLIENT, NOW)), ErrorCode::StateMismatch, "issuer compared exactly");
    assert_eq!(code(p.check(ISS, "other-app", NOW)), ErrorCode::StateMismatch);
}

#[test]
fn a_login_started_by_another_named_session_is_that_sessions_to_finish() {
    let mut p = pending(RECORD_VERSION);
    p.session_name = "agent".into();
    let text = p.to_json().expect("json");
    assert!(records::started_by_other_session(&text, ""));
    assert!(records::started_by_other_session(&text, "page"));
    assert!(!records::started_by_other_session(&text, "agent"));
    let unnamed = pending(RECORD_VERSION).to_json().expect("json");
    assert!(!records::started_by_other_session(&unnamed, ""));
    assert!(records::started_by_other_session(&unnamed, "agent"));
    assert!(!records::started_by_other_session("garbage", "agent"), "left to the full read, which refuses it");
}

#[test]
fn a_callback_state_must_be_able_to_name_a_pending_login() {
    assert_eq!(records::login_state(Some("abc")).expect("ok"), "abc");
    assert!(records::login_state(Some(&"s".repeat(256))).is_ok());
    for bad in [None, Some(""), Some("logout:abc")] {
        assert_eq!(code(records::login_state(bad)), ErrorCode::StateMismatch, "{bad:?}");
    }
    assert_eq!(code(records::login_state(Some(&"s".repeat(257)))), ErrorCode::StateMismatch);
}

// ---- records: pending logouts ----

#[test]
fn a_logout_state_is_1_to_200_characters() {
    assert!(records::logout_state(Some(&"s".repeat(200))).is_ok());
    assert_eq!(code(records::logout_state(Some(&"s".repeat(201)))), ErrorCode::StateMismatch);
    assert_eq!(code(records::logout_state(Some(""))), ErrorCode::StateMismatch);
    assert_eq!(code(records::logout_state(None)), ErrorCode::StateMismatch);
    assert!(records::check_logout_state_argument(None).is_ok());
    assert!(records::check_logout_state_argument(Some("x")).is_ok());
    assert_eq!(code(records::check_logout_state_argument(Some(""))), ErrorCode::InvalidArgument);
    assert_eq!(code(records::check_logout_state_argument(Some(&"s".repeat(201)))), ErrorCode::InvalidArgument);
    assert_eq!(records::logout_key("abc"), "logout:abc");
    assert_eq!(code(records::login_state(Some(&records::logout_key("abc")))), ErrorCode::StateMismatch, "a logout never finishes a login");
}

#[test]
fn a_pending_logout_round_trips_belongs_to_its_client_and_expires() {
    let p = PendingLogout { issuer: ISS.into(), client_id: CLIENT.into(), created_at: NOW };
    let back = PendingLogout::parse(&p.to_json().expect("json")).expect("parse");
    assert_eq!(back, p);
    assert!(back.check(ISS, CLIENT, NOW + PENDING_TTL).is_ok());
    assert_eq!(code(back.check(ISS, CLIENT, NOW + PENDING_TTL + 1)), ErrorCode::StateMismatch);
    assert_eq!(code(back.check(ISS, "other", NOW)), ErrorCode::StateMismatch);
    assert_eq!(code(PendingLogout::parse("{}")), ErrorCode::KeyRecordInvalid);
}

// ---- records: sessions ----

fn session() -> SessionRecord {
    let mut s = SessionRecord::new(ISS, CLIENT, "login:abc", "jkt-of-the-key");
    s.set_tokens(&tokens(r#"{"access_token":"at1","token_type":"DPoP","expires_in":300,"refresh_token":"rt1"}"#), NOW, 5.0);
    s
}

#[test]
fn a_session_round_trips_and_keeps_its_tokens() {
    let s = session();
    let back = SessionRecord::parse(&s.to_json().expect("json")).expect("parse");
    assert_eq!(back.key_id(), "login:abc");
    assert_eq!((back.access_token.as_str(), back.token_type.as_str(), back.expires_at), ("at1", "DPoP", Some(NOW + 300)));
    assert_eq!(back.refresh_token(), Some("rt1"));
    assert!(back.is_dpop());
    assert!(!format!("{back:?}").contains("at1"), "Debug redacts the tokens");
}

#[test]
fn a_session_of_another_version_is_refused_with_the_key_to_delete() {
    let text = session().to_json().expect("json").replacen(r#""v":1"#, r#""v":2"#, 1);
    let refused = SessionRecord::parse(&text).expect_err("refused");
    assert_eq!(refused.key_id.as_deref(), Some("login:abc"));
    assert_eq!(refused.error.code(), ErrorCode::KeyRecordInvalid);
    assert!(matches!(refused.error, Error::KeyRecordInvalid { reason } if reason.contains("another version")));
    let old = session().to_json().expect("json").replacen(r#""v":1"#, r#""v":0"#, 1);
    assert!(SessionRecord::parse(&old).is_err(), "an older version is refused too");
}

#[test]
fn an_unreadable_session_is_refused_naming_its_key_when_it_can() {
    let refused = SessionRecord::parse(r#"{"v":1,"key_id":"login:xyz"}"#).expect_err("refused");
    assert_eq!(refused.key_id.as_deref(), Some("login:xyz"));
    assert!(matches!(refused.error, Error::KeyRecordInvalid { reason } if reason.contains("unreadable")));
    let refused = SessionRecord::parse("][").expect_err("refused");
    assert_eq!(refused.key_id, None);
    assert_eq!(refused.error.code(), ErrorCode::KeyRecordInvalid);
}

#[test]
fn a_token_response_without_a_refresh_token_keeps_the_old_one_and_a_rotated_one_replaces_it() {
    let mut s = session();
    s.set_tokens(&tokens(r#"{"access_token":"at2","token_type":"dpop"}"#), NOW + 10, 20.0);
    assert_eq!((s.access_token.as_str(), s.token_type.as_str(), s.expires_at), ("at2", "DPoP", None));
    assert_eq!(s.refresh_token(), Some("rt1"));
    assert_eq!(s.revocation_token(), ("rt1", "refresh_token"));
    s.set_tokens(&tokens(r#"{"access_token":"at3","token_type":"Bearer","refresh_token":"rt2"}"#), NOW + 20, 30.0);
    assert_eq!(s.refresh_token(), Some("rt2"));
    assert!(!s.is_dpop());
    assert!(s.refreshed_since(29.0) && !s.refreshed_since(30.0), "a caller that waited for the refresh lock reuses a later refresh only");
    let bearer_only = SessionRecord::new(ISS, CLIENT, "k", "j");
    assert_eq!(bearer_only.revocation_token(), ("", "access_token"), "no refresh token: the access token is revoked");
    let t = tokens(r#"{"access_token":"x","token_type":"N_A"}"#);
    assert_eq!(t.token_type, TokenType::Other("N_A".into()));
    s.set_tokens(&t, NOW, 1.0);
    assert_eq!(s.token_type, "N_A");
}

#[test]
fn session_ids_and_lock_names_separate_named_sessions() {
    assert_eq!(core::session_id(ISS, CLIENT, ""), "https://op.example.com app");
    assert_eq!(core::session_id(ISS, CLIENT, "agent"), "https://op.example.com app agent");
    assert_eq!(core::refresh_lock_name("x y"), "keybound refresh x y");
}

// ---- DPoP nonce cache ----

#[test]
fn the_nonce_cache_key_is_the_normalized_htu() {
    let htu = |u: &str| Htu::parse(u).unwrap();
    assert_eq!(htu("https://rs.example/api?x=1#f"), htu("https://rs.example/api?y=2"));
    assert_eq!(htu("HTTPS://RS.example:443/api"), htu("https://rs.example/api"));
    assert_ne!(htu("https://op.example/token"), htu("https://op.example/userinfo"), "per endpoint, not per origin");
    assert_eq!(code(Htu::parse("not a url")), ErrorCode::UrlInvalid, "no endpoint, no nonce: a proof could not name it either");
    let mut cache = NonceCache::default();
    cache.set(&htu("https://rs.example/api?x=1"), Some("n1"));
    assert_eq!(cache.get(&htu("HTTPS://rs.example:443/api#f")), Some(Some("n1")), "one endpoint however it is written");
    assert_eq!(cache.get(&htu("https://rs.example/other")), None);
}

#[test]
fn the_nonce_cache_keeps_the_latest_per_endpoint_and_the_100_newest_endpoints() {
    let at = |path: &str| Htu::parse(&format!("https://rs.example/{path}")).unwrap();
    let (a, b) = (at("a"), at("b"));
    let mut cache = NonceCache::default();
    assert_eq!(cache.get(&a), None);
    cache.set(&a, None);
    assert_eq!(cache.get(&a), Some(None), "known to have none");
    cache.set(&a, Some("n1"));
    cache.set(&a, Some("n2"));
    assert_eq!(cache.get(&a), Some(Some("n2")));
    assert!(cache.knows(&a, "n2") && !cache.knows(&a, "n1") && !cache.knows(&b, "n2"));
    for i in 0..NONCE_CACHE_SIZE - 1 {
        cache.set(&at(&format!("s{i}")), Some("n"));
    }
    assert_eq!(cache.len(), NONCE_CACHE_SIZE);
    cache.set(&a, Some("n3")); // refreshed: now the newest
    cache.set(&at("new"), Some("n"));
    assert_eq!(cache.len(), NONCE_CACHE_SIZE);
    assert_eq!(cache.get(&at("s0")), None, "the oldest endpoint went");
    assert_eq!(cache.get(&a), Some(Some("n3")));
}

// ---- the nonce retry ----

const CHALLENGE: &str = r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#;

#[test]
fn a_resource_use_dpop_nonce_challenge_is_retried_once_with_its_nonce_then_given_up() {
    let mut retry = NonceRetry::new();
    assert_eq!(retry.resource(401, Some(CHALLENGE), Some("eyJ7S_zG.eyJH0-Z.HX4w-7v")), Step::Retry("eyJ7S_zG.eyJH0-Z.HX4w-7v".into()));
    assert!(retry.retried());
    assert_eq!(retry.resource(401, Some(CHALLENGE), Some("another")), Step::Done(()), "no third attempt");
}

#[test]
fn only_a_401_dpop_nonce_challenge_with_a_usable_nonce_is_retried() {
    let cases: &[(u16, Option<&str>, Option<&str>)] = &[
        (401, Some(CHALLENGE), None),                              // no nonce to use
        (401, Some(CHALLENGE), Some("bad nonce\u{1}")),            // unusable nonce
        (401, Some(r#"Bearer error="invalid_token""#), Some("n")), // another scheme
        (401, Some(r#"DPoP error="invalid_token""#), Some("n")),   // another error
        (401, None, Some("n")),                                    // no challenge
        (400, Some(CHALLENGE), Some("n")),                         // not a 401
        (200, None, Some("n")),                                    // a success carrying a nonce
    ];
    for &(status, www, nonce) in cases {
        assert_eq!(NonceRetry::new().resource(status, www, nonce), Step::Done(()), "{status} {www:?} {nonce:?}");
    }
    let mixed = r#"Bearer realm="x", DPoP error="use_dpop_nonce", algs="ES256""#;
    assert!(matches!(NonceRetry::new().resource(401, Some(mixed), Some("n")), Step::Retry(_)), "the DPoP challenge among several");
}

#[test]
fn an_op_use_dpop_nonce_error_is_retried_once_then_returned() {
    let mut retry = NonceRetry::new();
    let first = retry.op::<()>(Err(Error::UseDpopNonce { nonce: "n1".into() }));
    assert_eq!(first, Step::Retry("n1".into()));
    match retry.op::<()>(Err(Error::UseDpopNonce { nonce: "n2".into() })) {
        Step::Done(Err(e)) => assert_eq!(e.code(), ErrorCode::UseDpopNonce),
        other => panic!("retried twice: {other:?}"),
    }
    assert!(matches!(NonceRetry::new().op::<()>(Err(Error::StateMismatch)), Step::Done(Err(Error::StateMismatch))));
    assert_eq!(NonceRetry::new().op(Ok(7)), Step::Done(Ok(7)));
}

#[test]
fn the_op_answer_is_read_to_a_retry_from_the_token_endpoint_response() {
    let res = HttpResponse {
        status: 400,
        content_type: Some("application/json".into()),
        dpop_nonce: Some("eyJ7S_zG".into()),
        body: r#"{"error":"use_dpop_nonce"}"#.into(),
    };
    assert_eq!(NonceRetry::new().op(oauth::process_token_response(&res)).map_done(), Some("eyJ7S_zG".into()));
    assert_eq!(retry::fresh_nonce(Some("eyJ7S_zG")), Some("eyJ7S_zG"));
    assert_eq!(retry::fresh_nonce(Some("")), None);
    assert_eq!(retry::fresh_nonce(None), None);
}

trait RetryNonce {
    fn map_done(self) -> Option<String>;
}

impl<T> RetryNonce for Step<T> {
    fn map_done(self) -> Option<String> {
        match self {
            Step::Retry(n) => Some(n),
            Step::Done(_) => None,
        }
    }
}

// ---- the device-flow poll ----

#[test]
fn authorization_pending_waits_the_same_interval_and_slow_down_adds_5_seconds_for_good() {
    let mut polling = DevicePolling::new(NOW, 600, 5);
    assert_eq!(polling.interval(), 5);
    match polling.after_poll(oauth::process_device_poll_response(&oauth_error("authorization_pending")).expect("pending")) {
        DeviceStep::Wait { status, interval } => assert_eq!((status, interval), ("authorization_pending", 5)),
        other => panic!("{other:?}"),
    }
    match polling.after_poll(oauth::process_device_poll_response(&oauth_error("slow_down")).expect("slow down")) {
        DeviceStep::Wait { status, interval } => assert_eq!((status, interval), ("slow_down", 5 + SLOW_DOWN_STEP)),
        other => panic!("{other:?}"),
    }
    polling.after_poll(DevicePoll::SlowDown);
    assert_eq!(polling.interval(), 5 + 2 * SLOW_DOWN_STEP, "each slow_down adds up");
    polling.after_poll(DevicePoll::Pending);
    assert_eq!(polling.interval(), 15, "and stays");
}

#[test]
fn the_device_codes_expire_at_their_deadline() {
    let polling = DevicePolling::new(NOW, 600, 5);
    assert!(polling.before_poll(NOW + 600).is_ok());
    assert_eq!(code(polling.before_poll(NOW + 601)), ErrorCode::DeviceCodeExpired);
}

#[test]
fn the_device_poll_ends_with_the_tokens_or_the_ops_refusal() {
    let mut polling = DevicePolling::new(NOW, 600, 5);
    let body = r#"{"access_token":"at","token_type":"DPoP","id_token":"x.y.z"}"#;
    let res = HttpResponse { status: 200, content_type: Some("application/json".into()), dpop_nonce: None, body: body.into() };
    match polling.after_poll(oauth::process_device_poll_response(&res).expect("tokens")) {
        DeviceStep::Tokens(t) => assert_eq!(t.id_token.as_deref(), Some("x.y.z")),
        other => panic!("{other:?}"),
    }
    assert_eq!(code(oauth::process_device_poll_response(&oauth_error("access_denied"))), ErrorCode::DeviceAccessDenied);
    assert_eq!(code(oauth::process_device_poll_response(&oauth_error("expired_token"))), ErrorCode::DeviceCodeExpired);
    let challenge = HttpResponse { dpop_nonce: Some("n1".into()), ..oauth_error("use_dpop_nonce") };
    assert_eq!(
        code(oauth::process_device_poll_response(&challenge)),
        ErrorCode::UseDpopNonce,
        "a poll's nonce challenge goes to the retry"
    );
    assert_eq!(NonceRetry::new().op(oauth::process_device_poll_response(&challenge)).map_done(), Some("n1".into()));
}

// ---- the JWKS refetch rule ----

#[test]
fn the_client_refetches_once_per_kid_and_minute_even_right_after_discovery() {
    let mut gate = JwksRefetchGate::per_kid();
    assert!(gate.allows(Some("k2"), NOW), "the set from discovery does not count");
    gate.record(Some("k2"), NOW);
    assert!(!gate.allows(Some("k2"), NOW + 60), "the same kid waits a minute");
    assert!(gate.allows(Some("k2"), NOW + 61));
    assert!(gate.allows(Some("k3"), NOW + 1), "a new kid (the next rotation) is worth a refetch at once");
    assert!(gate.allows(None, NOW + 1));
}

#[test]
fn the_consumer_refetches_at_most_once_a_minute_whatever_the_kid() {
    let mut gate = JwksRefetchGate::per_set(NOW);
    assert!(!gate.allows(Some("k2"), NOW + 60), "not within a minute of the first fetch");
    assert!(gate.allows(Some("k2"), NOW + 61));
    gate.record(Some("k2"), NOW + 61);
    assert!(!gate.allows(Some("random-kid-1"), NOW + 62), "a presenter's made-up kids cannot make it fetch again");
    assert!(!gate.allows(None, NOW + 121));
    assert!(gate.allows(Some("k9"), NOW + 122));
}

// ---- login checks ----

#[test]
fn the_code_flow_requires_its_nonce_echoed_and_the_device_flow_refuses_only_a_wrong_one() {
    let code_flow = LoginCheck { nonce: Some("n1"), nonce_must_echo: true, bind: true, auth: AuthenticationCheck::default() };
    assert_eq!(code_flow.expected_nonce(), Some("n1"), "the ID Token validation requires it");
    assert_eq!(code_flow.expected_jkt("jkt"), Some("jkt"));
    let device = LoginCheck { nonce: Some("n1"), nonce_must_echo: false, bind: true, auth: AuthenticationCheck::default() };
    assert_eq!(device.expected_nonce(), None, "RFC 8628 has no nonce: the OP may leave it out");
    assert!(device.check_nonce(None).is_ok());
    assert!(device.check_nonce(Some("n1")).is_ok());
    assert_eq!(code(device.check_nonce(Some("n2"))), ErrorCode::IdTokenNonceMismatch);
    let unbound = LoginCheck { bind: false, ..code_flow };
    assert_eq!(unbound.expected_jkt("jkt"), None);
}

#[test]
fn a_finish_that_the_op_did_not_answer_keeps_the_pending_login() {
    assert!(keeps_pending(&Error::Timeout { url: "u".into(), timeout_ms: 1 }));
    assert!(keeps_pending(&Error::Network { url: "u".into(), message: "m".into() }));
    assert!(keeps_pending(&Error::Cancelled));
    assert!(!keeps_pending(&Error::StateMismatch));
    assert!(!keeps_pending(&Error::IdTokenNonceMismatch));
    assert!(!keeps_pending(&oauth::process_token_response(&oauth_error("invalid_grant")).expect_err("refused")));
}

#[test]
fn a_refreshed_id_token_stays_bound_when_the_session_was() {
    assert_eq!(refresh_binding(true, BindingPolicy::Preferred, false, "j"), (BindingPolicy::Required, Some("j")));
    assert_eq!(refresh_binding(false, BindingPolicy::Preferred, true, "j"), (BindingPolicy::Preferred, Some("j")));
    assert_eq!(refresh_binding(false, BindingPolicy::Preferred, false, "j"), (BindingPolicy::Preferred, None));
    assert_eq!(refresh_binding(false, BindingPolicy::Required, true, "j"), (BindingPolicy::Required, Some("j")));
}

// ---- the ID Token policy ----

#[test]
fn the_id_token_algorithms_are_ours_intersected_with_the_ops() {
    assert_eq!(core::allowed_id_token_algs(&[]), vec![Alg::Rs256, Alg::Ps256, Alg::Es256], "none advertised: all of ours");
    let advertised = ["HS256".to_owned(), "ES256".to_owned(), "none".to_owned()];
    assert_eq!(core::allowed_id_token_algs(&advertised), vec![Alg::Es256]);
    assert!(core::allowed_id_token_algs(&["HS256".to_owned()]).is_empty(), "nothing in common: every token is refused");
}

#[test]
fn the_id_token_check_uses_the_clients_skew_age_and_expectations() {
    let algs = [Alg::Es256];
    let check = core::id_token_check(ISS, CLIENT, &algs, NOW, Some("n"), Some("j"), BindingPolicy::Required);
    assert_eq!((check.issuer, check.client_id, check.now, check.nonce, check.expected_jkt), (ISS, CLIENT, NOW, Some("n"), Some("j")));
    assert_eq!((check.clock_skew, check.max_age), (CLOCK_SKEW, ID_TOKEN_MAX_AGE));
    assert_eq!((CLOCK_SKEW, ID_TOKEN_MAX_AGE), (60, 600));
    assert!(check.extra_audiences.is_empty(), "the client accepts no other audience");
    assert_eq!(check.allowed_algs, &algs);
}

// ---- what a request carries besides its proof ----

#[test]
fn the_access_token_goes_as_dpop_or_bearer_and_the_id_token_never_as_an_access_token() {
    use keybound::protocol::session::present;
    assert_eq!(present::authorization(true, "at"), "DPoP at");
    assert_eq!(present::authorization(false, "at"), "Bearer at");
    for header in ["Authorization", "authorization", "DPoP", "dpop"] {
        assert_eq!(code(present::check_id_token_header(Some(header))), ErrorCode::InvalidArgument, "{header}");
    }
    assert!(present::check_id_token_header(Some("X-Id-Token")).is_ok());
    assert!(present::check_id_token_header(None).is_ok());
    assert_eq!(code(present::check_presentation_method("GET", None)), ErrorCode::InvalidArgument, "no body to carry it");
    assert_eq!(code(present::check_presentation_method("HEAD", None)), ErrorCode::InvalidArgument);
    assert!(present::check_presentation_method("GET", Some("X-Id-Token")).is_ok());
    assert!(present::check_presentation_method("POST", None).is_ok());
}

#[test]
fn a_presentation_body_is_the_callers_json_object_with_the_id_token() {
    use keybound::protocol::session::present;
    let body: serde_json::Value =
        serde_json::from_str(&present::presentation_body(Some(r#"{"amount":5}"#), "t.o.k").expect("body")).expect("json");
    assert_eq!(body, serde_json::json!({"amount": 5, "id_token": "t.o.k"}));
    let body: serde_json::Value = serde_json::from_str(&present::presentation_body(None, "t.o.k").expect("body")).expect("json");
    assert_eq!(body, serde_json::json!({"id_token": "t.o.k"}));
    let replaced = present::presentation_body(Some(r#"{"id_token":"forged"}"#), "t.o.k").expect("body");
    assert!(!replaced.contains("forged"), "the session's ID Token wins");
    for bad in ["[1]", "\"s\"", "not json", ""] {
        assert_eq!(code(present::presentation_body(Some(bad), "t")), ErrorCode::InvalidArgument, "{bad:?}");
    }
}

// ---- passkey-nonce logins ----

#[test]
fn a_passkey_binding_commits_to_the_passkey_and_refuses_another() {
    const JKT: &str = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    let (nonce, plain) = PasskeyBinding::commit("work", JKT.into(), NonceMode::Plain, None).unwrap();
    assert_eq!(nonce, JKT, "plain: the nonce is the thumbprint");
    assert_eq!((plain.name.as_str(), plain.mode.as_str(), plain.salt.as_deref()), ("work", "plain", None));
    let salt = [7u8; 32];
    let (salted_nonce, salted) = PasskeyBinding::commit("work", JKT.into(), NonceMode::Salted, Some(&salt)).unwrap();
    assert_eq!(salted_nonce, passkey::commitment(NonceMode::Salted, JKT, Some(&salt)).unwrap());
    assert_ne!(salted_nonce, JKT, "salted: the thumbprint does not show");
    assert_eq!((salted.mode.as_str(), salted.salt.as_deref()), ("salted", Some(b64::encode(salt).as_str())));
    assert_eq!(code(PasskeyBinding::commit("work", JKT.into(), NonceMode::Salted, None)), ErrorCode::InvalidArgument);
    // The passkey under that name must still be the one the login committed to.
    assert!(salted.check_passkey(JKT).is_ok());
    assert_eq!(code(salted.check_passkey("another-passkey-registered-under-the-same-name")), ErrorCode::PasskeyNonceMismatch);
}

#[test]
fn a_new_login_forgets_the_previous_sessions_key_unless_it_is_the_same() {
    let old = SessionRecord::new(ISS, CLIENT, "login:old", "jkt-old");
    assert_eq!(old.key_to_forget(&SessionRecord::new(ISS, CLIENT, "login:new", "jkt-new")), Some("login:old"));
    assert_eq!(old.key_to_forget(&SessionRecord::new(ISS, CLIENT, "login:old", "jkt-old")), None, "same key: keep it");
}

#[test]
fn a_logout_that_comes_back_always_has_a_state() {
    let fresh = || Ok::<_, Error>("fresh-state".to_owned());
    let never = || -> Result<String, Error> { panic!("no state is drawn without a redirect back") };
    assert_eq!(records::new_logout_state(Some("https://app/"), None, fresh).unwrap().as_deref(), Some("fresh-state"));
    assert_eq!(records::new_logout_state(Some("https://app/"), Some("mine".into()), never).unwrap().as_deref(), Some("mine"));
    assert_eq!(records::new_logout_state(None, None, never).unwrap(), None);
    assert_eq!(records::new_logout_state(None, Some("mine".into()), never).unwrap().as_deref(), Some("mine"));
    assert_eq!(code(records::new_logout_state(Some("https://app/"), Some(String::new()), never)), ErrorCode::InvalidArgument);
    assert_eq!(code(records::new_logout_state(None, Some("s".repeat(201)), never)), ErrorCode::InvalidArgument);
}
