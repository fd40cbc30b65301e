//! The man pages and shell completions of a program's command line, which its packages install
//! (the programs' hidden `assets` command writes them), and its `--help` in the reader's
//! language.

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

/// The message id of the help of `command` (the path of subcommand names below the program,
/// joined by `-`; `about` for the program itself), or of its argument `arg`.
fn help_id(path: &[&str], arg: Option<&str>) -> String {
    let mut id = match arg {
        Some(_) => "arg".to_string(),
        None => "about".to_string(),
    };
    for part in path.iter().copied().chain(arg) {
        id.push('-');
        id.push_str(&part.replace('_', "-"));
    }
    id
}

/// The help of argument `arg` of the subcommand at `path`: its own (`arg-SUBCOMMAND-ARG`), else
/// the one all subcommands share (`arg-ARG`, for flags such as `--smtp-host` that several
/// have).
fn arg_help(
    help: &crate::i18n::Catalogue,
    language: crate::i18n::Language,
    path: &[&str],
    arg: &str,
) -> Option<String> {
    help.exact(language, &help_id(path, Some(arg)))
        .or_else(|| help.exact(language, &help_id(&[], Some(arg))))
}

/// `command` with the help of every subcommand and argument in the reader's language, from
/// `help` (ids `about`, `about-SUBCOMMAND`, `arg-ARG`, `arg-SUBCOMMAND-ARG`; the doc comments
/// are the English). Unchanged in English.
pub fn localized(mut command: clap::Command, help: &crate::i18n::Catalogue) -> clap::Command {
    let language = crate::i18n::Language::current();
    if language == crate::i18n::Language::English {
        return command;
    }
    // Built first, so clap's own --help, --version and `help` are there to be translated too.
    command.build();
    localize(command, help, language, &mut Vec::new())
}

fn localize(
    mut command: clap::Command,
    help: &crate::i18n::Catalogue,
    language: crate::i18n::Language,
    path: &mut Vec<String>,
) -> clap::Command {
    let parts: Vec<&str> = path.iter().map(String::as_str).collect();
    if let Some(about) = help.exact(language, &help_id(&parts, None)) {
        command = command.about(about);
    }
    // clap's own words: the headings (its built-in --help and --version flags keep theirs).
    if let Some(usage) = help.exact(language, "help-usage") {
        command = command.help_template(format!(
            "{{about-with-newline}}\n{usage} {{usage}}\n\n{{all-args}}{{after-help}}"
        ));
    }
    if let Some(commands) = help.exact(language, "help-commands") {
        command = command.subcommand_help_heading(commands);
    }
    let (options, arguments) = (
        help.exact(language, "help-options"),
        help.exact(language, "help-arguments"),
    );
    let ids: Vec<(String, bool)> = command
        .get_arguments()
        .filter(|a| a.get_help_heading().is_none())
        .map(|a| (a.get_id().to_string(), a.is_positional()))
        .collect();
    for (id, positional) in ids {
        let text = arg_help(help, language, &parts, &id);
        let heading = if positional { &arguments } else { &options }.clone();
        command = command.mut_arg(id, |mut a| {
            if let Some(text) = text {
                a = a.help(text);
            }
            match heading {
                Some(heading) => a.help_heading(heading),
                None => a,
            }
        });
    }
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for name in names {
        path.push(name.clone());
        command = command.mut_subcommand(name, |sub| {
            let mut inner = path.clone();
            localize(sub, help, language, &mut inner)
        });
        path.pop();
    }
    command
}

/// The help ids `command` needs in `language` (see [`localized`]) that `help` lacks; hidden
/// commands and clap's own `help` and `version` are left out. For the tests.
pub fn missing_help(
    command: &clap::Command,
    help: &crate::i18n::Catalogue,
    language: crate::i18n::Language,
) -> Vec<String> {
    fn walk(
        command: &clap::Command,
        help: &crate::i18n::Catalogue,
        language: crate::i18n::Language,
        path: &mut Vec<String>,
        out: &mut Vec<String>,
    ) {
        let parts: Vec<&str> = path.iter().map(String::as_str).collect();
        let about = help_id(&parts, None);
        if help.exact(language, &about).is_none() {
            out.push(about);
        }
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if !arg.is_hide_set()
                && id != "help"
                && id != "version"
                && arg_help(help, language, &parts, id).is_none()
            {
                out.push(help_id(&parts, Some(id)));
            }
        }
        for sub in command.get_subcommands() {
            if sub.is_hide_set() || sub.get_name() == "help" {
                continue;
            }
            path.push(sub.get_name().to_string());
            walk(sub, help, language, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(command, help, language, &mut Vec::new(), &mut out);
    out
}
