//! TLS and proxy settings: the CA certificates and client certificate a [`Config`](crate::Config)
//! carries (read from PEM and checked when they are set), the proxy choice, and what a TLS or
//! proxy failure means for the user.
//!
//! The `ureq` TLS and proxy configuration is built from these in `agent.rs`, and failures are
//! explained in `transport_error.rs`; this module keeps the parts that do not depend on the
//! TLS provider, so that every feature combination sees the same checks.

use std::fmt;
use std::sync::Arc;

/// Whether this build can speak TLS at all (any of the three TLS features).
pub(crate) const ENABLED: bool = cfg!(any(
    feature = "rustls",
    feature = "native-tls",
    feature = "platform-verifier"
));

/// The name the user sees for the TLS stack in use, for messages.
pub(crate) const PROVIDER: &str = if cfg!(feature = "native-tls") {
    "native-tls with the operating system's trust store"
} else if cfg!(feature = "platform-verifier") {
    "rustls with the operating system's trust store (platform-verifier)"
} else if cfg!(feature = "rustls") {
    "rustls with Mozilla's root certificates"
} else {
    "no TLS"
};

/// Certificates set on a `Config`, in DER, checked when they were set.
#[derive(Clone, Default)]
pub(crate) struct TlsSettings {
    /// Trust exactly these CA certificates instead of the default roots.
    pub(crate) ca_certificates: Option<Arc<[Vec<u8>]>>,
    /// Present this client certificate (mutual TLS).
    pub(crate) client_certificate: Option<Arc<ClientIdentity>>,
}

impl fmt::Debug for TlsSettings {
    /// Shows what is set, never certificate or key bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("provider", &PROVIDER)
            .field(
                "ca_certificates",
                &self
                    .ca_certificates
                    .as_ref()
                    .map(|c| format!("{} certificate(s)", c.len())),
            )
            .field(
                "client_certificate",
                &self
                    .client_certificate
                    .as_ref()
                    .map(|_| "set (key redacted)"),
            )
            .finish()
    }
}

/// A client certificate chain (DER) and its private key.
// Without TLS no identity can be made (the PEM parser refuses), so nothing reads these.
#[cfg_attr(
    not(any(
        feature = "rustls",
        feature = "native-tls",
        feature = "platform-verifier"
    )),
    allow(dead_code)
)]
pub(crate) struct ClientIdentity {
    pub(crate) chain: Vec<Vec<u8>>,
    pub(crate) key: Key,
}

/// A private key as ureq holds it (ureq does not export the type of its kind, so a key can
/// only be made by its PEM parser).
#[cfg(any(
    feature = "rustls",
    feature = "native-tls",
    feature = "platform-verifier"
))]
pub(crate) type Key = ureq::tls::PrivateKey<'static>;

/// Without TLS no key can be read: the PEM parser refuses every input.
#[cfg(not(any(
    feature = "rustls",
    feature = "native-tls",
    feature = "platform-verifier"
)))]
pub(crate) type Key = std::convert::Infallible;

/// The encoding of a private key, as its PEM label says.
// Without TLS no key is read, so only the default is named.
#[cfg_attr(
    not(any(
        feature = "rustls",
        feature = "native-tls",
        feature = "platform-verifier"
    )),
    allow(dead_code)
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// `BEGIN RSA PRIVATE KEY`
    Pkcs1,
    /// `BEGIN PRIVATE KEY`
    Pkcs8,
    /// `BEGIN EC PRIVATE KEY`
    Sec1,
}

/// Where the proxy comes from.
#[derive(Clone, Default)]
pub(crate) enum ProxySetting {
    /// `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` (and lowercase) and `NO_PROXY`, as ureq reads them.
    #[default]
    FromEnv,
    /// No proxy, whatever the environment says.
    Off,
    /// This proxy.
    Url(ureq::Proxy),
}

impl fmt::Debug for ProxySetting {
    /// The protocol, host and port; never the credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySetting::FromEnv => f.write_str("FromEnv"),
            ProxySetting::Off => f.write_str("Off"),
            ProxySetting::Url(proxy) => {
                let credentials = proxy.username().is_some() || proxy.password().is_some();
                write!(
                    f,
                    "{}://{}:{}{}",
                    proxy.protocol().to_string().to_ascii_lowercase(),
                    proxy.host(),
                    proxy.port(),
                    if credentials {
                        " (credentials redacted)"
                    } else {
                        ""
                    }
                )
            }
        }
    }
}

