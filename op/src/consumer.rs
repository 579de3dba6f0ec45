//! The demo consumer: `POST /consumer/session` verified with keybound's own consumer.

use super::*;

pub(crate) fn own_jwks(st: &State) -> Jwks {
    Jwks::from_json(&String::from_utf8_lossy(&jwks(st).body)).unwrap_or_default()
}

/// `POST /consumer/session`: body `{"id_token": …}`, header `DPoP`. Requires a consumer nonce
/// (401 `use_dpop_nonce` first), then answers with its own session, as a consumer should (the
/// proof is not a standing credential).
pub(crate) fn consumer_session(st: &mut State, req: &Incoming) -> Reply {
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
