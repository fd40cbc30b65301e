//! The man pages and shell completions of a program's command line, which its packages install
//! (the programs' hidden `assets` command writes them).

use std::path::Path;

use clap_complete::Shell;

/// Writes the man pages of `command` (one for each subcommand) and its bash, zsh and fish
/// completions into `dir`.
///
/// # Errors
/// When `dir` cannot be made or written.
pub fn write(mut command: clap::Command, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let name = command.get_name().to_string();
    clap_mangen::generate_to(command.clone(), dir)?;
    for (shell, file) in [
        (Shell::Bash, name.clone()),
        (Shell::Zsh, format!("_{name}")),
        (Shell::Fish, format!("{name}.fish")),
    ] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut command, &name, &mut script);
        std::fs::write(dir.join(file), script)?;
    }
    Ok(())
}
