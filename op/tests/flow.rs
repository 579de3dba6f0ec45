//! The reference OP end to end, driven natively by keybound's own protocol core: discovery,
//! authorization with `bound_key` + `dpop_jkt` + PKCE, login, the token exchange with a DPoP
//! proof carrying `c_s256`, ID Token validation (bound), UserInfo with `ath`, refresh with
//! rotation; then the OP's refusals, and each fault switch refused by the client with its code.

use std::io::{Read, Write};
use std::net::TcpStream;

use keybound::native::block_on;
use keybound::native::{Es256Signer, NativeVerifier};
use keybound::protocol::crypto::Signer;
use keybound::protocol::dpop::{self, DpopClaims, DpopHeader, ProofParams};
use keybound::protocol::id_token::{self, BindingPolicy, IdTokenCheck, Jwks, ValidatedIdToken};
use keybound::protocol::jwa::Alg;
use keybound::protocol::oauth::{self, AuthorizationRequest, HttpResponse, TokenType};
use keybound::protocol::pkce;
use keybound::{Error, ErrorCode};
use keybound_op::{start, Config, RunningOp};

const CLIENT_D: &str = "EdiqAaCkaOmnDTOZuSzBCITGx2O7JLc3pV6ZTgtmwPs";
const OTHER_D: &str = "M80UlktZOyzxpKL_Jv3D8LfIen1AiK22NHGnbF2iePE";
const VERIFIER: &str = "Yb3Jm0fJ3tqzOJ1mZr9gq2wF0k1kXnVvQm3PpWq8sZE";

struct Http {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Http {
    /// Like a browser's `Headers.get`: repeated headers come back joined with ", ".
    fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect();
        (!values.is_empty()).then(|| values.join(", "))
    }
    fn as_response(&self) -> HttpResponse {
        HttpResponse {
            status: self.status,
            content_type: self.header("content-type"),
            dpop_nonce: self.header("dpop-nonce"),
            body: self.body.clone(),
        }
    }
}

/// A minimal HTTP/1.1 client (Connection: close), enough for tests on 127.0.0.1.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Http {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("header end");
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status");
    let headers = lines.filter_map(|l| l.split_once(": ")).map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
    Http { status, headers, body: body.to_owned() }
}

fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    &rest[rest.find('/').unwrap_or(rest.len())..]
}

struct Login {
    op: RunningOp,
    signer: Es256Signer,
    header: DpopHeader,
    meta: oauth::ProviderMetadata,
    jwks: Jwks,
}

impl Login {
    fn new(config: Config) -> Login {
        let op = start(config).expect("start");
        let res = http(op.port, "GET", "/.well-known/openid-configuration", &[], "");
        let meta = oauth::process_discovery_response(&res.as_response(), &op.issuer).expect("discovery");
        let jwks = Jwks::from_json(&http(op.port, "GET", "/jwks", &[], "").body).expect("jwks");
        let signer = Es256Signer::from_jwk_d(CLIENT_D).expect("key");
        let header = DpopHeader::new(Alg::Es256, signer.public_jwk()).expect("header");
        Login { op, signer, header, meta, jwks }
    }

    fn fault(&self, name: &str) {
        assert_eq!(http(self.op.port, "GET", &format!("/_test/fault?name={name}"), &[], "").status, 200);
    }

    fn redirect_uri(&self) -> String {
        format!("{}/", self.op.issuer)
    }

    /// Runs /authorize and /login; returns the code.
    fn code(&self, scope: &str, jkt: Option<&str>) -> String {
        self.code_asking(scope, jkt, None, None)
    }

    /// [`Login::code`] with OIDC `max_age` and `acr_values`.
    fn code_asking(&self, scope: &str, jkt: Option<&str>, max_age: Option<i64>, acr_values: Option<&str>) -> String {
        let url = oauth::authorization_url(&AuthorizationRequest {
            authorization_endpoint: &self.meta.authorization_endpoint,
            client_id: "keybound-demo",
            redirect_uri: &self.redirect_uri(),
            scope,
            state: "st-1",
            nonce: "no-1",
            code_challenge: &pkce::code_challenge(VERIFIER).unwrap(),
            dpop_jkt: jkt,
            max_age,
            acr_values,
        })
        .unwrap();
        self.code_at(&url)
    }

