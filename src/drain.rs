//! Reading what is left of a body without waiting for it.
//!
//! After `data: [DONE]` a stream is over, but its connection can only go back to the pool
//! once the rest of the body (the last chunk marker) has been read. [`rest`] reads it
//! with every wait for the network cut to [`MOMENT`]: a connection whose rest is already
//! there (or arrives at once) is kept, one that a server or proxy holds open is dropped,
//! and the caller never waits. [`Prompt`] is the link in the agent's connector chain
//! that makes this possible: it wraps every connection and shortens its waits while
//! [`rest`] runs on this thread.

use std::cell::Cell;
use std::io::{self, Read};
use std::time::Duration;

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// The longest a read waits for the network while [`rest`] runs.
const MOMENT: Duration = Duration::from_millis(1);

thread_local! {
    /// Whether reads on this thread wait at most [`MOMENT`].
    static PROMPT: Cell<bool> = const { Cell::new(false) };
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

/// A connection whose waits for input are cut to [`MOMENT`] while [`rest`] runs on the
/// calling thread; otherwise it passes everything through unchanged.
#[derive(Debug)]
pub(crate) struct PromptTransport(Box<dyn Transport>);

impl Transport for PromptTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.0.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, mut timeout: NextTimeout) -> Result<bool, ureq::Error> {
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
