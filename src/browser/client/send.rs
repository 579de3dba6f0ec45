//! Requests signed with the session's DPoP key: token-endpoint and OP calls (PAR, revocation),
//! authorized `fetch`, and presentations to a consumer. Each is retried exactly once with a new
//! proof when the server asks for a DPoP nonce (`use_dpop_nonce`), as
//! [`crate::protocol::session::retry`] decides: OP calls through `dpop_post`, requests to
//! resources and consumers through one loop, `send_with_dpop`.

use super::super::dpop_key::DpopKeyPair;
use super::super::http::{self, Deadline};
use super::super::js::{BrowserError, Result};
use super::Client;
use crate::error::Error;
use crate::protocol::dpop::ProofParams;
use crate::protocol::htu::Htu;
use crate::protocol::oauth::{self, HttpRequest, HttpResponse, TokenResponse};
use crate::protocol::session::present;
use crate::protocol::session::retry::{self, NonceRetry, Step};

/// A request to a resource or a consumer, as sent on each attempt but for its DPoP proof.
struct Outgoing<'a> {
    method: &'a str,
    url: &'a str,
    /// Every header but `DPoP`.
    headers: Vec<(String, String)>,
    body: Option<String>,
    /// The key that signs the proofs and the token their `ath` covers (the access token, or the
    /// ID Token of a presentation); `None`: a Bearer request, no proof.
    proof: Option<(&'a DpopKeyPair, &'a str)>,
    /// Whether the proofs are presentations (kept as the last presentation proof).
    presentation: bool,
}

impl Client {
    /// A token-endpoint call with a fresh DPoP proof, retried once with a new proof when the
    /// server answers `use_dpop_nonce`.
    pub(super) async fn token_call(
        &self,
        key: &DpopKeyPair,
        code: Option<&str>,
        build: impl Fn(&str) -> HttpRequest,
    ) -> Result<TokenResponse> {
        self.token_call_as(key, code, build, oauth::process_token_response).await
    }

    /// [`Self::token_call`] with the response read by `process` (a token response, or a device
    /// poll that may still be pending).
    pub(super) async fn token_call_as<T>(
        &self,
        key: &DpopKeyPair,
        code: Option<&str>,
        build: impl Fn(&str) -> HttpRequest,
        process: fn(&HttpResponse) -> std::result::Result<T, Error>,
    ) -> Result<T> {
        self.dpop_post(&self.meta.token_endpoint, key, code, |proof| Ok(build(proof)), process).await
    }

    /// A POST to an OP endpoint (`htu`) with a fresh DPoP proof, retried once with a new proof
    /// when the OP answers `use_dpop_nonce`; the response is read by `process`.
    pub(super) async fn dpop_post<T>(
        &self,
        htu: &str,
        key: &DpopKeyPair,
        code: Option<&str>,
        build: impl Fn(&str) -> std::result::Result<HttpRequest, Error>,
        process: fn(&HttpResponse) -> std::result::Result<T, Error>,
    ) -> Result<T> {
        let endpoint = htu;
        let htu = &Htu::parse(endpoint)?;
        let mut retry = NonceRetry::new();
        let mut nonce = self.nonce_for(htu).await;
        loop {
            let params = ProofParams { nonce: nonce.as_deref(), code, ..ProofParams::new("POST", htu) };
            let proof = key.proof_at(&params, self.now()).await?;
            let (res, date) = http::send_with_date(&build(&proof)?, &self.deadline()).await?;
            self.learn_clock(date.as_deref());
            if endpoint == self.meta.token_endpoint {
                *self.last_token_proof.borrow_mut() = Some(proof);
            }
            if let Some(n) = retry::fresh_nonce(res.dpop_nonce.as_deref()) {
                self.remember_nonce(htu, n).await;
            }
            match retry.op(process(&res)) {
                Step::Retry(fresh) => {
                    self.remember_nonce(htu, &fresh).await;
                    nonce = Some(fresh);
                }
                Step::Done(outcome) => return outcome.map_err(BrowserError::from),
            }
        }
    }

