//! `beckon-viewer --install-desktop-entry`: registers the viewer with the desktop (freedesktop.org
//! conventions), so a file manager opens `.beckon` invitations with it on a double-click.

use std::path::Path;

use anyhow::{Context, Result};

/// The invitation file type (the e-mail attachment's type too).
pub const MIME_TYPE: &str = "application/x-beckon-invitation";

/// The packages' entry (`packaging/`), which runs the installed `beckon-viewer`.
const ENTRY: &str = include_str!("../../packaging/beckon-viewer.desktop");

/// The shared-mime-info package declaring `*.beckon`, as the packages install it.
const MIME_PACKAGE: &str = include_str!("../../packaging/beckon.xml");

/// The `.desktop` entry for `exe`: the packages' one, run from where `exe` is. The path is
/// quoted only when it must be (some launchers refuse a quoted one).
fn entry(exe: &Path) -> String {
    let path = exe.display().to_string();
    let plain = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c));
    let exec = if plain {
        path
    } else {
        format!("\"{}\"", path.replace('\\', "\\\\").replace('"', "\\\""))
    };
    ENTRY.replace("Exec=beckon-viewer ", &format!("Exec={exec} "))
}

/// Writes the entry and the file type, then refreshes the desktop's caches when their tools
/// are installed.
///
/// # Errors
/// When the files cannot be written.
pub fn install() -> Result<()> {
    let exe = std::env::current_exe()?.canonicalize()?;
    let data = beckon_engine::dirs::user_data()?;
    let applications = data.join("applications");
    let packages = data.join("mime/packages");
    std::fs::create_dir_all(&applications)?;
    std::fs::create_dir_all(&packages)?;
    let desktop = applications.join("beckon-viewer.desktop");
    std::fs::write(&desktop, entry(&exe))
        .with_context(|| t!("io-writing", file = desktop.display().to_string()))?;
    let package = packages.join("beckon.xml");
    std::fs::write(&package, MIME_PACKAGE)
        .with_context(|| t!("io-writing", file = package.display().to_string()))?;
    println!(
        "{}",
        t!(
            "desktop-wrote",
            entry = desktop.display().to_string(),
            package = package.display().to_string()
        )
    );
    let refresh: [(&str, Vec<std::ffi::OsString>); 3] = [
        ("update-mime-database", vec![data.join("mime").into()]),
        ("update-desktop-database", vec![applications.into()]),
        (
            "xdg-mime",
            ["default", "beckon-viewer.desktop", MIME_TYPE]
                .map(Into::into)
                .to_vec(),
        ),
    ];
    for (tool, args) in refresh {
        match std::process::Command::new(tool).args(&args).status() {
            Ok(status) if status.success() => println!("{}", t!("desktop-ran", tool = tool)),
            Ok(_) => println!("{}", t!("desktop-tool-failed", tool = tool)),
            Err(_) => {
                println!("{}", t!("desktop-tool-missing", tool = tool))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_opens_invitations_with_this_viewer() {
        let text = entry(Path::new("/opt/beckon/beckon-viewer"));
        assert!(
            text.contains("Exec=/opt/beckon/beckon-viewer %u\n"),
            "{text}"
        );
        let spaced = entry(Path::new("/home/ada/my tools/beckon-viewer"));
        assert!(spaced.contains("Exec=\"/home/ada/my tools/beckon-viewer\" %u\n"));
        assert!(
            text.contains("MimeType=application/x-beckon-invitation;x-scheme-handler/beckon;\n")
        );
        assert!(MIME_PACKAGE.contains("<glob pattern=\"*.beckon\"/>"));
    }
}
