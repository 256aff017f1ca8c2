//! Checkpoints: named tensors in a [safetensors] file, so the same file opens from Python
//! (`safetensors.torch.load_file`, `safetensors.numpy.load_file`).
//!
//! Parameter collections go in under a prefix (`theta.0.weight`, `alpha.0.weight`), with
//! free-form string metadata beside them (iteration count, command line, …).
//!
//! Saving writes to a temporary file in the same folder and renames it over the target, so an
//! interrupted save never leaves a truncated checkpoint. Loading checks everything — the file,
//! its header, every name, dtype and shape — before it changes anything.
//!
//! [safetensors]: https://github.com/huggingface/safetensors

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use autograd::Var;
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use tensor::{DType, Tensor};

use crate::error::NnError;
use crate::params::Params;

/// Named tensors and string metadata.
#[derive(Clone, Debug, Default)]
pub struct Checkpoint {
    tensors: Vec<(String, Tensor)>,
    metadata: HashMap<String, String>,
    /// The file this was loaded from, for error messages.
    source: Option<PathBuf>,
}

impl Checkpoint {
    pub fn new() -> Checkpoint {
        Checkpoint::default()
    }

    /// Adds every parameter of `params` as `prefix.name`.
    pub fn add_params(&mut self, prefix: &str, params: &Params) {
        for (name, var) in params.iter() {
            self.add_tensor(format!("{prefix}.{name}"), var.value().clone());
        }
    }

    /// Adds (or replaces) one tensor.
    pub fn add_tensor(&mut self, name: impl Into<String>, tensor: Tensor) {
        let name = name.into();
        self.tensors.retain(|(n, _)| *n != name);
        self.tensors.push((name, tensor));
    }

