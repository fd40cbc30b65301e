//! A fuzz target for every parser that takes bytes from the network or from a file: each
//! function takes any bytes, must never panic, hang or allocate without bound, and checks what
//! must hold of what does parse (it encodes back to the same thing, it stays inside the
//! screen).
//!
//! The same functions run three ways: under libFuzzer (`fuzz_targets/`, built by cargo-fuzz
//! with `--sanitizer none` on stable Rust: `make fuzz`), on their seeds and a bounded number of
//! mutations of them in `make test` (`tests/smoke.rs`), and on any file (`fuzz-one`). The seeds
//! come from real sessions: the committed clips encoded by the real encoders, and the messages
//! of a real handshake ([`seeds`]).

pub mod seeds;

use beckon_engine::codec::memory::TextMemory;
use beckon_engine::codec::{RegionDecoder, RegionKind, lossless, video};
use beckon_engine::frame::{Frame, Rect};
use beckon_engine::invite::Invitation;
use beckon_engine::pipeline::Framebuffer;
use beckon_engine::session::auth::{Credential, StretchParams, stretch};
use beckon_engine::session::{
    AgentConfig, AgentEvent, AgentInput, AgentOutput, AgentSession, Secret, Ticket,
};
use beckon_engine::wire::framing::{self, Deframer};
use beckon_engine::wire::{Message, Update, varint};
use rand_core::SeedableRng;

/// A fuzz target: takes any bytes, panics only on a bug.
pub type Target = fn(&[u8]);

/// Every target by name, in the order `make fuzz` runs them.
pub const TARGETS: &[(&str, Target)] = &[
    ("update", update),
    ("message", message),
    ("framing", framing),
    ("invitation", invitation),
    ("lossless", lossless),
    ("text_memory", text_memory),
    ("video", video),
    ("av1", av1),
    ("varint", varint),
    ("session", session),
];

/// Widest and tallest region the payload targets decode: the header's numbers are taken modulo
/// this, so a mutation of the header still names a region worth decoding.
pub const MAX_SIDE: u32 = 1024;

/// Splits `data` into chunks, each a little-endian `u32` length and that many bytes (the last
/// one cut short where the data ends): the form of the targets that feed one decoder a
/// sequence.
pub fn split_chunks(mut data: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (len, rest) = data.split_first_chunk::<4>()?;
        let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
        let (chunk, after) = rest.split_at(len);
        data = after;
        Some(chunk)
    })
}

/// Joins `parts` as [`split_chunks`] splits them.
pub fn join_chunks<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// The rectangle at the origin a region header names: width and height as little-endian
/// `u16`s, taken into 1..=[`MAX_SIDE`].
pub fn split_region(data: &[u8]) -> Option<(Rect, &[u8])> {
    let (header, payload) = data.split_first_chunk::<4>()?;
    let side = |lo: u8, hi: u8| u32::from(u16::from_le_bytes([lo, hi])) % MAX_SIDE + 1;
    let rect = Rect::new(0, 0, side(header[0], header[1]), side(header[2], header[3]));
    Some((rect, payload))
}

/// The region header for `rect` (at the origin, sides at most [`MAX_SIDE`]) before `payload`.
pub fn with_region(rect: Rect, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + payload.len());
    for side in [rect.width, rect.height] {
        out.extend_from_slice(&((side - 1) as u16).to_le_bytes());
    }
    out.extend_from_slice(payload);
    out
}

/// A sequence of screen updates applied to one framebuffer: each that decodes encodes back to
/// the same bytes' meaning, and the screen stays the size the updates say.
pub fn update(data: &[u8]) {
    let mut screen = Framebuffer::new();
    for chunk in split_chunks(data) {
        let Ok(update) = Update::decode(chunk) else {
            continue;
        };
        assert_eq!(Update::decode(&update.encode()).as_ref(), Ok(&update));
        if screen.apply(&update).is_ok() {
            let frame = screen.frame().expect("an applied update leaves a screen");
            assert_eq!(
                (frame.width(), frame.height()),
                (update.width, update.height)
            );
        }
    }
}

/// One control message: what decodes encodes back to itself.
pub fn message(data: &[u8]) {
    if let Ok(message) = Message::decode(data) {
        let bytes = message
            .encode()
            .expect("a decoded message is within its limits");
        assert_eq!(Message::decode(&bytes).as_ref(), Ok(&message));
    }
}

