//! TLS, certificates and proxies against real servers on 127.0.0.1: a rustls HTTPS server with
//! certificates generated at test time, a silent server, an HTTP CONNECT proxy and a SOCKS5
//! proxy. Runs under every feature set (`scripts/tls-matrix.sh`, `.ci/run`): with
//! `native-tls` the client side is OpenSSL, with `platform-verifier` rustls with the OS store.
#![allow(unsafe_code)] // edition 2024: std::env::set_var and remove_var are unsafe
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // a failed unwrap or index is a failed test

mod common;

use std::sync::{Mutex, MutexGuard};

use sync_openai::error::TransportErrorKind;
use sync_openai::types::{ChatCompletionRequestMessage as Message, CreateChatCompletionRequest};
use sync_openai::{ChatApi, Config, Error};

/// Tests here change process-wide environment variables (SSL_CERT_FILE, ALL_PROXY, …) that the
/// TLS stacks and ureq read when a client is made: they run one at a time.
static ENV: Mutex<()> = Mutex::new(());

fn env_lock() -> MutexGuard<'static, ()> {
    ENV.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn request() -> CreateChatCompletionRequest {
    CreateChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("Hello")])
}

/// A configuration for this server with retries off and no proxy from the environment.
fn config(base_url: String) -> Config {
    Config::new()
        .api_key(common::KEY)
        .base_url(base_url)
        .max_retries(0)
        .no_proxy()
}

