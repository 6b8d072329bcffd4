//! Server URLs in messages and Debug output: never with their password.

/// `scheme://user:password@host...` as `scheme://***@host...`; a URL without credentials is
/// returned as it is.
///
/// ```
/// use tradegraph_store::url::redact;
/// assert_eq!(redact("redis://app:hunter2@cache:6379/0"), "redis://***@cache:6379/0");
/// assert_eq!(redact("mongodb://127.0.0.1:27017"), "mongodb://127.0.0.1:27017");
/// ```
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_owned(),
    }
}
