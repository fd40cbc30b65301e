//! Recorded screen clips: the stand-in for a live screen in benchmarks and tests.
//!
//! A clip is two files side by side: `NAME.bgra.zst`, the frames as raw BGRA (`width * height *
//! 4` bytes each, back to back) compressed with zstd (long-distance matching helps: `zstd
//! --long=27`), and `NAME.json`, its sidecar ([`ClipMeta`]):
//!
//! ```json
//! {"width":1280,"height":720,"fps":30,"frames":300,"pixel_format":"bgra","description":"..."}
//! ```
//!
//! [`ClipReader`] streams the frames one at a time into a reusable [`Frame`], so memory stays
//! constant however long the clip; [`ClipWriter`] writes a clip and its sidecar. A bad clip gets a
//! [`CorpusError`] naming the file and what is wrong, never a panic.
//!
//! ```
//! # fn main() -> Result<(), beckon_engine::corpus::CorpusError> {
//! use beckon_engine::corpus::{ClipReader, ClipWriter};
//! use beckon_engine::frame::Frame;
//!
//! let dir = std::env::temp_dir().join(format!("beckon-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("tiny.bgra.zst");
//! let mut writer = ClipWriter::create(&path, 4, 2, 30, "two grey frames")?;
//! writer.write_frame(&Frame::filled(4, 2, [9, 9, 9, 255]).as_ref())?;
//! writer.write_frame(&Frame::filled(4, 2, [7, 7, 7, 255]).as_ref())?;
//! writer.finish()?;
//!
//! let mut reader = ClipReader::open(&path)?;
//! let mut frame = reader.blank_frame();
//! let mut count = 0;
//! while reader.read_frame(&mut frame)? {
//!     count += 1;
//! }
//! assert_eq!(count, 2);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok(())
//! # }
//! ```

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::frame::{BYTES_PER_PIXEL, Frame, FrameRef};

/// The only pixel format clips hold.
pub const PIXEL_FORMAT: &str = "bgra";

/// Largest width or height a clip may declare.
pub const MAX_DIMENSION: u32 = 16_384;

/// zstd level [`ClipWriter`] uses: strong enough for committed clips, fast enough to record.
pub(crate) const WRITE_LEVEL: i32 = 12;

/// Window of the long-distance matcher, as `zstd --long=27`.
pub(crate) const WINDOW_LOG: u32 = 27;

/// The sidecar of a clip, `NAME.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClipMeta {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Frames per second the clip was recorded at.
    pub fps: u32,
    /// Number of frames in the clip.
    pub frames: u64,
    /// Always `"bgra"`.
    pub pixel_format: String,
    /// What the clip shows, for people.
    #[serde(default)]
    pub description: String,
}

impl ClipMeta {
    /// Bytes in one frame.
    pub fn frame_bytes(&self) -> usize {
        self.width as usize * self.height as usize * BYTES_PER_PIXEL
    }

    /// Duration of the clip in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.frames as f64 / self.fps as f64
    }
}

