//! One whole session in one process, measured: an agent streams a clip at its native rate over
//! real QUIC (directly on loopback, or through a [`Relay`]) to a headless viewer, whose session
//! applies every update. Both share one clock, so capture-to-screen latency is measured
//! exactly.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use beckon_engine::ClipReader;
use beckon_engine::frame::psnr_rgb;
use beckon_engine::net::drive::{AgentHooks, AgentOptions, ViewerHooks, serve, view};
use beckon_engine::net::{AgentIdentity, agent_endpoint, connect, viewer_endpoint};
use beckon_engine::session::InvitationRef;
use beckon_engine::session::auth::{StretchParams, stretch};
use beckon_engine::{
    AgentEvent, CloseReason, Frame, HelperAction, SharerDecision, Ticket, Timers, ViewerEvent,
};
use tokio::sync::mpsc;

use crate::relay::{LinkSpec, Relay};

/// What to stream, and how.
#[derive(Clone, Debug)]
pub struct StreamOptions {
    /// The clip (`NAME.bgra.zst`).
    pub clip: PathBuf,
    /// A constrained link, or loopback.
    pub link: Option<LinkSpec>,
    /// argon2id parameters of the invitation.
    pub params: StretchParams,
    /// How long after the clip ends to wait for an exact picture.
    pub settle: Duration,
    /// Stream only the clip's first frames (`None`: all of it).
    pub frames: Option<u64>,
}

/// The first `left` frames of a clip.
struct FirstFrames {
    reader: ClipReader,
    left: u64,
}

impl beckon_engine::FrameSource for FirstFrames {
    type Error = beckon_engine::corpus::CorpusError;

    fn next_frame(&mut self, frame: &mut Frame) -> Result<bool, Self::Error> {
        if self.left == 0 {
            return Ok(false);
        }
        self.left -= 1;
        self.reader.next_frame(frame)
    }
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct StreamReport {
    /// From starting to connect to authenticated, argon2id of the password included.
    pub handshake_ms: f64,
    /// Per update applied: seconds since the viewer started, capture-to-screen ms, and whether
    /// it was refinement (exact pixels for a still screen, nothing newly captured).
    pub samples: Vec<Sample>,
    /// Seconds after the clip's end at which the framebuffer equalled the last frame (negative:
    /// before the end); `None` if it never did within the settle time.
    pub exact_after_end_s: Option<f64>,
    /// The clip's duration.
    pub clip_s: f64,
    /// Wire bytes of all updates.
    pub bytes: u64,
    /// Seconds since the viewer started and wire bytes so far when the screen first reached
    /// 50 dB PSNR (over R, G, B) against the clip's last frame.
    pub near: Option<(f64, u64)>,
    /// The same when it first equalled the last frame.
    pub exact: Option<(f64, u64)>,
    /// Why each side closed once the helper pressed Disconnect: (agent, viewer).
    pub closed: (Option<CloseReason>, Option<CloseReason>),
}

/// One update shown.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Seconds since the viewer started.
    pub at_s: f64,
    /// Capture-to-screen latency.
    pub latency_ms: f64,
    /// Refinement rather than a fresh capture.
    pub refinement: bool,
}

impl StreamReport {
    /// Latency percentile `p` (0 to 1) in ms over `samples[from..to]`.
    pub fn percentile(&self, from: usize, to: usize, p: f64) -> f64 {
        percentile(self.samples[from..to].iter().map(|s| s.latency_ms), p)
    }

    /// Latency percentile `p` (0 to 1) in ms of the fresh updates after the first screen: what
    /// a typed character waits.
    pub fn fresh_percentile(&self, p: f64) -> f64 {
        let fresh = self.samples.iter().skip(1).filter(|s| !s.refinement);
        percentile(fresh.map(|s| s.latency_ms), p)
    }
}

