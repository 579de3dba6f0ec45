//! Token revocation (RFC 7009) and RP-Initiated Logout.

use super::*;

/// RFC 7009: a refresh or access token is revoked; a DPoP-bound one only with a proof by its key
/// (`htu` this endpoint). An unknown token is no error (RFC 7009 §2.2).
pub(crate) fn revoke(st: &mut State, req: &Incoming) -> Reply {
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
pub(crate) fn end_session(st: &mut State, req: &Incoming) -> Reply {
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
