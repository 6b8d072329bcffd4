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
    pub const MIN_LEN: usize = 16;

    /// A token from text (`TRADEGRAPH_API_TOKEN`).
    ///
    /// # Errors
    /// [`EngineError::Config`](crate::engine::EngineError::Config) when it is shorter than
    /// [`ApiToken::MIN_LEN`] characters (the message never shows it).
    pub fn new(token: &str) -> Result<Self, crate::engine::EngineError> {
        if token.chars().count() < Self::MIN_LEN {
            return Err(crate::engine::EngineError::Config(format!(
                "TRADEGRAPH_API_TOKEN has {} characters; use at least {} (`openssl rand -hex 32` makes one), or unset it and the bot generates one",
                token.chars().count(),
                Self::MIN_LEN
            )));
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

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
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
