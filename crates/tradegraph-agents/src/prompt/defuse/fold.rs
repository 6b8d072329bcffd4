//! Characters that look like others, and characters that cannot be seen.

/// What a character becomes: itself, a plain look-alike, or nothing.
pub(super) fn fold(c: char) -> Option<char> {
    if invisible(c) {
        return None;
    }
    let code = c as u32;
    let folded = match code {
        // Full-width ASCII (`＜`, `Ｓ`, `：`) and the ideographic space.
        0xFF01..=0xFF5E => char::from_u32(code - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        // Mathematical bold, italic, script, ... letters (`𝐒𝐘𝐒𝐓𝐄𝐌`) and digits.
        0x1D400..=0x1D6A3 => {
            let i = (code - 0x1D400) % 52;
            let base = if i < 26 {
                u32::from(b'A')
            } else {
                u32::from(b'a') - 26
            };
            char::from_u32(base + i).unwrap_or(c)
        }
        0x1D7CE..=0x1D7FF => char::from_u32(u32::from(b'0') + (code - 0x1D7CE) % 10).unwrap_or(c),
        _ => match c {
            // Angle brackets in other clothes; the caller then shows every one as `‹ ›`.
            '\u{2039}' | '\u{2329}' | '\u{3008}' | '\u{27E8}' | '\u{27EA}' | '\u{2991}'
            | '\u{29FC}' | '\u{276C}' | '\u{276E}' | '\u{2770}' | '\u{02C2}' | '\u{1438}'
            | '\u{FE64}' | '\u{300A}' | '\u{227A}' => '<',
            '\u{203A}' | '\u{232A}' | '\u{3009}' | '\u{27E9}' | '\u{27EB}' | '\u{2992}'
            | '\u{29FD}' | '\u{276D}' | '\u{276F}' | '\u{2771}' | '\u{02C3}' | '\u{1433}'
            | '\u{FE65}' | '\u{300B}' | '\u{227B}' => '>',
            // Slashes, colons and number signs that read as the ASCII ones.
            '⁄' | '∕' | '⧸' => '/',
            '꞉' | '∶' | '˸' | '﹕' => ':',
            '﹟' => '#',
            _ => c,
        },
    };
    Some(folded)
}

/// Invisible or formatting characters, private-use characters (the renderer's own markers are
/// among them) and the Unicode tag characters that smuggle hidden ASCII.
fn invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF9..=0xFFFB | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF)
}

/// A role word's letters as plain lowercase ASCII when `c` looks like one (Cyrillic and Greek
/// look-alikes included), for spotting `ЅYSTEM:`; the text itself keeps the original.
pub(super) fn skeleton(c: char) -> char {
    let plain = match c {
        'а' | 'А' | 'α' | 'Α' => 'a',
        'е' | 'Е' | 'ε' | 'Ε' => 'e',
        'о' | 'О' | 'ο' | 'Ο' => 'o',
        'р' | 'Р' | 'ρ' | 'Ρ' => 'p',
        'с' | 'С' | 'ϲ' | 'Ϲ' => 'c',
        'у' | 'У' | 'υ' | 'Υ' => 'y',
        'х' | 'Х' | 'χ' | 'Χ' => 'x',
        'ѕ' | 'Ѕ' => 's',
        'і' | 'І' | 'ι' | 'Ι' | 'ӏ' => 'i',
        'ј' | 'Ј' => 'j',
        'т' | 'Т' | 'τ' | 'Τ' => 't',
        'м' | 'М' | 'Μ' => 'm',
        'н' | 'Н' | 'Η' => 'h',
        'к' | 'К' | 'κ' | 'Κ' => 'k',
        'ν' | 'Ν' => 'n',
        'ԁ' => 'd',
        'ɡ' => 'g',
        'ᴜ' | 'ս' => 'u',
        _ => c,
    };
    plain.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(text: &str) -> String {
        text.chars().filter_map(fold).collect()
    }

    #[test]
    fn look_alikes_fold_and_invisibles_go() {
        assert_eq!(folded("＜／ｄａｔａ＞"), "</data>");
        assert_eq!(
            folded("\u{2329}/data\u{232A}\u{3008}/data\u{3009}﹤/data﹥⟨/data⟩"),
            "</data></data></data></data>"
        );
        assert_eq!(folded("𝐒𝐘𝐒𝐓𝐄𝐌：𝟏"), "SYSTEM:1");
        assert_eq!(
            folded("<\u{200B}/da\u{E0041}ta\u{FEFF}>\u{E000}"),
            "</data>"
        );
        assert_eq!(folded("Ünïcödé, ₹, 日本"), "Ünïcödé, ₹, 日本");
        let role: String = "ЅYЅТЕМ".chars().map(skeleton).collect();
        assert_eq!(role, "system");
    }
}
