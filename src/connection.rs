//! The link in the agent's connector chain that wraps every connection, for two jobs
//! ureq leaves to its transports.
//!
//! **Reading what is left of a body without waiting.** After `data: [DONE]` a stream is
//! over, but its connection can only go back to the pool once the rest of the body (the
//! last chunk marker) has been read. [`rest`] reads it with every wait for the network
//! cut to [`MOMENT`]: a connection whose rest is already there (or arrives at once) is
//! kept, one that a server or proxy holds open is dropped, and the caller never waits.
//!
//! **A stream's idle deadline.** A stream's idle timeout counts from its last event with
//! data, not from its last byte (keep-alive comments must not keep a dead stream open).
//! While a stream reads through [`until`], every wait for input ends by that deadline, and
//! a wait it cuts short fails as ureq's per-read timeout.
//!
//! **Steady timeouts.** A whole-call timeout leaves a different remaining time for
//! every read and write, and ureq's socket transport then sets the socket's timeout
//! again before each of them (a system call per read and per write). [`steady`] rounds
//! the remaining time down to 7 significant bits, so it changes about every 1/64 of
//! the time left, and a read or write never waits past the deadline (it may give up at
//! most 1/64 of the time left before it).

use std::cell::Cell;
use std::io::{self, Read};
use std::time::{Duration, Instant};

use ureq::unversioned::transport::time::Duration as TimeLeft;
use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// The longest a read waits for the network while [`rest`] runs.
const MOMENT: Duration = Duration::from_millis(1);

thread_local! {
    /// Whether reads on this thread wait at most [`MOMENT`].
    static PROMPT: Cell<bool> = const { Cell::new(false) };
    /// The instant by which reads on this thread must have their input.
    static UNTIL: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Runs `read` with every wait for input on this thread ending by `deadline` (the
/// shortest wait is [`MOMENT`]); a wait cut short fails as ureq's per-read timeout.
pub(crate) fn until<R>(deadline: Option<Instant>, read: impl FnOnce() -> R) -> R {
    struct Reset(Option<Instant>);
    impl Drop for Reset {
        fn drop(&mut self) {
            UNTIL.with(|u| u.set(self.0));
        }
    }
    let _reset = Reset(UNTIL.with(|u| u.replace(deadline)));
    read()
}

/// Reads and discards at most `limit` bytes of what is left of `reader`, waiting at most
/// [`MOMENT`] for each read; returns whether it reached the end.
pub(crate) fn rest(reader: &mut dyn Read, limit: u64) -> bool {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            PROMPT.with(|p| p.set(false));
        }
    }
    PROMPT.with(|p| p.set(true));
    let _reset = Reset;
    let mut taken = reader.take(limit);
    matches!(io::copy(&mut taken, &mut io::sink()), Ok(n) if n < limit)
}

/// Whether [`rest`] is running on this thread: the reads of a stream being drained
/// after `data: [DONE]`.
pub(crate) fn draining() -> bool {
    PROMPT.with(Cell::get)
}

/// The connector-chain link that wraps each connection in [`PromptTransport`].
#[derive(Debug, Default)]
pub(crate) struct Prompt;

impl Connector<Box<dyn Transport>> for Prompt {
    type Out = PromptTransport;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<Box<dyn Transport>>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(PromptTransport))
    }
}

/// A connection whose timeouts are [`steady`], and whose waits for input are cut to
/// [`MOMENT`] while [`rest`] runs on the calling thread.
#[derive(Debug)]
pub(crate) struct PromptTransport(Box<dyn Transport>);

impl Transport for PromptTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.0.transmit_output(amount, steady(timeout))
    }

    fn await_input(&mut self, mut timeout: NextTimeout) -> Result<bool, ureq::Error> {
        if let Some(deadline) = UNTIL.with(Cell::get) {
            let left: TimeLeft = deadline
                .saturating_duration_since(Instant::now())
                .max(MOMENT)
                .into();
            if left < timeout.after {
                timeout.after = left;
                timeout.reason = ureq::Timeout::PerRead;
            }
        }
        let mut timeout = steady(timeout);
        if PROMPT.with(Cell::get) {
            let moment = MOMENT.into();
            if moment < timeout.after {
                timeout.after = moment;
            }
        }
        self.0.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }

    fn is_tls(&self) -> bool {
        self.0.is_tls()
    }
}

/// `timeout` with the time left rounded down to 7 significant bits: the same value for
/// many reads and writes in a row, never later than the deadline.
fn steady(mut timeout: NextTimeout) -> NextTimeout {
    if let TimeLeft::Exact(left) = timeout.after {
        let nanos = left.as_nanos();
        let bits = u128::BITS - nanos.leading_zeros();
        if let Some(drop) = bits.checked_sub(7) {
            let rounded = (nanos >> drop) << drop;
            let rounded = u64::try_from(rounded).map_or(left, Duration::from_nanos);
            timeout.after = TimeLeft::Exact(rounded);
        }
    }
    timeout
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(left: Duration) -> TimeLeft {
        let timeout = NextTimeout {
            after: TimeLeft::Exact(left),
            reason: ureq::Timeout::PerCall,
            per_read: None,
            per_write: None,
        };
        steady(timeout).after
    }

    #[test]
    fn time_left_is_rounded_down_by_less_than_a_64th() {
        for left in [
            Duration::from_millis(300),
            Duration::from_secs(600),
            Duration::from_nanos(1_000_003),
            Duration::from_secs(100 * 365 * 24 * 3600),
        ] {
            let rounded = match after(left) {
                TimeLeft::Exact(rounded) => rounded,
                TimeLeft::NotHappening => Duration::MAX,
            };
            assert!(rounded <= left, "{rounded:?} > {left:?}");
            assert!(left - rounded <= left / 64, "{rounded:?} for {left:?}");
        }
        assert_eq!(
            after(Duration::from_nanos(100)),
            TimeLeft::Exact(Duration::from_nanos(100))
        );
    }

    #[test]
    fn nearby_times_left_give_the_same_timeout() {
        let a = after(Duration::from_secs(600));
        let b = after(Duration::from_secs(600) - Duration::from_micros(70));
        assert_eq!(a, b);
    }

    #[test]
    fn no_deadline_stays_none() {
        let timeout = NextTimeout {
            after: TimeLeft::NotHappening,
            reason: ureq::Timeout::Global,
            per_read: None,
            per_write: None,
        };
        assert_eq!(steady(timeout).after, TimeLeft::NotHappening);
    }
}
