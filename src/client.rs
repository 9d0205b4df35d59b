//! The core every API handle ([`ChatApi`](crate::ChatApi), `ModelsApi`, `FilesApi`,
//! `BatchApi`) wraps, and the one place their construction is written.
//!
//! A handle is a [`Client`] (an `Arc` of the send loop: the connection pool, the
//! configuration, the cache, the retry jitter) with the operations of one API family on
//! it. [`handle!`] declares a handle's struct with `new`, `from_env`, `with_options`,
//! `config` and a `Debug` that shows no secret; [`conversions!`] makes two handles
//! convertible into each other, sharing the same core.

use std::sync::Arc;

use crate::config::Config;
use crate::error::Error;
use crate::options::RequestOptions;
use crate::send::Sender;

/// The shared core of every handle: one send loop behind an `Arc`, so clones and
/// conversions share the connection pool, retries, cache and observer.
#[derive(Clone)]
pub(crate) struct Client {
    sender: Arc<Sender>,
}

impl Client {
    /// A client with this configuration; never fails (see `Config::validate`).
    pub(crate) fn new(config: Config) -> Client {
        Client {
            sender: Arc::new(Sender::new(config)),
        }
    }

    /// A client configured from the environment, refusing an unusable configuration.
    pub(crate) fn from_env() -> Result<Client, Error> {
        let config = Config::from_env();
        config.validate()?;
        Ok(Client::new(config))
    }

    /// A client with these options folded in, sharing this one's connection pool.
    pub(crate) fn with_options(&self, options: RequestOptions) -> Client {
        Client {
            sender: Arc::new(self.sender.with_options(options)),
        }
    }

    /// The send loop every operation goes through.
    pub(crate) fn sender(&self) -> &Sender {
        &self.sender
    }
}

/// Declares a public API handle: the struct (with the doc comment given) around a
/// [`Client`], its constructors, `with_options`, `config`, and a `Debug` showing the
/// configuration (which prints no secret).
macro_rules! handle {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name {
            client: $crate::client::Client,
        }

        impl $name {
            #[doc = concat!("A `", stringify!($name), "` with this configuration.")]
            ///
            /// This never fails: an unusable configuration (a header value with a newline,
            /// no key for api.openai.com) is reported by every call as
            /// [`Error::Config`](crate::Error::Config). Use
            /// [`Config::validate`](crate::Config::validate) to check it up front.
            pub fn new(config: $crate::config::Config) -> $name {
                $name {
                    client: $crate::client::Client::new(config),
                }
            }

            #[doc = concat!("A `", stringify!($name), "` configured from the environment; see [`Config::from_env`](crate::Config::from_env).")]
            ///
            /// Fails with [`Error::Config`](crate::Error::Config) when no `OPENAI_API_KEY` is
            /// set and the base URL is OpenAI's own. With `OPENAI_BASE_URL` pointing
            /// elsewhere (Ollama, llama.cpp, vLLM) no key is needed and none is sent.
            pub fn from_env() -> ::std::result::Result<$name, $crate::error::Error> {
                $crate::client::Client::from_env().map(|client| $name { client })
            }

            /// A handle for some calls with other settings, sharing this one's connection
            /// pool.
            ///
            /// Cheap: no new pool, no new TLS setup. The options add to or override this
            /// handle's configuration and any options it already has.
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("use sync_openai::{", stringify!($name), ", Config, RequestOptions};")]
            ///
            #[doc = concat!("let api = ", stringify!($name), "::new(Config::new().api_key(\"sk-...\"));")]
            /// let quick = api.with_options(RequestOptions::new().timeout(Duration::from_secs(20)).max_retries(0));
            /// # drop(quick);
            /// ```
            pub fn with_options(&self, options: $crate::options::RequestOptions) -> $name {
                $name {
                    client: self.client.with_options(options),
                }
            }

            /// The configuration this handle was built with (and its options folded in).
            pub fn config(&self) -> &$crate::config::Config {
                self.client.sender().config()
            }

            /// A handle around this core, for conversions between handles.
            pub(crate) fn from_client(client: $crate::client::Client) -> $name {
                $name { client }
            }

            /// The shared core, for conversions between handles.
            pub(crate) fn client(&self) -> &$crate::client::Client {
                &self.client
            }

            /// The send loop every operation goes through.
            pub(crate) fn sender(&self) -> &$crate::send::Sender {
                self.client.sender()
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("config", self.config())
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use handle;

/// `From<&A> for B` and `From<&B> for A` for two handles: the new handle shares the
/// other's core (connection pool, retries, cache, observer and options).
macro_rules! conversions {
    ($a:ident, $b:ident) => {
        impl From<&$a> for $b {
            #[doc = concat!("A `", stringify!($b), "` sharing this `", stringify!($a), "`'s connection pool, retries, cache, observer and options.")]
            fn from(other: &$a) -> $b {
                $b::from_client(other.client().clone())
            }
        }

        impl From<&$b> for $a {
            #[doc = concat!("A `", stringify!($a), "` sharing this `", stringify!($b), "`'s connection pool, retries, cache, observer and options.")]
            fn from(other: &$b) -> $a {
                $a::from_client(other.client().clone())
            }
        }
    };
}
pub(crate) use conversions;