    /// The one send-with-DPoP loop of requests to resources and consumers (`fetch`,
    /// `presentTo`): a new proof for the endpoint's latest nonce on each attempt; a `DPoP-Nonce`
    /// in any answer is remembered for the endpoint; a 401 `use_dpop_nonce` challenge is retried
    /// exactly once with the nonce it gave ([`NonceRetry::resource`]). Without a proof (a Bearer
    /// token) no nonce is read and nothing is retried.
    async fn send_with_dpop(&self, out: &Outgoing<'_>, deadline: &Deadline) -> Result<web_sys::Response> {
        let (method, url) = (out.method, out.url);
        // Parsed once for the proofs and the nonce cache. With a proof the URL must be an absolute
        // http(s) URL (ERR_URL_INVALID); a Bearer request may go anywhere fetch goes, and a nonce
        // it brings back is kept only for a URL a proof could name.
        let htu = match out.proof {
            Some(_) => Some(Htu::parse(url)?),
            None => Htu::parse(url).ok(),
        };
        let mut retry = NonceRetry::new();
        let mut nonce = match (out.proof, &htu) {
            (Some(_), Some(htu)) => self.nonce_for(htu).await,
            _ => None,
        };
        loop {
            let mut pairs: Vec<(&str, &str)> = out.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let proof = match (out.proof, &htu) {
                (Some((key, token)), Some(htu)) => {
                    let params = ProofParams { nonce: nonce.as_deref(), access_token: Some(token), ..ProofParams::new(method, htu) };
                    let proof = key.proof_at(&params, self.now()).await?;
                    if out.presentation {
                        *self.last_presentation_proof.borrow_mut() = Some(proof.clone());
                    }
                    Some(proof)
                }
                _ => None,
            };
            if let Some(proof) = &proof {
                pairs.push(("dpop", proof));
            }
            let res = http::send_raw(method, url, &pairs, out.body.as_deref(), deadline).await?;
            let dpop_nonce = res.headers().get("dpop-nonce");
            if let (Some(n), Some(htu)) = (retry::fresh_nonce(dpop_nonce.as_deref()), &htu) {
                self.remember_nonce(htu, n).await;
            }
            if proof.is_some() {
                if let Step::Retry(fresh) =
                    retry.resource(res.status(), res.headers().get("www-authenticate").as_deref(), dpop_nonce.as_deref())
                {
                    nonce = Some(fresh);
                    continue;
                }
            }
            return Ok(res.into());
        }
    }

    /// Sends a request with the access token: `Authorization: DPoP` plus a proof with `ath` when
    /// the token type is DPoP (one retry on a `use_dpop_nonce` challenge), `Authorization:
    /// Bearer` otherwise. Never sends the ID Token (KB §9.5).
    ///
    /// # Errors
    /// `ERR_NO_SESSION`, `ERR_NETWORK`, `ERR_URL_INVALID`, `ERR_CRYPTO_*`.
    pub async fn fetch(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<&str>,
        deadline: &Deadline,
    ) -> Result<web_sys::Response> {
        let method = &http::normalize_method(method)?;
        // The key only for a DPoP token: a Bearer request needs none.
        let (record, key) = match self.hot_session().await? {
            r if r.is_dpop() => {
                let (r, k) = self.session_and_key().await?;
                (r, Some(k))
            }
            r => (r, None),
        };
        let mut all = headers.to_vec();
        all.push(("authorization".into(), present::authorization(key.is_some(), &record.access_token)));
        let proof = key.as_ref().map(|k| (k, record.access_token.as_str()));
        let out = Outgoing { method, url, headers: all, body: body.map(str::to_owned), proof, presentation: false };
        self.send_with_dpop(&out, deadline).await
    }

    /// A presentation for a consumer (keybound's profile, docs/profile.md §2): the ID Token and a
    /// DPoP-syntax proof by the bound key over `htm`/`htu`, with `ath` = SHA-256 of this ID Token
    /// and the consumer's `nonce` when it issued one.
    ///
    /// # Errors
    /// `ERR_NO_SESSION`; `ERR_ID_TOKEN_UNBOUND` when the session's ID Token is not bound (there
    /// is nothing to prove); `ERR_KEY_NOT_FOUND`; `ERR_URL_INVALID`.
    pub async fn present(&self, htm: &str, htu: &str, nonce: Option<&str>) -> Result<(String, String)> {
        let htm = &http::normalize_method(htm)?;
        let (record, key) = self.session_and_key().await?;
        if !record.bound {
            return Err(Error::IdTokenUnbound { reason: "the session's ID Token is not bound to its key" }.into());
        }
        let htu = &Htu::parse(htu)?;
        let params = ProofParams { nonce, access_token: Some(&record.id_token), ..ProofParams::new(htm, htu) };
        let proof = key.proof_at(&params, self.now()).await?;
        *self.last_presentation_proof.borrow_mut() = Some(proof.clone());
        Ok((record.id_token, proof))
    }

    /// Presents the session to a consumer: sends `DPoP: <proof>` and the ID Token in a JSON body
    /// `{"id_token": …}` (merged into `body` when given) or in the header `id_token_header`,
    /// never as `Authorization: Bearer`. Retries once on a 401 `use_dpop_nonce` challenge.
    ///
    /// # Errors
    /// As [`Client::present`], plus `ERR_NETWORK`.
    pub async fn present_to(
        &self,
        method: &str,
        url: &str,
        body: Option<&str>,
        id_token_header: Option<&str>,
        deadline: &Deadline,
    ) -> Result<web_sys::Response> {
        present::check_id_token_header(id_token_header)?;
        let method = &http::normalize_method(method)?;
        present::check_presentation_method(method, id_token_header)?;
        let (record, key) = self.session_and_key().await?;
        if !record.bound {
            return Err(Error::IdTokenUnbound { reason: "the session's ID Token is not bound to its key" }.into());
        }
        let mut headers: Vec<(String, String)> = Vec::new();
        let body = match id_token_header {
            Some(name) => {
                headers.push((name.to_owned(), record.id_token.clone()));
                body.map(str::to_owned)
            }
            None => {
                headers.push(("content-type".into(), "application/json".into()));
                Some(present::presentation_body(body, &record.id_token)?)
            }
        };
        let out = Outgoing { method, url, headers, body, proof: Some((&key, &record.id_token)), presentation: true };
        self.send_with_dpop(&out, deadline).await
    }
}
