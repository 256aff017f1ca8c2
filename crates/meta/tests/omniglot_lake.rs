//! Lake's one-shot harness on a tiny run folder written here in the benchmark's exact format:
//! reading, scoring (a perfect classifier scores 0%, a constant one 95%), the nearest-neighbour
//! baseline, and errors that name the file and line.

mod omniglot_common;

use std::path::Path;

use meta::omniglot::lake::{nearest_neighbour, read_runs, score, WAYS};
use meta::omniglot::{load_image, OmniglotError, IMAGE_PIXELS};
use meta::Target;
use omniglot_common::{drawing, scratch, write_ink, SIDE};

/// The test item `i` of run `r` shows class `truth(r, i)`: a different permutation per run.
fn truth(run: usize, item: usize) -> usize {
    (item * 7 + run * 3) % WAYS // 7 is invertible mod 20, so this is a permutation
}

/// Writes `runs` runs under `folder`. Run `r`'s class `k` is `drawing(k + r, 0)`; its test
/// items are exactly the training images of their classes, so the nearest neighbour is exact.
fn write_runs(folder: &Path, runs: usize) {
    for r in 0..runs {
        let name = format!("run{:02}", r + 1);
        let run = folder.join(&name);
        let mut labels = String::new();
        for k in 0..WAYS {
            let class_file = run.join("training").join(format!("class{:02}.png", k + 1));
            write_ink(&class_file, SIDE, SIDE, &drawing(k + r, 0));
        }
        for i in 0..WAYS {
            let class = truth(r, i);
            let item = run.join("test").join(format!("item{:02}.png", i + 1));
            write_ink(&item, SIDE, SIDE, &drawing(class + r, 0));
            labels += &format!(
                "{name}/test/item{:02}.png {name}/training/class{:02}.png\n",
                i + 1,
                class + 1
            );
        }
        std::fs::write(run.join("class_labels.txt"), labels).unwrap();
    }
}

#[test]
fn runs_are_read_in_order_with_their_labels() {
    let folder = scratch("lake-read");
    write_runs(&folder, 3);
    std::fs::write(folder.join("README"), "not a run").unwrap();
    let runs = read_runs(&folder).unwrap();
    assert_eq!(runs.len(), 3);
    for (r, run) in runs.iter().enumerate() {
        assert_eq!(run.name, format!("run{:02}", r + 1));
        assert_eq!(run.support.x.shape(), &[20, 1, 28, 28]);
        assert_eq!(run.test.shape(), &[20, 1, 28, 28]);
        let Target::Labels(support_labels) = &run.support.y else {
            panic!("labels")
        };
        assert_eq!(support_labels, &(0..20).collect::<Vec<_>>());
        let expected: Vec<usize> = (0..WAYS).map(|i| truth(r, i)).collect();
        assert_eq!(run.labels, expected);
        // Support image k is classKK+1.png.
        let class07 = folder.join(&run.name).join("training/class07.png");
        let support = run.support.x.to_vec::<f32>();
        assert_eq!(
            &support[6 * IMAGE_PIXELS..7 * IMAGE_PIXELS],
            load_image(&class07).unwrap().as_slice()
        );
    }
}

#[test]
fn perfect_scores_zero_constant_scores_95_and_nearest_neighbour_is_exact_here() {
    let folder = scratch("lake-score");
    write_runs(&folder, 3);
    let runs = read_runs(&folder).unwrap();

    let perfect: Vec<Vec<usize>> = runs.iter().map(|run| run.labels.clone()).collect();
    let result = score(&runs, &perfect);
    assert_eq!(result.per_run, vec![0.0; 3]);
    assert_eq!(result.overall, 0.0);

    // Each class is the truth of exactly one item, so a constant guess is right once in 20.
    let constant = vec![vec![4; WAYS]; 3];
    let result = score(&runs, &constant);
    assert_eq!(result.per_run, vec![95.0; 3]);
    assert_eq!(result.overall, 95.0);

    // Wrong on 2 items of run 1 and 5 of run 3: 10%, 0%, 25%; overall 7 / 60.
    let mut some_wrong = perfect.clone();
    for label in &mut some_wrong[0][..2] {
        *label = (*label + 1) % WAYS;
    }
    for label in &mut some_wrong[2][..5] {
        *label = (*label + 3) % WAYS;
    }
    let result = score(&runs, &some_wrong);
    assert_eq!(result.per_run, vec![10.0, 0.0, 25.0]);
    assert!((result.overall - 700.0 / 60.0).abs() < 1e-12);

    let predicted = nearest_neighbour(&runs);
    assert_eq!(predicted, perfect);
    assert_eq!(score(&runs, &predicted).overall, 0.0);
}

