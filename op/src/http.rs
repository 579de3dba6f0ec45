//! HTTP plumbing: replies, the parsed request, the request loop with CORS.

use super::*;

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub(crate) fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: value.to_string().into_bytes(),
            headers: vec![("Cache-Control", "no-store".into())],
        }
    }
    pub(crate) fn html(status: u16, body: String) -> Reply {
        Reply { status, content_type: "text/html; charset=utf-8", body: body.into_bytes(), headers: Vec::new() }
    }
    pub(crate) fn text(status: u16, body: &str) -> Reply {
        Reply { status, content_type: "text/plain; charset=utf-8", body: body.as_bytes().to_vec(), headers: Vec::new() }
    }
    pub(crate) fn redirect(location: String) -> Reply {
        Reply { status: 302, content_type: "text/plain", body: Vec::new(), headers: vec![("Location", location)] }
    }
    pub(crate) fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
        Reply::json(status, &json!({"error": error, "error_description": description}))
    }
    pub(crate) fn with(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}

pub(crate) struct Incoming {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: HashMap<String, String>,
    pub(crate) form: HashMap<String, String>,
    pub(crate) raw_body: String,
    pub(crate) headers: Vec<(String, String)>,
}

impl Incoming {
    pub(crate) fn body_json<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(&self.raw_body).ok()
    }

    pub(crate) fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }
}

pub(crate) fn parse_pairs(s: &str) -> HashMap<String, String> {
    form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

pub(crate) fn handle(state: &Arc<Mutex<State>>, mut request: Request) {
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

pub(crate) fn cors_allowed(state: &Arc<Mutex<State>>, origin: &str) -> bool {
    let Ok(st) = state.lock() else { return false };
    let own_ip = st.issuer.replacen(&format!("//{}", st.config.host), "//127.0.0.1", 1);
    origin == st.issuer || origin == own_ip || st.config.cors_origins.iter().any(|o| o == origin)
}
