//! The `protocol::oauth` response processors (token, discovery, device authorization, device
//! poll, PAR, revocation) over an `HttpResponse` built from fuzz bytes, and the form-encoded callback
//! (`parse_callback` + `check_callback`), and `WWW-Authenticate` challenges.
//!
//! Input: byte 0 picks the mode (even: HTTP response, odd: callback) and flags. HTTP response:
//! bytes 1-2 the status (big-endian), byte 3 the Content-Type, then text: first line the
//! `DPoP-Nonce` header (absent when empty), the rest the body. Callback: the rest is the URL or
//! query. Properties: never panics; accepted token responses are 200 JSON with a non-empty access
//! token, a bounded `expires_in` and only a syntactically valid `DPoP-Nonce`;
//! `ERR_USE_DPOP_NONCE` carries exactly the header's valid nonce; the device poll agrees with the
//! token processor; accepted discovery documents have our issuer and http(s) endpoints (https
//! for an https issuer); accepted device authorizations have bounded times; `Debug` of a token
//! response never shows the access or refresh token; an accepted callback has our state and
//! issuer, a code, and no repeated parameter.
#![no_main]

mod common;

use keybound::protocol::challenge;
use keybound::protocol::htu::normalize_htu;
use keybound::protocol::oauth::{self, DevicePoll, HttpResponse};
use keybound::{Error, ErrorCode};
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/json"),
    Some("application/json; charset=UTF-8"),
    Some("Application/JSON"),
    Some("application/problem+json"),
    Some("text/html"),
    Some(""),
    Some("application/jsonx"),
];

/// The response re-serialized, and the same with the secret members (`access_token`,
/// `refresh_token`, `device_code`) replaced: `Debug` of the two, and of what they parse to, must be
/// equal. Both bodies are re-serialized, since serde_json's default float parsing does not always
/// round-trip (`1.15222222222222225222` comes back 1 ulp off). `None` when the body does not read
/// as a `serde_json::Value` (an ignored member can hold a number out of range).
fn with_other_secrets(resp: &HttpResponse) -> Option<(HttpResponse, HttpResponse)> {
    let v: serde_json::Value = serde_json::from_str(&resp.body).ok()?;
    let mut w = v.clone();
    for (k, other) in [("access_token", "other-access-token"), ("refresh_token", "other-refresh-token"), ("device_code", "other-device-code")] {
        if w.get(k).is_some_and(|x| x.is_string()) {
            w[k] = other.into();
        }
    }
    let (mut a, mut b) = (resp.clone(), resp.clone());
    a.body = v.to_string();
    b.body = w.to_string();
    Some((a, b))
}

fn http(sel: u8, status: u16, data: &str) -> HttpResponse {
    let (nonce, body) = data.split_once('\n').unwrap_or((data, ""));
    let mut r = HttpResponse::default();
    r.status = status;
    r.content_type = CONTENT_TYPES[usize::from(sel) % CONTENT_TYPES.len()].map(str::to_owned);
    r.dpop_nonce = (!nonce.is_empty()).then(|| nonce.to_owned());
    r.body = body.to_owned();
    r
}

