//! Checkpoints: named tensors in a [safetensors] file, so the same file opens from Python
//! (`safetensors.torch.load_file`, `safetensors.numpy.load_file`).
//!
//! Parameter collections go in under a prefix (`theta.0.weight`, `alpha.0.weight`), with
//! free-form string metadata beside them (iteration count, command line, …).
//!
//! Saving writes to a temporary file in the same folder and renames it over the target
//! ([`crate::atomic_file`]), so an interrupted save never leaves a truncated checkpoint. The
//! bytes depend only on the contents: tensors and metadata are written in name order, so two
//! identical runs write identical files. Loading checks everything — the file, its header,
//! every name, dtype and shape — before it changes anything; metadata numbers are read
//! strictly ([`Checkpoint::metadata_integer`]).
//!
//! [safetensors]: https://github.com/huggingface/safetensors

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use autograd::Var;
use safetensors::tensor::Dtype;
use safetensors::SafeTensors;
use tensor::Tensor;

use crate::error::NnError;
use crate::params::Params;

/// Named tensors and string metadata.
#[derive(Clone, Debug, Default)]
pub struct Checkpoint {
    tensors: Vec<(String, Tensor)>,
    /// Sorted, so the file's header (and so its bytes) do not depend on insertion order.
    metadata: BTreeMap<String, String>,
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

    /// Metadata `key` as a whole number in `range`, read strictly: `"3"` is 3, but `"-3"`,
    /// `"2.7"`, `" 3"`, `"3e2"` and a number outside `range` are errors naming the key, the
    /// value and the range.
    pub fn metadata_integer(&self, key: &str, range: RangeInclusive<u64>) -> Result<u64, NnError> {
        let value = self
            .metadata(key)
            .ok_or_else(|| self.error(None, format!("no `{key}` in the metadata")))?;
        parse_integer(value, range.clone()).ok_or_else(|| {
            self.error(
                None,
                format!(
                    "metadata `{key}` is `{value}`, expected a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
    }

    /// Every metadata entry, in key order.
    pub fn metadata_entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The first tensor holding a NaN or an infinity, with that value, if any.
    pub fn first_non_finite(&self) -> Option<(&str, f64)> {
        self.tensors.iter().find_map(|(name, t)| {
            t.to_vec::<f64>()
                .into_iter()
                .find(|v| !v.is_finite())
                .map(|v| (name.as_str(), v))
        })
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
        crate::atomic_file::write_atomically(path, &bytes).map_err(|source| NnError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The file's bytes, as [`Checkpoint::save`] writes them.
    pub fn to_file_bytes(&self) -> Result<Vec<u8>, NnError> {
        self.to_bytes(Path::new("<checkpoint>"))
    }

    fn to_bytes(&self, _path: &Path) -> Result<Vec<u8>, NnError> {
        Ok(crate::safetensors_write::serialize(
            &self.tensors,
            &self.metadata,
        ))
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
        Checkpoint::from_bytes(&bytes, path)
    }

    /// Reads a checkpoint from the bytes of a file (named `path` in errors), with the checks of
    /// [`Checkpoint::load`]. Memory is only allocated for tensors the bytes really hold: the
    /// header's offsets are checked against the length of `bytes` first.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Checkpoint, NnError> {
        let corrupt = |tensor: Option<&str>, message: String| NnError::Checkpoint {
            path: path.to_path_buf(),
            tensor: tensor.map(str::to_string),
            message,
        };
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| corrupt(None, format!("not a valid safetensors file: {e}")))?;
        let file = SafeTensors::deserialize(bytes)
            .map_err(|e| corrupt(None, format!("not a valid safetensors file: {e}")))?;
        let mut checkpoint = Checkpoint {
            metadata: header
                .metadata()
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect(),
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

/// `text` as a whole number in `range`: ASCII digits only (no sign, no spaces, no exponent).
fn parse_integer(text: &str, range: RangeInclusive<u64>) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| range.contains(n))
}
