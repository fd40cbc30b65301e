//! Encoding a plan: every region in parallel on the caller's rayon pool, except small lossless
//! regions, which go through the text memory one by one, in plan order, as the receiver will
//! decode them. A whole screen's large many-coloured text goes coarse first
//! ([`encode_coarse`](crate::codec::lossless::encode_coarse)): on a slow link the first picture
//! is what the helper waits for, and refinement makes it exact.

use rayon::prelude::*;

use crate::codec::memory::{self, TextMemory};
use crate::codec::{EncodedRegion, RegionEncoder, RegionKind};
use crate::frame::{FrameRef, Rect};
use crate::pipeline::PipelineError;

/// Fewest bytes a coarse region must save to be sent: its exact pixels follow in refinement,
/// at about the cost saved again, so it must buy the first picture real time on a slow link (an
/// eighth of a second at 256 kbit/s). A terminal's text, a few hundred colours, saves 1.5 kB;
/// a page of greyscale-antialiased text 4.6 kB.
const COARSE_SAVING: usize = 4096;

/// The regions of a plan, and which of the lossless ones are coarse (not exact).
#[derive(Debug, Default)]
pub(crate) struct Encoded {
    pub(crate) regions: Vec<EncodedRegion>,
    pub(crate) coarse: Vec<Rect>,
}

/// Encodes `plan` of `frame`; with `coarse`, large lossless regions of many colours go coarse.
/// On error the memory is as it was: the update is not sent.
pub(crate) fn encode_plan(
    encoder: &RegionEncoder,
    memory: &mut TextMemory,
    frame: &FrameRef<'_>,
    plan: &[(Rect, RegionKind)],
    coarse: bool,
) -> Result<Encoded, PipelineError> {
    let with_memory = |rect: &Rect, kind: &RegionKind| {
        *kind == RegionKind::Lossless && rect.area() <= memory::MAX_AREA
    };
    let encode = |rect: Rect, kind: RegionKind| {
        encoder
            .encode(frame, rect, kind)
            .map_err(|source| PipelineError::Codec { rect, source })
    };
    let parallel: Vec<Option<(EncodedRegion, bool)>> = plan
        .par_iter()
        .map(|(rect, kind)| {
            if with_memory(rect, kind) {
                return Ok(None);
            }
            let exact = encode(*rect, *kind)?;
            // Only a region whose exact pixels cost more than the saving asked is worth coding
            // twice.
            if coarse
                && *kind == RegionKind::Lossless
                && exact.payload.len() > COARSE_SAVING
                && let Some(region) = encoder.encode_coarse(frame, *rect)
                && region.payload.len() + COARSE_SAVING <= exact.payload.len()
            {
                return Ok(Some((region, true)));
            }
            Ok(Some((exact, false)))
        })
        .collect::<Result<_, _>>()?;
    let mark = memory.mark();
    let mut out = Encoded {
        regions: Vec::with_capacity(plan.len()),
        coarse: Vec::new(),
    };
    for ((rect, kind), done) in plan.iter().zip(parallel) {
        let region = match done {
            Some((region, coarse)) => {
                if coarse {
                    out.coarse.push(region.rect);
                }
                region
            }
            None => match memory.encode(frame, *rect) {
                Some(payload) => EncodedRegion {
                    rect: *rect,
                    kind: *kind,
                    payload,
                },
                // Photo-like or too many colours: the plain forms.
                None => match encode(*rect, *kind) {
                    Ok(region) => region,
                    Err(e) => {
                        memory.rollback(mark);
                        return Err(e);
                    }
                },
            },
        };
        out.regions.push(region);
    }
    memory.commit();
    Ok(out)
}
