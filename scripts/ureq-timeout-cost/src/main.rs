//! ureq 3.5: a whole-call timeout (`timeout_per_call`, `timeout_global`, or
//! `timeout_resolve`) costs tens of microseconds on every request, even on a reused
//! keep-alive connection.
//!
//! Cause (ureq-3.5.2/src/run.rs `connect`): the host is resolved on every call *before*
//! the pool is asked for an idle connection, and `DefaultResolver::resolve`
//! (unversioned/resolver.rs) spawns a thread for the lookup whenever the resolve phase
//! has a deadline — which `timeout_per_call` and `timeout_global` always give it. So a
//! request over a pooled connection to `127.0.0.1` spawns and joins one OS thread just
//! to parse an IP literal whose answer is then thrown away.
//!
//! This program serves a fixed 1 KiB answer from an in-process keep-alive server and
//! times sequential requests on one agent per setting (interleaved, median of rounds).
//! A resolver that counts its calls shows the lookup on every request; the last row
//! wraps the default resolver to skip the thread for IP literals, and its cost is gone.
//!
//! Run: `cargo run --release --manifest-path scripts/ureq-timeout-cost/Cargo.toml`
#![allow(clippy::unwrap_used, clippy::expect_used)] // a reproduction stops at the first surprise

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use ureq::Agent;

/// Counts `resolve` calls; optionally answers IP literals itself, without a thread.
#[derive(Debug)]
struct Counting {
    calls: Arc<AtomicUsize>,
    literal_fast_path: bool,
    inner: DefaultResolver,
}

impl Resolver for Counting {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if self.literal_fast_path {
            let host = uri.host().unwrap_or_default();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if let (Ok(ip), Some(port)) = (host.parse(), uri.port_u16()) {
                let mut out = self.empty();
                out.push(SocketAddr::new(ip, port));
                return Ok(out);
            }
        }
        self.inner.resolve(uri, config, timeout)
    }
}

fn serve(stream: TcpStream, answer: &[u8]) {
    stream.set_nodelay(true).ok();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        let mut length = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() || writer.write_all(answer).is_err() {
            return;
        }
    }
}

fn main() {
    let requests: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(1000));
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let answer = Arc::clone(&answer);
            std::thread::spawn(move || serve(stream, &answer));
        }
    });

    let long = Some(Duration::from_secs(600));
    type Setting = fn(
        ureq::config::ConfigBuilder<ureq::typestate::AgentScope>,
        Option<Duration>,
    ) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope>;
    let settings: Vec<(&str, Setting, bool)> = vec![
        ("no timeout", |b, _| b, false),
        ("timeout_per_call", |b, t| b.timeout_per_call(t), false),
        ("timeout_global", |b, t| b.timeout_global(t), false),
        ("timeout_resolve", |b, t| b.timeout_resolve(t), false),
        ("timeout_connect", |b, t| b.timeout_connect(t), false),
        (
            "timeout_recv_response + timeout_recv_body",
            |b, t| b.timeout_recv_response(t).timeout_recv_body(t),
            false,
        ),
        (
            "timeout_per_call, IP literal resolved without a thread",
            |b, t| b.timeout_per_call(t),
            true,
        ),
    ];
    let agents: Vec<(Agent, Arc<AtomicUsize>)> = settings
        .iter()
        .map(|(_, set, fast)| {
            let calls = Arc::new(AtomicUsize::new(0));
            let config = set(Agent::config_builder(), long).build();
            let resolver = Counting {
                calls: Arc::clone(&calls),
                literal_fast_path: *fast,
                inner: DefaultResolver::default(),
            };
            (
                Agent::with_parts(config, DefaultConnector::default(), resolver),
                calls,
            )
        })
        .collect();

    let one = |agent: &Agent| {
        let mut resp = agent.post(&url).send(&b"{\"hello\":1}"[..]).unwrap();
        let bytes = resp.body_mut().read_to_vec().unwrap();
        assert_eq!(bytes.len(), body.len());
    };
    for (agent, _) in &agents {
        for _ in 0..100 {
            one(agent); // warm up: connect, fill caches
        }
    }
    let mut medians: Vec<Vec<f64>> = vec![Vec::new(); agents.len()];
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(requests); agents.len()];
    for round in 0..rounds {
        for t in &mut times {
            t.clear();
        }
        for i in 0..requests {
            for j in 0..agents.len() {
                let a = (i + j + round) % agents.len();
                let start = Instant::now();
                one(&agents[a].0);
                times[a].push(start.elapsed().as_secs_f64() * 1e6);
            }
        }
        for (a, t) in times.iter_mut().enumerate() {
            t.sort_by(f64::total_cmp);
            medians[a].push(t[t.len() / 2]);
        }
    }
    let total = requests * rounds + 100;
    println!("{requests} requests x {rounds} rounds per agent, one keep-alive connection each; median request of each round, then median of rounds");
    println!(
        "{:<58} {:>8} {:>16}",
        "agent setting (600 s)", "µs/req", "resolve calls"
    );
    let base = {
        let mut m = medians[0].clone();
        m.sort_by(f64::total_cmp);
        m[m.len() / 2]
    };
    for (((name, _, _), (_, calls)), m) in settings.iter().zip(&agents).zip(&medians) {
        let mut m = m.clone();
        m.sort_by(f64::total_cmp);
        let med = m[m.len() / 2];
        println!(
            "{name:<58} {med:>8.1} {:>16} ({:.2}x)",
            format!("{}/{total}", calls.load(Ordering::Relaxed)),
            med / base
        );
    }
}
