//! Running the example binaries and looking at what they left.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The example binary `name`, built by `cargo test` beside the test binaries
/// (`target/<profile>/examples/<name>`).
pub fn example(name: &str) -> PathBuf {
    let test_binary = std::env::current_exe().unwrap();
    let profile = test_binary.parent().unwrap().parent().unwrap();
    let path = profile.join("examples").join(name);
    assert!(
        path.exists(),
        "{} not found: cargo test builds the examples before running tests",
        path.display()
    );
    path
}

/// A fresh, empty folder for one test.
pub fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("reliability")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What a finished process said.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, and that `text` appears in stdout or stderr.
    #[track_caller]
    pub fn expect(&self, code: i32, text: &str) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        assert!(
            self.stdout.contains(text) || self.stderr.contains(text),
            "expected {text:?} in the output; stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts that `text` appears nowhere in the output.
    #[track_caller]
    pub fn never_says(&self, text: &str) -> &Run {
        assert!(
            !self.stdout.contains(text) && !self.stderr.contains(text),
            "{text:?} should not be printed; stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs `binary` with `args` in `dir`, to the end.
pub fn run(binary: &Path, dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(binary)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
    Run::from(output)
}

/// The bytes of every file in `dir` (sorted by name), to compare before and after.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Asserts that `dir` holds exactly the files of `before`, byte for byte.
#[track_caller]
pub fn unchanged(dir: &Path, before: &[(String, Vec<u8>)]) {
    let after = snapshot(dir);
    let names = |s: &[(String, Vec<u8>)]| s.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&after), names(before), "files in {}", dir.display());
    for ((name, a), (_, b)) in after.iter().zip(before) {
        assert!(a == b, "{name} changed in {}", dir.display());
    }
}

/// Rewrites the checkpoint at `path` through `edit` (to make damaged checkpoints).
pub fn edit_checkpoint(path: &Path, edit: impl FnOnce(&mut nn::Checkpoint)) {
    let mut checkpoint = nn::Checkpoint::load(path).unwrap();
    edit(&mut checkpoint);
    checkpoint.save(path).unwrap();
}
