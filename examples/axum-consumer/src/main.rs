//! A Rust backend that accepts keybound presentations (docs/profile.md §2) with the native
//! verifier: `POST /api/session` with the ID Token in the JSON body (`{"id_token": …}`, as
//! `client.presentTo` sends it) and a DPoP proof by the token's `cnf` key in the `DPoP` header.
//! A missing or stale consumer nonce is answered with 401 `use_dpop_nonce` and a fresh
//! `DPoP-Nonce`; `presentTo` retries once. An accepted presentation gets a session of this
//! server's own: the presentation is not a standing credential.
//!
//! ```text
//! cargo run -p keybound-axum-consumer -- --issuer http://localhost:8080 --client-id keybound-demo \
//!     --jwks "$(curl -s http://127.0.0.1:8080/jwks)" --app-origin http://localhost:8080 --port 4001
//! ```
//!
//! It prints `keybound axum consumer: http://localhost:PORT/api/session` once it listens (on
//! 127.0.0.1 only). Several instances need a shared replay store (implement `ReplayStore` over
//! Redis `SET key 1 NX PX …`) and one nonce secret.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use keybound::native::{block_on, HmacNonceKey, NativeVerifier};
use keybound::protocol::consumer::{self, AcceptedIssuer, ConsumerPolicy, EvidenceRecord, MemoryReplayStore, Presentation};
use keybound::protocol::id_token::Jwks;
use keybound::Error;
use serde_json::{json, Value};

const CONSUMER_ID: &str = "axum-example";

/// What every request shares. The replay store and the records are behind one lock: a check
/// holds it only while the (non-waiting) native verifier runs.
struct App {
    issuers: Vec<AcceptedIssuer>,
    policy: ConsumerPolicy,
    nonce_key: HmacNonceKey,
    /// The URL clients address (`htu` is compared with it, never with what the request claims).
    public_url: String,
    app_origin: Option<String>,
    state: Mutex<(MemoryReplayStore, Vec<EvidenceRecord>)>,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let issuer = arg(&args, "--issuer").ok_or("--issuer is required")?;
    let client_id = arg(&args, "--client-id").ok_or("--client-id is required")?;
    let jwks = Jwks::from_json(&arg(&args, "--jwks").ok_or("--jwks (the issuer's JWKS as JSON) is required")?)?;
    let port: u16 = arg(&args, "--port").map_or(Ok(0), |p| p.parse())?;
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret)?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let port = listener.local_addr()?.port();
    let app = Arc::new(App {
        issuers: vec![AcceptedIssuer { issuer, jwks, client_ids: vec![client_id] }],
        policy: ConsumerPolicy { require_nonce: true, consumer_id: CONSUMER_ID.into(), ..ConsumerPolicy::default() },
        nonce_key: HmacNonceKey::new(&secret)?,
        public_url: format!("http://localhost:{port}/api/session"),
        app_origin: arg(&args, "--app-origin"),
        state: Mutex::new((MemoryReplayStore::new(), Vec::new())),
    });
    let router = Router::new()
        .route("/api/session", post(session).options(preflight))
        .route("/records", axum::routing::get(records))
        .with_state(app);
    println!("keybound axum consumer: http://localhost:{port}/api/session");
    axum::serve(listener, router).with_graceful_shutdown(async { tokio::signal::ctrl_c().await.unwrap_or(()) }).await?;
    Ok(())
}

/// CORS for the app's origin only: the page presents from another origin.
fn cors(app: &App, mut res: Response) -> Response {
    if let Some(origin) = app.app_origin.as_deref().and_then(|o| HeaderValue::from_str(o).ok()) {
        let h = res.headers_mut();
        h.insert("access-control-allow-origin", origin);
        h.insert("access-control-allow-headers", HeaderValue::from_static("content-type, dpop"));
        h.insert("access-control-expose-headers", HeaderValue::from_static("dpop-nonce, www-authenticate"));
    }
    res
}

async fn preflight(State(app): State<Arc<App>>) -> Response {
    cors(&app, StatusCode::NO_CONTENT.into_response())
}

async fn records(State(app): State<Arc<App>>) -> Response {
    let records = app.state.lock().map(|s| s.1.clone()).unwrap_or_default();
    let records: Vec<Value> = records.iter().map(|r| serde_json::from_str(&r.to_json()).unwrap_or(Value::Null)).collect();
    cors(&app, axum::Json(json!({ "records": records })).into_response())
}

async fn session(State(app): State<Arc<App>>, method: Method, _uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let res = verify(&app, method.as_str(), &headers, &body);
    cors(&app, res)
}

/// Everything synchronous: the native verifier and the in-memory store never wait, so
/// `block_on` finishes the check at once, and no lock is held across an `.await`.
fn verify(app: &App, method: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    let id_token =
        serde_json::from_slice::<Value>(body).ok().and_then(|v| v.get("id_token")?.as_str().map(str::to_owned)).unwrap_or_default();
    let proof = headers.get("dpop").and_then(|v| v.to_str().ok()).unwrap_or("");
    let presentation = Presentation { id_token: &id_token, proof, htm: method, htu: &app.public_url };
    let t = now();
    let Ok(mut state) = app.state.lock() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "state lock poisoned").into_response();
    };
    let (replay, records) = &mut *state;
    let result = block_on(consumer::verify_presentation(
        &app.issuers,
        &app.policy,
        &presentation,
        t,
        Some(&app.nonce_key),
        &NativeVerifier,
        &*replay,
    ));
    let record = EvidenceRecord::new(CONSUMER_ID, "open-session", &presentation, t, &result);
    if records.len() == 100 {
        records.remove(0);
    }
    records.push(record);
    drop(state);
    match result {
        Ok(a) => {
            let mut session = [0u8; 16];
            let _ = getrandom::getrandom(&mut session);
            let id: String = session.iter().map(|b| format!("{b:02x}")).collect();
            let mut res = axum::Json(json!({ "session": id, "sub": a.sub, "cnf_jkt": a.cnf_jkt })).into_response();
            res.headers_mut().insert("cache-control", HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => {
            let challenge = matches!(e, Error::DpopNonceRequired | Error::DpopNonceMismatch | Error::DpopProofMissing);
            let body = json!({ "error": if challenge { "use_dpop_nonce" } else { "invalid_dpop_proof" }, "code": e.code().as_str() });
            let mut res = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
            let h = res.headers_mut();
            if challenge {
                if let Ok(nonce) = block_on(consumer::issue_nonce(&app.nonce_key, CONSUMER_ID, t)) {
                    if let Ok(v) = HeaderValue::from_str(&nonce) {
                        h.insert("dpop-nonce", v);
                    }
                }
                h.insert("www-authenticate", HeaderValue::from_static("DPoP error=\"use_dpop_nonce\", algs=\"ES256\""));
            } else {
                h.insert("www-authenticate", HeaderValue::from_static("DPoP error=\"invalid_dpop_proof\", algs=\"ES256\""));
            }
            res
        }
    }
}
