//! `beckon-viewer --install-desktop-entry`: registers the viewer with the desktop (freedesktop.org
//! conventions), so a file manager opens `.beckon` invitations with it on a double-click.

use std::path::Path;

use anyhow::{Context, Result};

/// The invitation file type (the e-mail attachment's type too).
pub const MIME_TYPE: &str = "application/x-beckon-invitation";

/// The `.desktop` entry for `exe`.
fn entry(exe: &Path) -> String {
    format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Name=Beckon Viewer\n\
         GenericName=Remote assistance\n\
         Comment=Help someone who invited you: see their screen, chat, take control\n\
         Exec=\"{}\" %f\n\
         Terminal=false\n\
         Categories=Network;RemoteAccess;\n\
         MimeType={MIME_TYPE};\n",
        exe.display()
    )
}

/// The shared-mime-info package declaring `*.beckon`.
fn mime_package() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <mime-info xmlns=\"http://www.freedesktop.org/standards/shared-mime-info\">\n  \
         <mime-type type=\"{MIME_TYPE}\">\n    \
         <comment>Beckon invitation</comment>\n    \
         <glob pattern=\"*.beckon\"/>\n  \
         </mime-type>\n\
         </mime-info>\n"
    )
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
        .with_context(|| format!("writing {}", desktop.display()))?;
    let package = packages.join("beckon.xml");
    std::fs::write(&package, mime_package())
        .with_context(|| format!("writing {}", package.display()))?;
    println!("Wrote {} and {}.", desktop.display(), package.display());
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
            Ok(status) if status.success() => println!("Ran {tool}."),
            Ok(_) => println!("{tool} failed; the entry is written all the same."),
            Err(_) => {
                println!("{tool} is not installed; the desktop may need a log-out to notice.")
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
        assert!(text.contains("Exec=\"/opt/beckon/beckon-viewer\" %f\n"));
        assert!(text.contains("MimeType=application/x-beckon-invitation;\n"));
        assert!(mime_package().contains("<glob pattern=\"*.beckon\"/>"));
    }
}
