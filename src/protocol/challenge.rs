//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1), parsed into a scheme and its parameters, so
//! that a DPoP nonce challenge (RFC 9449 §9: scheme `DPoP`, `error="use_dpop_nonce"`) is told
//! apart from a header that merely mentions the words (a `Bearer` challenge whose
//! `error_description` quotes them, say).
//!
//! ```text
//! WWW-Authenticate = #challenge
//! challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param       = token BWS "=" BWS ( token / quoted-string )
//! ```
//!
//! The parser is strict about structure: it stops at the first malformed challenge and keeps
//! only those before it, so a damaged header can only make keybound miss a challenge (and not
//! retry), never invent one.

/// One challenge: its scheme and its parameters (names in lower case, values unquoted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Challenge {
    /// The auth-scheme as sent (compare it case-insensitively).
    pub scheme: String,
    /// The auth-params, in order; names lower-cased.
    pub params: Vec<(String, String)>,
    /// A token68 instead of parameters.
    pub token68: Option<String>,
}

impl Challenge {
    /// The value of parameter `name` (case-insensitive), the first if repeated.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

/// A cursor over the header's bytes.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    /// Skips white space and list commas (empty list elements are allowed, RFC 9110 §5.6.1).
    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
    }

    fn token(&mut self) -> Option<String> {
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn quoted(&mut self) -> Option<String> {
        if self.peek() != Some(b'"') {
            return None;
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(String::from_utf8_lossy(&out).into_owned());
                }
                b'\\' => {
                    out.push(*self.s.get(self.i + 1)?);
                    self.i += 2;
                }
                c => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// `token BWS "=" BWS ( token / quoted-string )` at the cursor, or `None` (cursor unmoved)
    /// if what follows is not a parameter.
    fn param(&mut self) -> Option<(String, String)> {
        let start = self.i;
        let parsed = (|| {
            let name = self.token()?;
            self.skip_ws();
            if self.peek() != Some(b'=') {
                return None;
            }
            self.i += 1;
            self.skip_ws();
            let value = if self.peek() == Some(b'"') { self.quoted()? } else { self.token()? };
            Some((name.to_ascii_lowercase(), value))
        })();
        if parsed.is_none() {
            self.i = start;
        }
        parsed
    }

    /// A token68 running to the end of the element (a comma or the end).
    fn token68(&mut self) -> Option<String> {
        let start = self.i;
        while self.peek().is_some_and(is_token68_char) {
            self.i += 1;
        }
        if self.i == start {
            return None;
        }
        while self.peek() == Some(b'=') {
            self.i += 1;
        }
        let end = self.i;
        self.skip_ws();
        if matches!(self.peek(), None | Some(b',')) {
            Some(String::from_utf8_lossy(&self.s[start..end]).into_owned())
        } else {
            self.i = start;
            None
        }
    }
}

/// The challenges of a `WWW-Authenticate` value, up to the first malformed one.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut c = Cursor { s: header.as_bytes(), i: 0 };
    let mut out = Vec::new();
    loop {
        c.skip_separators();
        if c.peek().is_none() {
            return out;
        }
        let Some(scheme) = c.token() else { return out };
        let mut challenge = Challenge { scheme, ..Challenge::default() };
        match c.peek() {
            None | Some(b',') => {
                out.push(challenge);
                continue;
            }
            Some(b' ' | b'\t') => c.skip_ws(),
            Some(_) => return out,
        }
        if let Some(p) = c.param() {
            challenge.params.push(p);
            // More parameters of this challenge, or the next challenge's scheme.
            loop {
                c.skip_ws();
                match c.peek() {
                    None => break,
                    Some(b',') => {
                        let before = c.i;
                        c.skip_separators();
                        match c.param() {
                            Some(p) => challenge.params.push(p),
                            None => {
                                c.i = before;
                                break;
                            }
                        }
                    }
                    Some(_) => {
                        out.push(challenge);
                        return out;
                    }
                }
            }
        } else if let Some(t) = c.token68() {
            challenge.token68 = Some(t);
        } else if !matches!(c.peek(), None | Some(b',')) {
            return out;
        }
        out.push(challenge);
    }
}

