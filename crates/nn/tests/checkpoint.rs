//! Checkpoints: round trips in f32 and f64 with metadata, every way loading can fail (each
//! error naming the file and, where one is at fault, the tensor), restores that change nothing
//! on error, atomic saves, and — when Python's `safetensors` is installed — the same files
//! opened from Python and Python's files opened here.

use std::path::{Path, PathBuf};
use std::process::Command;

use autograd::Var;
use nn::{mlp, Activation, Checkpoint, Module, NnError, Params};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{DType, Tensor};

/// A fresh, empty folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nn-checkpoint-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn model_params(dtype: DType) -> Params {
    mlp(&[2, 3, 1], Activation::Tanh).init(&mut StdRng::seed_from_u64(0), dtype)
}

/// A checkpoint with θ (f64), a second collection in f32, a scalar and metadata.
fn sample() -> Checkpoint {
    let mut checkpoint = Checkpoint::new();
    checkpoint.add_params("theta", &model_params(DType::F64));
    checkpoint.add_params("alpha", &model_params(DType::F32));
    checkpoint.add_tensor("step", Tensor::scalar(12.0f64));
    checkpoint.set_metadata("iteration", "12");
    checkpoint.set_metadata("command", "omniglot --ways 5");
    checkpoint
}

fn same_values(a: &Params, b: &Params) {
    assert_eq!(a.names().collect::<Vec<_>>(), b.names().collect::<Vec<_>>());
    for ((name, x), (_, y)) in a.iter().zip(b.iter()) {
        assert_eq!(x.dtype(), y.dtype(), "{name}");
        assert_eq!(x.shape(), y.shape(), "{name}");
        assert_eq!(
            x.value().to_vec::<f64>(),
            y.value().to_vec::<f64>(),
            "{name}"
        );
    }
}

#[test]
fn round_trip_f32_and_f64_with_metadata() {
    let dir = scratch("round-trip");
    let path = dir.join("model.safetensors");
    sample().save(&path).unwrap();
    let loaded = Checkpoint::load(&path).unwrap();

    for (prefix, dtype) in [("theta", DType::F64), ("alpha", DType::F32)] {
        let expected = model_params(dtype);
        let restored = loaded.params_like(prefix, &expected).unwrap();
        same_values(&restored, &expected);
        assert!(restored
            .iter()
            .all(|(_, v)| v.is_leaf() && v.requires_grad()));
    }
    assert_eq!(loaded.tensor("step").unwrap().shape(), [] as [usize; 0]);
    assert_eq!(loaded.tensor("step").unwrap().item(), 12.0);
    assert_eq!(loaded.metadata("iteration"), Some("12"));
    assert_eq!(loaded.metadata("command"), Some("omniglot --ways 5"));
    assert_eq!(loaded.metadata("missing"), None);
    // The file holds its tensors sorted by name, so `params` comes back in that order;
    // `params_like` (above) is the way to get a model's own order back.
    let names: Vec<String> = loaded.params("theta").names().map(String::from).collect();
    assert_eq!(names, ["0.bias", "0.weight", "2.bias", "2.weight"]);
    assert_eq!(loaded.names().count(), 9);
}

#[test]
fn empty_tensors_round_trip() {
    let dir = scratch("empty");
    let path = dir.join("empty.safetensors");
    let mut checkpoint = Checkpoint::new();
    checkpoint.add_tensor("none", Tensor::zeros(&[0, 3], DType::F32));
    checkpoint.save(&path).unwrap();
    let loaded = Checkpoint::load(&path).unwrap();
    assert_eq!(loaded.tensor("none").unwrap().shape(), [0, 3]);
    assert_eq!(loaded.tensor("none").unwrap().dtype(), DType::F32);
}

#[test]
fn add_tensor_replaces_a_name() {
    let mut checkpoint = Checkpoint::new();
    checkpoint.add_tensor("x", Tensor::scalar(1.0f64));
    checkpoint.add_tensor("x", Tensor::scalar(2.0f64));
    assert_eq!(checkpoint.names().collect::<Vec<_>>(), ["x"]);
    assert_eq!(checkpoint.tensor("x").unwrap().item(), 2.0);
}

#[test]
fn missing_file() {
    let path = scratch("missing").join("nothing.safetensors");
    let err = Checkpoint::load(&path).unwrap_err();
    assert!(matches!(err, NnError::Io { .. }));
    assert!(
        err.to_string().starts_with(&path.display().to_string()),
        "{err}"
    );
}

