use proptest::prelude::*;

use super::tests_support::sample;
use super::*;

#[test]
fn both_forms_round_trip() {
    let inv = sample();
    let text = inv.to_toml();
    assert!(text.contains("from = \"Ada Lovelace\""), "{text}");
    assert_eq!(Invitation::from_toml(&text).unwrap(), inv);
    assert_eq!(Invitation::parse(&text).unwrap(), inv);
    let string = inv.to_string_form();
    // Binary fields travel as bytes: two addresses and a relay fit in a short chat message.
    assert!(string.len() < 330, "{} characters", string.len());
    assert_eq!(Invitation::parse(&string).unwrap(), inv);
    // A chat program wrapped and padded it.
    let wrapped = format!("  {}\n{}  \n", &string[..60], &string[60..]);
    assert_eq!(Invitation::parse(&wrapped).unwrap(), inv);
}

#[test]
fn nothing_derived_from_the_password_is_in_it() {
    // The fields are fixed: no verifier, no hash, no key of any kind.
    let text = sample().to_toml();
    for word in ["verifier", "hash", "key", "password ="] {
        assert!(!text.contains(word), "{word} in:\n{text}");
    }
}

#[test]
fn each_bad_field_is_named() {
    let good = sample().to_toml();
    let cases = [
        ("id = \"k3J9-xQ2m-77aB\"", "id = \"short\"", "id"),
        ("from = \"Ada Lovelace\"", "from = \"\"", "from"),
        ("expires = 1795003600", "expires = 1795000000", "expires"),
        ("expires = 1795003600", "expires = 1899000000", "expires"),
        (
            "argon2_salt = \"a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5\"",
            "argon2_salt = \"a5\"",
            "argon2_salt",
        ),
        (
            "argon2_memory_kib = 65536",
            "argon2_memory_kib = 1",
            "argon2_memory_kib",
        ),
        ("argon2_passes = 3", "argon2_passes = 0", "argon2_passes"),
        // A crafted file must not make the helper stretch with 4 GiB or for minutes.
        (
            "argon2_memory_kib = 65536",
            "argon2_memory_kib = 4194304",
            "argon2_memory_kib",
        ),
        ("argon2_passes = 3", "argon2_passes = 16", "argon2_passes"),
        ("argon2_lanes = 1", "argon2_lanes = 16", "argon2_lanes"),
        // A relay the helper could not use.
        (
            "relayed = \"198.51.100.7:49152\"",
            "relayed = \"198.51.100.7\"",
            "relays",
        ),
        (
            "server = \"198.51.100.7:3478\"",
            "server = \"198.51.100.7:0\"",
            "relays",
        ),
        (
            "login = \"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\"",
            "login = \"5a5a\"",
            "relays",
        ),
        // Text that would read otherwise than it is.
        (
            "from = \"Ada Lovelace\"",
            "from = \"Ada \\u202Eecalevol\"",
            "from",
        ),
        (
            "from = \"Ada Lovelace\"",
            "from = \"Ada\\u001B[2J\"",
            "from",
        ),
        ("\"192.0.2.10:47600\"", "\"192.0.2.10\"", "addresses"),
        ("\"192.0.2.10:47600\"", "\"192.0.2.10:0\"", "addresses"),
    ];
    for (from, to, name) in cases {
        assert!(good.contains(from), "{from} not in:\n{good}");
        let bad = good.replace(from, to);
        match Invitation::from_toml(&bad) {
            Err(InviteError::InvalidField { field, reason }) => assert_eq!(field, name, "{reason}"),
            other => panic!("{to}: {other:?}"),
        }
    }
    let fingerprint = good.lines().find(|l| l.starts_with("fingerprint")).unwrap();
    let bad = good.replace(fingerprint, "fingerprint = \"00:11\"");
    assert!(matches!(
        Invitation::from_toml(&bad),
        Err(InviteError::InvalidField {
            field: "fingerprint",
            ..
        })
    ));
    let message = good.lines().find(|l| l.starts_with("message")).unwrap();
    for bad in ["Hi\\u001B]0;x\\u0007", "Read \\u202Eexe.txt", "one\\ttab"] {
        let edited = good.replace(message, &format!("message = \"{bad}\""));
        assert!(
            matches!(
                Invitation::from_toml(&edited),
                Err(InviteError::InvalidField {
                    field: "message",
                    ..
                })
            ),
            "{bad}"
        );
    }
    let lines = good.replace(message, "message = \"two\\nlines\"");
    assert_eq!(Invitation::from_toml(&lines).unwrap().message, "two\nlines");
    let newer = good.replace("version = 1", "version = 2");
    assert_eq!(Invitation::from_toml(&newer), Err(InviteError::Version(2)));
    let unknown = format!("{good}\nextra = 1\n");
    assert!(matches!(
        Invitation::from_toml(&unknown),
        Err(InviteError::NotAnInvitation { .. })
    ));
    let err = Invitation::parse("beckon:@@@").unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
    assert!(matches!(
        Invitation::parse("hello"),
        Err(InviteError::NotAnInvitation { .. })
    ));
}

#[test]
fn expiry_is_inclusive_of_its_second() {
    let inv = sample();
    assert!(!inv.is_expired(inv.expires - 1));
    assert!(inv.is_expired(inv.expires));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn random_text_never_panics(text in ".{0,400}") {
        let _ = Invitation::parse(&text);
        let _ = Invitation::parse(&format!("beckon:{text}"));
    }

    #[test]
    fn mutated_invitations_are_errors_or_valid(at in any::<usize>(), byte in any::<u8>(), cut in any::<usize>(), string_form in any::<bool>()) {
        let inv = sample();
        let text = if string_form { inv.to_string_form() } else { inv.to_toml() };
        let mut bytes = text.into_bytes();
        let i = at % bytes.len();
        bytes[i] = byte;
        bytes.truncate(bytes.len() - cut % 8);
        if let Ok(text) = String::from_utf8(bytes) {
            // Either a clear error, or an invitation that passed every check.
            if let Ok(parsed) = Invitation::parse(&text) {
                prop_assert!(parsed.expires > parsed.created && !parsed.addresses.is_empty());
            }
        }
    }
}
