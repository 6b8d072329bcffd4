//! Kite's login: a request token becomes the day's access token (`POST /session/token`).

use super::order::{success_data, text_of};
use super::rest::{encode, VENUE};
use super::{KiteError, KITE_VERSION};
use crate::live::venue::{Call, HttpSettings, Masker, VenueHttp};
use crate::live::VenueReason;
use crate::BrokerError;
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::Method;
use ring::digest;
use tradegraph_core::redact::Secret;

/// The `checksum` of `POST /session/token`: hex SHA-256 of api key + request token + api
/// secret.
///
/// ```
/// use tradegraph_broker::live::kite::session_checksum;
/// use tradegraph_core::redact::Secret;
/// let sum = session_checksum(&Secret::new("key"), "request", &Secret::new("secret"));
/// // sha256("keyrequestsecret")
/// assert_eq!(sum.expose().len(), 64);
/// ```
pub fn session_checksum(api_key: &Secret, request_token: &str, api_secret: &Secret) -> Secret {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(api_key.expose().as_bytes());
    ctx.update(request_token.as_bytes());
    ctx.update(api_secret.expose().as_bytes());
    let hex: String = ctx
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Secret::new(hex)
}

/// The form of `POST /session/token`.
pub fn session_form(
    api_key: &Secret,
    request_token: &str,
    api_secret: &Secret,
) -> Vec<(&'static str, String)> {
    vec![
        ("api_key", api_key.expose().to_owned()),
        ("request_token", request_token.to_owned()),
        (
            "checksum",
            session_checksum(api_key, request_token, api_secret)
                .expose()
                .to_owned(),
        ),
    ]
}

/// Logs in: exchanges the `request_token` of Kite's login redirect for the day's access token
/// (`POST /session/token` at `api_url`, with the checksum; the secret itself is never sent).
/// The key, the secret, the request token and the access token are masked in every log line
/// and error.
///
/// # Errors
/// [`BrokerError::Venue`]: [`VenueReason::AuthExpired`] when Kite refuses the key, the checksum
/// or the request token (used or expired: log in again in the browser), others as for any call.
pub async fn login(
    api_url: &str,
    api_key: &Secret,
    api_secret: &Secret,
    request_token: &str,
) -> Result<Secret, BrokerError> {
    let request = Secret::new(request_token);
    let mut masker = Masker::new([api_key.clone(), api_secret.clone(), request.clone()]);
    masker.add(session_checksum(api_key, request_token, api_secret));
    let http = VenueHttp::new(VENUE, api_url, HttpSettings::default(), masker)?;
    let form = encode(&session_form(api_key, request_token, api_secret));
    let reply = http
        .send(|| {
            Ok(Call::new(Method::POST, "/session/token")
                .header(
                    HeaderName::from_static("x-kite-version"),
                    HeaderValue::from_static(KITE_VERSION.1),
                )
                .form(form.clone())
                .sensitive())
        })
        .await?;
    if !reply.is_success() {
        let reason = KiteError::from_body(&reply.body).reason(reply.status.as_u16(), None);
        return Err(http.error(reason));
    }
    let token = success_data(&reply.body)
        .ok()
        .and_then(|data| text_of(&data, "access_token"))
        .ok_or_else(|| {
            http.error(VenueReason::Other {
                code: "unreadable".into(),
                message: "POST /session/token answered without an access token".into(),
            })
        })?;
    Ok(Secret::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_sha256_of_the_three_in_order() {
        // sha256("abc"), the FIPS 180-2 test vector.
        let sum = session_checksum(&Secret::new("a"), "b", &Secret::new("c"));
        assert_eq!(
            sum.expose(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let other = session_checksum(&Secret::new("c"), "b", &Secret::new("a"));
        assert_ne!(sum.expose(), other.expose());
        let form = session_form(&Secret::new("a"), "b", &Secret::new("c"));
        assert_eq!(form[2], ("checksum", sum.expose().to_owned()));
        assert!(
            form.iter().all(|(_, v)| v != "c"),
            "the secret itself is never sent"
        );
    }
}
