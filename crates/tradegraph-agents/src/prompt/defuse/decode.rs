//! Undoing the encodings a closing tag or a role marker can hide behind: HTML character
//! references, backslash escapes and the percent escapes of the characters that build structure.

/// Named character references worth decoding: the common ones (so `AT&amp;T` reads as `AT&T`)
/// and every one that spells a character a frame, a heading, a fence or a role marker is made
/// of. Matched case-insensitively, as browsers do for the legacy ones (`&LT;`).
const NAMED: [(&str, char); 22] = [
    ("lt", '<'),
    ("gt", '>'),
    ("amp", '&'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", ' '),
    ("sol", '/'),
    ("bsol", '\\'),
    ("colon", ':'),
    ("num", '#'),
    ("grave", '`'),
    ("lang", '<'),
    ("rang", '>'),
    ("langle", '<'),
    ("rangle", '>'),
    ("lsaquo", '<'),
    ("rsaquo", '>'),
    ("newline", '\n'),
    ("tab", '\t'),
    ("lpar", '('),
    ("rpar", ')'),
    ("verbar", '|'),
];

/// The named references a browser also reads without their `;` (`&lt/data&gt`).
const LEGACY: [&str; 4] = ["lt", "gt", "amp", "quot"];

/// Decodes one layer of encoding; the caller repeats until nothing changes, so `&amp;lt;`
/// becomes `<` too. Every decoding replaces several characters with one, so repeating ends.
pub(super) fn decode(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let decoded = match chars[i] {
            '&' => reference(&chars[i + 1..]),
            '\\' => backslash(&chars[i + 1..]),
            '%' => percent(&chars[i + 1..]),
            _ => None,
        };
        match decoded {
            Some((c, used)) => {
                out.push(c);
                i += 1 + used;
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

/// `&name;`, `&#60;`, `&#x3c;` (after the `&`): the character and how many chars it used.
fn reference(rest: &[char]) -> Option<(char, usize)> {
    if rest.first() == Some(&'#') {
        let (radix, start) = match rest.get(1) {
            Some('x' | 'X') => (16, 2),
            _ => (10, 1),
        };
        let digits = rest[start..]
            .iter()
            .take_while(|c| c.is_digit(radix))
            .count();
        if digits == 0 || digits > 8 {
            return None;
        }
        let number: String = rest[start..start + digits].iter().collect();
        let c = u32::from_str_radix(&number, radix)
            .ok()
            .and_then(char::from_u32)?;
        let semicolon = usize::from(rest.get(start + digits) == Some(&';'));
        return Some((c, start + digits + semicolon));
    }
    let letters = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let name: String = rest[..letters]
        .iter()
        .map(char::to_ascii_lowercase)
        .collect();
    if rest.get(letters) == Some(&';') {
        if let Some((_, c)) = NAMED.iter().find(|(n, _)| *n == name) {
            return Some((*c, letters + 1));
        }
    }
    // Without the `;`, only the legacy names, and only as a whole word or before a
    // non-letter (`&lt/data&gt` but not `&ltd`).
    LEGACY
        .iter()
        .find(|n| name == **n)
        .and_then(|n| NAMED.iter().find(|(m, _)| m == n))
        .map(|(_, c)| (*c, letters))
}

/// `\u003c`, `\u{3c}`, `\x3c`, `\U0000003c`, and `\n`, `\r`, `\t` (after the backslash).
fn backslash(rest: &[char]) -> Option<(char, usize)> {
    let hex = |from: usize, len: usize| -> Option<char> {
        let digits: String = rest.get(from..from + len)?.iter().collect();
        if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(&digits, 16)
            .ok()
            .and_then(char::from_u32)
    };
    match rest.first()? {
        'u' if rest.get(1) == Some(&'{') => {
            let len = rest[2..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
            if (1..=6).contains(&len) && rest.get(2 + len) == Some(&'}') {
                hex(2, len).map(|c| (c, 3 + len))
            } else {
                None
            }
        }
        'u' => hex(1, 4).map(|c| (c, 5)),
        'U' => hex(1, 8).map(|c| (c, 9)),
        'x' => hex(1, 2).map(|c| (c, 3)),
        'n' | 'r' | 't' => Some((' ', 1)),
        _ => None,
    }
}

/// `%3C` and the other percent escapes of structural characters (after the `%`). Others
/// (`%20` in a link) stay as they are.
fn percent(rest: &[char]) -> Option<(char, usize)> {
    let code: String = rest.get(..2)?.iter().collect();
    let c = match code.to_ascii_uppercase().as_str() {
        "3C" => '<',
        "3E" => '>',
        "0A" | "0D" | "09" => ' ',
        "23" => '#',
        "3A" => ':',
        "60" => '`',
        _ => return None,
    };
    Some((c, 2))
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn references_escapes_and_percent_escapes_decode() {
        assert_eq!(decode("&lt;/data&gt;"), "</data>");
        assert_eq!(decode("&LT;/data&GT;"), "</data>");
        assert_eq!(decode("&lt/data&gt x"), "</data> x");
        assert_eq!(decode("&#60;/data&#62;"), "</data>");
        assert_eq!(decode("&#x3C;/data&#x3e;"), "</data>");
        assert_eq!(decode("&#0000060/data&#062;"), "</data>");
        assert_eq!(decode("\\u003c/data\\u003E"), "</data>");
        assert_eq!(decode("\\u{3c}/data\\x3e"), "</data>");
        assert_eq!(decode("%3c/data%3E"), "</data>");
        assert_eq!(decode("SYSTEM&colon; go"), "SYSTEM: go");
        assert_eq!(decode(&decode("&amp;lt;")), "<");
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for text in [
            "AT&T",
            "R&D; 5% up",
            "&ltd",
            "C:\\Users",
            "100%",
            "a & b",
            "&#;",
            "&#x;",
        ] {
            assert_eq!(decode(text), text);
        }
        assert_eq!(decode("AT&amp;T"), "AT&T");
    }
}
