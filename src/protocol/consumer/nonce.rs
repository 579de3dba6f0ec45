//! Consumer nonces: stateless, time-bounded, bound to the consumer and optionally to one
//! request (docs/profile.md §3; RFC 9449 §9 at a resource).

use super::ConsumerPolicy;
use crate::error::{Error, Result};
use crate::protocol::b64;
use crate::protocol::htu::Htu;

/// A MAC key for stateless consumer nonces. Natively HMAC-SHA-256 (RustCrypto); in the browser
/// and Node, WebCrypto HMAC.
#[allow(async_fn_in_trait)]
pub trait NonceKey {
    /// The MAC of `data`.
    async fn tag(&self, data: &[u8]) -> Result<Vec<u8>>;
    /// Whether `tag` is the MAC of `data` (constant time).
    async fn check(&self, data: &[u8], tag: &[u8]) -> Result<bool>;
}

/// No consumer nonces: [`verify_presentation`](super::verify_presentation) with `None::<&NoNonces>`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNonces;

impl NonceKey for NoNonces {
    async fn tag(&self, _data: &[u8]) -> Result<Vec<u8>> {
        Err(Error::arg("nonceKey", "no nonce key is configured"))
    }
    async fn check(&self, _data: &[u8], _tag: &[u8]) -> Result<bool> {
        Ok(false)
    }
}

const NONCE_DOMAIN: &[u8] = b"keybound-consumer-nonce-v2";

/// What a consumer nonce is good for: any request to the consumer that issued it, or one
/// request (method and URL) only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceScope<'a> {
    /// Any request to this consumer (what a 401 `use_dpop_nonce` challenge hands out: the client
    /// reuses it for its next requests).
    Consumer,
    /// Only a request with this method (compared in upper case) and URL (compared as a DPoP
    /// `htu`: no query or fragment).
    Request {
        /// The request method.
        htm: &'a str,
        /// The request URL.
        htu: &'a str,
    },
}

/// A [`NonceScope`] with its URL parsed (once).
#[derive(Clone, Copy)]
enum MacScope<'a> {
    Consumer,
    Request(&'a str, &'a Htu),
}

/// The MAC input of a consumer nonce: the domain string, the consumer id (length-prefixed), the
/// issue time, the scope byte and, for a request nonce, the length-prefixed method and `htu`, so
/// a nonce is only good at the consumer (and for the request) it was issued for.
fn nonce_mac_input(consumer_id: &str, ts: &[u8], scope: MacScope<'_>) -> Result<Vec<u8>> {
    let mut data = Vec::with_capacity(NONCE_DOMAIN.len() + 8 + consumer_id.len() + ts.len() + 1);
    let part = |data: &mut Vec<u8>, p: &[u8]| {
        data.extend_from_slice(&(p.len() as u64).to_be_bytes());
        data.extend_from_slice(p);
    };
    data.extend_from_slice(NONCE_DOMAIN);
    part(&mut data, consumer_id.as_bytes());
    data.extend_from_slice(ts);
    match scope {
        MacScope::Consumer => data.push(0),
        MacScope::Request(htm, htu) => {
            crate::protocol::dpop::ProofTemplate::check_htm(htm)?;
            data.push(1);
            part(&mut data, htm.to_ascii_uppercase().as_bytes());
            part(&mut data, htu.as_str().as_bytes());
        }
    }
    Ok(data)
}

/// Issues a nonce valid for a while at consumer `consumer_id`, for any request to it:
/// see [`issue_scoped_nonce`].
///
/// # Errors
/// The nonce key's errors.
pub async fn issue_nonce<K: NonceKey>(key: &K, consumer_id: &str, now: i64) -> Result<String> {
    issue_scoped_nonce(key, consumer_id, NonceScope::Consumer, now).await
}

