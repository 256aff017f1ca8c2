//! `omniglot`: the cases of the reliability suite on the Omniglot example, on a small copy of
//! the real images (3 alphabets, 30 characters) so that each run takes a moment.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::harness::{edit_checkpoint, example, run, scratch, snapshot, unchanged, Run};

/// `shared/data/omniglot` beside the workspace or one of its parents (as the `meta` crate's
/// Omniglot tests look for it), if present.
fn real_data() -> Option<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = workspace.canonicalize().unwrap_or(workspace.to_path_buf());
    workspace
        .ancestors()
        .skip(1)
        .take(3)
        .map(|folder| folder.join("shared/data/omniglot/images_background_small1"))
        .find(|candidate| candidate.is_dir())
}

/// A small Omniglot folder: 10 characters each of Greek, Latin and Early_Aramaic (the test
/// alphabet); made once per test run. `None` (and a note) without the real data.
fn small_data() -> Option<&'static Path> {
    static DATA: OnceLock<Option<PathBuf>> = OnceLock::new();
    DATA.get_or_init(|| {
        let Some(source) = real_data() else {
            eprintln!("skipped: no shared/data/omniglot beside the workspace");
            return None;
        };
        let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reliability-omniglot-data");
        let _ = std::fs::remove_dir_all(&target);
        for (alphabet, characters) in [("Greek", 10), ("Latin", 10), ("Early_Aramaic", 10)] {
            for k in 1..=characters {
                let from = source.join(alphabet).join(format!("character{k:02}"));
                let to = target.join(alphabet).join(format!("character{k:02}"));
                std::fs::create_dir_all(&to).unwrap();
                for image in std::fs::read_dir(&from).unwrap() {
                    let image = image.unwrap().path();
                    std::fs::copy(&image, to.join(image.file_name().unwrap())).unwrap();
                }
            }
        }
        Some(target)
    })
    .as_deref()
}

/// A tiny 2-way 1-shot run: 4 filters, 2 tasks per iteration, 2 validation tasks.
fn train(dir: &Path, iters: u64, extra: &[&str]) -> Run {
    let data = small_data().unwrap();
    let iters = iters.to_string();
    let defaults = [
        ("--data", data.to_str().unwrap()),
        ("--test-alphabets", "Early_Aramaic"),
        ("--ways", "2"),
        ("--shots", "1"),
        ("--queries", "1"),
        ("--hidden", "4"),
        ("--meta-batch", "2"),
        ("--iters", &iters),
        ("--eval-every", "0"),
        ("--eval-tasks", "2"),
        ("--checkpoint-every", "1"),
        ("--out", "out"),
    ];
    // The flags of `extra` replace the defaults (clap refuses a flag given twice).
    let mut args = vec!["train"];
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    run(&example("omniglot"), dir, &args)
}

fn eval(dir: &Path, checkpoint: &Path) -> Run {
    let args = eval_args(checkpoint);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&example("omniglot"), dir, &args)
}

/// [`eval`] as the unprivileged user `nobody` (through util-linux's `setpriv`), for a root
/// test run, where no folder is read-only: `None` if that cannot be arranged here (no
/// `setpriv`, not root, or `nobody` cannot reach the binary, the data and the checkpoint).
fn eval_as_nobody(dir: &Path, checkpoint: &Path) -> Option<Run> {
    let setpriv = Path::new("/usr/bin/setpriv");
    let as_nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    let binary = example("omniglot");
    let data = small_data()?;
    if !setpriv.exists() {
        return None;
    }
    let can = |test: &str, path: &Path| {
        let mut probe: Vec<&str> = as_nobody.to_vec();
        probe.extend(["test", test, path.to_str().unwrap()]);
        run(setpriv, dir, &probe).code == Some(0)
    };
    if !(can("-x", &binary) && can("-r", data) && can("-r", checkpoint)) {
        return None;
    }
    let mut args: Vec<&str> = as_nobody.to_vec();
    args.push(binary.to_str().unwrap());
    let eval = eval_args(checkpoint);
    args.extend(eval.iter().map(String::as_str));
    Some(run(setpriv, dir, &args))
}

fn eval_args(checkpoint: &Path) -> Vec<String> {
    let data = small_data().unwrap();
    let args = [
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--test-alphabets",
        "Early_Aramaic",
        "--ways",
        "2",
        "--shots",
        "1",
        "--queries",
        "1",
        "--tasks",
        "2",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ];
    args.iter().map(|a| a.to_string()).collect()
}

