//! The clipboard's text on the control stream: split into [`Message::Clipboard`] parts small
//! enough for one message each, and put back together on the other side, bounded.

use crate::wire::{MAX_CLIPBOARD, MAX_CLIPBOARD_PART, Message};

/// The parts that carry `text`, in order; none when it is longer than [`MAX_CLIPBOARD`] (a
/// clipboard that large is not shared).
pub(crate) fn parts(text: &str) -> Vec<Message> {
    if text.len() > MAX_CLIPBOARD {
        tracing::warn!(bytes = text.len(), "a clipboard too large to share");
        return Vec::new();
    }
    let mut parts = Vec::new();
    let mut rest = text;
    loop {
        let mut end = rest.len().min(MAX_CLIPBOARD_PART);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (part, after) = rest.split_at(end);
        rest = after;
        parts.push(Message::Clipboard {
            part: part.to_string(),
            more: !rest.is_empty(),
        });
        if rest.is_empty() {
            return parts;
        }
    }
}

/// Parts received so far; a text that would grow past [`MAX_CLIPBOARD`] is dropped whole.
#[derive(Debug, Default)]
pub(crate) struct Assembly {
    text: String,
    overflow: bool,
}

impl Assembly {
    /// Adds a part; the whole text once its last part is in.
    pub(crate) fn add(&mut self, part: &str, more: bool) -> Option<String> {
        if self.overflow || self.text.len() + part.len() > MAX_CLIPBOARD {
            self.overflow = true;
            self.text = String::new();
        } else {
            self.text.push_str(part);
        }
        if more {
            return None;
        }
        let whole = std::mem::take(&mut self.text);
        if std::mem::take(&mut self.overflow) {
            tracing::warn!("a clipboard too large was dropped");
            return None;
        }
        Some(whole)
    }

    /// Forgets a text half received (control ended meanwhile).
    pub(crate) fn clear(&mut self) {
        *self = Assembly::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assemble(messages: &[Message]) -> Vec<String> {
        let mut assembly = Assembly::default();
        messages
            .iter()
            .filter_map(|m| match m {
                Message::Clipboard { part, more } => assembly.add(part, *more),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn texts_go_in_parts_split_between_characters_and_come_back_whole() {
        let long: String = "añ€😀".repeat(5000);
        let split = parts(&long);
        assert!(split.len() > 1);
        for part in &split {
            part.encode().expect("each part fits a message");
        }
        assert_eq!(assemble(&split), [long]);
        assert_eq!(assemble(&parts("")), [""]);
        assert_eq!(assemble(&parts("ls -l\n")), ["ls -l\n"]);
    }

    #[test]
    fn a_clipboard_too_large_is_neither_sent_nor_kept() {
        assert!(parts(&"x".repeat(MAX_CLIPBOARD + 1)).is_empty());
        let part = "y".repeat(MAX_CLIPBOARD_PART);
        let endless: Vec<Message> = (0..MAX_CLIPBOARD / MAX_CLIPBOARD_PART + 2)
            .map(|_| Message::Clipboard {
                part: part.clone(),
                more: true,
            })
            .chain([Message::Clipboard {
                part: "end".into(),
                more: false,
            }])
            .collect();
        assert!(assemble(&endless).is_empty(), "dropped whole");
        // The next text is whole again.
        let mut both = endless;
        both.extend(parts("next"));
        assert_eq!(assemble(&both), ["next"]);
    }
}
