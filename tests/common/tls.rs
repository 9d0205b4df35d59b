//! Real servers for the TLS and proxy tests: certificates generated at test time (rcgen), an
//! HTTPS server on 127.0.0.1 (rustls), a server that accepts TCP and never speaks, an HTTP
//! CONNECT proxy (with or without credentials, or refusing) and a SOCKS5 proxy.
//!
//! Every server binds 127.0.0.1 on a free port and stops when dropped.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test servers: a failed unwrap or index is a failed test

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate and its key, in DER (for the server) and PEM (for the client).
pub struct Issued {
    pub cert_der: CertificateDer<'static>,
    pub key_der: Vec<u8>,
    pub cert_pem: String,
    pub key_pem: String,
}

/// A test PKI: a CA, server certificates signed by it (valid for 127.0.0.1 and localhost,
/// for another name, expired), a client certificate, and a second CA nobody trusts.
pub struct Pki {
    pub ca_pem: String,
    pub server: Issued,
    pub wrong_name: Issued,
    pub expired: Issued,
    pub client: Issued,
    /// A server certificate for 127.0.0.1 signed by a CA that no test trusts.
    pub untrusted: Issued,
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

fn new_ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    (params.self_signed(&key).unwrap(), key)
}

fn issue(
    names: &[&str],
    client: bool,
    expired: bool,
    ca: &rcgen::Certificate,
    ca_key: &KeyPair,
) -> Issued {
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "sync-openai test");
    params.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    if expired {
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2021, 1, 1);
    }
    let cert = params.signed_by(&key, ca, ca_key).unwrap();
    Issued {
        cert_der: cert.der().clone(),
        key_der: key.serialize_der(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

impl Pki {
    pub fn generate() -> Pki {
        let (ca, ca_key) = new_ca("sync-openai test CA");
        let (other_ca, other_key) = new_ca("sync-openai untrusted CA");
        Pki {
            ca_pem: ca.pem(),
            server: issue(&["127.0.0.1", "localhost"], false, false, &ca, &ca_key),
            wrong_name: issue(&["other.example"], false, false, &ca, &ca_key),
            expired: issue(&["127.0.0.1", "localhost"], false, true, &ca, &ca_key),
            client: issue(&["client.example"], true, false, &ca, &ca_key),
            untrusted: issue(
                &["127.0.0.1", "localhost"],
                false,
                false,
                &other_ca,
                &other_key,
            ),
            ca,
            ca_key,
        }
    }

    /// A client certificate (PEM) signed by the CA for this key (PKCS#8 PEM).
    pub fn client_certificate_for(&self, key_pem: &str) -> String {
        let key = KeyPair::from_pem(key_pem).unwrap();
        let mut params = CertificateParams::new(vec!["client.example".to_owned()]).unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params
            .signed_by(&key, &self.ca, &self.ca_key)
            .unwrap()
            .pem()
    }

    /// A client certificate and key (PEM) for a fresh key of this algorithm.
    pub fn client_of_kind(
        &self,
        algorithm: &'static rcgen::SignatureAlgorithm,
    ) -> (String, String) {
        let key = KeyPair::generate_for(algorithm).unwrap();
        let key_pem = key.serialize_pem();
        (self.client_certificate_for(&key_pem), key_pem)
    }
}

/// A key from `tests/fixtures/tls/` (made once with OpenSSL: rcgen with ring cannot make RSA keys).
pub fn fixture_key(name: &str) -> String {
    let path = format!("{}/tests/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap()
}

/// A completion body, as the HTTPS server answers a JSON call.
pub const COMPLETION: &str = r#"{"id":"chatcmpl-tls","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"over TLS"},"finish_reason":"stop"}]}"#;

/// The events the HTTPS server answers a streaming call with: "over" + " TLS".
pub const STREAM: &str = concat!(
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"over\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" TLS\"},\"finish_reason\":\"stop\"}]}\n\n",
    "data: [DONE]\n\n",
);

/// Stops a server's accept loop when dropped.
struct Stopper {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Drop for Stopper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Runs `serve` for every connection to a fresh 127.0.0.1 port, each in its own thread.
fn listen(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> (SocketAddr, Stopper) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let serve = Arc::new(serve);
    thread::spawn(move || {
        for stream in listener.incoming() {
            if stopping.load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else { continue };
            let serve = Arc::clone(&serve);
            thread::spawn(move || serve(stream));
        }
    });
    (addr, Stopper { addr, stop })
}

/// An HTTPS server on 127.0.0.1 with a real TLS stack (rustls), answering chat calls.
pub struct TlsServer {
    pub addr: SocketAddr,
    /// Requests answered (after a complete handshake), as `METHOD path`.
    pub requests: Arc<Mutex<Vec<String>>>,
    _stop: Stopper,
}

impl TlsServer {
    /// Serves with this certificate; with `client_ca`, requires a client certificate signed
    /// by that CA.
    pub fn start(identity: &Issued, client_ca: Option<&str>) -> TlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match client_ca {
            None => builder.with_no_client_auth(),
            Some(ca_pem) => {
                use rustls::pki_types::pem::PemObject;
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
                    roots.add(cert.unwrap()).unwrap();
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .unwrap();
                builder.with_client_cert_verifier(verifier)
            }
        };
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der.clone()));
        let config = Arc::new(
            builder
                .with_single_cert(vec![identity.cert_der.clone()], key)
                .unwrap(),
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let (addr, stop) = listen(move |tcp| {
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
            let Ok(conn) = rustls::ServerConnection::new(Arc::clone(&config)) else {
                return;
            };
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            // A failed handshake (the client refused our certificate, or we refused its)
            // ends here. rustls has sent its alert; close as nginx does (lingering): stop
            // writing, then read what the client still sends, so that the client reads the
            // alert rather than a reset.
            let Some((head, body)) = read_request(&mut tls) else {
                let tcp = &mut tls.sock;
                let _ = tcp.shutdown(Shutdown::Write);
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                let mut sink = [0u8; 4096];
                while matches!(tcp.read(&mut sink), Ok(n) if n > 0) {}
                return;
            };
            let line = head.lines().next().unwrap_or("").to_owned();
            let request_line: Vec<&str> = line.split(' ').collect();
            seen.lock().unwrap().push(format!(
                "{} {}",
                request_line[0],
                request_line.get(1).unwrap_or(&"")
            ));
            let streaming = String::from_utf8_lossy(&body).contains("\"stream\":true");
            let (content_type, payload) = if streaming {
                ("text/event-stream", STREAM)
            } else {
                ("application/json", COMPLETION)
            };
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nx-request-id: req_tls\r\nconnection: close\r\n\r\n{payload}",
                payload.len()
            );
            let _ = tls.write_all(response.as_bytes());
            tls.conn.send_close_notify();
            let _ = tls.flush();
        });
        TlsServer {
            addr,
            requests,
            _stop: stop,
        }
    }

    /// `https://127.0.0.1:PORT/v1`
    pub fn base_url(&self) -> String {
        format!("https://127.0.0.1:{}/v1", self.addr.port())
    }

    pub fn request_count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

/// Reads an HTTP/1.1 request head and its `content-length` body.
fn read_request(stream: &mut impl Read) -> Option<(String, Vec<u8>)> {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((head, body))
}

/// Accepts TCP connections and never says a word: a TLS handshake to it stalls.
pub struct SilentServer {
    pub addr: SocketAddr,
    _stop: Stopper,
}

impl SilentServer {
    pub fn start() -> SilentServer {
        let (addr, stop) = listen(|tcp| {
            // Hold the connection until the client gives up.
            let mut sink = [0u8; 1024];
            let mut tcp = tcp;
            while matches!(tcp.read(&mut sink), Ok(n) if n > 0) {}
        });
        SilentServer { addr, _stop: stop }
    }

    pub fn base_url(&self) -> String {
        format!("https://127.0.0.1:{}/v1", self.addr.port())
    }
}

/// What a proxy does with a tunnel request.
#[derive(Clone)]
pub enum ProxyMode {
    /// Opens every tunnel.
    Open,
    /// Asks for these Basic credentials (407 without them or with others).
    Credentials(&'static str, &'static str),
    /// Answers every CONNECT with 403.
    Refuse,
}

/// An HTTP CONNECT proxy on 127.0.0.1.
pub struct ConnectProxy {
    pub addr: SocketAddr,
    /// The `CONNECT` targets it was asked for, and the status it answered.
    pub tunnels: Arc<Mutex<Vec<(String, u16)>>>,
    _stop: Stopper,
}

impl ConnectProxy {
    pub fn start(mode: ProxyMode) -> ConnectProxy {
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&tunnels);
        let (addr, stop) = listen(move |mut client| {
            let Some((head, _)) = read_request(&mut client) else {
                return;
            };
            let line = head.lines().next().unwrap_or("").to_owned();
            let mut parts = line.split(' ');
            let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let authorization = head.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("proxy-authorization")
                    .then(|| value.trim().to_owned())
            });
            let status = match &mode {
                _ if method != "CONNECT" => 405,
                ProxyMode::Refuse => 403,
                ProxyMode::Credentials(user, password) => {
                    let expected = format!("Basic {}", base64(&format!("{user}:{password}")));
                    if authorization.as_deref() == Some(expected.as_str()) {
                        200
                    } else {
                        407
                    }
                }
                ProxyMode::Open => 200,
            };
            seen.lock().unwrap().push((target.to_owned(), status));
            if status != 200 {
                let reply = format!(
                    "HTTP/1.1 {status} No\r\nproxy-authenticate: Basic realm=\"test\"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = client.write_all(reply.as_bytes());
                return;
            }
            let Ok(upstream) = TcpStream::connect(target) else {
                let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
                return;
            };
            let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
            pipe(client, upstream);
        });
        ConnectProxy {
            addr,
            tunnels,
            _stop: stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    pub fn tunnels(&self) -> Vec<(String, u16)> {
        self.tunnels.lock().unwrap().clone()
    }
}

/// A SOCKS5 proxy on 127.0.0.1 without authentication (RFC 1928, CONNECT only).
pub struct Socks5Proxy {
    pub addr: SocketAddr,
    /// The targets it connected to.
    pub targets: Arc<Mutex<Vec<String>>>,
    _stop: Stopper,
}

impl Socks5Proxy {
    pub fn start() -> Socks5Proxy {
        let targets = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&targets);
        let (addr, stop) = listen(move |mut client| {
            let Some(target) = socks5_handshake(&mut client) else {
                return;
            };
            let Ok(upstream) = TcpStream::connect(&target) else {
                // Reply 5: connection refused.
                let _ = client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
                return;
            };
            seen.lock().unwrap().push(target);
            let _ = client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]);
            pipe(client, upstream);
        });
        Socks5Proxy {
            addr,
            targets,
            _stop: stop,
        }
    }

    pub fn url(&self) -> String {
        format!("socks5://127.0.0.1:{}", self.addr.port())
    }

    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().unwrap().clone()
    }
}