/// Parses a proxy URL for `Config::proxy`; the error is the URL without its credentials.
pub(crate) fn parse_proxy(url: &str) -> Result<ureq::Proxy, String> {
    ureq::Proxy::new(url.trim()).map_err(|_| without_userinfo(url.trim()))
}

/// `scheme://user:pass@host` → `scheme://***@host`, for messages.
fn without_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_owned(),
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{authority}{path}"),
        None => format!("{authority}{path}"),
    }
}

/// The CA certificates in a PEM bundle, for `Config::ca_certificates_pem` and `SSL_CERT_FILE`.
///
/// The error says what is wrong and what to pass instead; the caller names the setter or
/// variable.
pub(crate) fn ca_certificates(pem: &[u8]) -> Result<Arc<[Vec<u8>]>, String> {
    let items = pem_items(pem)?;
    if items.certificates.is_empty() {
        return Err(
            "no certificate in the PEM: pass the CA certificates as PEM blocks that start with -----BEGIN CERTIFICATE-----"
                .to_owned(),
        );
    }
    // Roots are checked leniently (a v1 root in a system bundle is fine): the TLS stack
    // skips a root it cannot use, as curl does.
    for (i, der) in items.certificates.iter().enumerate() {
        if !der::is_certificate(der) {
            return Err(format!(
                "certificate {} in the PEM is not an X.509 certificate",
                i + 1
            ));
        }
    }
    Ok(items.certificates.into())
}

/// A client certificate chain and its key, for `Config::client_certificate_pem` and the
/// `OPENAI_MTLS_CLIENT_*_FILE` variables.
///
/// Checked here so that no TLS provider meets a key it would reject (rustls, through ureq,
/// panics on one): the key must be unencrypted RSA (2048 to 8192 bits), ECDSA P-256/P-384
/// or Ed25519, and belong to the first certificate of the chain.
pub(crate) fn client_identity(
    cert_chain_pem: &[u8],
    private_key_pem: &[u8],
) -> Result<Arc<ClientIdentity>, (Part, String)> {
    let chain = pem_items(cert_chain_pem)
        .map_err(|e| (Part::Certificate, e))?
        .certificates;
    let Some(leaf) = chain.first() else {
        return Err((
            Part::Certificate,
            "no certificate in the PEM: pass the client certificate (and any intermediates) as PEM blocks that start with -----BEGIN CERTIFICATE-----".to_owned(),
        ));
    };
    let spki = der::certificate_spki(leaf).ok_or_else(|| {
        (
            Part::Certificate,
            "the first certificate in the PEM is not an X.509 v3 certificate".to_owned(),
        )
    })?;
    let items = pem_items(private_key_pem).map_err(|e| (Part::Key, e))?;
    let Some((key_kind, key)) = items.key else {
        let hint = if contains(private_key_pem, b"ENCRYPTED") {
            "the key is encrypted with a passphrase: decrypt it first (openssl pkey -in key.pem -out plain-key.pem)"
        } else {
            "pass an unencrypted key in PEM (-----BEGIN PRIVATE KEY-----, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)"
        };
        return Err((Part::Key, format!("no private key in the PEM: {hint}")));
    };
    if cfg!(feature = "native-tls") && key_kind != KeyKind::Pkcs8 {
        return Err((
            Part::Key,
            "native-tls needs the key in PKCS#8 (-----BEGIN PRIVATE KEY-----): convert it with openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem".to_owned(),
        ));
    }
    der::check_key_matches(key_kind, key_der(&key), &spki).map_err(|e| (Part::Key, e))?;
    Ok(Arc::new(ClientIdentity { chain, key }))
}

/// Which of the two PEM inputs of a client certificate an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Certificate,
    Key,
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

struct PemItems {
    certificates: Vec<Vec<u8>>,
    /// The first private key.
    key: Option<(KeyKind, Key)>,
}

#[cfg(any(
    feature = "rustls",
    feature = "native-tls",
    feature = "platform-verifier"
))]
fn key_der(key: &Key) -> &[u8] {
    key.der()
}

#[cfg(not(any(
    feature = "rustls",
    feature = "native-tls",
    feature = "platform-verifier"
)))]
fn key_der(key: &Key) -> &[u8] {
    match *key {}
}

