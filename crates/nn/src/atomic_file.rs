//! Writing a file so that a crash, a kill or a full disk never leaves a half-written file under
//! its name: the bytes go to a temporary file in the same folder, which is flushed to the disk
//! and then renamed over the target; the folder is flushed too, so that the rename itself is
//! on the disk. A reader sees the old file or the new one, never a mix.
//!
//! A process killed between creating the temporary file and renaming it leaves the temporary
//! file behind; [`remove_stale_temporaries`] removes such leftovers when the next run starts.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The suffix that marks a temporary file of `path`: `path.tmp<pid>.<n>`.
const TEMPORARY_MARK: &str = ".tmp";

/// Writes `bytes` to `path` atomically. On error no temporary file is left behind and any
/// previous file at `path` is untouched.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = temporary_path(path);
    let written = write_synced(&temporary, bytes)
        .and_then(|()| std::fs::rename(&temporary, path))
        .and_then(|()| sync_folder(path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Removes the temporary files a killed save of `path` left (`path.tmp*`), returning their
/// paths. Only call it when no other process is saving to `path`.
pub fn remove_stale_temporaries(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(Vec::new());
    };
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    let mut prefix = name.to_os_string();
    prefix.push(TEMPORARY_MARK);
    let prefix = prefix.to_string_lossy().into_owned();
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) && entry.path().is_file() {
            std::fs::remove_file(entry.path())?;
            removed.push(entry.path());
        }
    }
    removed.sort();
    Ok(removed)
}

/// `path.tmp<pid>.<n>`, unique per process and per call: two saves running at once (threads or
/// processes) never write into the same temporary file.
fn temporary_path(path: &Path) -> PathBuf {
    static SAVES: AtomicUsize = AtomicUsize::new(0);
    let mut name = path.as_os_str().to_owned();
    let count = SAVES.fetch_add(1, Ordering::Relaxed);
    name.push(format!("{TEMPORARY_MARK}{}.{count}", std::process::id()));
    PathBuf::from(name)
}

/// Writes `bytes` to `path` and flushes them to the disk.
// NOTE: without the fsync, a crash just after the rename can leave an empty file under the
// final name on some file systems (the rename reached the disk before the data did).
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Flushes the folder holding `path`, so that the rename into it survives a crash.
// NOTE: on Unix a directory opens read-only and `sync_all` is its fsync; Windows cannot open a
// directory as a file, and its rename is already durable, so there is nothing to do.
fn sync_folder(path: &Path) -> std::io::Result<()> {
    if cfg!(unix) {
        let folder = match path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => Path::new("."),
        };
        File::open(folder)?.sync_all()?;
    }
    Ok(())
}
