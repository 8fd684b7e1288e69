//! Text for a terminal: ids and values from the input shown, never obeyed.

use std::borrow::Cow;

/// `text` with every character a terminal would act on written as an
/// escape instead: control characters other than line feed and tab (an
/// ESC starts a sequence that can rewrite the screen or the title), and the
/// Unicode bidirectional controls that reorder what is shown. E.g. ESC
/// becomes `\u{1b}`.
pub(crate) fn safe(text: &str) -> Cow<'_, str> {
    let active = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.contains(active) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if active(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_bidi_controls_are_shown_not_obeyed() {
        assert_eq!(safe("plain\n\tid"), "plain\n\tid");
        assert_eq!(safe("a\u{1b}]0;pwned\u{7}b\r"), "a\\u{1b}]0;pwned\\u{7}b\\u{d}");
        assert_eq!(safe("x\u{202e}y"), "x\\u{202e}y");
    }
}