#[test]
fn nearest_neighbour_tolerates_small_changes() {
    // Test items drawn with a small extra mark still land on their class.
    let folder = scratch("lake-noise");
    write_runs(&folder, 2);
    for r in 0..2 {
        for i in 0..WAYS {
            let mut ink = drawing(truth(r, i) + r, 0);
            for c in 95..100 {
                ink[100 * SIDE + c] = true;
            }
            let item = folder
                .join(format!("run{:02}", r + 1))
                .join(format!("test/item{:02}.png", i + 1));
            write_ink(&item, SIDE, SIDE, &ink);
        }
    }
    let runs = read_runs(&folder).unwrap();
    let truth: Vec<Vec<usize>> = runs.iter().map(|run| run.labels.clone()).collect();
    assert_eq!(nearest_neighbour(&runs), truth);
}

/// The error of reading `folder`, which must fail.
fn read_error(folder: &Path) -> OmniglotError {
    match read_runs(folder) {
        Ok(_) => panic!("reading {} should fail", folder.display()),
        Err(error) => error,
    }
}

#[test]
fn errors_name_the_file_and_line() {
    let folder = scratch("lake-errors");
    let error = read_error(&folder);
    assert!(error.to_string().contains("no run folders"), "{error}");

    let labels_of = |folder: &Path| folder.join("run01").join("class_labels.txt");
    let rewrite_line = |folder: &Path, line: usize, text: &str| {
        let path = labels_of(folder);
        let mut lines: Vec<String> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        lines[line] = text.to_string();
        std::fs::write(&path, lines.join("\n")).unwrap();
    };

    let cases = [
        (3, "run01/test/item04.png", "line 4: one field"),
        (
            3,
            "run01/test/item04.png run01/training/classXX.png",
            "bad number",
        ),
        (
            3,
            "run02/test/item04.png run02/training/class01.png",
            "another run",
        ),
        (
            3,
            "run01/test/item04.png run01/training/class21.png",
            "out of range",
        ),
        (
            3,
            "run01/test/item05.png run01/training/class01.png",
            "item05 twice",
        ),
    ];
    for (n, (line, text, what)) in cases.into_iter().enumerate() {
        let case = folder.join(format!("case{n}"));
        write_runs(&case, 1);
        rewrite_line(&case, line, text);
        let error = read_error(&case);
        let message = error.to_string();
        assert!(
            matches!(error, OmniglotError::Malformed { .. }),
            "{what}: {message}"
        );
        assert!(message.contains("class_labels.txt"), "{what}: {message}");
        let expected_line = if what == "item05 twice" { 5 } else { line + 1 };
        assert!(
            message.contains(&format!("class_labels.txt:{expected_line}:")),
            "{what}: {message}"
        );
    }

    // A missing label line: item20 has no class.
    let case = folder.join("short");
    write_runs(&case, 1);
    let text = std::fs::read_to_string(labels_of(&case)).unwrap();
    let kept: Vec<&str> = text.lines().take(19).collect();
    std::fs::write(labels_of(&case), kept.join("\n")).unwrap();
    let message = read_error(&case).to_string();
    assert!(message.contains("no label for item20"), "{message}");

    // Missing files.
    let case = folder.join("missing");
    write_runs(&case, 2);
    std::fs::remove_file(case.join("run02/training/class13.png")).unwrap();
    let message = read_error(&case).to_string();
    assert!(message.contains("run02/training/class13.png"), "{message}");
    std::fs::remove_file(labels_of(&case)).unwrap();
    let message = read_error(&case).to_string();
    assert!(message.contains("run01/class_labels.txt"), "{message}");
}

#[test]
fn adapting_to_each_run_classifies_its_training_images() {
    use meta::omniglot::lake::predict;
    use meta::{registry, Settings};
    use nn::{conv_net, Downsample};
    use rand::{rngs::StdRng, SeedableRng};

    let folder = scratch("lake-predict");
    write_runs(&folder, 2);
    let runs = read_runs(&folder).unwrap();
    // An untrained 20-way network, adapted with many plain gradient steps on each run's 20
    // training images: it fits them, and here the test items are those same images.
    let settings = Settings {
        inner_steps: 80,
        inner_lr: 0.5,
        ..Settings::default()
    };
    let learner = registry::build("maml", &settings).unwrap();
    let model = conv_net(1, 8, WAYS, 28, Downsample::Stride2);
    let meta = learner.init(&model, tensor::DType::F32, &mut StdRng::seed_from_u64(0));
    let predictions = predict(&model, learner.as_ref(), &meta, 80, &runs);
    assert_eq!(predictions.len(), 2);
    assert!(predictions
        .iter()
        .all(|p| p.len() == WAYS && p.iter().all(|&l| l < WAYS)));
    let adapted = score(&runs, &predictions);
    // Without adaptation the same network is at chance (95% error expected).
    let unadapted = score(&runs, &predict(&model, learner.as_ref(), &meta, 0, &runs));
    println!(
        "error adapted {:?}, unadapted {:?}",
        adapted.overall, unadapted.overall
    );
    assert!(adapted.overall <= 10.0, "{adapted:?}");
    assert!(unadapted.overall >= 70.0, "{unadapted:?}");
}
