//! Logging for Beckon's own programs: their tracing events go to a private file in the state
//! directory (`~/.local/state/beckon/PROGRAM.log`, at `info` unless `RUST_LOG` says otherwise)
//! and, when asked with `RUST_LOG` or `--verbose`, to standard error. Events never carry a
//! secret (the tests scan whole sessions' logs). Tools embedding the engine install a subscriber
//! of their own instead.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// A log file at least this long at start is kept as `PROGRAM.log.1` and a new one begun, so
/// two runs' worth at most is ever kept.
const ROTATE_AT: u64 = 8 << 20;

/// What `--verbose` shows on standard error: Beckon's own debug events, others' from `info`.
const VERBOSE: &str = "info,beckon_engine=debug,beckon_agent=debug,beckon_viewer=debug";

/// Installs the subscriber for `program` (`agent`, `viewer`): the log file always, standard
/// error when `RUST_LOG` is set or `verbose`, and then says where the file is (or why there is
/// none: the program runs on without it). Returns the file's path.
pub fn init(program: &str, verbose: bool) -> Option<PathBuf> {
    let from_env = || EnvFilter::try_from_default_env().ok();
    let stderr = (verbose || std::env::var_os("RUST_LOG").is_some()).then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(from_env().unwrap_or_else(|| EnvFilter::new(VERBOSE)))
    });
    let file = crate::dirs::state()
        .map_err(|e| e.to_string())
        .and_then(|dir| open(&dir, program).map_err(|e| format!("{}: {e}", dir.display())));
    let (path, file_layer) = match file {
        Ok((path, file)) => (
            Ok(path),
            Some(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(Mutex::new(file))
                    .with_filter(from_env().unwrap_or_else(|| EnvFilter::new("info"))),
            ),
        ),
        Err(why) => (Err(why), None),
    };
    // Fails only when a subscriber is set already (an embedder's): theirs stays.
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init();
    if verbose {
        match &path {
            Ok(path) => eprintln!("Logging to {}.", path.display()),
            Err(why) => eprintln!("No log file ({why})."),
        }
    }
    path.ok()
}

/// Opens `DIR/PROGRAM.log` for appending, the sharer's alone, after rotating a long one.
fn open(dir: &Path, program: &str) -> std::io::Result<(PathBuf, File)> {
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    // Elsewhere the user's profile folder is private already.
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        folder.mode(0o700);
        options.mode(0o600);
    }
    folder.create(dir)?;
    let path = dir.join(format!("{program}.log"));
    if std::fs::metadata(&path).is_ok_and(|m| m.len() >= ROTATE_AT) {
        std::fs::rename(&path, dir.join(format!("{program}.log.1")))?;
    }
    let mut file = options.open(&path)?;
    writeln!(
        file,
        "-- {program} {} started, pid {}",
        env!("CARGO_PKG_VERSION"),
        std::process::id()
    )?;
    Ok((path, file))
}
