//! URLs (and text that was meant to be one) without their credentials.

/// `url` as it may be shown: the credentials before the host become `***`, and so does the value
/// of every parameter whose name says it carries a credential ([`credential_name`]: `password`,
/// `key`, `api_key`, `token`, `access_token`, `secret`, `signature`, `auth...` such as MongoDB's
/// `authMechanismProperties` and `tlsCertificateKeyFilePassword`). A URL without credentials is
/// returned as it is.
///
/// Text that does not parse as a URL is redacted too: it is what the errors about such text
/// show. The credentials are everything from after `://` (the start of the text without a
/// scheme) up to the last `@`, whenever there is an `@` and what comes before the first `/`, `?`
/// or `#` is not a plain host list (`host`, `host:port`, `[::1]:port`, comma-separated). So a
/// password holding `/`, `?`, `#` or an unescaped `@` is hidden whole, and an `@` in the path
/// or query of a URL without credentials hides nothing. When in doubt more is hidden, never
/// less: with credentials, an `@` in the query hides the host too. Parameters are `name=value`
/// pieces between `?`, `&` and `#` anywhere after the credentials.
///
/// ```
/// use tradegraph_core::redact::url;
///
/// assert_eq!(url("redis://app:hunter2@cache:6379/0"), "redis://***@cache:6379/0");
/// // Malformed: a password with a `#`, a `/`, a `?` or an `@` in it.
/// assert_eq!(url("mongodb://app:pa#ss@db.example:27017/x"), "mongodb://***@db.example:27017/x");
/// assert_eq!(url("mongodb://app:pa/ss@db/x"), "mongodb://***@db/x");
/// assert_eq!(url("redis://:hun?ter2@cache:6379"), "redis://***@cache:6379");
/// assert_eq!(url("redis://user:pa@ss@cache"), "redis://***@cache");
/// // Key-carrying parameters.
/// assert_eq!(
///     url("mongodb://db:27017/?authSource=admin&tlsCertificateKeyFilePassword=pw"),
///     "mongodb://db:27017/?authSource=admin&tlsCertificateKeyFilePassword=***"
/// );
/// assert_eq!(
///     url("https://user:pw@llm.example.com/v1?api_key=sk-1&model=x"),
///     "https://***@llm.example.com/v1?api_key=***&model=x"
/// );
/// // Nothing to hide.
/// assert_eq!(url("mongodb://127.0.0.1:27017"), "mongodb://127.0.0.1:27017");
/// assert_eq!(url("https://h.example.com/a@b?q=1"), "https://h.example.com/a@b?q=1");
/// ```
pub fn url(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let head = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let credentials_end = match rest.rfind('@') {
        Some(at) if head.contains('@') || !is_host_list(head) => Some(at),
        _ => None,
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..start]);
    let shown = match credentials_end {
        Some(at) => {
            out.push_str("***@");
            &rest[at + 1..]
        }
        None => rest,
    };
    let mut piece_start = 0;
    for (at, separator) in shown
        .match_indices(['?', '&', '#'])
        .chain([(shown.len(), "")])
    {
        let piece = &shown[piece_start..at];
        match piece.split_once('=') {
            Some((name, _)) if credential_name(name) => {
                out.push_str(name);
                out.push_str("=***");
            }
            _ => out.push_str(piece),
        }
        out.push_str(separator);
        piece_start = at + separator.len();
    }
    out
}

/// `text` with every URL in it (`scheme://...` up to a space, a quote, a backtick or `<`/`>`)
/// [redacted](url): for messages that quote a value which may be a URL.
///
/// ```
/// use tradegraph_core::redact::urls_in;
/// assert_eq!(
///     urls_in("`redis://app:pw@cache:6379?password=x` is not valid"),
///     "`redis://***@cache:6379?password=***` is not valid"
/// );
/// assert_eq!(urls_in("no url here: a@b"), "no url here: a@b");
/// ```
pub fn urls_in(text: &str) -> String {
    let scheme_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-');
    let stop = |c: char| c.is_whitespace() || matches!(c, '`' | '"' | '\'' | '<' | '>');
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let mark = from + found;
        let start = text[copied..mark]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| scheme_char(c))
            .last()
            .map_or(mark, |(i, _)| copied + i);
        let end = text[mark..].find(stop).map_or(text.len(), |i| mark + i);
        out.push_str(&text[copied..start]);
        out.push_str(&url(&text[start..end]));
        copied = end;
        from = end.max(mark + 3);
    }
    out.push_str(&text[copied..]);
    out
}

/// Whether a URL parameter of this name carries a credential: it contains `key`, `token`,
/// `secret`, `pass`, `pwd`, `sig` or `credential`, or `auth` other than MongoDB's harmless
/// `authSource` and `authMechanism` (any case).
///
/// ```
/// use tradegraph_core::redact::credential_name;
/// assert!(credential_name("api_key") && credential_name("X-Amz-Signature"));
/// assert!(credential_name("authMechanismProperties"));
/// assert!(!credential_name("authSource") && !credential_name("model"));
/// ```
pub fn credential_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["key", "token", "secret", "pass", "pwd", "sig", "credential"]
        .iter()
        .any(|w| name.contains(w))
        || (name.contains("auth") && name != "authsource" && name != "authmechanism")
}

/// Whether `authority` is hosts only, no credentials: comma-separated `host`, `host:port`,
/// `[ipv6]` or `[ipv6]:port` (the port all digits), or empty.
fn is_host_list(authority: &str) -> bool {
    let port = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    authority
        .split(',')
        .all(|host| match host.strip_prefix('[') {
            Some(bracketed) => bracketed.split_once(']').is_some_and(|(ip, after)| {
                !ip.contains(['[', '@'])
                    && (after.is_empty() || after.strip_prefix(':').is_some_and(port))
            }),
            None => match host.split_once(':') {
                Some((name, p)) => !name.is_empty() && !name.contains(['[', ']']) && port(p),
                None => !host.contains(['[', ']']),
            },
        })
}
