//! `application/x-www-form-urlencoded` (query strings and form bodies), as both venues read
//! them: pairs in order, `+` a space, `%XX` a byte.

/// `a=1&b=2` into decoded pairs, in order (a bare `a` is `("a", "")`).
pub(crate) fn pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn hex(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// One percent-encoded component (a `%` not followed by two hex digits stays as it is).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn pairs_decode_in_order() {
        assert_eq!(
            super::pairs("a=1%2B1&b=x+y&c&d=%zz"),
            vec![
                ("a".into(), "1+1".into()),
                ("b".into(), "x y".into()),
                ("c".into(), String::new()),
                ("d".into(), "%zz".into()),
            ]
        );
    }
}
