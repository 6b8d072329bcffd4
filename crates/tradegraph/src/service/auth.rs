//! The control endpoints' bearer token: compared in constant time, never shown.

use super::error::ApiError;
use super::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

/// The bearer token the control endpoints require. Only its SHA-256 is kept, so neither
/// `Debug` nor a memory dump of it shows the token; a presented token is hashed and compared
/// in constant time.
///
/// ```
/// use tradegraph::service::ApiToken;
/// let token = ApiToken::new("correct horse battery staple")?;
/// assert!(token.matches("correct horse battery staple"));
/// assert!(!token.matches("correct horse battery stapler"));
/// assert_eq!(format!("{token:?}"), "ApiToken(***)");
/// let (generated, text) = ApiToken::generate();
/// assert_eq!(text.len(), 64);
/// assert!(generated.matches(&text));
/// # Ok::<(), tradegraph::engine::EngineError>(())
/// ```
#[derive(Clone)]
pub struct ApiToken {
    digest: [u8; 32],
}

impl ApiToken {
    /// The shortest token accepted.
    pub const MIN_LEN: usize = crate::config::API_TOKEN_MIN_LEN;

    /// A token from text (`TRADEGRAPH_API_TOKEN`).
    ///
    /// # Errors
    /// [`EngineError::Config`](crate::engine::EngineError::Config) when it is shorter than
    /// [`ApiToken::MIN_LEN`] characters, or begins or ends with white space (the message never
    /// shows it). The settings refuse such a token already.
    pub fn new(token: &str) -> Result<Self, crate::engine::EngineError> {
        if let Some(why) = crate::config::api_token_problem(token) {
            return Err(crate::engine::EngineError::Config(why));
        }
        Ok(Self {
            digest: Sha256::digest(token.as_bytes()).into(),
        })
    }

    /// A random token: 32 bytes of a cryptographically secure generator seeded by the operating
    /// system, as 64 hex digits. The text is returned once, to be shown to the operator; only
    /// its hash is kept.
    pub fn generate() -> (Self, String) {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let token = Self {
            digest: Sha256::digest(text.as_bytes()).into(),
        };
        (token, text)
    }

    /// Whether `presented` is the token (constant time in its content).
    pub fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        digest.ct_eq(&self.digest).into()
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(***)")
    }
}

/// Where a request came from, for the operator log.
pub(crate) fn peer(request: &Request) -> Option<SocketAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// The token of an `Authorization: Bearer <token>` header, if there is one (the scheme's
/// name in any case, as HTTP has it).
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Lets a request through only with `Authorization: Bearer <the token>`; 401 otherwise, and
/// nothing happens.
pub(crate) async fn require_token(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let presented = bearer(request.headers());
    if presented.is_some_and(|t| app.token.matches(t)) {
        return next.run(request).await;
    }
    tracing::warn!(
        peer = ?peer(&request),
        method = %request.method(),
        path = request.uri().path(),
        token = if presented.is_some() { "wrong" } else { "missing" },
        "control endpoint refused: no valid bearer token"
    );
    ApiError::unauthorized().into_response()
}

#[cfg(test)]
mod tests {
    use super::{bearer, ApiToken};
    use axum::http::{header::AUTHORIZATION, HeaderMap, HeaderValue};

    fn presented(value: &'static str) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
        bearer(&headers).map(str::to_owned)
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case_and_no_other() {
        for value in [
            "Bearer t0k3n",
            "bearer t0k3n",
            "BEARER t0k3n",
            "Bearer  t0k3n ",
        ] {
            assert_eq!(presented(value).as_deref(), Some("t0k3n"), "{value}");
        }
        for value in ["Basic t0k3n", "Bearert0k3n", "t0k3n"] {
            assert_eq!(presented(value), None, "{value}");
        }
    }

    #[test]
    fn a_token_with_outer_white_space_is_refused_without_showing_it() {
        for token in [
            " 0123456789abcdef0123",
            "0123456789abcdef0123 ",
            "0123456789abcdef0123\t",
        ] {
            let err = ApiToken::new(token).unwrap_err().to_string();
            assert!(err.contains("white space"), "{err}");
            assert!(!err.contains("0123456789abcdef"), "{err}");
        }
        let token = ApiToken::new("0123456789abcdef0123").unwrap();
        assert!(token.matches("0123456789abcdef0123"));
    }
}
