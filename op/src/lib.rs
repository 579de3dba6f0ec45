//! keybound's reference OpenID Provider: the OP side of OpenID Connect Key Binding (KB §2–§5)
//! for the demo and the tests. It listens on 127.0.0.1 only and keeps all state in memory.
//!
//! Endpoints: discovery, JWKS, `/authorize` (login form), `/login`, `/token` (authorization code
//! with PKCE, refresh), `/userinfo`, plus `/_test/fault` and `/_test/stats` for tests, and static
//! files (the demo page and the built package). Token-endpoint DPoP proofs go through
//! `keybound::protocol::dpop::verify_proof` (RFC 9449 §4.3) with `dpop_jkt` and `c_s256`.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;

use keybound::native::block_on;
use keybound::native::{Es256Signer, HmacNonceKey, NativeVerifier, Rs256Signer};
use keybound::protocol::consumer::{
    self as kbconsumer, AcceptedIssuer, ConsumerPolicy, Counters, EvidenceRecord, MemoryReplayStore, Presentation,
};
use keybound::protocol::dpop::{self, ProofCheck};
use keybound::protocol::id_token::Jwks;
use keybound::protocol::jwa::Alg;
use keybound::protocol::{b64, jws, pkce};
use keybound::Error;
use serde_json::{json, Value};
use tiny_http::{Header, Request, Response, Server};

/// Test-only RSA key for RS256 ID Tokens. Never use it for anything real.
const TEST_RSA_PEM: &str = include_str!("../keys/test-rs256.pem");
/// A key that is not any client's: used by the `cnf_other_key` fault.
const OTHER_KEY_JWK: &str =
    r#"{"kty":"EC","crv":"P-256","x":"ukpv3fU6tqQKaUwcdBAQoK3IHvJIW__9yNd1oR7qvZc","y":"nBBxXrx0Nziwg_evfUMUUgnGKKUf2ATpWG9EojnUoU4"}"#;
/// The test user.
pub const TEST_USER: (&str, &str) = ("alice", "wonderland");
/// The `acr` values this OP states (`pwd` unless a request asks for `mfa`; a test OP).
const ACR_VALUES: &[&str] = &["pwd", "mfa"];
/// DPoP proof algorithms accepted at the token and UserInfo endpoints.
const DPOP_ALGS: &[Alg] = &[Alg::Es256, Alg::Es384, Alg::Ps256, Alg::Rs256, Alg::EdDsa];

/// Misbehaviours switched on through `/_test/fault?name=…`, so that the client's refusals can be
/// tested end to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No `cnf`, `typ: JWT` (an OP that ignores `bound_key`).
    Unbound,
    /// `cnf.jwk` is another key.
    CnfOtherKey,
    /// `cnf` present but `typ: JWT`.
    WrongTyp,
    /// The ID Token signature is corrupted.
    BadSignature,
    /// The ID Token `kid` is not in the JWKS.
    UnknownKid,
    /// `iss` is another issuer.
    WrongIss,
    /// `aud` is another client.
    WrongAud,
    /// The ID Token expired an hour ago.
    Expired,
    /// `nonce` is not the one sent.
    WrongNonce,
    /// The token endpoint demands a DPoP nonce.
    NonceChallenge,
    /// The token endpoint answers 500.
    Token500,
    /// The token endpoint answers an HTML error page.
    TokenHtml,
    /// The next device poll is answered `slow_down`.
    DeviceSlowDown,
    /// Device codes expire at once.
    DeviceExpired,
    /// The token endpoint holds each request open for 10 seconds without reading the grant,
    /// then answers 503: a hung OP, for the clients' timeouts. Only that worker thread waits.
    TokenHang,
    /// Discovery holds each request open for 10 seconds, then answers 503 (for consumers'
    /// timeouts).
    DiscoveryHang,
    /// ID Tokens carry no `auth_time` (an OP that ignores `max_age`).
    AuthTimeMissing,
    /// ID Tokens say the user authenticated an hour ago (an OP that ignores `max_age`).
    AuthTimeOld,
    /// ID Tokens carry `acr` `"none"`, whatever `acr_values` asked.
    AcrOther,
    /// The PAR endpoint drops the binding: no `dpop_jkt`, no `bound_key`, the proof ignored.
    ParDropsBinding,
    /// The revocation endpoint answers 500 and revokes nothing.
    Revocation500,
}

impl Fault {
    fn from_name(name: &str) -> Option<Fault> {
        Some(match name {
            "unbound" => Fault::Unbound,
            "cnf_other_key" => Fault::CnfOtherKey,
            "wrong_typ" => Fault::WrongTyp,
            "bad_signature" => Fault::BadSignature,
            "unknown_kid" => Fault::UnknownKid,
            "wrong_iss" => Fault::WrongIss,
            "wrong_aud" => Fault::WrongAud,
            "expired" => Fault::Expired,
            "wrong_nonce" => Fault::WrongNonce,
            "nonce_challenge" => Fault::NonceChallenge,
            "token_500" => Fault::Token500,
            "token_html" => Fault::TokenHtml,
            "device_slow_down" => Fault::DeviceSlowDown,
            "device_expired" => Fault::DeviceExpired,
            "token_hang" => Fault::TokenHang,
            "discovery_hang" => Fault::DiscoveryHang,
            "auth_time_missing" => Fault::AuthTimeMissing,
            "auth_time_old" => Fault::AuthTimeOld,
            "acr_other" => Fault::AcrOther,
            "par_drops_binding" => Fault::ParDropsBinding,
            "revocation_500" => Fault::Revocation500,
            _ => return None,
        })
    }
}

/// How to run the OP.
#[derive(Clone, Debug)]
pub struct Config {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Host name in the issuer (and so in DPoP `htu`): `localhost` by default, because WebAuthn
    /// needs a host name and the issuer host must match the one the browser uses.
    pub host: String,
    /// Sign ID Tokens with ES256 instead of RS256.
    pub es256: bool,
    /// Demand DPoP nonces at the token and UserInfo endpoints (RFC 9449 §8, §9).
    pub require_nonce: bool,
    /// Directory served at `/` (the demo page).
    pub www: Option<PathBuf>,
    /// Directory served at `/pkg/` (the built package).
    pub pkg: Option<PathBuf>,
    /// The public client.
    pub client_id: String,
    /// Extra allowed CORS origins besides the issuer's own.
    pub cors_origins: Vec<String>,
    /// Device flow polling interval, seconds (RFC 8628 default 5).
    pub device_interval: i64,
    /// Advertise a PAR endpoint (RFC 9126).
    pub par: bool,
    /// Take authorization requests only through PAR (implies `par`).
    pub require_par: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            host: "localhost".into(),
            es256: false,
            require_nonce: false,
            www: None,
            pkg: None,
            client_id: "keybound-demo".into(),
            cors_origins: Vec::new(),
            device_interval: 5,
            par: false,
            require_par: false,
        }
    }
}

// One signing key for the OP's life: the size difference between the variants costs nothing.
#[allow(clippy::large_enum_variant)]
enum OpKey {
    Rs(Rs256Signer),
    Es(Es256Signer),
}