/// Greeting and CONNECT request; returns the target as `host:port`.
fn socks5_handshake(client: &mut TcpStream) -> Option<String> {
    let mut greeting = [0u8; 2];
    client.read_exact(&mut greeting).ok()?;
    let mut methods = vec![0u8; usize::from(greeting[1])];
    client.read_exact(&mut methods).ok()?;
    if greeting[0] != 5 || !methods.contains(&0) {
        let _ = client.write_all(&[5, 0xff]);
        return None;
    }
    client.write_all(&[5, 0]).ok()?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request).ok()?;
    if request[..2] != [5, 1] {
        return None;
    }
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).ok()?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len).ok()?;
            let mut name = vec![0u8; usize::from(len[0])];
            client.read_exact(&mut name).ok()?;
            String::from_utf8(name).ok()?
        }
        _ => return None,
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port).ok()?;
    Some(format!("{host}:{}", u16::from_be_bytes(port)))
}

/// Copies bytes both ways until either side closes.
fn pipe(client: TcpStream, upstream: TcpStream) {
    let (Ok(mut client_read), Ok(mut upstream_read)) = (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let (mut client_write, mut upstream_write) = (client, upstream);
    let up = thread::spawn(move || {
        let _ = std::io::copy(&mut client_read, &mut upstream_write);
        let _ = upstream_write.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut upstream_read, &mut client_write);
    let _ = client_write.shutdown(Shutdown::Write);
    let _ = up.join();
}

/// Standard base64 with padding, for the expected `Proxy-Authorization`.
pub fn base64(input: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
