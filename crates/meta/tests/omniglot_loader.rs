//! The Omniglot loader on small synthetic image sets written here as PNGs: layout, ordering,
//! deduplication across roots, decoding (inversion, area-averaged resize, 1- and 8-bit), errors
//! that name the path, and the cache (hit, stale, corrupt).

mod omniglot_common;

use std::path::Path;

use meta::omniglot::{load_image, CacheStatus, Omniglot, OmniglotError, IMAGE_PIXELS, IMAGE_SIZE};
use omniglot_common::{rectangle, scratch, write_dataset, write_gray8, write_ink, SIDE};

fn assert_close(actual: f32, expected: f32, what: &str) {
    assert!(
        (actual - expected).abs() < 1e-6,
        "{what}: {actual} != {expected}"
    );
}

/// The error of loading `roots`, which must fail.
fn load_error(roots: &[&Path]) -> OmniglotError {
    match Omniglot::load(roots) {
        Ok(_) => panic!("loading {roots:?} should fail"),
        Err(error) => error,
    }
}

#[test]
fn resize_averages_areas_with_fractional_coverage() {
    let dir = scratch("resize");
    // A 4×4 ink block in the top-left corner. Output pixels span 3.75 input pixels:
    // out(0,0) covers [0, 3.75)², all ink → 1;
    // out(0,1) covers columns [3.75, 7.5): ink on [3.75, 4) × [0, 3.75) → 0.25·3.75 / 3.75² = 1/15;
    // out(1,1): ink on [3.75, 4)² → 0.25² / 3.75² = 1/225.
    let block = dir.join("block.png");
    write_ink(&block, SIDE, SIDE, &rectangle(0..4, 0..4));
    let image = load_image(&block).unwrap();
    assert_eq!(image.len(), IMAGE_PIXELS);
    assert_close(image[0], 1.0, "out(0,0)");
    assert_close(image[1], 1.0 / 15.0, "out(0,1)");
    assert_close(image[IMAGE_SIZE], 1.0 / 15.0, "out(1,0)");
    assert_close(image[IMAGE_SIZE + 1], 1.0 / 225.0, "out(1,1)");
    let rest: f32 = image.iter().sum::<f32>() - (1.0 + 2.0 / 15.0 + 1.0 / 225.0);
    assert_close(rest, 0.0, "everything else");

    // One ink pixel at (3, 3) falls into four outputs: ¾·¾, ¾·¼, ¼·¾, ¼·¼ of a pixel, over 3.75².
    let dot = dir.join("dot.png");
    write_ink(&dot, SIDE, SIDE, &rectangle(3..4, 3..4));
    let image = load_image(&dot).unwrap();
    let area = 3.75f32 * 3.75;
    assert_close(image[0], 0.75 * 0.75 / area, "dot out(0,0)");
    assert_close(image[1], 0.75 * 0.25 / area, "dot out(0,1)");
    assert_close(image[IMAGE_SIZE], 0.25 * 0.75 / area, "dot out(1,0)");
    assert_close(image[IMAGE_SIZE + 1], 0.25 * 0.25 / area, "dot out(1,1)");

    // The last input pixel (104, 104) lands wholly in out(27, 27): 1 / 3.75².
    let corner = dir.join("corner.png");
    write_ink(&corner, SIDE, SIDE, &rectangle(104..105, 104..105));
    let image = load_image(&corner).unwrap();
    assert_close(image[IMAGE_PIXELS - 1], 1.0 / area, "corner");
    assert_close(image.iter().sum(), 1.0 / area, "corner total");
}

#[test]
fn strokes_become_one_and_paper_zero_in_1_and_8_bit() {
    let dir = scratch("invert");
    let white = dir.join("white.png");
    write_ink(&white, SIDE, SIDE, &vec![false; SIDE * SIDE]);
    assert!(load_image(&white).unwrap().iter().all(|&v| v == 0.0));
    let black = dir.join("black.png");
    write_ink(&black, SIDE, SIDE, &vec![true; SIDE * SIDE]);
    assert!(load_image(&black)
        .unwrap()
        .iter()
        .all(|&v| (v - 1.0).abs() < 1e-6));
    // 8-bit gray at intensity 51/255 = 0.2 is ink 0.8 everywhere.
    let gray = dir.join("gray.png");
    write_gray8(&gray, SIDE, SIDE, &vec![51; SIDE * SIDE]);
    assert!(load_image(&gray)
        .unwrap()
        .iter()
        .all(|&v| (v - 0.8).abs() < 1e-6));
}