impl OpKey {
    fn alg(&self) -> Alg {
        match self {
            OpKey::Rs(_) => Alg::Rs256,
            OpKey::Es(_) => Alg::Es256,
        }
    }
    fn sign(&self, input: &[u8]) -> Vec<u8> {
        match self {
            OpKey::Rs(k) => k.sign_sync(input),
            OpKey::Es(k) => k.sign_sync(input),
        }
    }
    fn public_jwk_json(&self) -> String {
        use keybound::protocol::crypto::Signer;
        match self {
            OpKey::Rs(k) => k.public_jwk().canonical_json(),
            OpKey::Es(k) => k.public_jwk().canonical_json(),
        }
    }
}

struct Pending {
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: String,
    /// The `dpop_jkt`, when `bound_key` was requested with it (KB §2.1).
    bind_jkt: Option<String>,
    /// A `dpop_jkt` without `bound_key`: binds the access token only (RFC 9449 §10), no `cnf`.
    dpop_jkt: Option<String>,
    /// The `acr` this login satisfies: the first of `acr_values` the OP supports, else `pwd`.
    acr: String,
}

#[derive(Clone, PartialEq, Eq)]
enum DeviceStatus {
    Pending,
    Approved { sub: String, auth_time: i64 },
    Denied,
}

struct DeviceGrant {
    user_code: String,
    scope: String,
    nonce: Option<String>,
    bind_jkt: Option<String>,
    dpop_jkt: Option<String>,
    status: DeviceStatus,
    expires: i64,
    interval: i64,
    last_poll: i64,
}

/// A pushed authorization request (RFC 9126).
struct Pushed {
    params: HashMap<String, String>,
    expires: i64,
}

struct CodeGrant {
    pending: Pending,
    sub: String,
    auth_time: i64,
    expires: i64,
    used: bool,
}

#[derive(Clone)]
struct RefreshGrant {
    sub: String,
    scope: String,
    auth_time: i64,
    /// The key the refresh token is bound to (KB §4: the ID Token key).
    jkt: Option<String>,
    bound_id_token: bool,
    cnf_jwk: Option<String>,
    /// The `acr` of the authentication.
    acr: String,
}

#[derive(Clone)]
struct AccessGrant {
    sub: String,
    jkt: Option<String>,
    expires: i64,
}

/// Counters the tests read through `/_test/stats`.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Stats {
    /// Token requests for the authorization_code grant.
    pub code_grants: u64,
    /// Token requests for the refresh_token grant.
    pub refresh_grants: u64,
    /// Token polls for the device_code grant.
    pub device_polls: u64,
    /// `use_dpop_nonce` challenges sent.
    pub nonce_challenges: u64,
    /// JWKS requests answered.
    pub jwks_fetches: u64,
    /// Signing key rotations (`/_test/rotate`).
    pub rotations: u64,
    /// Pushed authorization requests received.
    pub par_requests: u64,
    /// Pushed authorization requests with a valid DPoP proof (bound to its key).
    pub par_dpop_proofs: u64,
    /// Tokens revoked (RFC 7009), DPoP-bound ones only with a proof by their key.
    pub revocations: u64,
    /// End-session requests (RP-Initiated Logout) with an `id_token_hint` this OP issued to
    /// the client.
    pub end_sessions: u64,
}

struct State {
    config: Config,
    issuer: String,
    key: OpKey,
    kid: String,
    pending: HashMap<String, Pending>,
    pushed: HashMap<String, Pushed>,
    codes: HashMap<String, CodeGrant>,
    devices: HashMap<String, DeviceGrant>,
    refresh: HashMap<String, RefreshGrant>,
    access: HashMap<String, AccessGrant>,
    jtis: HashMap<String, i64>,
    nonce: String,
    nonce_prev: String,
    nonce_rotated: i64,
    fault: Option<Fault>,
    stats: Stats,
    consumer: DemoConsumer,
}

/// The demo consumer (an RP Consuming Component beside the OP): verifies presentations at
/// `POST /consumer/session` with keybound's native verifier and keeps evidence records.
struct DemoConsumer {
    replay: MemoryReplayStore,
    nonce_key: HmacNonceKey,
    records: std::collections::VecDeque<EvidenceRecord>,
    counters: Counters,
}

/// A running OP.
pub struct RunningOp {
    /// The issuer identifier, e.g. `http://localhost:8080`.
    pub issuer: String,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    server: Arc<Server>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl RunningOp {
    /// Serves until the process ends.
    pub fn wait(self) {
        for t in self.threads {
            let _ = t.join();
        }
    }

    /// Stops the server and waits for its threads.
    pub fn stop(self) {
        for _ in &self.threads {
            self.server.unblock();
        }
        for t in self.threads {
            let _ = t.join();
        }
    }
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).expect("the OS random generator is available");
    b64::encode(buf)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Starts the OP on 127.0.0.1.
///
/// # Errors
/// When the port cannot be bound or the test key does not load.
pub fn start(config: Config) -> Result<RunningOp, String> {
    let server = Server::http(("127.0.0.1", config.port)).map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", config.port))?;
    let port = server.server_addr().to_ip().map(|a| a.port()).ok_or("no IP address")?;
    let issuer = format!("http://{}:{port}", config.host);
    let key = if config.es256 {
        let mut d = [0u8; 32];
        loop {
            getrandom::getrandom(&mut d).map_err(|e| e.to_string())?;
            if let Ok(k) = Es256Signer::from_scalar(&d) {
                break OpKey::Es(k);
            }
        }
    } else {
        OpKey::Rs(Rs256Signer::from_pkcs8_pem(TEST_RSA_PEM).map_err(|e| e.to_string())?)
    };
    let kid = format!("op-{}-{}", key.alg().as_str().to_ascii_lowercase(), &random_token(6));
    let state = Arc::new(Mutex::new(State {
        config,
        issuer: issuer.clone(),
        key,
        kid,
        pending: HashMap::new(),
        pushed: HashMap::new(),
        codes: HashMap::new(),
        devices: HashMap::new(),
        refresh: HashMap::new(),
        access: HashMap::new(),
        jtis: HashMap::new(),
        nonce: random_token(16),
        nonce_prev: random_token(16),
        nonce_rotated: now(),
        fault: None,
        stats: Stats::default(),
        consumer: DemoConsumer {
            replay: MemoryReplayStore::new(),
            nonce_key: HmacNonceKey::new(random_token(32).as_bytes()).map_err(|e| e.to_string())?,
            records: std::collections::VecDeque::new(),
            counters: Counters::default(),
        },
    }));
    let server = Arc::new(server);
    let threads = (0..4)
        .map(|_| {
            let server = Arc::clone(&server);
            let state = Arc::clone(&state);
            thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    handle(&state, request);
                }
            })
        })
        .collect();
    Ok(RunningOp { issuer, port, server, threads })
}

// ---- HTTP plumbing ---------------------------------------------------------------------------

struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: value.to_string().into_bytes(),
            headers: vec![("Cache-Control", "no-store".into())],
        }
    }
    fn html(status: u16, body: String) -> Reply {
        Reply { status, content_type: "text/html; charset=utf-8", body: body.into_bytes(), headers: Vec::new() }
    }
    fn text(status: u16, body: &str) -> Reply {
        Reply { status, content_type: "text/plain; charset=utf-8", body: body.as_bytes().to_vec(), headers: Vec::new() }
    }
    fn redirect(location: String) -> Reply {
        Reply { status: 302, content_type: "text/plain", body: Vec::new(), headers: vec![("Location", location)] }
    }
    fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
        Reply::json(status, &json!({"error": error, "error_description": description}))
    }
    fn with(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}

struct Incoming {
    method: String,
    path: String,
    query: HashMap<String, String>,
    form: HashMap<String, String>,
    raw_body: String,
    headers: Vec<(String, String)>,
}