/// Issues a nonce valid for a while at consumer `consumer_id`, for the requests of `scope`:
/// `BASE64URL(issued_at (8 bytes BE) || scope (1 byte) || MAC("keybound-consumer-nonce-v2" ||
/// len(consumer_id) (8 bytes BE) || consumer_id || issued_at || scope [|| len(htm) || htm ||
/// len(htu) || htu]))`. Stateless, so any instance of that consumer sharing the key can check
/// it; another consumer cannot, even with the same key, and a request nonce is refused for any
/// other method or URL.
///
/// # Errors
/// `ERR_INVALID_ARGUMENT` for a request scope whose method is not a method token;
/// `ERR_URL_INVALID` for its URL; the nonce key's errors.
pub async fn issue_scoped_nonce<K: NonceKey>(key: &K, consumer_id: &str, scope: NonceScope<'_>, now: i64) -> Result<String> {
    let ts = now.to_be_bytes();
    let mut out = ts.to_vec();
    out.push(u8::from(matches!(scope, NonceScope::Request { .. })));
    let htu;
    let scope = match scope {
        NonceScope::Consumer => MacScope::Consumer,
        NonceScope::Request { htm, htu: url } => {
            htu = Htu::parse(url)?;
            MacScope::Request(htm, &htu)
        }
    };
    out.extend(key.tag(&nonce_mac_input(consumer_id, &ts, scope)?).await?);
    Ok(b64::encode(out))
}

/// Checks a nonce from [`issue_scoped_nonce`], presented with the request `htm` `htu`:
/// authentic for this `consumer_id`, issued within `max_age` seconds (and not in the future
/// beyond `skew`), and, for a request nonce, issued for this method and URL.
///
/// # Errors
/// The nonce key's errors; an invalid `htm`/`htu` for a request nonce is a mismatch (`false`).
#[allow(clippy::too_many_arguments)]
pub async fn check_nonce<K: NonceKey>(
    key: &K,
    consumer_id: &str,
    nonce: &str,
    htm: &str,
    htu: &str,
    now: i64,
    max_age: i64,
    skew: i64,
) -> Result<bool> {
    let Ok(htu) = Htu::parse(htu) else { return Ok(false) };
    check_nonce_at(key, consumer_id, nonce, (htm, &htu), (now, max_age, skew)).await
}

/// [`check_nonce`] for a request whose `htu` is already parsed.
async fn check_nonce_at<K: NonceKey>(
    key: &K,
    consumer_id: &str,
    nonce: &str,
    (htm, htu): (&str, &Htu),
    (now, max_age, skew): (i64, i64, i64),
) -> Result<bool> {
    let Ok(bytes) = b64::decode(nonce, "nonce") else { return Ok(false) };
    if bytes.len() < 8 + 1 + 16 {
        return Ok(false);
    }
    let (ts, rest) = bytes.split_at(8);
    let issued = i64::from_be_bytes(ts.try_into().unwrap_or([0; 8]));
    if issued < now.saturating_sub(max_age) || issued > now.saturating_add(skew) {
        return Ok(false);
    }
    let scope = match rest[0] {
        0 => MacScope::Consumer,
        1 => MacScope::Request(htm, htu),
        _ => return Ok(false),
    };
    let Ok(input) = nonce_mac_input(consumer_id, ts, scope) else { return Ok(false) };
    key.check(&input, &rest[1..]).await
}

/// The consumer-nonce step of a presentation: with `required`, a nonce must be present and one
/// this consumer issued, still fresh (`ERR_DPOP_NONCE_REQUIRED`, `ERR_DPOP_NONCE_MISMATCH`);
/// without, a nonce that is present is still checked when there is a nonce key.
pub(crate) async fn check_consumer_nonce<K: NonceKey>(
    nonce: Option<&str>,
    nonces: Option<&K>,
    required: bool,
    policy: &ConsumerPolicy,
    (htm, htu): (&str, &Htu),
    now: i64,
) -> Result<()> {
    match (nonce, nonces) {
        (None, _) if required => Err(Error::DpopNonceRequired),
        (Some(n), Some(key)) => check_nonce_at(key, &policy.consumer_id, n, (htm, htu), (now, policy.proof_max_age, policy.clock_skew))
            .await?
            .then_some(())
            .ok_or(Error::DpopNonceMismatch),
        (Some(_), None) if required => Err(Error::DpopNonceMismatch),
        _ => Ok(()),
    }
}
