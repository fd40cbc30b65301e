use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "beckon-corpus-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn frame(i: u32) -> Frame {
    let mut f = Frame::filled(33, 7, [i as u8, 2, 3, 255]);
    f.set_pixel(i % 33, i % 7, [0, 0, 255, 255]);
    f
}

fn write_clip(dir: &Path, frames: u32) -> PathBuf {
    let path = dir.join("clip.bgra.zst");
    let mut w = ClipWriter::create(&path, 33, 7, 30, "test").unwrap();
    for i in 0..frames {
        w.write_frame(&frame(i).as_ref()).unwrap();
    }
    let meta = w.finish().unwrap();
    assert_eq!(meta.frames, frames as u64);
    path
}

fn read_all(path: &Path) -> Result<Vec<Frame>, CorpusError> {
    let mut r = ClipReader::open(path)?;
    let mut f = r.blank_frame();
    let mut out = Vec::new();
    while r.read_frame(&mut f)? {
        out.push(f.clone());
    }
    Ok(out)
}

fn set_meta(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let (_, json) = clip_paths(path);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&json, v.to_string()).unwrap();
}

#[test]
fn round_trip_keeps_every_pixel() {
    let dir = Scratch::new();
    let path = write_clip(&dir.0, 5);
    let frames = read_all(&path).unwrap();
    assert_eq!(frames, (0..5).map(frame).collect::<Vec<_>>());
    let meta = read_meta(dir.0.join("clip")).unwrap();
    assert_eq!(
        (meta.width, meta.height, meta.fps, meta.frames),
        (33, 7, 30, 5)
    );
}

#[test]
fn writer_honours_strides() {
    let dir = Scratch::new();
    let path = dir.0.join("strided");
    let mut padded = vec![0xEEu8; 40 * 3];
    for y in 0..3 {
        for x in 0..8 {
            padded[y * 40 + x * 4..y * 40 + x * 4 + 4].copy_from_slice(&[x as u8, y as u8, 1, 255]);
        }
    }
    let view = FrameRef::new(&padded, 8, 3, 40).unwrap();
    let mut w = ClipWriter::create(&path, 8, 3, 10, "").unwrap();
    w.write_frame(&view).unwrap();
    w.finish().unwrap();
    let back = read_all(&path).unwrap();
    assert_eq!(back[0].as_ref().pixel(5, 2), [5, 2, 1, 255]);
}

#[test]
fn missing_sidecar_is_named() {
    let dir = Scratch::new();
    let path = write_clip(&dir.0, 2);
    std::fs::remove_file(dir.0.join("clip.json")).unwrap();
    let err = ClipReader::open(&path).unwrap_err();
    assert!(matches!(err, CorpusError::MissingSidecar { .. }), "{err}");
    assert!(err.to_string().contains("clip.json"), "{err}");
}

#[test]
fn malformed_sidecars_say_what_is_wrong() {
    let dir = Scratch::new();
    let path = write_clip(&dir.0, 2);
    std::fs::write(dir.0.join("clip.json"), "{\"width\": 33,").unwrap();
    let err = ClipReader::open(&path).unwrap_err();
    assert!(matches!(err, CorpusError::MalformedSidecar { .. }), "{err}");

    let cases: [(&str, serde_json::Value, &str); 3] = [
        ("width", 0.into(), "width is 0"),
        ("fps", 0.into(), "fps is 0"),
        ("frames", (-1).into(), "integer `-1`, expected u64"),
    ];
    for (key, value, expected) in cases {
        write_clip(&dir.0, 2);
        set_meta(&path, |v| v[key] = value);
        let err = ClipReader::open(&path).unwrap_err().to_string();
        assert!(
            err.contains("malformed sidecar") && err.contains(expected),
            "{err}"
        );
    }
}

#[test]
fn unknown_pixel_format_is_refused() {
    let dir = Scratch::new();
    let path = write_clip(&dir.0, 2);
    set_meta(&path, |v| v["pixel_format"] = "rgb24".into());
    let err = ClipReader::open(&path).unwrap_err();
    assert!(
        err.to_string().contains("unknown pixel format \"rgb24\""),
        "{err}"
    );
}

