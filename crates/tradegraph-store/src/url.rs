//! Server URLs in messages and Debug output: never with their password.

/// `scheme://user:password@host...` as `scheme://***@host...`; a URL without credentials is
/// returned as it is.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_owned(),
    }
}
