//! Device authorization (RFC 8628, KB §3).

use super::*;

pub(crate) fn device_authorization(st: &mut State, req: &Incoming) -> Reply {
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

pub(crate) fn device_page(user_code: &str, error: Option<&str>) -> Reply {
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

pub(crate) fn device_verify(st: &mut State, req: &Incoming) -> Reply {
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

pub(crate) fn device_grant(st: &mut State, req: &Incoming) -> Reply {
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
