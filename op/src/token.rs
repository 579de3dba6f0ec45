//! The token endpoint: DPoP proofs (RFC 9449 §4.3, `c_s256`), the code and refresh grants, ID Tokens, UserInfo.

use super::*;
use keybound::protocol::htu::Htu;

pub(crate) fn rotate_nonce(st: &mut State) {
    if now() - st.nonce_rotated > 300 {
        st.nonce_prev = std::mem::replace(&mut st.nonce, random_token(16));
        st.nonce_rotated = now();
    }
}

pub(crate) fn nonce_required(st: &State) -> bool {
    st.config.require_nonce || st.fault == Some(Fault::NonceChallenge)
}

/// The result of checking the request's DPoP proof.
pub(crate) enum ProofOutcome {
    None,
    Valid { jkt: String, jwk_json: String },
    Reply(Reply),
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn check_proof(
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
    let Ok(htu) = Htu::parse(htu) else {
        return ProofOutcome::Reply(Reply::oauth_error(500, "server_error", "the OP's own endpoint URL does not parse"));
    };
    let check = |nonce| ProofCheck {
        htm,
        htu: &htu,
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

pub(crate) fn token(st: &mut State, req: &Incoming) -> Reply {
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
pub(crate) fn grant_proof(
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

pub(crate) fn code_grant(st: &mut State, req: &Incoming) -> Reply {
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

pub(crate) fn refresh_grant(st: &mut State, req: &Incoming) -> Reply {
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

pub(crate) fn issue(st: &mut State, grant: &RefreshGrant, nonce: Option<&str>) -> Reply {
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

pub(crate) fn userinfo(st: &mut State, req: &Incoming) -> Reply {
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
