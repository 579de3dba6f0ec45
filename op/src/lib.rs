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

mod authorize;
mod consumer;
mod device;
mod discovery;
mod http;
mod logout;
mod token;
use {authorize::*, consumer::*, device::*, discovery::*, http::*, logout::*, token::*};

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

/// A listener on 127.0.0.1:`port` whose connections send at once (`TCP_NODELAY`, which Linux
/// passes from a listening socket to the connections it accepts). tiny_http writes a response's
/// head and body in separate writes; with Nagle's algorithm, every response after the first on a
/// kept-alive connection then waited for the browser's delayed ACK: 40 ms per request.
fn listen(port: u16) -> Result<std::net::TcpListener, String> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).map_err(|e| e.to_string())?;
    socket.set_tcp_nodelay(true).map_err(|e| e.to_string())?;
    // As std's `TcpListener::bind` does on Unix: a restarted OP may take its port back at once.
    socket.set_reuse_address(true).map_err(|e| e.to_string())?;
    socket.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into()).map_err(|e| e.to_string())?;
    socket.listen(128).map_err(|e| e.to_string())?;
    Ok(socket.into())
}

/// Starts the OP on 127.0.0.1.
///
/// # Errors
/// When the port cannot be bound or the test key does not load.
pub fn start(config: Config) -> Result<RunningOp, String> {
    let server = listen(config.port)
        .and_then(|listener| Server::from_listener(listener, None).map_err(|e| e.to_string()))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", config.port))?;
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
    // Cross-origin isolation gives the benchmark page a fine-grained performance.now(). COOP
    // only there: a page under `same-origin` loses its login popup (the browser cuts the popup
    // from its opener as soon as it shows a page of another policy, and reports it closed).
    let mut headers = vec![("Cache-Control", "no-store".into()), ("Cross-Origin-Embedder-Policy", "require-corp".into())];
    if rel.rsplit('/').next().is_some_and(|name| name.starts_with("bench")) {
        headers.push(("Cross-Origin-Opener-Policy", "same-origin".into()));
    }
    Reply { status: 200, content_type, body, headers }
}
