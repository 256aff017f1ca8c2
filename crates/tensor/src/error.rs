//! The one error type of the crate. Every message names the operation and the shapes
//! involved, so a user can find the line that built the wrong tensor.

use std::fmt;

use crate::element::DType;

/// What went wrong in a tensor operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TensorError {
    /// Shapes that the operation cannot combine; the message names the op and the shapes.
    Shape { op: &'static str, message: String },
    /// Operands of different element types.
    DType {
        op: &'static str,
        left: DType,
        right: DType,
    },
    /// An axis or index outside the tensor.
    Index { op: &'static str, message: String },
}

impl TensorError {
    pub(crate) fn shape(op: &'static str, message: impl Into<String>) -> Self {
        TensorError::Shape {
            op,
            message: message.into(),
        }
    }

    pub(crate) fn index(op: &'static str, message: impl Into<String>) -> Self {
        TensorError::Index {
            op,
            message: message.into(),
        }
    }
}

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TensorError::Shape { op, message } => write!(f, "{op}: {message}"),
            TensorError::DType { op, left, right } => {
                write!(f, "{op}: element types differ: {left} and {right}")
            }
            TensorError::Index { op, message } => write!(f, "{op}: {message}"),
        }
    }
}

impl std::error::Error for TensorError {}

/// `Result` with [`TensorError`].
pub type Result<T> = std::result::Result<T, TensorError>;

/// Formats a shape the way messages show it: `[3, 4]`.
pub(crate) fn fmt_shape(shape: &[usize]) -> String {
    format!("{shape:?}")
}
