//! A binary cache of decoded images, so a second run skips the PNG decoding.
//!
//! The cache is *keyed* by a hash of the source file list — every file's path, size and
//! modification time, in load order — so any added, removed, renamed or touched file makes it
//! stale. It is never trusted blindly: a wrong magic, version, key, image count or checksum, or a
//! truncated file, sends the loader back to the PNGs and the cache is rewritten.
//!
//! Format (little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `OMNIGLOT` |
//! | 4 | format version |
//! | 8 | source key |
//! | 8 | image count `n` |
//! | 4 · n · 784 | pixels, `f32` |
//! | 8 | FNV-1a checksum of everything before |
//!
//! The write goes to `<path>.tmp` first and is renamed into place, so a run killed mid-write
//! leaves no half-written cache under the real name.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::decode::{IMAGE_PIXELS, IMAGE_SIZE};
use super::error::{io_error, Result};

const MAGIC: &[u8; 8] = b"OMNIGLOT";
const VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 8 + 8;

/// What [`Omniglot::load_cached`](super::Omniglot::load_cached) found at the cache path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheStatus {
    /// A valid cache of the same sources: nothing was decoded.
    Hit,
    /// No cache file yet; the images were decoded and the cache written.
    Missing,
    /// A cache of other sources (files added, removed or changed); decoded and rewritten.
    Stale,
    /// A damaged or unreadable cache file (the reason); decoded and rewritten.
    Corrupt(String),
}

/// FNV-1a, 64-bit: a small, stable hash (unlike `std`'s, fixed across Rust versions).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ byte as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The key of a source file list: format version, image size, and each file's path, size and
/// modification time (nanoseconds since the epoch; 0 where the platform has none).
pub(super) fn source_key(files: &[&Path]) -> Result<u64> {
    let mut hash = Fnv::new();
    hash.write(&VERSION.to_le_bytes());
    hash.write(&(IMAGE_SIZE as u64).to_le_bytes());
    for file in files {
        let metadata = std::fs::metadata(file).map_err(io_error(*file))?;
        let modified = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |since| since.as_nanos());
        let path = file.to_string_lossy();
        hash.write(&(path.len() as u64).to_le_bytes());
        hash.write(path.as_bytes());
        hash.write(&metadata.len().to_le_bytes());
        hash.write(&modified.to_le_bytes());
    }
    Ok(hash.0)
}

/// The pixels of `images` images stored at `path` under `key`, or why they cannot be used.
pub(super) fn read(
    path: &Path,
    key: u64,
    images: usize,
) -> std::result::Result<Vec<f32>, CacheStatus> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(CacheStatus::Missing)
        }
        Err(error) => return Err(CacheStatus::Corrupt(format!("unreadable: {error}"))),
    };
    let corrupt = |reason: &str| CacheStatus::Corrupt(format!("{}: {reason}", path.display()));
    if bytes.len() < HEADER + 8 || &bytes[..8] != MAGIC {
        return Err(corrupt("not an Omniglot cache"));
    }
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(corrupt(&format!(
            "format version {version}, expected {VERSION}"
        )));
    }
    let body = bytes.len() - 8;
    let mut hash = Fnv::new();
    hash.write(&bytes[..body]);
    if hash.0 != u64_at(body) {
        return Err(corrupt("checksum mismatch"));
    }
    if u64_at(12) != key {
        return Err(CacheStatus::Stale);
    }
    let stored = u64_at(20) as usize;
    if stored != images || body - HEADER != images * IMAGE_PIXELS * 4 {
        return Err(corrupt(&format!(
            "holds {stored} images, the sources {images}"
        )));
    }
    Ok(bytes[HEADER..body]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
        .collect())
}

/// Writes `pixels` under `key` to `path` (creating its folder), through a temporary file.
pub(super) fn write(path: &Path, key: u64, pixels: &[f32]) -> Result<()> {
    let mut bytes = Vec::with_capacity(HEADER + pixels.len() * 4 + 8);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&key.to_le_bytes());
    bytes.extend_from_slice(&((pixels.len() / IMAGE_PIXELS) as u64).to_le_bytes());
    for value in pixels {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    let mut hash = Fnv::new();
    hash.write(&bytes);
    bytes.extend_from_slice(&hash.0.to_le_bytes());

    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(io_error(folder))?;
    }
    let mut temporary = PathBuf::from(path);
    temporary.as_mut_os_string().push(".tmp");
    std::fs::write(&temporary, &bytes).map_err(io_error(&temporary))?;
    std::fs::rename(&temporary, path).map_err(io_error(path))
}