    /// The authorization request `request`, pushed with `proof` (RFC 9126 with RFC 9449 §10.1).
    fn push(&self, jkt: Option<&str>, proof: Option<&str>) -> Result<oauth::PushedAuthorization, Error> {
        let challenge = pkce::code_challenge(VERIFIER).unwrap();
        let redirect_uri = self.redirect_uri();
        let request = AuthorizationRequest {
            authorization_endpoint: &self.meta.authorization_endpoint,
            client_id: "keybound-demo",
            redirect_uri: &redirect_uri,
            scope: "openid offline_access",
            state: "st-1",
            nonce: "no-1",
            code_challenge: &challenge,
            dpop_jkt: jkt,
            max_age: None,
            acr_values: None,
        };
        let endpoint = self.meta.pushed_authorization_request_endpoint.as_deref().expect("a PAR endpoint");
        let req = oauth::par_request(endpoint, &request, proof).unwrap();
        let headers: Vec<(&str, &str)> = req.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        oauth::process_par_response(&http(self.op.port, "POST", path_of(&req.url), &headers, &req.body).as_response())
    }

    /// Runs the authorization URL's page and /login; returns the code.
    fn code_at(&self, url: &str) -> String {
        let page = http(self.op.port, "GET", path_of(url), &[], "");
        assert_eq!(page.status, 200, "{}", page.body);
        let pending = page.body.split("name=pending value=\"").nth(1).and_then(|r| r.split('"').next()).expect("pending id").to_owned();
        let form = format!("pending={pending}&username=alice&password=wonderland&action=approve");
        let res = http(self.op.port, "POST", "/login", &[("Content-Type", "application/x-www-form-urlencoded")], &form);
        assert_eq!(res.status, 302, "{}", res.body);
        let params = oauth::parse_callback(&res.header("location").expect("location"));
        oauth::check_callback(&params, "st-1", &self.op.issuer, self.meta.authorization_response_iss_parameter_supported)
            .expect("callback")
            .expose()
            .to_owned()
    }

    fn proof_with(&self, signer: &Es256Signer, htm: &str, htu: &str, code: Option<&str>, at: Option<&str>, nonce: Option<&str>) -> String {
        let header = DpopHeader::new(Alg::Es256, signer.public_jwk()).unwrap();
        let mut jti = [0u8; 16];
        getrandom_fill(&mut jti);
        let htu = &keybound::protocol::htu::Htu::parse(htu).unwrap();
        let params = ProofParams { htm, htu, nonce, access_token: at, code };
        let claims = DpopClaims::new(&params, keybound::protocol::b64::encode(jti), now()).unwrap();
        block_on(dpop::create_proof(signer, &header, &claims)).unwrap()
    }

    fn proof(&self, code: Option<&str>, nonce: Option<&str>) -> String {
        self.proof_with(&self.signer, "POST", &self.meta.token_endpoint, code, None, nonce)
    }

    fn post_token(&self, body: &str, proof: &str) -> Http {
        http(self.op.port, "POST", "/token", &[("Content-Type", "application/x-www-form-urlencoded"), ("DPoP", proof)], body)
    }

    fn exchange(&self, code: &str, proof: &str) -> Result<oauth::TokenResponse, Error> {
        let req = oauth::code_token_request(&self.meta.token_endpoint, code, &self.redirect_uri(), VERIFIER, "keybound-demo", proof);
        oauth::process_token_response(&self.post_token(&req.body, proof).as_response())
    }

    fn check<'a>(&'a self, nonce: Option<&'a str>) -> IdTokenCheck<'a> {
        IdTokenCheck {
            issuer: &self.op.issuer,
            client_id: "keybound-demo",
            extra_audiences: &[],
            allowed_algs: &[Alg::Rs256, Alg::Es256],
            now: now(),
            clock_skew: 60,
            max_age: 600,
            nonce,
            expected_jkt: Some(self.header.jkt()),
            binding: BindingPolicy::Required,
        }
    }

    fn validate(&self, id_token: &str, nonce: Option<&str>) -> Result<ValidatedIdToken, Error> {
        block_on(id_token::validate(id_token, &self.jwks, &self.check(nonce), &NativeVerifier))
    }

