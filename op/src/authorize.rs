//! The authorization endpoint, pushed authorization requests (RFC 9126) and the login form.

use super::*;

pub(crate) fn redirect_uris(st: &State) -> [String; 3] {
    let i = &st.issuer;
    [format!("{i}/"), format!("{i}/index.html"), format!("{i}/flow.html")]
}

pub(crate) fn error_redirect(redirect_uri: &str, state: Option<&str>, issuer: &str, error: &str, description: &str) -> Reply {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("error", error).append_pair("error_description", description);
    if let Some(s) = state {
        q.append_pair("state", s);
    }
    q.append_pair("iss", issuer);
    Reply::redirect(format!("{redirect_uri}?{}", q.finish()))
}

pub(crate) fn is_jkt(s: &str) -> bool {
    s.len() == 43 && b64::decode(s, "dpop_jkt").is_ok_and(|b| b.len() == 32)
}

/// A refused authorization request: where to say so (the registered redirect URI and `state`;
/// `None`: on an HTML page, since an unverified redirect URI is never redirected to) and what.
pub(crate) struct Refusal {
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
pub(crate) fn authorization(st: &State, q: &HashMap<String, String>) -> Result<Pending, Refusal> {
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

pub(crate) fn authorize(st: &mut State, req: &Incoming) -> Reply {
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
pub(crate) fn par(st: &mut State, req: &Incoming) -> Reply {
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

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub(crate) fn page(title: &str, body: &str) -> String {
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

pub(crate) fn login_page(pending: &str, bind_jkt: Option<&str>, error: Option<&str>) -> Reply {
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

pub(crate) fn login(st: &mut State, req: &Incoming) -> Reply {
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