fn out(dir: &Path) -> PathBuf {
    dir.join("out")
}

fn checkpoint(dir: &Path) -> PathBuf {
    out(dir).join("checkpoint.safetensors")
}

#[test]
fn training_again_into_a_checkpoint_folder_is_refused_unless_asked() {
    if small_data().is_none() {
        return;
    }
    let dir = scratch("omniglot-refuse");
    train(&dir, 2, &[]).expect(0, "checkpoint (iteration 2)");
    let before = snapshot(&out(&dir));
    train(&dir, 1, &[])
        .expect(1, "already holds a checkpoint (iteration 2)")
        .never_says("trained");
    unchanged(&out(&dir), &before);
    train(&dir, 1, &["--overwrite"]).expect(0, "checkpoint (iteration 1)");
}

#[test]
fn resuming_with_other_settings_or_bad_state_is_refused_and_the_checkpoint_kept() {
    if small_data().is_none() {
        return;
    }
    let dir = scratch("omniglot-resume-checks");
    train(&dir, 1, &[]).expect(0, "checkpoint (iteration 1)");
    let before = snapshot(&out(&dir));
    let resume = checkpoint(&dir);
    let resume = resume.to_str().unwrap();
    train(
        &dir,
        2,
        &[
            "--resume",
            resume,
            "--queries",
            "2",
            "--test-alphabets",
            "Latin",
        ],
    )
    .expect(1, "`queries`: checkpoint 1, this run 2")
    .expect(
        1,
        "`test_alphabets`: checkpoint Early_Aramaic, this run Latin",
    );
    unchanged(&out(&dir), &before);
    // The schedule is part of the run: a constant-rate checkpoint does not continue as a
    // decaying one.
    train(
        &dir,
        2,
        &[
            "--resume",
            resume,
            "--lr-schedule",
            "step",
            "--lr-decay-every",
            "1",
        ],
    )
    .expect(1, "`lr_schedule`: checkpoint constant, this run step")
    .expect(1, "`lr_decay_every`: checkpoint (not recorded), this run 1");
    unchanged(&out(&dir), &before);
    train(&dir, 2, &["--resume", resume, "--outer-lr", "nan"]).expect(2, "finite number above 0");
    unchanged(&out(&dir), &before);

    // A first moment stored in f64 for an f32 parameter.
    let damaged = dir.join("dtype.safetensors");
    std::fs::copy(checkpoint(&dir), &damaged).unwrap();
    edit_checkpoint(&damaged, |c| {
        let name = "optimizer.m.theta.0.weight";
        let moment = c.tensor(name).unwrap().to_dtype(tensor::DType::F64);
        c.add_tensor(name, moment);
    });
    train(&dir, 2, &["--resume", damaged.to_str().unwrap()])
        .expect(1, "`m.theta.0.weight`")
        .never_says("resumed");
    unchanged(&out(&dir), &before);
}

