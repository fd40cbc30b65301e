//! Files only the sharer may read: the store (it holds each invitation's credential and the agent's
//! TLS key), the configuration (it may hold the SMTP password) and the invitations the agent
//! writes. Directories are made 0700 and files 0600; one that others can read or write, or that
//! belongs to another user, is refused with the command that fixes it, as OpenSSH's StrictModes
//! does.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Mode bits that let anyone but the owner in.
const OTHERS: u32 = 0o077;

/// Creates `dir` (and missing parents) readable by its owner only, or checks that the existing
/// one is.
///
/// # Errors
/// When it cannot be created, or others can use it.
pub fn dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| crate::t!("io-creating", file = dir.display().to_string()))?;
    }
    check(dir, 0o700)
}

/// Checks that `file`, if it exists, is readable by its owner only.
///
/// # Errors
/// When others can read or write it, or it belongs to another user.
pub fn file(file: &Path) -> Result<()> {
    if file.exists() {
        check(file, 0o600)?;
    }
    Ok(())
}

/// Creates `file` empty and readable by its owner only, unless it exists (then checks it).
///
/// # Errors
/// When it cannot be created, or others can use the existing one.
pub fn create(file: &Path) -> Result<()> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => self::file(file),
        Err(e) => {
            Err(e).with_context(|| crate::t!("io-creating", file = file.display().to_string()))
        }
    }
}

/// Writes `contents` to `file`, readable by its owner only (an existing file is replaced, and
/// its mode tightened).
///
/// # Errors
/// When it cannot be written.
pub fn write(file: &Path, contents: &[u8]) -> Result<()> {
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)
        .with_context(|| crate::t!("io-writing", file = file.display().to_string()))?;
    // An existing file keeps its mode on open.
    out.set_permissions(std::fs::Permissions::from_mode(0o600))
        .with_context(|| crate::t!("io-writing", file = file.display().to_string()))?;
    out.write_all(contents)
        .with_context(|| crate::t!("io-writing", file = file.display().to_string()))
}

/// Whether others may change a file of this mode (not only read it).
fn mode_bits_writable(mode: u32) -> bool {
    mode & 0o022 != 0
}

fn check(path: &Path, wanted: u32) -> Result<()> {
    let meta = std::fs::metadata(path)
        .with_context(|| crate::t!("io-reading", file = path.display().to_string()))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        bail!(
            "{}",
            crate::t!(
                "private-owner",
                file = path.display().to_string(),
                uid = meta.uid(),
                command = format!("chown {me} {}", shell_quote(path))
            )
        );
    }
    let mode = meta.mode() & 0o777;
    if mode & OTHERS != 0 {
        let command = format!("chmod {wanted:o} {}", shell_quote(path));
        let (file, mode) = (path.display().to_string(), format!("{mode:04o}"));
        if mode_bits_writable(meta.mode()) {
            bail!(
                "{}",
                crate::t!(
                    "private-writable",
                    file = file,
                    mode = mode,
                    command = command
                )
            );
        }
        bail!(
            "{}",
            crate::t!(
                "private-readable",
                file = file,
                mode = mode,
                command = command
            )
        );
    }
    Ok(())
}

/// `path` as one shell word.
fn shell_quote(path: &Path) -> String {
    let text = path.display().to_string();
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("beckon-private-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o777
    }

    #[test]
    fn new_directories_and_files_are_the_owners_alone() {
        let base = scratch("new");
        let dir = base.join("a/b");
        self::dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let db = dir.join("agent.db");
        create(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        let saved = dir.join("invitation.beckon");
        std::fs::write(&saved, "old").unwrap();
        std::fs::set_permissions(&saved, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&saved, b"new").unwrap();
        assert_eq!(mode(&saved), 0o600);
        assert_eq!(std::fs::read(&saved).unwrap(), b"new");
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_loose_directory_or_file_is_refused_with_the_command_that_fixes_it() {
        let dir = scratch("loose dir");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let said = self::dir(&dir).unwrap_err().to_string();
        assert!(
            said.contains("can be read by other users (mode 0755)"),
            "{said}"
        );
        assert!(
            said.contains(&format!("`chmod 700 '{}'`", dir.display())),
            "{said}"
        );
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        self::dir(&dir).unwrap();

        let db = dir.join("agent.db");
        std::fs::write(&db, "").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o666)).unwrap();
        let said = file(&db).unwrap_err().to_string();
        assert!(
            said.contains("can be changed by other users (mode 0666)"),
            "{said}"
        );
        assert!(said.contains("`chmod 600 "), "{said}");
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
        file(&db).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
