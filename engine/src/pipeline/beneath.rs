//! The layer beneath the screen, kept alike on both sides.
//!
//! Beside the screen, the receiver's [`Framebuffer`](super::Framebuffer) keeps what copies
//! covered: before an update's copies write, the part of their rectangles outside all of their
//! sources (what the moving thing newly covers: the wallpaper in front of a dragged window) goes
//! from the screen to the same place in the layer ([`save_beneath`]). The layer starts black. A
//! restore (no payload) brings the layer's pixels back, read as they were before the update:
//! the wallpaper the window uncovers.
//!
//! The encoder keeps the same layer ([`Layer`]), in the true pixels of what copies covered, and
//! sends a restore only where the new pixels equal it, so a restore is exact by construction
//! (the tile ledger marks where the receiver's layer holds lossy pixels).

use crate::codec::classify;
use crate::frame::{Frame, FrameRef, Rect};
use crate::motion::Move;
use crate::pipeline::ledger::TileLedger;

/// Most pieces [`save_beneath`] cuts an update's copies into; beyond, it saves nothing (the
/// pipeline's copies make a handful, and crafted ones must not cost time).
const MAX_SAVED_PIECES: usize = 1024;

/// Fewest colours a restore must bring back to be sent: text and blank areas cost little to
/// send again (text with memory), a restore's header as much, and restores would cut them into
/// slivers.
const RESTORE_MIN_COLOURS: usize = 64;

/// Saves into `under` what `copies` (destination, source) cover of `screen`, and returns those
/// pieces: their destinations outside all of their sources. A window moved as several copies
/// saves only the wallpaper in front of it, not its own pixels.
pub(crate) fn save_beneath(
    under: &mut Frame,
    screen: &FrameRef<'_>,
    copies: &[(Rect, Rect)],
) -> Vec<Rect> {
    let mut pieces: Vec<Rect> = copies.iter().map(|(to, _)| *to).collect();
    for (_, from) in copies {
        pieces = pieces
            .into_iter()
            .flat_map(|p| crate::motion::subtract(p, *from))
            .collect();
        if pieces.len() > MAX_SAVED_PIECES {
            return Vec::new();
        }
    }
    for piece in &pieces {
        crate::codec::paste(under, *piece, &crate::codec::crop(screen, *piece));
    }
    pieces
}

/// The encoder's copy of the receiver's layer beneath, in true pixels.
#[derive(Debug, Default)]
pub(crate) struct Layer {
    under: Option<Frame>,
}

impl Layer {
    /// A new screen: the layer is black, as the receiver's.
    pub(crate) fn reset(&mut self, width: u32, height: u32) {
        self.under = Some(Frame::filled(width, height, [0, 0, 0, 255]));
    }

    /// The layer, when it has `frame`'s size.
    pub(crate) fn matching(&self, frame: &FrameRef<'_>) -> Option<FrameRef<'_>> {
        self.under
            .as_ref()
            .filter(|u| u.width() == frame.width() && u.height() == frame.height())
            .map(Frame::as_ref)
    }

    /// Saves what `moves` cover of `previous` (the screen before the update), as the receiver
    /// will, and tells the ledger where.
    pub(crate) fn save(
        &mut self,
        moves: &[Move],
        previous: &FrameRef<'_>,
        ledger: &mut TileLedger,
    ) {
        let Some(under) = self.under.as_mut() else {
            return;
        };
        let copies: Vec<(Rect, Rect)> = moves.iter().map(|m| (m.rect, m.source())).collect();
        for piece in save_beneath(under, previous, &copies) {
            ledger.saved(piece);
        }
    }

    /// Where `boxes` (one tile each) of `frame` show again what the layer holds, looked for
    /// only in tiles where copies saved pixels; photo-like restores only
    /// ([`RESTORE_MIN_COLOURS`]).
    pub(crate) fn restores(
        &self,
        frame: &FrameRef<'_>,
        boxes: &[Rect],
        ledger: &TileLedger,
    ) -> Vec<Rect> {
        let Some(under) = self.matching(frame) else {
            return Vec::new();
        };
        let areas: Vec<Rect> = boxes
            .iter()
            .filter(|b| ledger.saved_at(b))
            .copied()
            .collect();
        if areas.is_empty() {
            return Vec::new();
        }
        let mut restores = crate::motion::restores(&under, frame, &areas);
        restores.retain(|r| {
            classify::count_colours(frame, *r, RESTORE_MIN_COLOURS + 1) > RESTORE_MIN_COLOURS
        });
        restores
    }
}
