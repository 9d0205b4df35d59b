//! Just enough DER to find a certificate's public key and to check that a private key
//! belongs to it. Never indexes out of bounds: every read is checked.

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
pub(super) fn check_key_matches(kind: KeyKind, key: &[u8], spki: &Spki<'_>) -> Result<(), String> {
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
fn ec_matches(key: &[u8], curve: Option<&[u8]>, spki: &Spki<'_>) -> Option<Result<bool, String>> {
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
