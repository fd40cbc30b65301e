//! `beckon-viewer`: the helper's side of Beckon. With no command it opens the window
//! ([`window`]): the connect dialog (filled in when given an invitation, as a file manager does
//! on a double-click), then the sharer's screen, Take Control and the chat. `open` does the same
//! on the command line, for scripts and tests: it shows who sent the invitation and why, asks for
//! the password, connects, and streams the sharer's screen into a framebuffer; `--screenshot`
//! saves what it shows at the end.

/// The viewer's texts in English and Spanish (`viewer/locales/`); see [`beckon_engine::i18n`].
static TEXTS: beckon_engine::i18n::Catalogue = beckon_engine::i18n::Catalogue::new(
    include_str!("../locales/en.ftl"),
    include_str!("../locales/es.ftl"),
);

/// One of the viewer's texts in the helper's language: `t!("id")` or `t!("id", name = value)`.
macro_rules! t {
    ($($args:tt)*) => {
        beckon_engine::tr!(crate::TEXTS, $($args)*)
    };
}

/// The `--help` texts in Spanish (English is the doc comments); see
/// [`beckon_engine::assets::localized`].
static HELP: beckon_engine::i18n::Catalogue =
    beckon_engine::i18n::Catalogue::new("", include_str!("../locales/help.es.ftl"));

mod connect;
mod desktop;
mod keys;
mod link;
mod window;

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use beckon_engine::InvitationRef;
use beckon_engine::invite::when::{self, now};
use beckon_engine::net::drive::{ViewerHooks, view};
use beckon_engine::session::auth::stretch;
use beckon_engine::{
    CloseReason, Frame, HelperAction, InputEvent, Party, Refusal, Timers, ViewerEvent,
};
use clap::{Parser, Subcommand};
use tokio::sync::mpsc;

use crate::connect::{Path, reach, read_invitation};
use crate::keys::keysym;

