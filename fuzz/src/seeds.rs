//! Seeds for every target, from real sessions: the committed clips through the real encoders
//! (the screen pipeline, the lossless, text-memory, AV1 and video codecs), the messages two real
//! session cores exchange from hello to goodbye, and a real invitation in both its forms.

use std::path::Path;

use beckon_engine::codec::memory::TextMemory;
use beckon_engine::codec::video::VideoEncoder;
use beckon_engine::codec::{CodecConfig, lossless};
use beckon_engine::corpus::ClipReader;
use beckon_engine::frame::{Frame, Rect};
use beckon_engine::invite::{Fingerprint, Invitation};
use beckon_engine::pipeline::{PipelineConfig, ScreenEncoder};
use beckon_engine::session::auth::StretchParams;
use beckon_engine::session::{
    AgentConfig, AgentInput, AgentOutput, AgentSession, HelperAction, InvitationRef,
    SharerDecision, Timers, ViewerInput, ViewerOutput, ViewerSession,
};
use beckon_engine::wire::{InputEvent, Message, framing, varint};

use crate::{join_chunks, with_region};

/// The clips the seeds come from, under `corpus/`.
const CLIPS: &[&str] = &["terminal", "scroll", "drag", "document", "video"];
/// Frames of each clip encoded.
const FRAMES: usize = 8;
/// The part of the screen encoded: small, so the fuzzer's inputs stay small.
const CROP: Rect = Rect::new(480, 260, 320, 192);

/// A target's name and one seed for it.
pub type Seed = (&'static str, Vec<u8>);

/// What a step of the scripted session does to the two session cores at a time.
type Step = Box<dyn Fn(&mut AgentSession, &mut ViewerSession, u64)>;

/// Every target's seeds, made from the clips in `corpus`: `(target, seed)` pairs.
///
/// # Errors
/// When a clip cannot be read or an encoder fails.
pub fn all(corpus: &Path) -> Result<Vec<Seed>, Box<dyn std::error::Error>> {
    let mut seeds = Vec::new();
    let config = CodecConfig::default();
    for clip in CLIPS {
        let frames = crops(&corpus.join(format!("{clip}.bgra.zst")))?;
        // The screen pipeline, as a session streams it.
        let mut encoder = ScreenEncoder::new(PipelineConfig::default());
        let mut updates = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            if let Some(update) = encoder.encode(&frame.as_ref(), i as u64 * 33_333)? {
                updates.push(update.encode());
            }
        }
        seeds.push(("update", join_chunks(updates.iter().map(Vec::as_slice))));
        let whole = Rect::new(0, 0, CROP.width, CROP.height);
        let band = Rect::new(0, 0, CROP.width, 48);
        for rect in [whole, band] {
            let first = frames[0].as_ref();
            seeds.push((
                "lossless",
                with_region(rect, &lossless::encode(&first, rect, 3)),
            ));
            let av1 = beckon_engine::codec::av1::encode(&first, rect, &config)?;
            seeds.push(("av1", with_region(rect, &av1)));
        }
        // Text with memory: the same band, frame after frame (scrolled lines come back).
        let mut memory = TextMemory::new(7);
        let payloads: Vec<Vec<u8>> = frames
            .iter()
            .filter_map(|f| memory.encode(&f.as_ref(), band))
            .map(|p| with_region(band, &p))
            .collect();
        if !payloads.is_empty() {
            seeds.push((
                "text_memory",
                join_chunks(payloads.iter().map(Vec::as_slice)),
            ));
        }
        // A video stream of the whole crop, from its start to its end.
        let mut stream = VideoEncoder::new(1, whole, &config)?;
        let mut payloads = Vec::new();
        for frame in &frames {
            payloads.push(with_region(whole, &stream.encode(&frame.as_ref())?));
        }
        payloads.push(with_region(whole, &stream.finish()?));
        seeds.push(("video", join_chunks(payloads.iter().map(Vec::as_slice))));
    }
    let messages = session_messages()?;
    let mut stream = Vec::new();
    let mut helper_said = Vec::new();
    for (message, from_helper) in &messages {
        let bytes = message.encode()?;
        stream.extend_from_slice(&framing::frame(message)?);
        if *from_helper {
            helper_said.push(bytes.clone());
        }
        seeds.push(("message", bytes));
    }
    // The helper's side of the session, login and all, to the sharer's session core.
    seeds.push((
        "session",
        join_chunks(helper_said.iter().map(Vec::as_slice)),
    ));
    // Framing: the first byte is the size of the pieces the stream arrives in.
    for piece in [1u8, 7, 255] {
        let mut seed = vec![piece];
        seed.extend_from_slice(&stream);
        seeds.push(("framing", seed));
    }
    let invitation = invitation();
    seeds.push(("invitation", invitation.to_toml().into_bytes()));
    seeds.push(("invitation", invitation.to_string_form().into_bytes()));
    let mut numbers = Vec::new();
    for v in [0, 1, 127, 128, 300, 1 << 32, u64::MAX, varint::zigzag(-5)] {
        varint::put(&mut numbers, v);
    }
    seeds.push(("varint", numbers));
    Ok(seeds)
}

