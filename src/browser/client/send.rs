//! Requests signed with the session's DPoP key: token-endpoint and OP calls (PAR, revocation),
//! authorized `fetch`, and presentations to a consumer. Each is retried exactly once with a new
//! proof when the server asks for a DPoP nonce (`use_dpop_nonce`).

use super::super::dpop_key::DpopKeyPair;
use super::super::http::{self, Deadline};
use super::super::js::{BrowserError, Result};
use super::Client;
use crate::error::Error;
use crate::protocol::dpop::ProofParams;
use crate::protocol::oauth::{self, HttpRequest, HttpResponse, TokenResponse};

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
        let mut retried = false;
        loop {
            let nonce = self.nonce_for(htu).await;
            let proof =
                key.proof_at(&ProofParams { htm: "POST", htu, nonce: nonce.as_deref(), access_token: None, code }, self.now()).await?;
            let (res, date) = http::send_with_date(&build(&proof)?, &self.deadline()).await?;
            self.learn_clock(date.as_deref());
            if htu == self.meta.token_endpoint {
                *self.last_token_proof.borrow_mut() = Some(proof);
            }
            if let Some(n) = res.dpop_nonce.as_deref().and_then(oauth::valid_dpop_nonce) {
                self.remember_nonce(htu, n).await;
            }
            match process(&res) {
                Err(Error::UseDpopNonce { nonce }) if !retried => {
                    self.remember_nonce(htu, &nonce).await;
                    retried = true;
                }
                other => return other.map_err(BrowserError::from),
            }
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
            r if r.token_type.eq_ignore_ascii_case("dpop") => {
                let (r, k) = self.session_and_key().await?;
                (r, Some(k))
            }
            r => (r, None),
        };
        let dpop = key.is_some();
        let mut retried = false;
        loop {
            let mut hs: Vec<(&str, String)> = headers.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
            if let Some(key) = &key {
                let nonce = self.nonce_for(url).await;
                let params =
                    ProofParams { htm: method, htu: url, nonce: nonce.as_deref(), access_token: Some(&record.access_token), code: None };
                hs.push(("authorization", format!("DPoP {}", record.access_token)));
                hs.push(("dpop", key.proof_at(&params, self.now()).await?));
            } else {
                hs.push(("authorization", format!("Bearer {}", record.access_token)));
            }
            let pairs: Vec<(&str, &str)> = hs.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let res = http::send_raw(method, url, &pairs, body, deadline).await?;
            let nonce = res.headers().get("dpop-nonce").filter(|n| oauth::valid_dpop_nonce(n).is_some());
            if let Some(n) = &nonce {
                self.remember_nonce(url, n).await;
            }
            let challenged = res.status() == 401
                && res.headers().get("www-authenticate").is_some_and(|w| crate::protocol::challenge::is_dpop_nonce_challenge(&w))
                && nonce.is_some();
            if dpop && challenged && !retried {
                retried = true;
                continue;
            }
            return Ok(res.into());
        }
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
        let proof = key.proof_at(&ProofParams { htm, htu, nonce, access_token: Some(&record.id_token), code: None }, self.now()).await?;
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
        if id_token_header.is_some_and(|h| h.eq_ignore_ascii_case("authorization") || h.eq_ignore_ascii_case("dpop")) {
            // KB §9.5: the ID Token is not an access token.
            return Err(Error::arg("idTokenHeader", "must not be Authorization or DPoP").into());
        }
        let method = &http::normalize_method(method)?;
        if id_token_header.is_none() && (method == "GET" || method == "HEAD") {
            return Err(Error::arg("method", "GET and HEAD have no body to carry the ID Token: name an idTokenHeader").into());
        }
        let mut nonce = self.nonce_for(url).await;
        let mut retried = false;
        loop {
            let (id_token, proof) = self.present(method, url, nonce.as_deref()).await?;
            let mut headers: Vec<(&str, String)> = vec![("dpop", proof)];
            let body = match id_token_header {
                Some(name) => {
                    headers.push((name, id_token));
                    body.map(str::to_owned)
                }
                None => {
                    let mut obj: serde_json::Map<String, serde_json::Value> = match body {
                        Some(b) => serde_json::from_str(b).map_err(|_| Error::arg("body", "must be a JSON object to carry id_token"))?,
                        None => serde_json::Map::new(),
                    };
                    obj.insert("id_token".into(), serde_json::Value::String(id_token));
                    headers.push(("content-type", "application/json".into()));
                    Some(serde_json::Value::Object(obj).to_string())
                }
            };
            let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let res = http::send_raw(method, url, &pairs, body.as_deref(), deadline).await?;
            let fresh = res.headers().get("dpop-nonce").filter(|n| oauth::valid_dpop_nonce(n).is_some());
            if let Some(n) = &fresh {
                self.remember_nonce(url, n).await;
            }
            let challenged = res.status() == 401
                && res.headers().get("www-authenticate").is_some_and(|w| crate::protocol::challenge::is_dpop_nonce_challenge(&w));
            if challenged && fresh.is_some() && !retried {
                retried = true;
                nonce = fresh;
                continue;
            }
            return Ok(res.into());
        }
    }
}