fn percentile(values: impl Iterator<Item = f64>, p: f64) -> f64 {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

const PASSWORD: &str = "Stream-Test-Password-42!";

/// Runs one session and measures it.
///
/// # Errors
/// When the clip cannot be read, a socket bound, or the session fails.
pub async fn run(options: StreamOptions) -> Result<StreamReport> {
    let origin = Instant::now();
    let reader = ClipReader::open(&options.clip)?;
    let meta = reader.meta().clone();
    let frames = options.frames.unwrap_or(reader.meta().frames);
    let mut last_reader = ClipReader::open(&options.clip)?;
    let mut last = last_reader.blank_frame();
    for _ in 0..frames {
        if !last_reader.read_frame(&mut last)? {
            break;
        }
    }
    let reader = FirstFrames {
        reader,
        left: frames,
    };

    let identity = AgentIdentity::generate()?;
    let fingerprint = identity.fingerprint();
    let ticket = Ticket::open("inv-stream", "Ada", stretch(PASSWORD, &options.params)?);
    let endpoint = agent_endpoint("127.0.0.1:0".parse()?, &identity)?;
    let agent_addr = endpoint.local_addr()?;
    let fps = meta.fps;
    let agent = tokio::spawn(async move {
        let connection = endpoint.accept().await.context("no connection")?.await?;
        let (decisions_tx, decisions) = mpsc::unbounded_channel();
        let (events, mut events_rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(event) = events_rx.recv().await {
                if let AgentEvent::HelperWantsToConnect { .. } = event {
                    let _ = decisions_tx.send(SharerDecision::AllowConnection(true));
                }
            }
        });
        let options = AgentOptions::new(fps, origin);
        let reason = serve(
            connection,
            move |_| Some(ticket),
            reader,
            (),
            AgentHooks { decisions, events },
            options,
        )
        .await?;
        anyhow::Ok(reason)
    });
    let relay = match options.link {
        Some(spec) => Some(Relay::start(agent_addr, spec).await?),
        None => None,
    };
    let target = relay.as_ref().map_or(agent_addr, Relay::addr);

    let start = Instant::now();
    let client = viewer_endpoint("127.0.0.1:0".parse()?)?;
    let connection = connect(&client, target, fingerprint, Duration::from_secs(10)).await?;
    let stretched = stretch(PASSWORD, &options.params)?;
    let (actions_tx, actions) = mpsc::unbounded_channel();
    let (events, mut events_rx) = mpsc::unbounded_channel();
    let viewer = tokio::spawn(async move {
        view(
            connection,
            &InvitationRef::bare("inv-stream"),
            "Grace",
            &stretched,
            ViewerHooks { actions, events },
            Timers::default(),
            origin,
        )
        .await
    });

    let clip_s = meta
        .duration_secs()
        .min(frames as f64 / f64::from(meta.fps.max(1)));
    let clip_end = start + Duration::from_secs_f64(clip_s);
    let deadline = clip_end + options.settle;
    let mut report = StreamReport {
        clip_s,
        ..Default::default()
    };
    let mut screen = Frame::filled(1, 1, [0; 4]);
    let mut exact_since: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if now >= clip_end
            && let Some(since) = exact_since
        {
            let after = since.duration_since(start).as_secs_f64() - clip_s;
            report.exact_after_end_s = Some(after);
            break;
        }
        // Wake at the clip's end too, to see whether the picture is already exact.
        let wake = if now < clip_end { clip_end } else { deadline };
        let Ok(event) =
            tokio::time::timeout(wake.saturating_duration_since(now), events_rx.recv()).await
        else {
            if Instant::now() >= deadline {
                break;
            }
            continue;
        };
        match event.context("the viewer stopped")? {
            ViewerEvent::Authenticated { .. } => {
                report.handshake_ms = start.elapsed().as_secs_f64() * 1000.0
            }
            ViewerEvent::Screen(change) => {
                // The change is on the helper's screen when the session hands it over: keeping
                // a copy here is the bench's own work.
                let latency =
                    (origin.elapsed().as_micros() as u64).saturating_sub(change.timestamp_us);
                change.paint(&mut screen);
                report.bytes += change.wire_bytes as u64;
                report.samples.push(Sample {
                    at_s: start.elapsed().as_secs_f64(),
                    latency_ms: latency as f64 / 1000.0,
                    refinement: change.refinement,
                });
                exact_since = (screen == last).then(|| exact_since.unwrap_or_else(Instant::now));
                let at = (start.elapsed().as_secs_f64(), report.bytes);
                if report.near.is_none()
                    && screen.width() == last.width()
                    && screen.height() == last.height()
                    && psnr_rgb(&screen.as_ref(), &last.as_ref(), last.as_ref().bounds()) >= 50.0
                {
                    report.near = Some(at);
                }
                if report.exact.is_none() && exact_since.is_some() {
                    report.exact = Some(at);
                }
            }
            ViewerEvent::Closed(reason) => bail!("the session closed early: {reason}"),
            _ => {}
        }
    }
    let _ = actions_tx.send(HelperAction::Disconnect);
    report.closed.1 = tokio::time::timeout(Duration::from_secs(5), viewer)
        .await
        .ok()
        .and_then(|r| r.ok()?.ok());
    report.closed.0 = tokio::time::timeout(Duration::from_secs(5), agent)
        .await
        .ok()
        .and_then(|r| r.ok()?.ok());
    drop(relay);
    Ok(report)
}
