//! The N-way K-shot sampler and the splits, on a synthetic data set whose images are all
//! different, so every row of a task can be traced back to its character and drawing.

mod omniglot_common;

use std::collections::BTreeSet;
use std::sync::Arc;

use meta::omniglot::{
    rotated, Class, Counts, Episode, Omniglot, OmniglotError, Rotation, Sampler, Split,
    IMAGE_PIXELS,
};
use meta::{Target, Task, TaskSource};
use omniglot_common::{rot90, scratch, write_dataset};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// 3 alphabets × 3 characters × 6 drawings, written afresh under the test's own folder.
fn data(name: &str) -> Arc<Omniglot> {
    let root = scratch(name);
    write_dataset(&root, &["Alpha", "Beta", "Gamma"], 3, 6);
    Arc::new(Omniglot::load(&[&root]).unwrap())
}

fn labels(batch: &meta::Batch) -> &[usize] {
    match &batch.y {
        Target::Labels(labels) => labels,
        Target::Values(_) => panic!("classification tasks have labels"),
    }
}

/// The (class, drawing) of every row of `images`, found by comparing with all images of
/// `classes`.
fn trace(data: &Omniglot, classes: &[Class], images: &[f32]) -> Vec<(Class, usize)> {
    images
        .chunks(IMAGE_PIXELS)
        .map(|row| {
            let mut found = Vec::new();
            for class in classes {
                let character = &data.characters()[class.character];
                for drawing in 0..character.len() {
                    let quarters = Rotation::ALL.iter().position(|r| *r == class.rotation);
                    if rot90(character.image(drawing), quarters.unwrap()) == row {
                        found.push((*class, drawing));
                    }
                }
            }
            assert_eq!(found.len(), 1, "each row is exactly one class's drawing");
            found[0]
        })
        .collect()
}

fn all_classes(data: &Omniglot) -> Vec<Class> {
    (0..data.characters().len()).map(Class::plain).collect()
}

#[test]
fn same_seed_same_task_and_shapes() {
    let data = data("sampler-seed");
    let episode = Episode {
        ways: 5,
        shots: 2,
        queries: 3,
    };
    let sampler = Sampler::new(data.clone(), all_classes(&data), episode).unwrap();
    let draw = |seed| sampler.sample(&mut StdRng::seed_from_u64(seed));
    let (a, b, c): (Task, Task, Task) = (draw(7), draw(7), draw(8));
    assert_eq!(a.support.x.shape(), &[10, 1, 28, 28]);
    assert_eq!(a.query.x.shape(), &[15, 1, 28, 28]);
    assert_eq!(a.support.x.to_vec::<f32>(), b.support.x.to_vec::<f32>());
    assert_eq!(a.query.x.to_vec::<f32>(), b.query.x.to_vec::<f32>());
    assert_eq!(labels(&a.support), labels(&b.support));
    assert_eq!(labels(&a.query), labels(&b.query));
    assert_ne!(a.support.x.to_vec::<f32>(), c.support.x.to_vec::<f32>());
}

#[test]
fn distinct_classes_distinct_drawings_and_a_label_permutation() {
    let data = data("sampler-labels");
    let classes = all_classes(&data);
    let (ways, shots, queries) = (4, 2, 3);
    let episode = Episode {
        ways,
        shots,
        queries,
    };
    let sampler = Sampler::new(data.clone(), classes.clone(), episode).unwrap();
    let mut rng = StdRng::seed_from_u64(1);
    let mut labels_of_class_0 = BTreeSet::new();
    for _ in 0..40 {
        let (task, by_label) = sampler.draw(&mut rng);
        assert_eq!(by_label.len(), ways);
        assert_eq!(
            by_label.iter().collect::<BTreeSet<_>>().len(),
            ways,
            "distinct classes"
        );

        let support = trace(&data, &classes, &task.support.x.to_vec::<f32>());
        let query = trace(&data, &classes, &task.query.x.to_vec::<f32>());
        // Rows grouped by class, K then Q per class; the label is the class's label.
        let (support_labels, query_labels) = (labels(&task.support), labels(&task.query));
        assert_eq!(support_labels.len(), ways * shots);
        assert_eq!(query_labels.len(), ways * queries);
        let mut order = Vec::new();
        for (row, &(class, _)) in support.iter().enumerate() {
            assert_eq!(by_label[support_labels[row]], class);
            if row % shots == 0 {
                order.push(support_labels[row]);
            } else {
                assert_eq!(support_labels[row], support_labels[row - 1]);
            }
        }
        for (row, &(class, _)) in query.iter().enumerate() {
            assert_eq!(by_label[query_labels[row]], class);
        }
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..ways).collect::<Vec<_>>(), "labels are 0..N");
        // K + Q distinct drawings per class, none shared by support and query.
        let drawings: BTreeSet<(Class, usize)> = support.iter().chain(&query).copied().collect();
        assert_eq!(drawings.len(), ways * (shots + queries));

        if let Some(label) = by_label.iter().position(|c| *c == classes[0]) {
            labels_of_class_0.insert(label);
        }
    }
    assert!(
        labels_of_class_0.len() > 1,
        "the class→label mapping is redrawn per task"
    );
}