#[test]
fn fewer_frames_than_promised_is_truncated() {
    let dir = Scratch::new();
    let path = write_clip(&dir.0, 3);
    set_meta(&path, |v| v["frames"] = 4.into());
    let err = read_all(&path).unwrap_err();
    assert!(
        matches!(
            err,
            CorpusError::Truncated {
                frame: 3,
                got: 0,
                ..
            }
        ),
        "{err}"
    );
    // A size that is not a whole number of frames.
    set_meta(&path, |v| {
        v["frames"] = 3.into();
        v["height"] = 8.into();
    });
    let err = read_all(&path).unwrap_err();
    assert!(
        matches!(err, CorpusError::Truncated { frame: 2, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("not width*height*4*frames"),
        "{err}"
    );
}

#[test]
fn more_frames_than_promised_is_refused() {
    let dir = Scratch::new();
    let path = write_clip(&dir.0, 3);
    set_meta(&path, |v| v["frames"] = 2.into());
    let err = read_all(&path).unwrap_err();
    assert!(
        matches!(err, CorpusError::TrailingData { frames: 2, .. }),
        "{err}"
    );
}

#[test]
fn truncated_and_corrupt_streams_are_errors() {
    let dir = Scratch::new();
    let path = write_clip(&dir.0, 20);
    let bytes = std::fs::read(&path).unwrap();
    // Cut in the middle: the decoder must notice the stream ends early.
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = read_all(&path).unwrap_err();
    assert!(
        matches!(
            err,
            CorpusError::Decompress { .. } | CorpusError::Truncated { .. }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("clip.bgra.zst"), "{err}");
    // Garbage after the magic number.
    let mut corrupt = bytes.clone();
    for b in corrupt.iter_mut().skip(6) {
        *b ^= 0x5A;
    }
    std::fs::write(&path, &corrupt).unwrap();
    let err = read_all(&path).unwrap_err();
    assert!(matches!(err, CorpusError::Decompress { .. }), "{err}");
    // Not zstd at all.
    std::fs::write(&path, b"this is not a clip").unwrap();
    assert!(matches!(
        read_all(&path),
        Err(CorpusError::Decompress { .. })
    ));
}

#[test]
fn frames_of_the_wrong_size_are_refused() {
    let dir = Scratch::new();
    let mut w = ClipWriter::create(dir.0.join("c"), 4, 4, 30, "").unwrap();
    let err = w
        .write_frame(&Frame::filled(4, 5, [0; 4]).as_ref())
        .unwrap_err();
    assert!(
        err.to_string().contains("frame is 4x5, the clip is 4x4"),
        "{err}"
    );
    let path = write_clip(&dir.0, 1);
    let mut r = ClipReader::open(&path).unwrap();
    assert!(matches!(
        r.read_frame(&mut Frame::filled(1, 1, [0; 4])),
        Err(CorpusError::FrameSize { .. })
    ));
}

#[test]
fn missing_pixel_file_is_an_io_error_naming_it() {
    let dir = Scratch::new();
    let path = write_clip(&dir.0, 1);
    std::fs::remove_file(&path).unwrap();
    let err = ClipReader::open(&path).unwrap_err();
    assert!(matches!(err, CorpusError::Io { .. }) && err.to_string().contains("clip.bgra.zst"));
}

/// Played live, a clip skips the frames a late capture missed, shows its last frame, then ends.
#[test]
fn a_live_clip_keeps_to_the_clock() {
    use crate::pipeline::{FrameSource, LiveClip};
    let dir = Scratch::new();
    let mut clip = LiveClip::new(ClipReader::open(write_clip(&dir.0, 8)).unwrap());
    let mut f = Frame::filled(1, 1, [0; 4]);
    let shown = |f: &Frame| f.as_ref().pixel(20, 5)[0];
    assert!(clip.next_frame(&mut f).unwrap());
    assert_eq!(shown(&f), 0, "the first capture shows the first frame");
    // At 30 fps, 150 ms in, frame 4 is due: those before it are skipped.
    std::thread::sleep(std::time::Duration::from_millis(150));
    assert!(clip.next_frame(&mut f).unwrap());
    assert!(shown(&f) >= 4, "frame {} shown 150 ms in", shown(&f));
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(clip.next_frame(&mut f).unwrap(), "the last frame is shown");
    assert_eq!(shown(&f), 7);
    assert!(!clip.next_frame(&mut f).unwrap(), "then the clip ends");
    assert_eq!(shown(&f), 7, "and its last frame stays");
}
