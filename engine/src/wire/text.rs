//! Text from the other side, made safe to print on a terminal or draw in a window.
//!
//! A helper's name or a chat line comes from the network: a terminal escape in it could clear
//! the sharer's screen or forge a prompt, a bidirectional override could make "exe.txt" read
//! "txt.exe", and a line break could fake a second line. [`plain`] drops every control
//! character (C0, DEL, C1: escapes among them), the bidirectional controls and the invisible
//! format characters, and turns tabs (and, unless asked to keep them, line breaks) into spaces.

/// `text` with nothing in it that a terminal or a text widget would act on; line breaks kept
/// when `lines`.
pub fn plain(text: &str, lines: bool) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\n' if lines => Some('\n'),
            '\t' | '\n' | '\r' => Some(' '),
            c if c.is_control() || invisible(c) => None,
            c => Some(c),
        })
        .collect()
}

/// Whether `c` is a bidirectional control or an invisible format character.
pub(crate) fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_overrides_and_line_breaks_go_and_ordinary_text_stays() {
        assert_eq!(
            plain("Grace\u{1b}[2J\u{1b}]0;owned\u{7}", false),
            "Grace[2J]0;owned"
        );
        assert_eq!(plain("evil\u{202E}txt.exe", false), "eviltxt.exe");
        assert_eq!(plain("a\nb\tc\r", false), "a b c ");
        assert_eq!(plain("a\nb", true), "a\nb");
        assert_eq!(plain("\u{9b}31m", false), "31m", "a C1 escape");
        let kept = "Grâce 中文 👋 — ok?";
        assert_eq!(plain(kept, false), kept);
    }
}