#[cfg(any(
    feature = "rustls",
    feature = "native-tls",
    feature = "platform-verifier"
))]
fn pem_items(pem: &[u8]) -> Result<PemItems, String> {
    use ureq::tls::PemItem;
    let mut items = PemItems {
        certificates: Vec::new(),
        key: None,
    };
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => items.certificates.push(cert.der().to_vec()),
            Ok(PemItem::PrivateKey(key)) if items.key.is_none() => {
                // ureq does not export its `KeyKind` type; its Debug names the variant.
                let kind = match format!("{:?}", key.kind()).as_str() {
                    "Pkcs1" => KeyKind::Pkcs1,
                    "Sec1" => KeyKind::Sec1,
                    _ => KeyKind::Pkcs8,
                };
                items.key = Some((kind, key));
            }
            Ok(_) => {}
            // The parser's own error may quote a line of the input: not repeated, a key
            // could be in it.
            Err(_) => {
                return Err(
                    "the PEM is malformed (a BEGIN line without its END line, or bad base64)"
                        .to_owned(),
                )
            }
        }
    }
    Ok(items)
}

#[cfg(not(any(
    feature = "rustls",
    feature = "native-tls",
    feature = "platform-verifier"
)))]
fn pem_items(_pem: &[u8]) -> Result<PemItems, String> {
    Err(crate::error::NO_TLS.to_owned())
}

/// Just enough DER to find a certificate's public key and to check that a private key
/// belongs to it. Never indexes out of bounds: every read is checked.
mod der {
    use super::KeyKind;

    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const BIT_STRING: u8 = 0x03;
    const OCTET_STRING: u8 = 0x04;
    const OID: u8 = 0x06;

    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    const EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    const ED25519: &[u8] = &[0x2b, 0x65, 0x70];

    const UNSUPPORTED: &str = "the private key is of a kind this client cannot use: use an RSA key of 2048 to 8192 bits, an ECDSA P-256 or P-384 key, or an Ed25519 key";
    const MISMATCH: &str = "the private key does not belong to the client certificate (the first certificate in the chain): pass the key that was generated with this certificate";