fn response(resp: &HttpResponse) {
    let _ = format!("{resp:?}");
    // PAR (RFC 9126) and revocation (RFC 7009) answers: never panic; an accepted push has a
    // non-empty request_uri and a bounded lifetime; only a 200 revokes; a nonce answer carries
    // the header's valid nonce.
    let par = common::checked(oauth::process_par_response(resp));
    if let Ok(p) = &par {
        assert!(matches!(resp.status, 200 | 201) && !p.request_uri.is_empty() && p.expires_in >= 0);
        let shown = format!("{p:?}");
        assert_eq!(shown, format!("PushedAuthorization {{ request_uri: \"[redacted]\", expires_in: {} }}", p.expires_in));
    }
    let revoked = common::checked(oauth::process_revocation_response(resp));
    assert_eq!(revoked.is_ok(), resp.status == 200);
    for r in [par.err(), revoked.err()].into_iter().flatten() {
        if let Error::UseDpopNonce { nonce } = r {
            assert_eq!(oauth::valid_dpop_nonce(&nonce), Some(nonce.as_str()));
        }
    }
    if let Some(n) = resp.dpop_nonce.as_deref() {
        if let Some(v) = oauth::valid_dpop_nonce(n) {
            assert_eq!(v, n);
            assert!(!v.is_empty() && v.len() <= 1024 && v.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\'));
        }
    }
    let token = common::checked(oauth::process_token_response(resp));
    common::trace("token", &token);
    // Past JSON parsing (accepted, or an OAuth error read from the body): the body was an object.
    if (token.is_ok() || matches!(&token, Err(Error::OAuthError { .. } | Error::UseDpopNonce { .. }))) && !common::accepted_object(resp.body.as_bytes(), "token endpoint response") {
        return;
    }
    match &token {
        Ok(t) => {
            assert_eq!(resp.status, 200);
            assert!(!t.access_token.expose().is_empty());
            assert!(t.expires_in.is_none_or(|e| (0..=oauth::MAX_TOKEN_EXPIRES_IN).contains(&e)));
            if let Some(n) = &t.dpop_nonce {
                assert_eq!(resp.dpop_nonce.as_deref(), Some(n.as_str()));
                assert_eq!(oauth::valid_dpop_nonce(n), Some(n.as_str()));
            }
            if let Some((same, other)) = with_other_secrets(resp) {
                if let Ok(t1) = oauth::process_token_response(&same) {
                    let t2 = oauth::process_token_response(&other).expect("same response, other secrets");
                    assert_eq!(format!("{t1:?}"), format!("{t2:?}"), "Debug of a token response shows a secret");
                }
                assert_eq!(format!("{same:?}"), format!("{other:?}"), "Debug of an HTTP response shows a secret");
            }
        }
        Err(Error::UseDpopNonce { nonce }) => {
            assert!((400..500).contains(&resp.status));
            assert_eq!(resp.dpop_nonce.as_deref(), Some(nonce.as_str()));
            assert_eq!(oauth::valid_dpop_nonce(nonce), Some(nonce.as_str()));
        }
        Err(_) => {}
    }
    // The device poll is the token processor plus four OAuth errors.
    match (common::checked(oauth::process_device_poll_response(resp)), &token) {
        (Ok(DevicePoll::Tokens(a)), Ok(b)) => assert_eq!(&*a, b),
        (Ok(DevicePoll::Pending), Err(Error::OAuthError { error, .. })) => assert_eq!(error, "authorization_pending"),
        (Ok(DevicePoll::SlowDown), Err(Error::OAuthError { error, .. })) => assert_eq!(error, "slow_down"),
        (Err(e), Err(Error::OAuthError { error, .. })) if e.code() == ErrorCode::DeviceAccessDenied => assert_eq!(error, "access_denied"),
        (Err(e), Err(Error::OAuthError { error, .. })) if e.code() == ErrorCode::DeviceCodeExpired => assert_eq!(error, "expired_token"),
        (Err(a), Err(b)) => assert_eq!(&a, b),
        (a, b) => panic!("device poll {a:?} disagrees with token response {b:?}"),
    }
    for issuer in [common::ISSUER, "http://localhost:8080"] {
        let disco = common::checked(oauth::process_discovery_response(resp, issuer));
        common::trace("discovery", &disco);
        if disco.is_ok() && !common::accepted_object(resp.body.as_bytes(), "discovery document") {
            return;
        }
        if let Ok(meta) = disco {
            assert_eq!(resp.status, 200);
            assert_eq!(meta.issuer, issuer);
            let https = issuer.starts_with("https://");
            for u in [Some(&meta.authorization_endpoint), Some(&meta.token_endpoint), Some(&meta.jwks_uri), meta.userinfo_endpoint.as_ref(), meta.device_authorization_endpoint.as_ref()].into_iter().flatten() {
                let n = normalize_htu(u).unwrap_or_else(|e| panic!("endpoint {u:?} accepted: {e}"));
                assert!(!https || n.starts_with("https://"), "http endpoint {u:?} for an https issuer");
            }
            let _ = meta.advertises_bound_key();
        }
        let dev = common::checked(oauth::process_device_authorization_response(resp, issuer));
        common::trace("device", &dev);
        if dev.is_ok() && !common::accepted_object(resp.body.as_bytes(), "device authorization response") {
            return;
        }
        if let Ok(d) = dev {
            assert_eq!(resp.status, 200);
            assert!(!d.device_code.expose().is_empty() && !d.user_code.is_empty());
            // Documented as 1..=MAX_DEVICE_EXPIRES_IN; a fraction under 1 (`"expires_in":0.5`) gives 0: a known issue.
            if !common::known_issue(d.expires_in >= 1, || format!("device authorization accepted with expires_in {} (documented 1..={})", d.expires_in, oauth::MAX_DEVICE_EXPIRES_IN)) {
                return;
            }
            assert!(d.expires_in <= oauth::MAX_DEVICE_EXPIRES_IN);
            assert!(d.interval >= 0 && d.interval <= oauth::MAX_DEVICE_INTERVAL, "interval {}", d.interval);
            let https = issuer.starts_with("https://");
            for u in [Some(&d.verification_uri), d.verification_uri_complete.as_ref()].into_iter().flatten() {
                let n = normalize_htu(u).unwrap_or_else(|e| panic!("verification URI {u:?} accepted: {e}"));
                assert!(!https || n.starts_with("https://"));
            }
            if let Some((same, other)) = with_other_secrets(resp) {
                if let Ok(d1) = oauth::process_device_authorization_response(&same, issuer) {
                    let d2 = oauth::process_device_authorization_response(&other, issuer).expect("same response, other device code");
                    assert_eq!(format!("{d1:?}"), format!("{d2:?}"), "Debug of a device authorization shows the device code");
                }
                assert_eq!(format!("{same:?}"), format!("{other:?}"), "Debug of an HTTP response shows the device code");
            }
        }
    }
}

fn callback(sel: u8, input: &str) {
    let params = oauth::parse_callback(input);
    let _ = format!("{params:?}");
    let state = "Hx3pQ9vZt1";
    let iss_required = sel & 2 != 0;
    let cb = common::checked(oauth::check_callback(&params, state, common::ISSUER, iss_required));
    common::trace("callback", &cb);
    if let Ok(code) = cb {
        assert!(params.repeated.is_none());
        assert_eq!(params.state.as_deref(), Some(state));
        assert!(params.iss.as_deref().is_none_or(|i| i == common::ISSUER));
        assert!(!iss_required || params.iss.is_some());
        assert!(params.error.is_none());
        assert!(!code.expose().is_empty());
        assert_eq!(params.code.as_ref().map(|c| c.expose()), Some(code.expose()));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    if sel & 1 == 0 {
        if rest.len() < 3 {
            return;
        }
        let status = u16::from_be_bytes([rest[0], rest[1]]);
        let Ok(text) = std::str::from_utf8(&rest[3..]) else { return };
        response(&http(rest[2], status, text));
    } else {
        let Ok(text) = std::str::from_utf8(rest) else { return };
        callback(sel, text);
        challenges(text);
    }
});

/// The same text as a `WWW-Authenticate` value: never panics; a DPoP nonce challenge is only
/// found where the header names the scheme and the error; every challenge has a token scheme.
fn challenges(text: &str) {
    let parsed = challenge::parse(text);
    for c in &parsed {
        assert!(!c.scheme.is_empty() && c.scheme.bytes().all(|b| b.is_ascii_graphic() && !b"\"(),/:;<=>?@[\\]{}".contains(&b)));
        assert!(c.token68.is_none() || c.params.is_empty());
    }
    if challenge::is_dpop_nonce_challenge(text) {
        // A quoted-string may escape any character (`"u\se_dpop_nonce"` is use_dpop_nonce), so
        // the words are looked for with the backslashes taken out.
        let lower = text.to_ascii_lowercase().replace('\\', "");
        assert!(lower.contains("dpop") && lower.contains("use_dpop_nonce") && lower.contains("error"));
    }
}
