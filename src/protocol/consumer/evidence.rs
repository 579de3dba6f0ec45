//! Evidence: one record per decision, with the user, the application, the key holder and the
//! proof kept apart (docs/profile.md §6), and the counters an operator watches.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Serialize;

use super::passkey::{PasskeyAccepted, PasskeyPresentation};
use super::presentation::{claimed, Accepted, Presentation};
use crate::error::{cap_echo, ErrorCode, Result};

/// One decision, accepted or refused, with the facts kept apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EvidenceRecord {
    /// When, seconds since the epoch.
    pub time: i64,
    /// Which consumer decided.
    pub consumer: String,
    /// What the caller wanted to do (its label).
    pub action: String,
    /// `"accepted"` or `"refused"`.
    pub outcome: &'static str,
    /// The refusal's code.
    pub error: Option<&'static str>,
    /// The user: issuer and subject (verified when accepted).
    pub issuer: Option<String>,
    /// The user's subject.
    pub subject: Option<String>,
    /// The authenticating application (`aud`, `azp`).
    pub audience: Vec<String>,
    /// `azp`.
    pub azp: Option<String>,
    /// The key holder: thumbprint of `cnf.jwk`.
    pub cnf_jkt: Option<String>,
    /// The proof's key thumbprint (differs from `cnf_jkt` on a key mismatch).
    pub proof_jkt: Option<String>,
    /// The proof: `jti`, `htm`, `htu`, `iat`.
    pub jti: Option<String>,
    /// How possession was proven: `"dpop"` (a DPoP proof by the `cnf` key) or `"passkey"` (a
    /// WebAuthn assertion by the passkey the ID Token's `nonce` commits to).
    pub proof_type: &'static str,
    /// Request method (the consumer's own).
    pub htm: String,
    /// Request URI (the consumer's own).
    pub htu: String,
    /// Proof `iat`, when verified.
    pub proof_iat: Option<i64>,
    /// Whether the identity fields were verified (true only when accepted).
    pub verified: bool,
}

impl EvidenceRecord {
    /// A refusal with nothing known yet: the base every record starts from.
    fn refused(consumer: &str, action: &str, now: i64, htm: &str, htu: &str) -> Self {
        EvidenceRecord {
            time: now,
            consumer: consumer.to_owned(),
            action: action.to_owned(),
            outcome: "refused",
            error: None,
            issuer: None,
            subject: None,
            audience: Vec::new(),
            azp: None,
            cnf_jkt: None,
            proof_jkt: None,
            jti: None,
            proof_type: "dpop",
            htm: htm.to_owned(),
            htu: htu.to_owned(),
            proof_iat: None,
            verified: false,
        }
    }

    /// Caps every string that came with the presentation (claimed or verified identity, `jti`,
    /// `htm`, `htu`) at [`MAX_ECHO_CHARS`](crate::error::MAX_ECHO_CHARS) characters, so a
    /// hostile presentation cannot blow up the logs. The thumbprints are fixed-size already.
    fn capped(mut self) -> Self {
        let cap = |s: &mut String| {
            if let Cow::Owned(c) = cap_echo(s) {
                *s = c;
            }
        };
        for s in [&mut self.issuer, &mut self.subject, &mut self.azp, &mut self.jti].into_iter().flatten() {
            cap(s);
        }
        self.audience.truncate(16);
        self.audience.iter_mut().for_each(cap);
        cap(&mut self.htm);
        cap(&mut self.htu);
        self
    }

