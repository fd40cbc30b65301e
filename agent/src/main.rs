//! `beckon-agent`: the sharer's side of Beckon.
//!
//! Invitations are made with `invite`, listed with `invitations`, and expired, resent or deleted
//! by id; `log` shows the audit log. Everything lives in the store (see [`store`]).

mod doctor;
mod share;

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use beckon_engine::invite::password;
use beckon_engine::invite::when::{self, now};
use beckon_engine::session::Secret;
use clap::{Args, Parser, Subcommand};
use rand_core::OsRng;

use beckon_agent::store::{State, Store, data_dir};
use beckon_agent::{desk, mail, t};

/// Beckon remote assistance: the sharer's side.
#[derive(Debug, Parser)]
#[command(name = "beckon-agent", version, about)]
struct Cli {
    /// Where invitations and the audit log are kept (default: BECKON_DATA_DIR, else the XDG data
    /// directory).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// The configuration file (default: $XDG_CONFIG_HOME/beckon/agent.toml, else
    /// ~/.config/beckon/agent.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Show Beckon's debug events on standard error (RUST_LOG chooses others). Events are always
    /// logged to ~/.local/state/beckon/agent.log.
    #[arg(long, short, global = true)]
    verbose: bool,
    /// What to do; without one, the sharer's window opens.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open the sharer's window: ask for help, follow your invitations, and let your helper in
    /// (the default).
    Window(share::WindowArgs),
    /// Create an invitation for a helper.
    Invite(InviteArgs),
    /// List every invitation with its state.
    Invitations {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Expire an invitation now: it can never be used again.
    Expire {
        /// The invitation's id (a unique prefix will do).
        id: String,
    },
    /// Deliver an invitation again, the same way as before.
    Resend {
        /// The invitation's id (a unique prefix will do).
        id: String,
        #[command(flatten)]
        smtp: mail::SmtpSettings,
    },
    /// Delete an invitation: it can never be used again.
    Delete {
        /// The invitation's id (a unique prefix will do).
        id: String,
    },
    /// Serve the invitations: wait for helpers and ask you before one sees anything.
    Share(share::ShareArgs),
    /// Check whether a helper can reach this agent, and say what to do if not.
    Doctor(doctor::DoctorArgs),
    /// End the helper's control now, as Esc does: for a key binding of your desktop where
    /// Esc cannot (Wayland compositors other than sway).
    StopControl,
    /// Send the doctor's test datagram to ADDR (the doctor runs this in a test namespace).
    #[command(hide = true)]
    Probe {
        /// Where to send it.
        target: SocketAddr,
    },
    /// List the helpers' addresses invitations were e-mailed to (the address book).
    Helpers {
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Show the audit log.
    Log {
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Write the man page and shell completions into DIR (for the packages).
    #[command(hide = true)]
    Assets {
        /// Where to write them.
        dir: PathBuf,
    },
}

#[derive(Debug, Args)]
struct InviteArgs {
    /// Your name, as the helper will see it ("From").
    #[arg(long)]
    from: String,
    /// What you need help with.
    #[arg(long, default_value = "")]
    message: String,
    /// How long the invitation stays valid: 30m, 1h (the default, and the recommended most), 4h.
    #[arg(long, default_value = "1h")]
    expires: String,
    /// The longest validity allowed (never more than `[policy] max_expiry` in agent.toml, 24h
    /// when it is not set).
    #[arg(long)]
    max_expiry: Option<String>,
    /// Make a strong password and show it once.
    #[arg(long, conflicts_with = "password_stdin")]
    generate_password: bool,
    /// Read the password from standard input (for scripts).
    #[arg(long)]
    password_stdin: bool,
    /// Where this computer can be reached (IP:PORT; repeat for several). Default: the address
    /// its default route goes out from (IPv4 and IPv6), then 127.0.0.1, at --port.
    #[arg(long = "address")]
    addresses: Vec<SocketAddr>,
    /// The UDP port the agent serves on.
    #[arg(long, default_value_t = 47600)]
    port: u16,
    /// E-mail the invitation to this address (or the start of one in the address book).
    #[arg(long, conflicts_with_all = ["save", "string"])]
    email: Option<String>,
    /// With --email: write the e-mail to this .eml file for your mail program instead of
    /// sending it.
    #[arg(long, requires = "email")]
    eml: Option<PathBuf>,
    /// Save the invitation to this file.
    #[arg(long, conflicts_with = "string")]
    save: Option<PathBuf>,
    /// Print the invitation as one string to paste into any chat program.
    #[arg(long)]
    string: bool,
    /// Print the invitation's id, expiry and delivery as JSON on standard output (for
    /// scripts). A generated password still goes only to the terminal.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    smtp: mail::SmtpSettings,
}

fn read_password(args: &InviteArgs, known: &[&str]) -> Result<(Secret<String>, bool)> {
    if args.generate_password {
        return Ok((password::generate(&mut OsRng), true));
    }
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .with_context(|| t!("cli-password-stdin"))?;
        let line = line.trim_end_matches(['\n', '\r']).to_string();
        password::check(&line, known)?;
        line
    } else {
        if !std::io::stdin().is_terminal() {
            bail!("{}", t!("cli-password-required"));
        }
        let first = rpassword::prompt_password(format!("{} ", t!("cli-password-prompt")))?;
        let second = rpassword::prompt_password(format!("{} ", t!("cli-password-again")))?;
        password::check_twice(&first, &second, known)?;
        first
    };
    Ok((Secret::new(password), false))
}

fn invite(
    store: &Store,
    args: &InviteArgs,
    smtp: &mail::SmtpSettings,
    policy: u64,
    relays: Option<&desk::Relays>,
) -> Result<()> {
    if args.save.is_none() && args.email.is_none() && !args.string {
        bail!("{}", t!("cli-no-delivery"));
    }
    let validity = desk::parse_duration(&args.expires)?;
    let max = match &args.max_expiry {
        Some(text) => desk::parse_duration(text)?.min(policy),
        None => policy,
    };
    if validity < 60 {
        bail!(
            "{}",
            t!("cli-expires-short", expires = args.expires.as_str())
        );
    }
    if validity > max {
        bail!(
            "{}",
            t!(
                "cli-expires-long",
                expires = args.expires.as_str(),
                most = when::duration(max)
            )
        );
    }
    beckon_engine::invite::check_text(&args.from, &args.message)
        .map_err(|e| anyhow::anyhow!("{}", t!("cli-bad-text", why = e.to_string())))?;
    let known = [args.from.as_str(), args.message.as_str()];
    let (password, generated) = read_password(args, &known)?;
    let delivery = match (&args.save, &args.email, &args.eml) {
        (Some(path), _, _) => format!("file:{}", path.display()),
        (None, Some(to), eml) => {
            let to = store.helper_address(to)?;
            match eml {
                Some(path) => format!("eml:{to}:{}", path.display()),
                None => format!("email:{to}"),
            }
        }
        (None, None, _) => "string".to_string(),
    };
    let invitation = desk::create(
        store,
        &desk::Request {
            from: &args.from,
            message: &args.message,
            validity,
            max_validity: max,
            password: &password,
            addresses: if args.addresses.is_empty() {
                desk::default_addresses(args.port)
            } else {
                args.addresses.clone()
            },
            relays,
            delivery: delivery.clone(),
        },
    )?;
    eprintln!(
        "{}",
        t!(
            "cli-created",
            id = invitation.id.as_str(),
            span = when::duration(validity),
            at = when::utc(invitation.expires)
        )
    );
    // Before delivery is tried: an invitation whose delivery failed is resent later, and
    // nobody could open it without this password.
    if generated {
        eprintln!(
            "{}",
            t!("cli-generated", password = password.expose().as_str())
        );
    }
    if args.json {
        let created = serde_json::json!({
            "id": invitation.id, "expires": invitation.expires,
            "expires_utc": when::utc(invitation.expires), "delivery": delivery,
            "to": desk::recipient(&delivery),
            "code": args.string.then(|| invitation.to_string_form()),
        });
        print_out(serde_json::to_string_pretty(&created)?)?;
    } else if args.string {
        print_out(invitation.to_string_form())?;
    }
    let delivered = desk::deliver(store, &invitation, &delivery, smtp)
        .with_context(|| t!("cli-not-delivered", id = invitation.id.as_str()))?;
    eprintln!("{delivered}");
    eprintln!("{}", t!("cli-password-reminder"));
    Ok(())
}

fn invitations(store: &Store, json: bool) -> Result<()> {
    let records = store.list()?;
    if json {
        let list: Vec<_> = records
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.invitation.id, "from": r.invitation.from, "state": r.state.to_string(),
                    "created": r.invitation.created, "expires": r.invitation.expires,
                    "attempts": r.attempts, "to": desk::recipient(&r.delivery), "delivery": r.delivery,
                    "helper": r.helper,
                    "last_activity": r.last_activity,
                })
            })
            .collect();
        print_out(serde_json::to_string_pretty(&list)?)?;
        return Ok(());
    }
    if records.is_empty() {
        print_out(t!("cli-no-invitations"))?;
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<14} {:<10} {:>24} {:>24} {:>8} {:>24}  {:<16} {}",
        t!("column-id"),
        t!("column-state"),
        t!("column-created"),
        t!("column-expires"),
        t!("column-attempts"),
        t!("column-activity"),
        t!("column-helper"),
        t!("column-to")
    )?;
    let now = now();
    for r in records {
        let ago = |t: u64| when::relative(t, now);
        writeln!(
            out,
            "{:<14} {:<10} {:>24} {:>24} {:>8} {:>24}  {:<16} {}",
            r.invitation.id,
            state_word(r.state),
            ago(r.invitation.created),
            ago(r.invitation.expires),
            r.attempts,
            ago(r.last_activity),
            r.helper.as_deref().unwrap_or("-"),
            desk::recipient(&r.delivery)
        )?;
    }
    Ok(())
}

