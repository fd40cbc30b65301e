//! Password rules for invitations, and a generator of strong, readable passwords.
//!
//! A password must pass two tests: the classic rule of the Windows XP guidance (at least 10
//! characters, with letters, digits and a special character) and a real strength estimate
//! (zxcvbn score 3 or better, which also catches `Password123!`-style passwords the rule lets
//! through). The sharer's name and message count as known words, so a password built from them
//! scores low.

use rand_core::{CryptoRng, RngCore};

use crate::session::Secret;

/// Fewest characters a password may have.
pub const MIN_LENGTH: usize = 10;
/// Lowest zxcvbn score accepted (0 to 4).
pub const MIN_SCORE: u8 = 3;

/// Why a password is refused, in words for the sharer (in their language).
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WeakPassword {
    /// Too short.
    TooShort(usize),
    /// A character class is missing: `"letter"`, `"digit"` or `"special character"`.
    MissingClass(&'static str),
    /// Easy to guess despite the rule.
    Guessable {
        /// zxcvbn's warning, if any, as ": ..." in the reader's language.
        hint: String,
    },
    /// The two entries differ.
    Mismatch,
}

impl std::fmt::Display for WeakPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            WeakPassword::TooShort(n) => {
                crate::t!("password-too-short", n = *n, min = MIN_LENGTH)
            }
            WeakPassword::MissingClass("letter") => crate::t!("password-missing-letter"),
            WeakPassword::MissingClass("digit") => crate::t!("password-missing-digit"),
            WeakPassword::MissingClass(_) => crate::t!("password-missing-special"),
            WeakPassword::Guessable { hint } => {
                crate::t!("password-guessable", hint = hint.as_str())
            }
            WeakPassword::Mismatch => crate::t!("password-mismatch"),
        };
        f.write_str(&text)
    }
}

impl std::error::Error for WeakPassword {}

/// zxcvbn's warning in the reader's language.
fn warning(warning: zxcvbn::feedback::Warning) -> String {
    use zxcvbn::feedback::Warning as W;
    match warning {
        W::StraightRowsOfKeysAreEasyToGuess => crate::t!("zxcvbn-straight-rows"),
        W::ShortKeyboardPatternsAreEasyToGuess => crate::t!("zxcvbn-keyboard-patterns"),
        W::RepeatsLikeAaaAreEasyToGuess => crate::t!("zxcvbn-repeats"),
        W::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess => crate::t!("zxcvbn-repeated-words"),
        W::ThisIsATop10Password => crate::t!("zxcvbn-top10"),
        W::ThisIsATop100Password => crate::t!("zxcvbn-top100"),
        W::ThisIsACommonPassword => crate::t!("zxcvbn-common"),
        W::ThisIsSimilarToACommonlyUsedPassword => crate::t!("zxcvbn-similar"),
        W::SequencesLikeAbcAreEasyToGuess => crate::t!("zxcvbn-sequences"),
        W::RecentYearsAreEasyToGuess => crate::t!("zxcvbn-recent-years"),
        W::AWordByItselfIsEasyToGuess => crate::t!("zxcvbn-word"),
        W::DatesAreOftenEasyToGuess => crate::t!("zxcvbn-dates"),
        W::NamesAndSurnamesByThemselvesAreEasyToGuess => crate::t!("zxcvbn-names"),
        W::CommonNamesAndSurnamesAreEasyToGuess => crate::t!("zxcvbn-common-names"),
    }
}

/// Checks a password; `known` holds words an attacker would try first (the sharer's name, the
/// message).
///
/// # Errors
/// The first rule the password breaks.
pub fn check(password: &str, known: &[&str]) -> Result<(), WeakPassword> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(WeakPassword::TooShort(length));
    }
    if !password.chars().any(char::is_alphabetic) {
        return Err(WeakPassword::MissingClass("letter"));
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        return Err(WeakPassword::MissingClass("digit"));
    }
    if !password.chars().any(|c| !c.is_alphanumeric()) {
        return Err(WeakPassword::MissingClass("special character"));
    }
    let words = known_words(known);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let entropy = zxcvbn::zxcvbn(password, &words);
    if (entropy.score() as u8) < MIN_SCORE {
        let hint = entropy
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| format!(": {}", warning(w)))
            .unwrap_or_default();
        return Err(WeakPassword::Guessable { hint });
    }
    Ok(())
}