    /// A full bound login; returns the token response.
    fn login(&self) -> Result<(oauth::TokenResponse, ValidatedIdToken), Error> {
        let code = self.code("openid profile offline_access", Some(self.header.jkt()));
        let tokens = self.exchange(&code, &self.proof(Some(&code), None))?;
        let v = self.validate(tokens.id_token.as_deref().expect("id_token"), Some("no-1"))?;
        Ok((tokens, v))
    }
}

fn getrandom_fill(buf: &mut [u8]) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed).to_le_bytes();
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos().to_le_bytes();
    for (i, b) in buf.iter_mut().enumerate() {
        *b = n[i % 8] ^ t[i % 16];
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn bound_login_userinfo_and_refresh() {
    let l = Login::new(Config::default());
    assert!(l.meta.advertises_bound_key());
    let (tokens, v) = l.login().expect("login");
    assert!(v.bound, "ID Token bound to our key");
    assert_eq!(v.claims.cnf_jkt.as_deref(), Some(l.header.jkt()));
    assert_eq!(v.alg, Alg::Rs256, "RS256 by default");
    assert_eq!(tokens.token_type, TokenType::Dpop);
    let at = tokens.access_token.expose().to_owned();

    // UserInfo: Authorization: DPoP + a proof with ath.
    let userinfo = format!("{}/userinfo", l.op.issuer);
    let proof = l.proof_with(&l.signer, "GET", &userinfo, None, Some(&at), None);
    let res = http(l.op.port, "GET", "/userinfo", &[("Authorization", &format!("DPoP {at}")), ("DPoP", &proof)], "");
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains("alice-248289761"));
    // Without ath binding to this token: refused.
    let proof = l.proof_with(&l.signer, "GET", &userinfo, None, None, None);
    let res = http(l.op.port, "GET", "/userinfo", &[("Authorization", &format!("DPoP {at}")), ("DPoP", &proof)], "");
    assert_eq!(res.status, 401);

    // Refresh with a new proof from the same key: same cnf, rotated refresh token.
    let rt = tokens.refresh_token.expect("refresh token").expose().to_owned();
    let refresh = |rt: &str, signer: &Es256Signer| {
        let proof = l.proof_with(signer, "POST", &l.meta.token_endpoint, None, None, None);
        let req = oauth::refresh_token_request(&l.meta.token_endpoint, rt, "keybound-demo", &proof);
        oauth::process_token_response(&l.post_token(&req.body, &proof).as_response())
    };
    // A proof from another key is refused and does not spend the refresh token.
    let other = Es256Signer::from_jwk_d(OTHER_D).unwrap();
    let err = refresh(&rt, &other).unwrap_err();
    assert!(matches!(&err, Error::OAuthError { error, .. } if error == "invalid_dpop_proof"), "{err:?}");
    let refreshed = refresh(&rt, &l.signer).expect("refresh");
    let r = l.validate(refreshed.id_token.as_deref().unwrap(), None).expect("refreshed token valid");
    assert!(r.bound);
    assert_eq!(r.claims.nonce, None, "a refreshed ID Token has no nonce");
    id_token::check_refreshed(&v.claims, &r.claims).expect("same user, same key");
    let new_rt = refreshed.refresh_token.expect("rotated").expose().to_owned();
    assert_ne!(new_rt, rt);
    // The spent refresh token is refused.
    let err = refresh(&rt, &l.signer).unwrap_err();
    assert!(matches!(&err, Error::OAuthError { error, .. } if error == "invalid_grant"), "{err:?}");
    l.op.stop();
}

#[test]
fn es256_id_tokens_when_selected() {
    let l = Login::new(Config { es256: true, ..Config::default() });
    let (_, v) = l.login().expect("login");
    assert_eq!(v.alg, Alg::Es256);
    assert!(v.bound);
    l.op.stop();
}

