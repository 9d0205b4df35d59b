//! [`Config::from_env`]: every variable the configuration reads, and how.

use crate::error::ConfigProblem;
use crate::http::{HeaderName, HeaderValue};
use crate::observe::LogLevel;

use super::Config;

impl Config {
    /// A configuration read from the environment.
    ///
    /// | variable            | setter                        |
    /// |---------------------|-------------------------------|
    /// | `OPENAI_API_KEY`    | [`api_key`](Config::api_key)  |
    /// | `OPENAI_BASE_URL`   | [`base_url`](Config::base_url)|
    /// | `OPENAI_ORG_ID`     | [`organization`](Config::organization) |
    /// | `OPENAI_PROJECT_ID` | [`project`](Config::project)  |
    /// | `SSL_CERT_FILE`     | [`ca_certificates_pem`](Config::ca_certificates_pem) with the file's contents |
    /// | `OPENAI_MTLS_CLIENT_CERT_FILE` and `OPENAI_MTLS_CLIENT_KEY_FILE` | [`client_certificate_pem`](Config::client_certificate_pem) with the files' contents |
    /// | `OPENAI_LOG`        | [`log_level`](Config::log_level): `info` or `debug` (other values are off) |
    /// | `OPENAI_CUSTOM_HEADERS` | [`header`](Config::header), one `Name: value` per line |
    ///
    /// Proxies come from `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` for every
    /// configuration, this one and [`Config::new`] alike; see [`proxy`](Config::proxy).
    ///
    /// Unset and empty variables are ignored; in a build without TLS features the certificate
    /// variables are ignored too (only `http://` can be used). This never fails: a missing
    /// key, or a certificate file that cannot be read or is not PEM, is reported by
    /// [`ChatApi::from_env`](crate::ChatApi::from_env) (or by [`validate`](Config::validate),
    /// or the first call) as [`Error::Config`](crate::Error::Config) naming the variable and the path; so is a
    /// line of `OPENAI_CUSTOM_HEADERS` that is not a `Name: value` header, named by its
    /// number. Headers set with [`header`](Config::header) afterwards replace those of
    /// the same name.
    ///
    /// ```standalone_crate
    /// # // Its own process: the other doctests run as threads of one binary.
    /// # // SAFETY: no other thread of this doctest reads the environment.
    /// # unsafe { std::env::set_var("OPENAI_CUSTOM_HEADERS", "X-Team: search\nX-Trace: on") };
    /// // OPENAI_CUSTOM_HEADERS="X-Team: search
    /// // X-Trace: on"
    /// let config = sync_openai::Config::from_env().header("X-Trace", "off");
    /// assert!(format!("{config:?}").contains(r#"headers: ["x-team", "x-trace"]"#));
    /// # unsafe { std::env::remove_var("OPENAI_CUSTOM_HEADERS") };
    /// ```
    pub fn from_env() -> Config {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut config = Config::new();
        if let Some(key) = var("OPENAI_API_KEY") {
            config = config.api_key(key);
        }
        if let Some(url) = var("OPENAI_BASE_URL") {
            config = config.base_url(url);
        }
        if let Some(org) = var("OPENAI_ORG_ID") {
            config = config.organization(org);
        }
        if let Some(project) = var("OPENAI_PROJECT_ID") {
            config = config.project(project);
        }
        if let Some(dir) = var("SYNC_OPENAI_CACHE_DIR") {
            config = config.cache_dir(dir);
        }
        if crate::tls::ENABLED {
            config = config.tls_from_env(var);
        }
        if let Some(level) = var("OPENAI_LOG") {
            // Like the official SDKs, an unknown value (`warn`, `error`) logs nothing.
            config.log_level = LogLevel::parse(&level).unwrap_or(LogLevel::Off);
        }
        if let Some(headers) = var("OPENAI_CUSTOM_HEADERS") {
            config = config.custom_headers(&headers);
        }
        config
    }