/// Loads bytes written to a file and returns the error message.
fn load_error(dir: &Path, bytes: &[u8]) -> (PathBuf, String) {
    let path = dir.join("broken.safetensors");
    std::fs::write(&path, bytes).unwrap();
    let err = Checkpoint::load(&path).unwrap_err();
    assert!(matches!(err, NnError::Checkpoint { .. }), "{err:?}");
    (path, err.to_string())
}

#[test]
fn corrupt_files_name_the_file() {
    let dir = scratch("corrupt");
    // Random bytes: the first eight read as an absurd header length.
    let mut rng = StdRng::seed_from_u64(3);
    let noise: Vec<u8> = Tensor::rand_uniform(&[64], 0.0, 256.0, DType::F64, &mut rng)
        .to_vec::<f64>()
        .iter()
        .map(|&v| v as u8)
        .collect();
    let (path, message) = load_error(&dir, &noise);
    assert!(
        message.starts_with(&format!("{}: not a valid safetensors file", path.display())),
        "{message}"
    );
    // Too short to hold even the header length.
    let (_, message) = load_error(&dir, &[1, 2, 3]);
    assert!(
        message.contains("not a valid safetensors file"),
        "{message}"
    );
    // A valid file cut short in its data (safetensors reports it for the whole file:
    // "incomplete metadata, file not fully covered").
    let good = dir.join("good.safetensors");
    sample().save(&good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let (path, message) = load_error(&dir, &bytes[..bytes.len() - 5]);
    assert!(
        message.starts_with(&path.display().to_string()),
        "{message}"
    );
    // A header that is not JSON.
    let mut garbled = bytes.clone();
    garbled[9] = b'#';
    let (_, message) = load_error(&dir, &garbled);
    assert!(
        message.contains("not a valid safetensors file"),
        "{message}"
    );
}

/// A safetensors file written by hand: 8-byte little-endian header length, the JSON header,
/// then the data.
fn handmade(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

#[test]
fn unsupported_dtype_names_the_tensor() {
    let dir = scratch("dtype");
    let header = r#"{"half":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#;
    let (path, message) = load_error(&dir, &handmade(header, &[0, 60, 0, 60]));
    assert_eq!(
        message,
        format!(
            "{}: tensor `half`: has dtype F16; only F32 and F64 are supported",
            path.display()
        )
    );
    // The same header with F32 and 4 bytes per element reads fine.
    let header = r#"{"one":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
    std::fs::write(
        dir.join("one.safetensors"),
        handmade(header, &1.5f32.to_le_bytes()),
    )
    .unwrap();
    let loaded = Checkpoint::load(dir.join("one.safetensors")).unwrap();
    assert_eq!(loaded.tensor("one").unwrap().to_vec::<f32>(), [1.5]);
}

#[test]
fn params_like_names_file_and_tensor() {
    let dir = scratch("params-like");
    let path = dir.join("model.safetensors");
    sample().save(&path).unwrap();
    let loaded = Checkpoint::load(&path).unwrap();
    let file = path.display().to_string();

    // Missing: a parameter the file does not have.
    let mut bigger = model_params(DType::F64);
    bigger.insert("4.weight", Var::leaf(Tensor::zeros(&[1, 1], DType::F64)));
    let err = loaded.params_like("theta", &bigger).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{file}: tensor `theta.4.weight`: missing from the checkpoint")
    );

    // Wrong dtype: θ was saved in f64.
    let err = loaded
        .params_like("theta", &model_params(DType::F32))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{file}: tensor `theta.0.weight`: has dtype f64, expected f32")
    );

    // Wrong shape: a wider hidden layer.
    let wider = mlp(&[2, 4, 1], Activation::Tanh).init(&mut StdRng::seed_from_u64(0), DType::F64);
    let err = loaded.params_like("theta", &wider).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{file}: tensor `theta.0.weight`: has shape [3, 2], expected [4, 2]")
    );

    // A checkpoint that was never on disk says so instead of naming a file.
    let err = Checkpoint::new().params_like("theta", &wider).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("<checkpoint>: tensor `theta.0.weight`"),
        "{err}"
    );
}

