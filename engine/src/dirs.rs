//! Where Beckon keeps things on this computer, in one place: the platform's conventions through
//! the `directories` crate (on Linux the XDG base directories, an empty or relative
//! `XDG_*_HOME` ignored as the specification says; on Windows and macOS their own folders).

use std::path::PathBuf;

use directories::{BaseDirs, ProjectDirs};

/// Why no directory could be found.
#[derive(Debug, thiserror::Error)]
#[error("{}", crate::t!("no-home"))]
pub struct NoHome;

fn project() -> Result<ProjectDirs, NoHome> {
    ProjectDirs::from("", "", "beckon").ok_or(NoHome)
}

/// Beckon's data: the sharer's invitation store (`~/.local/share/beckon`).
///
/// # Errors
/// When there is no home directory.
pub fn data() -> Result<PathBuf, NoHome> {
    Ok(project()?.data_dir().to_path_buf())
}

/// Beckon's settings (`~/.config/beckon`).
///
/// # Errors
/// When there is no home directory.
pub fn config() -> Result<PathBuf, NoHome> {
    Ok(project()?.config_dir().to_path_buf())
}

/// Beckon's logs and remembered choices (`~/.local/state/beckon`; the data directory where the
/// platform has no state directory).
///
/// # Errors
/// When there is no home directory.
pub fn state() -> Result<PathBuf, NoHome> {
    let project = project()?;
    Ok(project
        .state_dir()
        .unwrap_or_else(|| project.data_local_dir())
        .to_path_buf())
}

/// The user's own data directory, where desktop entries and MIME types go
/// (`~/.local/share`).
///
/// # Errors
/// When there is no home directory.
pub fn user_data() -> Result<PathBuf, NoHome> {
    Ok(BaseDirs::new().ok_or(NoHome)?.data_dir().to_path_buf())
}

/// The user's home folder.
///
/// # Errors
/// When there is no home directory.
pub fn home() -> Result<PathBuf, NoHome> {
    Ok(BaseDirs::new().ok_or(NoHome)?.home_dir().to_path_buf())
}

/// The user's Documents folder (`XDG_DOCUMENTS_DIR`), when they have one that exists.
///
/// # Errors
/// When there is none.
pub fn documents() -> Result<PathBuf, NoHome> {
    existing(directories::UserDirs::new().and_then(|u| u.document_dir().map(PathBuf::from)))
}

/// The user's Desktop folder (`XDG_DESKTOP_DIR`), when they have one that exists.
///
/// # Errors
/// When there is none.
pub fn desktop() -> Result<PathBuf, NoHome> {
    existing(directories::UserDirs::new().and_then(|u| u.desktop_dir().map(PathBuf::from)))
}

fn existing(dir: Option<PathBuf>) -> Result<PathBuf, NoHome> {
    dir.filter(|d| d.is_dir()).ok_or(NoHome)
}