#[test]
fn rotations_make_four_classes_with_rotated_pixels() {
    let data = data("sampler-rotations");
    let plain = all_classes(&data);
    let classes = rotated(&plain);
    assert_eq!(classes.len(), 4 * plain.len());
    assert_eq!(classes.iter().collect::<BTreeSet<_>>().len(), classes.len());

    // Rotation::apply against the plain quarter-turn loop, on an asymmetric drawing.
    let image = data.characters()[2].image(1);
    for (quarters, rotation) in Rotation::ALL.iter().enumerate() {
        let mut out = vec![0.0; IMAGE_PIXELS];
        rotation.apply(image, &mut out);
        assert_eq!(out, rot90(image, quarters), "{rotation:?}");
        if quarters > 0 {
            assert_ne!(out, image, "the drawings are not rotation-symmetric");
        }
    }

    // A sampler over the four rotations of one character draws each rotation as its own class,
    // with the pixels rotated.
    let one: Vec<Class> = rotated(&[Class::plain(4)]);
    let episode = Episode {
        ways: 4,
        shots: 1,
        queries: 1,
    };
    let sampler = Sampler::new(data.clone(), one.clone(), episode).unwrap();
    let (task, by_label) = sampler.draw(&mut StdRng::seed_from_u64(3));
    let support = trace(&data, &one, &task.support.x.to_vec::<f32>());
    let rotations: BTreeSet<Rotation> = support.iter().map(|(c, _)| c.rotation).collect();
    assert_eq!(rotations.len(), 4);
    for (row, &(class, _)) in support.iter().enumerate() {
        assert_eq!(by_label[labels(&task.support)[row]], class);
    }

    let split = Split::by_character(
        &data,
        Counts {
            train: 5,
            validation: 2,
            test: 2,
        },
        0,
    )
    .unwrap();
    let augmented = split.clone().rotated();
    assert_eq!(augmented.train.len(), 20);
    assert_eq!(augmented.test.len(), 8);
}

#[test]
fn too_few_images_or_classes_are_errors() {
    let data = data("sampler-errors");
    let episode = Episode {
        ways: 3,
        shots: 4,
        queries: 3,
    };
    let error = Sampler::new(data.clone(), all_classes(&data), episode).unwrap_err();
    assert!(
        matches!(
            error,
            OmniglotError::TooFewImages {
                images: 6,
                needed: 7,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("Alpha/character01"), "{error}");

    let episode = Episode {
        ways: 3,
        shots: 3,
        queries: 3,
    };
    assert!(Sampler::new(data.clone(), all_classes(&data), episode).is_ok());
    let error = Sampler::new(data.clone(), all_classes(&data)[..2].to_vec(), episode).unwrap_err();
    assert!(error.to_string().contains("3 classes, 2 given"), "{error}");
    let error = Sampler::new(data.clone(), vec![Class::plain(99); 3], episode).unwrap_err();
    assert!(error.to_string().contains("not in the data"), "{error}");
}

#[test]
fn splits_by_alphabet_and_character() {
    let data = data("splits");
    let names = Split::by_alphabet_names(&data, &["Gamma", "Alpha"], &[], &["Beta"]).unwrap();
    let alphabets = |classes: &[Class]| -> BTreeSet<String> {
        classes
            .iter()
            .map(|c| data.characters()[c.character].alphabet.clone())
            .collect()
    };
    assert_eq!(
        alphabets(&names.train),
        ["Alpha", "Gamma"].map(String::from).into()
    );
    assert!(names.validation.is_empty());
    assert_eq!(alphabets(&names.test), ["Beta"].map(String::from).into());
    assert_eq!(names.train.len(), 6);

    let error = Split::by_alphabet_names(&data, &["Alpha"], &["Klingon"], &[]).unwrap_err();
    assert!(error.to_string().contains("Klingon"), "{error}");
    let error = Split::by_alphabet_names(&data, &["Alpha"], &["Alpha"], &[]).unwrap_err();
    assert!(error.to_string().contains("twice"), "{error}");

    let one_each = Counts {
        train: 1,
        validation: 1,
        test: 1,
    };
    let random = Split::by_alphabet(&data, one_each, 5).unwrap();
    assert_eq!(
        random,
        Split::by_alphabet(&data, one_each, 5).unwrap(),
        "seeded"
    );
    let parts = [&random.train, &random.validation, &random.test];
    let seen: Vec<BTreeSet<String>> = parts.iter().map(|p| alphabets(p)).collect();
    assert!(seen.iter().all(|s| s.len() == 1));
    assert_eq!(
        seen.iter().flatten().collect::<BTreeSet<_>>().len(),
        3,
        "disjoint"
    );
    let too_many = Counts {
        train: 2,
        validation: 1,
        test: 1,
    };
    assert!(Split::by_alphabet(&data, too_many, 0).is_err());

    let counts = Counts {
        train: 5,
        validation: 1,
        test: 3,
    };
    let by_character = Split::by_character(&data, counts, 9).unwrap();
    let all: BTreeSet<Class> = [
        &by_character.train,
        &by_character.validation,
        &by_character.test,
    ]
    .into_iter()
    .flatten()
    .copied()
    .collect();
    assert_eq!(all.len(), 9, "every character once");
    assert_eq!(by_character.train.len(), 5);
    assert!(by_character.train.windows(2).all(|w| w[0] < w[1]), "sorted");
    let seeds: BTreeSet<Vec<Class>> = (0..10)
        .map(|seed| Split::by_character(&data, counts, seed).unwrap().train)
        .collect();
    assert!(seeds.len() > 1, "the seed matters");
}