#[test]
fn the_token_endpoint_runs_every_binding_check() {
    let l = Login::new(Config::default());
    let jkt = l.header.jkt().to_owned();
    let oauth_error = |r: Result<oauth::TokenResponse, Error>| match r {
        Err(Error::OAuthError { error, .. }) => error,
        other => panic!("expected an OAuth error, got {other:?}"),
    };
    // Proof from another key than dpop_jkt (RFC 9449 §10).
    let code = l.code("openid", Some(&jkt));
    let other = Es256Signer::from_jwk_d(OTHER_D).unwrap();
    let proof = l.proof_with(&other, "POST", &l.meta.token_endpoint, Some(&code), None, None);
    assert_eq!(oauth_error(l.exchange(&code, &proof)), "invalid_dpop_proof");
    // c_s256 over another code (KB §2.3, the public-key-substitution defence).
    let code = l.code("openid", Some(&jkt));
    assert_eq!(oauth_error(l.exchange(&code, &l.proof(Some("another-code"), None))), "invalid_dpop_proof");
    // No c_s256 at all.
    let code = l.code("openid", Some(&jkt));
    assert_eq!(oauth_error(l.exchange(&code, &l.proof(None, None))), "invalid_dpop_proof");
    // A replayed proof (same jti).
    let code = l.code("openid", Some(&jkt));
    let proof = l.proof(Some(&code), None);
    let _ = l.exchange(&code, &proof);
    let code2 = l.code("openid", Some(&jkt));
    assert_eq!(oauth_error(l.exchange(&code2, &proof)), "invalid_dpop_proof");
    // A used code.
    let code = l.code("openid", Some(&jkt));
    l.exchange(&code, &l.proof(Some(&code), None)).expect("first use");
    assert_eq!(oauth_error(l.exchange(&code, &l.proof(Some(&code), None))), "invalid_grant");
    // PKCE: the wrong verifier.
    let code = l.code("openid", Some(&jkt));
    let proof = l.proof(Some(&code), None);
    let req = oauth::code_token_request(&l.meta.token_endpoint, &code, &l.redirect_uri(), &"x".repeat(43), "keybound-demo", &proof);
    assert_eq!(oauth_error(oauth::process_token_response(&l.post_token(&req.body, &proof).as_response())), "invalid_grant");
    // bound_key without dpop_jkt is refused at the authorization endpoint.
    let url = format!("/authorize?response_type=code&client_id=keybound-demo&redirect_uri={}&scope=openid%20bound_key&state=s&code_challenge={}&code_challenge_method=S256",
        form(&l.redirect_uri()), pkce::code_challenge(VERIFIER).unwrap());
    let res = http(l.op.port, "GET", &url, &[], "");
    assert_eq!(res.status, 302);
    assert!(res.header("location").unwrap().contains("error=invalid_request"));
    // An implicit-flow request is refused (KB §1.4).
    let res = http(l.op.port, "GET", &url.replace("response_type=code", "response_type=id_token").replace("%20bound_key", ""), &[], "");
    assert!(res.header("location").unwrap().contains("error=unsupported_response_type"));
    // R6: a DPoP proof without bound_key/dpop_jkt does not bind the ID Token.
    let code = l.code("openid", None);
    let tokens = l.exchange(&code, &l.proof(None, None)).expect("unbound login");
    let preferred = IdTokenCheck { binding: BindingPolicy::Preferred, ..l.check(Some("no-1")) };
    let v = block_on(id_token::validate(tokens.id_token.as_deref().unwrap(), &l.jwks, &preferred, &NativeVerifier)).unwrap();
    assert!(!v.bound);
    assert_eq!(v.claims.cnf_jkt, None);
    l.op.stop();
}