#[test]
fn two_roots_sorted_and_deduplicated() {
    let dir = scratch("dedup");
    let (first, second) = (dir.join("first"), dir.join("second"));
    // Written out of order; the loader sorts alphabets, characters and files.
    write_dataset(&first, &["Zeta", "Alpha"], 2, 3);
    write_dataset(&second, &["Mu"], 1, 2);
    // `Alpha/character01` again under the second root, with different images: the first
    // root's copy must win and the character must be counted once.
    let duplicate = second.join("Alpha").join("character01");
    for d in 0..5 {
        write_ink(
            &duplicate.join(format!("dup_{d}.png")),
            SIDE,
            SIDE,
            &vec![true; SIDE * SIDE],
        );
    }
    // Ignored: a file at alphabet level, a non-PNG file, a hidden folder.
    std::fs::write(second.join("README.txt"), "not an alphabet").unwrap();
    std::fs::write(
        first.join("Alpha").join("character02").join("notes.txt"),
        "x",
    )
    .unwrap();
    write_ink(
        &first.join(".hidden").join("character01").join("a.png"),
        SIDE,
        SIDE,
        &vec![true; SIDE * SIDE],
    );
    // A file whose name sorts first inside a character.
    let early = first.join("Zeta").join("character02").join("00_early.png");
    write_ink(&early, SIDE, SIDE, &rectangle(0..4, 0..4));

    let data = Omniglot::load(&[&first, &second]).unwrap();
    assert_eq!(data.alphabets(), vec!["Alpha", "Mu", "Zeta"]);
    let labels: Vec<String> = data.characters().iter().map(|c| c.label()).collect();
    assert_eq!(
        labels,
        [
            "Alpha/character01",
            "Alpha/character02",
            "Mu/character01",
            "Zeta/character01",
            "Zeta/character02"
        ]
    );
    let counts: Vec<usize> = data.characters().iter().map(|c| c.len()).collect();
    assert_eq!(counts, [3, 3, 2, 3, 4]);
    assert_eq!(data.image_count(), 15);

    // Alpha/character01 is the first root's: character index 1 of `write_dataset`'s numbering
    // (Alpha is the second alphabet written), not the all-ink duplicate.
    let alpha = &data.characters()[0];
    let expected = load_image(&first.join("Alpha").join("character01").join("02_01.png")).unwrap();
    assert_eq!(alpha.image(0), expected.as_slice());
    assert!(alpha.image(0).contains(&0.0));
    // Files in name order: `00_early.png` first, then `03_01.png`, … .
    let zeta = &data.characters()[4];
    assert_eq!(zeta.image(0), load_image(&early).unwrap().as_slice());
    let second_file = first.join("Zeta").join("character02").join("01_01.png");
    assert_eq!(zeta.image(1), load_image(&second_file).unwrap().as_slice());
}