    /// The record of one decision. Strings that came with the presentation are capped at
    /// [`MAX_ECHO_CHARS`](crate::error::MAX_ECHO_CHARS) characters (with an ellipsis).
    pub fn new(consumer: &str, action: &str, presentation: &Presentation<'_>, now: i64, result: &Result<Accepted>) -> Self {
        let base = EvidenceRecord::refused(consumer, action, now, presentation.htm, presentation.htu);
        let record = match result {
            Ok(a) => EvidenceRecord {
                outcome: "accepted",
                issuer: Some(a.iss.clone()),
                subject: Some(a.sub.clone()),
                audience: a.aud.clone(),
                azp: a.azp.clone(),
                cnf_jkt: Some(a.cnf_jkt.clone()),
                proof_jkt: Some(a.cnf_jkt.clone()),
                jti: Some(a.jti.clone()),
                proof_iat: Some(a.proof_iat),
                verified: true,
                ..base
            },
            Err(e) => {
                // Only a refusal reads the presentation again (unverified) for its record: an
                // accepted one has the verified facts.
                let claimed = claimed(presentation);
                EvidenceRecord {
                    error: Some(e.code().as_str()),
                    issuer: claimed.iss,
                    subject: claimed.sub,
                    cnf_jkt: claimed.cnf_jkt,
                    proof_jkt: claimed.proof_jkt,
                    jti: claimed.jti,
                    ..base
                }
            }
        };
        record.capped()
    }

    /// The record of one passkey decision (`proof_type` `"passkey"`; the key holder is the
    /// passkey). Strings are capped as in [`EvidenceRecord::new`].
    pub fn passkey(consumer: &str, action: &str, p: &PasskeyPresentation<'_>, now: i64, result: &Result<PasskeyAccepted>) -> Self {
        let jkt = Some(p.public_jwk.thumbprint());
        let base = EvidenceRecord {
            cnf_jkt: jkt.clone(),
            proof_jkt: jkt,
            proof_type: "passkey",
            ..EvidenceRecord::refused(consumer, action, now, p.htm, p.htu)
        };
        let record = match result {
            Ok(a) => EvidenceRecord {
                outcome: "accepted",
                issuer: Some(a.iss.clone()),
                subject: Some(a.sub.clone()),
                audience: a.aud.clone(),
                verified: true,
                ..base
            },
            Err(e) => {
                let c = claimed(&Presentation { id_token: p.id_token, proof: "", htm: "", htu: "" });
                EvidenceRecord { error: Some(e.code().as_str()), issuer: c.iss, subject: c.sub, ..base }
            }
        };
        record.capped()
    }

    /// As JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Running counts an operator correlates bound-key failures with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Accepted presentations.
    pub accepted: u64,
    /// Refused presentations (nonce challenges not included).
    pub refused: u64,
    /// Replays (`ERR_DPOP_REPLAY`).
    pub replays: u64,
    /// Proof key ≠ `cnf` key (`ERR_DPOP_KEY_MISMATCH`).
    pub key_mismatches: u64,
    /// Nonce challenges (`ERR_DPOP_NONCE_REQUIRED`, `_MISMATCH`, `ERR_DPOP_PROOF_MISSING`): part of
    /// the protocol, not counted as refusals by key.
    pub nonce_challenges: u64,
    /// Refusals per claimed `cnf` thumbprint (at most 1000 keys are tracked).
    pub refusals_by_key: HashMap<String, u64>,
}

impl Counters {
    /// Counts one record.
    pub fn count(&mut self, record: &EvidenceRecord) {
        if record.outcome == "accepted" {
            self.accepted += 1;
            return;
        }
        let challenge = [ErrorCode::DpopNonceRequired, ErrorCode::DpopNonceMismatch, ErrorCode::DpopProofMissing];
        if record.error.is_some_and(|c| challenge.iter().any(|x| x.as_str() == c)) {
            self.nonce_challenges += 1;
            return;
        }
        self.refused += 1;
        match record.error {
            Some(c) if c == ErrorCode::DpopReplay.as_str() => self.replays += 1,
            Some(c) if c == ErrorCode::DpopKeyMismatch.as_str() => self.key_mismatches += 1,
            _ => {}
        }
        if let Some(jkt) = &record.cnf_jkt {
            if self.refusals_by_key.len() < 1000 || self.refusals_by_key.contains_key(jkt) {
                *self.refusals_by_key.entry(jkt.clone()).or_insert(0) += 1;
            }
        }
    }
}
