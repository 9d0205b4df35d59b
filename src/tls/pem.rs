//! Reading certificates and keys from PEM, checked when they are set: certificates that are
//! X.509, a key of a supported kind that belongs to its certificate, so that no TLS provider
//! meets an input it would panic on.

use std::sync::Arc;

use super::der;
use super::{ClientIdentity, Key, KeyKind};

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

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::tls::ENABLED;

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
