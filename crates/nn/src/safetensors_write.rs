//! Writing the safetensors format with a header whose bytes depend only on the contents.
//!
//! The format: an 8-byte little-endian header length `n`, a JSON header of `n` bytes (padded
//! with spaces to a multiple of 8), then the tensors' bytes back to back. The header maps each
//! tensor name to `{"dtype", "shape", "data_offsets"}` and `__metadata__` to string pairs.
//!
//! NOTE: the `safetensors` crate's `serialize` takes the metadata as a `HashMap` and writes it
//! in the map's iteration order, which differs from process to process: two identical runs
//! wrote checkpoints that differed in bytes. Here the header is written by hand, metadata and
//! tensors in name order. Reading still goes through the `safetensors` crate.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use tensor::{DType, Tensor};

/// The file's bytes for `tensors` (written in name order) and `metadata`.
pub(crate) fn serialize(
    tensors: &[(String, Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Vec<u8> {
    let mut sorted: Vec<&(String, Tensor)> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut header = String::from("{");
    if !metadata.is_empty() {
        header += "\"__metadata__\":{";
        let pairs: Vec<String> = metadata
            .iter()
            .map(|(k, v)| format!("{}:{}", json_string(k), json_string(v)))
            .collect();
        header += &pairs.join(",");
        header += "}";
    }
    let mut data = Vec::new();
    for (k, (name, t)) in sorted.iter().enumerate() {
        let start = data.len();
        let dtype = match t.dtype() {
            DType::F32 => {
                data.extend(t.to_vec::<f32>().iter().flat_map(|v| v.to_le_bytes()));
                "F32"
            }
            DType::F64 => {
                data.extend(t.to_vec::<f64>().iter().flat_map(|v| v.to_le_bytes()));
                "F64"
            }
        };
        if k > 0 || !metadata.is_empty() {
            header += ",";
        }
        let _ = write!(
            header,
            "{}:{{\"dtype\":\"{dtype}\",\"shape\":{:?},\"data_offsets\":[{start},{}]}}",
            json_string(name),
            t.shape(),
            data.len()
        );
    }
    header += "}";
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut bytes = Vec::with_capacity(8 + header.len() + data.len());
    bytes.extend((header.len() as u64).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    bytes
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out += "\\\"",
            '\\' => out += "\\\\",
            '\n' => out += "\\n",
            '\r' => out += "\\r",
            '\t' => out += "\\t",
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
