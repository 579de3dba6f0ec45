//! The DPoP `htu` value: the request URI without query and fragment (RFC 9449 §4.2), in the
//! RFC 3986 §6.2.2–6.2.3 normalized form used for comparison (RFC 9449 §4.3 step 9).
//!
//! This is a small, strict parser for absolute `http`/`https` URIs, not a general URL library
//! (the `url` crate's IDNA tables would cost more than the rest of keybound's wasm together).
//! Anything it does not understand is refused rather than guessed at.

use crate::error::{Error, Result};

fn bad(reason: &'static str) -> Error {
    Error::UrlInvalid { reason }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encoding normalization (RFC 3986 §6.2.2.2): decode unreserved octets, uppercase the
/// hex digits of the rest.
fn normalize_percent(path: &str) -> Result<String> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex_val);
            let lo = bytes.get(i + 2).copied().and_then(hex_val);
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(bad("malformed percent-encoding"));
            };
            let decoded = hi * 16 + lo;
            if is_unreserved(decoded) {
                out.push(decoded as char);
            } else {
                out.push('%');
                out.push(char::from(b"0123456789ABCDEF"[usize::from(hi)]));
                out.push(char::from(b"0123456789ABCDEF"[usize::from(lo)]));
            }
            i += 3;
        } else {
            out.push(b as char);
            i += 1;
        }
    }
    Ok(out)
}

/// RFC 3986 §5.2.4 remove_dot_segments, for an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    let last = parts.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, seg) in parts.iter().enumerate() {
        match *seg {
            "." => trailing_slash = i == last,
            ".." => {
                segments.pop();
                trailing_slash = i == last;
            }
            s => {
                segments.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut out = String::with_capacity(path.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if trailing_slash || out.is_empty() {
        out.push('/');
    }
    out
}

/// A request URI in its normalized `htu` form (RFC 9449 §4.2, §4.3 step 9), parsed once and then
/// carried: into the proofs made for the request, the DPoP nonce cache's key, the consumer's
/// nonce scope and replay key. Two `Htu`s are equal exactly when the URIs are the same request
/// target for DPoP.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Htu(String);

impl Htu {
    /// Parses and normalizes a request URI: lowercase scheme and host, default port dropped,
    /// empty path as `/`, dot segments removed, percent-encoding normalized, query and fragment
    /// removed.
    ///
    /// # Errors
    /// `ERR_URL_INVALID` for anything that is not an absolute `http`/`https` URI with a host, for
    /// userinfo, non-ASCII or whitespace, a bad port, or malformed percent-encoding.
    pub fn parse(input: &str) -> Result<Self> {
        normalize(input).map(Htu)
    }

    /// The normalized form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The normalized form, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Htu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// [`Htu::parse`], as a string.
///
/// # Errors
/// As [`Htu::parse`].
pub fn normalize_htu(input: &str) -> Result<String> {
    Htu::parse(input).map(Htu::into_string)
}

/// Checks that `input` is an absolute `http`/`https` URI keybound can use as an endpoint
/// (the same rules as [`Htu::parse`]; query and fragment allowed, and ignored here). The
/// validator for configured and discovered URLs, which are not request targets of a proof.
///
/// # Errors
/// `ERR_URL_INVALID`, as [`Htu::parse`].
pub fn check_http_url(input: &str) -> Result<()> {
    normalize(input).map(|_| ())
}

fn normalize(input: &str) -> Result<String> {
    if input.len() > 8192 {
        return Err(bad("longer than 8192 bytes"));
    }
    if !input.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("contains whitespace, control or non-ASCII characters"));
    }
    let (scheme, rest) = input.split_once(':').ok_or(bad("not an absolute URI"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return Err(bad("scheme must be http or https")),
    };
    let rest = rest.strip_prefix("//").ok_or(bad("missing \"//\" authority"))?;
    // Query and fragment go (RFC 9449 §4.2).
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err(bad("userinfo is not allowed"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (inside, after) = v6.split_once(']').ok_or(bad("unterminated IPv6 literal"))?;
        if inside.is_empty() || !inside.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return Err(bad("malformed IPv6 literal"));
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(bad("junk after IPv6 literal"))?),
        };
        (format!("[{}]", inside.to_ascii_lowercase()), port)
    } else {
        let (h, p) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if h.is_empty() {
            return Err(bad("missing host"));
        }
        if !h.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'%')) {
            return Err(bad("host has characters outside the URI host syntax"));
        }
        (h.to_ascii_lowercase(), p)
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => {
            if !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 5 {
                return Err(bad("port is not a number"));
            }
            let n: u32 = p.parse().map_err(|_| bad("port is not a number"))?;
            if n > 65535 {
                return Err(bad("port is out of range"));
            }
            (n != default_port).then_some(n)
        }
    };
    let path = if path.is_empty() { "/".to_owned() } else { remove_dot_segments(&normalize_percent(path)?) };
    Ok(match port {
        Some(p) => format!("{scheme}://{host}:{p}{path}"),
        None => format!("{scheme}://{host}{path}"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn normalizes_as_rfc_3986_and_9449_say() {
        let cases = [
            ("https://op.example.com/token", "https://op.example.com/token"),
            ("HTTPS://OP.Example.COM/token", "https://op.example.com/token"),
            ("https://op.example.com:443/token", "https://op.example.com/token"),
            ("http://127.0.0.1:80/t", "http://127.0.0.1/t"),
            ("http://127.0.0.1:8080/t", "http://127.0.0.1:8080/t"),
            ("https://op.example.com:8443/token", "https://op.example.com:8443/token"),
            ("https://op.example.com/token?x=1#frag", "https://op.example.com/token"),
            ("https://op.example.com", "https://op.example.com/"),
            ("https://op.example.com?q", "https://op.example.com/"),
            ("https://op.example.com/a/./b/../c", "https://op.example.com/a/c"),
            ("https://op.example.com/a/..", "https://op.example.com/"),
            ("https://op.example.com/%7Euser/%2f", "https://op.example.com/~user/%2F"),
            ("https://op.example.com/token/", "https://op.example.com/token/"),
            ("http://[::1]:8080/x", "http://[::1]:8080/x"),
            ("http://[::1]:80/x", "http://[::1]/x"),
            ("https://op.example.com:/x", "https://op.example.com/x"),
            ("https://op.example.com:0443/x", "https://op.example.com/x"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_htu(input).unwrap(), want, "{input}");
        }
    }

    #[test]
    fn refuses_what_is_not_an_absolute_http_uri() {
        for bad in [
            "",
            "/token",
            "op.example.com/token",
            "ftp://op.example.com/x",
            "javascript:alert(1)",
            "https:op.example.com",
            "https:///token",
            "https://user:pw@op.example.com/token",
            "https://op.example.com:99999/x",
            "https://op.example.com:8a/x",
            "https://op example.com/x",
            "https://op.example.com/\u{e9}",
            "https://op.example.com/%zz",
            "https://op.example.com/%4",
            "http://[::1/x",
            "http://[zz]/x",
            " https://op.example.com/x",
        ] {
            assert_eq!(normalize_htu(bad).unwrap_err().code(), ErrorCode::UrlInvalid, "{bad:?}");
        }
    }
}
