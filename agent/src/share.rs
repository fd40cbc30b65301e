//! `beckon-agent share`: serves one invitation to its helper, asking the sharer on the terminal.
//!
//! The screen source is a recorded clip for now (`--clip`); X11 capture and the sharer's window
//! come with the agent issue. On the terminal: `y` / `n` answer the prompts, `esc` ends control,
//! `q` disconnects, any other line is sent as chat.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use beckon_engine::corpus::ClipReader;
use beckon_engine::net::agent_endpoint;
use beckon_engine::net::drive::{AgentHooks, AgentOptions, InputSink, serve};
use beckon_engine::pipeline::PipelineConfig;
use beckon_engine::session::{AgentEvent, InputEvent, SharerDecision, Ticket, TicketState, Timers};
use tokio::sync::mpsc;

use crate::store::{State, Store, now};

/// Options of `share`.
#[derive(Debug, clap::Args)]
pub struct ShareArgs {
    /// The invitation to serve (default: the newest open one).
    pub id: Option<String>,
    /// The UDP address to listen on.
    #[arg(long, default_value = "0.0.0.0:47600")]
    pub listen: SocketAddr,
    /// Show this recorded clip (NAME.bgra.zst) as the screen.
    #[arg(long)]
    pub clip: PathBuf,
    /// Allow the connection without asking (scripts and demos).
    #[arg(long)]
    pub yes: bool,
}

/// Input is printed, not applied: a clip cannot be controlled.
struct PrintInput;

impl InputSink for PrintInput {
    fn apply(&mut self, event: InputEvent) {
        eprintln!("(input from the helper: {event:?})");
    }
}

/// Serves until the session ends.
pub fn share(store: &Store, args: &ShareArgs) -> Result<()> {
    let record = match &args.id {
        Some(id) => store.get(id)?,
        None => store
            .list()?
            .into_iter()
            .find(|r| r.state == State::Open)
            .context("no open invitation: make one with `beckon-agent invite`")?,
    };
    if record.state != State::Open {
        bail!(
            "invitation {} is {}: make a new one with `beckon-agent invite`",
            record.invitation.id,
            record.state
        );
    }
    let identity = store.identity()?;
    let source = ClipReader::open(&args.clip)?;
    let fps = source.meta().fps;
    let origin = Instant::now();
    let left_us = record.invitation.expires.saturating_sub(now()) * 1_000_000;
    let ticket = Ticket {
        id: record.invitation.id.clone(),
        sharer: record.invitation.from.clone(),
        verifier: store.verifier(&record.invitation.id)?,
        expires_at_us: left_us,
        attempts: record.attempts,
        max_attempts: beckon_engine::session::DEFAULT_MAX_ATTEMPTS,
        state: TicketState::Open,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let endpoint = agent_endpoint(args.listen, &identity)?;
        eprintln!(
            "Waiting for the helper of invitation {} on UDP {} (certificate {}).",
            record.invitation.id,
            endpoint.local_addr()?,
            identity.fingerprint()
        );
        let incoming = endpoint.accept().await.context("the endpoint closed")?;
        let connection = incoming.await.context("a helper's connection failed")?;
        store.log(Some(&record.invitation.id), "helper connected", &connection.remote_address().to_string())?;
        let (decisions_tx, decisions) = mpsc::unbounded_channel();
        let (events, mut events_rx) = mpsc::unbounded_channel();
        let (lines_tx, mut lines) = mpsc::unbounded_channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let options = AgentOptions { pipeline: PipelineConfig::default(), fps, timers: Timers::default(), origin };
        let session = tokio::spawn(serve(connection, ticket, source, PrintInput, AgentHooks { decisions, events }, options));
        let id = record.invitation.id.clone();
        // The question waiting for a y or n on the terminal.
        let mut asking: Option<bool> = None; // Some(true): connection, Some(false): control
        loop {
            tokio::select! {
                event = events_rx.recv() => {
                    let Some(event) = event else { break };
                    match event {
                        AgentEvent::HelperWantsToConnect { helper } => {
                            if args.yes {
                                eprintln!("{helper} is connecting (allowed by --yes).");
                                store.log(Some(&id), "consent given", &helper)?;
                                let _ = decisions_tx.send(SharerDecision::AllowConnection(true));
                            } else {
                                eprintln!("{helper} wants to connect to your computer. Allow? [y/N]");
                                asking = Some(true);
                            }
                        }
                        AgentEvent::AttemptFailed { attempts, locked } => store.record_attempt(&id, attempts, locked)?,
                        AgentEvent::ViewingStarted => {
                            store.set_state(&id, State::Used, "viewing started")?;
                            eprintln!("The helper sees your screen. Type q and Enter to disconnect.");
                        }
                        AgentEvent::HelperWantsControl { helper } => {
                            eprintln!("{helper} would like to share control of your computer. Allow? [y/N]");
                            asking = Some(false);
                        }
                        AgentEvent::ControlStarted => store.log(Some(&id), "control granted", "")?,
                        AgentEvent::ControlEnded { by } => store.log(Some(&id), "control ended", &format!("by the {by:?}").to_lowercase())?,
                        AgentEvent::Chat { text } => eprintln!("helper: {text}"),
                        AgentEvent::Closed(reason) => {
                            store.log(Some(&id), "disconnected", &reason.to_string())?;
                            eprintln!("Session over: {reason}.");
                        }
                    }
                }
                Some(line) = lines.recv() => {
                    let yes = line.trim().eq_ignore_ascii_case("y");
                    let decision = match (asking.take(), line.trim()) {
                        (Some(true), _) => {
                            store.log(Some(&id), if yes { "consent given" } else { "consent refused" }, "")?;
                            SharerDecision::AllowConnection(yes)
                        }
                        (Some(false), _) => SharerDecision::AllowControl(yes),
                        (None, "q") => SharerDecision::Disconnect,
                        (None, "esc") => SharerDecision::Esc,
                        (None, _) => SharerDecision::Chat(line),
                    };
                    let _ = decisions_tx.send(decision);
                }
            }
        }
        session.await??;
        endpoint.wait_idle().await;
        Ok(())
    })
}