impl Incoming {
    fn body_json<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(&self.raw_body).ok()
    }

    fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }
}

fn parse_pairs(s: &str) -> HashMap<String, String> {
    form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

fn handle(state: &Arc<Mutex<State>>, mut request: Request) {
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let mut body = String::new();
    let _ = request.as_reader().take(64 * 1024).read_to_string(&mut body);
    let incoming = Incoming {
        method: request.method().to_string(),
        path: path.to_owned(),
        query: parse_pairs(query),
        form: parse_pairs(&body),
        raw_body: body.clone(),
        headers: request.headers().iter().map(|h| (h.field.to_string(), h.value.to_string())).collect(),
    };
    let hang = state.lock().is_ok_and(|st| match st.fault {
        Some(Fault::TokenHang) => incoming.method == "POST" && incoming.path == "/token",
        Some(Fault::DiscoveryHang) => incoming.method == "GET" && incoming.path == "/.well-known/openid-configuration",
        _ => false,
    });
    let reply = if hang {
        // Outside the lock: the other worker threads keep serving.
        thread::sleep(std::time::Duration::from_secs(10));
        Reply::oauth_error(503, "temporarily_unavailable", "the token_hang fault held this request")
    } else {
        let mut st = match state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        route(&mut st, &incoming)
    };
    let origin = incoming.header("Origin").map(str::to_owned);
    let mut response = Response::from_data(reply.body).with_status_code(reply.status);
    let mut headers = reply.headers;
    headers.push(("Content-Type", reply.content_type.to_owned()));
    if let Some(origin) = origin.filter(|o| cors_allowed(state, o)) {
        headers.push(("Access-Control-Allow-Origin", origin));
        headers.push(("Vary", "Origin".into()));
        headers.push(("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP".into()));
        headers.push(("Access-Control-Allow-Methods", "GET, POST, OPTIONS".into()));
        headers.push(("Access-Control-Expose-Headers", "DPoP-Nonce, WWW-Authenticate".into()));
    }
    for (name, value) in headers {
        if let Ok(h) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(h);
        }
    }
    let _ = request.respond(response);
}

fn cors_allowed(state: &Arc<Mutex<State>>, origin: &str) -> bool {
    let Ok(st) = state.lock() else { return false };
    let own_ip = st.issuer.replacen(&format!("//{}", st.config.host), "//127.0.0.1", 1);
    origin == st.issuer || origin == own_ip || st.config.cors_origins.iter().any(|o| o == origin)
}

fn route(st: &mut State, req: &Incoming) -> Reply {
    match (req.method.as_str(), req.path.as_str()) {
        ("OPTIONS", _) => Reply::text(204, ""),
        ("GET", "/.well-known/openid-configuration") => discovery(st),
        ("GET", "/jwks") => {
            st.stats.jwks_fetches += 1;
            jwks(st)
        }
        ("GET", "/authorize") => authorize(st, req),
        ("POST", "/login") => login(st, req),
        ("POST", "/device_authorization") => device_authorization(st, req),
        ("GET", "/device") => device_page(req.query.get("user_code").map(String::as_str).unwrap_or(""), None),
        ("POST", "/device") => device_verify(st, req),
        ("POST", "/token") => token(st, req),
        ("POST", "/revoke") => revoke(st, req),
        ("GET", "/end_session") => end_session(st, req),
        ("POST", "/par") if st.config.par || st.config.require_par => par(st, req),
        ("GET", "/userinfo") => userinfo(st, req),
        ("POST", "/consumer/session") => consumer_session(st, req),
        ("GET", "/consumer/records") => {
            let records: Vec<&EvidenceRecord> = st.consumer.records.iter().collect();
            Reply::json(200, &json!({"records": records, "counters": st.consumer.counters}))
        }
        ("GET", "/_test/fault") => {
            let name = req.query.get("name").map(String::as_str).unwrap_or("");
            st.fault = Fault::from_name(name);
            if !name.is_empty() && st.fault.is_none() {
                return Reply::text(400, "unknown fault");
            }
            Reply::text(200, &format!("fault: {:?}", st.fault))
        }
        ("GET", "/_test/rotate") => {
            // A key rotation as a client sees it: the OP signs with a new kid, and its JWKS
            // publishes only that one (the key material stays: the kid is what selects it).
            st.stats.rotations += 1;
            st.kid = format!("{}-rot{}", st.kid.split("-rot").next().unwrap_or("key"), st.stats.rotations);
            Reply::text(200, &format!("kid: {}", st.kid))
        }
        ("GET", "/_test/stats") => Reply::json(200, &serde_json::to_value(st.stats).unwrap_or(Value::Null)),
        ("GET", path) => static_file(st, path),
        _ => Reply::text(405, "method not allowed"),
    }
}

// ---- Discovery and keys ------------------------------------------------------------------------

fn discovery(st: &State) -> Reply {
    let i = &st.issuer;
    let mut doc = json!({
            "issuer": i,
            "authorization_endpoint": format!("{i}/authorize"),
            "token_endpoint": format!("{i}/token"),
            "device_authorization_endpoint": format!("{i}/device_authorization"),
            "userinfo_endpoint": format!("{i}/userinfo"),
            "jwks_uri": format!("{i}/jwks"),
            "scopes_supported": ["openid", "profile", "email", "offline_access", "bound_key"],
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [st.key.alg().as_str()],
            "dpop_signing_alg_values_supported": DPOP_ALGS.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "authorization_response_iss_parameter_supported": true,
            "acr_values_supported": ACR_VALUES,
            "revocation_endpoint": format!("{i}/revoke"),
            "end_session_endpoint": format!("{i}/end_session"),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "azp", "cnf", "name", "email"],
    });
    if st.config.par || st.config.require_par {
        if let Some(obj) = doc.as_object_mut() {
            obj.insert("pushed_authorization_request_endpoint".into(), json!(format!("{i}/par")));
            obj.insert("require_pushed_authorization_requests".into(), json!(st.config.require_par));
        }
    }
    Reply::json(200, &doc)
}

fn jwks(st: &State) -> Reply {
    let mut jwk: Value = serde_json::from_str(&st.key.public_jwk_json()).unwrap_or(Value::Null);
    if let Some(obj) = jwk.as_object_mut() {
        obj.insert("kid".into(), json!(st.kid));
        obj.insert("use".into(), json!("sig"));
        obj.insert("alg".into(), json!(st.key.alg().as_str()));
    }
    Reply::json(200, &json!({ "keys": [jwk] }))
}

// ---- Authorization -----------------------------------------------------------------------------

fn redirect_uris(st: &State) -> [String; 3] {
    let i = &st.issuer;
    [format!("{i}/"), format!("{i}/index.html"), format!("{i}/flow.html")]
}

fn error_redirect(redirect_uri: &str, state: Option<&str>, issuer: &str, error: &str, description: &str) -> Reply {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("error", error).append_pair("error_description", description);
    if let Some(s) = state {
        q.append_pair("state", s);
    }
    q.append_pair("iss", issuer);
    Reply::redirect(format!("{redirect_uri}?{}", q.finish()))
}

fn is_jkt(s: &str) -> bool {
    s.len() == 43 && b64::decode(s, "dpop_jkt").is_ok_and(|b| b.len() == 32)
}

/// A refused authorization request: where to say so (the registered redirect URI and `state`;
/// `None`: on an HTML page, since an unverified redirect URI is never redirected to) and what.
struct Refusal {
    to: Option<(String, Option<String>)>,
    error: &'static str,
    description: &'static str,
}

