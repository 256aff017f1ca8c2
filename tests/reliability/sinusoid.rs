//! `metasgd_sinusoid`: the cases of the reliability suite on the sinusoid example.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::harness::{edit_checkpoint, example, run, scratch, snapshot, unchanged, Run};

/// A tiny run: `iters` iterations of 2 tasks, a constant learning rate, 2 evaluation tasks.
fn train(dir: &Path, iters: u64, extra: &[&str]) -> Run {
    let iters = iters.to_string();
    let mut args = vec![
        "--iters",
        &iters,
        "--meta-batch",
        "2",
        "--chunk",
        "2",
        "--eval-tasks",
        "2",
        "--lr-schedule",
        "constant",
        "--checkpoint-every",
        "2",
        "--out",
        "out",
    ];
    args.extend_from_slice(extra);
    run(&example("metasgd_sinusoid"), dir, &args)
}

fn out(dir: &Path) -> PathBuf {
    dir.join("out")
}

fn checkpoint(dir: &Path) -> PathBuf {
    out(dir).join("checkpoint.safetensors")
}

#[test]
fn training_again_into_a_checkpoint_folder_is_refused_unless_asked() {
    let dir = scratch("sinusoid-refuse");
    train(&dir, 2, &[]).expect(0, "checkpoint (iteration 2)");
    let before = snapshot(&out(&dir));
    train(&dir, 4, &[])
        .expect(1, "already holds a checkpoint (iteration 2)")
        .expect(1, "nothing was written");
    unchanged(&out(&dir), &before);
    // --overwrite replaces it, as asked.
    train(&dir, 4, &["--overwrite"]).expect(0, "checkpoint (iteration 4)");
    let read = nn::Checkpoint::load(checkpoint(&dir)).unwrap();
    assert_eq!(read.metadata("iteration"), Some("4"));
}

#[test]
fn bad_numbers_on_the_command_line_are_refused_before_anything_is_written() {
    let dir = scratch("sinusoid-arguments");
    train(&dir, 2, &[]).expect(0, "checkpoint (iteration 2)");
    let before = snapshot(&out(&dir));
    let resume = checkpoint(&dir);
    let resume = resume.to_str().unwrap();
    for (flag, value, says) in [
        (
            "--outer-lr",
            "nan",
            "expected a finite number above 0, got `nan`",
        ),
        (
            "--outer-lr",
            "inf",
            "expected a finite number above 0, got `inf`",
        ),
        (
            "--outer-lr",
            "0",
            "expected a finite number above 0, got `0`",
        ),
        (
            "--inner-lr",
            "nan",
            "expected a finite number above 0, got `nan`",
        ),
        ("--threads", "100000", "from 1 to 256, got `100000`"),
        ("--threads", "0", "from 1 to 256, got `0`"),
    ] {
        train(&dir, 4, &["--resume", resume, flag, value]).expect(2, says);
        unchanged(&out(&dir), &before);
    }
}

#[test]
fn nothing_to_train_says_nothing_was_written() {
    let dir = scratch("sinusoid-nothing");
    train(&dir, 0, &[])
        .expect(0, "nothing to train")
        .expect(0, "no checkpoint")
        .never_says("checkpoint (iteration")
        .never_says("throughput");
    assert!(!checkpoint(&dir).exists());
    train(&dir, 2, &["--overwrite"]).expect(0, "checkpoint (iteration 2)");
    let before = snapshot(&out(&dir));
    let resume = checkpoint(&dir);
    train(&dir, 2, &["--resume", resume.to_str().unwrap()])
        .expect(0, "the run is at iteration 2 and --iters is 2")
        .never_says("NaN");
    unchanged(&out(&dir), &before);
}

