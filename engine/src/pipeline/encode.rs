//! Encoding a plan: every region in parallel on the caller's rayon pool, except small lossless
//! regions, which go through the text memory one by one, in plan order, as the receiver will
//! decode them.

use rayon::prelude::*;

use crate::codec::memory::{self, TextMemory};
use crate::codec::{EncodedRegion, RegionEncoder, RegionKind};
use crate::frame::{FrameRef, Rect};
use crate::pipeline::PipelineError;

/// Encodes `plan` of `frame`. On error the memory is as it was: the update is not sent.
pub(crate) fn encode_plan(
    encoder: &RegionEncoder,
    memory: &mut TextMemory,
    frame: &FrameRef<'_>,
    plan: &[(Rect, RegionKind)],
) -> Result<Vec<EncodedRegion>, PipelineError> {
    let with_memory = |rect: &Rect, kind: &RegionKind| {
        *kind == RegionKind::Lossless && rect.area() <= memory::MAX_AREA
    };
    let encode = |rect: Rect, kind: RegionKind| {
        encoder
            .encode(frame, rect, kind)
            .map_err(|source| PipelineError::Codec { rect, source })
    };
    let parallel: Vec<Option<EncodedRegion>> = plan
        .par_iter()
        .map(|(rect, kind)| {
            if with_memory(rect, kind) {
                Ok(None)
            } else {
                encode(*rect, *kind).map(Some)
            }
        })
        .collect::<Result<_, _>>()?;
    let mark = memory.mark();
    let mut out = Vec::with_capacity(plan.len());
    for ((rect, kind), done) in plan.iter().zip(parallel) {
        let region = match done {
            Some(region) => region,
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
        out.push(region);
    }
    memory.commit();
    Ok(out)
}