#[test]
fn evaluation_refuses_damaged_checkpoints_and_reads_read_only_folders() {
    if small_data().is_none() {
        return;
    }
    let dir = scratch("omniglot-eval");
    train(&dir, 1, &[]).expect(0, "checkpoint (iteration 1)");

    // Metadata claiming a network 150,000 times wider than the tensors: an error, no allocation.
    let huge = dir.join("huge.safetensors");
    std::fs::copy(checkpoint(&dir), &huge).unwrap();
    edit_checkpoint(&huge, |c| c.set_metadata("hidden", "10000000"));
    eval(&dir, &huge).expect(1, "`hidden` is `10000000`");
    let wide = dir.join("wide.safetensors");
    std::fs::copy(checkpoint(&dir), &wide).unwrap();
    edit_checkpoint(&wide, |c| c.set_metadata("hidden", "8"));
    eval(&dir, &wide).expect(1, "implies [8, 1, 3, 3]");

    // NaN parameters: an error, not "accuracy: 50.00% ± 0.00%".
    let nan = dir.join("nan.safetensors");
    std::fs::copy(checkpoint(&dir), &nan).unwrap();
    edit_checkpoint(&nan, |c| {
        let name = "meta.theta.0.weight";
        let t = c.tensor(name).unwrap();
        let values = vec![f32::NAN; t.numel()];
        let shape = t.shape().to_vec();
        c.add_tensor(name, tensor::Tensor::from_vec(values, &shape).unwrap());
    });
    eval(&dir, &nan)
        .expect(1, "holds NaN")
        .never_says("accuracy");

    // A read-only run folder: evaluation reads it and writes nothing into it.
    let archived = dir.join("archived");
    std::fs::create_dir_all(&archived).unwrap();
    std::fs::copy(checkpoint(&dir), archived.join("checkpoint.safetensors")).unwrap();
    set_read_only(&archived, true);
    let before = snapshot(&archived);
    // Run as root, the folder stays writable whatever its mode: then the evaluation runs as
    // `nobody`, for whom it is not, where that can be arranged; otherwise only the result is
    // checked.
    let archived_checkpoint = archived.join("checkpoint.safetensors");
    let enforced = std::fs::File::create(archived.join("probe")).is_err();
    let _ = std::fs::remove_file(archived.join("probe"));
    if enforced {
        eval(&dir, &archived_checkpoint)
            .expect(0, "accuracy:")
            .expect(0, "evaluation speed:");
        unchanged(&archived, &before);
    } else if let Some(run) = eval_as_nobody(&dir, &archived_checkpoint) {
        run.expect(0, "accuracy:");
        unchanged(&archived, &before);
    } else {
        eval(&dir, &archived_checkpoint)
            .expect(0, "accuracy:")
            .expect(0, "evaluation speed:");
    }
    set_read_only(&archived, false);
}

fn set_read_only(dir: &Path, read_only: bool) {
    let mut permissions = std::fs::metadata(dir).unwrap().permissions();
    permissions.set_readonly(read_only);
    std::fs::set_permissions(dir, permissions).unwrap();
}

#[test]
fn a_resumed_run_equals_the_uninterrupted_run_byte_for_byte() {
    if small_data().is_none() {
        return;
    }
    straight_and_resumed_agree("omniglot", 2, 1, &[]);
}

/// The same with the learning rate halved every iteration: the resumed half must take the
/// schedule's rates from where the checkpoint left off (iterations 3 and 4 at 1/4 and 1/8 of
/// the rate), not restart it.
#[test]
fn a_resumed_step_decay_run_equals_the_uninterrupted_run_byte_for_byte() {
    if small_data().is_none() {
        return;
    }
    let decay = [
        "--lr-schedule",
        "step",
        "--lr-decay-every",
        "1",
        "--lr-decay",
        "0.5",
    ];
    straight_and_resumed_agree("omniglot-decay", 4, 2, &decay);
}

/// Trains `iters` iterations in one go and, in another folder, `stop` iterations and then the
/// rest with `--resume`; checkpoints and learning curves must be the same bytes.
fn straight_and_resumed_agree(name: &str, iters: u64, stop: u64, extra: &[&str]) {
    let straight = scratch(&format!("{name}-straight"));
    train(&straight, iters, extra).expect(0, &format!("checkpoint (iteration {iters})"));
    let resumed = scratch(&format!("{name}-resumed"));
    train(&resumed, stop, extra).expect(0, &format!("checkpoint (iteration {stop})"));
    let resume = checkpoint(&resumed);
    let mut continued = extra.to_vec();
    continued.extend(["--resume", resume.to_str().unwrap()]);
    train(&resumed, iters, &continued).expect(0, "resumed from");
    for file in ["checkpoint.safetensors", "curve.csv"] {
        let a = std::fs::read(out(&straight).join(file)).unwrap();
        let b = std::fs::read(out(&resumed).join(file)).unwrap();
        assert!(
            a == b,
            "{file} differs between the straight and the resumed run ({name})"
        );
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    if small_data().is_none() {
        return;
    }
    let runs: Vec<Vec<u8>> = ["1", "2", "3"]
        .iter()
        .map(|threads| {
            let dir = scratch(&format!("omniglot-threads-{threads}"));
            train(&dir, 1, &["--threads", threads]).expect(0, "checkpoint (iteration 1)");
            std::fs::read(checkpoint(&dir)).unwrap()
        })
        .collect();
    assert!(
        runs[0] == runs[1] && runs[1] == runs[2],
        "checkpoints differ across 1, 2, 3 threads"
    );
}