#[test]
fn a_resume_with_other_settings_names_each_difference() {
    let dir = scratch("sinusoid-settings");
    train(&dir, 2, &[]).expect(0, "checkpoint (iteration 2)");
    let before = snapshot(&out(&dir));
    let resume = checkpoint(&dir);
    let resume = resume.to_str().unwrap();
    let refused = train(
        &dir,
        4,
        &["--resume", resume, "--seed", "7", "--outer-lr", "0.01"],
    );
    refused
        .expect(1, "`seed`: checkpoint 0, this run 7")
        .expect(1, "`outer_lr`: checkpoint 0.002, this run 0.01")
        .expect(1, "--allow-changed-settings");
    unchanged(&out(&dir), &before);
    train(&dir, 4, &["--resume", resume, "--inner-steps", "2"])
        .expect(1, "`inner_steps`: checkpoint 1, this run 2");
    unchanged(&out(&dir), &before);
    train(
        &dir,
        4,
        &[
            "--resume",
            resume,
            "--seed",
            "7",
            "--allow-changed-settings",
        ],
    )
    .expect(0, "checkpoint (iteration 4)");
}

#[test]
fn a_run_that_goes_non_finite_stops_and_keeps_the_last_good_checkpoint() {
    let dir = scratch("sinusoid-nan");
    train(&dir, 2, &[]).expect(0, "checkpoint (iteration 2)");
    let before = snapshot(&out(&dir));
    let resume = checkpoint(&dir);
    let resume = resume.to_str().unwrap();
    // A learning rate of 10³⁰ is finite (so accepted) but sends θ to ±10³⁰ in one step.
    let explode = [
        "--resume",
        resume,
        "--allow-changed-settings",
        "--outer-lr",
        "1e30",
    ];
    let run = train(&dir, 10, &explode);
    run.expect(1, "the meta-loss is")
        .expect(1, "(iteration 2), is kept")
        .expect(1, "--detect-anomaly")
        .never_says("checkpoint (iteration");
    let checkpoint_after = std::fs::read(checkpoint(&dir)).unwrap();
    assert_eq!(
        checkpoint_after,
        before
            .iter()
            .find(|(n, _)| n == "checkpoint.safetensors")
            .unwrap()
            .1
    );
    // With the anomaly flag the message names the op where the infinity started.
    let mut with_anomaly = explode.to_vec();
    with_anomaly.push("--detect-anomaly");
    train(&dir, 10, &with_anomaly)
        .expect(1, "anomaly: forward of `")
        .expect(1, "input shapes");
    let checkpoint_after = std::fs::read(checkpoint(&dir)).unwrap();
    assert_eq!(
        checkpoint_after,
        before
            .iter()
            .find(|(n, _)| n == "checkpoint.safetensors")
            .unwrap()
            .1
    );
}

/// A change made to a good checkpoint.
type Damage = fn(&mut nn::Checkpoint);

#[test]
fn damaged_checkpoints_are_clear_errors() {
    let dir = scratch("sinusoid-damaged");
    train(&dir, 2, &[]).expect(0, "checkpoint (iteration 2)");
    let good = checkpoint(&dir);
    let copy = |name: &str| {
        let path = dir.join(name);
        std::fs::copy(&good, &path).unwrap();
        path
    };
    let eval = |path: &Path| {
        run(
            &example("metasgd_sinusoid"),
            &dir,
            &[
                "--eval-only",
                "--checkpoint",
                path.to_str().unwrap(),
                "--eval-tasks",
                "2",
            ],
        )
    };
    for (value, says) in [
        ("-3", "`inner_steps` is `-3`"),
        ("2.7", "`inner_steps` is `2.7`"),
    ] {
        let path = copy("steps.safetensors");
        edit_checkpoint(&path, |c| c.set_metadata("inner_steps", value));
        eval(&path).expect(1, says);
    }
    let path = copy("nan.safetensors");
    edit_checkpoint(&path, |c| {
        let shape = c.tensor("meta.theta.0.weight").unwrap().shape().to_vec();
        let n: usize = shape.iter().product();
        c.add_tensor(
            "meta.theta.0.weight",
            tensor::Tensor::from_vec(vec![f32::NAN; n], &shape).unwrap(),
        );
    });
    eval(&path).expect(1, "`meta.theta.0.weight` holds NaN");
    let resume = ["--resume", path.to_str().unwrap()];
    let before = snapshot(&out(&dir));
    train(&dir, 4, &resume).expect(1, "holds NaN");
    unchanged(&out(&dir), &before);

    // Optimiser state: a moment of the wrong shape, a missing moment, a negative step.
    let cases: [(&str, Damage, &str); 3] = [
        (
            "moment-shape",
            |c| {
                c.add_tensor(
                    "optimizer.m.theta.0.weight",
                    tensor::Tensor::zeros(&[3], tensor::DType::F32),
                )
            },
            "`m.theta.0.weight`",
        ),
        (
            "step",
            |c| c.add_tensor("optimizer.step", tensor::Tensor::scalar(-1.0f64)),
            "`step`",
        ),
        (
            "moments-missing",
            |c| {
                let mut kept = nn::Checkpoint::new();
                for name in c
                    .names()
                    .filter(|n| !n.starts_with("optimizer.m.") && !n.starts_with("optimizer.v."))
                {
                    kept.add_tensor(name, c.tensor(name).unwrap().clone());
                }
                for (k, v) in c.metadata_entries() {
                    kept.set_metadata(k, v);
                }
                *c = kept;
            },
            "moments missing",
        ),
    ];
    for (name, damage, says) in cases {
        let path = copy(&format!("{name}.safetensors"));
        edit_checkpoint(&path, damage);
        train(&dir, 4, &["--resume", path.to_str().unwrap()]).expect(1, says);
        unchanged(&out(&dir), &before);
    }
}