    pub fn set_metadata(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.metadata.insert(key.into(), value.into());
    }

    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }

    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.iter().map(|(n, _)| n.as_str())
    }

    /// Every tensor under `prefix.`, as leaves, with the prefix removed.
    pub fn params(&self, prefix: &str) -> Params {
        let dotted = format!("{prefix}.");
        self.tensors
            .iter()
            .filter_map(|(n, t)| {
                n.strip_prefix(&dotted)
                    .map(|rest| (rest.to_string(), Var::leaf(t.clone())))
            })
            .collect()
    }

    /// The tensors under `prefix.` matching `expected` exactly — same names, shapes and
    /// dtypes — as leaves in `expected`'s order.
    ///
    /// # Errors
    /// Names the file and the tensor that is missing or differs.
    pub fn params_like(&self, prefix: &str, expected: &Params) -> Result<Params, NnError> {
        let mut out = Params::new();
        for (name, want) in expected.iter() {
            let key = format!("{prefix}.{name}");
            let found = self
                .tensor(&key)
                .ok_or_else(|| self.error(Some(&key), "missing from the checkpoint".into()))?;
            if found.dtype() != want.dtype() {
                return Err(self.error(
                    Some(&key),
                    format!("has dtype {}, expected {}", found.dtype(), want.dtype()),
                ));
            }
            if found.shape() != want.shape() {
                return Err(self.error(
                    Some(&key),
                    format!("has shape {:?}, expected {:?}", found.shape(), want.shape()),
                ));
            }
            out.insert(name, Var::leaf(found.clone()));
        }
        Ok(out)
    }

    /// Replaces `target` by the matching tensors under `prefix.`; on error `target` is left
    /// as it was.
    pub fn restore(&self, prefix: &str, target: &mut Params) -> Result<(), NnError> {
        *target = self.params_like(prefix, target)?;
        Ok(())
    }

    pub(crate) fn error(&self, tensor: Option<&str>, message: String) -> NnError {
        NnError::Checkpoint {
            path: self
                .source
                .clone()
                .unwrap_or_else(|| PathBuf::from("<checkpoint>")),
            tensor: tensor.map(str::to_string),
            message,
        }
    }

    /// Writes the checkpoint to `path` atomically (temporary file, then rename).
    ///
    /// # Errors
    /// [`NnError::Io`] naming `path` if the folder does not exist or cannot be written; no
    /// temporary file is left behind.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), NnError> {
        let path = path.as_ref();
        let bytes = self.to_bytes(path)?;
        let temporary = temporary_path(path);
        let written =
            write_synced(&temporary, &bytes).and_then(|()| std::fs::rename(&temporary, path));
        written.map_err(|source| {
            let _ = std::fs::remove_file(&temporary);
            NnError::Io {
                path: path.to_path_buf(),
                source,
            }
        })
    }

    fn to_bytes(&self, path: &Path) -> Result<Vec<u8>, NnError> {
        let buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = self
            .tensors
            .iter()
            .map(|(name, t)| {
                let (dtype, bytes) = match t.dtype() {
                    DType::F32 => (
                        Dtype::F32,
                        t.to_vec::<f32>()
                            .iter()
                            .flat_map(|v| v.to_le_bytes())
                            .collect(),
                    ),
                    DType::F64 => (
                        Dtype::F64,
                        t.to_vec::<f64>()
                            .iter()
                            .flat_map(|v| v.to_le_bytes())
                            .collect(),
                    ),
                };
                (name.clone(), dtype, t.shape().to_vec(), bytes)
            })
            .collect();
        let views = buffers.iter().map(|(name, dtype, shape, bytes)| {
            let view =
                TensorView::new(*dtype, shape.clone(), bytes).expect("sizes agree by construction");
            (name.as_str(), view)
        });
        let metadata = (!self.metadata.is_empty()).then(|| self.metadata.clone());
        safetensors::serialize(views, metadata).map_err(|e| NnError::Checkpoint {
            path: path.to_path_buf(),
            tensor: None,
            message: format!("cannot serialise: {e}"),
        })
    }

    /// Reads a checkpoint, checking the header and every tensor.
    ///
    /// # Errors
    /// A missing or unreadable file ([`NnError::Io`]), a corrupt file or a tensor of an
    /// unsupported dtype ([`NnError::Checkpoint`]), each naming the path (and the tensor).
    pub fn load(path: impl AsRef<Path>) -> Result<Checkpoint, NnError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| NnError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let corrupt = |tensor: Option<&str>, message: String| NnError::Checkpoint {
            path: path.to_path_buf(),
            tensor: tensor.map(str::to_string),
            message,
        };
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| corrupt(None, format!("not a valid safetensors file: {e}")))?;
        let file = SafeTensors::deserialize(&bytes)
            .map_err(|e| corrupt(None, format!("not a valid safetensors file: {e}")))?;
        let mut checkpoint = Checkpoint {
            metadata: header.metadata().clone().unwrap_or_default(),
            source: Some(path.to_path_buf()),
            ..Checkpoint::default()
        };
        let mut names = file.names();
        names.sort();
        for name in names {
            let view = file
                .tensor(name)
                .map_err(|e| corrupt(Some(name), e.to_string()))?;
            let tensor = match view.dtype() {
                Dtype::F32 => {
                    let values = view
                        .data()
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                        .collect();
                    Tensor::from_vec::<f32>(values, view.shape())
                }
                Dtype::F64 => {
                    let values = view
                        .data()
                        .chunks_exact(8)
                        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                        .collect();
                    Tensor::from_vec::<f64>(values, view.shape())
                }
                other => {
                    return Err(corrupt(
                        Some(name),
                        format!("has dtype {other:?}; only F32 and F64 are supported"),
                    ))
                }
            };
            let tensor = tensor.map_err(|e| corrupt(Some(name), e.to_string()))?;
            checkpoint.tensors.push((name.to_string(), tensor));
        }
        Ok(checkpoint)
    }
}

/// `path.tmp<pid>.<n>`, unique per process and per call: two saves running at once (threads or
/// processes) never write into the same temporary file.
fn temporary_path(path: &Path) -> PathBuf {
    static SAVES: AtomicUsize = AtomicUsize::new(0);
    let mut name = path.as_os_str().to_owned();
    let count = SAVES.fetch_add(1, Ordering::Relaxed);
    name.push(format!(".tmp{}.{count}", std::process::id()));
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
