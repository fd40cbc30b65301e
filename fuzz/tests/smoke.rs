//! The smoke run in `make test`: every target on its seeds from real sessions, then on
//! deterministic mutations of them, bounded in count and in time. It fails when a target panics
//! (a parser crashed, or a round trip it asserts broke) and when a target has no seed to start
//! from.

use std::path::Path;
use std::time::{Duration, Instant};

use beckon_fuzz::{Mutator, TARGETS, seeds};

/// Mutations per target at most.
const MUTATIONS: usize = 3_000;
/// Wall time per target at most (the AV1 and video targets decode real streams, slowly
/// without optimisation).
const BUDGET: Duration = Duration::from_secs(4);

#[test]
fn every_target_survives_its_seeds_and_their_mutations() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let seeds = seeds::all(&corpus).expect("seeds from the committed clips");
    for (name, target) in TARGETS {
        let mine: Vec<Vec<u8>> = seeds
            .iter()
            .filter(|(t, _)| t == name)
            .map(|(_, s)| s.clone())
            .collect();
        assert!(!mine.is_empty(), "target {name} has no seeds");
        for seed in &mine {
            target(seed);
        }
        let mut mutator = Mutator::new(0x5eed ^ name.len() as u64);
        let start = Instant::now();
        let mut runs = 0;
        while runs < MUTATIONS && start.elapsed() < BUDGET {
            let input = mutator.mutate(&mine[runs % mine.len()], &mine);
            target(&input);
            runs += 1;
        }
        eprintln!(
            "{name}: {} seeds, {runs} mutations in {:.1?}",
            mine.len(),
            start.elapsed()
        );
    }
}

/// The seeds reach the code behind the parsers: an update seed applies to a screen, a message
/// seed decodes, a framing seed gives every message, a payload seed decodes to its region.
/// Without this, a seed broken by a format change would leave the fuzzer at the front door.
#[test]
fn the_seeds_parse() {
    use beckon_engine::pipeline::Framebuffer;
    use beckon_engine::wire::{Message, Update};
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let seeds = seeds::all(&corpus).expect("seeds from the committed clips");
    let mut applied = 0;
    for (target, seed) in &seeds {
        match *target {
            "update" => {
                let mut screen = Framebuffer::new();
                for chunk in beckon_fuzz::split_chunks(seed) {
                    let update = Update::decode(chunk).expect("a seed update decodes");
                    screen.apply(&update).expect("a seed update applies");
                    applied += 1;
                }
            }
            "message" => {
                Message::decode(seed).expect("a seed message decodes");
            }
            "invitation" => {
                let text = std::str::from_utf8(seed).expect("text");
                beckon_engine::invite::Invitation::parse(text).expect("a seed invitation parses");
            }
            "lossless" => {
                let (rect, payload) = beckon_fuzz::split_region(seed).expect("a header");
                beckon_engine::codec::lossless::decode(payload, rect).expect("a seed decodes");
            }
            "session" => {
                // The recorded login proves the password to the fixed ticket: the fuzzer starts
                // past authentication, where the consent rules are.
                use beckon_engine::session::{
                    AgentConfig, AgentEvent, AgentInput, AgentOutput, AgentSession,
                };
                let mut agent = AgentSession::new(
                    beckon_fuzz::session_ticket(),
                    beckon_fuzz::SESSION_BINDING,
                    beckon_fuzz::SESSION_AGENT_RNG,
                    AgentConfig::default(),
                    0,
                );
                let mut asked = false;
                for chunk in beckon_fuzz::split_chunks(seed) {
                    let message = Message::decode(chunk).expect("a seed message decodes");
                    agent.handle_input(1_000, AgentInput::Received(message));
                    while let Some(output) = agent.poll_output() {
                        asked |= matches!(
                            output,
                            AgentOutput::Event(AgentEvent::HelperWantsToConnect { .. })
                        );
                    }
                }
                assert!(asked, "the session seed does not log in");
            }
            "av1" => {
                let (rect, payload) = beckon_fuzz::split_region(seed).expect("a header");
                let mut decoder = beckon_engine::codec::av1::Decoder::new().expect("dav1d");
                decoder.decode(payload, rect).expect("a seed decodes");
            }
            _ => {}
        }
    }
    assert!(applied >= 10, "only {applied} seed updates applied");
}
