//! Keys as layout-independent X key symbols: what the helper typed, not which key they pressed,
//! so the sharer's keyboard layout decides nothing. Characters are their own symbol (through
//! `xkeysym`, as xkbcommon maps them); keys without a character (Return, arrows, F1) and keys
//! pressed with a modifier (Ctrl+C, Shift+Tab) are sent with every modifier held around them.

use beckon_engine::InputEvent;
use eframe::egui::{Key, Modifiers};
use xkeysym::key;

/// The key symbol of a typed character.
pub fn keysym(c: char) -> u32 {
    match c {
        // Enter types a line break; xkbcommon's own mapping of '\n' is Linefeed, not Return.
        '\n' | '\r' => key::Return,
        '\t' => key::Tab,
        '\u{8}' => key::BackSpace,
        c => xkeysym::Keysym::from_char(c).raw(),
    }
}

/// Pressing and releasing the key of `keysym`.
pub fn tap(keysym: u32) -> [InputEvent; 2] {
    [true, false].map(|pressed| InputEvent::Key { keysym, pressed })
}

/// The events for `key` pressed with `modifiers` held: the modifiers down, the key tapped, the
/// modifiers up in reverse. `None` when the key arrives as text instead (a letter with at most
/// Shift held comes as an `egui::Event::Text`, already shifted).
pub fn press(key: Key, modifiers: Modifiers) -> Option<Vec<InputEvent>> {
    let chord = modifiers.ctrl || modifiers.alt || modifiers.mac_cmd;
    let keysym = symbol(key, chord)?;
    let held: Vec<u32> = [
        (modifiers.ctrl, key::Control_L),
        (modifiers.shift, key::Shift_L),
        (modifiers.alt, key::Alt_L),
        (modifiers.mac_cmd, key::Super_L),
    ]
    .into_iter()
    .filter_map(|(on, modifier)| on.then_some(modifier))
    .collect();
    let modifier = |keysym: u32, pressed: bool| InputEvent::Key { keysym, pressed };
    let mut events: Vec<InputEvent> = held.iter().map(|m| modifier(*m, true)).collect();
    events.extend(tap(keysym));
    events.extend(held.iter().rev().map(|m| modifier(*m, false)));
    Some(events)
}

/// Ctrl+`key`, for the shortcuts egui reports as clipboard events (Ctrl+C, Ctrl+X, Ctrl+V).
pub fn ctrl(key: Key) -> Vec<InputEvent> {
    press(key, Modifiers::CTRL).unwrap_or_default()
}

/// The symbol of a key that types no character, or of one pressed in a `chord` (with Ctrl, Alt
/// or Super, when it types no text either): the unshifted symbol, as the key is labelled, since
/// Shift travels as a modifier of its own.
fn symbol(k: Key, chord: bool) -> Option<u32> {
    let special = match k {
        Key::Enter => key::Return,
        Key::Tab => key::Tab,
        Key::Backspace => key::BackSpace,
        Key::Delete => key::Delete,
        Key::Insert => key::Insert,
        Key::Home => key::Home,
        Key::End => key::End,
        Key::PageUp => key::Page_Up,
        Key::PageDown => key::Page_Down,
        Key::ArrowLeft => key::Left,
        Key::ArrowUp => key::Up,
        Key::ArrowRight => key::Right,
        Key::ArrowDown => key::Down,
        Key::Escape => key::Escape,
        Key::F1 => key::F1,
        Key::F2 => key::F2,
        Key::F3 => key::F3,
        Key::F4 => key::F4,
        Key::F5 => key::F5,
        Key::F6 => key::F6,
        Key::F7 => key::F7,
        Key::F8 => key::F8,
        Key::F9 => key::F9,
        Key::F10 => key::F10,
        Key::F11 => key::F11,
        Key::F12 => key::F12,
        Key::Space if chord => key::space,
        Key::Minus if chord => key::minus,
        other if chord => {
            // Letters, digits and punctuation: the one character egui names them by.
            let mut chars = other.symbol_or_name().chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_graphic() => c.to_ascii_lowercase() as u32,
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

    fn keys(events: &[InputEvent]) -> Vec<(u32, bool)> {
        events
            .iter()
            .map(|e| match e {
                InputEvent::Key { keysym, pressed } => (*keysym, *pressed),
                other => panic!("not a key: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn characters_map_to_their_symbols() {
        assert_eq!(keysym('a'), 0x61);
        assert_eq!(keysym('é'), 0xe9);
        assert_eq!(keysym('€'), key::EuroSign);
        assert_eq!(keysym('ж'), key::Cyrillic_zhe);
        assert_eq!(keysym('\n'), key::Return);
    }

    #[test]
    fn plain_keys_and_text() {
        assert_eq!(
            press(Key::Enter, Modifiers::NONE).map(|e| keys(&e)),
            Some(vec![(key::Return, true), (key::Return, false)])
        );
        assert_eq!(press(Key::A, Modifiers::NONE), None, "letters come as text");
        assert_eq!(press(Key::A, Modifiers::SHIFT), None, "so do capitals");
    }

    #[test]
    fn every_modifier_travels_with_every_key() {
        let shift_tab = press(Key::Tab, Modifiers::SHIFT).unwrap();
        assert_eq!(
            keys(&shift_tab),
            [
                (key::Shift_L, true),
                (key::Tab, true),
                (key::Tab, false),
                (key::Shift_L, false)
            ]
        );
        let ctrl_shift_t = press(Key::T, Modifiers::CTRL | Modifiers::SHIFT).unwrap();
        assert_eq!(
            keys(&ctrl_shift_t),
            [
                (key::Control_L, true),
                (key::Shift_L, true),
                (key::t, true),
                (key::t, false),
                (key::Shift_L, false),
                (key::Control_L, false)
            ]
        );
        let shift_right = press(Key::ArrowRight, Modifiers::SHIFT).unwrap();
        assert_eq!(keys(&shift_right)[1], (key::Right, true));
        let alt_f4 = press(Key::F4, Modifiers::ALT).unwrap();
        assert_eq!(keys(&alt_f4)[..2], [(key::Alt_L, true), (key::F4, true)]);
        let ctrl_plus = press(Key::Plus, Modifiers::CTRL).unwrap();
        assert_eq!(keys(&ctrl_plus)[1], (key::plus, true));
        let ctrl_minus = press(Key::Minus, Modifiers::CTRL).unwrap();
        assert_eq!(keys(&ctrl_minus)[1], (key::minus, true));
    }
}