/// Beckon remote assistance: the helper's side.
#[derive(Debug, Parser)]
#[command(
    name = "beckon-viewer",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The invitation to open in the window (a file, or the beckon: string).
    invitation: Option<String>,
    /// Your name, as the sharer will see it (default: the one you gave last time).
    #[arg(long)]
    name: Option<String>,
    /// Register the viewer with the desktop (a .desktop entry and the invitation file type),
    /// so a file manager opens invitations with it, and exit.
    #[arg(long)]
    install_desktop_entry: bool,
    /// Show Beckon's debug events on standard error (RUST_LOG chooses others). Events are always
    /// logged to ~/.local/state/beckon/viewer.log.
    #[arg(long, short, global = true)]
    verbose: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open an invitation (a file, or the beckon: string) and connect, without a window.
    Open(OpenArgs),
    /// Write the man page and shell completions into DIR (for the packages).
    #[command(hide = true)]
    Assets {
        /// Where to write them.
        dir: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct OpenArgs {
    /// The invitation file, or the `beckon:` string.
    invitation: String,
    /// Your name, as the sharer will see it.
    #[arg(long, default_value = "Helper")]
    name: String,
    /// Read the password from standard input (for scripts).
    #[arg(long)]
    password_stdin: bool,
    /// Save what is shown, as PNG, when the session ends.
    #[arg(long)]
    screenshot: Option<PathBuf>,
    /// Disconnect after this many seconds (default: stay until the sharer disconnects).
    #[arg(long)]
    seconds: Option<u64>,
    /// With --seconds: once they are up, stay until the picture is the sharer's screen exactly
    /// (at most a minute more), so that --screenshot saves their pixels.
    #[arg(long, requires = "seconds")]
    wait_exact: bool,
    /// Ask for control once connected and, when the sharer allows it, type this text (`\n`
    /// for Return, `\e` for a literal Esc), then give control back (scripts and tests).
    /// Repeat --type to type several texts, --pause seconds apart, all under one grant.
    #[arg(long = "type", value_name = "TEXT")]
    type_text: Vec<String>,
    /// Seconds between the texts of several --type.
    #[arg(long, default_value_t = 0)]
    pause: u64,
    /// Send this chat message once connected (repeat for several).
    #[arg(long, value_name = "TEXT")]
    say: Vec<String>,
    /// With --type: first move the pointer here and click (X,Y in the sharer's screen).
    #[arg(long, value_name = "X,Y")]
    at: Option<String>,
    /// At the end, print what happened as JSON on standard output (for scripts): the
    /// invitation, how the session ended, the screen's size, the sharer's chat.
    #[arg(long)]
    json: bool,
}

/// The helper's input for `--type`: pointer first (if `at`), then each character pressed and
/// released.
fn typing(text: &str, at: Option<&str>) -> Result<Vec<InputEvent>> {
    let mut events = Vec::new();
    if let Some(at) = at {
        let (x, y) = at
            .split_once(',')
            .and_then(|(x, y)| Some((x.trim().parse().ok()?, y.trim().parse().ok()?)))
            .with_context(|| t!("open-bad-at", at = format!("{at:?}")))?;
        // Move there and click, as a helper does to focus a window.
        events.push(InputEvent::PointerMove { x, y });
        for pressed in [true, false] {
            events.push(InputEvent::Button { button: 1, pressed });
        }
    }
    for c in text.replace("\\n", "\n").replace("\\e", "\u{1b}").chars() {
        events.extend(keys::tap(keysym(c)));
    }
    Ok(events)
}

fn save_png(path: &PathBuf, frame: &Frame) -> Result<()> {
    let rgb: Vec<u8> = frame
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect();
    let file = std::fs::File::create(path)
        .with_context(|| t!("io-creating", file = path.display().to_string()))?;
    let mut encoder =
        png::Encoder::new(std::io::BufWriter::new(file), frame.width(), frame.height());
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(())
}

/// How long `open` keeps trying to come back to a session the network cut (the agent keeps it
/// as long).
const GRACE: Duration = Duration::from_secs(120);
/// How long `open` waits when the sharer's agent says another helper is connected: longer than
/// the agent takes to notice a connection is gone, in case that helper is this one.
const BUSY_WAIT: Duration = Duration::from_secs(30);
/// How long `--wait-exact` waits, past `--seconds`, for the picture to be exact.
const EXACT_WAIT: Duration = Duration::from_secs(60);

async fn open(args: &OpenArgs) -> Result<()> {
    let invitation = read_invitation(&args.invitation)?;
    let left = invitation.expires.saturating_sub(now());
    eprintln!(
        "{}",
        t!(
            "open-from",
            from = invitation.from.as_str(),
            message = format!("{:?}", invitation.message)
        )
    );
    eprintln!(
        "{}",
        t!(
            "open-expires",
            span = when::duration(left),
            from = invitation.from.as_str()
        )
    );
    if invitation.is_expired(now()) {
        bail!("{}", t!("open-expired", from = invitation.from.as_str()));
    }
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{} ", t!("open-password-prompt")))?
    } else {
        bail!("{}", t!("open-password-required"));
    };
    let stretched = stretch(&password, &invitation.stretch)?;
    drop(password);
    let origin = Instant::now();
    // When `--seconds` ends the session, counted from the first connection.
    // (counted from when the helper first sees the screen; before that, from each connection).
    let ends_at = std::sync::Arc::new(std::sync::Mutex::new(None::<Instant>));
    // The session's path and figures, from the first connection and summed over all.
    let mut first = None::<(Path, u128)>;
    let (mut direct_bytes, mut relayed_bytes) = (0u64, 0u64);
    let mut punched = None;
    // When the network cut the session last, and whether the helper had control then.
    let mut lost_at = None::<Instant>;
    let (mut viewed, mut had_control) = (false, false);
    // Since when the sharer's agent says another helper is connected.
    let mut busy_since = None::<Instant>;
    let mut last_path = None::<Path>;
    let mut typed = if args.type_text.is_empty() {
        None
    } else {
        let mut texts = Vec::new();
        for (i, text) in args.type_text.iter().enumerate() {
            texts.push(typing(text, args.at.as_deref().filter(|_| i == 0))?);
        }
        Some(texts)
    };
    // What was shown, kept from the screen's changes, and whether the last said it is exact.
    let mut screen = None::<Frame>;
    let (exact_tx, exact) = tokio::sync::watch::channel(false);
    // The sharer's pointer: its picture's size and its last position.
    let mut pointer = (None, None);
    let mut reason = None;
    let mut chat = Vec::new();
    loop {
        let reached = match reach(&invitation).await {
            Ok(reached) => reached,
            // Coming back after the network cut the session: keep trying for a while.
            Err(_) if lost_at.is_some_and(|at| at.elapsed() < GRACE) => {
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        match reached.path {
            _ if last_path == Some(reached.path) => {}
            Path::Direct(addr) => eprintln!("{}", t!("open-direct", addr = addr.to_string())),
            Path::Relayed(server) => {
                eprintln!("{}", t!("open-relayed", server = server.to_string()))
            }
        }
        last_path = Some(reached.path);
        let (_endpoint, connection, socket) =
            (reached.endpoint, reached.connection, reached.socket);
        let peer = connection.remote_address();
        first.get_or_insert((reached.path, origin.elapsed().as_millis()));
        let (actions_tx, actions) = mpsc::unbounded_channel();
        let (events, mut events_rx) = mpsc::unbounded_channel();
        let invitation_ref = InvitationRef::of(&invitation);
        let (name, stretched) = (args.name.clone(), stretched.clone());
        let session = tokio::spawn(async move {
            view(
                connection,
                &invitation_ref,
                &name,
                &stretched,
                ViewerHooks { actions, events },
                Timers::default(),
                origin,
            )
            .await
        });
        if let Some(seconds) = args.seconds {
            let waiting = Instant::now() + Duration::from_secs(seconds);
            let (tx, ends_at) = (actions_tx.clone(), ends_at.clone());
            let mut exact = args.wait_exact.then(|| exact.clone());
            tokio::spawn(async move {
                loop {
                    let at = ends_at
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .unwrap_or(waiting);
                    tokio::time::sleep_until(at.into()).await;
                    let at = ends_at
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .unwrap_or(waiting);
                    if Instant::now() >= at {
                        // Only a screen shown can become exact.
                        let viewing = ends_at.lock().unwrap_or_else(|e| e.into_inner()).is_some();
                        if let Some(exact) = exact.as_mut().filter(|_| viewing) {
                            let _ = tokio::time::timeout(EXACT_WAIT, exact.wait_for(|e| *e)).await;
                        }
                        let _ = tx.send(HelperAction::Disconnect);
                        break;
                    }
                }
            });
        }
        while let Some(event) = events_rx.recv().await {
            match event {
                ViewerEvent::Authenticated { sharer } => {
                    eprintln!("{}", t!("open-connected", sharer = sharer.as_str()))
                }
                ViewerEvent::Accepted => {
                    if let Some(seconds) = args.seconds {
                        ends_at
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert_with(|| Instant::now() + Duration::from_secs(seconds));
                    }
                    viewed = true;
                    eprintln!("{}", t!("open-viewing"));
                    if lost_at.is_some() && had_control {
                        // It had control when the network cut the session: ask again; the sharer's
                        // choice stands unless they pressed Esc meanwhile.
                        let _ = actions_tx.send(HelperAction::RequestControl);
                    }
                    for text in &args.say {
                        let _ = actions_tx.send(HelperAction::Chat(text.clone()));
                    }
                    if typed.is_some() {
                        eprintln!("{}", t!("open-asking-control"));
                        let _ = actions_tx.send(HelperAction::RequestControl);
                    }
                }
                ViewerEvent::ControlGranted => {
                    had_control = true;
                    eprintln!("{}", t!("open-control"));
                    let (texts, tx, pause) = (
                        typed.take().unwrap_or_default(),
                        actions_tx.clone(),
                        args.pause,
                    );
                    tokio::spawn(async move {
                        for (i, events) in texts.into_iter().enumerate() {
                            if i > 0 {
                                tokio::time::sleep(Duration::from_secs(pause)).await;
                            }
                            for event in events {
                                let _ = tx.send(HelperAction::Input(event));
                            }
                        }
                        let _ = tx.send(HelperAction::ReleaseControl);
                    });
                }
                ViewerEvent::ControlDenied => eprintln!("{}", t!("open-control-denied")),
                ViewerEvent::ControlEnded { .. } => {
                    had_control = false;
                    eprintln!("{}", t!("open-control-ended"));
                }
                ViewerEvent::Screen(change) => {
                    change.paint(screen.get_or_insert_with(|| Frame::filled(1, 1, [0; 4])));
                    exact_tx.send_replace(change.exact);
                }
                ViewerEvent::Chat { text } => {
                    eprintln!("{}", t!("open-chat", text = text.as_str()));
                    chat.push(text);
                }
                ViewerEvent::Showing { monitor } => {
                    eprintln!("{}", window::showing(&invitation.from, monitor.as_deref()));
                }
                ViewerEvent::CursorShape(picture) => {
                    pointer.0 = Some((picture.width, picture.height));
                }
                ViewerEvent::CursorMoved { x, y, visible } => pointer.1 = Some((x, y, visible)),
                ViewerEvent::Closed(r) => reason = Some(r),
                other => eprintln!("{other:?}"),
            }
        }
        let _ = session.await;
        let bytes = socket.stats();
        direct_bytes += bytes.direct_sent + bytes.direct_received;
        relayed_bytes += bytes.relayed_sent + bytes.relayed_received;
        punched = socket.direct_path(peer).or(punched);
        let time_left = ends_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none_or(|at| Instant::now() < at);
        let in_use = reason == Some(CloseReason::Refused(Refusal::InUse));
        let waited = *busy_since.get_or_insert_with(Instant::now);
        if in_use
            && (waited.elapsed() < BUSY_WAIT || lost_at.is_some_and(|at| at.elapsed() < GRACE))
        {
            // Perhaps this helper coming back (a viewer that was closed, a network cut) before
            // the sharer's agent noticed the old connection is gone: it will within seconds.
            if waited.elapsed() < Duration::from_secs(1) {
                eprintln!(
                    "{}",
                    t!("open-busy-waiting", from = invitation.from.as_str())
                );
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            reason = None;
            continue;
        }
        if reason == Some(CloseReason::TimedOut) && viewed && time_left {
            // The network, not a person, ended it: the sharer keeps it for its helper a while.
            eprintln!("{}", t!("open-reconnecting"));
            lost_at = Some(Instant::now());
            reason = None;
            continue;
        }
        break;
    }
    let (reached_path, connect_ms) = first.expect("connected at least once");
    if let Some((direct, _)) = punched {
        eprintln!("{}", t!("open-punched", addr = direct.to_string()));
    }
    eprintln!(
        "{}",
        t!(
            "open-bytes",
            direct = direct_bytes.div_ceil(1024),
            relayed = relayed_bytes.div_ceil(1024)
        )
    );
    if let (Some((width, height)), Some((x, y, visible))) = pointer {
        let shown = if visible {
            t!("open-shown")
        } else {
            t!("open-hidden")
        };
        eprintln!(
            "{}",
            t!(
                "open-pointer",
                size = format!("{width}x{height}"),
                shown = shown,
                at = format!("{x},{y}")
            )
        );
    }
    if let (Some(path), Some(frame)) = (&args.screenshot, &screen) {
        save_png(path, frame)?;
        eprintln!("{}", t!("open-saved", file = path.display().to_string()));
    }
    if args.wait_exact && !*exact.borrow() {
        eprintln!("{}", t!("open-not-exact"));
    }
    if args.json {
        let by = match &reason {
            Some(CloseReason::Disconnected { by: Party::Helper }) => Some("helper"),
            Some(CloseReason::Disconnected { by: Party::Sharer }) => Some("sharer"),
            _ => None,
        };
        let outcome = serde_json::json!({
            "from": invitation.from, "message": invitation.message,
            "expires": invitation.expires,
            "ended": reason.as_ref().map(ToString::to_string), "disconnected_by": by,
            "screen": screen.as_ref().map(|f| [f.width(), f.height()]),
            "screenshot": args.screenshot.as_ref().filter(|_| screen.is_some()),
            "chat": chat,
            "path": match reached_path {
                Path::Direct(addr) => serde_json::json!({"direct": addr}),
                Path::Relayed(server) => serde_json::json!({"relayed": server}),
            },
            "connect_ms": connect_ms,
            "punched": punched.map(|(addr, _)| addr),
            "relayed_after_punch": punched.map(|(_, bytes)| bytes),
            "bytes": {"direct": direct_bytes, "relayed": relayed_bytes},
            "resumed": lost_at.is_some(),
            "exact": *exact.borrow(),
        });
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    }
    match reason {
        Some(CloseReason::Disconnected { by }) => {
            eprintln!(
                "{}",
                if by == Party::Helper {
                    t!("open-disconnected-helper")
                } else {
                    t!("open-disconnected-sharer")
                }
            );
            Ok(())
        }
        Some(other) => bail!("{other}"),
        None => bail!("{}", t!("open-no-reason")),
    }
}

fn main() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let matches = beckon_engine::assets::localized(Cli::command(), &HELP).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    beckon_engine::logging::init("viewer", cli.verbose);
    let result = match &cli.command {
        _ if cli.install_desktop_entry => desktop::install(),
        Some(Command::Assets { dir }) => {
            use clap::CommandFactory;
            beckon_engine::assets::write(Cli::command(), dir).map_err(Into::into)
        }
        None => window::run(cli.invitation.clone(), cli.name.clone()),
        Some(Command::Open(args)) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|runtime| runtime.block_on(open(args))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("beckon-viewer: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_and_option_has_its_help_in_spanish() {
        use beckon_engine::i18n::Language;
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let missing =
            beckon_engine::assets::missing_help(&Cli::command(), &HELP, Language::Spanish);
        assert!(
            missing.is_empty(),
            "not in locales/help.es.ftl: {missing:#?}"
        );
    }
}