/// Whole inputs and each of their words: "Ada Lovelace" makes "lovelace" a known word.
fn known_words(known: &[&str]) -> Vec<String> {
    known
        .iter()
        .flat_map(|k| {
            std::iter::once(k.to_lowercase()).chain(k.split_whitespace().map(str::to_lowercase))
        })
        .collect()
}

/// zxcvbn's estimate of how hard `password` is to guess, from 0 (trivial) to 4 (very hard),
/// `known` counting as words an attacker tries first; for a strength meter beside [`check`].
pub fn score(password: &str, known: &[&str]) -> u8 {
    let words = known_words(known);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    zxcvbn::zxcvbn(password, &words).score() as u8
}

/// Checks that two entries match, then the rules.
///
/// # Errors
/// [`WeakPassword::Mismatch`], or what [`check`] says.
pub fn check_twice(first: &str, second: &str, known: &[&str]) -> Result<(), WeakPassword> {
    if first != second {
        return Err(WeakPassword::Mismatch);
    }
    check(first, known)
}

/// A strong, readable password such as `Tamoki-Ruvela-Sipono-47!`: three pronounceable words of
/// three syllables, two digits and a mark; about 67 bits of randomness.
pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Secret<String> {
    const CONSONANTS: &[u8] = b"bdfghjklmnprstvz";
    const VOWELS: &[u8] = b"aeiou";
    const MARKS: &[u8] = b"!#%+=?";
    let mut pick = |n: usize| (rng.next_u32() as usize) % n;
    let mut words = Vec::new();
    for _ in 0..3 {
        let mut word = String::new();
        for i in 0..3 {
            let c = CONSONANTS[pick(CONSONANTS.len())] as char;
            word.push(if i == 0 { c.to_ascii_uppercase() } else { c });
            word.push(VOWELS[pick(VOWELS.len())] as char);
        }
        words.push(word);
    }
    let digits = pick(90) + 10;
    let mark = MARKS[pick(MARKS.len())] as char;
    Secret::new(format!("{}-{digits}{mark}", words.join("-")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn the_classic_rule_comes_first() {
        assert_eq!(check("Ab1!", &[]), Err(WeakPassword::TooShort(4)));
        assert_eq!(
            check("1234567890!", &[]),
            Err(WeakPassword::MissingClass("letter"))
        );
        assert_eq!(
            check("abcdefghij!", &[]),
            Err(WeakPassword::MissingClass("digit"))
        );
        assert_eq!(
            check("abcdefghij1", &[]),
            Err(WeakPassword::MissingClass("special character"))
        );
    }

    #[test]
    fn guessable_passwords_that_pass_the_rule_are_refused() {
        for weak in [
            "Password123!",
            "Qwerty12345!",
            "P@ssw0rd2024",
            "Welcome123!",
        ] {
            let err = check(weak, &[]).unwrap_err();
            assert!(
                matches!(err, WeakPassword::Guessable { .. }),
                "{weak}: {err:?}"
            );
        }
        // Built from what the invitation says about the sharer.
        assert_eq!(
            check("Lovelace1815!", &[]),
            Ok(()),
            "strong enough for a stranger"
        );
        let err = check("Lovelace1815!", &["Ada Lovelace"]).unwrap_err();
        assert!(matches!(err, WeakPassword::Guessable { .. }), "{err:?}");
        assert!(err.to_string().contains("--generate-password"));
    }

    #[test]
    fn strong_passwords_pass_and_must_be_typed_twice_alike() {
        assert_eq!(check("correct-Horse-battery-7-staple", &[]), Ok(()));
        assert_eq!(
            check_twice(
                "correct-Horse-battery-7-staple",
                "correct-Horse-battery-7-stapel",
                &[]
            ),
            Err(WeakPassword::Mismatch)
        );
    }

    #[test]
    fn generated_passwords_pass_and_differ() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let a = generate(&mut rng);
        let b = generate(&mut rng);
        assert_ne!(a.expose(), b.expose());
        for p in [a, b] {
            assert_eq!(check(p.expose(), &[]), Ok(()), "{}", p.expose());
            assert_eq!(format!("{p:?}"), "[redacted]");
        }
    }
}