#[test]
fn failed_restore_leaves_the_target_unchanged() {
    let dir = scratch("restore");
    let path = dir.join("model.safetensors");
    sample().save(&path).unwrap();
    let loaded = Checkpoint::load(&path).unwrap();

    // θ with one extra parameter: the first entries match and would load, the last does not.
    let mut target = model_params(DType::F64).map(|_, v| Var::leaf(v.value().full_like(7.0)));
    target.insert("9.weight", Var::leaf(Tensor::zeros(&[2], DType::F64)));
    let before = target.clone();
    assert!(loaded.restore("theta", &mut target).is_err());
    same_values(&target, &before);

    // Without the extra entry the restore succeeds and brings back the saved values.
    let mut target = model_params(DType::F64).map(|_, v| Var::leaf(v.value().full_like(7.0)));
    loaded.restore("theta", &mut target).unwrap();
    same_values(&target, &model_params(DType::F64));
}

#[test]
fn save_is_atomic_and_replaces() {
    let dir = scratch("atomic");
    let path = dir.join("model.safetensors");
    sample().save(&path).unwrap();
    // Only the checkpoint is left: the temporary file was renamed over it.
    assert_eq!(files_in(&dir), ["model.safetensors"]);

    // Saving again replaces the file whole.
    let mut other = Checkpoint::new();
    other.add_tensor("only", Tensor::full(&[2], 3.0, DType::F32));
    other.save(&path).unwrap();
    let loaded = Checkpoint::load(&path).unwrap();
    assert_eq!(loaded.names().collect::<Vec<_>>(), ["only"]);
    assert_eq!(loaded.metadata("iteration"), None);
    assert_eq!(files_in(&dir), ["model.safetensors"]);

    // Concurrent saves to one path never share a temporary file: the result is one of them.
    std::thread::scope(|scope| {
        for k in 0..4 {
            let path = &path;
            scope.spawn(move || {
                let mut c = Checkpoint::new();
                c.add_tensor("k", Tensor::scalar(k as f64));
                c.save(path).unwrap();
            });
        }
    });
    let k = Checkpoint::load(&path).unwrap().tensor("k").unwrap().item();
    assert!((0.0..4.0).contains(&k));
    assert_eq!(files_in(&dir), ["model.safetensors"]);
}

#[test]
fn saving_into_a_missing_folder_names_the_path() {
    let dir = scratch("no-folder");
    let path = dir.join("not-there").join("model.safetensors");
    let err = sample().save(&path).unwrap_err();
    assert!(matches!(err, NnError::Io { .. }));
    assert!(
        err.to_string().starts_with(&path.display().to_string()),
        "{err}"
    );
    assert!(files_in(&dir).is_empty());
}

// ----- interoperability with Python's safetensors -----