/// Whether the header holds a DPoP challenge with `error="use_dpop_nonce"` (RFC 9449 §9).
pub fn is_dpop_nonce_challenge(header: &str) -> bool {
    parse(header).iter().any(|c| c.scheme.eq_ignore_ascii_case("DPoP") && c.param("error") == Some("use_dpop_nonce"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(c: &Challenge) -> Vec<(&str, &str)> {
        c.params.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
    }

    #[test]
    fn challenges_with_parameters_token68_and_none() {
        let cs =
            parse(r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof", algs="ES256 PS256""#);
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].scheme, "DPoP");
        assert_eq!(
            params(&cs[0]),
            [("error", "use_dpop_nonce"), ("error_description", "Resource server requires nonce in DPoP proof"), ("algs", "ES256 PS256")]
        );
        // Two challenges in one value, a token68, an empty element and a bare scheme.
        let cs = parse(r#"Bearer realm="api", error=invalid_token,, Negotiate abc+/==, DPoP algs="ES256", Basic"#);
        let schemes: Vec<&str> = cs.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["Bearer", "Negotiate", "DPoP", "Basic"]);
        assert_eq!(params(&cs[0]), [("realm", "api"), ("error", "invalid_token")]);
        assert_eq!(cs[1].token68.as_deref(), Some("abc+/=="));
        assert_eq!(cs[2].param("ALGS"), Some("ES256"));
        assert!(cs[3].params.is_empty() && cs[3].token68.is_none());
        // Escapes in quoted strings; white space around "=".
        let cs = parse(r#"DPoP error = "use_\"dpop\"_nonce""#);
        assert_eq!(cs[0].param("error"), Some(r#"use_"dpop"_nonce"#));
    }

    #[test]
    fn only_a_dpop_challenge_with_that_error_counts() {
        assert!(is_dpop_nonce_challenge(r#"DPoP error="use_dpop_nonce""#));
        assert!(is_dpop_nonce_challenge(r#"dpop ERROR=use_dpop_nonce, algs="ES256""#));
        assert!(is_dpop_nonce_challenge(r#"Bearer realm="x", DPoP error="use_dpop_nonce""#));
        // A quoted-pair may escape any character (RFC 9110 §5.6.4): this is use_dpop_nonce.
        assert!(is_dpop_nonce_challenge(r#"DPoP error="u\se_dpop_nonce""#));
        for header in [
            r#"Bearer error="invalid_token", error_description="use_dpop_nonce""#,
            r#"Bearer error="use_dpop_nonce""#,
            r#"DPoP error="invalid_dpop_proof", error_description="use_dpop_nonce""#,
            r#"DPoP error_description="use_dpop_nonce""#,
            "use_dpop_nonce",
            r#"DPoP error="use_dpop_nonce"#, // unterminated quoted string
            "",
        ] {
            assert!(!is_dpop_nonce_challenge(header), "{header}");
        }
    }

    #[test]
    fn malformed_input_keeps_what_came_before_and_never_panics() {
        let cs = parse(r#"Bearer realm="a", =oops, DPoP error="use_dpop_nonce""#);
        assert_eq!(cs.len(), 1, "stops at the malformed element: {cs:?}");
        assert!(!is_dpop_nonce_challenge(r#"Bearer realm="a", =oops, DPoP error="use_dpop_nonce""#));
        for junk in ["\"", "\\", "DPoP \"", "DPoP a=\"\\", "DPoP ====", ",,,", "DPoP\u{0}", "DPoP é=1", "DPoP a=b c"] {
            let _ = parse(junk);
        }
        assert_eq!(parse("DPoP a=b c").len(), 1);
    }
}
