//! `beckon-fuzz seeds DIR`: writes every target's seeds to `DIR/<target>/` (what `make fuzz`
//! starts libFuzzer from). `beckon-fuzz replay TARGET FILE...`: runs a target on files, such as
//! a crash libFuzzer saved, without libFuzzer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use beckon_fuzz::{TARGETS, seeds};

const USAGE: &str = "usage: beckon-fuzz seeds DIR | beckon-fuzz replay TARGET FILE...";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["seeds", dir] => write_seeds(Path::new(dir)),
        ["replay", target, files @ ..] if !files.is_empty() => replay(target, files),
        _ => Err(USAGE.into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("beckon-fuzz: {error}");
            ExitCode::FAILURE
        }
    }
}

fn write_seeds(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let mut counts = std::collections::BTreeMap::new();
    for (target, seed) in seeds::all(&corpus)? {
        let n = counts.entry(target).or_insert(0);
        let folder: PathBuf = dir.join(target);
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(format!("seed-{n:02}")), seed)?;
        *n += 1;
    }
    for (target, n) in counts {
        println!("{target}: {n} seeds in {}", dir.join(target).display());
    }
    Ok(())
}

fn replay(name: &str, files: &[&str]) -> Result<(), Box<dyn std::error::Error>> {
    let Some((_, target)) = TARGETS.iter().find(|(t, _)| *t == name) else {
        let names: Vec<&str> = TARGETS.iter().map(|(t, _)| *t).collect();
        return Err(format!("no target {name}: the targets are {}", names.join(", ")).into());
    };
    for file in files {
        let data = std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"))?;
        target(&data);
        println!("{file}: {} bytes, no crash", data.len());
    }
    Ok(())
}