fn form(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[test]
fn each_fault_switch_is_refused_with_its_code() {
    let l = Login::new(Config::default());
    let cases = [
        ("unbound", ErrorCode::IdTokenUnbound),
        ("cnf_other_key", ErrorCode::IdTokenCnfMismatch),
        ("wrong_typ", ErrorCode::IdTokenUnbound),
        ("bad_signature", ErrorCode::JwsSignatureInvalid),
        ("unknown_kid", ErrorCode::JwksNoMatchingKey),
        ("wrong_iss", ErrorCode::IdTokenIssuerMismatch),
        ("wrong_aud", ErrorCode::IdTokenAudienceMismatch),
        ("expired", ErrorCode::IdTokenExpired),
        ("wrong_nonce", ErrorCode::IdTokenNonceMismatch),
        ("token_500", ErrorCode::OAuthResponseInvalid),
        ("token_html", ErrorCode::OAuthResponseInvalid),
    ];
    for (fault, want) in cases {
        l.fault(fault);
        let err = l.login().map(|_| ()).expect_err(fault);
        assert_eq!(err.code(), want, "fault {fault}: {err}");
    }
    l.fault("");
    l.login().expect("no fault, no error");
    l.op.stop();
}

#[test]
fn max_age_and_acr_values_are_answered_and_each_fault_is_refused() {
    use id_token::{check_authentication, AuthenticationCheck};
    let l = Login::new(Config::default());
    let disc = http(l.op.port, "GET", "/.well-known/openid-configuration", &[], "").body;
    assert!(disc.contains(r#""acr_values_supported":["pwd","mfa"]"#), "{disc}");
    let asked = AuthenticationCheck { max_age: Some(0), acr_values: Some("mfa pwd"), require_acr: true };
    let login = || -> Result<(), Error> {
        let code = l.code_asking("openid", Some(l.header.jkt()), Some(0), Some("urn:unknown mfa"));
        let tokens = l.exchange(&code, &l.proof(Some(&code), None))?;
        let v = l.validate(tokens.id_token.as_deref().expect("id_token"), Some("no-1"))?;
        assert!(v.bound);
        check_authentication(&v.claims, &asked, now(), 60)
    };
    // The first supported value asked for is the acr; auth_time is now.
    login().expect("max_age 0 and acr mfa are met");
    // Not asked: acr pwd, which a caller requiring mfa refuses.
    let (_, v) = l.login().expect("login");
    assert_eq!(v.claims.acr.as_deref(), Some("pwd"));
    let err = check_authentication(&v.claims, &AuthenticationCheck { acr_values: Some("mfa"), ..asked }, now(), 60).unwrap_err();
    assert_eq!(err.code(), ErrorCode::IdTokenAcrNotSatisfied);
    for (fault, want) in [
        ("auth_time_missing", ErrorCode::IdTokenAuthTimeMissing),
        ("auth_time_old", ErrorCode::IdTokenAuthTooOld),
        ("acr_other", ErrorCode::IdTokenAcrNotSatisfied),
    ] {
        l.fault(fault);
        assert_eq!(login().expect_err(fault).code(), want, "fault {fault}");
        // A login that asked for nothing is not refused for it.
        l.login().expect(fault);
    }
    l.fault("");
    // A max_age that is not a whole number of seconds is an invalid request.
    let url = format!("/authorize?response_type=code&client_id=keybound-demo&redirect_uri={}%2F&scope=openid&state=s&code_challenge={}&code_challenge_method=S256&max_age=-5", l.op.issuer.replace(':', "%3A").replace('/', "%2F"), pkce::code_challenge(VERIFIER).unwrap());
    let res = http(l.op.port, "GET", &url, &[], "");
    assert_eq!(res.status, 302, "{}", res.body);
    assert!(res.header("location").unwrap().contains("error=invalid_request"));
    l.op.stop();
}

#[test]
fn pushed_authorization_requests_bind_the_code_to_the_proof_key() {
    let l = Login::new(Config { par: true, ..Config::default() });
    let par_endpoint = l.meta.pushed_authorization_request_endpoint.clone().expect("advertised");
    assert!(!l.meta.require_pushed_authorization_requests);
    let proof = |signer: &Es256Signer, nonce: Option<&str>| l.proof_with(signer, "POST", &par_endpoint, None, None, nonce);
    let login_with = |pushed: oauth::PushedAuthorization| -> Result<ValidatedIdToken, Error> {
        let url = oauth::par_authorization_url(&l.meta.authorization_endpoint, "keybound-demo", &pushed.request_uri).unwrap();
        let code = l.code_at(&url);
        let tokens = l.exchange(&code, &l.proof(Some(&code), None))?;
        assert_eq!(tokens.token_type, TokenType::Dpop);
        l.validate(tokens.id_token.as_deref().expect("id_token"), Some("no-1"))
    };
    // dpop_jkt and a proof by the same key: bound, cnf is that key.
    let pushed = l.push(Some(l.header.jkt()), Some(&proof(&l.signer, None))).expect("pushed");
    assert_eq!(pushed.expires_in, 60);
    assert!(pushed.request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    let v = login_with(pushed.clone()).expect("bound login");
    assert!(v.bound && v.claims.cnf_jkt.as_deref() == Some(l.header.jkt()));
    // The request_uri is single use.
    let url = oauth::par_authorization_url(&l.meta.authorization_endpoint, "keybound-demo", &pushed.request_uri).unwrap();
    assert_eq!(http(l.op.port, "GET", path_of(&url), &[], "").status, 400);
    // The proof alone binds too (RFC 9449 §10.1): the code is then bound to the proof key.
    let other = Es256Signer::from_jwk_d(OTHER_D).unwrap();
    let pushed = l.push(None, Some(&proof(&l.signer, None))).expect("pushed without dpop_jkt");
    let url = oauth::par_authorization_url(&l.meta.authorization_endpoint, "keybound-demo", &pushed.request_uri).unwrap();
    let code = l.code_at(&url);
    let err = l.exchange(&code, &l.proof_with(&other, "POST", &l.meta.token_endpoint, Some(&code), None, None)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OAuthError, "another key at the token endpoint: {err}");
    // dpop_jkt of one key and a proof by another: refused at the PAR endpoint.
    let err = l.push(Some(l.header.jkt()), Some(&proof(&other, None))).unwrap_err();
    assert!(matches!(&err, Error::OAuthError { error, status: 400, .. } if error == "invalid_dpop_proof"), "{err:?}");
    // A proof for another endpoint is no proof here.
    let wrong_htu = l.proof_with(&l.signer, "POST", &l.meta.token_endpoint, None, None, None);
    assert_eq!(l.push(Some(l.header.jkt()), Some(&wrong_htu)).unwrap_err().code(), ErrorCode::OAuthError);
    // The fault: the PAR endpoint drops the binding; the client sees an unbound ID Token.
    l.fault("par_drops_binding");
    let pushed = l.push(Some(l.header.jkt()), Some(&proof(&l.signer, None))).expect("pushed");
    assert_eq!(login_with(pushed).unwrap_err().code(), ErrorCode::IdTokenUnbound);
    l.fault("");
    // Nonces: the PAR endpoint challenges like the token endpoint; one retry with the nonce.
    l.fault("nonce_challenge");
    let nonce = match l.push(Some(l.header.jkt()), Some(&proof(&l.signer, None))).unwrap_err() {
        Error::UseDpopNonce { nonce } => nonce,
        other => panic!("{other:?}"),
    };
    let pushed = l.push(Some(l.header.jkt()), Some(&proof(&l.signer, Some(&nonce)))).expect("pushed with the nonce");
    l.fault("");
    assert!(login_with(pushed).expect("bound").bound);
    let stats = http(l.op.port, "GET", "/_test/stats", &[], "").body;
    assert!(stats.contains("\"par_dpop_proofs\":3"), "{stats}");
    l.op.stop();

    // An OP that requires PAR says so, and refuses a plain authorization request.
    let l = Login::new(Config { require_par: true, ..Config::default() });
    assert!(l.meta.require_pushed_authorization_requests && l.meta.pushed_authorization_request_endpoint.is_some());
    assert_eq!(oauth::par_endpoint(oauth::ParMode::Never, &l.meta).unwrap_err().code(), ErrorCode::InvalidArgument);
    let plain = format!(
        "/authorize?response_type=code&client_id=keybound-demo&redirect_uri={}&scope=openid&state=s&code_challenge={}&code_challenge_method=S256",
        form_urlencoded_byte(&l.redirect_uri()),
        pkce::code_challenge(VERIFIER).unwrap()
    );
    assert_eq!(http(l.op.port, "GET", &plain, &[], "").status, 400);
    let pushed = l.push(Some(l.header.jkt()), Some(&proof_for(&l))).expect("pushed");
    let url = oauth::par_authorization_url(&l.meta.authorization_endpoint, "keybound-demo", &pushed.request_uri).unwrap();
    let code = l.code_at(&url);
    assert!(l.exchange(&code, &l.proof(Some(&code), None)).is_ok());
    l.op.stop();
    // An OP without PAR has no endpoint.
    let l = Login::new(Config::default());
    assert_eq!(l.meta.pushed_authorization_request_endpoint, None);
    assert_eq!(http(l.op.port, "POST", "/par", &[], "client_id=keybound-demo").status, 405);
    l.op.stop();
}

fn proof_for(l: &Login) -> String {
    let endpoint = l.meta.pushed_authorization_request_endpoint.clone().unwrap();
    l.proof_with(&l.signer, "POST", &endpoint, None, None, None)
}

fn form_urlencoded_byte(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}

#[test]
fn revocation_of_dpop_bound_tokens_and_rp_initiated_logout() {
    let l = Login::new(Config::default());
    let revoke_at = l.meta.revocation_endpoint.clone().expect("revocation_endpoint");
    let end_at = l.meta.end_session_endpoint.clone().expect("end_session_endpoint");
    let revoke = |token: &str, proof: Option<String>| {
        let req = oauth::revocation_request(&revoke_at, token, "refresh_token", "keybound-demo", proof.as_deref());
        let headers: Vec<(&str, &str)> = req.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        oauth::process_revocation_response(&http(l.op.port, "POST", path_of(&req.url), &headers, &req.body).as_response())
    };
    let refresh = |rt: &str| {
        let proof = l.proof(None, None);
        let req = oauth::refresh_token_request(&l.meta.token_endpoint, rt, "keybound-demo", &proof);
        oauth::process_token_response(&l.post_token(&req.body, &proof).as_response())
    };
    let (tokens, v) = l.login().expect("login");
    let rt = tokens.refresh_token.expect("a refresh token").expose().to_owned();
    // A DPoP-bound refresh token: not without a proof, not with another key's, not for another htu.
    let other = Es256Signer::from_jwk_d(OTHER_D).unwrap();
    for proof in [None, Some(l.proof_with(&other, "POST", &revoke_at, None, None, None)), Some(l.proof(None, None))] {
        assert_eq!(revoke(&rt, proof).unwrap_err().code(), ErrorCode::OAuthError);
    }
    // The fault: 500, nothing revoked.
    l.fault("revocation_500");
    assert_eq!(
        revoke(&rt, Some(l.proof_with(&l.signer, "POST", &revoke_at, None, None, None))).unwrap_err().code(),
        ErrorCode::OAuthResponseInvalid
    );
    l.fault("");
    // With a proof by its key: revoked, and the refresh grant is refused afterwards.
    revoke(&rt, Some(l.proof_with(&l.signer, "POST", &revoke_at, None, None, None))).expect("revoked");
    assert_eq!(refresh(&rt).unwrap_err().code(), ErrorCode::OAuthError);
    // An unknown token is no error (RFC 7009 §2.2).
    revoke("never-issued", None).expect("unknown token");

    // RP-Initiated Logout: back to the registered URI with the state; the hint is counted when
    // it is an ID Token this OP issued to the client.
    let stats = || http(l.op.port, "GET", "/_test/stats", &[], "").body;
    let back = l.redirect_uri();
    let url = oauth::end_session_url(&end_at, Some(&tokens.id_token.clone().unwrap()), "keybound-demo", Some(&back), Some("st-9")).unwrap();
    let res = http(l.op.port, "GET", path_of(&url), &[], "");
    assert_eq!(res.status, 302);
    let location = res.header("location").unwrap();
    oauth::check_logout_callback(&oauth::parse_callback(&location), "st-9").expect("state back");
    assert!(stats().contains("\"end_sessions\":1"), "{}", stats());
    assert!(v.bound);
    // A forged hint is not counted; an unregistered redirect URI is not redirected to.
    let forged = oauth::end_session_url(&end_at, Some("e30.e30.c2ln"), "keybound-demo", Some(&back), None).unwrap();
    assert_eq!(http(l.op.port, "GET", path_of(&forged), &[], "").status, 302);
    assert!(stats().contains("\"end_sessions\":1"), "{}", stats());
    let elsewhere = oauth::end_session_url(&end_at, None, "keybound-demo", Some("http://evil.localhost/"), None).unwrap();
    assert_eq!(http(l.op.port, "GET", path_of(&elsewhere), &[], "").status, 400);
    assert!(stats().contains("\"revocations\":1"), "{}", stats());
    l.op.stop();
}

#[test]
fn dpop_nonce_challenge_then_one_retry() {
    let l = Login::new(Config { require_nonce: true, ..Config::default() });
    let code = l.code("openid offline_access", Some(l.header.jkt()));
    let nonce = match l.exchange(&code, &l.proof(Some(&code), None)) {
        Err(Error::UseDpopNonce { nonce }) => nonce,
        other => panic!("expected use_dpop_nonce, got {other:?}"),
    };
    // The retry: a new proof (new jti) with the nonce and still c_s256.
    let tokens = l.exchange(&code, &l.proof(Some(&code), Some(&nonce))).expect("retry succeeds");
    assert!(l.validate(tokens.id_token.as_deref().unwrap(), Some("no-1")).unwrap().bound);
    assert!(tokens.dpop_nonce.is_some(), "the nonce for the next request comes with the 200");
    let stats = http(l.op.port, "GET", "/_test/stats", &[], "").body;
    assert!(stats.contains("\"nonce_challenges\":1"), "{stats}");
    l.op.stop();
}

#[test]
fn serves_static_files_without_traversal() {
    let dir = std::env::temp_dir().join(format!("kb-op-www-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<h1>demo</h1>").unwrap();
    let op = start(Config { www: Some(dir.clone()), ..Config::default() }).unwrap();
    let res = http(op.port, "GET", "/", &[], "");
    assert_eq!(res.status, 200);
    assert!(res.body.contains("demo"));
    assert_eq!(http(op.port, "GET", "/../Cargo.toml", &[], "").status, 404);
    assert_eq!(http(op.port, "GET", "/%2e%2e/Cargo.toml", &[], "").status, 404);
    op.stop();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_demo_consumer_accepts_a_presentation_once() {
    let l = Login::new(Config::default());
    let (tokens, v) = l.login().expect("login");
    assert!(v.bound);
    let id_token = tokens.id_token.unwrap();
    let htu = format!("{}/consumer/session", l.op.issuer);
    let body = format!(r#"{{"id_token":"{id_token}"}}"#);
    let present = |nonce: Option<&str>| {
        let proof = l.proof_with(&l.signer, "POST", &htu, None, Some(&id_token), nonce);
        (proof.clone(), http(l.op.port, "POST", "/consumer/session", &[("Content-Type", "application/json"), ("DPoP", &proof)], &body))
    };
    // First attempt: the consumer wants its nonce.
    let (_, res) = present(None);
    assert_eq!(res.status, 401, "{}", res.body);
    assert!(res.header("www-authenticate").unwrap().contains("use_dpop_nonce"));
    let nonce = res.header("dpop-nonce").expect("nonce");
    // With it: accepted, and the consumer answers with its own session.
    let (proof, res) = present(Some(&nonce));
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body.contains("\"session\"") && res.body.contains("\"outcome\":\"accepted\""), "{}", res.body);
    // The same request again: a replay.
    let res = http(l.op.port, "POST", "/consumer/session", &[("Content-Type", "application/json"), ("DPoP", &proof)], &body);
    assert_eq!(res.status, 401);
    assert!(res.body.contains("ERR_DPOP_REPLAY"), "{}", res.body);
    // A proof by another key for the same token.
    let other = Es256Signer::from_jwk_d(OTHER_D).unwrap();
    let proof = l.proof_with(&other, "POST", &htu, None, Some(&id_token), Some(&nonce));
    let res = http(l.op.port, "POST", "/consumer/session", &[("Content-Type", "application/json"), ("DPoP", &proof)], &body);
    assert!(res.body.contains("ERR_DPOP_KEY_MISMATCH"), "{}", res.body);
    let records = http(l.op.port, "GET", "/consumer/records", &[], "").body;
    let v: serde_json::Value = serde_json::from_str(&records).unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 4);
    assert_eq!(v["counters"]["accepted"], 1);
    assert_eq!(v["counters"]["replays"], 1);
    assert_eq!(v["counters"]["key_mismatches"], 1);
    l.op.stop();
}
