//! Keeping text from the service (or from a user) from driving the
//! terminal: the one escaping rule for everything `cos-ci` prints for people
//! (table cells, the `NextToken` line, error lines). JSON output is never
//! escaped this way: it stays exact.

use std::borrow::Cow;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// `text` with every character that could drive or deceive a terminal
/// replaced by its Rust escape (`\n`, `\u{1b}`, `\u{202e}`), so a row stays
/// a row, an escape sequence is shown instead of run, and right-to-left
/// overrides or invisible characters cannot make text read differently from
/// what it is. Borrowed when nothing needs escaping (the common case).
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Control characters (C0, DEL, C1), the line and paragraph separators,
/// and the invisible formatting characters (Unicode category Cf): soft
/// hyphen, Arabic letter mark, zero-width space and joiners, left-to-right
/// and right-to-left marks, bidirectional embeddings, overrides and
/// isolates, word joiner and invisible operators, byte-order mark,
/// interlinear annotation marks and tag characters. The categories come
/// from `unicode-properties` rather than a table of our own, so characters
/// that later Unicode versions add to Cf are escaped too.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c.general_category(),
            GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_invisible_formatting() {
        assert!(matches!(printable("视频 1.mp4"), Cow::Borrowed(_)));
        assert_eq!(printable("a\nb\r\tc\u{1b}[31m"), "a\\nb\\r\\tc\\u{1b}[31m");
        // "exe.txt" shown as what it is, not as "txt.exe".
        assert_eq!(printable("\u{202e}txt.exe"), "\\u{202e}txt.exe");
        for c in [
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{FEFF}',
            '\u{061C}',
            '\u{2028}',
            '\u{2029}',
            '\u{2060}',
            '\u{00AD}',
            '\u{E0041}',
            '\u{0600}',
            '\u{110BD}',
            '\u{1D173}',
            '\u{E0001}',
            '\u{85}',
            '\u{7f}',
        ] {
            let text = format!("a{c}b");
            let shown = printable(&text);
            assert!(!shown.contains(c), "{c:?} reached the terminal");
            assert_eq!(shown, format!("a{}b", c.escape_default()));
        }
        // Visible non-ASCII, including right-to-left scripts, stays as it is.
        assert_eq!(printable("ملف é ü 照片"), "ملف é ü 照片");
    }
}
