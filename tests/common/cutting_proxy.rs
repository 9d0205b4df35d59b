//! A TCP proxy on 127.0.0.1 that forwards every connection to an upstream and cuts one
//! that has been silent (no byte either way) for longer than a set time, as Cloudflare
//! (524 after about 100 s) and other gateways do to long non-streamed calls.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How often a pump looks at the clock while nothing moves.
const TICK: Duration = Duration::from_millis(10);

#[derive(Default)]
struct Shared {
    cuts: AtomicUsize,
    stop: AtomicBool,
}

/// The proxy; dropping it stops accepting (open connections end with their peers).
pub struct CuttingProxy {
    port: u16,
    shared: Arc<Shared>,
}

impl CuttingProxy {
    /// Forwards to `127.0.0.1:upstream`, cutting connections silent for longer than `silence`.
    pub fn start(upstream: u16, silence: Duration) -> CuttingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let accept_shared = Arc::clone(&shared);
        thread::spawn(move || {
            for client in listener.incoming() {
                if accept_shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                relay(client, server, silence, Arc::clone(&accept_shared));
            }
        });
        CuttingProxy { port, shared }
    }

    /// The base URL of the proxied API (`/v1` below the proxy).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// How many connections the proxy cut for their silence.
    pub fn cuts(&self) -> usize {
        self.shared.cuts.load(Ordering::SeqCst)
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Pumps both ways on two threads, sharing the time of the last byte; the first pump to
/// see `silence` pass cuts both sockets (counted once).
fn relay(client: TcpStream, server: TcpStream, silence: Duration, shared: Arc<Shared>) {
    let last = Arc::new(Mutex::new(Instant::now()));
    let cut = Arc::new(AtomicBool::new(false));
    let ends = [
        (client.try_clone().unwrap(), server.try_clone().unwrap()),
        (server, client),
    ];
    for (from, to) in ends {
        let (last, cut, shared) = (Arc::clone(&last), Arc::clone(&cut), Arc::clone(&shared));
        thread::spawn(move || pump(from, to, silence, &last, &cut, &shared));
    }
}

fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    silence: Duration,
    last: &Mutex<Instant>,
    cut: &AtomicBool,
    shared: &Shared,
) {
    from.set_read_timeout(Some(TICK)).unwrap();
    let mut buf = [0u8; 8192];
    loop {
        if cut.load(Ordering::SeqCst) {
            return;
        }
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                *last.lock().unwrap() = Instant::now();
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if last.lock().unwrap().elapsed() > silence {
                    if !cut.swap(true, Ordering::SeqCst) {
                        shared.cuts.fetch_add(1, Ordering::SeqCst);
                    }
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
