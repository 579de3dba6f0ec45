//! One step of the device-flow poll (RFC 8628 §3.4, §3.5; KB §3): wait the interval, give up
//! once the codes expired, and read the poll's answer.

use crate::error::Error;
use crate::protocol::oauth::{DevicePoll, TokenResponse};

/// Seconds added to the interval, for good, by each `slow_down` (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: i64 = 5;

/// What to do after a poll.
#[derive(Debug)]
pub enum DeviceStep {
    /// The user finished: check these tokens.
    Tokens(Box<TokenResponse>),
    /// Not yet: tell the caller (`"authorization_pending"` or `"slow_down"`) and poll again
    /// after `interval` seconds.
    Wait {
        /// The poll's answer.
        status: &'static str,
        /// Seconds to wait before the next poll.
        interval: i64,
    },
}

/// The state of a device login's polling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DevicePolling {
    interval: i64,
    deadline: i64,
}

impl DevicePolling {
    /// Polling for codes issued at `started_at` (seconds) that expire after `expires_in` seconds,
    /// at first every `interval` seconds.
    pub fn new(started_at: i64, expires_in: i64, interval: i64) -> Self {
        DevicePolling { interval, deadline: started_at.saturating_add(expires_in) }
    }

    /// Seconds to wait before the next poll.
    pub fn interval(&self) -> i64 {
        self.interval
    }

    /// Checked after each wait, before polling: the codes' lifetime.
    ///
    /// # Errors
    /// `ERR_DEVICE_CODE_EXPIRED` once `now` is past the codes' expiry.
    pub fn before_poll(&self, now: i64) -> Result<(), Error> {
        if now > self.deadline {
            return Err(Error::DeviceCodeExpired);
        }
        Ok(())
    }

    /// The poll's answer (already read by `oauth::process_device_poll_response`, which turns
    /// `access_denied` and `expired_token` into errors): the tokens, or another wait, longer by
    /// [`SLOW_DOWN_STEP`] for good after `slow_down`.
    pub fn after_poll(&mut self, poll: DevicePoll) -> DeviceStep {
        match poll {
            DevicePoll::Tokens(tokens) => DeviceStep::Tokens(tokens),
            DevicePoll::Pending => DeviceStep::Wait { status: "authorization_pending", interval: self.interval },
            DevicePoll::SlowDown => {
                self.interval = self.interval.saturating_add(SLOW_DOWN_STEP);
                DeviceStep::Wait { status: "slow_down", interval: self.interval }
            }
        }
    }
}