impl Refusal {
    fn reply(self, issuer: &str) -> Reply {
        match self.to {
            Some((uri, state)) => error_redirect(&uri, state.as_deref(), issuer, self.error, self.description),
            None => Reply::html(400, page(self.error, &format!("<p>{}</p>", escape(self.description)))),
        }
    }
}

/// Checks the parameters of an authorization request (from the query, or pushed).
fn authorization(st: &State, q: &HashMap<String, String>) -> Result<Pending, Refusal> {
    let get = |k: &str| q.get(k).map(String::as_str);
    // Client and redirect URI first: an unverified redirect_uri is never redirected to.
    if get("client_id") != Some(st.config.client_id.as_str()) {
        return Err(Refusal { to: None, error: "invalid_client", description: "The client_id is not registered." });
    }
    let Some(redirect_uri) = get("redirect_uri").filter(|r| redirect_uris(st).iter().any(|u| u == r)) else {
        return Err(Refusal { to: None, error: "invalid_request", description: "The redirect_uri is not registered." });
    };
    let state = get("state");
    let fail = |error, description| Err(Refusal { to: Some((redirect_uri.to_owned(), state.map(str::to_owned))), error, description });
    if get("response_type") != Some("code") {
        // KB §1.4: no implicit or hybrid flow.
        return fail("unsupported_response_type", "only response_type=code");
    }
    let scope = get("scope").unwrap_or("");
    let scopes: Vec<&str> = scope.split(' ').collect();
    if !scopes.contains(&"openid") {
        return fail("invalid_scope", "openid is required");
    }
    let Some(code_challenge) = get("code_challenge").filter(|c| c.len() == 43) else {
        return fail("invalid_request", "PKCE S256 code_challenge is required");
    };
    if get("code_challenge_method") != Some("S256") {
        return fail("invalid_request", "code_challenge_method must be S256");
    }
    let dpop_jkt = get("dpop_jkt");
    if dpop_jkt.is_some_and(|j| !is_jkt(j)) {
        return fail("invalid_request", "dpop_jkt is not a JWK SHA-256 thumbprint");
    }
    let bound_key = scopes.contains(&"bound_key");
    if bound_key && dpop_jkt.is_none() {
        return fail("invalid_request", "bound_key requires dpop_jkt");
    }
    // OIDC Core §3.1.2.1: max_age is a whole number of seconds. This OP signs the user in on
    // every request, so any max_age is met; it always states auth_time.
    if get("max_age").is_some_and(|m| m.parse::<u64>().is_err()) {
        return fail("invalid_request", "max_age must be a whole number of seconds");
    }
    let acr = get("acr_values").unwrap_or("").split(' ').find(|v| ACR_VALUES.contains(v)).unwrap_or(ACR_VALUES[0]).to_owned();
    Ok(Pending {
        redirect_uri: redirect_uri.to_owned(),
        scope: scope.to_owned(),
        state: state.map(str::to_owned),
        nonce: get("nonce").map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        bind_jkt: if bound_key { dpop_jkt.map(str::to_owned) } else { None },
        dpop_jkt: if bound_key { None } else { dpop_jkt.map(str::to_owned) },
        acr,
    })
}

fn authorize(st: &mut State, req: &Incoming) -> Reply {
    let mut params = req.query.clone();
    if let Some(uri) = req.query.get("request_uri") {
        // RFC 9126 §4: a pushed request, single use, for the client that pushed it.
        let t = now();
        st.pushed.retain(|_, p| p.expires > t);
        match st.pushed.remove(uri) {
            Some(p) if req.query.get("client_id") == p.params.get("client_id") => params = p.params,
            _ => {
                return Reply::html(
                    400,
                    page("invalid_request_uri", "<p>The request_uri is unknown, used, expired or another client's.</p>"),
                )
            }
        }
    } else if st.config.require_par {
        return Reply::html(400, page("invalid_request", "<p>This OP takes authorization requests only through PAR (RFC 9126).</p>"));
    }
    match authorization(st, &params) {
        Ok(pending) => {
            let id = random_token(16);
            let bind_jkt = pending.bind_jkt.clone();
            st.pending.insert(id.clone(), pending);
            login_page(&id, bind_jkt.as_deref(), None)
        }
        Err(refusal) => refusal.reply(&st.issuer),
    }
}

