//! Keys as layout-independent X key symbols: what the helper typed, not which key they pressed,
//! so the sharer's keyboard layout decides nothing. Characters are their own symbol (Latin-1) or
//! 0x0100_0000 + their code point (the X convention for other Unicode); keys without a character
//! (Return, arrows, F1) have their own symbols.

use beckon_engine::InputEvent;
use eframe::egui::Key;

/// `Escape`.
pub const ESCAPE: u32 = 0xff1b;
/// `Control_L`.
pub const CONTROL: u32 = 0xffe3;
/// `Alt_L`.
pub const ALT: u32 = 0xffe9;
/// `Super_L`.
pub const SUPER: u32 = 0xffeb;

/// The key symbol of a typed character.
pub fn keysym(c: char) -> u32 {
    match c {
        '\n' | '\r' => 0xff0d,
        '\t' => 0xff09,
        '\u{1b}' => ESCAPE,
        '\u{8}' => 0xff08,
        c if (c as u32) < 0x100 => c as u32,
        c => 0x0100_0000 + c as u32,
    }
}

/// Pressing and releasing the key of `keysym`.
pub fn tap(keysym: u32) -> [InputEvent; 2] {
    [true, false].map(|pressed| InputEvent::Key { keysym, pressed })
}

/// The symbol of a key that types no character (or whose character comes with a modifier held,
/// as Ctrl+C does): `None` for keys that arrive as text.
pub fn key_symbol(key: Key, with_modifier: bool) -> Option<u32> {
    let special = match key {
        Key::Enter => 0xff0d,
        Key::Tab => 0xff09,
        Key::Backspace => 0xff08,
        Key::Delete => 0xffff,
        Key::Insert => 0xff63,
        Key::Home => 0xff50,
        Key::End => 0xff57,
        Key::PageUp => 0xff55,
        Key::PageDown => 0xff56,
        Key::ArrowLeft => 0xff51,
        Key::ArrowUp => 0xff52,
        Key::ArrowRight => 0xff53,
        Key::ArrowDown => 0xff54,
        Key::Escape => ESCAPE,
        Key::F1 => 0xffbe,
        Key::F2 => 0xffbf,
        Key::F3 => 0xffc0,
        Key::F4 => 0xffc1,
        Key::F5 => 0xffc2,
        Key::F6 => 0xffc3,
        Key::F7 => 0xffc4,
        Key::F8 => 0xffc5,
        Key::F9 => 0xffc6,
        Key::F10 => 0xffc7,
        Key::F11 => 0xffc8,
        Key::F12 => 0xffc9,
        // With Ctrl or Alt held a letter or digit types no text: send its lower-case symbol.
        other if with_modifier => {
            let name = other.name();
            let mut chars = name.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_alphanumeric() => c.to_ascii_lowercase() as u32,
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(special)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_map_to_their_symbols() {
        assert_eq!(keysym('a'), 0x61);
        assert_eq!(keysym('é'), 0xe9);
        assert_eq!(keysym('€'), 0x0100_20ac);
        assert_eq!(keysym('\n'), 0xff0d);
    }

    #[test]
    fn keys_without_text_have_symbols() {
        assert_eq!(key_symbol(Key::Enter, false), Some(0xff0d));
        assert_eq!(
            key_symbol(Key::A, false),
            None,
            "plain letters come as text"
        );
        assert_eq!(key_symbol(Key::C, true), Some(0x63), "Ctrl+C sends c");
        assert_eq!(key_symbol(Key::F5, false), Some(0xffc2));
    }
}