/// Runs `python3 -c script args…`, or returns why it cannot (no python3, no safetensors).
fn python(script: &str, args: &[&Path]) -> Result<String, String> {
    let probe = Command::new("python3")
        .args(["-c", "import numpy, safetensors.numpy"])
        .output()
        .map_err(|e| format!("python3 not runnable: {e}"))?;
    if !probe.status.success() {
        return Err(format!(
            "python3 has no numpy/safetensors: {}",
            String::from_utf8_lossy(&probe.stderr).trim()
        ));
    }
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn files_open_in_python_and_back() {
    let dir = scratch("python");
    let ours = dir.join("ours.safetensors");
    let mut checkpoint = Checkpoint::new();
    checkpoint.add_tensor(
        "w",
        Tensor::from_slice(&[1.5f32, -2.0, 0.25, 4.0, 5.0, 6.0], &[2, 3]).unwrap(),
    );
    checkpoint.add_tensor("b", Tensor::from_slice(&[0.1f64, 0.2], &[2]).unwrap());
    checkpoint.set_metadata("iteration", "7");
    checkpoint.save(&ours).unwrap();

    // Python reads ours: names, dtypes, shapes, values and metadata.
    let read = "import sys, json
from safetensors.numpy import load_file
from safetensors import safe_open
t = load_file(sys.argv[1])
with safe_open(sys.argv[1], 'np') as f: meta = f.metadata()
print(json.dumps({k: [str(v.dtype), list(v.shape), v.ravel().tolist()] for k, v in sorted(t.items())}), meta['iteration'])";
    let printed = match python(read, &[&ours]) {
        Ok(out) => out,
        Err(reason) => {
            println!("skipped: {reason}");
            return;
        }
    };
    assert_eq!(
        printed.trim(),
        r#"{"b": ["float64", [2], [0.1, 0.2]], "w": ["float32", [2, 3], [1.5, -2.0, 0.25, 4.0, 5.0, 6.0]]} 7"#
    );

    // And we read Python's.
    let theirs = dir.join("theirs.safetensors");
    let write = "import sys, numpy as np
from safetensors.numpy import save_file
save_file({'x': np.arange(6, dtype=np.float32).reshape(3, 2), 'y': np.array([2.5])}, sys.argv[1], metadata={'by': 'python'})";
    python(write, &[&theirs]).unwrap();
    let loaded = Checkpoint::load(&theirs).unwrap();
    let x = loaded.tensor("x").unwrap();
    assert_eq!((x.dtype(), x.shape()), (DType::F32, &[3usize, 2][..]));
    assert_eq!(x.to_vec::<f32>(), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(loaded.tensor("y").unwrap().to_vec::<f64>(), [2.5]);
    assert_eq!(loaded.metadata("by"), Some("python"));
}

#[test]
fn bytes_depend_only_on_the_contents() {
    // The same tensors and metadata added in another order write the same bytes (the metadata
    // used to be written in hash-map order, different in every process).
    let mut reversed = Checkpoint::new();
    reversed.set_metadata("command", "omniglot --ways 5");
    reversed.set_metadata("iteration", "12");
    reversed.add_tensor("step", Tensor::scalar(12.0f64));
    reversed.add_params("alpha", &model_params(DType::F32));
    reversed.add_params("theta", &model_params(DType::F64));
    for k in 0..20 {
        reversed.set_metadata(format!("key{k}"), format!("\"quoted\" \\ value {k}\n"));
    }
    let mut forward = sample();
    for k in (0..20).rev() {
        forward.set_metadata(format!("key{k}"), format!("\"quoted\" \\ value {k}\n"));
    }
    let bytes = forward.to_file_bytes().unwrap();
    assert_eq!(bytes, reversed.to_file_bytes().unwrap());
    // And they read back as what was written (the hand-written header is valid safetensors).
    let back = Checkpoint::from_bytes(&bytes, Path::new("x")).unwrap();
    assert_eq!(back.metadata("key3"), Some("\"quoted\" \\ value 3\n"));
    let theta = model_params(DType::F64);
    same_values(&back.params_like("theta", &theta).unwrap(), &theta);
    assert_eq!(back.to_file_bytes().unwrap(), bytes);
}

#[test]
fn metadata_integers_are_read_strictly() {
    let mut checkpoint = Checkpoint::new();
    for (key, value) in [
        ("ok", "3"),
        ("neg", "-3"),
        ("frac", "2.7"),
        ("big", "10000000"),
    ] {
        checkpoint.set_metadata(key, value);
    }
    for (key, value) in [
        ("space", " 3"),
        ("exp", "3e2"),
        ("plus", "+3"),
        ("empty", ""),
    ] {
        checkpoint.set_metadata(key, value);
    }
    assert_eq!(checkpoint.metadata_integer("ok", 1..=10).unwrap(), 3);
    for key in [
        "neg", "frac", "big", "space", "exp", "plus", "empty", "absent",
    ] {
        let message = checkpoint
            .metadata_integer(key, 1..=4096)
            .unwrap_err()
            .to_string();
        assert!(message.contains(&format!("`{key}`")), "{message}");
    }
    let message = checkpoint
        .metadata_integer("big", 1..=4096)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("10000000") && message.contains("1 to 4096"),
        "{message}"
    );
}

#[test]
fn a_header_promising_more_than_the_file_holds_is_refused_without_allocating() {
    // 10¹⁵ f32 elements (4 PB) declared, 8 bytes present: an error, not an allocation.
    let header = r#"{"w":{"dtype":"F32","shape":[1000000,1000000000],"data_offsets":[0,8]}}"#;
    let result = Checkpoint::from_bytes(&handmade(header, &[0; 8]), Path::new("huge.safetensors"));
    let message = result.unwrap_err().to_string();
    assert!(message.contains("huge.safetensors"), "{message}");
}

#[test]
fn stale_temporary_files_are_removed_and_others_kept() {
    let dir = scratch("stale");
    let target = dir.join("checkpoint.safetensors");
    sample().save(&target).unwrap();
    std::fs::write(dir.join("checkpoint.safetensors.tmp123.0"), b"half").unwrap();
    std::fs::write(dir.join("checkpoint.safetensors.tmp9.4"), b"").unwrap();
    std::fs::write(dir.join("curve.csv"), b"iteration\n").unwrap();
    let removed = nn::atomic_file::remove_stale_temporaries(&target).unwrap();
    assert_eq!(removed.len(), 2);
    assert_eq!(files_in(&dir), ["checkpoint.safetensors", "curve.csv"]);
    Checkpoint::load(&target).unwrap();
}
