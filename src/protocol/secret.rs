//! Secret strings (tokens, verifiers, nonces) whose `Debug` prints `[redacted]`.

use std::fmt;

/// A string that must not end up in logs. `Debug` prints `Secret([redacted])`; read the value
/// with [`Secret::expose`], knowingly.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value. **Security warning:** do not log or display it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

/// What a redacted value prints as.
pub(crate) const REDACTED: &str = "[redacted]";

/// Form parameters whose values are not secret, shown by [`RedactedForm`]. Everything else
/// (`code`, `code_verifier`, `refresh_token`, `device_code`, `nonce`, ...) prints as
/// `[redacted]`: an allow-list, so a parameter added later is redacted by default.
const PUBLIC_FORM_KEYS: &[&str] =
    &["grant_type", "client_id", "redirect_uri", "scope", "dpop_jkt", "response_type", "code_challenge_method"];

/// JSON members whose values are not secret, shown by [`RedactedJson`].
const PUBLIC_JSON_KEYS: &[&str] =
    &["token_type", "expires_in", "scope", "error", "error_description", "error_uri", "interval", "issuer", "verification_uri"];

/// `Debug` of a form-encoded body: the parameter names, with only the values of
/// [`PUBLIC_FORM_KEYS`] shown.
pub(crate) struct RedactedForm<'a>(pub(crate) &'a str);

impl fmt::Debug for RedactedForm<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (k, v) in form_urlencoded::parse(self.0.as_bytes()) {
            let shown = if PUBLIC_FORM_KEYS.contains(&k.as_ref()) { v.into_owned() } else { REDACTED.to_owned() };
            list.entry(&format_args!("{k}={shown}"));
        }
        list.finish()
    }
}

/// `Debug` of a response body: for a JSON object, the member names with only the values of
/// [`PUBLIC_JSON_KEYS`] shown; anything else only its length.
pub(crate) struct RedactedJson<'a>(pub(crate) &'a str);

impl fmt::Debug for RedactedJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match crate::protocol::json::from_object::<serde_json::Map<String, serde_json::Value>>(self.0.as_bytes()) {
            Ok(members) => {
                let mut map = f.debug_map();
                for (k, v) in &members {
                    if PUBLIC_JSON_KEYS.contains(&k.as_str()) {
                        map.entry(k, &format_args!("{}", crate::error::cap_echo(&v.to_string())));
                    } else {
                        map.entry(k, &format_args!("{REDACTED}"));
                    }
                }
                map.finish()
            }
            Err(_) => write!(f, "{REDACTED} ({} bytes)", self.0.len()),
        }
    }
}

/// `Debug` of HTTP headers: names, with only `content-type` and `accept` values shown (never
/// `authorization`, `dpop`, `cookie`).
pub(crate) struct RedactedHeaders<'a>(pub(crate) &'a [(&'static str, String)]);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (name, value) in self.0 {
            let shown =
                if name.eq_ignore_ascii_case("content-type") || name.eq_ignore_ascii_case("accept") { value.as_str() } else { REDACTED };
            list.entry(&(name, shown));
        }
        list.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let printed = format!("{s:?} {:?}", Some(&s));
        assert!(!printed.contains("dBjf"), "{printed}");
        assert!(printed.contains("[redacted]"));
        assert_eq!(s.expose(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    }
}