fn transport(error: Error) -> (TransportErrorKind, String) {
    match error {
        Error::Transport(e) => (e.kind(), e.to_string()),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

fn config_message(error: Error) -> String {
    match error {
        Error::Config(e) => e.to_string(),
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[cfg(any(
    feature = "rustls",
    feature = "native-tls",
    feature = "platform-verifier"
))]
mod with_tls {
    use super::common::tls::{ConnectProxy, Pki, ProxyMode, SilentServer, Socks5Proxy, TlsServer};
    use super::*;
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    fn pki() -> &'static Pki {
        static PKI: OnceLock<Pki> = OnceLock::new();
        PKI.get_or_init(Pki::generate)
    }

    /// A JSON call and a streaming call, as a user makes them.
    fn assert_both_calls_work(api: &ChatApi) {
        let completion = api.create_chat_completion(&request()).unwrap();
        assert_eq!(
            completion.choices[0].message.content.as_deref(),
            Some("over TLS")
        );
        let streamed = api
            .create_chat_completion_stream(&request())
            .unwrap()
            .collect_completion()
            .unwrap();
        assert_eq!(
            streamed.choices[0].message.content.as_deref(),
            Some("over TLS")
        );
    }

    #[test]
    fn trusted_through_ca_certificates_pem() {
        let _env = env_lock();
        let server = TlsServer::start(&pki().server, None);
        let api = ChatApi::new(config(server.base_url()).ca_certificates_pem(&pki().ca_pem));
        assert_both_calls_work(&api);
        assert_eq!(
            *server.requests.lock().unwrap(),
            ["POST /v1/chat/completions", "POST /v1/chat/completions"]
        );
    }

    #[test]
    fn a_bundle_of_several_cas_is_trusted() {
        let _env = env_lock();
        let server = TlsServer::start(&pki().server, None);
        // Another CA first, then the right one, as in a system bundle.
        let bundle = format!("{}\n{}", pki().untrusted.cert_pem, pki().ca_pem);
        let api = ChatApi::new(config(server.base_url()).ca_certificates_pem(bundle));
        assert_both_calls_work(&api);
    }

    #[test]
    fn trusted_through_ssl_cert_file() {
        let _env = env_lock();
        let server = TlsServer::start(&pki().server, None);
        let dir = std::env::temp_dir().join(format!("sync-openai-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bundle = dir.join("ca.pem");
        std::fs::write(&bundle, &pki().ca_pem).unwrap();
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::set_var("SSL_CERT_FILE", &bundle) };
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::set_var("OPENAI_BASE_URL", server.base_url()) };
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::set_var("OPENAI_API_KEY", common::KEY) };
        let result = ChatApi::from_env().map(|api| {
            let api = ChatApi::new(api.config().clone().max_retries(0).no_proxy());
            assert_both_calls_work(&api);
        });
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::remove_var("SSL_CERT_FILE") };
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::remove_var("OPENAI_BASE_URL") };
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::remove_var("OPENAI_API_KEY") };
        let _ = std::fs::remove_dir_all(&dir);
        result.unwrap();
        assert_eq!(server.request_count(), 2);
    }

    #[test]
    fn untrusted_server_is_a_tls_error_that_names_the_fix() {
        let _env = env_lock();
        // Signed by a CA in no trust store: neither Mozilla's, nor the OS's, nor ours.
        let server = TlsServer::start(&pki().untrusted, None);
        let api = ChatApi::new(config(server.base_url()));
        let (kind, message) = transport(api.create_chat_completion(&request()).unwrap_err());
        assert_eq!(kind, TransportErrorKind::Tls, "{message}");
        assert!(message.contains("unknown issuer"), "{message}");
        assert!(message.contains("Config::ca_certificates_pem"), "{message}");
        assert!(message.contains("SSL_CERT_FILE"), "{message}");
        // Also when another CA is given explicitly.
        let api = ChatApi::new(config(server.base_url()).ca_certificates_pem(&pki().ca_pem));
        let (kind, message) = transport(api.create_chat_completion(&request()).unwrap_err());
        assert_eq!(kind, TransportErrorKind::Tls, "{message}");
        assert!(message.contains("unknown issuer"), "{message}");
        assert_eq!(server.request_count(), 0);
    }

    #[test]
    fn wrong_name_is_a_tls_error() {
        let _env = env_lock();
        let server = TlsServer::start(&pki().wrong_name, None);
        let api = ChatApi::new(config(server.base_url()).ca_certificates_pem(&pki().ca_pem));
        let (kind, message) = transport(api.create_chat_completion(&request()).unwrap_err());
        assert_eq!(kind, TransportErrorKind::Tls, "{message}");
        assert!(message.contains("name mismatch"), "{message}");
        assert_eq!(server.request_count(), 0);
    }

    #[test]
    fn expired_certificate_is_a_tls_error() {
        let _env = env_lock();
        let server = TlsServer::start(&pki().expired, None);
        let api = ChatApi::new(config(server.base_url()).ca_certificates_pem(&pki().ca_pem));
        let (kind, message) = transport(api.create_chat_completion(&request()).unwrap_err());
        assert_eq!(kind, TransportErrorKind::Tls, "{message}");
        assert!(message.contains("expired"), "{message}");
        assert_eq!(server.request_count(), 0);
    }

    #[test]
    fn server_requiring_a_client_certificate() {
        let _env = env_lock();
        let server = TlsServer::start(&pki().server, Some(&pki().ca_pem));
        let without = ChatApi::new(config(server.base_url()).ca_certificates_pem(&pki().ca_pem));
        let (kind, message) = transport(without.create_chat_completion(&request()).unwrap_err());
        assert_eq!(kind, TransportErrorKind::Tls, "{message}");
        assert!(message.contains("client certificate"), "{message}");
        assert!(
            message.contains("Config::client_certificate_pem"),
            "{message}"
        );
        assert_eq!(server.request_count(), 0);

        let client = &pki().client;
        let with = ChatApi::new(
            config(server.base_url())
                .ca_certificates_pem(&pki().ca_pem)
                .client_certificate_pem(&client.cert_pem, &client.key_pem),
        );
        assert_both_calls_work(&with);
        assert_eq!(server.request_count(), 2);
    }

    #[test]
    fn client_keys_of_every_supported_kind_work_and_others_are_refused_up_front() {
        use super::common::tls::fixture_key;
        let _env = env_lock();
        let server = TlsServer::start(&pki().server, Some(&pki().ca_pem));
        let native = cfg!(feature = "native-tls");
        let (p384_cert, p384_key) = pki().client_of_kind(&rcgen::PKCS_ECDSA_P384_SHA384);
        let (ed_cert, ed_key) = pki().client_of_kind(&rcgen::PKCS_ED25519);
        let ed_v1_cert = pki().client_certificate_for(&fixture_key("ed25519-v1.pem"));
        let rsa_cert = pki().client_certificate_for(&fixture_key("rsa-2048.pem"));
        let ec_cert = pki().client_certificate_for(&fixture_key("ec-p256.pem"));
        let pkcs8_only = "native-tls needs the key in PKCS#8";
        // (what, certificate, key, None for success or the start of the config error)
        let cases: Vec<(&str, String, String, Option<&str>)> = vec![
            (
                "RSA 2048 PKCS#8",
                rsa_cert.clone(),
                fixture_key("rsa-2048.pem"),
                None,
            ),
            (
                "RSA 2048 PKCS#1",
                rsa_cert.clone(),
                fixture_key("rsa-2048.pkcs1.pem"),
                native.then_some(pkcs8_only),
            ),
            (
                "P-256 PKCS#8",
                ec_cert.clone(),
                fixture_key("ec-p256.pem"),
                None,
            ),
            (
                "P-256 SEC1",
                ec_cert.clone(),
                fixture_key("ec-p256.sec1.pem"),
                native.then_some(pkcs8_only),
            ),
            ("P-384", p384_cert, p384_key, None),
            // ring writes Ed25519 keys as PKCS#8 v2 (which OpenSSL cannot read), OpenSSL as
            // v1 (without the public key, so they cannot be checked before rustls sees them).
            (
                "Ed25519 PKCS#8 v2",
                ed_cert,
                ed_key,
                native.then_some("native-tls (OpenSSL) cannot read an Ed25519 key in PKCS#8 v2"),
            ),
            (
                "Ed25519 PKCS#8 v1",
                ed_v1_cert,
                fixture_key("ed25519-v1.pem"),
                (!native).then_some("the Ed25519 key does not include its public key"),
            ),
            (
                "RSA 1024",
                rsa_cert.clone(),
                fixture_key("rsa-1024.pem"),
                Some("the RSA key has 1024 bits"),
            ),
            (
                "Ed25519 PKCS#8 v1, RSA certificate",
                rsa_cert.clone(),
                fixture_key("ed25519-v1.pem"),
                Some(if native {
                    "the private key does not belong"
                } else {
                    "the Ed25519 key does not include its public key"
                }),
            ),
            (
                "P-521",
                rsa_cert.clone(),
                fixture_key("ec-p521.pem"),
                Some("the private key is of a kind this client cannot use"),
            ),
            (
                "RSA key, P-256 certificate",
                ec_cert,
                fixture_key("rsa-2048.pem"),
                Some("the private key does not belong"),
            ),
            (
                "P-256 key, RSA certificate",
                rsa_cert,
                fixture_key("ec-p256.pem"),
                Some("the private key does not belong"),
            ),
        ];
        let mut succeeded = 0;
        for (what, cert, key, refused) in cases {
            let api = ChatApi::new(
                config(server.base_url())
                    .ca_certificates_pem(&pki().ca_pem)
                    .client_certificate_pem(&cert, &key),
            );
            let result = api.create_chat_completion(&request());
            match refused {
                None => {
                    let completion = result.unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert_eq!(
                        completion.choices[0].message.content.as_deref(),
                        Some("over TLS")
                    );
                    succeeded += 1;
                }
                Some(start) => {
                    let message = config_message(result.unwrap_err());
                    let expected =
                        format!("Config::client_certificate_pem (private_key_pem): {start}");
                    assert!(message.starts_with(&expected), "{what}: {message}");
                }
            }
        }
        assert_eq!(server.request_count(), succeeded);
        assert_eq!(succeeded, if native { 4 } else { 6 });
    }

    #[test]
    fn client_certificate_from_the_environment() {
        let _env = env_lock();
        let server = TlsServer::start(&pki().server, Some(&pki().ca_pem));
        let dir = std::env::temp_dir().join(format!("sync-openai-mtls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (ca, cert, key) = (
            dir.join("ca.pem"),
            dir.join("client.pem"),
            dir.join("key.pem"),
        );
        std::fs::write(&ca, &pki().ca_pem).unwrap();
        std::fs::write(&cert, &pki().client.cert_pem).unwrap();
        std::fs::write(&key, &pki().client.key_pem).unwrap();
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::set_var("SSL_CERT_FILE", &ca) };
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::set_var("OPENAI_MTLS_CLIENT_CERT_FILE", &cert) };
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::set_var("OPENAI_MTLS_CLIENT_KEY_FILE", &key) };
        let config = Config::from_env()
            .api_key(common::KEY)
            .base_url(server.base_url())
            .max_retries(0)
            .no_proxy();
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::remove_var("SSL_CERT_FILE") };
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::remove_var("OPENAI_MTLS_CLIENT_CERT_FILE") };
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::remove_var("OPENAI_MTLS_CLIENT_KEY_FILE") };
        let _ = std::fs::remove_dir_all(&dir);
        assert_both_calls_work(&ChatApi::new(config));
        assert_eq!(server.request_count(), 2);
    }

    #[test]
    fn handshake_stall_is_bounded_by_connect_timeout() {
        let _env = env_lock();
        let server = SilentServer::start();
        let api = ChatApi::new(
            config(server.base_url())
                .ca_certificates_pem(&pki().ca_pem)
                .connect_timeout(Duration::from_millis(300))
                .timeout(Duration::from_secs(600)),
        );
        let started = Instant::now();
        let (kind, message) = transport(api.create_chat_completion(&request()).unwrap_err());
        assert_eq!(kind, TransportErrorKind::Timeout, "{message}");
        // Generous: the point is that the 10-minute request timeout did not apply.
        assert!(started.elapsed() < Duration::from_secs(60), "{message}");
    }

    #[test]
    fn invalid_pem_is_a_config_error_naming_the_setter() {
        let _env = env_lock();
        let call = |config: Config| {
            config_message(
                ChatApi::new(config)
                    .create_chat_completion(&request())
                    .unwrap_err(),
            )
        };
        let base = || config("https://127.0.0.1:9/v1".to_owned());
        let message = call(base().ca_certificates_pem("not a certificate"));
        assert!(
            message.starts_with("Config::ca_certificates_pem: no certificate in the PEM"),
            "{message}"
        );
        let broken = "-----BEGIN CERTIFICATE-----\nAAAA\n";
        let message = call(base().ca_certificates_pem(broken));
        assert!(message.contains("malformed"), "{message}");

        let client = &pki().client;
        let message = call(base().client_certificate_pem("", &client.key_pem));
        assert!(
            message.starts_with("Config::client_certificate_pem (cert_chain_pem): no certificate"),
            "{message}"
        );
        let message = call(base().client_certificate_pem(&client.cert_pem, "nothing"));
        assert!(
            message.starts_with("Config::client_certificate_pem (private_key_pem): no private key"),
            "{message}"
        );
        // The server's key does not belong to the client's certificate.
        let message = call(base().client_certificate_pem(&client.cert_pem, &pki().server.key_pem));
        assert!(message.contains("does not belong"), "{message}");
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let message = call(base().client_certificate_pem(&client.cert_pem, encrypted));
        assert!(message.contains("encrypted"), "{message}");
        assert!(!message.contains("AAAA"), "{message}");
    }

    #[test]
    fn unreadable_or_invalid_files_name_the_variable_and_path() {
        let _env = env_lock();
        let missing = std::env::temp_dir().join("sync-openai-no-such-dir/ca.pem");
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::set_var("SSL_CERT_FILE", &missing) };
        let message = config_message(Config::from_env().validate().unwrap_err());
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::remove_var("SSL_CERT_FILE") };
        assert!(
            message.starts_with(&format!(
                "SSL_CERT_FILE={}: the file cannot be read",
                missing.display()
            )),
            "{message}"
        );

        let dir = std::env::temp_dir().join(format!("sync-openai-badpem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_pem = dir.join("not.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::set_var("SSL_CERT_FILE", &not_pem) };
        let message = config_message(Config::from_env().validate().unwrap_err());
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::remove_var("SSL_CERT_FILE") };
        assert!(
            message.starts_with(&format!(
                "SSL_CERT_FILE={}: no certificate",
                not_pem.display()
            )),
            "{message}"
        );

        let cert = dir.join("client.pem");
        std::fs::write(&cert, &pki().client.cert_pem).unwrap();
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::set_var("OPENAI_MTLS_CLIENT_CERT_FILE", &cert) };
        let message = config_message(Config::from_env().validate().unwrap_err());
        assert!(message.contains("OPENAI_MTLS_CLIENT_KEY_FILE"), "{message}");
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::set_var("OPENAI_MTLS_CLIENT_KEY_FILE", &not_pem) };
        let message = config_message(Config::from_env().validate().unwrap_err());
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::remove_var("OPENAI_MTLS_CLIENT_CERT_FILE") };
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::remove_var("OPENAI_MTLS_CLIENT_KEY_FILE") };
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            message.starts_with(&format!(
                "OPENAI_MTLS_CLIENT_KEY_FILE={}: no private key",
                not_pem.display()
            )),
            "{message}"
        );
    }

    #[test]
    fn debug_shows_that_certificates_are_set_never_the_key() {
        let client = &pki().client;
        let config = Config::new()
            .api_key(common::KEY)
            .ca_certificates_pem(&pki().ca_pem)
            .client_certificate_pem(&client.cert_pem, &client.key_pem)
            .proxy("http://alice:s3cret@127.0.0.1:3128");
        let shown = format!("{config:?}");
        assert!(shown.contains("1 certificate(s)"), "{shown}");
        assert!(shown.contains("set (key redacted)"), "{shown}");
        assert!(
            shown.contains("http://127.0.0.1:3128 (credentials redacted)"),
            "{shown}"
        );
        let key_line = client.key_pem.lines().nth(1).unwrap();
        assert!(!shown.contains(key_line), "{shown}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("alice"),
            "{shown}"
        );
        assert!(config.validate().is_ok());
    }

    #[test]
    fn http_connect_proxy_carries_a_tls_call() {
        let _env = env_lock();
        let server = TlsServer::start(&pki().server, None);
        let proxy = ConnectProxy::start(ProxyMode::Open);
        let api = ChatApi::new(
            config(server.base_url())
                .ca_certificates_pem(&pki().ca_pem)
                .proxy(proxy.url()),
        );
        assert_both_calls_work(&api);
        let target = format!("127.0.0.1:{}", server.addr.port());
        assert_eq!(proxy.tunnels(), [(target.clone(), 200), (target, 200)]);
        assert_eq!(server.request_count(), 2);
    }

    #[test]
    fn proxy_with_credentials() {
        let _env = env_lock();
        let server = TlsServer::start(&pki().server, None);
        let proxy = ConnectProxy::start(ProxyMode::Credentials("alice", "s3cret"));
        let url = |userinfo: &str| format!("http://{userinfo}127.0.0.1:{}", proxy.addr.port());

        let api = ChatApi::new(
            config(server.base_url())
                .ca_certificates_pem(&pki().ca_pem)
                .proxy(url("alice:s3cret@")),
        );
        assert_both_calls_work(&api);

        for userinfo in ["", "alice:wrong@"] {
            let api = ChatApi::new(
                config(server.base_url())
                    .ca_certificates_pem(&pki().ca_pem)
                    .proxy(url(userinfo)),
            );
            let error = api.create_chat_completion(&request()).unwrap_err();
            let debug = format!("{error:?}");
            let (kind, message) = transport(error);
            assert_eq!(kind, TransportErrorKind::ProxyAuth, "{message}");
            assert!(message.contains("407"), "{message}");
            assert!(
                message.contains("http://user:password@host:port"),
                "{message}"
            );
            assert!(
                !debug.contains("wrong") && !message.contains("wrong"),
                "{debug}"
            );
        }
        let statuses: Vec<u16> = proxy.tunnels().iter().map(|t| t.1).collect();
        assert_eq!(statuses, [200, 200, 407, 407]);
        assert_eq!(server.request_count(), 2);
    }

    #[test]
    fn proxy_refusing_connect_is_a_typed_error() {
        let _env = env_lock();
        let server = TlsServer::start(&pki().server, None);
        let proxy = ConnectProxy::start(ProxyMode::Refuse);
        let api = ChatApi::new(
            config(server.base_url())
                .ca_certificates_pem(&pki().ca_pem)
                .proxy(proxy.url()),
        );
        let (kind, message) = transport(api.create_chat_completion(&request()).unwrap_err());
        assert_eq!(kind, TransportErrorKind::Proxy, "{message}");
        assert!(message.contains("403"), "{message}");
        assert!(message.contains("refused"), "{message}");
        assert_eq!(server.request_count(), 0);
    }

    #[test]
    fn socks5_proxy_carries_a_tls_call() {
        let _env = env_lock();
        let server = TlsServer::start(&pki().server, None);
        let proxy = Socks5Proxy::start();
        let api = ChatApi::new(
            config(server.base_url())
                .ca_certificates_pem(&pki().ca_pem)
                .proxy(proxy.url()),
        );
        assert_both_calls_work(&api);
        let target = format!("127.0.0.1:{}", server.addr.port());
        assert_eq!(proxy.targets(), [target.clone(), target]);
    }

    #[test]
    fn all_proxy_from_the_environment_is_honoured_by_config_new() {
        let _env = env_lock();
        let server = TlsServer::start(&pki().server, None);
        let proxy = Socks5Proxy::start();
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::set_var("ALL_PROXY", proxy.url()) };
        let through = ChatApi::new(
            Config::new()
                .api_key(common::KEY)
                .base_url(server.base_url())
                .max_retries(0)
                .ca_certificates_pem(&pki().ca_pem),
        );
        let direct = ChatApi::new(config(server.base_url()).ca_certificates_pem(&pki().ca_pem));
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::set_var("NO_PROXY", "127.0.0.1") };
        let bypassed = ChatApi::new(
            Config::new()
                .api_key(common::KEY)
                .base_url(server.base_url())
                .max_retries(0)
                .ca_certificates_pem(&pki().ca_pem),
        );
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::remove_var("ALL_PROXY") };
        // SAFETY: under env_lock(), held by every test here that reads the environment.
        unsafe { std::env::remove_var("NO_PROXY") };
        through.create_chat_completion(&request()).unwrap();
        assert_eq!(proxy.targets().len(), 1);
        // Config::no_proxy ignores ALL_PROXY; NO_PROXY lists hosts reached directly.
        direct.create_chat_completion(&request()).unwrap();
        bypassed.create_chat_completion(&request()).unwrap();
        assert_eq!(proxy.targets().len(), 1);
        assert_eq!(server.request_count(), 3);
    }

    #[test]
    fn invalid_proxy_url_is_a_config_error_without_the_password() {
        let message = config_message(
            Config::new()
                .api_key(common::KEY)
                .proxy("ftp://alice:s3cret@127.0.0.1:21")
                .validate()
                .unwrap_err(),
        );
        assert!(
            message
                .starts_with("Config::proxy: `ftp://<redacted>@127.0.0.1:21` is not a proxy URL"),
            "{message}"
        );
        assert!(!message.contains("s3cret"));
    }
}

/// Without any TLS feature an `https://` URL is refused before sending, naming the features.
#[cfg(not(any(
    feature = "rustls",
    feature = "native-tls",
    feature = "platform-verifier"
)))]
#[test]
fn https_without_tls_features_names_them() {
    let api = ChatApi::new(config("https://127.0.0.1:9/v1".to_owned()));
    let message = config_message(api.create_chat_completion(&request()).unwrap_err());
    assert_eq!(
        message,
        "base URL https://127.0.0.1:9/v1 is https:// but this build of sync-openai has no TLS: enable one of its features rustls (the default), native-tls or platform-verifier"
    );
    let message = config_message(
        Config::new()
            .ca_certificates_pem("-----BEGIN CERTIFICATE-----\n")
            .base_url("http://127.0.0.1:9/v1")
            .validate()
            .unwrap_err(),
    );
    assert!(
        message.starts_with("Config::ca_certificates_pem: this build"),
        "{message}"
    );
    let _ = transport;
    let _ = env_lock;
}