    /// Adds the headers of an `OPENAI_CUSTOM_HEADERS` value: one `Name: value` per line,
    /// blank lines skipped; the first malformed line makes the configuration invalid.
    fn custom_headers(mut self, text: &str) -> Config {
        for (i, line) in text.split('\n').enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let number = i + 1;
            let parsed = line.split_once(':').and_then(|(name, value)| {
                let name = HeaderName::from_bytes(name.trim().as_bytes()).ok()?;
                let value = HeaderValue::from_str(value.trim()).ok()?;
                Some((name, value))
            });
            match parsed {
                Some((name, value)) => self.headers.insert(name, value),
                None => {
                    self.note_invalid(ConfigProblem::CustomHeaderLine(number));
                    break;
                }
            }
        }
        self
    }

    /// `SSL_CERT_FILE` and the `OPENAI_MTLS_CLIENT_*_FILE` pair, read as the setters read PEM.
    fn tls_from_env(mut self, var: impl Fn(&str) -> Option<String>) -> Config {
        const CERT: &str = "OPENAI_MTLS_CLIENT_CERT_FILE";
        const KEY: &str = "OPENAI_MTLS_CLIENT_KEY_FILE";
        if let Some(path) = var("SSL_CERT_FILE") {
            let source = || format!("SSL_CERT_FILE={path}");
            let certs = read_pem_file("SSL_CERT_FILE", &path)
                .and_then(|pem| crate::tls::ca_certificates(&pem).map_err(|e| (source(), e)));
            match certs {
                Ok(certs) => self.tls.ca_certificates = Some(certs),
                Err((source, reason)) => {
                    self.note_invalid(ConfigProblem::Certificate(format!("{source}: {reason}")))
                }
            }
        }
        match (var(CERT), var(KEY)) {
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => self.note_invalid(ConfigProblem::MtlsHalfSet),
            (Some(cert_path), Some(key_path)) => {
                let identity = read_pem_file(CERT, &cert_path).and_then(|cert| {
                    let key = read_pem_file(KEY, &key_path)?;
                    crate::tls::client_identity(&cert, &key).map_err(|(part, reason)| match part {
                        crate::tls::Part::Certificate => (format!("{CERT}={cert_path}"), reason),
                        crate::tls::Part::Key => (format!("{KEY}={key_path}"), reason),
                    })
                });
                match identity {
                    Ok(identity) => self.tls.client_certificate = Some(identity),
                    Err((source, reason)) => {
                        self.note_invalid(ConfigProblem::Certificate(format!("{source}: {reason}")))
                    }
                }
            }
        }
        self
    }
}

/// The contents of the PEM file a variable names; the error is (`VARIABLE=path`, why).
fn read_pem_file(variable: &str, path: &str) -> Result<Vec<u8>, (String, String)> {
    std::fs::read(path).map_err(|e| {
        (
            format!("{variable}={path}"),
            format!("the file cannot be read ({e}): point {variable} at a PEM file, or unset it"),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail by panicking
mod tests {
    use super::*;

    fn names(config: &Config) -> Vec<(String, String)> {
        config
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect()
    }

    #[test]
    fn custom_headers_are_name_value_lines() {
        let config = Config::new().custom_headers("X-A: 1\r\n\n  X-B:two words \nx-a: 3\nX-Empty:");
        assert_eq!(config.invalid, None);
        assert_eq!(
            names(&config),
            [
                ("x-b".to_owned(), "two words".to_owned()),
                ("x-a".to_owned(), "3".to_owned()),
                ("x-empty".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn a_malformed_line_is_named_by_its_number_without_its_value() {
        for (text, line, hidden) in [
            ("X-A: 1\nsk-secret-no-colon", 2, "sk-secret"),
            ("X-A: 1\n\nbad name: hunter2", 3, "hunter2"),
            (": hunter2", 1, "hunter2"),
            ("X-A: bell\u{7}", 1, "bell"),
        ] {
            let config = Config::new().custom_headers(text);
            let error = config.validate().unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("OPENAI_CUSTOM_HEADERS line {line} is not")),
                "{error}"
            );
            assert!(!error.contains(hidden), "{error}");
        }
    }

    #[test]
    fn headers_set_later_replace_custom_ones() {
        let config = Config::new()
            .custom_headers("X-Team: env\nX-Other: env")
            .header("x-team", "code");
        assert_eq!(
            names(&config),
            [
                ("x-other".to_owned(), "env".to_owned()),
                ("x-team".to_owned(), "code".to_owned()),
            ]
        );
    }
}