/// What is wrong with a clip.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CorpusError {
    /// A file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// The clip has no `NAME.json` beside it.
    #[error("{}: sidecar is missing (a clip NAME.bgra.zst needs NAME.json beside it)", path.display())]
    MissingSidecar {
        /// Where the sidecar should be.
        path: PathBuf,
    },
    /// The sidecar is not valid JSON of the expected shape, or holds impossible values.
    #[error("{}: malformed sidecar: {reason}", path.display())]
    MalformedSidecar {
        /// The sidecar.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The sidecar names a pixel format other than BGRA.
    #[error("{}: unknown pixel format {format:?} (only \"bgra\" is supported)", path.display())]
    UnknownPixelFormat {
        /// The sidecar.
        path: PathBuf,
        /// The format it names.
        format: String,
    },
    /// The pixel data ends before the frames the sidecar promises.
    #[error(
        "{}: truncated: frame {frame} has {got} of {expected} bytes, the sidecar promises {frames} frames \
         (the size is not width*height*4*frames)",
        path.display()
    )]
    Truncated {
        /// The pixel file.
        path: PathBuf,
        /// Index of the incomplete frame.
        frame: u64,
        /// Bytes of it present.
        got: usize,
        /// Bytes a frame has.
        expected: usize,
        /// Frames the sidecar promises.
        frames: u64,
    },
    /// The pixel data goes on after the frames the sidecar promises.
    #[error(
        "{}: more data than the sidecar's {frames} frames of {width}x{height} \
         (the size is not width*height*4*frames)",
        path.display()
    )]
    TrailingData {
        /// The pixel file.
        path: PathBuf,
        /// Frames the sidecar promises.
        frames: u64,
        /// Frame width.
        width: u32,
        /// Frame height.
        height: u32,
    },
    /// The zstd stream is corrupt or cut short.
    #[error("{}: corrupt or truncated zstd stream at frame {frame}: {source}", path.display())]
    Decompress {
        /// The pixel file.
        path: PathBuf,
        /// Index of the frame being read.
        frame: u64,
        /// What the decompressor said.
        source: io::Error,
    },
    /// A frame handed to [`ClipWriter::write_frame`] or [`ClipReader::read_frame`] has the wrong size.
    #[error("{}: frame is {got_width}x{got_height}, the clip is {width}x{height}", path.display())]
    FrameSize {
        /// The clip.
        path: PathBuf,
        /// Width of the frame given.
        got_width: u32,
        /// Height of the frame given.
        got_height: u32,
        /// Width of the clip.
        width: u32,
        /// Height of the clip.
        height: u32,
    },
}

/// The two paths of a clip, from either of them or from `NAME` alone.
///
/// `dir/term.bgra.zst`, `dir/term.json` and `dir/term` all give
/// (`dir/term.bgra.zst`, `dir/term.json`).
pub fn clip_paths(path: impl AsRef<Path>) -> (PathBuf, PathBuf) {
    let path = path.as_ref();
    let s = path.to_string_lossy();
    let stem = s
        .strip_suffix(".bgra.zst")
        .or_else(|| s.strip_suffix(".json"))
        .unwrap_or(&s);
    (
        PathBuf::from(format!("{stem}.bgra.zst")),
        PathBuf::from(format!("{stem}.json")),
    )
}

/// Reads and checks the sidecar of a clip.
///
/// # Errors
/// [`CorpusError::MissingSidecar`], [`CorpusError::MalformedSidecar`],
/// [`CorpusError::UnknownPixelFormat`] or [`CorpusError::Io`].
pub fn read_meta(path: impl AsRef<Path>) -> Result<ClipMeta, CorpusError> {
    let (_, json) = clip_paths(path);
    let text = match std::fs::read_to_string(&json) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(CorpusError::MissingSidecar { path: json });
        }
        Err(source) => return Err(CorpusError::Io { path: json, source }),
    };
    let meta: ClipMeta =
        serde_json::from_str(&text).map_err(|e| CorpusError::MalformedSidecar {
            path: json.clone(),
            reason: e.to_string(),
        })?;
    let bad = |reason: String| CorpusError::MalformedSidecar {
        path: json.clone(),
        reason,
    };
    if meta.pixel_format != PIXEL_FORMAT {
        return Err(CorpusError::UnknownPixelFormat {
            path: json,
            format: meta.pixel_format,
        });
    }
    for (name, value) in [("width", meta.width), ("height", meta.height)] {
        if value == 0 || value > MAX_DIMENSION {
            return Err(bad(format!(
                "{name} is {value}, expected 1 to {MAX_DIMENSION}"
            )));
        }
    }
    if meta.fps == 0 || meta.fps > 1000 {
        return Err(bad(format!("fps is {}, expected 1 to 1000", meta.fps)));
    }
    if meta.frames == 0 {
        return Err(bad("frames is 0, a clip holds at least one frame".into()));
    }
    Ok(meta)
}

