//! The one error type of the Omniglot data layer.
//!
//! Every failure names what it is about — the file, the folder, the class — because the usual
//! cause is a data folder that is not quite in the expected layout, and the fix starts with
//! knowing which path to look at.

use std::fmt;
use std::path::PathBuf;

/// What went wrong while loading, splitting or sampling Omniglot data.
#[derive(Debug)]
pub enum OmniglotError {
    /// A root folder given to the loader does not exist (or is not a folder).
    MissingRoot(PathBuf),
    /// A root folder holds no alphabet folders.
    NoAlphabets(PathBuf),
    /// Reading or writing a file or folder failed.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file is not a PNG the loader can read (corrupt, or an unsupported colour type).
    Decode { path: PathBuf, message: String },
    /// An image is not of the expected size.
    WrongSize {
        path: PathBuf,
        width: u32,
        height: u32,
        expected: u32,
    },
    /// A class holds fewer images than a task needs from it (K support + Q query).
    TooFewImages {
        class: String,
        images: usize,
        needed: usize,
    },
    /// A request that the data cannot satisfy: an unknown alphabet, more classes than exist…
    Invalid(String),
    /// A line of a Lake `class_labels.txt` (or a file it names) is not in the expected format.
    Malformed {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Results of the Omniglot data layer.
pub type Result<T> = std::result::Result<T, OmniglotError>;

impl fmt::Display for OmniglotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OmniglotError::MissingRoot(path) => {
                write!(f, "omniglot: root folder {} does not exist", path.display())
            }
            OmniglotError::NoAlphabets(path) => write!(
                f,
                "omniglot: root folder {} holds no alphabet folders (expected <root>/<Alphabet>/characterNN/*.png)",
                path.display()
            ),
            OmniglotError::Io { path, source } => {
                write!(f, "omniglot: {}: {source}", path.display())
            }
            OmniglotError::Decode { path, message } => {
                write!(f, "omniglot: {}: not a readable PNG: {message}", path.display())
            }
            OmniglotError::WrongSize {
                path,
                width,
                height,
                expected,
            } => write!(
                f,
                "omniglot: {}: image is {width}×{height}, expected {expected}×{expected}",
                path.display()
            ),
            OmniglotError::TooFewImages {
                class,
                images,
                needed,
            } => write!(
                f,
                "omniglot: class {class} has {images} images, a task needs {needed} (K support + Q query)"
            ),
            OmniglotError::Invalid(message) => write!(f, "omniglot: {message}"),
            OmniglotError::Malformed {
                path,
                line,
                message,
            } => write!(f, "omniglot: {}:{line}: {message}", path.display()),
        }
    }
}

impl std::error::Error for OmniglotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OmniglotError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// An `Io` error about `path`.
pub(crate) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> OmniglotError {
    let path = path.into();
    move |source| OmniglotError::Io { path, source }
}
