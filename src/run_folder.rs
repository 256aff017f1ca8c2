//! What both examples do with their output folder, so a user's work is never lost:
//!
//! - [`prepare`]: create the folder and prove it writable before any training time is spent;
//! - [`refuse_to_replace`]: a folder that already holds a checkpoint is only trained into with
//!   `--resume` (continue it) or `--overwrite` (replace it, said explicitly);
//! - [`remove_stale_temporaries`]: the half-written temporary files a killed save left;
//! - [`Curve`]: the learning curve, trimmed on resume back to the iteration resumed from, so a
//!   resumed run's `curve.csv` equals the uninterrupted run's, row for row.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use nn::Checkpoint;

/// The checkpoint's file name inside an output folder.
pub const CHECKPOINT: &str = "checkpoint.safetensors";
/// The learning curve's file name inside an output folder.
pub const CURVE: &str = "curve.csv";

/// Creates `dir` and checks that a file can be created in it.
pub fn prepare(dir: &Path) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write to output folder {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(".write-test-{}", std::process::id()));
    File::create(&probe).map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)
}

/// Refuses to train into a folder whose checkpoint would be replaced, unless the user asked to
/// continue it (`resume`) or to replace it (`overwrite`).
pub fn refuse_to_replace(dir: &Path, resume: bool, overwrite: bool) -> Result<(), String> {
    let path = dir.join(CHECKPOINT);
    if resume || overwrite || !path.exists() {
        return Ok(());
    }
    let reached = Checkpoint::load(&path)
        .ok()
        .and_then(|c| meta::read_iteration(&c).ok())
        .map(|i| format!(" (iteration {i})"))
        .unwrap_or_default();
    Err(format!(
        "{} already holds a checkpoint{reached}; nothing was written. Pass --resume {} to \
         continue it, --overwrite to replace it, or choose another --out",
        dir.display(),
        path.display()
    ))
}

/// Continues `trainer` from `--resume`'s checkpoint when one was given (refusing changed
/// `settings` unless allowed): the checkpoint on disk that holds the run so far and its
/// iteration, kept if the run later fails. `None`: a fresh run, from iteration 0.
pub fn resume_if_asked(
    run: &crate::cli::RunArgs,
    trainer: &mut meta::MetaTrainer,
    settings: &[(&str, String)],
) -> Result<Option<(u64, PathBuf)>, String> {
    let Some(path) = &run.resume else {
        return Ok(None);
    };
    let (iteration, _) =
        meta::resume_training_with(path, trainer, settings, run.allow_changed_settings)
            .map_err(|e| e.to_string())?;
    println!("resumed from {} at iteration {iteration}", path.display());
    Ok(Some((iteration, path.clone())))
}

/// Removes what a killed save of the folder's checkpoint, or of its learning curve (rewritten
/// atomically when a run resumes: [`Curve::open`]), left behind, saying so.
pub fn remove_stale_temporaries(dir: &Path) -> Result<(), String> {
    for name in [CHECKPOINT, CURVE] {
        let removed = nn::atomic_file::remove_stale_temporaries(&dir.join(name))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        for path in removed {
            println!("removed {} (left by an interrupted save)", path.display());
        }
    }
    Ok(())
}

/// The learning curve, one row per iteration, written as training goes.
pub struct Curve {
    path: PathBuf,
    file: BufWriter<File>,
}

impl Curve {
    /// Opens `dir/curve.csv` for a run starting after iteration `start`: a new file with
    /// `header` when `start` is 0; otherwise the existing rows up to `start` kept (rows of
    /// iterations after it, written before an interruption, dropped) and new rows appended.
    pub fn open(dir: &Path, header: &str, start: u64) -> Result<Curve, String> {
        let path = dir.join(CURVE);
        let fail = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut kept = format!("{header}\n");
        if start > 0 {
            match std::fs::read_to_string(&path) {
                Ok(text) => kept = trimmed(&text, header, start),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(fail(e)),
            }
        }
        nn::atomic_file::write_atomically(&path, kept.as_bytes()).map_err(fail)?;
        let file = OpenOptions::new().append(true).open(&path).map_err(fail)?;
        Ok(Curve {
            path,
            file: BufWriter::new(file),
        })
    }

    /// Appends one row.
    pub fn row(&mut self, row: std::fmt::Arguments) -> Result<(), String> {
        writeln!(self.file, "{row}").map_err(|e| format!("{}: {e}", self.path.display()))
    }

    /// Writes the buffered rows to the file (call it before each checkpoint, so the curve is
    /// never behind the checkpoint).
    pub fn flush(&mut self) -> Result<(), String> {
        self.file
            .flush()
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `text` (a curve) cut back to the header and the rows of iterations 1 ..= `last`.
fn trimmed(text: &str, header: &str, last: u64) -> String {
    let mut kept = format!("{header}\n");
    for line in text.lines().skip(1) {
        let iteration = line.split(',').next().and_then(|i| i.parse::<u64>().ok());
        if matches!(iteration, Some(i) if i <= last) {
            kept += line;
            kept.push('\n');
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_curve_keeps_the_rows_up_to_the_checkpoint() {
        let text = "iteration,loss\n1,0.5\n2,0.4\n3,0.3\n4,0.2\n3,0.3\n";
        assert_eq!(
            trimmed(text, "iteration,loss", 2),
            "iteration,loss\n1,0.5\n2,0.4\n"
        );
        assert_eq!(trimmed(text, "iteration,loss", 0), "iteration,loss\n");
    }

    /// A kill can land in the checkpoint's save or in the curve's rewrite on resume (both are
    /// written to a temporary and renamed); the next run removes what either left, and only
    /// that.
    #[test]
    fn stale_temporaries_of_the_checkpoint_and_the_curve_are_removed() {
        let dir = std::env::temp_dir().join(format!("run-folder-stale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let stale = ["checkpoint.safetensors.tmp41.0", "curve.csv.tmp42.3"];
        let kept = [CHECKPOINT, CURVE, "notes.tmp", "curve.csv.bak"];
        for name in stale.iter().chain(&kept) {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        remove_stale_temporaries(&dir).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut expected: Vec<String> = kept.iter().map(|n| n.to_string()).collect();
        expected.sort();
        assert_eq!(left, expected);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
