//! The Azure OpenAI constructors: the deployment and v1 URLs, `api-version`, `api-key`.

use crate::error::{ConfigProblem, Error};
use crate::http::HeaderValue;
use crate::util::encode_path_segment;

use super::Config;

/// The `api-version` [`Config::azure`] sends unless told otherwise: the latest GA version
/// of the Azure OpenAI data-plane API when this crate was released.
pub const AZURE_DEFAULT_API_VERSION: &str = "2024-10-21";

impl Config {
    /// A configuration for an Azure OpenAI deployment:
    /// `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`.
    ///
    /// `endpoint` is the resource's address, such as `https://my-resource.openai.azure.com`.
    /// The `api-version` defaults to [`AZURE_DEFAULT_API_VERSION`]; change it with
    /// [`api_version`](Config::api_version). Authenticate with
    /// [`azure_api_key`](Config::azure_api_key), [`bearer_token`](Config::bearer_token) (a
    /// Microsoft Entra ID token) or [`token_provider`](Config::token_provider).
    ///
    /// ```
    /// use sync_openai::{ChatApi, Config};
    ///
    /// let api = ChatApi::new(
    ///     Config::azure("https://my-resource.openai.azure.com", "gpt-4o-prod")
    ///         .api_version("2024-10-21")
    ///         .azure_api_key("..."),
    /// );
    /// # drop(api);
    /// ```
    pub fn azure(endpoint: impl AsRef<str>, deployment: impl AsRef<str>) -> Config {
        let endpoint = endpoint.as_ref().trim().trim_end_matches('/');
        let name = deployment.as_ref().trim();
        let deployment = encode_path_segment(name);
        let mut config = Config::new()
            .base_url(format!("{endpoint}/openai/deployments/{deployment}"))
            .api_version(AZURE_DEFAULT_API_VERSION);
        if matches!(name, "" | "." | "..") {
            config.note_invalid(ConfigProblem::AzureDeployment(name.to_owned()));
        }
        config
    }

    /// A configuration for Azure OpenAI's v1 API: `{endpoint}/openai/v1/chat/completions`,
    /// with the model (deployment) named in each request and no `api-version`.
    pub fn azure_v1(endpoint: impl AsRef<str>) -> Config {
        let endpoint = endpoint.as_ref().trim().trim_end_matches('/');
        Config::new().base_url(format!("{endpoint}/openai/v1"))
    }

    /// A configuration for Azure OpenAI from the environment, like the official SDKs.
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `AZURE_OPENAI_ENDPOINT` | the resource's address (required) |
    /// | `AZURE_OPENAI_DEPLOYMENT` | the deployment; without it the v1 API is used |
    /// | `OPENAI_API_VERSION` | the `api-version` for the deployment API |
    /// | `AZURE_OPENAI_API_KEY` | sent as `api-key` |
    /// | `AZURE_OPENAI_AD_TOKEN` | a Microsoft Entra ID token, sent as `Authorization: Bearer` |
    ///
    /// # Errors
    ///
    /// [`Error::Config`] without `AZURE_OPENAI_ENDPOINT`, or without either credential.
    pub fn azure_from_env() -> Result<Config, Error> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let endpoint =
            var("AZURE_OPENAI_ENDPOINT").ok_or(Error::config(ConfigProblem::NoAzureEndpoint))?;
        let mut config = match var("AZURE_OPENAI_DEPLOYMENT") {
            Some(deployment) => {
                let config = Config::azure(&endpoint, deployment);
                match var("OPENAI_API_VERSION") {
                    Some(version) => config.api_version(version),
                    None => config,
                }
            }
            None => Config::azure_v1(&endpoint),
        };
        match (var("AZURE_OPENAI_API_KEY"), var("AZURE_OPENAI_AD_TOKEN")) {
            (Some(key), _) => config = config.azure_api_key(key),
            (None, Some(token)) => config = config.bearer_token(token),
            (None, None) => return Err(Error::config(ConfigProblem::NoAzureCredential)),
        }
        Ok(config)
    }

    /// The `api-version` query parameter sent with every request (Azure OpenAI).
    /// Defaults to none, or [`AZURE_DEFAULT_API_VERSION`] for [`Config::azure`].
    pub fn api_version(self, version: impl Into<String>) -> Config {
        self.query_param("api-version", version)
    }

    /// The Azure OpenAI key, sent as the `api-key` header. Defaults to none.
    pub fn azure_api_key(mut self, key: impl Into<String>) -> Config {
        let key = key.into();
        let trimmed = key.trim();
        if HeaderValue::from_str(trimmed).is_err() {
            self.note_invalid(ConfigProblem::AzureApiKeyNotHeaderSafe);
        }
        self.azure_api_key = Some(trimmed.to_owned());
        self
    }
}
