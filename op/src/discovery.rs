//! Discovery (OpenID Connect Discovery 1.0 §4) and the OP's JWKS.

use super::*;

pub(crate) fn discovery(st: &State) -> Reply {
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

pub(crate) fn jwks(st: &State) -> Reply {
    let mut jwk: Value = serde_json::from_str(&st.key.public_jwk_json()).unwrap_or(Value::Null);
    if let Some(obj) = jwk.as_object_mut() {
        obj.insert("kid".into(), json!(st.kid));
        obj.insert("use".into(), json!("sig"));
        obj.insert("alg".into(), json!(st.key.alg().as_str()));
    }
    Reply::json(200, &json!({ "keys": [jwk] }))
}
