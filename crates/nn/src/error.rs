//! Errors of the `nn` crate: parameters that do not fit a model, and checkpoint files that
//! cannot be read or written. Every message names the parameter and, for files, the path.

use std::fmt;
use std::path::PathBuf;

/// What went wrong.
#[derive(Debug)]
pub enum NnError {
    /// The model expects a parameter the collection does not have.
    MissingParam { name: String, model: String },
    /// A parameter the model does not know.
    UnexpectedParam { name: String, model: String },
    /// A parameter of the wrong shape.
    ParamShape {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    /// Reading or writing a file failed.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A checkpoint that is corrupt or does not match what was asked of it; `tensor` names the
    /// entry when one is at fault.
    Checkpoint {
        path: PathBuf,
        tensor: Option<String>,
        message: String,
    },
}

impl fmt::Display for NnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NnError::MissingParam { name, model } => {
                write!(f, "{model}: missing parameter `{name}`")
            }
            NnError::UnexpectedParam { name, model } => {
                write!(f, "{model}: unexpected parameter `{name}`")
            }
            NnError::ParamShape {
                name,
                expected,
                found,
            } => write!(
                f,
                "parameter `{name}` has shape {found:?}, expected {expected:?}"
            ),
            NnError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            NnError::Checkpoint {
                path,
                tensor: Some(tensor),
                message,
            } => write!(f, "{}: tensor `{tensor}`: {message}", path.display()),
            NnError::Checkpoint {
                path,
                tensor: None,
                message,
            } => write!(f, "{}: {message}", path.display()),
        }
    }
}

impl std::error::Error for NnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NnError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
