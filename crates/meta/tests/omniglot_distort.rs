//! Random affine distortions: the identity when every range is zero, seeded, in range, and
//! drawn after the rest of a task so the same classes and drawings are picked.

mod omniglot_common;

use std::sync::Arc;

use meta::omniglot::{Class, Distortion, Episode, Omniglot, Sampler, IMAGE_PIXELS};
use meta::{Target, TaskSource};
use omniglot_common::{scratch, write_dataset};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn image(seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..IMAGE_PIXELS)
        .map(|_| rng.random_range(0.0..=1.0))
        .collect()
}

#[test]
fn zero_ranges_leave_the_image_as_it_is() {
    let none = Distortion {
        rotation_degrees: 0.0,
        shear: 0.0,
        scale: (1.0, 1.0),
        shift: 0.0,
    };
    let original = image(0);
    let mut pixels = original.clone();
    none.apply(&mut pixels, &mut Vec::new(), &mut StdRng::seed_from_u64(1));
    for (k, (a, b)) in pixels.iter().zip(&original).enumerate() {
        assert!((a - b).abs() < 1e-6, "pixel {k}: {a} vs {b}");
    }
}

#[test]
fn distortions_are_seeded_change_the_image_and_stay_in_range() {
    let koch = Distortion::koch();
    let distorted = |seed: u64| {
        let mut pixels = image(7);
        koch.apply(
            &mut pixels,
            &mut Vec::new(),
            &mut StdRng::seed_from_u64(seed),
        );
        pixels
    };
    assert_eq!(distorted(3), distorted(3));
    assert_ne!(distorted(3), distorted(4));
    assert_ne!(distorted(3), image(7));
    for seed in 0..50 {
        let pixels = distorted(seed);
        assert!(
            pixels.iter().all(|p| (0.0..=1.0).contains(p)),
            "seed {seed}: a pixel left [0, 1]"
        );
    }
    // An all-ink image keeps most of its ink (only the border can move out of view).
    let mut full = vec![1.0f32; IMAGE_PIXELS];
    koch.apply(&mut full, &mut Vec::new(), &mut StdRng::seed_from_u64(9));
    let ink: f32 = full.iter().sum();
    assert!(ink > 0.5 * IMAGE_PIXELS as f32, "{ink}");
}

#[test]
fn a_distorting_sampler_is_seeded_and_picks_the_same_classes() {
    let root = scratch("distort-sampler");
    write_dataset(&root, &["Alpha", "Beta"], 4, 5);
    let data = Arc::new(Omniglot::load(&[&root]).unwrap());
    let classes: Vec<Class> = (0..data.characters().len()).map(Class::plain).collect();
    let episode = Episode {
        ways: 3,
        shots: 1,
        queries: 2,
    };
    let plain = Sampler::new(data, classes, episode).unwrap();
    let distorting = plain.clone().with_distortion(Distortion::koch());
    for seed in 0..10 {
        let rng = || StdRng::seed_from_u64(seed);
        let (task, picked) = distorting.draw(&mut rng());
        let (again, _) = distorting.draw(&mut rng());
        assert_eq!(
            task.support.x.to_vec::<f32>(),
            again.support.x.to_vec::<f32>()
        );
        assert_eq!(task.query.x.to_vec::<f32>(), again.query.x.to_vec::<f32>());
        let (undistorted, plain_picked) = plain.draw(&mut rng());
        assert_eq!(picked, plain_picked);
        let labels = |y: &Target| match y {
            Target::Labels(l) => l.clone(),
            Target::Values(_) => unreachable!(),
        };
        assert_eq!(labels(&task.query.y), labels(&undistorted.query.y));
        assert_ne!(
            task.query.x.to_vec::<f32>(),
            undistorted.query.x.to_vec::<f32>()
        );
        let x = distorting.sample(&mut rng()).query.x.to_vec::<f32>();
        assert!(x.iter().all(|p| (0.0..=1.0).contains(p)));
    }
}