/// The `--help` texts in Spanish (English is the doc comments); see
/// [`beckon_engine::assets::localized`].
static HELP: beckon_engine::i18n::Catalogue =
    beckon_engine::i18n::Catalogue::new("", include_str!("../locales/help.es.ftl"));

fn run() -> Result<()> {
    use clap::{CommandFactory, FromArgMatches};
    let matches = beckon_engine::assets::localized(Cli::command(), &HELP).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    beckon_engine::logging::init("agent", cli.verbose);
    let config = mail::config_path(cli.config.as_deref());
    let command = cli
        .command
        .unwrap_or(Command::Window(share::WindowArgs::default()));
    let smtp = |flags: &mail::SmtpSettings| flags.resolve(config.as_deref(), cli.config.is_some());
    // These need no store.
    match &command {
        Command::Probe { target } => return doctor::send_probe(*target),
        Command::StopControl => {
            let said = match beckon_agent::stop::stop_control()? {
                beckon_agent::stop::Stopped::Ended => t!("stop-ended"),
                beckon_agent::stop::Stopped::Nobody => t!("stop-nobody"),
            };
            println!("{said}");
            return Ok(());
        }
        Command::Assets { dir } => {
            use clap::CommandFactory;
            return beckon_engine::assets::write(Cli::command(), dir).map_err(Into::into);
        }
        Command::Doctor(args) => {
            let relays = mail::Config::load(config.as_deref(), cli.config.is_some())?.relay;
            if doctor::doctor(args, &smtp(&args.smtp)?, &relays)? {
                return Ok(());
            }
            std::process::exit(1);
        }
        _ => {}
    }
    let data_dir = data_dir(cli.data_dir.as_deref())?;
    if let Command::Window(args) = &command {
        return share::window(data_dir, config, args);
    }
    let store = Store::open(&data_dir)?;
    match &command {
        Command::Probe { .. }
        | Command::StopControl
        | Command::Doctor(_)
        | Command::Assets { .. }
        | Command::Window(_) => Ok(()),
        Command::Invite(args) => {
            let config = mail::Config::load(config.as_deref(), cli.config.is_some())?;
            let relays = desk::relays_now(&store, &config.relay)?;
            let max = desk::max_expiry(&config.policy)?;
            invite(&store, args, &smtp(&args.smtp)?, max, relays.as_ref())
        }
        Command::Helpers { json } => {
            let helpers = store.helpers()?;
            if *json {
                let list: Vec<_> = helpers
                    .iter()
                    .map(
                        |(address, at)| serde_json::json!({"address": address, "last_invited": at}),
                    )
                    .collect();
                return print_out(serde_json::to_string_pretty(&list)?);
            }
            let mut out = std::io::stdout().lock();
            for (address, last_used) in helpers {
                writeln!(
                    out,
                    "{address}  ({})",
                    t!("cli-last-invited", at = when::utc(last_used))
                )?;
            }
            Ok(())
        }
        Command::Invitations { json } => invitations(&store, *json),
        Command::Share(args) => {
            let config = mail::Config::load(config.as_deref(), cli.config.is_some())?;
            share::share(store, args, config.relay.resolve()?)
        }
        Command::Expire { id } => {
            let r = store.get(id)?;
            store.set_state(&r.invitation.id, State::Expired, "expired by the sharer")?;
            eprintln!("{}", t!("status-expired", id = r.invitation.id.as_str()));
            Ok(())
        }
        Command::Delete { id } => {
            let r = store.get(id)?;
            store.set_state(&r.invitation.id, State::Deleted, "deleted by the sharer")?;
            eprintln!("{}", t!("status-deleted", id = r.invitation.id.as_str()));
            Ok(())
        }
        Command::Resend { id, smtp: flags } => {
            let r = store.get(id)?;
            if r.state != State::Open {
                bail!(
                    "{}",
                    t!(
                        "cli-not-open",
                        id = r.invitation.id.as_str(),
                        state = state_word(r.state)
                    )
                );
            }
            if r.delivery == "string" {
                print_out(r.invitation.to_string_form())?;
            }
            let delivered = desk::deliver(&store, &r.invitation, &r.delivery, &smtp(flags)?)?;
            store.log(Some(&r.invitation.id), "resent", &r.delivery)?;
            eprintln!(
                "{}",
                t!(
                    "status-resent",
                    id = r.invitation.id.as_str(),
                    said = delivered
                )
            );
            Ok(())
        }
        Command::Log { json } => {
            let entries = store.audit()?;
            if *json {
                let list: Vec<_> = entries
                    .iter()
                    .map(|e| serde_json::json!({"at": e.at, "invitation": e.invitation, "event": e.event, "detail": e.detail}))
                    .collect();
                print_out(serde_json::to_string_pretty(&list)?)?;
            } else {
                let mut out = std::io::stdout().lock();
                for e in entries {
                    writeln!(
                        out,
                        "{}  {:<13}  {} {}",
                        when::utc(e.at),
                        e.invitation.as_deref().unwrap_or("-"),
                        e.event,
                        e.detail
                    )?;
                }
            }
            Ok(())
        }
    }
}

