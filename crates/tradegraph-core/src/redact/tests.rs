//! The cases of the three copies this module replaced (store `url`, market `redact`, llm
//! `secret`), and the malformed URLs that used to leak.

use super::{secret, url, urls_in};

#[test]
fn short_secrets_go_as_whole_tokens_only() {
    assert_eq!(secret("the server: token t", "t"), "the server: token ***");
    assert_eq!(secret("t-shirt t_1 (t)", "t"), "t-shirt t_1 (***)");
    assert_eq!(
        secret("xk1t3-long-key-0001x", "k1t3-long-key-0001"),
        "x***x"
    );
    assert_eq!(secret("unchanged", ""), "unchanged");
    // Just below and at the threshold.
    assert_eq!(secret("a1234567b", "1234567"), "a1234567b");
    assert_eq!(secret("a12345678b", "12345678"), "a***b");
}

#[test]
fn urls_lose_their_credentials_and_keep_their_host() {
    for (raw, shown) in [
        (
            "wss://user:pw@kite.example.com/ws?v=3&access_token=t#token=x",
            "wss://***@kite.example.com/ws?v=3&access_token=***#token=***",
        ),
        (
            "https://h.example.com/?key=1&apikey=2&api_token=3&secret=4&password=5&authSource=a",
            "https://h.example.com/?key=***&apikey=***&api_token=***&secret=***&password=***&authSource=a",
        ),
        ("user:pw@host/x", "***@host/x"),
        ("https://h.example.com/a@b?q=1", "https://h.example.com/a@b?q=1"),
        ("ws://127.0.0.1:9", "ws://127.0.0.1:9"),
    ] {
        assert_eq!(url(raw), shown, "{raw}");
    }
}

#[test]
fn query_and_fragment_credentials_go_whatever_their_spelling() {
    for (raw, shown) in [
        (
            "ftp://user:pw@llm.example.com/v1?api_key=k&model=x#access_token=t",
            "ftp://***@llm.example.com/v1?api_key=***&model=x#access_token=***",
        ),
        (
            "https://h.example.com/?key=1&apikey=2&token=3&api_token=4&secret=5&password=6&X-Amz-Signature=7&authSource=admin",
            "https://h.example.com/?key=***&apikey=***&token=***&api_token=***&secret=***&password=***&X-Amz-Signature=***&authSource=admin",
        ),
        ("not a url user:pw@host", "***@host"),
        ("https://h.example.com/a@b?q=1", "https://h.example.com/a@b?q=1"),
        ("http://127.0.0.1:11434", "http://127.0.0.1:11434"),
        ("", ""),
    ] {
        assert_eq!(url(raw), shown, "{raw}");
    }
}

#[test]
fn redact_leaves_query_keys_and_hides_the_host_behind_an_at_sign() {
    // A password given as a query parameter.
    assert_eq!(
        url("rediss://cache.example.com:6380/0?password=hunter2&protocol=resp3"),
        "rediss://cache.example.com:6380/0?password=***&protocol=resp3"
    );
    // MongoDB options that carry secrets, next to a user:password.
    assert_eq!(
        url(
            "mongodb://app:hunter2@db1.example.com,db2.example.com/trading?authSource=admin\
             &tlsCertificateKeyFilePassword=s3cr3t&authMechanismProperties=AWS_SESSION_TOKEN:t0k3n"
        ),
        "mongodb://***@db1.example.com,db2.example.com/trading?authSource=admin\
         &tlsCertificateKeyFilePassword=***&authMechanismProperties=***"
    );
    // An `@` in the query is not the end of credentials: the host stays.
    assert_eq!(
        url("mongodb://db.example.com/x?appName=a@b"),
        "mongodb://db.example.com/x?appName=a@b"
    );
    assert_eq!(
        url("redis://:hunter2@cache.example.com:6379/0"),
        "redis://***@cache.example.com:6379/0"
    );
}