#[test]
fn a_resumed_run_equals_the_uninterrupted_run_byte_for_byte() {
    let straight = scratch("sinusoid-straight");
    train(&straight, 4, &[]).expect(0, "checkpoint (iteration 4)");
    let resumed = scratch("sinusoid-resumed");
    train(&resumed, 2, &[]).expect(0, "checkpoint (iteration 2)");
    // Rows written after the checkpoint by an interrupted run are cut on resume.
    let curve = out(&resumed).join("curve.csv");
    let mut text = std::fs::read_to_string(&curve).unwrap();
    text += "3,9.999999\n";
    std::fs::write(&curve, text).unwrap();
    let resume = checkpoint(&resumed);
    train(&resumed, 4, &["--resume", resume.to_str().unwrap()])
        .expect(0, "resumed from")
        .expect(0, "checkpoint (iteration 4)");
    for file in ["checkpoint.safetensors", "curve.csv"] {
        let a = std::fs::read(out(&straight).join(file)).unwrap();
        let b = std::fs::read(out(&resumed).join(file)).unwrap();
        assert!(
            a == b,
            "{file} differs between the straight and the resumed run"
        );
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let runs: Vec<Vec<u8>> = ["1", "2", "3"]
        .iter()
        .map(|threads| {
            let dir = scratch(&format!("sinusoid-threads-{threads}"));
            train(&dir, 2, &["--threads", threads]).expect(0, "checkpoint (iteration 2)");
            std::fs::read(checkpoint(&dir)).unwrap()
        })
        .collect();
    assert!(
        runs[0] == runs[1] && runs[1] == runs[2],
        "checkpoints differ across 1, 2, 3 threads"
    );
}

#[test]
fn a_kill_during_saving_never_leaves_a_broken_checkpoint() {
    let dir = scratch("sinusoid-kill");
    train(&dir, 1, &[]).expect(0, "checkpoint (iteration 1)");
    let binary = example("metasgd_sinusoid");
    // Checkpoint every iteration, so a kill at any moment has good odds of landing in a save.
    for (attempt, wait_ms) in [150u64, 230, 310, 390, 470].into_iter().enumerate() {
        let resume = checkpoint(&dir);
        let mut child = Command::new(&binary)
            .args([
                "--iters",
                "100000",
                "--meta-batch",
                "2",
                "--chunk",
                "2",
                "--lr-schedule",
                "constant",
                "--checkpoint-every",
                "1",
                "--out",
                "out",
                "--resume",
                resume.to_str().unwrap(),
            ])
            .current_dir(&dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(wait_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        let read = nn::Checkpoint::load(checkpoint(&dir))
            .unwrap_or_else(|e| panic!("attempt {attempt}: the checkpoint is broken: {e}"));
        assert!(read.metadata("iteration").is_some());
    }
    // The next run cleans up what a kill left, and continues.
    train(
        &dir,
        1,
        &[
            "--resume",
            checkpoint(&dir).to_str().unwrap(),
            "--allow-changed-settings",
        ],
    )
    .expect(0, "nothing to train");
    let leftovers: Vec<String> = std::fs::read_dir(out(&dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
