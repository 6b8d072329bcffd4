//! The builder methods every HTTP provider shares (its `http`, `model` and `mode` fields).

/// Generates `with_model`, `with_timeout`, `with_schema_mode`, `with_sampling`, `with_name` and
/// `with_client` for a provider struct with fields `http: Http`, `model: String`, `mode:
/// SchemaMode` and `sampling: Sampling`; the
/// `schema_mode` doc line says what forcing a mode means for that provider.
macro_rules! http_builders {
    ($provider:ty, schema_mode = $schema_doc:literal) => {
        impl $provider {
            /// Sets the default model.
            #[must_use]
            pub fn with_model(mut self, model: impl Into<String>) -> Self {
                self.model = model.into();
                self
            }

            /// Sets the timeout of every call (a request's own timeout wins).
            #[must_use]
            pub fn with_timeout(mut self, timeout: std::time::Duration) -> Self {
                self.http.timeout = timeout;
                self
            }

            #[doc = $schema_doc]
            #[must_use]
            pub fn with_schema_mode(mut self, mode: $crate::SchemaMode) -> Self {
                self.mode = mode;
                self
            }

            /// Sets the temperature and seed sent with every request, in place of the
            /// request's own (see [`Sampling`]($crate::Sampling) for what this provider
            /// sends).
            #[must_use]
            pub fn with_sampling(mut self, sampling: $crate::Sampling) -> Self {
                self.sampling = sampling;
                self
            }

            /// Renames the provider (two accounts of one vendor in one chain).
            #[must_use]
            pub fn with_name(mut self, name: &str) -> Self {
                self.http.set_name(name);
                self
            }

            /// Uses this HTTP client (shared connection pools, a proxy). Build it with
            /// `.redirect(reqwest::redirect::Policy::none())`, as the default client is: a
            /// client that follows redirects sends the key to whatever host a 3xx names.
            #[must_use]
            pub fn with_client(mut self, client: reqwest::Client) -> Self {
                self.http.set_client(client);
                self
            }
        }
    };
}

pub(crate) use http_builders;