#[test]
fn every_url_of_a_text_is_redacted() {
    assert_eq!(
        urls_in("a wss://u:pw@h.example.com/?token=t b, c `http://h2/?key=k&x=1`"),
        "a wss://***@h.example.com/?token=*** b, c `http://h2/?key=***&x=1`"
    );
    assert_eq!(urls_in("no url here: a@b"), "no url here: a@b");
    assert_eq!(urls_in("://x?token=t"), "://x?token=***");
    assert_eq!(urls_in("é redis://:pw@h"), "é redis://***@h");
    assert_eq!(
        urls_in("`mongodb://app:pa#ss@db.example:27017/x` is not valid"),
        "`mongodb://***@db.example:27017/x` is not valid"
    );
}

#[test]
fn passwords_with_delimiters_or_at_signs_are_hidden() {
    for (raw, shown) in [
        // The reviewer's three.
        (
            "mongodb://app:pa#ss@db.example:27017/x",
            "mongodb://***@db.example:27017/x",
        ),
        ("mongodb://app:pa/ss@db/x", "mongodb://***@db/x"),
        ("redis://:hun?ter2@cache:6379", "redis://***@cache:6379"),
        // `@` in the password, unescaped and escaped.
        (
            "redis://user:pa@ss@cache:6379/0",
            "redis://***@cache:6379/0",
        ),
        (
            "redis://user:pa%40ss@cache:6379/0",
            "redis://***@cache:6379/0",
        ),
        ("user:pa@ss@host", "***@host"),
        // `@` and a delimiter together.
        ("mongodb://app:p@ss/w@db/x", "mongodb://***@db/x"),
        ("mongodb://app:p@s?s@db/x?w=1", "mongodb://***@db/x?w=1"),
        // No scheme.
        ("user:pa@ss/w@host/x", "***@host/x"),
        ("app:pa#ss@db", "***@db"),
        // IPv6 hosts and host lists without credentials keep their `@`-holding paths.
        ("redis://[::1]:6379/a@b", "redis://[::1]:6379/a@b"),
        (
            "mongodb://h1:27017,h2:27017/x?appName=a@b",
            "mongodb://h1:27017,h2:27017/x?appName=a@b",
        ),
        (
            "wss://stream.example.com:9443/stream?streams=btcusdt@trade/btcusdt@depth5@100ms",
            "wss://stream.example.com:9443/stream?streams=btcusdt@trade/btcusdt@depth5@100ms",
        ),
    ] {
        assert_eq!(url(raw), shown, "{raw}");
    }
}

#[test]
fn with_credentials_an_at_sign_later_hides_more_never_less() {
    // Ambiguous (the password may hold the `/`): the host goes too, the keys still go.
    assert_eq!(
        url("mongodb://app:pw@db/x?appName=a@b&password=p#token=t"),
        "mongodb://***@b&password=***#token=***"
    );
    // A parameter value holding a `?` does not smuggle the next parameter through.
    assert_eq!(
        url("https://h.example.com/?next=a?token=t"),
        "https://h.example.com/?next=a?token=***"
    );
}

#[test]
fn no_canary_survives() {
    const CANARY: &str = "pa55w0rd-canary";
    for template in [
        "mongodb://app:{}@db.example.com/x",
        "mongodb://app:{}#@db.example.com/x",
        "mongodb://app:a/{}@db.example.com/x",
        "redis://:?{}@cache:6379",
        "redis://u:{}@@cache:6379",
        "redis://u:@{}@cache:6379/0?x=@",
        "wss://h.example.com/?api_key={}",
        "wss://h.example.com/#x=1&secret={}",
        "{}:{}@host",
    ] {
        let raw = template.replace("{}", CANARY);
        let shown = url(&raw);
        assert!(!shown.contains(CANARY), "{raw} -> {shown}");
        if raw.contains("://") {
            assert!(!urls_in(&format!("bad `{raw}`")).contains(CANARY), "{raw}");
        }
    }
}
