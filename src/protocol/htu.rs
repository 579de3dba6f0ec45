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

/// Percent-encoding normalization (RFC 3986 §6.2.2.2) of `path` onto `out`: unreserved octets
/// decoded, the hex digits of the rest uppercased.
fn push_percent_normalized(out: &mut Vec<u8>, path: &[u8]) -> Result<()> {
    let mut i = 0;
    while let Some(&b) = path.get(i) {
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        let hi = path.get(i + 1).copied().and_then(hex_val);
        let lo = path.get(i + 2).copied().and_then(hex_val);
        let (Some(hi), Some(lo)) = (hi, lo) else {
            return Err(bad("malformed percent-encoding"));
        };
        let decoded = hi * 16 + lo;
        if is_unreserved(decoded) {
            out.push(decoded);
        } else {
            out.extend_from_slice(&[b'%', HEX_UPPER[usize::from(hi)], HEX_UPPER[usize::from(lo)]]);
        }
        i += 3;
    }
    Ok(())
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// RFC 3986 §5.2.4 remove_dot_segments of an absolute `path` (it starts with `/`), onto `out`.
fn push_without_dot_segments(out: &mut Vec<u8>, path: &[u8]) {
    let mut segments: Vec<&[u8]> = Vec::new();
    let parts = path.get(1..).unwrap_or_default();
    let last = parts.iter().filter(|&&b| b == b'/').count();
    let mut trailing_slash = false;
    for (i, seg) in parts.split(|&b| b == b'/').enumerate() {
        match seg {
            b"." => trailing_slash = i == last,
            b".." => {
                segments.pop();
                trailing_slash = i == last;
            }
            s => {
                segments.push(s);
                trailing_slash = false;
            }
        }
    }
    for s in &segments {
        out.push(b'/');
        out.extend_from_slice(s);
    }
    if trailing_slash || segments.is_empty() {
        out.push(b'/');
    }
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

// Byte-level on purpose: the input is checked to be ASCII first, so `str`'s char patterns,
// `format!` and `parse` would only bring larger code (which a page compiles on its first proof).
fn normalize(input: &str) -> Result<String> {
    if input.len() > 8192 {
        return Err(bad("longer than 8192 bytes"));
    }
    let input = input.as_bytes();
    if !input.iter().all(u8::is_ascii_graphic) {
        return Err(bad("contains whitespace, control or non-ASCII characters"));
    }
    let colon = position(input, |b| b == b':').ok_or(bad("not an absolute URI"))?;
    let (scheme, rest) = (&input[..colon], &input[colon + 1..]);
    let (scheme, default_port): (&[u8], u32) = if scheme.eq_ignore_ascii_case(b"https") {
        (b"https://", 443)
    } else if scheme.eq_ignore_ascii_case(b"http") {
        (b"http://", 80)
    } else {
        return Err(bad("scheme must be http or https"));
    };
    let rest = rest.strip_prefix(b"//").ok_or(bad("missing \"//\" authority"))?;
    // Query and fragment go (RFC 9449 §4.2).
    let rest = &rest[..position(rest, |b| b == b'?' || b == b'#').unwrap_or(rest.len())];
    let (authority, path) = rest.split_at(position(rest, |b| b == b'/').unwrap_or(rest.len()));
    if authority.contains(&b'@') {
        return Err(bad("userinfo is not allowed"));
    }
    let mut out = Vec::with_capacity(input.len() + 1);
    out.extend_from_slice(scheme);
    let port = if let Some(v6) = authority.strip_prefix(b"[") {
        let close = position(v6, |b| b == b']').ok_or(bad("unterminated IPv6 literal"))?;
        let (inside, after) = (&v6[..close], &v6[close + 1..]);
        if inside.is_empty() || !inside.iter().all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
            return Err(bad("malformed IPv6 literal"));
        }
        out.push(b'[');
        out.extend(inside.iter().map(u8::to_ascii_lowercase));
        out.push(b']');
        match after {
            [] => None,
            [b':', port @ ..] => Some(port),
            _ => return Err(bad("junk after IPv6 literal")),
        }
    } else {
        let (host, port) = match position(authority, |b| b == b':') {
            Some(i) => (&authority[..i], Some(&authority[i + 1..])),
            None => (authority, None),
        };
        if host.is_empty() {
            return Err(bad("missing host"));
        }
        if !host.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'%')) {
            return Err(bad("host has characters outside the URI host syntax"));
        }
        out.extend(host.iter().map(u8::to_ascii_lowercase));
        port
    };
    if let Some(port) = port.filter(|p| !p.is_empty()) {
        if port.len() > 5 || !port.iter().all(u8::is_ascii_digit) {
            return Err(bad("port is not a number"));
        }
        let n = port.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
        if n > 65535 {
            return Err(bad("port is out of range"));
        }
        if n != default_port {
            out.push(b':');
            push_decimal(&mut out, n);
        }
    }
    if path.is_empty() {
        out.push(b'/');
    } else {
        let mut decoded = Vec::with_capacity(path.len());
        push_percent_normalized(&mut decoded, path)?;
        push_without_dot_segments(&mut out, &decoded);
    }
    // Every byte pushed is ASCII (the input's, or a decoded unreserved octet).
    String::from_utf8(out).map_err(|_| bad("contains non-ASCII characters"))
}

fn position(bytes: &[u8], pred: impl Fn(u8) -> bool) -> Option<usize> {
    bytes.iter().position(|&b| pred(b))
}

/// `n` in decimal, without leading zeros.
fn push_decimal(out: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
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
            ("https://op.example.com:08080/x", "https://op.example.com:8080/x"),
            ("http://[::1]:/x", "http://[::1]/x"),
            ("HTTP://[::AB]/x", "http://[::ab]/x"),
            ("https://op.example.com/a/%2E%2e/b", "https://op.example.com/b"),
            ("https://op.example.com/a/b/.", "https://op.example.com/a/b/"),
            ("https://op.example.com//a", "https://op.example.com//a"),
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
