//! When a token signed by a key the JWKS lacks (`ERR_JWKS_NO_MATCHING_KEY`) is worth fetching
//! the JWKS again: one rule, used by the client and by the consumer.

use crate::protocol::id_token::{should_refetch_jwks, JwksRefetch};

/// Whether the gate counts refetches per `kid` or per key set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefetchScope {
    /// Per `kid` (the client: its tokens come from the OP's token endpoint). A `kid` not yet
    /// looked for is worth one refetch however recent the set; the same `kid` again waits
    /// [`JWKS_REFETCH_INTERVAL`](crate::protocol::id_token::JWKS_REFETCH_INTERVAL) seconds.
    PerKid,
    /// Per key set (the consumer: its tokens come from anyone, and a new `kid` in each would
    /// otherwise make it fetch the JWKS for each). One refetch per [`JWKS_REFETCH_INTERVAL`](crate::protocol::id_token::JWKS_REFETCH_INTERVAL)
    /// seconds, counted from the last fetch, whatever the `kid`.
    PerSet,
}

/// The JWKS refetch rule of one key set: "refetch once, at most once a minute".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwksRefetchGate {
    scope: RefetchScope,
    last: Option<JwksRefetch>,
}

impl JwksRefetchGate {
    /// The client's gate: per `kid`; the set's first fetch (discovery) does not count.
    pub fn per_kid() -> Self {
        JwksRefetchGate { scope: RefetchScope::PerKid, last: None }
    }

    /// The consumer's gate: per set, with the set fetched at `fetched_at` (seconds).
    pub fn per_set(fetched_at: i64) -> Self {
        JwksRefetchGate { scope: RefetchScope::PerSet, last: Some(JwksRefetch { kid: None, at: fetched_at }) }
    }

    fn key<'a>(&self, kid: Option<&'a str>) -> Option<&'a str> {
        match self.scope {
            RefetchScope::PerKid => kid,
            RefetchScope::PerSet => None,
        }
    }

    /// Whether a token whose key (`kid`) the set lacks is worth a refetch at `now`.
    pub fn allows(&self, kid: Option<&str>, now: i64) -> bool {
        should_refetch_jwks(self.key(kid), self.last.as_ref(), now)
    }

    /// Records a refetch for `kid` at `now`.
    pub fn record(&mut self, kid: Option<&str>, now: i64) {
        self.last = Some(JwksRefetch { kid: self.key(kid).map(str::to_owned), at: now });
    }
}