/// RFC 9126 with RFC 9449 §10.1: the request's parameters checked as at `/authorize`; a DPoP
/// proof (`htm` POST, `htu` this endpoint) binds the code to its key, as `dpop_jkt` would (both
/// must then name the same key). Answers 201 with a single-use `request_uri` good for 60 s.
fn par(st: &mut State, req: &Incoming) -> Reply {
    st.stats.par_requests += 1;
    if req.form.get("client_id") != Some(&st.config.client_id) {
        return Reply::oauth_error(401, "invalid_client", "unknown client_id");
    }
    if req.form.contains_key("request_uri") {
        return Reply::oauth_error(400, "invalid_request", "request_uri cannot be pushed");
    }
    let mut params = req.form.clone();
    if st.fault == Some(Fault::ParDropsBinding) {
        // An OP that loses the binding on the way: no dpop_jkt, no bound_key.
        params.remove("dpop_jkt");
        if let Some(scope) = params.get_mut("scope") {
            *scope = scope.split(' ').filter(|s| *s != "bound_key").collect::<Vec<_>>().join(" ");
        }
    } else {
        let htu = format!("{}/par", st.issuer);
        match check_proof(st, req, "POST", &htu, None, None, None, 400) {
            ProofOutcome::Reply(reply) => return reply,
            ProofOutcome::Valid { jkt, .. } => {
                if params.get("dpop_jkt").is_some_and(|j| *j != jkt) {
                    return Reply::oauth_error(400, "invalid_dpop_proof", "the DPoP proof key is not the dpop_jkt");
                }
                params.insert("dpop_jkt".into(), jkt);
                st.stats.par_dpop_proofs += 1;
            }
            ProofOutcome::None => {}
        }
    }
    if let Err(refusal) = authorization(st, &params) {
        return Reply::oauth_error(400, refusal.error, refusal.description);
    }
    let uri = format!("urn:ietf:params:oauth:request_uri:{}", random_token(16));
    st.pushed.insert(uri.clone(), Pushed { params, expires: now() + 60 });
    let reply = Reply::json(201, &json!({"request_uri": uri, "expires_in": 60}));
    if nonce_required(st) {
        let nonce = st.nonce.clone();
        reply.with("DPoP-Nonce", nonce)
    } else {
        reply
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content='width=device-width'>\
         <link rel=icon href='data:,'><title>{t} · keybound reference OP</title><style>body{{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1f2937}}\
         h1{{font-size:1.3rem}}label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}}\
         button{{margin-top:1rem;padding:.55rem 1rem;font:inherit;border-radius:6px;border:1px solid #1d4ed8;background:#2563eb;color:#fff}}\
         button.secondary{{background:#fff;color:#1d4ed8}}.note{{background:#eff6ff;border-radius:6px;padding:.6rem .8rem;font-size:.9rem}}\
         .err{{color:#b91c1c}}code{{word-break:break-all}}</style></head><body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    )
}

fn login_page(pending: &str, bind_jkt: Option<&str>, error: Option<&str>) -> Reply {
    let binding = match bind_jkt {
        Some(jkt) => format!(
            "<p class=note>This application asks to bind your sign-in to a key it holds. Key thumbprint: <code id=jkt>{}</code></p>",
            escape(jkt)
        ),
        None => String::new(),
    };
    let err = error.map(|e| format!("<p class=err id=login-error>{}</p>", escape(e))).unwrap_or_default();
    Reply::html(
        200,
        page(
            "Sign in",
            &format!(
                "{binding}{err}<form method=post action=/login><input type=hidden name=pending value=\"{p}\">\
                 <label for=username>User name</label><input id=username name=username autocomplete=username>\
                 <label for=password>Password</label><input id=password name=password type=password autocomplete=current-password>\
                 <button id=approve name=action value=approve>Sign in</button> \
                 <button id=deny class=secondary name=action value=deny>Cancel</button></form>\
                 <p style='font-size:.85rem;color:#6b7280'>Test user: alice / wonderland</p>",
                p = escape(pending)
            ),
        ),
    )
}

fn login(st: &mut State, req: &Incoming) -> Reply {
    let pending_id = req.form.get("pending").cloned().unwrap_or_default();
    let Some(pending) = st.pending.remove(&pending_id) else {
        return Reply::html(400, page("Expired", "<p>This sign-in request is unknown or was already used.</p>"));
    };
    if req.form.get("action").map(String::as_str) == Some("deny") {
        return error_redirect(&pending.redirect_uri, pending.state.as_deref(), &st.issuer, "access_denied", "the user cancelled");
    }
    let user = req.form.get("username").map(String::as_str).unwrap_or("");
    let pass = req.form.get("password").map(String::as_str).unwrap_or("");
    if (user, pass) != TEST_USER {
        let jkt = pending.bind_jkt.clone();
        st.pending.insert(pending_id.clone(), pending);
        return login_page(&pending_id, jkt.as_deref(), Some("Wrong user name or password."));
    }
    let code = random_token(24);
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("code", &code);
    if let Some(s) = &pending.state {
        q.append_pair("state", s);
    }
    q.append_pair("iss", &st.issuer);
    let location = format!("{}?{}", pending.redirect_uri, q.finish());
    let t = now();
    st.codes.insert(code, CodeGrant { pending, sub: format!("{user}-248289761"), auth_time: t, expires: t + 120, used: false });
    Reply::redirect(location)
}

// ---- Token endpoint ----------------------------------------------------------------------------

fn rotate_nonce(st: &mut State) {
    if now() - st.nonce_rotated > 300 {
        st.nonce_prev = std::mem::replace(&mut st.nonce, random_token(16));
        st.nonce_rotated = now();
    }
}

fn nonce_required(st: &State) -> bool {
    st.config.require_nonce || st.fault == Some(Fault::NonceChallenge)
}

/// The result of checking the request's DPoP proof.
enum ProofOutcome {
    None,
    Valid { jkt: String, jwk_json: String },
    Reply(Reply),
}

#[allow(clippy::too_many_arguments)]
fn check_proof(
    st: &mut State,
    req: &Incoming,
    htm: &str,
    htu: &str,
    code: Option<&str>,
    access_token: Option<&str>,
    expected_jkt: Option<&str>,
    nonce_status: u16,
) -> ProofOutcome {
    let proofs = req.header_values("DPoP");
    if proofs.len() > 1 {
        return ProofOutcome::Reply(Reply::oauth_error(400, "invalid_dpop_proof", "more than one DPoP header"));
    }
    let Some(proof) = proofs.first() else { return ProofOutcome::None };
    rotate_nonce(st);
    let check = |nonce| ProofCheck {
        htm,
        htu,
        now: now(),
        max_age: 60,
        max_skew: 10,
        allowed_algs: DPOP_ALGS,
        nonce,
        access_token,
        code,
        expected_jkt,
    };
    let nonces = [st.nonce.clone(), st.nonce_prev.clone()];
    let result = if nonce_required(st) {
        // Either the current or the previous nonce is fine.
        match block_on(dpop::verify_proof(proof, &check(Some(&nonces[0])), &NativeVerifier)) {
            Err(Error::DpopNonceMismatch) => block_on(dpop::verify_proof(proof, &check(Some(&nonces[1])), &NativeVerifier)),
            other => other,
        }
    } else {
        block_on(dpop::verify_proof(proof, &check(None), &NativeVerifier))
    };
    match result {
        Ok(v) => {
            let t = now();
            st.jtis.retain(|_, exp| *exp > t);
            if st.jtis.insert(format!("{htu} {}", v.claims.jti), t + 70).is_some() {
                return ProofOutcome::Reply(Reply::oauth_error(400, "invalid_dpop_proof", "DPoP proof jti was already used"));
            }
            ProofOutcome::Valid { jkt: v.jkt, jwk_json: v.jwk.canonical_json() }
        }
        Err(Error::DpopNonceMismatch) => {
            st.stats.nonce_challenges += 1;
            let reply = if nonce_status == 401 {
                Reply::json(401, &json!({"error": "use_dpop_nonce"}))
                    .with("WWW-Authenticate", "DPoP error=\"use_dpop_nonce\", algs=\"ES256\"".into())
            } else {
                Reply::oauth_error(400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof")
            };
            ProofOutcome::Reply(reply.with("DPoP-Nonce", st.nonce.clone()))
        }
        Err(e) => ProofOutcome::Reply(Reply::oauth_error(nonce_status, "invalid_dpop_proof", &format!("{} ({})", e, e.code().as_str()))),
    }
}

fn token(st: &mut State, req: &Incoming) -> Reply {
    match st.fault {
        Some(Fault::Token500) => return Reply::text(500, "internal error"),
        Some(Fault::TokenHtml) => return Reply::html(400, page("Bad Request", "<p>Something went wrong.</p>")),
        _ => {}
    }
    if req.form.get("client_id") != Some(&st.config.client_id) {
        return Reply::oauth_error(401, "invalid_client", "unknown client_id");
    }
    let reply = match req.form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => code_grant(st, req),
        Some("refresh_token") => refresh_grant(st, req),
        Some("urn:ietf:params:oauth:grant-type:device_code") => device_grant(st, req),
        _ => Reply::oauth_error(400, "unsupported_grant_type", "authorization_code or refresh_token"),
    };
    // At most one DPoP-Nonce header (RFC 9449 §8): a challenge already carries it.
    if nonce_required(st) && !reply.headers.iter().any(|(n, _)| *n == "DPoP-Nonce") {
        let nonce = st.nonce.clone();
        reply.with("DPoP-Nonce", nonce)
    } else {
        reply
    }
}

/// The DPoP proof at a code or device-code grant: required when the grant was bound or carried
/// `dpop_jkt`, and then from that key; a bound grant's proof carries `c_s256` over `code` (the
/// authorization code or the `device_code`). Returns the proof key's thumbprint and JWK, if any.
fn grant_proof(
    st: &mut State,
    req: &Incoming,
    bind_jkt: Option<&str>,
    dpop_jkt: Option<&str>,
    code: &str,
) -> Result<(Option<String>, Option<String>), Reply> {
    let htu = format!("{}/token", st.issuer);
    let expected = bind_jkt.or(dpop_jkt);
    let code_for_proof = bind_jkt.map(|_| code);
    match check_proof(st, req, "POST", &htu, code_for_proof, None, expected, 400) {
        ProofOutcome::Reply(r) => Err(r),
        ProofOutcome::None if expected.is_some() => Err(Reply::oauth_error(400, "invalid_dpop_proof", "a DPoP proof is required")),
        ProofOutcome::None => Ok((None, None)),
        ProofOutcome::Valid { jkt, jwk_json } => Ok((Some(jkt), Some(jwk_json))),
    }
}

fn code_grant(st: &mut State, req: &Incoming) -> Reply {
    st.stats.code_grants += 1;
    let code = req.form.get("code").cloned().unwrap_or_default();
    let t = now();
    let (bind_jkt, dpop_jkt, code_challenge, redirect_uri) = match st.codes.get(&code) {
        Some(g) if !g.used && g.expires > t => {
            (g.pending.bind_jkt.clone(), g.pending.dpop_jkt.clone(), g.pending.code_challenge.clone(), g.pending.redirect_uri.clone())
        }
        _ => return Reply::oauth_error(400, "invalid_grant", "unknown, used or expired code"),
    };
    if req.form.get("redirect_uri") != Some(&redirect_uri) {
        return Reply::oauth_error(400, "invalid_grant", "redirect_uri does not match");
    }
    let verifier = req.form.get("code_verifier").map(String::as_str).unwrap_or("");
    if pkce::code_challenge(verifier).ok().as_deref() != Some(code_challenge.as_str()) {
        return Reply::oauth_error(400, "invalid_grant", "PKCE verification failed");
    }
    // KB §2.3: with binding, the proof must carry c_s256 over this code.
    let (proof_jkt, proof_jwk) = match grant_proof(st, req, bind_jkt.as_deref(), dpop_jkt.as_deref(), &code) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(grant) = st.codes.get_mut(&code) else {
        return Reply::oauth_error(400, "invalid_grant", "unknown code");
    };
    grant.used = true;
    let (sub, auth_time, scope, nonce) = (grant.sub.clone(), grant.auth_time, grant.pending.scope.clone(), grant.pending.nonce.clone());
    let acr = grant.pending.acr.clone();
    // R6: cnf only when dpop_jkt was sent with bound_key.
    let bound = bind_jkt.is_some();
    let cnf_jwk = if bound { proof_jwk } else { None };
    let refresh = RefreshGrant { sub, scope, auth_time, jkt: proof_jkt, bound_id_token: bound, cnf_jwk, acr };
    issue(st, &refresh, nonce.as_deref())
}

fn refresh_grant(st: &mut State, req: &Incoming) -> Reply {
    st.stats.refresh_grants += 1;
    let rt = req.form.get("refresh_token").cloned().unwrap_or_default();
    let Some(grant) = st.refresh.get(&rt).cloned() else {
        return Reply::oauth_error(400, "invalid_grant", "unknown or used refresh token");
    };
    let htu = format!("{}/token", st.issuer);
    // KB §5: a proof from the same key, no c_s256.
    match check_proof(st, req, "POST", &htu, None, None, grant.jkt.as_deref(), 400) {
        ProofOutcome::Reply(r) => return r,
        ProofOutcome::None if grant.jkt.is_some() => return Reply::oauth_error(400, "invalid_dpop_proof", "a DPoP proof is required"),
        _ => {}
    }
    // Rotation: the old refresh token is spent; the new one stays bound to the same key (R14).
    st.refresh.remove(&rt);
    issue(st, &grant, None)
}

fn issue(st: &mut State, grant: &RefreshGrant, nonce: Option<&str>) -> Reply {
    let t = now();
    let fault = st.fault;
    let mut claims = json!({
        "iss": if fault == Some(Fault::WrongIss) { "http://evil.localhost".to_owned() } else { st.issuer.clone() },
        "sub": grant.sub,
        "aud": if fault == Some(Fault::WrongAud) { "another-client".to_owned() } else { st.config.client_id.clone() },
        "azp": st.config.client_id,
        "iat": if fault == Some(Fault::Expired) { t - 7200 } else { t },
        "exp": if fault == Some(Fault::Expired) { t - 3600 } else { t + 3600 },
        "auth_time": if fault == Some(Fault::AuthTimeOld) { grant.auth_time - 3600 } else { grant.auth_time },
        "acr": if fault == Some(Fault::AcrOther) { "none" } else { grant.acr.as_str() },
        "name": "Alice Liddell",
        "email": "alice@example.com",
    });
    let obj = claims.as_object_mut().expect("a JSON object literal");
    if let Some(n) = nonce {
        obj.insert("nonce".into(), json!(if fault == Some(Fault::WrongNonce) { "not-your-nonce" } else { n }));
    }
    if fault == Some(Fault::AuthTimeMissing) {
        obj.remove("auth_time");
    }
    let mut typ = "JWT";
    if let Some(jwk) = grant.cnf_jwk.as_deref().filter(|_| grant.bound_id_token) {
        // R10, R13: typ dpop+id_token and cnf.jwk = the proof key, on every (refreshed) token.
        typ = "dpop+id_token";
        let jwk: Value = serde_json::from_str(if fault == Some(Fault::CnfOtherKey) { OTHER_KEY_JWK } else { jwk }).unwrap_or(Value::Null);
        obj.insert("cnf".into(), json!({ "jwk": jwk }));
        match fault {
            Some(Fault::Unbound) => {
                obj.remove("cnf");
                typ = "JWT";
            }
            Some(Fault::WrongTyp) => typ = "JWT",
            _ => {}
        }
    }
    let kid = if fault == Some(Fault::UnknownKid) { "rotated-away".to_owned() } else { st.kid.clone() };
    let header = json!({"alg": st.key.alg().as_str(), "kid": kid, "typ": typ});
    let input = jws::signing_input(&header.to_string(), &claims.to_string());
    let mut signature = st.key.sign(input.as_bytes());
    if fault == Some(Fault::BadSignature) {
        if let Some(b) = signature.first_mut() {
            *b ^= 0x55;
        }
    }
    let id_token = jws::assemble(&input, &signature);
    let access_token = random_token(24);
    st.access.insert(access_token.clone(), AccessGrant { sub: grant.sub.clone(), jkt: grant.jkt.clone(), expires: t + 3600 });
    let mut body = json!({
        "access_token": access_token,
        "token_type": if grant.jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": 3600,
        "id_token": id_token,
        "scope": grant.scope,
    });
    if grant.scope.split(' ').any(|s| s == "offline_access") {
        let rt = random_token(24);
        st.refresh.insert(rt.clone(), grant.clone());
        body.as_object_mut().expect("a JSON object literal").insert("refresh_token".into(), json!(rt));
    }
    Reply::json(200, &body)
}

fn userinfo(st: &mut State, req: &Incoming) -> Reply {
    let auth = req.header("Authorization").unwrap_or("");
    let (scheme, token) = auth.split_once(' ').unwrap_or(("", ""));
    let Some(grant) = st.access.get(token).cloned().filter(|g| g.expires > now()) else {
        return Reply::json(401, &json!({"error": "invalid_token"})).with("WWW-Authenticate", "DPoP error=\"invalid_token\"".into());
    };
    if let Some(jkt) = &grant.jkt {
        if !scheme.eq_ignore_ascii_case("DPoP") {
            return Reply::json(401, &json!({"error": "invalid_token"})).with("WWW-Authenticate", "DPoP error=\"invalid_token\"".into());
        }
        let htu = format!("{}/userinfo", st.issuer);
        match check_proof(st, req, "GET", &htu, None, Some(token), Some(jkt), 401) {
            ProofOutcome::Reply(r) => return r,
            ProofOutcome::None => return Reply::json(401, &json!({"error": "invalid_dpop_proof"})),
            ProofOutcome::Valid { .. } => {}
        }
    } else if !scheme.eq_ignore_ascii_case("Bearer") {
        return Reply::json(401, &json!({"error": "invalid_token"}));
    }
    Reply::json(200, &json!({"sub": grant.sub, "name": "Alice Liddell", "email": "alice@example.com"}))
}

// ---- Device authorization (RFC 8628, KB §3) ----------------------------------------------------

fn device_authorization(st: &mut State, req: &Incoming) -> Reply {
    if req.form.get("client_id") != Some(&st.config.client_id) {
        return Reply::oauth_error(401, "invalid_client", "unknown client_id");
    }
    let scope = req.form.get("scope").cloned().unwrap_or_default();
    let scopes: Vec<&str> = scope.split(' ').collect();
    if !scopes.contains(&"openid") {
        return Reply::oauth_error(400, "invalid_scope", "openid is required");
    }
    let dpop_jkt = req.form.get("dpop_jkt").cloned();
    if dpop_jkt.as_deref().is_some_and(|j| !is_jkt(j)) {
        return Reply::oauth_error(400, "invalid_request", "dpop_jkt is not a JWK SHA-256 thumbprint");
    }
    let bound_key = scopes.contains(&"bound_key");
    if bound_key && dpop_jkt.is_none() {
        return Reply::oauth_error(400, "invalid_request", "bound_key requires dpop_jkt");
    }
    let device_code = random_token(24);
    // A user code people can type: 8 letters without look-alikes, as XXXX-XXXX.
    let mut r = [0u8; 8];
    getrandom::getrandom(&mut r).expect("the OS random generator is available");
    let letters: String = r.iter().map(|b| char::from(b"BCDFGHJKLMNPQRSTVWXZ"[usize::from(*b) % 20])).collect();
    let user_code = format!("{}-{}", &letters[..4], &letters[4..]);
    let t = now();
    let expires_in = if st.fault == Some(Fault::DeviceExpired) { 0 } else { 600 };
    st.devices.insert(
        device_code.clone(),
        DeviceGrant {
            user_code: user_code.clone(),
            scope,
            nonce: req.form.get("nonce").cloned(),
            bind_jkt: if bound_key { dpop_jkt.clone() } else { None },
            dpop_jkt: if bound_key { None } else { dpop_jkt },
            status: DeviceStatus::Pending,
            expires: t + expires_in,
            interval: st.config.device_interval,
            last_poll: 0,
        },
    );
    let uri = format!("{}/device", st.issuer);
    Reply::json(
        200,
        &json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": uri,
            "verification_uri_complete": format!("{uri}?user_code={user_code}"),
            "expires_in": expires_in.max(1),
            "interval": st.config.device_interval,
        }),
    )
}

fn device_page(user_code: &str, error: Option<&str>) -> Reply {
    let err = error.map(|e| format!("<p class=err id=device-error>{}</p>", escape(e))).unwrap_or_default();
    Reply::html(
        200,
        page(
            "Connect a device",
            &format!(
                "<p class=note>A device or agent asks to sign in as you. Its sign-in will be bound to a key it holds.</p>{err}\
                 <form method=post action=/device><label for=user_code>Code shown on the device</label>\
                 <input id=user_code name=user_code value=\"{c}\" autocomplete=off>\
                 <label for=username>User name</label><input id=username name=username autocomplete=username>\
                 <label for=password>Password</label><input id=password name=password type=password autocomplete=current-password>\
                 <button id=approve name=action value=approve>Allow</button> \
                 <button id=deny class=secondary name=action value=deny>Deny</button></form>\
                 <p style='font-size:.85rem;color:#6b7280'>Test user: alice / wonderland</p>",
                c = escape(user_code)
            ),
        ),
    )
}

fn device_verify(st: &mut State, req: &Incoming) -> Reply {
    let code = req.form.get("user_code").map(|c| c.trim().to_ascii_uppercase()).unwrap_or_default();
    let t = now();
    let Some(grant) = st.devices.values_mut().find(|g| g.user_code == code && g.expires > t && g.status == DeviceStatus::Pending) else {
        return device_page(&code, Some("Unknown or expired code."));
    };
    if req.form.get("action").map(String::as_str) == Some("deny") {
        grant.status = DeviceStatus::Denied;
        return Reply::html(200, page("Denied", "<p id=device-done>The device was not connected.</p>"));
    }
    let user = req.form.get("username").map(String::as_str).unwrap_or("");
    let pass = req.form.get("password").map(String::as_str).unwrap_or("");
    if (user, pass) != TEST_USER {
        return device_page(&code, Some("Wrong user name or password."));
    }
    grant.status = DeviceStatus::Approved { sub: format!("{user}-248289761"), auth_time: t };
    Reply::html(200, page("Device connected", "<p id=device-done>You can return to your device.</p>"))
}

fn device_grant(st: &mut State, req: &Incoming) -> Reply {
    st.stats.device_polls += 1;
    let device_code = req.form.get("device_code").cloned().unwrap_or_default();
    let t = now();
    let Some(grant) = st.devices.get(&device_code) else {
        return Reply::oauth_error(400, "invalid_grant", "unknown device_code");
    };
    let (bind_jkt, dpop_jkt) = (grant.bind_jkt.clone(), grant.dpop_jkt.clone());
    // KB §3.3: every poll carries a new proof with c_s256 over the device_code.
    let (proof_jkt, proof_jwk) = match grant_proof(st, req, bind_jkt.as_deref(), dpop_jkt.as_deref(), &device_code) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let slow_fault = st.fault == Some(Fault::DeviceSlowDown);
    let Some(grant) = st.devices.get_mut(&device_code) else {
        return Reply::oauth_error(400, "invalid_grant", "unknown device_code");
    };
    if grant.expires <= t {
        st.devices.remove(&device_code);
        return Reply::oauth_error(400, "expired_token", "the device code expired");
    }
    // RFC 8628 §3.5: polling faster than the interval is answered slow_down (+5 s, for good).
    let too_fast = grant.last_poll > 0 && t - grant.last_poll < grant.interval;
    grant.last_poll = t;
    if slow_fault || too_fast {
        grant.interval += 5;
        if slow_fault {
            st.fault = None;
        }
        return Reply::oauth_error(400, "slow_down", "poll less often");
    }
    match grant.status.clone() {
        DeviceStatus::Pending => Reply::oauth_error(400, "authorization_pending", "the user has not finished yet"),
        DeviceStatus::Denied => {
            st.devices.remove(&device_code);
            Reply::oauth_error(400, "access_denied", "the user denied the request")
        }
        DeviceStatus::Approved { sub, auth_time } => {
            let Some(grant) = st.devices.remove(&device_code) else {
                return Reply::oauth_error(400, "invalid_grant", "unknown device_code");
            };
            let bound = grant.bind_jkt.is_some();
            let refresh = RefreshGrant {
                sub,
                scope: grant.scope,
                auth_time,
                jkt: proof_jkt,
                bound_id_token: bound,
                cnf_jwk: if bound { proof_jwk } else { None },
                acr: ACR_VALUES[0].to_owned(),
            };
            issue(st, &refresh, grant.nonce.as_deref())
        }
    }
}

// ---- Revocation and logout ---------------------------------------------------------------------

/// RFC 7009: a refresh or access token is revoked; a DPoP-bound one only with a proof by its key
/// (`htu` this endpoint). An unknown token is no error (RFC 7009 §2.2).
fn revoke(st: &mut State, req: &Incoming) -> Reply {
    if st.fault == Some(Fault::Revocation500) {
        return Reply::text(500, "internal error");
    }
    if req.form.get("client_id") != Some(&st.config.client_id) {
        return Reply::oauth_error(401, "invalid_client", "unknown client_id");
    }
    let token = req.form.get("token").cloned().unwrap_or_default();
    if token.is_empty() {
        return Reply::oauth_error(400, "invalid_request", "no token");
    }
    let bound = st.refresh.get(&token).map(|g| g.jkt.clone()).or_else(|| st.access.get(&token).map(|a| a.jkt.clone())).flatten();
    if let Some(jkt) = bound {
        let htu = format!("{}/revoke", st.issuer);
        match check_proof(st, req, "POST", &htu, None, None, Some(&jkt), 400) {
            ProofOutcome::Valid { .. } => {}
            ProofOutcome::Reply(reply) => return reply,
            ProofOutcome::None => {
                return Reply::oauth_error(400, "invalid_dpop_proof", "a DPoP-bound token is revoked with a proof by its key")
            }
        }
    }
    let refresh = st.refresh.remove(&token).is_some();
    let access = st.access.remove(&token).is_some();
    if refresh || access {
        st.stats.revocations += 1;
    }
    Reply::json(200, &json!({}))
}

/// RP-Initiated Logout 1.0: back to a registered `post_logout_redirect_uri` with `state`. This
/// OP keeps no sign-in session, so there is nothing else to end; it counts the requests whose
/// `id_token_hint` it issued to this client.
fn end_session(st: &mut State, req: &Incoming) -> Reply {
    let q = &req.query;
    if q.get("client_id") != Some(&st.config.client_id) {
        return Reply::html(400, page("invalid_client", "<p>The client_id is not registered.</p>"));
    }
    let jwks = own_jwks(st);
    let issued_here = |hint: &str| -> Option<Value> {
        let parsed = jws::parse(hint, &[st.key.alg()], jws::Limits::default()).ok()?;
        let key = jwks.select(&parsed.header).ok()?;
        let payload = block_on(jws::verify(&parsed, key, &NativeVerifier)).ok()?;
        serde_json::from_slice(payload).ok()
    };
    let hint_ok = q
        .get("id_token_hint")
        .and_then(|h| issued_here(h))
        .is_some_and(|claims| claims["iss"] == json!(st.issuer) && claims["aud"] == json!(st.config.client_id));
    if hint_ok {
        st.stats.end_sessions += 1;
    }
    match q.get("post_logout_redirect_uri") {
        Some(uri) if redirect_uris(st).iter().any(|u| u == uri) => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            if let Some(state) = q.get("state") {
                query.append_pair("state", state);
            }
            let query = query.finish();
            Reply::redirect(if query.is_empty() { uri.clone() } else { format!("{uri}?{query}") })
        }
        Some(_) => Reply::html(400, page("invalid_request", "<p>The post_logout_redirect_uri is not registered.</p>")),
        None => Reply::html(200, page("Signed out", "<p>You are signed out.</p>")),
    }
}

// ---- Demo consumer -----------------------------------------------------------------------------

fn own_jwks(st: &State) -> Jwks {
    Jwks::from_json(&String::from_utf8_lossy(&jwks(st).body)).unwrap_or_default()
}

/// `POST /consumer/session`: body `{"id_token": …}`, header `DPoP`. Requires a consumer nonce
/// (401 `use_dpop_nonce` first), then answers with its own session, as a consumer should (the
/// proof is not a standing credential).
fn consumer_session(st: &mut State, req: &Incoming) -> Reply {
    let t = now();
    let htu = format!("{}/consumer/session", st.issuer);
    #[derive(serde::Deserialize)]
    struct Body {
        id_token: Option<String>,
    }
    let body = req.body_json::<Body>();
    let id_token = body.and_then(|b| b.id_token).unwrap_or_default();
    let proofs = req.header_values("DPoP");
    let proof = if proofs.len() == 1 { proofs[0] } else { "" };
    let presentation = Presentation { id_token: &id_token, proof, htm: "POST", htu: &htu };
    let issuers = [AcceptedIssuer { issuer: st.issuer.clone(), jwks: own_jwks(st), client_ids: vec![st.config.client_id.clone()] }];
    let policy = ConsumerPolicy {
        id_token_algs: vec![Alg::Rs256, Alg::Es256],
        require_nonce: true,
        consumer_id: "demo-consumer".into(),
        ..ConsumerPolicy::default()
    };
    let result = block_on(kbconsumer::verify_presentation(
        &issuers,
        &policy,
        &presentation,
        t,
        Some(&st.consumer.nonce_key),
        &NativeVerifier,
        &st.consumer.replay,
    ));
    let record = EvidenceRecord::new("demo-consumer", "open-session", &presentation, t, &result);
    st.consumer.counters.count(&record);
    if st.consumer.records.len() == 100 {
        st.consumer.records.pop_front();
    }
    st.consumer.records.push_back(record.clone());
    match result {
        Ok(a) => Reply::json(
            200,
            &json!({"session": random_token(16), "sub": a.sub, "cnf_jkt": a.cnf_jkt, "expires_in": 900, "evidence": record}),
        ),
        Err(e) => {
            let code = e.code().as_str();
            let challenge = matches!(e, Error::DpopNonceRequired | Error::DpopNonceMismatch | Error::DpopProofMissing);
            let mut reply = Reply::json(
                401,
                &json!({"error": if challenge { "use_dpop_nonce" } else { "invalid_dpop_proof" }, "code": code, "error_description": e.to_string(), "evidence": record}),
            );
            if challenge {
                if let Ok(n) = block_on(kbconsumer::issue_nonce(&st.consumer.nonce_key, "demo-consumer", t)) {
                    reply = reply.with("DPoP-Nonce", n).with("WWW-Authenticate", "DPoP error=\"use_dpop_nonce\", algs=\"ES256\"".into());
                }
            } else {
                reply = reply.with("WWW-Authenticate", "DPoP error=\"invalid_dpop_proof\", algs=\"ES256\"".into());
            }
            reply
        }
    }
}

// ---- Static files ------------------------------------------------------------------------------

fn static_file(st: &State, path: &str) -> Reply {
    let (dir, rel) = if let Some(rest) = path.strip_prefix("/pkg/") {
        (st.config.pkg.as_ref(), rest)
    } else {
        (st.config.www.as_ref(), path.trim_start_matches('/'))
    };
    let Some(dir) = dir else { return Reply::text(404, "not found") };
    let rel = if rel.is_empty() || rel.ends_with('/') { format!("{rel}index.html") } else { rel.to_owned() };
    if rel.split('/').any(|seg| seg == ".." || seg.starts_with('.')) || rel.contains('\\') {
        return Reply::text(404, "not found");
    }
    let Ok(body) = std::fs::read(dir.join(&rel)) else { return Reply::text(404, "not found") };
    let content_type = match rel.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ts") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    // Cross-origin isolation gives the benchmark page a fine-grained performance.now().
    let headers = vec![
        ("Cache-Control", "no-store".into()),
        ("Cross-Origin-Opener-Policy", "same-origin".into()),
        ("Cross-Origin-Embedder-Policy", "require-corp".into()),
    ];
    Reply { status: 200, content_type, body, headers }
}
