//! Checking at start that every rank runs the same configuration on the same data.
//!
//! Ranks that differ — another `--meta-batch` on one host's command line, another copy of
//! the data on another host — would each compute their chunks of a *different* meta-batch, and
//! the sum would be wrong without any error. So before training each rank describes what it
//! runs as lines of text (its settings, and one line per data folder: how many files, how many
//! bytes, a hash of their names and sizes), the ranks exchange a 64-bit hash of that text, and
//! only if the hashes differ do they exchange the text itself, to name the lines that differ.

use std::path::{Path, PathBuf};

use meta::Cluster;

/// FNV-1a, 64 bits (Fowler, Noll & Vo): a hash of a few kilobytes of text, not a defence
/// against anyone.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// One line describing the files under `folder`: their count, total size, and a hash of
/// their paths (relative to `folder`, sorted) and sizes. Hosts holding equal copies of the data
/// in different places give the same line apart from the folder's name.
///
/// # Errors
/// If the folder cannot be read.
pub fn describe_folder(folder: &Path) -> Result<String, String> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
            let path = entry.path();
            let metadata = std::fs::metadata(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if metadata.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(folder).unwrap_or(&path);
                files.push((relative.to_string_lossy().into_owned(), metadata.len()));
            }
        }
    }
    files.sort();
    let listing: String = files
        .iter()
        .map(|(name, bytes)| format!("{name}\t{bytes}\n"))
        .collect();
    let total: u64 = files.iter().map(|(_, bytes)| bytes).sum();
    Ok(format!(
        "data folder {}: {} files, {total} bytes, listing hash {:016x}",
        folder.display(),
        files.len(),
        fnv1a(listing.as_bytes())
    ))
}

/// Checks that every rank was given the same `settings` (text, one setting per line; lines
/// naming `threads` are left out, as a rank's thread count does not change its results) and
/// sees the same files in `folders`. Collective. Returns at once for a single process.
///
/// # Errors
/// Names, for the first rank that differs from rank 0, the lines that differ.
pub fn agree(cluster: &dyn Cluster, settings: &str, folders: &[PathBuf]) -> Result<(), String> {
    if cluster.size() == 1 {
        return Ok(());
    }
    let mut lines: Vec<String> = settings
        .lines()
        .filter(|line| !line.trim_start().starts_with("threads:"))
        .map(str::to_string)
        .collect();
    // A folder this rank cannot read is a difference too, not a reason to stop alone (the
    // other ranks would wait for this one forever).
    for folder in folders {
        lines.push(describe_folder(folder).unwrap_or_else(|e| e));
    }
    let text = lines.join("\n");
    let hashes = cluster.all_gather(&fnv1a(text.as_bytes()).to_le_bytes());
    if hashes.iter().all(|h| h == &hashes[0]) {
        return Ok(());
    }
    let texts: Vec<String> = cluster
        .all_gather(text.as_bytes())
        .into_iter()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .collect();
    Err(differences(&texts))
}

/// The first rank whose text differs from rank 0's, and the lines each has that the other has
/// not (at most five of each).
fn differences(texts: &[String]) -> String {
    let reference: Vec<&str> = texts[0].lines().collect();
    let Some((rank, text)) = texts.iter().enumerate().find(|(_, t)| *t != &texts[0]) else {
        return "the ranks' configurations hash differently but read the same".into();
    };
    let theirs: Vec<&str> = text.lines().collect();
    let only = |a: &[&str], b: &[&str]| -> Vec<String> {
        a.iter()
            .filter(|line| !b.contains(line))
            .take(5)
            .map(|line| format!("`{}`", line.trim()))
            .collect()
    };
    format!(
        "the ranks do not agree on the configuration: rank {rank} has {} where rank 0 has {}",
        only(&theirs, &reference).join(", "),
        only(&reference, &theirs).join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use meta::SingleProcess;

    #[test]
    fn differences_name_the_lines() {
        let texts = [
            "ways: 5,\nmeta_batch: 32,\nseed: 0,".to_string(),
            "ways: 5,\nmeta_batch: 32,\nseed: 0,".to_string(),
            "ways: 5,\nmeta_batch: 16,\nseed: 0,".to_string(),
        ];
        let message = differences(&texts);
        assert!(
            message.contains("rank 2 has `meta_batch: 16,` where rank 0 has `meta_batch: 32,`"),
            "{message}"
        );
    }

    #[test]
    fn a_folder_is_described_by_its_files() {
        let dir = std::env::temp_dir().join(format!("agree-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a")).unwrap();
        std::fs::write(dir.join("a/one.png"), [0u8; 3]).unwrap();
        let before = describe_folder(&dir).unwrap();
        assert!(before.contains("1 files, 3 bytes"), "{before}");
        std::fs::write(dir.join("a/two.png"), [0u8; 4]).unwrap();
        let after = describe_folder(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(after.contains("2 files, 7 bytes"), "{after}");
        assert_ne!(before, after);
        assert!(describe_folder(&dir).is_err());
    }

    #[test]
    fn one_process_always_agrees() {
        assert_eq!(
            agree(&SingleProcess, "x", &[PathBuf::from("/nonexistent")]),
            Ok(())
        );
    }
}