/// The first [`FRAMES`] frames of `clip`, cut to [`CROP`].
fn crops(clip: &Path) -> Result<Vec<Frame>, Box<dyn std::error::Error>> {
    let mut reader = ClipReader::open(clip)?;
    let mut frame = reader.blank_frame();
    let mut out = Vec::new();
    while out.len() < FRAMES && reader.read_frame(&mut frame)? {
        let row = CROP.width as usize * 4;
        let mut data = Vec::with_capacity(row * CROP.height as usize);
        for y in CROP.y..CROP.y + CROP.height {
            let start = CROP.x as usize * 4;
            data.extend_from_slice(&frame.as_ref().row(y)[start..start + row]);
        }
        out.push(Frame::from_bgra(data, CROP.width, CROP.height)?);
    }
    Ok(out)
}

/// An invitation as the agent makes one.
fn invitation() -> Invitation {
    Invitation {
        id: "k3Jd9-Qa71-Zx".into(),
        from: "Ada".into(),
        message: "My printer stopped printing.".into(),
        created: 1_790_000_000,
        expires: 1_790_003_600,
        stretch: StretchParams {
            m_cost_kib: 64 << 10,
            t_cost: 3,
            ..crate::light_params()
        },
        addresses: vec!["192.0.2.7:50123".parse().expect("an address")],
        fingerprint: Fingerprint([0xab; 32]),
        relays: Vec::new(),
    }
}

/// Every message of a session between the two real session cores: hello, key exchange,
/// consent, chat, Take Control, input, the sharer's Esc, goodbye; and whether the viewer sent
/// it.
fn session_messages() -> Result<Vec<(Message, bool)>, Box<dyn std::error::Error>> {
    let mut agent = AgentSession::new(
        crate::session_ticket(),
        crate::SESSION_BINDING,
        crate::SESSION_AGENT_RNG,
        AgentConfig::default(),
        0,
    );
    let mut viewer = ViewerSession::new(
        &InvitationRef::bare("inv-seed"),
        "Grace",
        &crate::session_stretched(),
        crate::SESSION_BINDING,
        [2; 32],
        Timers::default(),
        0,
    );
    let mut seen = Vec::new();
    let now = std::cell::Cell::new(0u64);
    let exchange = |agent: &mut AgentSession, viewer: &mut ViewerSession, seen: &mut Vec<_>| {
        for _ in 0..4 {
            now.set(now.get() + 1_000);
            let now = now.get();
            while let Some(output) = viewer.poll_output() {
                if let ViewerOutput::Send(m) = output {
                    seen.push((m.clone(), true));
                    agent.handle_input(now, AgentInput::Received(m));
                }
            }
            while let Some(output) = agent.poll_output() {
                if let AgentOutput::Send(m) = output {
                    seen.push((m.clone(), false));
                    viewer.handle_input(now, ViewerInput::Received(m));
                }
            }
        }
    };
    exchange(&mut agent, &mut viewer, &mut seen);
    let steps: Vec<Step> = vec![
        Box::new(|a, _, t| {
            a.handle_input(
                t,
                AgentInput::Decision(SharerDecision::AllowConnection(true)),
            )
        }),
        Box::new(|_, v, t| {
            v.handle_input(
                t,
                ViewerInput::Action(HelperAction::Chat("Hello Ada".into())),
            )
        }),
        Box::new(|a, _, t| {
            a.handle_input(
                t,
                AgentInput::Decision(SharerDecision::Chat("Hi Grace".into())),
            )
        }),
        Box::new(|_, v, t| v.handle_input(t, ViewerInput::Action(HelperAction::RequestControl))),
        Box::new(|a, _, t| {
            a.handle_input(t, AgentInput::Decision(SharerDecision::AllowControl(true)))
        }),
        Box::new(|_, v, t| {
            for event in [
                InputEvent::PointerMove { x: 40, y: 30 },
                InputEvent::Button {
                    button: 1,
                    pressed: true,
                },
                InputEvent::Key {
                    keysym: 0x61,
                    pressed: true,
                },
            ] {
                v.handle_input(t, ViewerInput::Action(HelperAction::Input(event)));
            }
        }),
        Box::new(|a, _, t| a.handle_input(t, AgentInput::Decision(SharerDecision::Esc))),
        Box::new(|_, v, t| v.handle_input(t, ViewerInput::Action(HelperAction::Disconnect))),
    ];
    for step in steps {
        step(&mut agent, &mut viewer, now.get());
        exchange(&mut agent, &mut viewer, &mut seen);
    }
    seen.dedup();
    Ok(seen)
}
