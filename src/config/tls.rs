//! The TLS and proxy settings of a [`Config`]: CA certificates, a client certificate, the
//! proxy. What they hold, and the PEM checks, are the crate's `tls` module.

use crate::error::ConfigProblem;
use crate::tls::ProxySetting;

use super::Config;

impl Config {
    /// Trust exactly the CA certificates in this PEM bundle (one or many), instead of the
    /// default roots, as curl's `--cacert` does.
    ///
    /// For a server with a private CA (self-hosted vLLM or llama.cpp behind nginx) or a
    /// TLS-inspecting corporate proxy: pass the CA's certificate, `-----BEGIN CERTIFICATE-----`
    /// blocks one after the other. [`Config::from_env`] reads the file named by
    /// `SSL_CERT_FILE` into this setting.
    ///
    /// PEM without a certificate, or one that is not X.509, makes every call fail with
    /// [`Error::Config`](crate::Error::Config) naming this setter, as does a build without TLS features.
    /// Defaults to the roots of the TLS feature in use: Mozilla's for `rustls`, the operating
    /// system's for `native-tls` and `platform-verifier`.
    pub fn ca_certificates_pem(mut self, pem: impl AsRef<[u8]>) -> Config {
        match crate::tls::ca_certificates(pem.as_ref()) {
            Ok(certs) => self.tls.ca_certificates = Some(certs),
            Err(reason) => self.note_invalid(ConfigProblem::Certificate(format!(
                "Config::ca_certificates_pem: {reason}"
            ))),
        }
        self
    }

    /// Present this client certificate to servers that ask for one (mutual TLS).
    ///
    /// `cert_chain_pem` holds the client certificate first, then any intermediates;
    /// `private_key_pem` its unencrypted private key (`BEGIN PRIVATE KEY`, `BEGIN RSA
    /// PRIVATE KEY` or `BEGIN EC PRIVATE KEY`; with the `native-tls` feature, PKCS#8
    /// `BEGIN PRIVATE KEY` only). RSA (2048 to 8192 bits), ECDSA P-256/P-384 and Ed25519
    /// keys are accepted (Ed25519 in PKCS#8 v2 with rustls, v1 with native-tls); see the
    /// guide [`guide::tls`](crate::guide::tls). [`Config::from_env`] reads the files named
    /// by `OPENAI_MTLS_CLIENT_CERT_FILE` and `OPENAI_MTLS_CLIENT_KEY_FILE` into this setting.
    ///
    /// Invalid PEM, a key of another kind, or a key that does not belong to the certificate
    /// makes every call fail with [`Error::Config`](crate::Error::Config) naming this setter. The key never
    /// appears in `Debug` output or errors. Defaults to none.
    pub fn client_certificate_pem(
        mut self,
        cert_chain_pem: impl AsRef<[u8]>,
        private_key_pem: impl AsRef<[u8]>,
    ) -> Config {
        match crate::tls::client_identity(cert_chain_pem.as_ref(), private_key_pem.as_ref()) {
            Ok(identity) => self.tls.client_certificate = Some(identity),
            Err((part, reason)) => {
                let argument = match part {
                    crate::tls::Part::Certificate => "cert_chain_pem",
                    crate::tls::Part::Key => "private_key_pem",
                };
                let source = format!("Config::client_certificate_pem ({argument})");
                self.note_invalid(ConfigProblem::Certificate(format!("{source}: {reason}")));
            }
        }
        self
    }

    /// Send every request through this proxy, whatever the environment says.
    ///
    /// `http://host:port` is an HTTP proxy that opens a tunnel with `CONNECT`;
    /// `socks5://host:port` (the client resolves the host name), `socks5h://host:port` (the
    /// proxy resolves it), `socks4://` and `socks4a://` are SOCKS proxies. Credentials go
    /// in the URL, percent-encoded: `http://user:password@host:port`; they never appear in
    /// `Debug` output or errors. `NO_PROXY` does not apply to a proxy set here. SOCKS needs
    /// the crate's feature `socks`: without it, a SOCKS proxy, set here or in the
    /// environment, makes every call fail with [`Error::Config`](crate::Error::Config) saying so.
    ///
    /// A URL that is not a proxy URL makes every call fail with [`Error::Config`](crate::Error::Config).
    /// Defaults to the environment, as ureq reads it when the client is made: the first
    /// of `ALL_PROXY`, `all_proxy`, `HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY`,
    /// `http_proxy` that holds a valid proxy URL is used for every request (`http://` and
    /// `https://` alike), except to the hosts listed in `NO_PROXY` (or `no_proxy`):
    /// comma-separated exact names (`localhost`, `127.0.0.1`), `.example.com` or
    /// `*.example.com` for subdomains, `*` for all.
    ///
    /// ```
    /// use sync_openai::Config;
    ///
    /// let config = Config::new().proxy("http://alice:s3cret@proxy.corp.example:3128");
    /// assert!(!format!("{config:?}").contains("s3cret"));
    /// ```
    pub fn proxy(mut self, url: impl AsRef<str>) -> Config {
        match crate::tls::parse_proxy(url.as_ref()) {
            Ok(proxy) => {
                let proxy = ProxySetting::Url(proxy);
                if let Some(shown) = proxy.unusable_socks(&self.base_url) {
                    self.note_invalid(ConfigProblem::SocksWithoutFeature(shown, false));
                }
                self.proxy = proxy;
            }
            Err(shown) => self.note_invalid(ConfigProblem::ProxyUrl(shown)),
        }
        self
    }

    /// Connect directly, ignoring `ALL_PROXY`, `HTTPS_PROXY` and `HTTP_PROXY`.
    /// Defaults to the proxy from the environment; see [`proxy`](Config::proxy).
    pub fn no_proxy(mut self) -> Config {
        self.proxy = ProxySetting::Off;
        self
    }
}