/// Streams the frames of a clip, one at a time, in constant memory.
pub struct ClipReader {
    path: PathBuf,
    meta: ClipMeta,
    decoder: zstd::stream::read::Decoder<'static, BufReader<File>>,
    next: u64,
}

impl std::fmt::Debug for ClipReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClipReader")
            .field("path", &self.path)
            .field("meta", &self.meta)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl ClipReader {
    /// Opens a clip by either of its paths or its `NAME`, reading and checking the sidecar.
    ///
    /// # Errors
    /// Any sidecar error of [`read_meta`], or [`CorpusError::Io`] when the pixel file cannot be
    /// opened.
    pub fn open(path: impl AsRef<Path>) -> Result<ClipReader, CorpusError> {
        let (pixels, _) = clip_paths(&path);
        let meta = read_meta(&path)?;
        let io_err = |source| CorpusError::Io {
            path: pixels.clone(),
            source,
        };
        let file = File::open(&pixels).map_err(io_err)?;
        let mut decoder = zstd::stream::read::Decoder::new(file).map_err(io_err)?;
        // Clips made with `zstd --long=31` need the widest window the format allows.
        decoder.window_log_max(31).map_err(io_err)?;
        Ok(ClipReader {
            path: pixels,
            meta,
            decoder,
            next: 0,
        })
    }

    /// The clip's sidecar.
    pub fn meta(&self) -> &ClipMeta {
        &self.meta
    }

    /// The pixel file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Index of the next frame [`ClipReader::read_frame`] returns.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// A frame of the clip's size to read into.
    pub fn blank_frame(&self) -> Frame {
        Frame::filled(self.meta.width, self.meta.height, [0; 4])
    }

    /// Reads the next frame into `frame`. Returns `Ok(false)` after the last frame, once it has
    /// checked that nothing follows it.
    ///
    /// # Errors
    /// [`CorpusError::Truncated`], [`CorpusError::TrailingData`], [`CorpusError::Decompress`],
    /// or [`CorpusError::FrameSize`] when `frame` is not of the clip's size.
    pub fn read_frame(&mut self, frame: &mut Frame) -> Result<bool, CorpusError> {
        if frame.width() != self.meta.width || frame.height() != self.meta.height {
            return Err(CorpusError::FrameSize {
                path: self.path.clone(),
                got_width: frame.width(),
                got_height: frame.height(),
                width: self.meta.width,
                height: self.meta.height,
            });
        }
        if self.next == self.meta.frames {
            let mut probe = [0u8; 1];
            return match self.fill(&mut probe)? {
                0 => Ok(false),
                _ => Err(CorpusError::TrailingData {
                    path: self.path.clone(),
                    frames: self.meta.frames,
                    width: self.meta.width,
                    height: self.meta.height,
                }),
            };
        }
        let got = self.fill(frame.data_mut())?;
        if got < self.meta.frame_bytes() {
            return Err(CorpusError::Truncated {
                path: self.path.clone(),
                frame: self.next,
                got,
                expected: self.meta.frame_bytes(),
                frames: self.meta.frames,
            });
        }
        self.next += 1;
        Ok(true)
    }

    /// Reads until `buf` is full or the stream ends; returns how much was read.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize, CorpusError> {
        let mut got = 0;
        while got < buf.len() {
            match self.decoder.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(CorpusError::Decompress {
                        path: self.path.clone(),
                        frame: self.next,
                        source,
                    });
                }
            }
        }
        Ok(got)
    }

    /// Reads the whole clip to check it, returning its sidecar when every frame is there and
    /// nothing follows.
    ///
    /// # Errors
    /// The first problem [`ClipReader::open`] or [`ClipReader::read_frame`] finds.
    pub fn verify(path: impl AsRef<Path>) -> Result<ClipMeta, CorpusError> {
        let mut reader = ClipReader::open(path)?;
        let mut frame = reader.blank_frame();
        while reader.read_frame(&mut frame)? {}
        Ok(reader.meta)
    }
}