/// The control stream's bytes, arriving in pieces whose sizes the first byte chooses: every
/// message that comes out frames back into bytes that give it again.
pub fn framing(data: &[u8]) {
    let Some((&piece, mut rest)) = data.split_first() else {
        return;
    };
    let piece = usize::from(piece).max(1);
    let mut deframer = Deframer::default();
    while !rest.is_empty() {
        let (now, later) = rest.split_at(piece.min(rest.len()).min(deframer.room().max(1)));
        rest = later;
        if deframer.push(now).is_err() {
            return;
        }
        loop {
            match deframer.next_message() {
                Ok(Some(message)) => {
                    let mut again = Deframer::default();
                    again
                        .push(&framing::frame(&message).expect("it decoded"))
                        .unwrap();
                    assert_eq!(again.next_message(), Ok(Some(message)));
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}

/// An invitation, as a file's text or a `beckon:` string: what parses reads back the same from
/// both its forms, with the same digest.
pub fn invitation(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(invitation) = Invitation::parse(text) else {
        return;
    };
    for form in [invitation.to_toml(), invitation.to_string_form()] {
        let again = Invitation::parse(&form).expect("an invitation reads back");
        assert_eq!(again, invitation);
        assert_eq!(again.digest(), invitation.digest());
    }
}

/// A lossless payload for a region (header: its size): what decodes fills the region exactly.
pub fn lossless(data: &[u8]) {
    let Some((rect, payload)) = split_region(data) else {
        return;
    };
    if let Ok(pixels) = lossless::decode(payload, rect) {
        assert_eq!(pixels.len(), rect.area() as usize * 4);
    }
}

/// A sequence of text-with-memory payloads (each with its region header) through one memory,
/// rolled back after each that fails, as the viewer does.
pub fn text_memory(data: &[u8]) {
    let mut memory = TextMemory::new(0);
    for chunk in split_chunks(data) {
        let Some((rect, payload)) = split_region(chunk) else {
            continue;
        };
        let mark = memory.mark();
        match memory.decode(payload, rect) {
            Ok(pixels) => {
                assert_eq!(pixels.len(), rect.area() as usize * 4);
                memory.commit();
            }
            Err(_) => memory.rollback(mark),
        }
    }
}

/// A sequence of video-stream payloads (each with its region header) through one region
/// decoder, into a screen that holds the largest region.
pub fn video(data: &[u8]) {
    let mut decoder = RegionDecoder::default();
    let mut screen = Frame::filled(MAX_SIDE, MAX_SIDE, [0; 4]);
    for chunk in split_chunks(data) {
        let Some((rect, payload)) = split_region(chunk) else {
            continue;
        };
        if video::parse(payload).is_none() {
            continue;
        }
        let region = beckon_engine::codec::EncodedRegion {
            rect,
            kind: RegionKind::Video,
            payload: payload.to_vec(),
        };
        let _ = decoder.decode(&region, &mut screen);
    }
}

/// One AV1 intra payload for a region (header: its size): what decodes fills it exactly.
pub fn av1(data: &[u8]) {
    let Some((rect, payload)) = split_region(data) else {
        return;
    };
    let Ok(mut decoder) = beckon_engine::codec::av1::Decoder::new() else {
        return;
    };
    if let Ok(pixels) = decoder.decode(payload, rect) {
        assert_eq!(pixels.len(), rect.area() as usize * 4);
    }
}

/// A run of varints: each that reads writes back in as many bytes or fewer, and reads back the
/// same; zigzag is undone exactly.
pub fn varint(mut data: &[u8]) {
    while let Ok((value, used)) = varint::read(data) {
        let mut out = Vec::new();
        varint::put(&mut out, value);
        assert!(out.len() <= used && out.len() == varint::len(value));
        assert_eq!(varint::read(&out), Ok((value, out.len())));
        assert_eq!(varint::zigzag(varint::unzigzag(value)), value);
        data = &data[used..];
    }
}

/// Deterministic mutations of seeds, for the smoke run in `make test` (libFuzzer does far
/// better in `make fuzz`; this is what runs without it): bit flips, boundary bytes, inserted,
/// deleted and repeated ranges, truncation, and splices with another seed of the same target.
#[derive(Debug, Clone)]
pub struct Mutator {
    state: u64,
}

impl Mutator {
    /// A mutator whose choices follow from `seed` alone.
    pub fn new(seed: u64) -> Self {
        Mutator { state: seed | 1 }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// `input` changed in one to four places; `others` are splice partners.
    pub fn mutate(&mut self, input: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
        const BOUNDARY: [u8; 6] = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
        let mut out = input.to_vec();
        for _ in 0..1 + self.below(4) {
            let len = out.len();
            match self.below(7) {
                0 if len > 0 => {
                    let i = self.below(len);
                    out[i] ^= 1 << self.below(8);
                }
                1 if len > 0 => {
                    let i = self.below(len);
                    out[i] = BOUNDARY[self.below(BOUNDARY.len())];
                }
                2 => {
                    let i = self.below(len + 1);
                    let byte = self.next() as u8;
                    out.insert(i, byte);
                }
                3 if len > 0 => {
                    let start = self.below(len);
                    let end = (start + 1 + self.below(16)).min(len);
                    out.drain(start..end);
                }
                4 if len > 0 => {
                    let start = self.below(len);
                    let end = (start + 1 + self.below(64)).min(len);
                    let piece = out[start..end].to_vec();
                    let at = self.below(len + 1);
                    out.splice(at..at, piece);
                }
                5 if len > 0 => out.truncate(self.below(len)),
                6 if !others.is_empty() => {
                    let other = &others[self.below(others.len())];
                    let cut = self.below(len + 1);
                    let from = self.below(other.len() + 1);
                    out.truncate(cut);
                    out.extend_from_slice(&other[from..]);
                }
                _ => {}
            }
        }
        out
    }
}

/// The password of the session the `session` target's seeds come from.
pub const SESSION_PASSWORD: &str = "Tamoki-Ruvela-Sipono-47!";
/// The TLS exporter value both sides of that session see.
pub const SESSION_BINDING: [u8; 32] = [9; 32];
/// The seed of the agent's randomness in that session.
pub const SESSION_AGENT_RNG: [u8; 32] = [1; 32];

/// Light stretching: the seeds need real messages, not a slow password.
pub fn light_params() -> StretchParams {
    StretchParams {
        salt: [7; 16],
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    }
}

/// The stretched [`SESSION_PASSWORD`].
pub fn session_stretched() -> Secret<[u8; 32]> {
    stretch(SESSION_PASSWORD, &light_params()).expect("light parameters are valid")
}

/// The agent's ticket in the seeds' session, the same every time (its credential from a fixed
/// seed), so a recorded login still logs in.
pub fn session_ticket() -> Ticket {
    static TICKET: std::sync::OnceLock<Ticket> = std::sync::OnceLock::new();
    TICKET
        .get_or_init(|| {
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
            Ticket {
                credential: Credential::register(&session_stretched(), &mut rng),
                ..Ticket::open("inv-seed", "Ada", session_stretched())
            }
        })
        .clone()
}

/// A helper's side of a session as a sequence of messages (each a chunk) fed to the sharer's
/// session core, which no sharer answers: whatever they say, including a recorded login that
/// proves the password, nothing is captured, sent or applied without the sharer's Yes.
pub fn session(data: &[u8]) {
    let mut agent = AgentSession::new(
        session_ticket(),
        SESSION_BINDING,
        SESSION_AGENT_RNG,
        AgentConfig::default(),
        0,
    );
    for (i, chunk) in split_chunks(data).enumerate() {
        let Ok(message) = Message::decode(chunk) else {
            continue;
        };
        let now = (i as u64 + 1) * 1_000;
        agent.handle_input(now, AgentInput::Received(message));
        agent.handle_input(now, AgentInput::Tick { rtt_us: None });
        while let Some(output) = agent.poll_output() {
            match output {
                AgentOutput::Capture
                | AgentOutput::SendUpdate(_)
                | AgentOutput::Apply(_)
                | AgentOutput::SetClipboard(_) => {
                    panic!("{output:?} without the sharer's Yes")
                }
                AgentOutput::Event(AgentEvent::ViewingStarted | AgentEvent::ControlStarted) => {
                    panic!("{output:?} without the sharer's Yes")
                }
                _ => {}
            }
        }
    }
}