/// An invitation's state as the sharer reads it, in lower case for a table or a sentence.
fn state_word(state: State) -> String {
    match state {
        State::Open => t!("cli-state-open"),
        State::Used => t!("cli-state-used"),
        State::Expired => t!("cli-state-expired"),
        State::Locked => t!("cli-state-locked"),
        State::Deleted => t!("cli-state-deleted"),
    }
}

/// Writes `text` and a line break to standard output: an error, not a panic, when the reader
/// has gone.
fn print_out(text: impl std::fmt::Display) -> Result<()> {
    writeln!(std::io::stdout().lock(), "{text}")?;
    Ok(())
}

/// Whether `error` is a write to a pipe whose reader has gone.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn main() -> ExitCode {
    // Whatever this process creates is the sharer's alone, whatever their umask.
    // SAFETY: umask has no preconditions and cannot fail.
    unsafe { libc::umask(0o077) };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        // `beckon-agent log | head`: the reader has all it wanted.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("beckon-agent: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_and_option_has_its_help_in_spanish() {
        use beckon_engine::i18n::Language;
        use clap::CommandFactory;
        let missing =
            beckon_engine::assets::missing_help(&Cli::command(), &HELP, Language::Spanish);
        assert!(
            missing.is_empty(),
            "not in locales/help.es.ftl: {missing:#?}"
        );
    }
}
