//! The learned-optimiser example: `--shards` that cannot be honoured are refused before
//! anything is written, and a sharded meta-training gives the same LSTM on any thread count.

use std::path::Path;

use crate::harness::{example, run, scratch, Run};

/// A meta-training of seconds: 2 problems of 10 steps in truncations of 5, a short evaluation.
fn meta_train(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "--meta-runs",
        "2",
        "--train-steps",
        "10",
        "--truncation",
        "5",
        "--steps",
        "5",
        "--eval-runs",
        "1",
        "--functions",
        "6",
        "--out",
        "out",
    ];
    args.extend_from_slice(extra);
    run(&example("learned_optimizer"), dir, &args)
}

#[test]
fn shards_that_cannot_be_honoured_are_refused_before_anything_is_written() {
    let dir = scratch("lo-shards-refused");
    meta_train(&dir, &["--shards", "7"]).expect(1, "--shards 7: cannot cut a batch of 6 functions");
    meta_train(&dir, &["--optimisee", "digits", "--shards", "2"])
        .expect(1, "the digits optimisee is one network");
    assert!(
        !dir.join("out").exists(),
        "a refused run wrote its output folder"
    );
}

#[test]
fn a_sharded_meta_training_gives_the_same_lstm_on_any_thread_count() {
    let lstms: Vec<Vec<u8>> = ["1", "2", "3"]
        .iter()
        .map(|threads| {
            let dir = scratch(&format!("lo-shards-threads-{threads}"));
            meta_train(&dir, &["--shards", "2", "--threads", threads])
                .expect(0, "2 shards")
                .never_says("panicked");
            std::fs::read(dir.join("out/quadratic/lstm.safetensors")).unwrap()
        })
        .collect();
    assert!(
        lstms[0] == lstms[1] && lstms[1] == lstms[2],
        "the LSTMs meta-trained on 1, 2 and 3 threads differ"
    );
}