#[test]
fn errors_name_the_path() {
    let dir = scratch("errors");

    let missing = dir.join("nowhere");
    let error = load_error(&[&missing]);
    assert!(matches!(error, OmniglotError::MissingRoot(_)), "{error}");
    assert!(error.to_string().contains("nowhere"), "{error}");

    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("file.txt"), "no alphabets here").unwrap();
    let error = load_error(&[&empty]);
    assert!(matches!(error, OmniglotError::NoAlphabets(_)), "{error}");
    assert!(error.to_string().contains("empty"), "{error}");

    // A file named .png that is not a PNG.
    let corrupt = dir.join("corrupt");
    write_dataset(&corrupt, &["Alpha"], 1, 2);
    let bad = corrupt.join("Alpha").join("character01").join("zz_bad.png");
    std::fs::write(&bad, b"this is not a PNG file").unwrap();
    let error = load_error(&[&corrupt]);
    assert!(matches!(error, OmniglotError::Decode { .. }), "{error}");
    assert!(error.to_string().contains("zz_bad.png"), "{error}");

    // A truncated PNG: the header is fine, the pixels are cut off.
    let truncated = dir.join("truncated");
    write_dataset(&truncated, &["Alpha"], 1, 1);
    let file = truncated
        .join("Alpha")
        .join("character01")
        .join("00_01.png");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let error = load_error(&[&truncated]);
    assert!(matches!(error, OmniglotError::Decode { .. }), "{error}");
    assert!(error.to_string().contains("00_01.png"), "{error}");

    // A 50×60 image among 105×105 ones.
    let sized = dir.join("sized");
    write_dataset(&sized, &["Alpha"], 1, 2);
    let small = sized.join("Alpha").join("character01").join("small.png");
    write_ink(&small, 50, 60, &vec![false; 50 * 60]);
    let error = load_error(&[&sized]);
    assert!(
        matches!(
            error,
            OmniglotError::WrongSize {
                width: 50,
                height: 60,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("small.png"), "{error}");
    assert!(error.to_string().contains("50×60"), "{error}");

    // A colour PNG is not accepted.
    let rgb = dir.join("rgb.png");
    let file = std::io::BufWriter::new(std::fs::File::create(&rgb).unwrap());
    let mut encoder = png::Encoder::new(file, SIDE as u32, SIDE as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer
        .write_image_data(&vec![255; SIDE * SIDE * 3])
        .unwrap();
    writer.finish().unwrap();
    let error = load_image(&rgb).unwrap_err();
    assert!(matches!(error, OmniglotError::Decode { .. }), "{error}");
    assert!(error.to_string().contains("rgb.png"), "{error}");

    // One bad root among good ones still fails, naming the bad one.
    let good = dir.join("good");
    write_dataset(&good, &["Alpha"], 1, 1);
    let error = load_error(&[&good, &missing]);
    assert!(error.to_string().contains("nowhere"), "{error}");
}

#[test]
fn cache_hits_on_the_second_load_and_rejects_damage() {
    let dir = scratch("cache");
    let root = dir.join("images");
    write_dataset(&root, &["Alpha", "Beta"], 2, 3);
    let cache = dir.join("out").join("omniglot-cache.bin");
    let fresh = Omniglot::load(&[&root]).unwrap();
    let same = |data: &Omniglot| {
        data.characters().len() == fresh.characters().len()
            && data
                .characters()
                .iter()
                .zip(fresh.characters())
                .all(|(a, b)| {
                    a.label() == b.label()
                        && a.len() == b.len()
                        && (0..a.len()).all(|i| a.image(i) == b.image(i))
                })
    };

    let (data, status) = Omniglot::load_cached(&[&root], &cache).unwrap();
    assert_eq!(status, CacheStatus::Missing);
    assert!(same(&data));
    assert!(
        cache.exists(),
        "the cache folder is created and the cache written"
    );

    let (data, status) = Omniglot::load_cached(&[&root], &cache).unwrap();
    assert_eq!(status, CacheStatus::Hit);
    assert!(same(&data));

    // A flipped byte in the pixels: the checksum catches it.
    let mut bytes = std::fs::read(&cache).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&cache, &bytes).unwrap();
    let (data, status) = Omniglot::load_cached(&[&root], &cache).unwrap();
    assert!(matches!(status, CacheStatus::Corrupt(_)), "{status:?}");
    assert!(same(&data));
    assert_eq!(
        Omniglot::load_cached(&[&root], &cache).unwrap().1,
        CacheStatus::Hit
    );

    // Truncated, empty and foreign files.
    for damage in [
        bytes[..bytes.len() - 100].to_vec(),
        Vec::new(),
        b"OMNIGLOT but nothing else of use".to_vec(),
    ] {
        std::fs::write(&cache, &damage).unwrap();
        let (data, status) = Omniglot::load_cached(&[&root], &cache).unwrap();
        assert!(matches!(status, CacheStatus::Corrupt(_)), "{status:?}");
        assert!(same(&data));
    }
    assert_eq!(
        Omniglot::load_cached(&[&root], &cache).unwrap().1,
        CacheStatus::Hit
    );

    // A source file touched: the cache is stale.
    let file = root.join("Beta").join("character02").join("03_02.png");
    let handle = std::fs::File::options().write(true).open(&file).unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    handle.set_modified(later).unwrap();
    drop(handle);
    assert_eq!(
        Omniglot::load_cached(&[&root], &cache).unwrap().1,
        CacheStatus::Stale
    );
    assert_eq!(
        Omniglot::load_cached(&[&root], &cache).unwrap().1,
        CacheStatus::Hit
    );

    // A new file changes the image count: stale, and the new data is loaded.
    let added = root.join("Beta").join("character02").join("99_new.png");
    write_ink(&added, SIDE, SIDE, &rectangle(0..4, 0..4));
    let (data, status) = Omniglot::load_cached(&[&root], &cache).unwrap();
    assert_eq!(status, CacheStatus::Stale);
    assert_eq!(data.image_count(), fresh.image_count() + 1);
}
