//! Replays the fuzzers' committed corpora (`fuzz/corpus/<target>`) and every input that once
//! crashed one (`fuzz/regressions/<target>`) through the same functions the fuzz targets call,
//! so that `cargo test` keeps them fixed without running a fuzzer (see `fuzz/README.md`).

use std::path::{Path, PathBuf};

use metagrad::fuzz_entry;

/// Every file of `fuzz/<kind>/<target>`, sorted.
fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

/// Runs `entry` on every corpus and regression input of `target` (a panic fails the test,
/// naming the file); returns how many corpus inputs it accepted.
fn replay(target: &str, entry: fn(&[u8]) -> bool) -> usize {
    let corpus = inputs("corpus", target);
    assert!(!corpus.is_empty(), "fuzz/corpus/{target} is empty");
    let mut accepted = 0;
    for (path, bytes) in &corpus {
        let ok = std::panic::catch_unwind(|| entry(bytes))
            .unwrap_or_else(|_| panic!("{} panicked", path.display()));
        accepted += ok as usize;
    }
    for (path, bytes) in inputs("regressions", target) {
        let _ = std::panic::catch_unwind(|| entry(&bytes))
            .unwrap_or_else(|_| panic!("regression {} panicked again", path.display()));
    }
    accepted
}

#[test]
fn checkpoint_corpus() {
    // The seeds are real checkpoints of both examples: at least those load.
    assert!(replay("checkpoint_learner", fuzz_entry::checkpoint_into_learner) >= 2);
}

#[test]
fn omniglot_image_corpus() {
    assert!(replay("omniglot_image", fuzz_entry::omniglot_image) >= 3);
}

#[test]
fn lake_class_labels_corpus() {
    assert!(replay("lake_class_labels", fuzz_entry::lake_class_labels) >= 2);
}

#[test]
fn digits_csv_corpus() {
    assert!(replay("digits_csv", fuzz_entry::digits_csv) >= 2);
}