/// Writes a clip: frames go through zstd with long-distance matching into `NAME.bgra.zst`, and
/// [`ClipWriter::finish`] writes the sidecar with the frame count.
pub struct ClipWriter {
    path: PathBuf,
    meta: ClipMeta,
    encoder: zstd::stream::write::Encoder<'static, BufWriter<File>>,
}

impl std::fmt::Debug for ClipWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClipWriter")
            .field("path", &self.path)
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl ClipWriter {
    /// Starts a clip at `path` (either path of the clip, or its `NAME`).
    ///
    /// # Errors
    /// [`CorpusError::MalformedSidecar`] for an impossible size or rate, [`CorpusError::Io`] when
    /// the file cannot be created.
    pub fn create(
        path: impl AsRef<Path>,
        width: u32,
        height: u32,
        fps: u32,
        description: &str,
    ) -> Result<ClipWriter, CorpusError> {
        let (pixels, json) = clip_paths(path);
        if width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION || fps == 0
        {
            return Err(CorpusError::MalformedSidecar {
                path: json,
                reason: format!("cannot write a {width}x{height} clip at {fps} fps"),
            });
        }
        let io_err = |source| CorpusError::Io {
            path: pixels.clone(),
            source,
        };
        let file = File::create(&pixels).map_err(io_err)?;
        let mut encoder =
            zstd::stream::write::Encoder::new(BufWriter::new(file), WRITE_LEVEL).map_err(io_err)?;
        encoder.long_distance_matching(true).map_err(io_err)?;
        encoder.window_log(WINDOW_LOG).map_err(io_err)?;
        Ok(ClipWriter {
            path: pixels,
            meta: ClipMeta {
                width,
                height,
                fps,
                frames: 0,
                pixel_format: PIXEL_FORMAT.into(),
                description: description.into(),
            },
            encoder,
        })
    }

    /// Appends one frame.
    ///
    /// # Errors
    /// [`CorpusError::FrameSize`] when the frame is not of the clip's size, [`CorpusError::Io`]
    /// when writing fails.
    pub fn write_frame(&mut self, frame: &FrameRef<'_>) -> Result<(), CorpusError> {
        if frame.width() != self.meta.width || frame.height() != self.meta.height {
            return Err(CorpusError::FrameSize {
                path: self.path.clone(),
                got_width: frame.width(),
                got_height: frame.height(),
                width: self.meta.width,
                height: self.meta.height,
            });
        }
        for y in 0..frame.height() {
            self.encoder
                .write_all(frame.row(y))
                .map_err(|source| CorpusError::Io {
                    path: self.path.clone(),
                    source,
                })?;
        }
        self.meta.frames += 1;
        Ok(())
    }

    /// Ends the stream and writes the sidecar; returns it.
    ///
    /// # Errors
    /// [`CorpusError::Io`] when finishing either file fails, [`CorpusError::MalformedSidecar`]
    /// when no frame was written.
    pub fn finish(self) -> Result<ClipMeta, CorpusError> {
        let (_, json) = clip_paths(&self.path);
        if self.meta.frames == 0 {
            return Err(CorpusError::MalformedSidecar {
                path: json,
                reason: "no frame was written".into(),
            });
        }
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CorpusError::Io { path, source }
        };
        let mut inner = self.encoder.finish().map_err(io_err(&self.path))?;
        inner.flush().map_err(io_err(&self.path))?;
        let text =
            serde_json::to_string(&self.meta).map_err(|e| CorpusError::MalformedSidecar {
                path: json.clone(),
                reason: e.to_string(),
            })?;
        std::fs::write(&json, text + "\n").map_err(io_err(&json))?;
        Ok(self.meta)
    }
}

#[cfg(test)]
mod tests;