    /// A certificate's public key: the algorithm, its parameters and the key bits.
    #[derive(Debug, PartialEq, Eq)]
    pub(super) struct Spki<'a> {
        algorithm: &'a [u8],
        parameter: Option<&'a [u8]>,
        key: &'a [u8],
    }

    /// Reads one element of `tag`; returns its contents and moves `input` past it.
    fn take<'a>(input: &mut &'a [u8], tag: u8) -> Option<&'a [u8]> {
        let (&found, rest) = input.split_first()?;
        if found != tag {
            return None;
        }
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return None;
            }
            let (bytes, after) = rest.split_at_checked(n)?;
            rest = after;
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        let (contents, after) = rest.split_at_checked(len)?;
        *input = after;
        Some(contents)
    }

    /// The tag of the next element, if any.
    fn peek(input: &[u8]) -> Option<u8> {
        input.first().copied()
    }

    /// Skips one element of any tag.
    fn skip(input: &mut &[u8]) -> Option<()> {
        let tag = peek(input)?;
        take(input, tag).map(|_| ())
    }

    /// An INTEGER's magnitude without leading zero bytes.
    fn unsigned(int: &[u8]) -> &[u8] {
        let start = int.iter().position(|&b| b != 0).unwrap_or(int.len());
        int.get(start..).unwrap_or(&[])
    }

    /// Whether `der` is shaped as a certificate: a SEQUENCE of the signed data, the
    /// signature algorithm and the signature, and nothing after it.
    pub(super) fn is_certificate(der: &[u8]) -> bool {
        let mut input = der;
        let shaped = take(&mut input, SEQUENCE).is_some_and(|mut certificate| {
            take(&mut certificate, SEQUENCE).is_some()
                && take(&mut certificate, SEQUENCE).is_some()
                && take(&mut certificate, BIT_STRING).is_some()
        });
        shaped && input.is_empty()
    }

    /// The subject public key of an X.509 v3 certificate.
    pub(super) fn certificate_spki(cert: &[u8]) -> Option<Spki<'_>> {
        let mut input = cert;
        let mut certificate = take(&mut input, SEQUENCE)?;
        if !input.is_empty() {
            return None;
        }
        let mut tbs = take(&mut certificate, SEQUENCE)?;
        let outer_algorithm = take(&mut certificate, SEQUENCE)?;
        take(&mut certificate, BIT_STRING)?;
        // [0] EXPLICIT version: v3 (2), the only one webpki accepts.
        let mut version = take(&mut tbs, 0xa0)?;
        if take(&mut version, INTEGER)? != [2] {
            return None;
        }
        take(&mut tbs, INTEGER)?; // serial number
        if take(&mut tbs, SEQUENCE)? != outer_algorithm {
            return None;
        }
        take(&mut tbs, SEQUENCE)?; // issuer
        take(&mut tbs, SEQUENCE)?; // validity
        take(&mut tbs, SEQUENCE)?; // subject
        let mut spki = take(&mut tbs, SEQUENCE)?;
        let mut algorithm = take(&mut spki, SEQUENCE)?;
        let oid = take(&mut algorithm, OID)?;
        let parameter = take(&mut algorithm, OID);
        let key = take(&mut spki, BIT_STRING)?;
        // A key's bit string has no unused bits.
        let (&0, key) = key.split_first()? else {
            return None;
        };
        Some(Spki {
            algorithm: oid,
            parameter,
            key,
        })
    }

    /// Checks that the key is of a supported kind and that its public half is `spki`.
    pub(super) fn check_key_matches(
        kind: KeyKind,
        key: &[u8],
        spki: &Spki<'_>,
    ) -> Result<(), String> {
        let malformed = || "the private key is not valid DER for its PEM label".to_owned();
        match kind {
            KeyKind::Pkcs1 => rsa_matches(key, spki).ok_or_else(malformed)?,
            KeyKind::Sec1 => ec_matches(key, None, spki).ok_or_else(malformed)?,
            KeyKind::Pkcs8 => {
                let mut input = key;
                let mut info = take(&mut input, SEQUENCE).ok_or_else(malformed)?;
                let version = take(&mut info, INTEGER).ok_or_else(malformed)?;
                let mut algorithm = take(&mut info, SEQUENCE).ok_or_else(malformed)?;
                let oid = take(&mut algorithm, OID).ok_or_else(malformed)?;
                let parameter = take(&mut algorithm, OID);
                let private = take(&mut info, OCTET_STRING).ok_or_else(malformed)?;
                match oid {
                    RSA => rsa_matches(private, spki).ok_or_else(malformed)?,
                    EC => ec_matches(private, parameter, spki).ok_or_else(malformed)?,
                    ED25519 => ed25519_matches(version, info, spki).ok_or_else(malformed)?,
                    _ => return Err(UNSUPPORTED.to_owned()),
                }
            }
        }
        .and_then(|matches: bool| {
            if matches {
                Ok(())
            } else {
                Err(MISMATCH.to_owned())
            }
        })
    }

    /// `Some(true)` when a PKCS#8 Ed25519 key (after its private key) is the certificate's.
    ///
    /// PKCS#8 v2 carries the public key as `[1]`, v1 does not. rustls panics on a key that
    /// does not match, so there a v1 key is refused; OpenSSL checks the match itself (an
    /// error, not a panic) but cannot read v2, so with native-tls it is the other way round.
    fn ed25519_matches(
        version: &[u8],
        mut rest: &[u8],
        spki: &Spki<'_>,
    ) -> Option<Result<bool, String>> {
        let native = cfg!(feature = "native-tls");
        match (version, native) {
            ([0], true) => return Some(Ok(spki.algorithm == ED25519)),
            ([0], false) => return Some(Err("the Ed25519 key does not include its public key (PKCS#8 v1), so it cannot be checked against the certificate: use an RSA or ECDSA key, or the native-tls feature".to_owned())),
            (_, true) => return Some(Err("native-tls (OpenSSL) cannot read an Ed25519 key in PKCS#8 v2 (with its public key): use an RSA or ECDSA key, or a PKCS#8 v1 key as openssl genpkey -algorithm ed25519 writes it".to_owned())),
            _ => {}
        }
        if peek(rest) == Some(0xa0) {
            skip(&mut rest)?;
        }
        let public = take(&mut rest, 0x81)?;
        let (&0, public) = public.split_first()? else {
            return None;
        };
        Some(Ok(spki.algorithm == ED25519 && spki.key == public))
    }

    /// `Some(true)` when an RSAPrivateKey is the certificate's key; `Err` when unsupported.
    fn rsa_matches(key: &[u8], spki: &Spki<'_>) -> Option<Result<bool, String>> {
        let mut input = key;
        let mut rsa = take(&mut input, SEQUENCE)?;
        take(&mut rsa, INTEGER)?; // version
        let n = unsigned(take(&mut rsa, INTEGER)?);
        let e = unsigned(take(&mut rsa, INTEGER)?);
        let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
        if !(2048..=8192).contains(&bits) {
            return Some(Err(format!(
                "the RSA key has {bits} bits: use one of 2048 to 8192 bits"
            )));
        }
        if spki.algorithm != RSA {
            return Some(Ok(false));
        }
        let mut public = spki.key;
        let mut public = take(&mut public, SEQUENCE)?;
        let cert_n = unsigned(take(&mut public, INTEGER)?);
        let cert_e = unsigned(take(&mut public, INTEGER)?);
        Some(Ok(n == cert_n && e == cert_e))
    }

    /// `Some(true)` when an ECPrivateKey (with its curve from PKCS#8 or its own [0]) is the
    /// certificate's key.
    fn ec_matches(
        key: &[u8],
        curve: Option<&[u8]>,
        spki: &Spki<'_>,
    ) -> Option<Result<bool, String>> {
        let mut input = key;
        let mut ec = take(&mut input, SEQUENCE)?;
        take(&mut ec, INTEGER)?; // version 1
        take(&mut ec, OCTET_STRING)?; // the private scalar
        let mut curve = curve;
        let mut public = None;
        while let Some(tag) = peek(ec) {
            let mut contents = take(&mut ec, tag)?;
            match tag {
                0xa0 => curve = curve.or(take(&mut contents, OID)),
                0xa1 => public = Some(take(&mut contents, BIT_STRING)?),
                _ => {}
            }
        }
        let Some(curve) = curve.filter(|c| *c == P256 || *c == P384) else {
            return Some(Err(UNSUPPORTED.to_owned()));
        };
        let Some((&0, public)) = public.and_then(|p| p.split_first()) else {
            return Some(Err("the EC private key does not include its public key, so it cannot be checked against the certificate: re-export it with openssl ec -in key.pem -out full-key.pem".to_owned()));
        };
        Some(Ok(spki.algorithm == EC
            && spki.parameter == Some(curve)
            && spki.key == public))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn lengths_past_the_input_are_refused() {
            let mut input: &[u8] = &[SEQUENCE, 0x05, 1, 2];
            assert_eq!(take(&mut input, SEQUENCE), None);
            let mut input: &[u8] = &[SEQUENCE, 0x84, 0xff, 0xff, 0xff, 0xff];
            assert_eq!(take(&mut input, SEQUENCE), None);
            let mut input: &[u8] = &[SEQUENCE, 0x81];
            assert_eq!(take(&mut input, SEQUENCE), None);
            let mut input: &[u8] = &[SEQUENCE, 0x81, 0x02, 7, 8, 9];
            assert_eq!(take(&mut input, SEQUENCE), Some(&[7u8, 8][..]));
            assert_eq!(input, &[9]);
        }

        #[test]
        fn garbage_is_not_a_certificate() {
            assert_eq!(certificate_spki(b""), None);
            assert_eq!(certificate_spki(b"0\x03\x02\x01\x02"), None);
            assert_eq!(certificate_spki(&[0x30; 64]), None);
        }

        #[test]
        fn roots_are_checked_for_shape_only() {
            // SEQUENCE { SEQUENCE {}, SEQUENCE {}, BIT STRING 0 }: no version, no key.
            let shaped = [0x30, 0x07, 0x30, 0x00, 0x30, 0x00, 0x03, 0x01, 0x00];
            assert!(is_certificate(&shaped));
            assert_eq!(certificate_spki(&shaped), None);
            assert!(!is_certificate(&shaped[..8]));
            assert!(!is_certificate(&[0x30, 0x00]));
        }

        #[test]
        fn leading_zeros_do_not_count() {
            assert_eq!(unsigned(&[0, 0, 1, 2]), &[1, 2]);
            assert_eq!(unsigned(&[0]), &[] as &[u8]);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_hidden_in_messages() {
        assert_eq!(
            without_userinfo("http://alice:s3cret@proxy:3128/x"),
            "http://***@proxy:3128/x"
        );
        assert_eq!(without_userinfo("proxy:3128"), "proxy:3128");
        let shown = parse_proxy("ftp://alice:s3cret@proxy:3128").unwrap_err();
        assert_eq!(shown, "ftp://***@proxy:3128");
    }

    #[test]
    fn proxy_debug_hides_credentials() {
        let proxy = parse_proxy("http://alice:s3cret@127.0.0.1:3128").unwrap();
        let shown = format!("{:?}", ProxySetting::Url(proxy));
        assert_eq!(shown, "http://127.0.0.1:3128 (credentials redacted)");
    }

    #[test]
    fn no_tls_certificates_is_an_error() {
        let message = ca_certificates(b"not a pem").unwrap_err();
        if ENABLED {
            assert!(
                message.starts_with("no certificate in the PEM"),
                "{message}"
            );
        } else {
            assert_eq!(message, crate::error::NO_TLS);
        }
    }
}
